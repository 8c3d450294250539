package actors

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestTracingOffCostsNothing: with tracing off (or a request not sampled:
// nothing carried), the hooks on the hot path allocate nothing.
func TestTracingOffCostsNothing(t *testing.T) {
	b := &Broker{clock: systemClock{}, tracing: newTracing(nil)}
	q := &queue{b: b, id: "sales"}
	c := &chat{b: b, id: "c1"}
	ev := &messages.ChatEvent{ChatId: "c1"}
	start := &messages.StartChat{ChatId: "c1"}
	enq := &messages.Enqueue{Chat: &messages.ChatSummary{ChatId: "c1"}}
	w, assign := &pending{}, &messages.AssignChat{}
	n := testing.AllocsPerRun(1000, func() {
		_ = b.routed(start, "sales", ResultRouted)
		_ = b.admitted(start, "sales", ResultAdmitted)
		q.waiting(enq)
		_ = q.waited("c1")
		q.forget("c1")
		c.traceWrite(nil)
		_ = c.stored(w, nil)
		_ = traced(ev, nil, 0)
		_ = wrapEvent(ev, ev)
		_ = c.tracedAssign(assign)
	})
	if n != 0 {
		t.Errorf("tracing off: %v allocations a run, want 0", n)
	}
}
