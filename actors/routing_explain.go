package actors

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Why a chat went where it went, or waits: each candidate the queue
// considered, with the first rule that passed them over (the rules are
// the dispatcher's: routing.go, queue_offers.go; this only names them).

// maxExplained bounds the candidates a decision lists (the chosen one
// first, then the others in id order).
const maxExplained = 32

// skipOf is why c could not be offered w's chat at now, by the same rules
// as choose (ROUTING_SKIP_CHOSEN: it could be).
func (q *queue) skipOf(c *candidate, w *waiting, now time.Time) messages.RoutingSkip {
	switch {
	case AskedBy(w.chat.GetVisitorId(), c.id):
		return messages.RoutingSkip_ROUTING_SKIP_OWN_QUESTION
	case c.status == messages.AgentStatus_AGENT_STATUS_DRAINING:
		return messages.RoutingSkip_ROUTING_SKIP_DRAINING
	case c.status != statusAvailable:
		return messages.RoutingSkip_ROUTING_SKIP_AWAY
	case !c.connected:
		return messages.RoutingSkip_ROUTING_SKIP_NOT_CONNECTED
	case c.load >= c.max || c.hold:
		return messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT
	case !slices.Contains(c.languages, w.chat.GetLanguage()):
		return messages.RoutingSkip_ROUTING_SKIP_LANGUAGE
	case w.offer != nil || q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_MANUAL:
		return messages.RoutingSkip_ROUTING_SKIP_MANUAL
	case w.cooling(c.id, now):
		return messages.RoutingSkip_ROUTING_SKIP_COOLING
	}
	return messages.RoutingSkip_ROUTING_SKIP_CHOSEN
}

// explain lists the roster for w: chosen first (if any), then everyone
// else with why they were passed over; an agent the rules would have
// taken but chosen came first is NOT_TURN (round-robin) or MORE_LOADED
// (least-loaded). With chosen nil it is why w waits.
func (q *queue) explain(w *waiting, chosen *candidate, now time.Time) (cs []*messages.RoutingCandidate, omitted uint32) {
	all := q.candidates()
	slab := make([]messages.RoutingCandidate, min(len(all), maxExplained)) // one allocation for them all
	cs = make([]*messages.RoutingCandidate, 0, len(slab))
	add := func(c *candidate, why messages.RoutingSkip, until time.Time) {
		rc := &slab[len(cs)]
		fillCandidate(rc, c, why, until)
		cs = append(cs, rc)
	}
	if chosen != nil {
		add(chosen, messages.RoutingSkip_ROUTING_SKIP_CHOSEN, time.Time{})
	}
	passed := messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED
	switch {
	case chosen != nil && w.target == chosen.id:
		passed = messages.RoutingSkip_ROUTING_SKIP_TRANSFER_TARGET
	case q.dept.GetPolicy() == messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN:
		passed = messages.RoutingSkip_ROUTING_SKIP_NOT_TURN
	}
	for _, c := range all {
		if c == chosen {
			continue
		}
		if len(cs) >= len(slab) {
			omitted++
			continue
		}
		why, until := q.skipOf(c, w, now), time.Time{}
		switch {
		case why == messages.RoutingSkip_ROUTING_SKIP_CHOSEN:
			why = passed
		case why == messages.RoutingSkip_ROUTING_SKIP_COOLING:
			until = w.cooledAt(c.id)
		}
		add(c, why, until)
	}
	return cs, omitted
}

func fillCandidate(rc *messages.RoutingCandidate, c *candidate, why messages.RoutingSkip, until time.Time) {
	rc.AgentId, rc.Reason, rc.Status, rc.Connected, rc.Load, rc.MaxChats = c.id, why, c.status, c.connected, c.load, c.max
	if !until.IsZero() {
		rc.UntilMs = until.UnixMilli()
	}
}

// waitingDecision is why w waits now (a WAITING decision, not stored).
func (q *queue) waitingDecision(w *waiting, now time.Time) *messages.RoutingDecision {
	d := &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_WAITING, AtMs: now.UnixMilli(),
		ChatId: w.chat.GetChatId(), Department: q.id, Policy: policyName(q.dept.GetPolicy()), SettingsVersion: q.version,
		Position: q.line.position(w), LineLength: uint32(len(q.line.waiting))}
	d.Candidates, d.CandidatesOmitted = q.explain(w, nil, now)
	if w.offer != nil {
		d.AgentId = w.offer.agent
		d.Detail = fmt.Sprintf("offered to %s, waiting for their answer", w.offer.agent)
	} else {
		d.Detail = waitingWords(d)
	}
	return d
}

// explainWaiting answers RoutingExplain: why the chat waits now, or nil
// when it does not wait here.
func (q *queue) explainWaiting(chatID string) *messages.RoutingDecision {
	w := q.line.byChat[chatID]
	if w == nil || q.dept == nil {
		return nil
	}
	return q.waitingDecision(w, q.host.Now())
}

// waitingWords says in words why nobody was offered the chat.
func waitingWords(d *messages.RoutingDecision) string {
	if d.GetPolicy() == "manual" {
		return "the department routes by hand: an agent picks the chat from the line"
	}
	if len(d.GetCandidates()) == 0 {
		return "no agent of the department has signed in since the broker started"
	}
	counts := map[messages.RoutingSkip]int{}
	for _, c := range d.GetCandidates() {
		counts[c.GetReason()]++
	}
	s := ""
	for _, r := range []messages.RoutingSkip{messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, messages.RoutingSkip_ROUTING_SKIP_AWAY,
		messages.RoutingSkip_ROUTING_SKIP_DRAINING, messages.RoutingSkip_ROUTING_SKIP_NOT_CONNECTED, messages.RoutingSkip_ROUTING_SKIP_LANGUAGE,
		messages.RoutingSkip_ROUTING_SKIP_COOLING, messages.RoutingSkip_ROUTING_SKIP_OWN_QUESTION} {
		if n := counts[r]; n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", n, skipWords[r])
		}
	}
	if s == "" {
		return "an agent is free: the chat is offered on the next routing pass"
	}
	return "nobody can take it now: " + s
}

var skipWords = map[messages.RoutingSkip]string{
	messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT:        "at their limit",
	messages.RoutingSkip_ROUTING_SKIP_AWAY:            "away or offline",
	messages.RoutingSkip_ROUTING_SKIP_DRAINING:        "ending their shift",
	messages.RoutingSkip_ROUTING_SKIP_NOT_CONNECTED:   "not connected",
	messages.RoutingSkip_ROUTING_SKIP_LANGUAGE:        "not speaking the chat's language",
	messages.RoutingSkip_ROUTING_SKIP_COOLING:         "declined it a moment ago",
	messages.RoutingSkip_ROUTING_SKIP_OWN_QUESTION:    "asking it themselves",
	messages.RoutingSkip_ROUTING_SKIP_NOT_MEMBER:      "not in the department",
	messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED:     "more loaded",
	messages.RoutingSkip_ROUTING_SKIP_NOT_TURN:        "not their turn",
	messages.RoutingSkip_ROUTING_SKIP_MANUAL:          "routing by hand",
	messages.RoutingSkip_ROUTING_SKIP_CHOSEN:          "chosen",
	messages.RoutingSkip_ROUTING_SKIP_TRANSFER_TARGET: "after the colleague it was transferred to",
}

// whySignature identifies a WAITING explanation's reasons, so a chat's
// story records a wait again only when its reasons changed.
func whySignature(d *messages.RoutingDecision) uint64 {
	h := fnv.New64a()
	for _, c := range d.GetCandidates() {
		h.Write([]byte(c.GetAgentId()))
		h.Write([]byte{byte(c.GetReason())})
	}
	return h.Sum64()
}

// The decisions the dispatcher records (only while a journal entry is
// being built: explaining costs a pass over the roster).

// queued records that w joined the line, with why nobody was offered it
// at once if nobody is.
func (q *queue) queued(w *waiting, how string) {
	if q.rec == nil || w == nil {
		return
	}
	q.decide(w, w.chat.GetChatId(), &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_QUEUED,
		AgentId: w.target, Detail: how})
}

// offered records an offer of w to c (by: the supervisor who chose c).
func (q *queue) offered(w *waiting, c *candidate, by string) {
	if q.rec == nil {
		return
	}
	d := &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED, AgentId: c.id, By: by}
	d.Candidates, d.CandidatesOmitted = q.explain(w, c, q.host.Now())
	switch {
	case by != "":
		d.Detail = by + " assigned the chat to " + c.id
	case w.target == c.id:
		d.Detail = "transferred to " + c.id + " by name"
	default:
		d.Detail = fmt.Sprintf("offered to %s (%s): %d of %d chats", c.id, policyName(q.dept.GetPolicy()), c.load, c.max)
	}
	q.decide(w, w.chat.GetChatId(), d)
}

// waitExplained is how often a waiting chat's reasons are looked at again
// (a dispatch pass runs on every agent report: explaining each waiting
// chat each time would cost the line times the roster).
const waitExplained = time.Second

// stillWaiting records why nobody could be offered w, when the reasons
// changed since the last time they were looked at.
func (q *queue) stillWaiting(w *waiting, now time.Time) {
	if q.rec == nil || (!w.whyAt.IsZero() && now.Sub(w.whyAt) < waitExplained) {
		return
	}
	w.whyAt = now
	d := q.waitingDecision(w, now)
	if sig := whySignature(d); sig != w.whySig {
		w.whySig = sig
		q.decide(w, w.chat.GetChatId(), d)
	}
}

// nobodyFree records, for each chat in line whose wait was never
// explained, why it waits when nobody at all can take a chat (the
// dispatch pass stops there).
func (q *queue) nobodyFree(now time.Time) {
	if q.rec == nil {
		return
	}
	for _, w := range q.line.waiting {
		if w.whyAt.IsZero() && w.offer == nil {
			q.stillWaiting(w, now)
		}
	}
}

// targetPassed records that w, transferred to a colleague by name (c:
// their roster entry, nil when they are no member of the department),
// goes to anyone instead: the colleague cannot take it now.
func (q *queue) targetPassed(w *waiting, c *candidate) {
	if q.rec == nil {
		return
	}
	d := &messages.RoutingDecision{Kind: messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REQUEUED, AgentId: w.target}
	rc := &messages.RoutingCandidate{AgentId: w.target, Reason: messages.RoutingSkip_ROUTING_SKIP_NOT_MEMBER}
	if c != nil {
		fillCandidate(rc, c, q.skipOf(c, w, q.host.Now()), time.Time{})
	}
	d.Candidates = []*messages.RoutingCandidate{rc}
	d.Detail = "transferred to " + w.target + " by name, who cannot take it now (" + skipWords[rc.GetReason()] + "): offered to anyone"
	q.decide(w, w.chat.GetChatId(), d)
}
