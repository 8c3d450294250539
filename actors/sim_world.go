package actors

import (
	"container/heap"
	"maps"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The what-if simulation (switchboard simulate without -check): a
// discrete-event simulation on a simulated clock in which each
// department's queue is the same code as the broker's (queue.handle, on
// a simHost whose timers are the simulation's), and everything outside
// routing is a model built from the recorded traffic (simPlan):
//
//   - arrivals: the recorded admissions and first enqueues, at their
//     times; a visitor who left the line in reality leaves after as long
//     (their patience) if still waiting, and never otherwise;
//   - agents (sim_agents.go): their status, connection, languages, limit
//     and departments as recorded (or changed), their load from the
//     simulated chats and offers, their answers as recorded for that
//     chat, else accepting after their median time;
//   - chats (sim_chats.go): each assignment's stay as long as the
//     recorded one, ending as it did (closed, transferred, requeued).
//
// The reports the queues get are the model's, never the journal's.

// Window is a daily time of day range (UTC, since midnight); To before
// From runs past midnight.
type Window struct{ From, To time.Duration }

func (w Window) contains(ns int64) bool {
	tod := time.Duration(ns % int64(24*time.Hour))
	if w.From <= w.To {
		return tod >= w.From && tod < w.To
	}
	return tod >= w.From || tod < w.To
}

// SimAgent is an agent a simulation adds. Without a Window, the agent
// is available whenever a recorded agent of one of its departments is
// available and connected (it works when the team works).
type SimAgent struct {
	ID                     string
	Departments, Languages []string
	Limit                  uint32
	Window                 *Window
}

// Changes are a simulation's what-ifs (zero: replay as recorded).
type Changes struct {
	Policy       map[string]messages.RoutingPolicy // department -> policy
	OfferTimeout map[string]time.Duration          // department -> timeout
	Limit        map[string]uint32                 // agent -> chats at once
	Add          []SimAgent
	Remove       map[string]bool   // agents who take no chat
	Shift        map[string]Window // agent -> available in this window only
	// Until: no arrival from then on (zero: every one).
	Until time.Time
}

// SimStats are a simulation's counts.
type SimStats struct {
	Events, Inputs, Arrivals int
}

type simWorld struct {
	now     int64
	seq     uint64
	events  simEvents
	plan    *simPlan
	ch      Changes
	queues  map[string]*simQueue
	agents  map[string]*simAgent
	added   []*simAgent // those without a window, available with their team
	chats   map[string]*simChat
	observe func(*messages.RoutingInput)
	stats   SimStats
}

type simQueue struct {
	q *queue
	h *simHost
}

// Simulate runs the traffic with the changes; observe gets each input
// the queues handled with the decisions they made (a journal entry, as
// RoutingFigures reads it).
func Simulate(t *Traffic, ch Changes, observe func(*messages.RoutingInput)) SimStats {
	w := &simWorld{plan: newPlan(t), ch: ch, queues: map[string]*simQueue{}, agents: map[string]*simAgent{},
		chats: map[string]*simChat{}, observe: observe}
	w.now = w.plan.start
	for _, tm := range w.plan.timed {
		w.schedule(tm)
	}
	for _, id := range slices.Sorted(maps.Keys(ch.Shift)) {
		w.agent(id)
	}
	w.addAgents()
	w.shifts()
	for w.events.Len() > 0 {
		e := heap.Pop(&w.events).(*simEvent)
		if e.dead {
			continue
		}
		w.now = e.at
		w.stats.Events++
		e.fn()
	}
	return w.stats
}

// schedule puts a recorded input from outside routing on the clock.
func (w *simWorld) schedule(tm simTimed) {
	until := w.ch.Until.UnixNano()
	switch x := tm.in.GetInput().(type) {
	case *messages.RoutingInput_Settings:
		w.at(tm.at, func() { w.settings(tm.dept, x.Settings) })
	case *messages.RoutingInput_Admit, *messages.RoutingInput_Enqueue:
		if !w.ch.Until.IsZero() && tm.at >= until {
			return
		}
		w.at(tm.at, func() { w.arrive(tm) })
	case *messages.RoutingInput_Report:
		w.at(tm.at, func() { w.recorded(tm.dept, x.Report) })
	case *messages.RoutingInput_Pick:
		w.at(tm.at, func() { w.picked(tm.dept, x.Pick) })
	case *messages.RoutingInput_Assign:
		w.at(tm.at, func() { w.supervisorAssigned(tm.dept, x.Assign) })
	}
}

// at runs fn at ns on the simulated clock (after what is due then).
func (w *simWorld) at(ns int64, fn func()) *simEvent {
	w.seq++
	e := &simEvent{at: max(ns, w.now), seq: w.seq, fn: fn}
	heap.Push(&w.events, e)
	return e
}

// toQueue delivers msg to dept's queue, after what is due now.
func (w *simWorld) toQueue(dept string, msg any) {
	w.at(w.now, func() { w.deliver(dept, msg) })
}

func (w *simWorld) deliver(dept string, msg any) {
	sq := w.queue(dept)
	sq.h.now = time.Unix(0, w.now)
	sq.q.handle(msg)
}

// queue is dept's queue, started with its first recorded settings (the
// defaults of an online department when none were recorded) if it is
// new.
func (w *simWorld) queue(dept string) *simQueue {
	if sq := w.queues[dept]; sq != nil {
		return sq
	}
	h := &simHost{col: simCollector{fn: w.journal}}
	s := w.plan.settings[dept]
	d := s.GetDepartment()
	if s == nil {
		d = &messages.Department{Id: dept, ChatEnabled: true}
	}
	h.dept, h.lpa = w.changed(dept, d), int(s.GetLinePerAddress())
	h.sent = func(kind, id string, msg any) { w.sent(dept, kind, id, msg) }
	h.after = func(d time.Duration, msg any) func() bool {
		e := w.at(w.now+int64(d), func() { w.deliver(dept, msg) })
		return func() bool {
			was := !e.dead
			e.dead = true
			return was
		}
	}
	sq := &simQueue{q: newSimQueue(dept, h), h: h}
	w.queues[dept] = sq
	h.now = time.Unix(0, w.now)
	sq.q.handle(&actor.Started{})
	return sq
}

func (w *simWorld) journal(in *messages.RoutingInput) {
	w.stats.Inputs++
	if w.observe != nil {
		w.observe(in)
	}
}

// settings: a recorded settings change (a restart is not one here: the
// simulated queue runs on).
func (w *simWorld) settings(dept string, s *messages.RoutingSettings) {
	if w.queues[dept] == nil {
		w.queue(dept)
		return
	}
	sq := w.queues[dept]
	sq.h.dept, sq.h.lpa = w.changed(dept, s.GetDepartment()), int(s.GetLinePerAddress())
	w.deliver(dept, &messages.DirectoryChanged{})
}

// changed is a department's settings with the simulation's changes
// (nil: the department did not exist then).
func (w *simWorld) changed(id string, d *messages.Department) *messages.Department {
	if d == nil {
		return nil
	}
	p, pok := w.ch.Policy[id]
	t, tok := w.ch.OfferTimeout[id]
	if !pok && !tok {
		return d
	}
	d = proto.Clone(d).(*messages.Department)
	if pok {
		d.Policy = p
	}
	if tok {
		d.OfferTimeoutMs = uint32(t / time.Millisecond)
	}
	return d
}

// sent is what a queue sent: to the model's agents and chats.
func (w *simWorld) sent(dept, kind, id string, msg any) {
	switch m := msg.(type) {
	case *messages.OfferChat:
		w.offered(w.agent(id), dept, m)
	case *messages.RevokeOffer:
		w.revoked(w.agent(id), m)
	case *messages.StartChat:
		w.admitted(dept, m)
	case *messages.AssignChat:
		w.assigned(dept, m)
	case *messages.StartRefused:
		if c := w.chats[m.GetChatId()]; c != nil {
			c.done = true
		}
	}
}

// simEvent is something due at a time; seq keeps the order of events
// due at once.
type simEvent struct {
	at   int64
	seq  uint64
	fn   func()
	dead bool
}

type simEvents []*simEvent

func (e simEvents) Len() int { return len(e) }
func (e simEvents) Less(i, j int) bool {
	return e[i].at < e[j].at || e[i].at == e[j].at && e[i].seq < e[j].seq
}
func (e simEvents) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *simEvents) Push(x any)   { *e = append(*e, x.(*simEvent)) }
func (e *simEvents) Pop() any {
	old := *e
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*e = old[:len(old)-1]
	return x
}
