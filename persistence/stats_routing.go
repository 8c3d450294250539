package persistence

import (
	"slices"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// RoutingFigures folds a routing journal, recorded or simulated
// (switchboard simulate), into the statistics' figures (Figures) over a
// period, per department and hour and per agent, with the statistics'
// definitions where the journal has what they need:
//
//   - a wait runs from a chat's entering a line (Enqueue, or a restore)
//     to its ASSIGNED decision, in the department it waited in; it
//     counts in the hour it began, when that is in the period, and is
//     within target when no longer than the department's answer target
//     then (its settings);
//   - requested: each chat's first entering of a line, or a refusal;
//   - missed: a chat that left its line (LEFT) before any agent had it
//     (the statistics' "no staff ever wrote and no agent closed it", as
//     far as routing sees it);
//   - occupancy: the chats an agent carries over their limit, while not
//     offline (addActivity), from the agents' reports to the queues; an
//     agent who is not connected counts as offline.
//
// Add the entries in order, then Finish.
type RoutingFigures struct {
	from, to int64 // ns
	targets  map[string]int64
	chats    map[string]*routingChat
	agents   map[string]*routingAgent
	buckets  map[figureKey]*messages.StatsBucket
}

type routingChat struct {
	dept     string
	queuedAt int64 // ns; 0: not waiting
	assigned bool  // an agent had it
	seen     bool
}

type routingAgent struct {
	since    int64
	activity *messages.AgentActivity
	depts    map[string]bool
}

// figureKey is a figure's dimension: a department or an agent (the
// other empty), hour the hour's start (unix s; -1: the whole period).
type figureKey struct {
	dept, agent string
	hour        int64
}

// NewRoutingFigures counts what begins in [from, to) (a zero to: no end).
func NewRoutingFigures(from, to time.Time) *RoutingFigures {
	f := &RoutingFigures{from: from.UnixNano(), to: to.UnixNano(), targets: map[string]int64{},
		chats: map[string]*routingChat{}, agents: map[string]*routingAgent{}, buckets: map[figureKey]*messages.StatsBucket{}}
	if to.IsZero() {
		f.to = 1<<63 - 1
	}
	return f
}

func (f *RoutingFigures) in(at int64) bool { return at >= f.from && at < f.to }

// each applies fn to the bucket of dept or agent over the period and in
// at's hour.
func (f *RoutingFigures) each(dept, agent string, at int64, fn func(*messages.StatsBucket)) {
	for _, h := range [2]int64{-1, hourOf(at)} {
		k := figureKey{dept: dept, agent: agent, hour: h}
		x := f.buckets[k]
		if x == nil {
			x = &messages.StatsBucket{}
			f.buckets[k] = x
		}
		fn(x)
	}
}

func hourOf(ns int64) int64 { return ns / int64(time.Second) / 3600 * 3600 }

// Add folds one journal entry.
func (f *RoutingFigures) Add(in *messages.RoutingInput) {
	at, dept := in.GetAtNs(), in.GetDepartment()
	switch x := in.GetInput().(type) {
	case *messages.RoutingInput_Settings:
		t := int64(x.Settings.GetDepartment().GetAnswerTargetS())
		if t == 0 {
			t = messages.DefaultAnswerTargetS
		}
		f.targets[dept] = t * int64(time.Second)
	case *messages.RoutingInput_Enqueue:
		f.queued(x.Enqueue.GetChat().GetChatId(), dept, at)
	case *messages.RoutingInput_Restore:
		for _, oc := range x.Restore.GetChats() {
			if c := f.chats[oc.GetChatId()]; c == nil || c.queuedAt == 0 {
				f.queued(oc.GetChatId(), dept, int64(oc.GetTicket()))
			}
		}
	case *messages.RoutingInput_Report:
		f.report(x.Report, dept, at)
	}
	for _, d := range in.GetDecisions() {
		f.decision(d, dept, at)
	}
}

func (f *RoutingFigures) queued(chat, dept string, at int64) {
	c := f.chats[chat]
	if c == nil {
		c = &routingChat{}
		f.chats[chat] = c
	}
	c.dept, c.queuedAt = dept, at
	if !f.in(at) {
		return
	}
	first := !c.seen
	c.seen = true
	f.each(dept, "", at, func(x *messages.StatsBucket) {
		x.Queued++
		if first {
			x.Requested++
		}
	})
}

func (f *RoutingFigures) decision(d *messages.RoutingDecision, dept string, at int64) {
	c := f.chats[d.GetChatId()]
	switch d.GetKind() {
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REFUSED:
		if f.in(at) {
			f.each(dept, "", at, func(x *messages.StatsBucket) {
				x.Requested++
				if x.Refused == nil {
					x.Refused = map[int32]uint32{}
				}
				x.Refused[int32(d.GetRefusal())]++
			})
		}
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED:
		if c == nil || c.queuedAt == 0 {
			return
		}
		if f.in(c.queuedAt) {
			f.each("", d.GetAgentId(), c.queuedAt, func(x *messages.StatsBucket) { x.Assigned++ })
		}
		f.waited(c, at)
		c.assigned = true
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_LEFT:
		if c == nil || c.queuedAt == 0 {
			return
		}
		if !c.assigned && f.in(c.queuedAt) {
			f.each(c.dept, "", c.queuedAt, func(x *messages.StatsBucket) { x.Missed++ })
		}
		c.queuedAt = 0
	}
}

// waited ends c's wait at at.
func (f *RoutingFigures) waited(c *routingChat, at int64) {
	began := c.queuedAt
	c.queuedAt = 0
	if !f.in(began) {
		return
	}
	target, ok := f.targets[c.dept]
	if !ok {
		target = messages.DefaultAnswerTargetS * int64(time.Second)
	}
	waited := at - began
	f.each(c.dept, "", began, func(x *messages.StatsBucket) {
		x.Assigned++
		if x.Wait == nil {
			x.Wait = &messages.StatsHistogram{}
		}
		histAdd(x.Wait, waited/int64(time.Millisecond))
		if waited <= target {
			x.WithinTarget++
		}
	})
}

// report ends the agent's activity so far and begins the one reported.
func (f *RoutingFigures) report(r *messages.AgentReport, dept string, at int64) {
	a := f.agents[r.GetAgentId()]
	if a == nil {
		a = &routingAgent{since: at, depts: map[string]bool{}}
		f.agents[r.GetAgentId()] = a
	}
	f.span(r.GetAgentId(), a, at)
	if r.GetMember() {
		a.depts[dept] = true
	} else {
		delete(a.depts, dept)
	}
	st := r.GetStatus()
	if !r.GetConnected() || !r.GetMember() && len(a.depts) == 0 {
		st = messages.AgentStatus_AGENT_STATUS_OFFLINE
	}
	a.activity = &messages.AgentActivity{Status: st, Chats: r.GetLoad(), Limit: r.GetMaxChats()}
	for d := range a.depts {
		a.activity.Departments = append(a.activity.Departments, d)
	}
	slices.Sort(a.activity.Departments)
}

// span adds a's activity from a.since to at (within the period), hour by
// hour, to the agent's figures and its departments'.
func (f *RoutingFigures) span(agent string, a *routingAgent, at int64) {
	from, to := max(a.since, f.from), min(at, f.to)
	a.since = at
	if a.activity == nil {
		return
	}
	for t := from; t < to; {
		end := min((hourOf(t)+3600)*int64(time.Second), to)
		ms := (end - t) / int64(time.Millisecond)
		f.each("", agent, t, func(x *messages.StatsBucket) { addActivity(x, a.activity, ms) })
		for _, d := range a.activity.GetDepartments() {
			f.each(d, "", t, func(x *messages.StatsBucket) { addActivity(x, a.activity, ms) })
		}
		t = end
	}
}

// Finish ends every agent's activity at end (the period's end, or the
// journal's).
func (f *RoutingFigures) Finish(end time.Time) {
	for id, a := range f.agents {
		f.span(id, a, end.UnixNano())
	}
}

// RoutingFigure is one row: a department's or an agent's figures over
// the period (Hour zero) or in one hour.
type RoutingFigure struct {
	Department, Agent string
	Hour              time.Time
	Figures           *messages.StatsFigures
}

// Rows are the figures, departments then agents, each its total first
// and then its hours in order.
func (f *RoutingFigures) Rows() []RoutingFigure {
	out := make([]RoutingFigure, 0, len(f.buckets))
	for k, x := range f.buckets {
		r := RoutingFigure{Department: k.dept, Agent: k.agent, Figures: Figures(x)}
		if k.hour >= 0 {
			r.Hour = time.Unix(k.hour, 0).UTC()
			r.Figures.Start = r.Hour.Format(time.RFC3339)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RoutingFigure) int {
		switch {
		case (a.Agent == "") != (b.Agent == ""):
			if a.Agent == "" {
				return -1
			}
			return 1
		case a.Department != b.Department:
			return strings.Compare(a.Department, b.Department)
		case a.Agent != b.Agent:
			return strings.Compare(a.Agent, b.Agent)
		}
		return a.Hour.Compare(b.Hour)
	})
	return out
}
