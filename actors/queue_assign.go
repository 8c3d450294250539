package actors

// A supervisor's assignment: a waiting chat offered first to a chosen
// agent. The queue is the one owner of its waiting chats, so an
// assignment, an agent's pick and the routing's own offers are decided
// here one after the other: exactly one of them gets the chat. The chat
// never leaves the line for the assignment: if the agent declines, is
// busy, or lets the offer expire, it goes to the head of the line (as the
// issue asks: the supervisor meant it to be served now) and is routed as
// before.

import (
	"slices"

	"github.com/switchboard-chat/switchboard/messages"
)

// reasonAssigned is why an offer to someone else is withdrawn when a
// supervisor assigns the chat.
const reasonAssigned = "a supervisor assigned the chat to a colleague"

// supervisorAssign offers a waiting chat to the agent the supervisor
// chose, withdrawing an offer to anyone else, or answers why not.
func (q *queue) supervisorAssign(m *messages.SupervisorAssign) {
	w := q.line.byChat[m.GetChatId()]
	c := q.roster[m.GetAgentId()]
	if e := q.assignError(w, c, m); e != nil {
		q.host.Reply(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_Error{Error: e}})
		return
	}
	if w.offer != nil {
		q.m.offer(offerWithdrawn)
		q.revoke(w, reasonAssigned)
	}
	q.offerTo(w, c, m.GetByName())
	q.host.Audit(&messages.AuditEntry{Kind: "chat.assign", Actor: m.GetById(), Address: m.GetAddress(), Subject: m.GetChatId(),
		Detail: "offered to " + c.id + " in department " + q.id, Ok: true})
	q.host.Reply(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_Ack{Ack: &messages.Ack{ChatId: m.GetChatId()}}})
}

// assignError is why the chat cannot be offered to c now, if so: it must
// be waiting here, and c must be an agent of this department who speaks
// its language and can take a chat now (as far as their last report
// says: their actor has the last word, and a busy answer leaves the chat
// in line).
func (q *queue) assignError(w *waiting, c *candidate, m *messages.SupervisorAssign) *messages.Error {
	switch {
	case q.dept == nil:
		return errorf(codeNotFound, "no department %q", q.id)
	case w == nil:
		return errorf(codeConflict, "chat %s is not waiting in department %q (it was taken, or it ended)", m.GetChatId(), q.id)
	case c == nil:
		return messages.FieldErrorf(codeConflict, "agent_id", "%s takes no chats in department %q", m.GetAgentId(), q.id)
	case OwnQuestion(w.chat.GetVisitorId(), c.id, m.GetChatId()) != nil:
		return OwnQuestion(w.chat.GetVisitorId(), c.id, m.GetChatId())
	case w.offer != nil && w.offer.agent == c.id:
		return errorf(codeConflict, "chat %s is already offered to %s", m.GetChatId(), c.id)
	case !slices.Contains(c.languages, w.chat.GetLanguage()):
		return messages.FieldErrorf(codeConflict, "agent_id", "%s does not speak %q", c.id, w.chat.GetLanguage())
	}
	if why := c.busy(); why != "" {
		return messages.FieldErrorf(codeConflict, "agent_id", "%s cannot take a chat now: %s", c.id, why)
	}
	return nil
}

// busy is why c cannot be offered a chat now, or "" (free says whether;
// constant words, so dispatch's many calls allocate nothing).
func (c *candidate) busy() string {
	switch {
	case c.status != statusAvailable:
		return "not available"
	case !c.connected:
		return "not connected"
	case c.load >= c.max || c.hold:
		return "at their limit of chats"

	}
	return ""
}

// notAssigned: an assigned chat the agent did not take goes to the head
// of the line, and the visitors whose place changed are told.
func (q *queue) notAssigned(w *waiting, o *offer) {
	if !o.assigned {
		return
	}
	q.note(w, w.chat.GetChatId(), messages.RoutingDecisionKind_ROUTING_DECISION_KIND_REQUEUED, o.agent, func() string {
		return "a supervisor's assignment was not taken: back to the head of the line"
	})
	if q.line.toHead(w) {
		q.notifyPositions()
	}
}
