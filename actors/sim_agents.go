package actors

import (
	"maps"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The simulation's agents: their state as recorded (or changed), their
// load from the simulated offers and chats, and the reports they send
// their departments' queues when either changes (as the agent actor
// does).

type simAgent struct {
	id, name  string
	member    map[string]bool // department -> a member (false: leaving, to be told)
	status    messages.AgentStatus
	connected bool
	languages []string
	max       uint32
	pending   map[string]simOffer // offer id -> offer
	active    map[string]bool     // chat ids
	offers    map[string]int      // chat -> offers of it so far
	last      int64               // last assigned, ms
	told      map[string]simTold  // department -> what it was last told
	removed   bool
	fixed     bool    // added or shifted: availability is the model's
	window    *Window // an added agent's hours
	added     bool
}

type simOffer struct{ chat, dept string }

type simTold struct {
	status    messages.AgentStatus
	connected bool
	max, load uint32
	langs     int
	last      int64
}

func (w *simWorld) agent(id string) *simAgent {
	a := w.agents[id]
	if a == nil {
		a = &simAgent{id: id, name: id, member: map[string]bool{}, pending: map[string]simOffer{}, active: map[string]bool{},
			offers: map[string]int{}, told: map[string]simTold{}, removed: w.ch.Remove[id]}
		if win, ok := w.ch.Shift[id]; ok {
			a.fixed, a.window = true, &win
			a.status, a.connected = windowStatus(win, w.now)
		}
		w.agents[id] = a
	}
	return a
}

func windowStatus(win Window, ns int64) (messages.AgentStatus, bool) {
	if win.contains(ns) {
		return statusAvailable, true
	}
	return messages.AgentStatus_AGENT_STATUS_OFFLINE, false
}

func (a *simAgent) load() uint32 { return uint32(len(a.pending) + len(a.active)) }

func (a *simAgent) canTake() bool {
	return a.status == statusAvailable && a.connected && a.load() < a.max
}

// recorded applies a recorded report: membership, languages and limit
// (and status unless the model sets it).
func (w *simWorld) recorded(dept string, r *messages.AgentReport) {
	a := w.agent(r.GetAgentId())
	if a.removed {
		return
	}
	a.member[dept] = r.GetMember()
	if r.GetMember() {
		a.name, a.languages, a.max = r.GetDisplayName(), r.GetLanguages(), r.GetMaxChats()
		if n, ok := w.ch.Limit[a.id]; ok {
			a.max = n
		}
		if !a.fixed {
			a.status, a.connected = r.GetStatus(), r.GetConnected()
		}
	}
	w.report(a)
	w.teamChanged()
}

// report tells each of a's departments' queues a's state, if it changed
// since they were last told, and those it left that it is gone.
func (w *simWorld) report(a *simAgent) {
	for _, d := range slices.Sorted(maps.Keys(a.member)) {
		if !a.member[d] {
			delete(a.member, d)
			delete(a.told, d)
			w.toQueue(d, &messages.AgentReport{AgentId: a.id, Member: false})
			continue
		}
		t := simTold{status: a.status, connected: a.connected, max: a.max, load: a.load(), langs: len(a.languages), last: a.last}
		if old, ok := a.told[d]; ok && old == t {
			continue
		}
		a.told[d] = t
		w.toQueue(d, &messages.AgentReport{AgentId: a.id, DisplayName: a.name, Status: a.status, Connected: a.connected,
			Languages: a.languages, MaxChats: a.max, Load: a.load(), LastAssignedMs: a.last, Member: true})
	}
}

// offered: an agent who cannot take the chat answers busy; one who can
// holds it and answers as recorded for that chat, else accepts after
// their median time. An answer recorded as neither lets it expire.
func (w *simWorld) offered(a *simAgent, dept string, m *messages.OfferChat) {
	chat, id := m.GetOffer().GetChatId(), m.GetOfferId()
	if !a.canTake() {
		w.toQueue(dept, &messages.OfferReply{OfferId: id, ChatId: chat, AgentId: a.id, Busy: true})
		return
	}
	a.pending[id] = simOffer{chat: chat, dept: dept}
	w.report(a)
	ans := w.plan.answer(chat, a.id, a.offers[chat])
	a.offers[chat]++
	if !ans.accepted && !ans.declined {
		return
	}
	w.at(w.now+ans.delay, func() { w.answered(a, id, ans.accepted) })
}

func (w *simWorld) answered(a *simAgent, id string, accepted bool) {
	o, ok := a.pending[id]
	if !ok {
		return // revoked meanwhile
	}
	delete(a.pending, id)
	if accepted {
		a.active[o.chat] = true
	} else {
		w.report(a)
	}
	w.toQueue(o.dept, &messages.OfferReply{OfferId: id, ChatId: o.chat, AgentId: a.id, Accepted: accepted})
}

// revoked: an offer withdrawn, or one accepted after it expired.
func (w *simWorld) revoked(a *simAgent, m *messages.RevokeOffer) {
	if _, ok := a.pending[m.GetOfferId()]; ok {
		delete(a.pending, m.GetOfferId())
		w.report(a)
		return
	}
	if c := w.chats[m.GetChatId()]; a.active[m.GetChatId()] && (c == nil || c.agent != a.id) {
		delete(a.active, m.GetChatId())
		w.report(a)
	}
}

// picked: a recorded pick from the line, made again if the agent can
// take the chat now.
func (w *simWorld) picked(dept string, p *messages.PickRequest) {
	if a := w.agent(p.GetAgentId()); !a.removed && a.canTake() {
		w.deliver(dept, &messages.PickRequest{ChatId: p.GetChatId(), AgentId: p.GetAgentId(), AgentName: p.GetAgentName(), OfferId: p.GetOfferId()})
	}
}

func (w *simWorld) supervisorAssigned(dept string, s *messages.SupervisorAssign) {
	if !w.agent(s.GetAgentId()).removed {
		w.deliver(dept, &messages.SupervisorAssign{ChatId: s.GetChatId(), AgentId: s.GetAgentId(), ById: s.GetById(), ByName: s.GetByName()})
	}
}

// addAgents adds the changes' agents, from the start.
func (w *simWorld) addAgents() {
	for _, sa := range w.ch.Add {
		a := w.agent(sa.ID)
		a.fixed, a.added, a.removed = true, true, false
		a.languages, a.max = sa.Languages, sa.Limit
		for _, d := range sa.Departments {
			a.member[d] = true
		}
		if sa.Window != nil {
			win := *sa.Window
			a.window = &win
			a.status, a.connected = windowStatus(win, w.now)
		} else {
			a.status = messages.AgentStatus_AGENT_STATUS_OFFLINE
			w.added = append(w.added, a)
		}
		w.at(w.now, func() { w.report(a) })
	}
}

// shifts puts each window's start and end on the clock, every day of
// the traffic.
func (w *simWorld) shifts() {
	day := int64(24 * time.Hour)
	for _, id := range slices.Sorted(maps.Keys(w.agents)) {
		a := w.agents[id]
		if a.window == nil {
			continue
		}
		for d := w.plan.start / day * day; d <= w.plan.end+day; d += day {
			for _, edge := range []time.Duration{a.window.From, a.window.To} {
				if at := d + int64(edge); at >= w.plan.start {
					w.at(at, func() { w.shiftEdge(a) })
				}
			}
		}
	}
}

func (w *simWorld) shiftEdge(a *simAgent) {
	st, conn := windowStatus(*a.window, w.now)
	if st == a.status && conn == a.connected {
		return
	}
	a.status, a.connected = st, conn
	w.report(a)
	w.teamChanged()
}

// teamChanged makes the added agents without hours available when a
// recorded agent of one of their departments is.
func (w *simWorld) teamChanged() {
	for _, a := range w.added {
		on := w.teamAvailable(a)
		if on == (a.status == statusAvailable) {
			continue
		}
		a.status, a.connected = messages.AgentStatus_AGENT_STATUS_OFFLINE, false
		if on {
			a.status, a.connected = statusAvailable, true
		}
		w.report(a)
	}
}

func (w *simWorld) teamAvailable(a *simAgent) bool {
	for _, o := range w.agents {
		if o.added || o.removed || o.status != statusAvailable || !o.connected {
			continue
		}
		for d, m := range o.member {
			if m && a.member[d] {
				return true
			}
		}
	}
	return false
}
