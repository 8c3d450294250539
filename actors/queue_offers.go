package actors

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The queue's offers: who may be offered what (the roster, from the
// agents' reports), the offers out and their answers, and the cool-down
// after a decline.

// declineCooldown is how long an agent who declined (or let expire) an
// offer is not offered that chat again, unless nobody else can take it.
const declineCooldown = 15 * time.Second

type offer struct {
	id     string
	chatID string
	agent  string
	stop   func() bool
	// assigned: a supervisor chose the agent; declined or expired, the
	// chat goes to the head of the line.
	assigned bool
	by       string // the supervisor's name
}

func (q *queue) offerTimeout() time.Duration {
	if ms := q.dept.GetOfferTimeoutMs(); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return DefaultOfferTimeout
}

// cooling reports whether agent declined w (or let its offer expire) less
// than declineCooldown before now.
func (w *waiting) cooling(agent string, now time.Time) bool {
	t, ok := w.declined[agent]
	return ok && now.Sub(t) < declineCooldown
}

// cooledAt is when agent's cool-down for w ends.
func (w *waiting) cooledAt(agent string) time.Time {
	return w.declined[agent].Add(declineCooldown)
}

// agentReport takes an agent's report: who can be offered what changed,
// and so may the estimate (it depends on who is available).
func (q *queue) agentReport(m *messages.AgentReport) {
	if q.unchanged(m) {
		// Nothing the rules read moved: no decision can come of it (a
		// cool-down's end has its own timer), so it is not handled, and
		// not journaled either.
		q.rec.ignore()
		return
	}
	q.report(m)
	q.dispatch()
	q.notifyPositions()
}

// unchanged reports whether m tells the queue nothing new: the agent's
// entry in the roster already says all of it, and no busy answer holds
// them off.
func (q *queue) unchanged(m *messages.AgentReport) bool {
	c := q.roster[m.GetAgentId()]
	return c != nil && m.GetMember() && !c.hold && c.name == m.GetDisplayName() && c.status == m.GetStatus() &&
		c.connected == m.GetConnected() && slices.Equal(c.languages, m.GetLanguages()) && c.max == m.GetMaxChats() &&
		c.load == m.GetLoad() && c.lastAssigned == m.GetLastAssignedMs()
}

func (q *queue) report(m *messages.AgentReport) {
	q.rosterOK = false
	if !m.GetMember() {
		delete(q.roster, m.GetAgentId())
		return
	}
	c := q.roster[m.GetAgentId()]
	if c == nil {
		c = &candidate{id: m.GetAgentId()}
		q.roster[c.id] = c
	}
	c.name, c.status, c.connected = m.GetDisplayName(), m.GetStatus(), m.GetConnected()
	c.languages, c.max, c.load = m.GetLanguages(), m.GetMaxChats(), m.GetLoad()
	c.lastAssigned = m.GetLastAssignedMs()
	c.hold = false
}

func (q *queue) candidates() []*candidate {
	if !q.rosterOK {
		q.sorted = q.sorted[:0]
		for _, c := range q.roster {
			q.sorted = append(q.sorted, c)
		}
		slices.SortFunc(q.sorted, func(a, b *candidate) int { return strings.Compare(a.id, b.id) })
		q.rosterOK = true
	}
	return q.sorted
}

// retry is the end of the cool-down dispatch waited for.
func (q *queue) retry() {
	q.retryStop = nil
	q.dispatch()
}

// dispatch offers waiting chats, in order, to eligible agents. A chat that
// nobody can take now does not hold back the ones behind it (they may be in
// another language), but it keeps its place at the head.
//
// An offline queue (chat_enabled off) refuses new requests but still
// serves the chats already waiting. A manual queue offers only transfers
// to a named agent.
func (q *queue) dispatch() {
	if q.dept == nil {
		return
	}
	manual := q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_MANUAL
	cands := q.candidates()
	now := q.host.Now()
	var cooling time.Time // the earliest end of a cool-down that holds a chat back
	for _, w := range q.line.waiting {
		if !anyFree(cands) {
			q.nobodyFree(now)
			break
		}
		if w.offer != nil || q.offerTarget(w) || manual {
			continue
		}
		c, until := q.choose(cands, w, now)
		if c != nil {
			q.makeOffer(w, c)
			continue
		}
		q.stillWaiting(w, now)
		if !until.IsZero() && (cooling.IsZero() || until.Before(cooling)) {
			cooling = until
		}
	}
	if !cooling.IsZero() && q.retryStop == nil {
		q.retryStop = q.host.After(cooling.Sub(now), &messages.RetryDispatch{})
	}
}

// offerTarget offers a transferred chat to the colleague it was
// transferred to, if they can take it now; if not, the chat waits at the
// head for anyone. Never to the colleague who asked it (AskedBy).
func (q *queue) offerTarget(w *waiting) (offered bool) {
	if w.target == "" {
		return false
	}
	c := q.roster[w.target]
	if c != nil && c.free() && !AskedBy(w.chat.GetVisitorId(), c.id) {
		q.makeOffer(w, c)
		return true
	}
	q.targetPassed(w, c)
	w.target = ""
	return false
}

// choose picks the agent to offer w to, skipping those cooling down
// after they declined it. When only those are left, it returns nobody and
// when the first of them may be offered it again. A colleague's question
// (internal live chats) is never offered to the colleague themselves.
func (q *queue) choose(cands []*candidate, w *waiting, now time.Time) (c *candidate, until time.Time) {
	lang := w.chat.GetLanguage()
	visitor := w.chat.GetVisitorId()
	if c := q.pickFor(cands, lang, func(id string) bool { return AskedBy(visitor, id) || w.cooling(id, now) }); c != nil {
		return c, time.Time{}
	}
	if alt := q.pickFor(cands, lang, func(id string) bool { return AskedBy(visitor, id) }); alt != nil {
		return nil, w.cooledAt(alt.id)
	}
	return nil, time.Time{}
}

func anyFree(cands []*candidate) bool {
	for _, c := range cands {
		if c.free() {
			return true
		}
	}
	return false
}

func (q *queue) pickFor(cands []*candidate, lang string, excluded func(string) bool) *candidate {
	if q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN {
		return pickRoundRobin(cands, lang, q.lastRR, excluded)
	}
	return pickLeastLoaded(cands, lang, excluded)
}

func (q *queue) makeOffer(w *waiting, c *candidate) { q.offerTo(w, c, "") }

// offerTo offers w to c; by names the supervisor who assigned it to c.
func (q *queue) offerTo(w *waiting, c *candidate, by string) {
	q.nextOffer++
	id := q.id + ":" + strconv.FormatUint(q.nextOffer, 36)
	timeout := q.offerTimeout()
	o := &offer{id: id, chatID: w.chat.GetChatId(), agent: c.id, assigned: by != "", by: by}
	o.stop = q.host.After(timeout, &messages.OfferExpired{OfferId: id})
	q.offered(w, c, by)
	w.offer = o
	q.offers[id] = o
	c.load++ // until the agent's next report says otherwise
	c.lastAssigned = q.host.Now().UnixMilli()
	q.lastRR = c.id
	q.m.offer(offerMade)
	q.host.Send(KindAgent, c.id, &messages.OfferChat{OfferId: id, Targeted: w.target == c.id, Offer: &messages.Offer{
		ChatId: w.chat.GetChatId(), Department: q.id, Language: w.chat.GetLanguage(),
		VisitorName: w.chat.GetVisitorName(), ExpiresAtMs: q.host.Now().Add(timeout).UnixMilli(), AssignedBy: by,
	}})
}

// revoke cancels w's outstanding offer, telling the agent.
func (q *queue) revoke(w *waiting, reason string) {
	o := w.offer
	if o == nil {
		return
	}
	o.stop()
	delete(q.offers, o.id)
	w.offer = nil
	if reason != reasonExpired {
		q.note(w, o.chatID, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REQUEUED, o.agent, func() string { return "the offer to " + o.agent + " was withdrawn: " + reason })
	}
	q.host.Send(KindAgent, o.agent, &messages.RevokeOffer{OfferId: o.id, ChatId: o.chatID, Reason: reason})
}

func (q *queue) offerReply(m *messages.OfferReply) {
	o := q.offers[m.GetOfferId()]
	if o == nil {
		// Expired or withdrawn before the answer came: make sure the agent
		// lets go of it.
		if m.GetAccepted() {
			q.host.Send(KindAgent, m.GetAgentId(), &messages.RevokeOffer{OfferId: m.GetOfferId(), ChatId: m.GetChatId(), Reason: "the offer had expired"})
		}
		return
	}
	o.stop()
	delete(q.offers, o.id)
	w := q.line.byChat[o.chatID]
	if w == nil {
		return
	}
	w.offer = nil
	if w.target == o.agent {
		w.target = "" // the colleague did not take it: anyone may
	}
	switch {
	case m.GetAccepted():
		q.m.offer(offerAccepted)
		if q.rec != nil {
			q.decide(w, o.chatID, &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED, AgentId: o.agent,
				By: o.by, Detail: o.agent + " accepted the offer"})
		}
		q.leave(w)
		q.host.Send(KindChat, o.chatID, &messages.AssignChat{ChatId: o.chatID, AgentId: o.agent, AgentName: q.nameOf(o.agent), OfferId: o.id, How: howFor(w), Trace: q.waited(o.chatID),
			AnswerTargetS: q.answerTargetS()})
		q.notifyPositions()
	case m.GetBusy():
		q.m.offer(offerDeclined) // the agent had no room for it
		q.note(w, o.chatID, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_BUSY, o.agent, func() string { return o.agent + " had no room for it when the offer arrived" })
		if c := q.roster[o.agent]; c != nil {
			c.hold = true
		}
		q.notAssigned(w, o)
	default:
		q.m.offer(offerDeclined)
		q.note(w, o.chatID, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_DECLINED, o.agent, func() string { return o.agent + " declined the offer" })
		q.host.statsOfferEnded(q.id, o.agent, true)
		w.declined[o.agent] = q.host.Now()
		q.notAssigned(w, o)
	}
	q.dispatch()
}

func (q *queue) nameOf(agent string) string {
	if c := q.roster[agent]; c != nil {
		return c.name
	}
	return agent
}

func (q *queue) expired(m *messages.OfferExpired) {
	o := q.offers[m.GetOfferId()]
	if o == nil {
		return
	}
	w := q.line.byChat[o.chatID]
	if w == nil {
		delete(q.offers, o.id)
		return
	}
	q.m.offer(offerExpired)
	q.note(w, o.chatID, messages.RoutingDecisionKind_ROUTING_DECISION_KIND_EXPIRED, o.agent, func() string { return o.agent + " let the offer expire" })
	q.host.statsOfferEnded(q.id, o.agent, false)
	q.revoke(w, reasonExpired)
	w.declined[o.agent] = q.host.Now()
	if w.target == o.agent {
		w.target = ""
	}
	q.notAssigned(w, o)
	q.dispatch()
}

// pick hands a waiting chat to the agent who picked it from the line,
// unless it left the line or is being offered, or they asked it (AskedBy).
func (q *queue) pick(m *messages.PickRequest) {
	w := q.line.byChat[m.GetChatId()]
	if w == nil || w.offer != nil {
		reason := "the chat is no longer waiting"
		if w != nil {
			reason = "the chat is being offered to someone else"
		}
		q.host.Send(KindAgent, m.GetAgentId(), &messages.PickRefused{ChatId: m.GetChatId(), OfferId: m.GetOfferId(), Reason: reason})
		return
	}
	if e := OwnQuestion(w.chat.GetVisitorId(), m.GetAgentId(), m.GetChatId()); e != nil {
		q.host.Send(KindAgent, m.GetAgentId(), &messages.PickRefused{ChatId: m.GetChatId(), OfferId: m.GetOfferId(), Reason: e.GetMessage(), Error: e})
		return
	}
	q.note(w, m.GetChatId(), messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED, m.GetAgentId(), func() string { return m.GetAgentId() + " picked the chat from the line" })
	q.leave(w)
	q.host.Send(KindChat, m.GetChatId(), &messages.AssignChat{ChatId: m.GetChatId(), AgentId: m.GetAgentId(), AgentName: m.GetAgentName(), OfferId: m.GetOfferId(), How: howFor(w), Trace: q.waited(m.GetChatId()),
		AnswerTargetS: q.answerTargetS()})
	q.notifyPositions()
	q.dispatch()
}
