package gateway

import (
	"testing"

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
