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
	// closing holds the mailbox of each passivating actor, from its
	// Stopping until its messages are handed on (Broker.retire, or PID
	// when a sender comes first).
	closing map[Name]*mailbox
	// halted: Broker.Halt ran; nothing of this stripe activates any more.
	halted bool
}

func newActivation() *activation {
	a := &activation{seed: maphash.MakeSeed()}
	for i := range a.stripes {
		a.stripes[i].live = map[Name]*actor.PID{}
		a.stripes[i].closing = map[Name]*mailbox{}
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
// its own); a passivating actor's mailbox becomes n's closing one.
func (a *activation) forget(n Name, pid *actor.PID, passivating *mailbox) {
	s := a.stripe(n)
	s.Lock()
	if s.live[n] == pid {
		delete(s.live, n)
	}
	if passivating != nil {
		s.closing[n] = passivating
	}
	s.Unlock()
}

// forgetful wraps every actor the Broker activates: the activation keeps
// its PID from Started to Stopping. Actors of other props (the test
// harness's stand-ins) are never kept. An actor that passivates (see
// passivate) hands the messages left in its mailbox, and those posted
// after, to its next activation: nothing sent to it is lost.
type forgetful struct {
	actor.Actor
	b           *Broker
	n           Name
	mb          *mailbox
	passivating bool
}

func (f *forgetful) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		f.b.activation.keep(f.n, ctx.Self())
	case *actor.Stopping:
		var mb *mailbox
		if f.passivating {
			mb = f.mb
		}
		f.b.activation.forget(f.n, ctx.Self(), mb)
	}
	f.Actor.Receive(ctx)
	if _, ok := ctx.Message().(*actor.Stopped); ok && f.passivating {
		f.b.retire(f.n, f.mb)
	}
}

// passivate stops an actor that chose to (idle, nothing left to keep).
// Unlike a stop from outside, what is still in its mailbox, or reaches it
// while it stops, is not dropped: it activates the actor again.
func passivate(ctx actor.Context) {
	if f, ok := ctx.Actor().(*forgetful); ok {
		f.passivating = true
	}
	ctx.Stop(ctx.Self())
}
