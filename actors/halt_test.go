package actors

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Halt stops the running actors, and a message to any actor after it,
// running or not, activates nothing and runs nowhere.
func TestHaltStopsEveryActorAndActivatesNone(t *testing.T) {
	stopped := false
	h, got := probeHarness(t, func(*harness) { stopped = true })
	h.b.Halt(time.Millisecond) // the harness runs the stops at drain
	h.drain()
	if !stopped {
		t.Fatal("the running actor did not stop")
	}
	h.b.Send("probe", "p1", &messages.Persisted{Token: 7})
	h.b.Send("probe", "p2", &messages.Persisted{Token: 8})
	h.drain()
	if len(*got) != 0 {
		t.Fatalf("a halted broker ran %v", *got)
	}
	if _, ok := h.b.system.ProcessRegistry.GetLocal(Name{"probe", "p2"}.String()); ok {
		t.Fatal("a halted broker activated an actor")
	}
}
