package actors

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// Mailer delivers one email through an SMTP server: cmd/switchboard
// wires gateway/mail's. Send must not block: it tries in its own
// goroutine and calls done once, from any goroutine, with nil once the
// server accepted the mail.
type Mailer interface {
	Send(smtp *messages.SmtpSettings, m *messages.OutboxMail, done func(err error))
}

// outbox is the durable outbox ("mail/main"), the only writer of m/ and
// om/: every email is stored before it is acknowledged, tried by the
// mailer, tried again with exponential backoff on the broker's clock
// until the SMTP server takes it, and then deleted, recorded in its
// chat's transcript (ChatEmailed) and in the audit log. It also keeps
// the visitors' offline messages and their answers (offline.go).
//
// A mail is marked sent (deleted) once, after the server accepted it; a
// crash between the two sends it again at the next start, so a mail may
// go out twice at most. Its Message-ID is its outbox id, the same on both
// tries, so receivers that deduplicate show it once.
type outbox struct {
	b       *Broker
	self    *actor.PID
	pending map[string]*messages.OutboxMail
	sending map[string]bool
	// answering: offline messages being answered (their write in flight),
	// so two answers cannot both pass.
	answering map[string]bool
	// unanswered: visitor id + "/" + department -> the ids of that
	// visitor's unanswered offline messages there (answered as a chat
	// when the visitor comes back).
	unanswered map[string][]string
	retry      timer
	token      uint64
	writes     map[uint64]func(ctx actor.Context, e *messages.Error)
}

func newOutbox(b *Broker) *outbox {
	return &outbox{b: b, pending: map[string]*messages.OutboxMail{}, sending: map[string]bool{},
		answering: map[string]bool{}, unanswered: map[string][]string{}, writes: map[uint64]func(actor.Context, *messages.Error){}}
}

func (o *outbox) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		o.self = ctx.Self()
		o.load(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.Persisted:
		o.persisted(ctx, m)
	case *messages.QueueMail:
		o.queue(ctx, m)
	case *messages.MailSent:
		o.sent(ctx, m)
	case *messages.MailTick:
		if o.retry.fired(m.GetToken()) {
			o.kick(ctx)
		}
	case *messages.OfflineLeft:
		o.leave(ctx, m)
	case *messages.AnswerOffline:
		o.answer(ctx, m)
	case *messages.VisitorChatAssigned:
		o.answeredByChat(ctx, m)
	default:
		ctx.Logger().Warn("outbox: unexpected message", "type", fmt.Sprintf("%T", m))
	}
}

// load takes the mails not sent yet (after a start, all are due).
func (o *outbox) load(ctx actor.Context) {
	mails, err := o.b.store.Outbox()
	if err != nil {
		panic(fmt.Errorf("outbox: load: %w", err)) // the supervisor restarts us
	}
	for _, m := range mails {
		m.NextAtMs = 0 // a start tries every mail at once
		o.pending[m.GetId()] = m
	}
	offline, err := o.b.store.OfflineMessages()
	if err != nil {
		panic(fmt.Errorf("outbox: load: %w", err))
	}
	for _, x := range offline {
		if !x.GetAnswered() {
			o.index(x)
		}
	}
	o.kick(ctx)
}

// write stores mails, sent ids and offline messages; then runs once the
// write is durable (or failed).
func (o *outbox) write(put []*messages.OutboxMail, sent []string, offline []*messages.OfflineMessage, then func(actor.Context, *messages.Error)) {
	o.token++
	o.writes[o.token] = then
	o.b.store.WriteMail(put, sent, offline, o.b.notifier(o.self, o.token))
}

func (o *outbox) persisted(ctx actor.Context, m *messages.Persisted) {
	then := o.writes[m.GetToken()]
	delete(o.writes, m.GetToken())
	if then != nil {
		then(ctx, m.GetError())
	}
}

// queue stores a new mail, acknowledges it, and tries it.
func (o *outbox) queue(ctx actor.Context, m *messages.QueueMail) {
	mail := m.GetMail()
	now := o.b.clock.Now()
	mail.Id, mail.CreatedAtMs, mail.NextAtMs = o.b.newID('m', now), now.UnixMilli(), now.UnixMilli()
	o.write([]*messages.OutboxMail{mail}, nil, nil, func(ctx actor.Context, e *messages.Error) {
		if e != nil {
			sendErr(ctx, m.GetConn(), m.GetRef(), e)
			return
		}
		o.queued(ctx, mail)
		sendAck(ctx, m.GetConn(), m.GetRef(), &messages.Ack{ChatId: mail.GetChatId()})
	})
}

// queued: a stored mail is pending, audited, and tried.
func (o *outbox) queued(ctx actor.Context, mail *messages.OutboxMail) {
	o.pending[mail.GetId()] = mail
	o.b.Audit(&messages.AuditEntry{Kind: "mail.queued", Actor: mail.GetBy().GetId(), Subject: mailSubject(mail),
		Detail: fmt.Sprintf("%s mail %s", mail.GetPurpose(), mail.GetId()), Ok: true})
	o.kick(ctx)
}

// mailSubject is what the audit log says a mail is about: its chat, or
// the offline message it answers.
func mailSubject(m *messages.OutboxMail) string {
	if m.GetChatId() != "" {
		return m.GetChatId()
	}
	return m.GetOfflineId()
}

// MaxMailsInFlight bounds the deliveries tried at once: a server that
// was down with thousands of mails waiting gets a few connections, not
// thousands.
const MaxMailsInFlight = 4

// kick tries the due mails not being tried, oldest first, up to
// MaxMailsInFlight at once (each answer kicks again), and sets the timer
// for the next one due.
func (o *outbox) kick(ctx actor.Context) {
	now := o.b.clock.Now().UnixMilli()
	var next int64
	var due []string
	for id, m := range o.pending {
		switch {
		case o.sending[id]:
		case m.GetNextAtMs() <= now:
			due = append(due, id)
		case next == 0 || m.GetNextAtMs() < next:
			next = m.GetNextAtMs()
		}
	}
	slices.Sort(due) // ids sort by creation time
	if free := MaxMailsInFlight - len(o.sending); len(due) > free {
		due = due[:max(free, 0)]
	}
	if len(due) > 0 {
		smtp := o.smtp(ctx)
		for _, id := range due {
			o.try(smtp, o.pending[id])
		}
	}
	o.retry.cancel()
	if next != 0 {
		o.retry.start(o.b, o.self, time.Duration(next-now)*time.Millisecond, mailTick)
	}
}

func mailTick(token uint64) any { return &messages.MailTick{Token: token} }

// smtp reads the SMTP settings (read per round: a change applies to the
// next try); unreadable or unset, the mails wait.
func (o *outbox) smtp(ctx actor.Context) *messages.SmtpSettings {
	x, err := o.b.store.EmailSettings()
	if err != nil {
		ctx.Logger().Error("outbox: read the email settings", "err", err)
	}
	return x.GetSmtp()
}

// try hands a mail to the mailer; the answer comes back as MailSent.
func (o *outbox) try(smtp *messages.SmtpSettings, m *messages.OutboxMail) {
	o.sending[m.GetId()] = true
	id, root, self := m.GetId(), o.b.root, o.self
	done := func(err error) {
		r := &messages.MailSent{MailId: id}
		if err != nil {
			var p interface{ Permanent() bool }
			r.Error, r.Permanent = err.Error(), errors.As(err, &p) && p.Permanent()
		}
		root.Send(self, r)
	}
	switch {
	case o.b.mailer == nil:
		done(fmt.Errorf("this broker sends no email"))
	case !smtp.GetEnabled():
		done(fmt.Errorf("no SMTP server is set up (PUT /admin/email)"))
	default:
		o.b.mailer.Send(proto.Clone(smtp).(*messages.SmtpSettings), proto.Clone(m).(*messages.OutboxMail), done)
	}
}

// sent: one try is over. A mail the server took is deleted, then recorded
// in its chat and the audit log; one it did not take waits for its next
// try, later each time.
func (o *outbox) sent(ctx actor.Context, r *messages.MailSent) {
	id := r.GetMailId()
	delete(o.sending, id)
	m := o.pending[id]
	if m == nil {
		return
	}
	if r.GetError() != "" {
		m.Attempts++
		m.LastError = r.GetError()
		m.NextAtMs = o.b.clock.Now().Add(o.b.mailBackoff(m.GetAttempts())).UnixMilli()
		ctx.Logger().Warn("outbox: mail not sent; will try again", "mail", id, "attempt", m.GetAttempts(), "permanent", r.GetPermanent(), "err", r.GetError())
		// Stored so that a restart keeps the count (and the backoff).
		o.write([]*messages.OutboxMail{proto.Clone(m).(*messages.OutboxMail)}, nil, nil, func(ctx actor.Context, _ *messages.Error) { o.kick(ctx) })
		return
	}
	delete(o.pending, id)
	o.write(nil, []string{id}, nil, func(ctx actor.Context, e *messages.Error) {
		if e != nil {
			ctx.Logger().Error("outbox: mail sent but not marked so; it may go out again", "mail", id, "err", e.GetMessage())
		}
		o.delivered(m)
	})
}

// delivered records a sent mail in its chat and the audit log.
func (o *outbox) delivered(m *messages.OutboxMail) {
	o.b.Audit(&messages.AuditEntry{Kind: "mail.sent", Actor: m.GetBy().GetId(), Subject: mailSubject(m),
		Detail: fmt.Sprintf("%s mail %s after %d failed tries", m.GetPurpose(), m.GetId(), m.GetAttempts()), Ok: true})
	if m.GetChatId() != "" {
		o.b.Send(KindChat, m.GetChatId(), &messages.RecordEmailed{ChatId: m.GetChatId(), Internal: m.GetInternal(),
			Emailed: &messages.ChatEmailed{By: m.GetBy(), To: m.GetTo(), Subject: m.GetSubject(), Purpose: m.GetPurpose(), MailId: m.GetId()}})
	}
}

// mailBackoff is the wait before try n+1: MailRetry doubled per failed
// try, at most MailRetryMax.
func (b *Broker) mailBackoff(attempts uint32) time.Duration {
	d := b.mailRetry
	for i := uint32(1); i < attempts && d < b.mailRetryMax; i++ {
		d *= 2
	}
	return min(d, b.mailRetryMax)
}
