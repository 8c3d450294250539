package gateway

// Tracing: the gateway's OpenTelemetry spans. A chat request's root span
// ("chat.request") and a message's ("message.send") run from the frame's
// dispatch until the command is handed to its actor, which carries their
// context on (actors/tracing.go); a traced message's delivery span
// ("message.deliver") runs from the connection's queue to the socket write.
// Off (no TracerProvider), each call is a nil check; unsampled, a span is
// started and ended but nothing is carried.

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// The gateway's spans and their attributes.
const (
	SpanChatRequest    = "chat.request"
	SpanMessageSend    = "message.send"
	SpanMessageDeliver = "message.deliver"

	// AttrRole is who the socket is: visitor or agent.
	AttrRole = attribute.Key("switchboard.role")
)

// tracing makes the gateway's spans; the zero value is off.
type tracing struct{ t trace.Tracer }

func newTracing(tp trace.TracerProvider) tracing {
	return tracing{t: actors.Tracer(tp, "github.com/switchboard-chat/switchboard/gateway")}
}

// span is a gateway span, or nothing (off): end is then a nil check.
type span struct{ s trace.Span }

func (s span) end() {
	if s.s != nil {
		s.s.End()
	}
}

// fail ends a delivery span whose frame never reached the socket (the
// queue was full, the write failed, or the socket closed first).
func (s span) fail(why string) {
	if s.s != nil {
		s.s.SetStatus(codes.Error, why)
		s.s.End()
	}
}

func (t tracing) start(name string, attrs ...attribute.KeyValue) (span, *messages.TraceContext) {
	_, sp := t.t.Start(context.Background(), name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return span{sp}, actors.TraceContextOf(sp.SpanContext())
}

// request starts a chat request's root span when sc is one, and has sc
// carry it.
func (t tracing) request(sc *messages.SessionCommand, role string) span {
	r := sc.GetRequestChat()
	if t.t == nil || r == nil {
		return span{}
	}
	// The department is the visitor's own words until the visitor actor
	// validated it: only a well-formed name goes into the span (as the
	// metrics do).
	dept := r.GetDepartment()
	if !actors.ValidName(dept) {
		dept = ""
	}
	sp, tc := t.start(SpanChatRequest, actors.AttrDepartment.String(dept), AttrRole.String(role))
	sc.Trace = tc
	return sp
}

// send starts a message's root span when cc sends one, and has cc carry
// it.
func (t tracing) send(cc *messages.ChatCommand, role string) span {
	if t.t == nil || cc.GetSend() == nil {
		return span{}
	}
	sp, tc := t.start(SpanMessageSend, AttrRole.String(role))
	cc.Trace = tc
	return sp
}

// deliver starts a traced event's delivery span as it joins a
// connection's queue; the writer ends it once the socket took it.
func (t tracing) deliver(tc *messages.TraceContext, role string) span {
	if t.t == nil || tc == nil {
		return span{}
	}
	_, sp := t.t.Start(actors.ContextOf(tc), SpanMessageDeliver, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(AttrRole.String(role)))
	return span{sp}
}

// roleName is the AttrRole of a connection.
func (c *wsConn) roleName() string {
	if c.role == roleVisitor {
		return "visitor"
	}
	return "agent"
}
