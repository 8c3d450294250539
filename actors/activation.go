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
// Each stripe also keeps the PID of each of its running actors, so a send
// to one allocates no PID, builds no name and asks no registry (issue 18:
// a third of an assignment's allocations). The actor's wrapper
// (forgetful) keeps its PID from Started and forgets it at Stopping, the
// first thing a stopping actor does and before Proto.Actor takes it out of
// the registry: a kept PID is always registered, and a stopping or
// stopped actor is looked up and activated again as before. A restart
// keeps the process, and so the entry. Proto.Actor's PIDs are made to be
// shared: a PID caches its process.
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

// keep records pid as n's running actor.
func (a *activation) keep(n Name, pid *actor.PID) {
	s := a.stripe(n)
	s.Lock()
	s.live[n] = pid
	s.Unlock()
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

// forgetful wraps every actor the Broker activates: the activation keeps
// its PID from Started to Stopping. Actors of other props (the test
// harness's stand-ins) are never kept.
type forgetful struct {
	actor.Actor
	a *activation
	n Name
}

func (f *forgetful) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		f.a.keep(f.n, ctx.Self())
	case *actor.Stopping:
		f.a.forget(f.n, ctx.Self())
	}
	f.Actor.Receive(ctx)
}
