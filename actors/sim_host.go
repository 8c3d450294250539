package actors

import (
	"io"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// simHost is a queue's world in switchboard simulate (queueHost): the
// clock is the simulation's, the department's settings are the recorded
// (or changed) ones, what the queue sends goes to the simulation's model
// (nowhere when a journal is only checked), and the journal is a
// collector of the decisions made.
type simHost struct {
	now   time.Time
	dept  *messages.Department
	lpa   int
	sent  func(kind, id string, msg any)                    // nil: dropped
	after func(d time.Duration, msg any) (stop func() bool) // nil: nothing is scheduled
	col   simCollector
}

// simCollector keeps the journal entry of the input being handled.
type simCollector struct {
	last *messages.RoutingInput
	fn   func(in *messages.RoutingInput) // nil: entries are only kept in last
	// stored hears the full decisions (with their candidates) an entry's
	// chats would keep (nil: none).
	stored func(ds []*messages.RoutingDecision)
}

func (c *simCollector) addressKey() []byte { return nil }

func (c *simCollector) record(in *messages.RoutingInput, stored []*messages.RoutingDecision) {
	c.last = in
	if c.stored != nil {
		c.stored(stored)
	}
	if c.fn != nil {
		c.fn(in)
	}
}

var simLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func (h *simHost) Now() time.Time { return h.now }
func (h *simHost) Send(kind, id string, msg any) {
	if h.sent != nil {
		h.sent(kind, id, msg)
	}
}
func (h *simHost) Reply(*actor.PID, *messages.Envelope) {}
func (h *simHost) After(d time.Duration, msg any) func() bool {
	if _, view := msg.(*messages.FlushViews); view || h.after == nil {
		return func() bool { return true } // nobody watches; recorded timers are inputs
	}
	return h.after(d, msg)
}
func (h *simHost) Department(string) (*messages.Department, error) { return h.dept, nil }
func (h *simHost) LinePerAddress() int                             { return h.lpa }
func (h *simHost) Logger() *slog.Logger                            { return simLogger }
func (h *simHost) statsRefused(string, messages.RefusalReason)     {}
func (h *simHost) statsOfferEnded(string, string, bool)            {}
func (h *simHost) Audit(*messages.AuditEntry)                      {}
func (h *simHost) admitted(*messages.StartChat, string, string) *messages.TraceContext {
	return nil
}
func (h *simHost) span(*messages.TraceContext, string, string, string, time.Time, time.Time) *messages.TraceContext {
	return nil
}
func (h *simHost) queueMetrics(string) *queueMetrics { return nil }
func (h *simHost) journal() routingJournal           { return &h.col }
func (h *simHost) hold()                             {}
func (h *simHost) release()                          {}
func (h *simHost) drop()                             {}

// newSimQueue is a fresh queue of department id on host h.
func newSimQueue(id string, h *simHost) *queue {
	q := newQueue(nil, id)
	q.host = h
	return q
}

// inputMessage is a journal entry's input as the queue received it
// (the message in its oneof; settings: nil, the caller loads them). The
// message is the journal's own: the queue may change it (an admission
// sets its ticket).
func inputMessage(in *messages.RoutingInput) any {
	if in.GetSettings() != nil {
		return nil
	}
	m := in.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("input"))
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message().Interface()
}
