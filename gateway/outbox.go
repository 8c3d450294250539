package gateway

import (
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// outbox is a connection's outbound queue, bounded at Config.OutboundQueue
// items and Config.OutboundBytes bytes, and the start and end of its
// writer goroutine.
//
// Any goroutine puts: actors through the connection's PID, the reader for
// its own answers. One writer goroutine at a time takes (wsConn.writer):
// it is started by the put that finds none running (or by close) and ends
// after writerLinger with nothing to write, so an idle connection costs
// no writer stack. The queue is a slice that grows as needed: a buffered
// channel of that size cost every connection about 25 KB, idle or not.
type outbox struct {
	// Set by init, then read only.
	maxItems, maxBytes int
	run                func() // the writer goroutine's body

	mu sync.Mutex
	// items: appended by put (any goroutine), swapped out by take (the
	// writer). Under mu.
	items []outItem
	// bytes: what is queued plus what the writer took but has not yet
	// written; put adds, the writer's sent subtracts. Under mu.
	bytes int
	// writing: a writer goroutine runs. Set by start (any goroutine);
	// cleared only by the writer, in idle, as it ends for want of work.
	// A writer that ends because the socket closed leaves it set, so no
	// other starts. Under mu.
	writing bool

	// ready (capacity 1): put signals that the queue went from empty to
	// not; the writer receives.
	ready chan struct{}
	// writers counts the running writer: start adds, the writer's run
	// ends it; the connection's serve waits for it at the end.
	writers sync.WaitGroup
}

// outItem is an envelope to write, a replay page, or (resetChat) a note
// that the client asked for a replay of that chat, so the writer's
// duplicate filter starts that chat afresh.
type outItem struct {
	env       *messages.Envelope
	replay    *messages.ReplayBatch // a replay page, written event by event
	resetChat string
	bytes     int  // its encoded size, for the queue's byte bound
	span      span // a traced event's delivery (tracing.go)
	// read: a timed message's event, when the gateway read the message's
	// frame (Unix nanoseconds; 0: not timed, or not written after all).
	read int64
}

// size is about what the item takes in memory and on the wire.
func (it outItem) size() int {
	switch {
	case it.env != nil:
		return proto.Size(it.env)
	case it.replay != nil:
		return proto.Size(it.replay)
	}
	return 0
}

// init readies an empty outbox whose writer goroutine runs writer. It
// is called before the outbox is shared.
func (o *outbox) init(maxItems, maxBytes int, writer func()) {
	o.maxItems, o.maxBytes, o.ready = maxItems, maxBytes, make(chan struct{}, 1)
	o.run = func() {
		defer o.writers.Done()
		writer()
	}
}

// put queues it (it.bytes set) unless that would pass a bound, starts a
// writer if none runs, and returns the bytes now held. ok false: the
// queue is full and the client too slow.
func (o *outbox) put(it outItem) (held int, ok bool) {
	o.mu.Lock()
	n := len(o.items)
	// One item larger than the byte bound still goes to an idle socket (a
	// replay page is far smaller; a frame is at most MaxFrameBytes).
	if n >= o.maxItems || o.bytes > 0 && o.bytes+it.bytes > o.maxBytes {
		o.mu.Unlock()
		return 0, false
	}
	o.items = append(o.items, it)
	o.bytes += it.bytes
	held = o.bytes
	o.startLocked()
	o.mu.Unlock()
	if n == 0 {
		select {
		case o.ready <- struct{}{}:
		default:
		}
	}
	return held, true
}

// start starts a writer unless one runs (or ended with the socket).
func (o *outbox) start() {
	o.mu.Lock()
	o.startLocked()
	o.mu.Unlock()
}

func (o *outbox) startLocked() {
	if !o.writing {
		o.writing = true
		o.writers.Add(1)
		go o.run()
	}
}

// take swaps the queue for spare (emptied) and returns what was queued.
// The writer calls it.
func (o *outbox) take(spare []outItem) []outItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	got := o.items
	o.items = spare[:0]
	return got
}

// idle reports whether the queue is empty and the socket is not closing
// (done), and if so marks the writer ended: the writer calls it when it
// lingered with nothing to do, and returns on true. A closing socket's
// writer must stay and close it: close closes done before it starts a
// writer, so a writer that ends here ended before the close began, and
// the close's start runs a new one. (Without the check, a writer whose
// linger fired as the socket began closing could end without closing
// it: found by the bench's partial-frame attack once the linger was
// short.)
func (o *outbox) idle(done <-chan struct{}) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.items) > 0 {
		return false
	}
	select {
	case <-done:
		return false
	default:
	}
	o.writing = false
	return true
}

// sent uncounts n bytes the socket took. The writer calls it.
func (o *outbox) sent(n int) {
	o.mu.Lock()
	o.bytes -= n
	o.mu.Unlock()
}

// wait waits for the writer goroutine, if one runs, to end.
func (o *outbox) wait() { o.writers.Wait() }
