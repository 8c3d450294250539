package actors

// Email from a chat: the visitor asks for the transcript (also once the
// chat is closed), staff in the chat write to the visitor (chats.email,
// checked by the agent actor). The chat renders the mail from its
// department's templates and hands it to the outbox, which acknowledges
// it once stored; once sent, the outbox has the chat record it
// (ChatEmailed: staff-only unless the visitor asked).

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// MaxTranscriptMails is how many times a visitor may have a chat's
// transcript sent: those in its log, and those asked for since its actor
// started.
const MaxTranscriptMails = 3

// emailTranscript: the visitor's own transcript, to the address they give.
func (c *chat) emailTranscript(ctx actor.Context, x cmd, m *messages.EmailTranscript) {
	if x.r != roleVisitor {
		x.fail(ctx, codeForbidden, "only the chat's visitor asks for its transcript; staff write with EmailFromChat")
		return
	}
	if e := CheckMailAddress("to", m.GetTo()); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	if c.transcriptMails >= MaxTranscriptMails {
		// A visitor's words sent to any address: not a mailing list.
		x.fail(ctx, messages.ErrorCode_ERROR_CODE_RATE_LIMITED, "the transcript of chat %s was sent %d times already", c.id, MaxTranscriptMails)
		return
	}
	c.transcriptMails++
	c.queueMail(ctx, x, PurposeTranscript, m.GetTo(), "", "", false)
}

// emailFromChat: staff in the chat write to the visitor (to empty: the
// address the visitor gave).
func (c *chat) emailFromChat(ctx actor.Context, x cmd, m *messages.EmailFromChat) {
	to := orElse(m.GetTo(), c.created.GetEmail())
	switch {
	case x.r == roleWatcher:
		x.fail(ctx, codeForbidden, "you watch chat %s invisibly: join visibly to write to the visitor", c.id)
		return
	case to == "":
		x.fail(ctx, codeInvalid, "the visitor left no email address: give one in to")
		return
	case m.GetSubject() == "" || m.GetText() == "":
		sendErr(ctx, x.GetConn(), x.GetRef(), refuse("text", codeInvalid, "subject and text are required"))
		return
	}
	for _, e := range []*messages.Error{CheckMailAddress("to", to), CheckText("subject", m.GetSubject(), MaxNameBytes),
		CheckText("text", m.GetText(), MaxOfflineTextBytes)} {
		if e != nil {
			sendErr(ctx, x.GetConn(), x.GetRef(), e)
			return
		}
	}
	c.queueMail(ctx, x, PurposeAgent, to, m.GetSubject(), m.GetText(), true)
}

// queueMail renders purpose's mail and hands it to the outbox, which
// answers the command.
func (c *chat) queueMail(ctx actor.Context, x cmd, purpose, to, subject, text string, internal bool) {
	mail, e := c.renderMail(purpose, x.who, subject, text)
	if e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	mail.To, mail.Purpose, mail.By, mail.ChatId, mail.Internal = to, purpose, x.who, c.id, internal
	c.b.Send(KindMail, "main", &messages.QueueMail{Mail: mail, Conn: x.GetConn(), Ref: x.GetRef()})
}

func (c *chat) renderMail(purpose string, by *messages.Participant, subject, text string) (*messages.OutboxMail, *messages.Error) {
	settings, err := c.b.store.EmailSettings()
	dept, err2 := c.b.store.Department(c.sum.GetDepartment())
	transcript, err3 := c.transcriptText(dept.GetTimeZone())
	if err = errors.Join(err, err2, err3); err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "cannot read the chat's email settings now; try again")
	}
	agent := c.sum.GetAgentName()
	if by.GetKind() == kindAgent {
		agent = by.GetDisplayName()
	}
	vars := map[string]string{"visitor.name": c.created.GetVisitorName(), "visitor.email": c.created.GetEmail(), "agent.name": agent,
		"department.name": orElse(dept.GetName(), c.sum.GetDepartment()), "chat.transcript": transcript, "message": text, "subject": subject}
	s, t, h, rerr := renderMail(settings, c.sum.GetDepartment(), purpose, vars)
	if rerr != nil {
		return nil, errorf(codeInvalid, "the %s email template does not work: %v", purpose, rerr)
	}
	return &messages.OutboxMail{Subject: s, Text: t, Html: h}, nil
}

// transcriptText is what the visitor saw of the chat, one line a message:
// the stored events, then those still on their way to the store.
func (c *chat) transcriptText(tz string) (string, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	var b strings.Builder
	var read uint64
	line := func(ev *messages.ChatEvent) {
		read = ev.GetSeq()
		if m := ev.GetMessage(); m != nil && !ev.GetInternal() {
			at := time.UnixMilli(ev.GetAtMs()).In(loc).Format("2006-01-02 15:04")
			fmt.Fprintf(&b, "[%s] %s: %s\n", at, orElse(m.GetFrom().GetDisplayName(), kindWord(m.GetFrom().GetKind())), m.GetText())
		}
	}
	err = c.b.store.EachChatEvent(c.id, 0, func(ev *messages.ChatEvent) error {
		line(ev)
		return nil
	})
	for seq := read + 1; err == nil && seq <= c.last && seq > c.base; seq++ {
		line(c.event(seq))
	}
	return b.String(), err
}

// recordEmailed writes that the outbox sent a mail about this chat.
func (c *chat) recordEmailed(m *messages.RecordEmailed) {
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Emailed{Emailed: m.GetEmailed()}, Internal: m.GetInternal()}})
}
