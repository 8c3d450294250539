package actors

// Tracing: OpenTelemetry spans of a chat request (group, queue admission,
// the wait in line, the assignment) and of a message (its write until
// durable), as children of the gateway's spans. The span context travels in
// the actor messages (messages.TraceContext); an actor rebuilds a context
// from it when it makes a span, and keeps none. Spans are made when their
// work is done, with the start time they were given, so no actor holds an
// open span. Off (no TracerProvider), or for an unsampled request (nothing
// carried), every call here is a nil check.

import (
	"context"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-chat/switchboard/messages"
)

// The spans' names and attributes (also gateway/tracing.go's).
const (
	SpanChatRoute    = "chat.route"    // group: the department takes the request, or refuses it
	SpanChatAdmit    = "chat.admit"    // queue: a ticket, or the line is full
	SpanQueueWait    = "queue.wait"    // queue: from in line to an agent's accept
	SpanChatAssign   = "chat.assign"   // chat: the assignment, until durable
	SpanMessageStore = "message.store" // chat: a message, from its command to durable

	AttrDepartment = attribute.Key("switchboard.department")
	AttrResult     = attribute.Key("switchboard.result")
)

// Results (AttrResult); a refusal is its reason, lower case
// ("queue_full", "department_closed").
const (
	ResultRouted   = "routed"
	ResultAdmitted = "admitted"
	ResultAccepted = "accepted"
	ResultAssigned = "assigned"
	ResultStored   = "stored"
	ResultFailed   = "failed"
)

// maxTracedWaits bounds a queue's remembered waits of traced chats (a chat
// withdrawn without a Withdraw leaves its entry until then).
const maxTracedWaits = 4096

// tracing makes the actors' spans; the zero value is off.
type tracing struct{ t trace.Tracer }

func newTracing(tp trace.TracerProvider) tracing {
	return tracing{t: Tracer(tp, "github.com/switchboard-chat/switchboard/actors")}
}

// Tracer is tp's tracer of this name, or nil when tracing is off (no
// provider, or a no-op one): the one rule for "off", for the actors and
// the gateway.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if tp == nil {
		return nil
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	return tp.Tracer(name)
}

// TraceContextOf is what a message carries of span context sc: nil unless
// it is valid and sampled.
func TraceContextOf(sc trace.SpanContext) *messages.TraceContext {
	if !sc.IsValid() || !sc.IsSampled() {
		return nil
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	return &messages.TraceContext{TraceId: tid[:], SpanId: sid[:], Flags: uint32(sc.TraceFlags()), State: sc.TraceState().String()}
}

// ContextOf is a context whose parent span is the carried tc.
func ContextOf(tc *messages.TraceContext) context.Context {
	var cfg trace.SpanContextConfig
	copy(cfg.TraceID[:], tc.GetTraceId())
	copy(cfg.SpanID[:], tc.GetSpanId())
	cfg.TraceFlags = trace.TraceFlags(tc.GetFlags())
	cfg.TraceState, _ = trace.ParseTraceState(tc.GetState())
	cfg.Remote = true
	return trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(cfg))
}

// span records a finished span, child of parent, from start to now, and
// returns its context for the next hop. Nil parent or off: nothing.
func (t tracing) span(parent *messages.TraceContext, name, dept, result string, start, end time.Time) *messages.TraceContext {
	if t.t == nil || parent == nil {
		return nil
	}
	_, sp := t.t.Start(ContextOf(parent), name, trace.WithTimestamp(start),
		trace.WithAttributes(AttrDepartment.String(dept), AttrResult.String(result)))
	if result == ResultFailed {
		sp.SetStatus(codes.Error, result)
	}
	sp.End(trace.WithTimestamp(end))
	return TraceContextOf(sp.SpanContext())
}

// reasonOf is a refusal reason as a result: REFUSAL_REASON_QUEUE_FULL is
// "queue_full".
func reasonOf(r messages.RefusalReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "REFUSAL_REASON_"))
}

// routed records the group's decision on a traced request and returns the
// context its queue continues from.
func (b *Broker) routed(m *messages.StartChat, dept, result string) *messages.TraceContext {
	if m.GetTrace() == nil {
		return nil
	}
	now := b.clock.Now()
	return b.tracing.span(m.GetTrace(), SpanChatRoute, dept, result, now, now)
}

// admitted records the queue's admission (or refusal) of a traced request.
func (b *Broker) admitted(m *messages.StartChat, dept, result string) *messages.TraceContext {
	if m.GetTrace() == nil {
		return nil
	}
	now := b.clock.Now()
	return b.tracing.span(m.GetTrace(), SpanChatAdmit, dept, result, now, now)
}

// tracedWait is a traced chat in line: its parent span and since when.
type tracedWait struct {
	parent *messages.TraceContext
	since  time.Time
}

// tracedWaits are a queue's traced chats in line, by chat id.
type tracedWaits map[string]tracedWait

// waiting remembers a traced chat that joined the line.
func (q *queue) waiting(m *messages.Enqueue) {
	if m.GetTrace() == nil {
		return
	}
	if q.traced == nil {
		q.traced = tracedWaits{}
	}
	if len(q.traced) < maxTracedWaits {
		q.traced[m.GetChat().GetChatId()] = tracedWait{parent: m.GetTrace(), since: q.host.Now()}
	}
}

// waited records a traced chat's wait, ended by an agent's accept, and
// returns the context its assignment continues from.
func (q *queue) waited(chatID string) *messages.TraceContext {
	w, ok := q.traced[chatID]
	if !ok {
		return nil
	}
	delete(q.traced, chatID)
	return q.host.span(w.parent, SpanQueueWait, q.id, ResultAccepted, w.since, q.host.Now())
}

// forget drops a chat that left the line without an agent.
func (q *queue) forget(chatID string) {
	if q.traced != nil {
		delete(q.traced, chatID)
	}
}

// tracedAssign is the step of a traced assignment: its span, from the
// AssignChat to durable (or failed).
func (c *chat) tracedAssign(m *messages.AssignChat) step {
	if m.GetTrace() == nil || c.b.tracing.t == nil {
		return step{}
	}
	start, dept := c.b.clock.Now(), c.sum.GetDepartment()
	end := func(result string) {
		c.b.tracing.span(m.GetTrace(), SpanChatAssign, dept, result, start, c.b.clock.Now())
	}
	return step{
		done:   func(_ actor.Context, _ *stored) { end(ResultAssigned) },
		failed: func(_ actor.Context, _ *messages.Error) { end(ResultFailed) },
	}
}

// tracedWrite is a traced message's write: its parent span and when the
// command came.
type tracedWrite struct {
	parent *messages.TraceContext
	start  time.Time
	dept   string
}

// traceWrite marks the write just submitted as a traced message's.
func (c *chat) traceWrite(tc *messages.TraceContext) {
	if tc == nil || c.b.tracing.t == nil || len(c.inflight) == 0 {
		return
	}
	c.inflight[len(c.inflight)-1].traced = &tracedWrite{parent: tc, start: c.b.clock.Now(), dept: c.sum.GetDepartment()}
}

// stored records a traced write's span once it is back and returns the
// context its delivery continues from (nil: not traced).
func (c *chat) stored(w *pending, e *messages.Error) *messages.TraceContext {
	tw := w.traced
	if tw == nil {
		return nil
	}
	result := ResultStored
	if e != nil {
		result = ResultFailed
	}
	return c.b.tracing.span(tw.parent, SpanMessageStore, tw.dept, result, tw.start, c.b.clock.Now())
}

// traced is what goes to a participant's actor for a durable event: the
// event itself, or with the store span's context when traced and the
// frame's read time when timed (stages.go).
func traced(ev *messages.ChatEvent, tc *messages.TraceContext, read int64) any {
	if tc == nil && read == 0 {
		return ev
	}
	return &messages.TracedEvent{Event: ev, Trace: tc, ReadUnixNano: read}
}

// eventEnvelope is what goes to a connection for event ev, being
// handled as msg: its envelope, or, when msg is the TracedEvent of a
// traced or timed message, a TracedEnvelope with its trace and read time.
func eventEnvelope(msg any, ev *messages.ChatEvent) any {
	if te := wrapEvent(msg, ev); te != nil {
		return te
	}
	return &messages.Envelope{Body: &messages.Envelope_Event{Event: ev}}
}

// wrapEvent is the TracedEnvelope of ev when msg is a traced or timed
// TracedEvent, else nil. It is one allocation with the envelope and its
// body (an untimed event's envelope is two), so timing a message adds no
// allocation per participant.
func wrapEvent(msg any, ev *messages.ChatEvent) *messages.TracedEnvelope {
	te, ok := msg.(*messages.TracedEvent)
	if !ok || te.GetTrace() == nil && te.GetReadUnixNano() == 0 {
		return nil
	}
	w := &wrappedEvent{}
	w.body.Event = ev
	w.env.Body = &w.body
	w.traced.Envelope, w.traced.Trace, w.traced.ReadUnixNano = &w.env, te.GetTrace(), te.GetReadUnixNano()
	return &w.traced
}

// wrappedEvent holds a TracedEnvelope, its envelope and the envelope's
// body in one allocation; only pointers to its fields leave it.
type wrappedEvent struct {
	traced messages.TracedEnvelope
	env    messages.Envelope
	body   messages.Envelope_Event
}
