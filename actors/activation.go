package actors

import (
	"hash/maphash"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// activation serializes the activation of each actor name. Proto.Actor's
// spawn adds a process to the registry before its mailbox has a
// dispatcher, so a second goroutine that found the name there could post
// to a mailbox that cannot run yet (the race detector caught it, and a nil
// dispatcher would panic). Every Broker.PID takes the stripe lock of the
// name, so it sees the actor only once spawning is complete.
//
// Each stripe also keeps the PID that Broker.PID spawned for each of its
// names, so a send to a running actor allocates no PID and builds no name
// (issue 18: a third of an assignment's allocations). The entry is only a
// shortcut: Broker.PID still asks the registry whether the actor runs, and
// activates it again when it does not; the actor's wrapper (forgetful)
// drops the entry when the actor stops. Proto.Actor's PIDs are made to be
// shared: a PID caches its process and looks it up again once it died.
//
// Its locks are excused from the package's no-locks rule on their line
// (//lint:allow, see lint_test.go): they guard Proto.Actor's spawn, not
// actor state.
type activation struct {
	seed    maphash.Seed
	stripes [64]stripe
}

type stripe struct {
	sync.Mutex //lint:allow guards Proto.Actor's spawn and live, not actor state
	live       map[Name]*actor.PID
}

func newActivation() *activation {
	a := &activation{seed: maphash.MakeSeed()}
	for i := range a.stripes {
		a.stripes[i].live = map[Name]*actor.PID{}
	}
	return a
}

// stripe returns n's stripe, unlocked.
func (a *activation) stripe(n Name) *stripe {
	h := maphash.String(a.seed, n.ID) ^ maphash.String(a.seed, n.Kind)
	return &a.stripes[h%uint64(len(a.stripes))]
}

// forget drops n's entry if it is still pid (a newer activation keeps
// its own).
func (a *activation) forget(n Name, pid *actor.PID) {
	s := a.stripe(n)
	s.Lock()
	if s.live[n] == pid {
		delete(s.live, n)
	}
	s.Unlock()
}

// forgetful wraps every actor the Broker activates: when the actor stops,
// the activation forgets its PID. A restart keeps the process, and so the
// entry.
type forgetful struct {
	actor.Actor
	a *activation
	n Name
}

func (f *forgetful) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Stopped); ok {
		f.a.forget(f.n, ctx.Self())
	}
	f.Actor.Receive(ctx)
}
