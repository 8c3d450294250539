package actors

// The guard: every check of the chat's condition (broken, missing, in the
// wrong state) and of who may send what, made once before a handler runs.
// What it refuses it answers here; the handlers check only their own
// command's rules.

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// admit says whether the chat takes msg now, answering what it refuses.
func (c *chat) admit(ctx actor.Context, msg interface{}) bool {
	switch m := msg.(type) {
	case *messages.StartChat:
		if c.broken {
			c.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: c.id, Conn: m.GetConn(), Ref: m.GetRef()})
			c.b.Send(KindQueue, m.GetRequest().GetDepartment(), &messages.Withdraw{ChatId: c.id})
			return false
		}
		return !c.exists // a duplicate start: the first one answered
	case *messages.ChatCommand:
		return c.admitCommand(ctx, m)
	case *messages.AssignChat:
		if !c.isIn(stateQueued) {
			c.b.Send(KindAgent, m.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetAgentId(), OfferId: m.GetOfferId(), Ok: false})
			return false
		}
		if e := OwnQuestion(c.created.GetVisitorId(), m.GetAgentId(), c.id); e != nil {
			// The queue let it go: it waits there again, for anyone else.
			c.b.Send(KindAgent, m.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetAgentId(), OfferId: m.GetOfferId(), Error: e})
			c.waitAgainIfFailed().failed(ctx, e)
			return false
		}
	case *messages.Handback:
		// Otherwise it moved on meanwhile.
		return c.isIn(stateActive) && c.sum.GetAgentId() == m.GetAgentId()
	case *messages.Abandon:
		return c.isIn(stateQueued) && c.created.GetVisitorId() == m.GetVisitorId()
	case *messages.RecordEmailed:
		return c.exists && !c.broken
	case *messages.RecordDelivered:
		if !c.exists || c.broken {
			sendErr(ctx, m.GetConn(), 0, errorf(codeNotFound, "no chat %s", c.id))
			return false
		}
	case *messages.AgentRenamed:
		return c.isIn(stateActive) && c.sum.GetAgentId() == m.GetAgentId() && c.sum.GetAgentName() != m.GetDisplayName()
	}
	return true
}

// commandRule is what a participant's command asks of its sender and of
// the chat.
type commandRule struct {
	known     bool // the chat handles it
	outsiders bool // staff may send it about a chat they are not in (join, take over)
	staff     bool // only staff send it
	open      bool // refused once the chat is closed
	visitors  bool // with outsiders: the chat's visitor may send it too
}

func ruleOf(m *messages.ChatCommand) commandRule {
	switch m.GetBody().(type) {
	case *messages.ChatCommand_Send, *messages.ChatCommand_AttachFile:
		return commandRule{known: true, open: true}
	case *messages.ChatCommand_Close, *messages.ChatCommand_SetStatus, *messages.ChatCommand_Typing, *messages.ChatCommand_Rate,
		*messages.ChatCommand_EmailTranscript:
		return commandRule{known: true}
	case *messages.ChatCommand_Tag:
		return commandRule{known: true, outsiders: true, staff: true}
	case *messages.ChatCommand_EmailFromChat:
		return commandRule{known: true, staff: true}
	case *messages.ChatCommand_Transfer, *messages.ChatCommand_Invite, *messages.ChatCommand_Leave, *messages.ChatCommand_DeclineInvite:
		return commandRule{known: true, staff: true, open: true}
	case *messages.ChatCommand_Join, *messages.ChatCommand_TakeOver:
		return commandRule{known: true, outsiders: true, staff: true, open: true}
	case *messages.ChatCommand_Reopen:
		return commandRule{known: true, outsiders: true, visitors: true}
	}
	return commandRule{}
}

// admitCommand checks a participant's command: the chat can be written and
// exists, the sender is in it (or may act on it from outside), and the
// command suits the sender and the chat's state.
func (c *chat) admitCommand(ctx actor.Context, m *messages.ChatCommand) bool {
	var e *messages.Error
	unknown := false
	switch {
	case c.broken:
		e = c.unavailable()
	case !c.exists:
		e = errorf(codeNotFound, "no chat %s", c.id)
	default:
		e, unknown = c.senderError(m)
	}
	switch {
	case unknown:
		// Answered as it is, not as a refused take-over (see refuse).
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
	case e != nil:
		c.refuse(ctx, m, e)
	}
	return e == nil
}

// senderError is why the sender may not send m to this chat now, if so;
// unknown when m is not a command for this sender at all.
func (c *chat) senderError(m *messages.ChatCommand) (e *messages.Error, unknown bool) {
	from, rule := m.GetFrom(), ruleOf(m)
	r := c.roleOf(from)
	if from.GetKind() == kindAgent {
		if e := OwnQuestion(c.created.GetVisitorId(), from.GetId(), c.id); e != nil {
			return e, false
		}
	}
	switch {
	case rule.outsiders && from.GetKind() == kindAgent:
	case r == roleNone || r == roleInvited && m.GetDeclineInvite() == nil:
		// Another visitor's chat looks the same as no chat at all.
		if from.GetKind() == kindVisitor {
			return errorf(codeNotFound, "no chat %s", c.id), false
		}
		return errorf(codeForbidden, "you are not in chat %s", c.id), false
	case !rule.known || rule.outsiders && !rule.visitors:
		return errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown chat command"), true
	case rule.staff && r == roleVisitor:
		return errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "visitors cannot send this"), false
	}
	if rule.open && c.sum.GetState() == stateClosed {
		return errorf(codeConflict, "chat %s is closed", c.id), false
	}
	return nil, false
}

// refuse answers a command that had no effect; a take-over also frees the
// slot its agent reserved, and a visitor's reopen goes back through their
// actor, which waits for it before it lets them start another chat.
func (c *chat) refuse(ctx actor.Context, m *messages.ChatCommand, e *messages.Error) {
	if m.GetReopen() != nil && m.GetFrom().GetKind() == kindVisitor {
		c.b.Send(KindVisitor, m.GetFrom().GetId(), &messages.StartRefused{ChatId: c.id, Conn: m.GetConn(), Ref: m.GetRef(), Error: e})
		return
	}
	if m.GetTakeOver() != nil {
		c.b.Send(KindAgent, m.GetFrom().GetId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetFrom().GetId(), OfferId: m.GetReservation(), Error: e})
		return
	}
	sendErr(ctx, m.GetConn(), m.GetRef(), e)
}

func (c *chat) unavailable() *messages.Error {
	return messages.TemporaryErrorf(codeUnavailable, "chat %s cannot be written now; try again", c.id)
}
