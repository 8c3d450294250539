package actors

// Offline messages: what a visitor leaves for a department that cannot
// take their chat (closed, outside its hours, its line full, or nobody
// available), kept by the outbox actor under om/, listed for the
// department's staff, and answered by email (the answer and the mark
// "answered" in one write).

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// MaxOfflineTextBytes bounds an offline message's text.
const MaxOfflineTextBytes = 8 << 10

// offerOffline are the refusals after which a department that takes
// offline messages offers the form.
var offerOffline = map[messages.RefusalReason]bool{
	messages.RefusalReason_REFUSAL_REASON_DEPARTMENT_CLOSED:      true,
	messages.RefusalReason_REFUSAL_REASON_OUTSIDE_BUSINESS_HOURS: true,
	messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL:             true,
	messages.RefusalReason_REFUSAL_REASON_NOBODY_AVAILABLE:       true,
}

// CheckOfflineMessage checks what a visitor left: a department id, a
// name, an email address and a text.
func CheckOfflineMessage(x *messages.LeaveOfflineMessage) *messages.Error {
	switch {
	case !ValidName(x.GetDepartment()):
		return refuse("department", codeInvalid, "department must be 1-64 of a-z 0-9 - _ .")
	case x.GetName() == "":
		return refuse("name", codeInvalid, "name is required")
	case x.GetText() == "":
		return refuse("text", codeInvalid, "text is required")
	case len(x.GetLanguage()) > 16:
		return refuse("language", codeInvalid, "language must be a language code such as en")
	}
	if e := CheckText("name", x.GetName(), MaxNameBytes); e != nil {
		return refuse("name", e.GetCode(), "%s", e.GetMessage())
	}
	if e := CheckText("text", x.GetText(), MaxOfflineTextBytes); e != nil {
		return refuse("text", e.GetCode(), "%s", e.GetMessage())
	}
	return CheckMailAddress("email", x.GetEmail())
}

// leave stores a visitor's offline message for a department that takes
// them, then acknowledges it.
func (o *outbox) leave(ctx actor.Context, m *messages.OfflineLeft) {
	x := m.GetMessage()
	d, err := o.b.store.Department(x.GetDepartment())
	switch {
	case err != nil:
		sendErr(ctx, m.GetConn(), m.GetRef(), messages.TemporaryErrorf(codeUnavailable, "cannot read departments now; try again"))
		return
	case d == nil || !d.GetOfflineMessages():
		sendErr(ctx, m.GetConn(), m.GetRef(), refuse("department", codeInvalid, "%s takes no offline messages", x.GetDepartment()))
		return
	}
	now := o.b.clock.Now()
	x.Id, x.AtMs = o.b.newID('n', now), now.UnixMilli()
	o.write(nil, nil, []*messages.OfflineMessage{x}, func(ctx actor.Context, e *messages.Error) {
		if e != nil {
			sendErr(ctx, m.GetConn(), m.GetRef(), e)
			return
		}
		o.index(x)
		o.b.Audit(&messages.AuditEntry{Kind: "offline.left", Actor: x.GetVisitorId(), Subject: x.GetDepartment(), Detail: x.GetId(), Ok: true})
		sendAck(ctx, m.GetConn(), m.GetRef(), &messages.Ack{})
	})
}

// answer writes the email that answers an offline message and marks it
// answered, in one write; the reply names the mail.
func (o *outbox) answer(ctx actor.Context, m *messages.AnswerOffline) {
	reply := func(e *messages.Error, id string) { ctx.Respond(&messages.MailReply{Error: e, MailId: id}) }
	x, err := o.b.store.OfflineMessage(m.GetId())
	switch {
	case err != nil:
		reply(messages.TemporaryErrorf(codeUnavailable, "cannot read offline messages now; try again"), "")
		return
	case x == nil:
		reply(errorf(codeNotFound, "no offline message %s", m.GetId()), "")
		return
	case x.GetAnswered() || o.answering[x.GetId()]:
		reply(errorf(codeConflict, "offline message %s is answered already", x.GetId()), "")
		return
	}
	mail, e := o.offlineReply(x, m)
	if e != nil {
		reply(e, "")
		return
	}
	now := o.b.clock.Now()
	mail.Id, mail.CreatedAtMs, mail.NextAtMs = o.b.newID('m', now), now.UnixMilli(), now.UnixMilli()
	done := proto.Clone(x).(*messages.OfflineMessage)
	done.Answered, done.AnsweredBy, done.AnsweredAtMs, done.MailId, done.AnsweredHow = true, m.GetBy().GetId(), now.UnixMilli(), mail.GetId(), "email"
	o.answering[x.GetId()] = true
	sender := ctx.Sender()
	o.write([]*messages.OutboxMail{mail}, nil, []*messages.OfflineMessage{done}, func(ctx actor.Context, e *messages.Error) {
		delete(o.answering, x.GetId())
		if e != nil {
			ctx.Send(sender, &messages.MailReply{Error: e})
			return
		}
		o.unindex(x)
		o.queued(ctx, mail)
		ctx.Send(sender, &messages.MailReply{MailId: mail.GetId()})
	})
}

// unansweredKey is where the index keeps a visitor's messages to a
// department.
func unansweredKey(visitor, dept string) string { return visitor + "/" + dept }

func (o *outbox) index(x *messages.OfflineMessage) {
	k := unansweredKey(x.GetVisitorId(), x.GetDepartment())
	o.unanswered[k] = append(o.unanswered[k], x.GetId())
}

func (o *outbox) unindex(x *messages.OfflineMessage) {
	k := unansweredKey(x.GetVisitorId(), x.GetDepartment())
	ids := slices.DeleteFunc(o.unanswered[k], func(id string) bool { return id == x.GetId() })
	if len(ids) == 0 {
		delete(o.unanswered, k)
		return
	}
	o.unanswered[k] = ids
}

// answeredByChat: the visitor came back and an agent took their chat in
// the department: their unanswered offline messages there are answered
// by that chat (audited).
func (o *outbox) answeredByChat(ctx actor.Context, m *messages.VisitorChatAssigned) {
	k := unansweredKey(m.GetVisitorId(), m.GetDepartment())
	var done []*messages.OfflineMessage
	for _, id := range o.unanswered[k] {
		x, err := o.b.store.OfflineMessage(id)
		if err != nil || x == nil || x.GetAnswered() || o.answering[id] {
			continue // read again at the next chat
		}
		x.Answered, x.AnsweredBy, x.AnsweredAtMs, x.AnsweredHow, x.ChatId = true, m.GetAgent().GetId(), o.b.clock.Now().UnixMilli(), "chat", m.GetChatId()
		o.answering[id] = true
		done = append(done, x)
	}
	if len(done) == 0 {
		return
	}
	o.write(nil, nil, done, func(ctx actor.Context, e *messages.Error) {
		for _, x := range done {
			delete(o.answering, x.GetId())
			if e != nil {
				continue
			}
			o.unindex(x)
			o.b.Audit(&messages.AuditEntry{Kind: "offline.answer", Actor: x.GetAnsweredBy(), Subject: x.GetId(), Detail: "by chat " + x.GetChatId(), Ok: true})
		}
		if e != nil {
			ctx.Logger().Warn("outbox: offline messages not marked answered by chat", "chat", m.GetChatId(), "err", e.GetMessage())
		}
	})
}

// offlineReply renders the answer to x.
func (o *outbox) offlineReply(x *messages.OfflineMessage, m *messages.AnswerOffline) (*messages.OutboxMail, *messages.Error) {
	if e := CheckText("text", m.GetText(), MaxOfflineTextBytes); e != nil || m.GetText() == "" {
		return nil, refuse("text", codeInvalid, "text is required (at most %d KiB)", MaxOfflineTextBytes>>10)
	}
	if e := CheckText("subject", m.GetSubject(), MaxNameBytes); e != nil {
		return nil, refuse("subject", e.GetCode(), "%s", e.GetMessage())
	}
	settings, err := o.b.store.EmailSettings()
	dept, err2 := o.b.store.Department(x.GetDepartment())
	if err != nil || err2 != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "cannot read the email settings now; try again")
	}
	vars := map[string]string{"visitor.name": x.GetName(), "visitor.email": x.GetEmail(), "agent.name": m.GetBy().GetDisplayName(),
		"department.name": orElse(dept.GetName(), x.GetDepartment()), "chat.transcript": x.GetText(), "message": m.GetText(), "subject": m.GetSubject()}
	subject, text, html, rerr := renderMail(settings, x.GetDepartment(), PurposeOfflineReply, vars)
	if rerr != nil {
		return nil, errorf(codeInvalid, "the offline_reply template does not work: %v", rerr)
	}
	if m.GetSubject() != "" {
		subject = m.GetSubject()
	}
	return &messages.OutboxMail{To: x.GetEmail(), Subject: subject, Text: text, Html: html, Purpose: PurposeOfflineReply,
		By: m.GetBy(), OfflineId: x.GetId()}, nil
}

// offlineOffered marks a refusal the visitor may answer with an offline
// message: its department takes them and the reason is one of those.
func (b *Broker) offlineOffered(r *messages.ChatRefused) {
	if r == nil || !offerOffline[r.GetReason()] {
		return
	}
	if d, err := b.store.Department(r.GetDepartment()); err == nil && d.GetOfflineMessages() {
		r.OfflineMessages = true
	}
}

// OfflineMessages lists the offline messages keep accepts, oldest first.
func (b *Broker) OfflineMessages(keep func(*messages.OfflineMessage) bool) ([]*messages.OfflineMessage, error) {
	all, err := b.store.OfflineMessages()
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, x := range all {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out, nil
}

// OfflineMessage reads one offline message, or nil.
func (b *Broker) OfflineMessage(id string) (*messages.OfflineMessage, error) {
	if !ValidID(id) {
		return nil, nil
	}
	return b.store.OfflineMessage(id)
}

// AnswerOffline has the outbox answer an offline message by email; it
// returns the mail's id, or the typed refusal.
func (b *Broker) AnswerOffline(m *messages.AnswerOffline) (string, error) {
	res, err := b.root.RequestFuture(b.PID(KindMail, "main"), m, 10*time.Second).Result()
	if err != nil {
		return "", messages.TemporaryErrorf(codeUnavailable, "the outbox did not answer: %v", err)
	}
	r, ok := res.(*messages.MailReply)
	if !ok {
		return "", fmt.Errorf("outbox: unexpected reply %T", res)
	}
	if r.GetError() != nil {
		return "", r.GetError()
	}
	return r.GetMailId(), nil
}

// recentIDs remembers the last few ids added (in memory, for an actor).
type recentIDs struct{ ids []string }

const endedKeep = 16

func (r *recentIDs) add(id string) {
	if r.has(id) {
		return
	}
	if len(r.ids) == endedKeep {
		r.ids = r.ids[1:]
	}
	r.ids = append(r.ids, id)
}

func (r *recentIDs) has(id string) bool {
	for _, x := range r.ids {
		if x == id {
			return true
		}
	}
	return false
}
