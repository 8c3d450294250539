package actors

// Reopening a closed chat: the same chat, transcript and sequence, routed
// again. Staff reopen a chat they may see (with chats.reopen, checked by
// their agent actor or the gateway, and again here); a visitor continues
// their own last chat. The chat waits in its department's line in its
// ticket's place, offered first to the agent who last had it.

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// reopen writes the reopened event. Once it is stored, the visitor's
// actor has the chat again (and replays it to the visitor's sockets), the
// department's queue has it back, and the sender gets the ack last.
func (c *chat) reopen(ctx actor.Context, x cmd) {
	if e := c.reopenError(x); e != nil {
		c.refuse(ctx, x.ChatCommand, e)
		return
	}
	prefer := c.sum.GetAgentId()
	var audit *messages.AuditEntry
	if x.r != roleVisitor {
		detail := "reopened; offered first to " + prefer
		if prefer == "" {
			detail = "reopened; to the department's line"
		}
		audit = auditOf(x.ChatCommand, "chat.reopen", detail)
	}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Reopened{Reopened: &messages.ChatReopened{By: x.who, PreferAgent: prefer}}}},
		c.audit(audit), c.visitorJoined(), c.backToQueue(), c.answerReopen(x.ChatCommand))
}

// answerReopen acks the reopen once stored; if it could not be, the
// refusal goes where a refusal before the write goes (refuse): to a
// visitor's actor, which waits for the chat's answer as for a new chat.
func (c *chat) answerReopen(m *messages.ChatCommand) step {
	s := c.answered(m)
	s.failed = func(ctx actor.Context, e *messages.Error) { c.refuse(ctx, m, e) }
	return s
}

// reopenError is why the sender may not reopen the chat now, if so: it
// must be closed, staff must hold chats.reopen and may see it (its last
// agent may), and its department must exist and take chats.
func (c *chat) reopenError(x cmd) *messages.Error {
	staff := x.GetFrom().GetKind() == kindAgent
	switch {
	case c.sum.GetState() != stateClosed:
		return errorf(codeConflict, "chat %s is open", c.id)
	case staff && !permsOf(&messages.Role{Permissions: x.GetPerms()}).Has(PermReopen):
		return errorf(codeForbidden, "your role does not allow this (%s)", PermReopen)
	case staff && x.r != roleOwner && !c.mayView(x.ChatCommand):
		return errorf(codeForbidden, "you may not see chat %s", c.id)
	}
	return c.queueOpen(c.sum.GetDepartment())
}
