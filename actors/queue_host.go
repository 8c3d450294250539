package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// queueHost is everything a queue reaches outside itself: the broker for
// the queue actor (brokerHost), or the simulator's world when recorded
// traffic is replayed through the same code (switchboard simulate). The
// queue's rules see only this, so the same inputs at the same clock give
// the same decisions.
type queueHost interface {
	Now() time.Time
	// Send delivers msg to the actor kind/id.
	Send(kind, id string, msg any)
	// Reply answers a connection (a supervisor's assignment).
	Reply(conn *actor.PID, env *messages.Envelope)
	// After delivers msg to the queue itself after d; stop cancels it.
	After(d time.Duration, msg any) (stop func() bool)
	Department(id string) (*messages.Department, error)
	LinePerAddress() int
	Logger() *slog.Logger

	// Side records, which never change a decision: statistics, audit,
	// traces, metrics and the routing journal.
	statsRefused(dept string, reason messages.RefusalReason)
	statsOfferEnded(dept, agent string, declined bool)
	Audit(e *messages.AuditEntry)
	admitted(m *messages.StartChat, dept, result string) *messages.TraceContext
	span(parent *messages.TraceContext, name, dept, result string, from, to time.Time) *messages.TraceContext
	queueMetrics(dept string) *queueMetrics
	// journal records an input the queue handled with the decisions it
	// made (nil: decisions are not recorded).
	journal() routingJournal
	// hold keeps what the queue sends (Send, Reply) until release: an
	// input's journal entry is submitted first.
	hold()
	release()
	drop()
}

// routingJournal keeps the queue's inputs and decisions (routing_record.go).
type routingJournal interface {
	record(in *messages.RoutingInput, stored []*messages.RoutingDecision)
	// addressKey keys the hash that stands for a client address in the
	// journal (nil: the addresses are pseudonyms already).
	addressKey() []byte
}

// brokerHost is the queue actor's host: the broker, and the actor itself
// for timers.
type brokerHost struct {
	b    *Broker
	self *actor.PID
	// held: the sends of the input being handled, while the journal is
	// kept (holding).
	holding bool
	held    []heldSend
	// at: the clock when the input being handled (holding) began: the
	// queue reads one instant per input, the one its journal entry
	// keeps, so a replay at that instant decides the same.
	at time.Time
}

type heldSend struct {
	kind, id string
	pid      *actor.PID
	msg      any
}

func (h *brokerHost) Now() time.Time {
	if h.holding {
		return h.at
	}
	return wallTime(h.b.clock.Now())
}

// wallTime drops t's monotonic reading: a replay knows only the
// journal's wall times, so the live queue must compute with those too
// (with both readings Go subtracts monotonic times, and a clock slewed
// by NTP would make a cool-down end at a different instant).
func wallTime(t time.Time) time.Time { return t.Round(0) }
func (h *brokerHost) Send(kind, id string, msg any) {
	if h.holding {
		h.held = append(h.held, heldSend{kind: kind, id: id, msg: msg})
		return
	}
	h.b.Send(kind, id, msg)
}
func (h *brokerHost) Reply(conn *actor.PID, env *messages.Envelope) {
	switch {
	case conn == nil:
	case h.holding:
		h.held = append(h.held, heldSend{pid: conn, msg: env})
	default:
		h.b.root.Send(conn, env)
	}
}
func (h *brokerHost) hold() {
	h.holding = h.b.routing != nil
	if h.holding {
		h.at = wallTime(h.b.clock.Now())
	}
}
func (h *brokerHost) release() {
	h.holding = false
	for i, s := range h.held {
		if s.pid != nil {
			h.b.root.Send(s.pid, s.msg)
		} else {
			h.b.Send(s.kind, s.id, s.msg)
		}
		h.held[i] = heldSend{}
	}
	h.held = h.held[:0]
}

// drop forgets what was held, unsent: handling the input failed (a
// panic) before its journal entry was submitted. A no-op after release.
func (h *brokerHost) drop() {
	h.holding = false
	clear(h.held)
	h.held = h.held[:0]
}
func (h *brokerHost) After(d time.Duration, msg any) func() bool {
	self, root := h.self, h.b.root
	return h.b.clock.AfterFunc(d, func() { root.Send(self, msg) })
}
func (h *brokerHost) Department(id string) (*messages.Department, error) {
	return h.b.store.Department(id)
}
func (h *brokerHost) LinePerAddress() int  { return h.b.linePerAddress }
func (h *brokerHost) Logger() *slog.Logger { return h.b.system.Logger() }
func (h *brokerHost) statsRefused(dept string, reason messages.RefusalReason) {
	h.b.statsRefused(dept, reason)
}
func (h *brokerHost) statsOfferEnded(dept, agent string, declined bool) {
	h.b.statsOfferEnded(dept, agent, declined)
}
func (h *brokerHost) Audit(e *messages.AuditEntry) { h.b.Audit(e) }
func (h *brokerHost) admitted(m *messages.StartChat, dept, result string) *messages.TraceContext {
	return h.b.admitted(m, dept, result)
}
func (h *brokerHost) span(parent *messages.TraceContext, name, dept, result string, from, to time.Time) *messages.TraceContext {
	return h.b.tracing.span(parent, name, dept, result, from, to)
}
func (h *brokerHost) queueMetrics(dept string) *queueMetrics {
	return h.b.metrics.queue(dept, h.b.clock)
}
func (h *brokerHost) journal() routingJournal {
	if h.b.routing == nil {
		return nil
	}
	return h.b.routing
}
