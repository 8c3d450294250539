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
}

func newMailbox() actor.Mailbox {
	m := &mailbox{}
	m.run = m.process
	return m
}

func (m *mailbox) PostUserMessage(message interface{}) {
	// Batches as Proto.Actor's own mailbox: each message, then the batch.
	if batch, ok := message.(actor.MessageBatch); ok {
		for _, msg := range batch.GetMessages() {
			m.PostUserMessage(msg)
		}
	}
	if env, ok := message.(*actor.MessageEnvelope); ok {
		if batch, ok := env.Message.(actor.MessageBatch); ok {
			for _, msg := range batch.GetMessages() {
				m.PostUserMessage(msg)
			}
		}
	}
	m.post(&m.user, message)
}

func (m *mailbox) PostSystemMessage(message interface{}) { m.post(&m.sys, message) }

// post queues message and schedules a run unless one is scheduled. Before
// RegisterHandlers (Proto.Actor registers a process, so a sender may find
// it, before it hands the mailbox its handlers) it only queues: the
// Started that follows the handlers schedules the run, which takes it
// first and then what was queued. (Proto.Actor's own mailbox would call a
// nil dispatcher there, and stay marked scheduled for good.)
func (m *mailbox) post(q *fifo, message interface{}) {
	m.mu.Lock()
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
