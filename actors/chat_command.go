package actors

// A participant's command to the chat, once the guard admitted it: the
// dispatch by body, and what the visitor and staff both do (write, close,
// set the work status, type).

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// cmd is an admitted command with what its sender is to the chat and how
// they show in the transcript.
type cmd struct {
	*messages.ChatCommand
	r   role
	who *messages.Participant
}

func (c *chat) command(ctx actor.Context, m *messages.ChatCommand) {
	r := c.roleOf(m.GetFrom())
	x := cmd{ChatCommand: m, r: r, who: c.participant(m.GetFrom(), r)}
	switch body := m.GetBody().(type) {
	case *messages.ChatCommand_Send:
		c.send(ctx, x, body.Send)
	case *messages.ChatCommand_Close:
		c.close(ctx, x)
	case *messages.ChatCommand_SetStatus:
		c.setStatus(ctx, x, body.SetStatus.GetStatus())
	case *messages.ChatCommand_Typing:
		c.typing(x, body.Typing.GetTyping())
	case *messages.ChatCommand_Transfer:
		c.transfer(ctx, x, body.Transfer)
	case *messages.ChatCommand_Invite:
		c.invite(ctx, x, body.Invite.GetAgentId())
	case *messages.ChatCommand_DeclineInvite:
		c.decline(ctx, x)
	case *messages.ChatCommand_Join:
		c.join(ctx, x, body.Join.GetInvisible())
	case *messages.ChatCommand_Leave:
		c.leave(ctx, x)
	case *messages.ChatCommand_TakeOver:
		c.takeOver(ctx, x)
	case *messages.ChatCommand_Tag:
		c.tag(ctx, x, body.Tag)
	case *messages.ChatCommand_Rate:
		c.rate(ctx, x, body.Rate)
	case *messages.ChatCommand_Reopen:
		c.reopen(ctx, x)
	case *messages.ChatCommand_AttachFile:
		c.attach(ctx, x, body.AttachFile)
	case *messages.ChatCommand_EmailTranscript:
		c.emailTranscript(ctx, x, body.EmailTranscript)
	case *messages.ChatCommand_EmailFromChat:
		c.emailFromChat(ctx, x, body.EmailFromChat)
	}
}

// fail answers a command that had no effect with an error.
func (x cmd) fail(ctx actor.Context, code messages.ErrorCode, format string, args ...any) {
	sendErr(ctx, x.GetConn(), x.GetRef(), errorf(code, format, args...))
}

// ackNow answers a command that had nothing to change.
func (x cmd) ackNow(ctx actor.Context, chatID string) {
	sendAck(ctx, x.GetConn(), x.GetRef(), &messages.Ack{ChatId: chatID})
}

// send writes a message. A resent one (same client message id) is answered
// with the first one's ack, not written again.
func (c *chat) send(ctx actor.Context, x cmd, s *messages.SendMessage) {
	text, e := c.sendText(x, s)
	if e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	if cid := s.GetClientMsgId(); cid != "" && c.resent(ctx, x.ChatCommand, x.who, cid) {
		return
	}
	if e := c.sendLimit(x, s, text); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	c.writeMessage(x, s, text)
}

// sendText is the text a send writes, or why it may not: who may whisper
// or write to the visitor, what a template is, and how much text there is.
// A template with no text of its own writes the template's.
func (c *chat) sendText(x cmd, s *messages.SendMessage) (string, *messages.Error) {
	text, t := s.GetText(), s.GetTemplate()
	switch {
	case s.GetWhisper() && x.r == roleVisitor:
		return "", errorf(codeForbidden, "only staff whisper")
	case !s.GetWhisper() && x.r == roleWatcher:
		return "", errorf(codeForbidden, "you watch chat %s invisibly: whisper, or join visibly to write to the visitor", c.id)
	case t != nil && (x.r == roleVisitor || s.GetWhisper()):
		return "", errorf(codeInvalid, "a template message is staff's message to the visitor, not a whisper")
	case t != nil && checkTemplate(t) != nil:
		return "", checkTemplate(t)
	case t != nil && text == "":
		text = templateText(t)
	case text == "":
		return "", errorf(codeInvalid, "text is empty")
	case len(s.GetClientMsgId()) > MaxClientMsgIDBytes:
		return "", errorf(codeTooLarge, "client_msg_id is longer than %d bytes", MaxClientMsgIDBytes)
	}
	if e := CheckText("text", text, MaxMessageBytes); e != nil {
		return "", e
	}
	return text, nil
}

// sendLimit is why the chat takes no more of this: staff's free text past
// the channel's reply window, or a visitor past what one chat holds of theirs.
func (c *chat) sendLimit(x cmd, s *messages.SendMessage, text string) *messages.Error {
	if x.r != roleVisitor && !s.GetWhisper() && s.GetTemplate() == nil {
		if e := c.replyWindowError(); e != nil {
			return e
		}
	}
	if x.r == roleVisitor && c.visitorSent+visitorCost(text) > MaxVisitorBytes {
		return errorf(codeTooLarge, "this chat holds what a visitor may write in one chat (%d KiB); start a new chat", MaxVisitorBytes>>10)
	}
	return nil
}

// writeMessage writes the checked message as the chat's next, a whisper
// audited and staff-only, anything else also the visitor's next.
func (c *chat) writeMessage(x cmd, s *messages.SendMessage, text string) {
	seq := c.last + 1
	a := &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: s.GetClientMsgId()}
	var audit *messages.AuditEntry
	if s.GetWhisper() {
		audit = auditOf(x.ChatCommand, "chat.whisper", fmt.Sprintf("seq %d", seq))
	} else {
		a.VisitorSeq = c.vlast + 1
	}
	msg := &messages.ChatMessage{From: x.who, Text: text, ClientMsgId: s.GetClientMsgId(), Template: s.GetTemplate()}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Message{Message: msg}, Internal: s.GetWhisper()}},
		c.audit(audit), ack(x.GetConn(), x.GetRef(), a))
	c.traceWrite(x.GetTrace())
	c.timeWrite(x.GetReadUnixNano())
}

// close ends the chat, by its visitor or its agent. Everyone in it hears
// so, a waiting chat leaves its queue, and the closer gets the ack last.
func (c *chat) close(ctx actor.Context, x cmd) {
	switch {
	case x.r != roleVisitor && x.r != roleOwner:
		x.fail(ctx, codeForbidden, "only the chat's agent or visitor closes it; leave it instead")
		return
	case c.sum.GetState() == stateClosed:
		x.ackNow(ctx, c.id)
		return
	}
	if x.r == roleOwner {
		if e := c.untaggedClose(); e != nil {
			sendErr(ctx, x.GetConn(), x.GetRef(), e)
			return
		}
	}
	c.closeAs(x.who, "closed by "+kindWord(x.who.GetKind()), c.answered(x.ChatCommand))
}

// closeAs writes the chat's close by who, then tells everyone.
func (c *chat) closeAs(who *messages.Participant, reason string, answer step) {
	waited := c.sum.GetState() == stateQueued
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: who, Reason: reason}}}},
		c.everyoneLeft(), c.withdrawIf(waited), c.linger(), c.monitors(false), answer)
}

func kindWord(k messages.ParticipantKind) string {
	if k == kindAgent {
		return "agent"
	}
	return "visitor"
}

// setStatus changes the chat's work status, by its agent.
func (c *chat) setStatus(ctx actor.Context, x cmd, st messages.WorkStatus) {
	switch {
	case x.r != roleOwner:
		x.fail(ctx, codeForbidden, "only the chat's agent changes its status")
		return
	case c.sum.GetState() != stateActive:
		x.fail(ctx, codeConflict, "chat %s is not active", c.id)
		return
	case messages.WorkStatus_name[int32(st)] == "":
		x.fail(ctx, codeInvalid, "unknown status %d", st)
		return
	case st == c.sum.GetWorkStatus():
		x.ackNow(ctx, c.id)
		return
	}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_StatusChanged{StatusChanged: &messages.ChatStatusChanged{Status: st, By: x.who}}}},
		c.audit(auditOf(x.ChatCommand, "chat.status", st.String())), c.answered(x.ChatCommand))
}

// typing passes a typing notice on at once, unstored: to the visitor if
// staff type, and to the other staff. Watchers do not show.
func (c *chat) typing(x cmd, typing bool) {
	if c.sum.GetState() != stateActive || x.r == roleWatcher {
		return
	}
	notice := &messages.Envelope{Body: &messages.Envelope_TypingNotice{TypingNotice: &messages.TypingNotice{ChatId: c.id, From: x.who, Typing: typing}}}
	if x.r != roleVisitor {
		c.b.Send(KindVisitor, c.created.GetVisitorId(), notice)
	}
	for _, id := range c.staff() {
		if id != x.GetFrom().GetId() {
			c.b.Send(KindAgent, id, notice)
		}
	}
}
