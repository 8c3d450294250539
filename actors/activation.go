package actors

import (
	"hash/maphash"
	"sync"
)

// activation serializes the activation of each actor name. Proto.Actor's
// spawn adds a process to the registry before its mailbox has a
// dispatcher, so a second goroutine that found the name there could post
// to a mailbox that cannot run yet (the race detector caught it, and a nil
// dispatcher would panic). Every Broker.PID takes the stripe lock of the
// name, so it sees the actor only once spawning is complete.
//
// Its locks are excused from the package's no-locks rule on their line
// (//lint:allow, see lint_test.go): they guard Proto.Actor's spawn, not
// actor state.
type activation struct {
	seed    maphash.Seed
	stripes [64]sync.Mutex //lint:allow guards Proto.Actor's spawn, not actor state
}

func newActivation() *activation { return &activation{seed: maphash.MakeSeed()} }

func (a *activation) lock(name string) func() {
	m := &a.stripes[maphash.String(a.seed, name)%uint64(len(a.stripes))]
	m.Lock()
	return m.Unlock
}
