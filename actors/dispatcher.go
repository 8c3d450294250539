package actors

import (
	"time"
)

// workerDispatcher runs mailboxes on reused goroutines. Proto.Actor's
// default dispatcher starts a goroutine for every mailbox run; each one
// starts with a small stack that a Receive call chain soon outgrows, and
// copying stacks as they grew was a quarter of the CPU in the assignment
// benchmark. Here a run goes to a worker that is waiting, or to a new one
// when none waits; a worker that finds no work for workerIdle ends.
//
// Its channel and goroutines are excused from the package's
// no-goroutines, no-channels rule line by line (//lint:allow, see
// lint_test.go): the workers only run mailboxes, one at a time each, and
// share no actor state.
type workerDispatcher struct {
	work       chan func() //lint:allow hands a mailbox run to a waiting worker
	throughput int
}

const workerIdle = 10 * time.Second

func newWorkerDispatcher(throughput int) *workerDispatcher {
	return &workerDispatcher{work: make(chan func()), throughput: throughput} //lint:allow the workers' hand-off channel
}

// Schedule implements actor.Dispatcher.
func (d *workerDispatcher) Schedule(fn func()) {
	select {
	case d.work <- fn:
	default:
		go d.worker(fn) //lint:allow a worker runs mailboxes, sharing no actor state
	}
}

// Throughput implements actor.Dispatcher: how many messages a mailbox
// handles before it yields.
func (d *workerDispatcher) Throughput() int { return d.throughput }

func (d *workerDispatcher) worker(fn func()) {
	fn()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case fn = <-d.work:
			fn()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}
