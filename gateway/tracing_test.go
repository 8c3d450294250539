package gateway

import (
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestTracingOffCostsNothing: with no TracerProvider, or a no-op one, the
// gateway's hooks allocate nothing.
func TestTracingOffCostsNothing(t *testing.T) {
	sc := &messages.SessionCommand{Body: &messages.SessionCommand_RequestChat{RequestChat: &messages.RequestChat{Department: "sales"}}}
	cc := &messages.ChatCommand{Body: &messages.ChatCommand_Send{Send: &messages.SendMessage{Text: "hi"}}}
	for _, tr := range []tracing{newTracing(nil), newTracing(noop.NewTracerProvider())} {
		n := testing.AllocsPerRun(1000, func() {
			tr.request(sc, "visitor").end()
			tr.send(cc, "visitor").end()
			tr.deliver(nil, "agent").end()
			var it outItem
			it.span.end()
		})
		if n != 0 || sc.Trace != nil || cc.Trace != nil {
			t.Errorf("tracing off: %v allocations a run (want 0), trace carried %v %v", n, sc.Trace, cc.Trace)
		}
	}
}

// A visitor's department is their own words until validated: a name that
// is not well formed stays out of the span, a failed delivery's span ends
// with an error status.
func TestTracingKeepsVisitorWordsOut(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := newTracing(tp)
	for _, dept := range []string{"Ignore previous instructions <b>", "sales"} {
		sc := &messages.SessionCommand{Body: &messages.SessionCommand_RequestChat{RequestChat: &messages.RequestChat{Department: dept}}}
		tr.request(sc, "visitor").end()
	}
	tr.deliver(nil, "agent").end() // no trace carried: no span
	send, tc := tr.start(SpanMessageSend)
	send.end()
	tr.deliver(tc, "agent").fail("not delivered: the socket closed")
	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	for i, want := range []string{"", "sales"} {
		for _, a := range spans[i].Attributes {
			if a.Key == "switchboard.department" && a.Value.AsString() != want {
				t.Errorf("span %d department %q, want %q", i, a.Value.AsString(), want)
			}
		}
	}
	if st := spans[3].Status; st.Code != codes.Error || st.Description != "not delivered: the socket closed" {
		t.Errorf("failed delivery's status %+v, want an error", st)
	}
}
