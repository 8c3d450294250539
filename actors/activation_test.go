package actors

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// A running actor's PID is the one its activation made, with no
// allocation; once the actor stops, the activation forgets it and the
// next PID activates the actor again.
func TestActivationReusesAndForgets(t *testing.T) {
	h := newHarness(t, KindGroup)
	first := h.b.PID(KindGroup, "sales")
	h.drain()
	if got := h.b.PID(KindGroup, "sales"); got != first {
		t.Fatalf("a running actor got a new PID %v, want %v", got, first)
	}
	if n := testing.AllocsPerRun(100, func() { h.b.PID(KindGroup, "sales") }); n != 0 {
		t.Errorf("PID of a running actor allocates %v times", n)
	}

	h.stop(KindGroup, "sales")
	n := Name{KindGroup, "sales"}
	s := h.b.activation.stripe(n)
	s.Lock()
	_, kept := s.live[n]
	s.Unlock()
	if kept {
		t.Error("a stopped actor's PID is still kept")
	}
	if _, ok := h.b.system.ProcessRegistry.GetLocal(first.Id); ok {
		t.Fatal("the stopped actor is still registered")
	}
	activatedAgain(t, h, KindGroup, "sales", first)
}

// activatedAgain checks that the next PID of a stopped actor activates a
// new one, registered.
func activatedAgain(t *testing.T, h *harness, kind, id string, first *actor.PID) {
	t.Helper()
	again := h.b.PID(kind, id)
	h.drain()
	if again == first {
		t.Fatal("a stopped actor was not activated again")
	}
	if _, ok := h.b.system.ProcessRegistry.GetLocal(again.Id); !ok {
		t.Error("the actor activated again is not registered")
	}
}

// A stand-in (props not made by the Broker) is never kept: after it
// stops, the next PID activates it again.
func TestActivationKeepsOnlyBrokerActors(t *testing.T) {
	h := newHarness(t) // every kind a stand-in
	first := h.b.PID(KindQueue, "sales")
	h.drain()
	h.stop(KindQueue, "sales")
	activatedAgain(t, h, KindQueue, "sales", first)
}
