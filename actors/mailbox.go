package actors

import (
	"runtime"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// mailbox is every Broker actor's mailbox: Proto.Actor's default one
// (actor/mailbox.go: system messages first, a suspended mailbox runs only
// system messages, Throughput messages a turn, a panic escalated to the
// supervisor) with two queues under one lock, and its run function made
// once. The default one hands the dispatcher a new method value on every
// schedule, about 20 allocations an assignment (issue 18).
//
// Its lock is excused from the package's no-locks rule on its line
// (//lint:allow, see lint_test.go): it guards the queues between senders
// and the mailbox run, not actor state.
type mailbox struct {
	mu        sync.Mutex //lint:allow guards the mailbox's queues, not actor state
	sys, user fifo
	scheduled bool // a run is scheduled or running
	suspended bool

	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	run        func() // m.process, made once

	// forward, once set (handOn), takes every user message posted here.
	forward func(interface{})
}

// newMailbox makes a mailbox whose user queue starts with carry.
func newMailbox(carry []interface{}) *mailbox {
	m := &mailbox{}
	m.run = m.process
	for _, msg := range carry {
		m.user.push(msg)
	}
	return m
}

// handOn ends a retired actor's mailbox (Broker.retire): it returns the
// user messages still queued, which the actor never ran, and from now on
// hands every user message posted to forward, outside the lock. A sender
// that found the process just before Proto.Actor took it out of the
// registry still reaches the actor's next activation this way.
func (m *mailbox) handOn(forward func(interface{})) []interface{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forward = forward
	var left []interface{}
	for msg := m.user.pop(); msg != nil; msg = m.user.pop() {
		left = append(left, msg)
	}
	return left
}

func (m *mailbox) PostUserMessage(message interface{}) {
	// Batches as Proto.Actor's own mailbox: each message, then the batch.
	var batch []interface{}
	if b, ok := message.(actor.MessageBatch); ok {
		batch = b.GetMessages()
	}
	if env, ok := message.(*actor.MessageEnvelope); ok {
		if b, ok := env.Message.(actor.MessageBatch); ok {
			batch = b.GetMessages()
		}
	}
	m.post(&m.user, message, batch)
}

func (m *mailbox) PostSystemMessage(message interface{}) { m.post(&m.sys, message, nil) }

// post queues the messages of batch and then message, and schedules a run
// unless one is scheduled. A retired mailbox (handOn) forwards a user
// message, whole, instead. Before RegisterHandlers (Proto.Actor registers
// a process, so a sender may find it, before it hands the mailbox its
// handlers) it only queues: the Started that follows the handlers
// schedules the run, which takes it first and then what was queued.
// (Proto.Actor's own mailbox would call a nil dispatcher there, and stay
// marked scheduled for good.)
func (m *mailbox) post(q *fifo, message interface{}, batch []interface{}) {
	m.mu.Lock()
	if fw := m.forward; fw != nil && q == &m.user {
		m.mu.Unlock()
		fw(message)
		return
	}
	for _, msg := range batch {
		q.push(msg)
	}
	q.push(message)
	d := m.dispatcher
	schedule := !m.scheduled && d != nil
	if schedule {
		m.scheduled = true
	}
	m.mu.Unlock()
	if schedule {
		d.Schedule(m.run)
	}
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.mu.Lock()
	m.invoker, m.dispatcher = invoker, dispatcher
	m.mu.Unlock()
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user.len()
}

// process runs the mailbox until nothing it may run is left.
func (m *mailbox) process() {
	for {
		m.turn()
		m.mu.Lock()
		more := m.sys.len() > 0 || (!m.suspended && m.user.len() > 0)
		m.scheduled = more
		m.mu.Unlock()
		if !more {
			return
		}
	}
}

// turn runs messages until none is left (or only user messages while
// suspended), yielding every Throughput messages.
func (m *mailbox) turn() {
	var msg interface{}
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
		}
	}()
	i, t := 0, m.dispatcher.Throughput()
	for {
		if i > t {
			i = 0
			runtime.Gosched()
		}
		i++
		m.mu.Lock()
		if msg = m.sys.pop(); msg != nil {
			switch msg.(type) {
			case *actor.SuspendMailbox:
				m.suspended = true
				m.mu.Unlock()
			case *actor.ResumeMailbox:
				m.suspended = false
				m.mu.Unlock()
			default:
				m.mu.Unlock()
				m.invoker.InvokeSystemMessage(msg)
			}
			continue
		}
		if m.suspended {
			m.mu.Unlock()
			return
		}
		msg = m.user.pop()
		m.mu.Unlock()
		if msg == nil {
			return
		}
		m.invoker.InvokeUserMessage(msg)
	}
}

// fifo is a queue on a slice that is reused once it empties.
type fifo struct {
	items []interface{}
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(x interface{}) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 64 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, x)
}

// pop returns the oldest item, or nil.
func (q *fifo) pop() interface{} {
	if q.head == len(q.items) {
		return nil
	}
	x := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	return x
}
