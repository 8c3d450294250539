package actors

import (
	"cmp"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// Traffic is a period's recorded traffic, what switchboard simulate
// replays: the routing journal's entries in order, and what happened to
// each chat once agents had it (from the chat logs).
type Traffic struct {
	Inputs []*messages.RoutingInput
	Chats  map[string]*messages.SimChat
}

// Merge adds o's traffic to t, the entries in the order of their clock
// (t's first at equal times).
func (t *Traffic) Merge(o *Traffic) {
	t.Inputs = append(t.Inputs, o.Inputs...)
	slices.SortStableFunc(t.Inputs, func(a, b *messages.RoutingInput) int { return cmp.Compare(a.GetAtNs(), b.GetAtNs()) })
	if t.Chats == nil {
		t.Chats = map[string]*messages.SimChat{}
	}
	for id, c := range o.Chats {
		t.Chats[id] = c
	}
}

// Known lists the departments and agents the traffic names (a change to
// any other is a mistake).
func (t *Traffic) Known() (departments, agents map[string]bool) {
	departments, agents = map[string]bool{}, map[string]bool{}
	for _, in := range t.Inputs {
		departments[in.GetDepartment()] = true
		if r := in.GetReport(); r != nil {
			agents[r.GetAgentId()] = true
		}
	}
	return departments, agents
}

// simPlan is the traffic as the what-if model uses it: the timed events
// that come from outside routing (settings, arrivals, the agents'
// recorded states, their picks and a supervisor's assignments), and the
// behaviours measured (patience, answers, handling).
type simPlan struct {
	timed     []simTimed
	summaries map[string]*messages.ChatSummary
	patience  map[string]int64 // chat -> ns from arrival to leaving the line
	answers   map[answerKey][]simAnswer
	median    map[string]int64 // agent -> median ns to accept an offer
	medianAll int64
	handling  map[string]int64 // department -> median stay ns
	chats     map[string]*messages.SimChat
	settings  map[string]*messages.RoutingSettings // each department's first
	start     int64
	end       int64
}

// simTimed is an input from outside routing, at its recorded time.
type simTimed struct {
	at   int64
	dept string
	in   *messages.RoutingInput
}

type answerKey struct{ chat, agent string }

// simAnswer is an agent's recorded answer to an offer of a chat: accept,
// decline, or neither (it expired), after delay ns.
type simAnswer struct {
	accepted, declined bool
	delay              int64
}

// planner builds a simPlan in one pass over the journal.
type planner struct {
	p         *simPlan
	arrived   map[string]int64 // chat -> when it first joined a line
	assigned  map[string]bool
	offeredAt map[answerKey]int64
	delays    map[string][]int64
}

func newPlan(t *Traffic) *simPlan {
	pl := &planner{p: &simPlan{summaries: map[string]*messages.ChatSummary{}, patience: map[string]int64{},
		answers: map[answerKey][]simAnswer{}, median: map[string]int64{}, handling: map[string]int64{}, chats: t.Chats,
		settings: map[string]*messages.RoutingSettings{}},
		arrived: map[string]int64{}, assigned: map[string]bool{}, offeredAt: map[answerKey]int64{}, delays: map[string][]int64{}}
	for _, in := range t.Inputs {
		pl.input(in)
	}
	pl.medians()
	if n := len(t.Inputs); n > 0 {
		pl.p.start, pl.p.end = t.Inputs[0].GetAtNs(), t.Inputs[n-1].GetAtNs()
	}
	return pl.p
}

func (pl *planner) input(in *messages.RoutingInput) {
	at, p := in.GetAtNs(), pl.p
	switch x := in.GetInput().(type) {
	case *messages.RoutingInput_Settings:
		if p.settings[in.GetDepartment()] == nil {
			p.settings[in.GetDepartment()] = x.Settings
		}
		p.timed = append(p.timed, simTimed{at: at, dept: in.GetDepartment(), in: in})
	case *messages.RoutingInput_Admit:
		pl.arrival(x.Admit.GetChatId(), in)
	case *messages.RoutingInput_Enqueue:
		id := x.Enqueue.GetChat().GetChatId()
		if p.summaries[id] == nil {
			p.summaries[id] = x.Enqueue.GetChat()
		}
		pl.arrival(id, in)
	case *messages.RoutingInput_Withdraw:
		id := x.Withdraw.GetChatId()
		if since, ok := pl.arrived[id]; ok && !pl.assigned[id] && p.patience[id] == 0 {
			p.patience[id] = max(at-since, 1)
		}
	case *messages.RoutingInput_Report, *messages.RoutingInput_Pick, *messages.RoutingInput_Assign:
		p.timed = append(p.timed, simTimed{at: at, dept: in.GetDepartment(), in: in})
	case *messages.RoutingInput_Reply:
		pl.reply(x.Reply, at)
	}
	for _, d := range in.GetDecisions() {
		pl.decision(d, at)
	}
}

// arrival: a chat's first line is its arrival (later ones are transfers
// and requeues, which the model makes from the chat's stays).
func (pl *planner) arrival(chat string, in *messages.RoutingInput) {
	if _, ok := pl.arrived[chat]; ok {
		return
	}
	pl.arrived[chat] = in.GetAtNs()
	pl.p.timed = append(pl.p.timed, simTimed{at: in.GetAtNs(), dept: in.GetDepartment(), in: in})
}

func (pl *planner) reply(r *messages.OfferReply, at int64) {
	k := answerKey{chat: r.GetChatId(), agent: r.GetAgentId()}
	since, ok := pl.offeredAt[k]
	if !ok || r.GetBusy() {
		return // a busy answer is the model's to give (its own load)
	}
	delete(pl.offeredAt, k)
	pl.p.answers[k] = append(pl.p.answers[k], simAnswer{accepted: r.GetAccepted(), declined: !r.GetAccepted(), delay: at - since})
	if r.GetAccepted() {
		pl.delays[k.agent] = append(pl.delays[k.agent], at-since)
	}
}

func (pl *planner) decision(d *messages.RoutingDecision, at int64) {
	k := answerKey{chat: d.GetChatId(), agent: d.GetAgentId()}
	switch d.GetKind() {
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED:
		pl.offeredAt[k] = at
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_EXPIRED:
		if since, ok := pl.offeredAt[k]; ok {
			delete(pl.offeredAt, k)
			pl.p.answers[k] = append(pl.p.answers[k], simAnswer{delay: at - since})
		}
	case messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED:
		pl.assigned[d.GetChatId()] = true
	}
}

// medians: each agent's median time to accept, everyone's, and each
// department's median stay (for chats with no recorded stay).
func (pl *planner) medians() {
	var all []int64
	for a, ds := range pl.delays {
		pl.p.median[a] = median(ds)
		all = append(all, ds...)
	}
	pl.p.medianAll = median(all)
	stays := map[string][]int64{}
	for _, c := range pl.p.chats {
		for _, s := range c.GetStays() {
			stays[s.GetDepartment()] = append(stays[s.GetDepartment()], s.GetHandlingMs()*int64(time.Millisecond))
			stays[""] = append(stays[""], s.GetHandlingMs()*int64(time.Millisecond))
		}
	}
	for d, v := range stays {
		pl.p.handling[d] = median(v)
	}
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// defaultHandling is a stay's length when nothing was recorded for the
// chat or its department.
const defaultHandling = 5 * time.Minute

// stay is the n-th stay of chat in dept: the recorded one, else the
// chat's last recorded length (closing), else the department's median.
func (p *simPlan) stay(chat, dept string, n int) *messages.SimStay {
	stays := p.chats[chat].GetStays()
	switch {
	case n < len(stays):
		return stays[n]
	case len(stays) > 0:
		return &messages.SimStay{Department: dept, HandlingMs: stays[len(stays)-1].GetHandlingMs()}
	}
	ns, ok := p.handling[dept]
	if !ok {
		ns, ok = p.handling[""]
	}
	if !ok {
		ns = int64(defaultHandling)
	}
	return &messages.SimStay{Department: dept, HandlingMs: ns / int64(time.Millisecond)}
}

// answer is agent's answer to their n-th offer of chat: the recorded
// one, else accepting after their median time (everyone's, for an agent
// with none recorded).
func (p *simPlan) answer(chat, agent string, n int) simAnswer {
	if as := p.answers[answerKey{chat: chat, agent: agent}]; n < len(as) {
		return as[n]
	}
	d, ok := p.median[agent]
	if !ok {
		d = p.medianAll
	}
	return simAnswer{accepted: true, delay: d}
}

// summary is what the queue reads of chat when it joins dept's line.
func (p *simPlan) summary(chat, dept string, s *messages.StartChat, at int64) *messages.ChatSummary {
	sum := &messages.ChatSummary{ChatId: chat, VisitorId: s.GetVisitorId(), Language: s.GetRequest().GetLanguage(),
		CreatedAtMs: at / int64(time.Millisecond)}
	if r := p.summaries[chat]; r != nil {
		sum = proto.Clone(r).(*messages.ChatSummary)
	}
	sum.Department, sum.State, sum.AgentId = dept, messages.ChatState_CHAT_STATE_QUEUED, ""
	return sum
}
