package actors

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// idler arms its idle watch at start and stops when it is due; each
// Persisted counts as activity.
type idler struct {
	idle     idleStop
	d        time.Duration
	fired    *atomic.Int32
	firedAt  *atomic.Int64 // unix nanoseconds
	lastSeen *atomic.Int64 // the last activity it handled, unix nanoseconds
}

func (a *idler) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		a.idle.arm(ctx, a.d)
	case *messages.IdleCheck:
		if a.idle.due(ctx) {
			a.firedAt.Store(time.Now().UnixNano())
			a.fired.Add(1)
			ctx.Stop(ctx.Self())
		}
	case *messages.Persisted:
		a.lastSeen.Store(time.Now().UnixNano()) // before touch: at or before what it notes
		a.idle.touch()
	}
}

// An actor that keeps getting messages is told it is idle once, a whole
// period after the last one (the watch moves with every message rather
// than firing a period after it was armed).
func TestIdleStopFiresOnceAPeriodAfterTheLastMessage(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	const d = 300 * time.Millisecond
	var fired atomic.Int32
	var firedAt, lastSeen atomic.Int64
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &idler{d: d, fired: &fired, firedAt: &firedAt, lastSeen: &lastSeen}
	}))
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for busyUntil := time.Now().Add(2 * d); time.Now().Before(busyUntil); <-tick.C {
		sys.Root.Send(pid, &messages.Persisted{})
	}
	for deadline := time.Now().Add(10 * time.Second); fired.Load() == 0 && time.Now().Before(deadline); <-tick.C {
	}
	if fired.Load() != 1 {
		t.Fatalf("fired %d times, want once", fired.Load())
	}
	// Measured from the last message the actor handled, so a stalled
	// sender (a loaded machine) cannot make it fail.
	if gap := time.Duration(firedAt.Load() - lastSeen.Load()); gap < d {
		t.Fatalf("fired %v after the last message, before the %v period ended", gap, d)
	}
}
