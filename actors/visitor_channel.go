package actors

// A channel's outside conversation as a visitor session (issue 19): the
// visitor id is derived from the channel and the conversation's outside
// id, so each conversation has one session and at most one open chat.
// The gateway hands each inbound message to the session as
// ChannelInbound: it goes to the open chat as the visitor's command, or
// first asks for a chat (queued while it is being created, refused with
// it). The session has no connection: its chats are not abandoned by the
// grace timers (checkGrace), and the gateway waits for the chat's ack of
// each message, sent once it is stored.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// channelVisitorPrefix starts every channel conversation's visitor id;
// website visitors' ids are NewID's (a letter and hex digits), so the two
// never meet.
const channelVisitorPrefix = "ch-"

// ChannelVisitorID is the visitor id of a channel's outside conversation.
func ChannelVisitorID(channel, conversation string) string {
	h := sha256.Sum256([]byte(channel + "\x00" + conversation))
	return channelVisitorPrefix + channel + "-" + hex.EncodeToString(h[:16])
}

// IsChannelVisitor reports whether a visitor id is a channel
// conversation's.
func IsChannelVisitor(id string) bool { return strings.HasPrefix(id, channelVisitorPrefix) }

// inbound passes an outside message on to the open chat, or asks for one.
func (v *visitor) inbound(ctx actor.Context, m *messages.ChannelInbound) {
	v.channel = true
	switch {
	case v.starting != "":
		v.pending = append(v.pending, m)
		return
	case len(v.chats) > 0:
		for id := range v.chats { // at most one
			v.forward(ctx, id, m)
		}
		return
	}
	r := m.GetRequest()
	if err := validateRequest(r); err != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), err)
		return
	}
	if e := v.b.mayWriteIn(v.id, r.GetDepartment()); e != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
		return
	}
	v.starting = v.b.newID('c', v.b.clock.Now())
	v.spoke[v.starting] = true
	v.pending = append(v.pending, m)
	// No conn: each pending message is answered by its own command's ack.
	v.b.Send(KindGroup, r.GetDepartment(), &messages.StartChat{ChatId: v.starting, VisitorId: v.id, Request: r, Channel: m.GetChannel()})
}

// forward sends an inbound message's command to chat id as the visitor's.
func (v *visitor) forward(ctx actor.Context, id string, m *messages.ChannelInbound) {
	c := m.GetCmd()
	c.ChatId, c.From, c.Conn, c.Ref = id, v.who(), m.GetConn(), m.GetRef()
	if a := c.GetAttachFile(); a != nil && !a.GetCheck() {
		// A file is stored under the chat it was checked with: never
		// linked into another.
		sendErr(ctx, c.GetConn(), c.GetRef(), errorf(codeInvalid, "a channel's file is linked through AttachFile with its chat"))
		return
	}
	v.chatCommand(ctx, c)
}

// flushPending sends the messages that waited for the chat being created.
func (v *visitor) flushPending(ctx actor.Context, id string) {
	p := v.pending
	v.pending = nil
	for _, m := range p {
		v.forward(ctx, id, m)
	}
}

// refusePending answers the messages that waited for a chat that was
// refused (or not stored).
func (v *visitor) refusePending(ctx actor.Context, m *messages.StartRefused) {
	p := v.pending
	v.pending = nil
	e := m.GetError()
	if r := m.GetRefusal(); r != nil {
		e = RefusalError(r)
	} else if e == nil {
		e = messages.TemporaryErrorf(codeUnavailable, "the chat could not be stored; try again")
	}
	for _, x := range p {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
	}
}

// RefusalError is a refused chat request as a typed error: temporary when
// trying later may help (a full line, nobody available), with the reason.
func RefusalError(r *messages.ChatRefused) *messages.Error {
	e := &messages.Error{Code: codeConflict, Message: r.GetMessage(), Refusal: r.GetReason()}
	switch r.GetReason() {
	case messages.RefusalReason_REFUSAL_REASON_QUEUE_FULL, messages.RefusalReason_REFUSAL_REASON_NOBODY_AVAILABLE:
		e.Code, e.Temporary = codeUnavailable, true
	}
	return e
}

// ChannelInbound hands an outside message to its conversation's session
// and waits for the answer: the chat's ack once the message is stored, or
// the typed error it was refused with (RefusalError for a refused chat).
func (b *Broker) ChannelInbound(ctx context.Context, m *messages.ChannelInbound) (*messages.Ack, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := actor.NewFuture(b.system, timeout)
	m.Conn = f.PID()
	b.Send(KindVisitor, m.GetVisitorId(), m)
	res, err := f.Result()
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "the chat did not answer: %v", err)
	}
	env, _ := res.(*messages.Envelope)
	switch {
	case env.GetError() != nil:
		return nil, env.GetError()
	case env.GetAck() != nil:
		return env.GetAck(), nil
	}
	return nil, errorf(messages.ErrorCode_ERROR_CODE_INTERNAL, "unexpected answer %T", res)
}

// ChannelDelivered records what a channel said of a chat's delivered
// event (an internal ChatDelivered event) and waits until it is stored.
// The delivery outbox calls it for a permanent failure ("failed"), the
// WhatsApp webhook for statuses.
func (b *Broker) ChannelDelivered(ctx context.Context, chatID string, d *messages.ChatDelivered) error {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := actor.NewFuture(b.system, timeout)
	b.Send(KindChat, chatID, &messages.RecordDelivered{ChatId: chatID, Delivered: d, Conn: f.PID()})
	res, err := f.Result()
	if err != nil {
		return messages.TemporaryErrorf(codeUnavailable, "the chat did not answer: %v", err)
	}
	if env, _ := res.(*messages.Envelope); env.GetError() != nil {
		return env.GetError()
	}
	return nil
}

// Channel returns a channel by id (secrets included: for the gateway's
// and the senders' use, never for an answer), or nil.
func (b *Broker) Channel(id string) (*messages.Channel, error) { return b.store.Channel(id) }

// Channels returns every channel (secrets included), by id.
func (b *Broker) Channels() ([]*messages.Channel, error) { return b.store.Channels() }

// ChatCreated returns a chat's first event, which names its channel and
// outside conversation, or nil when there is no such chat: a point read.
func (b *Broker) ChatCreated(chatID string) (*messages.ChatCreated, error) {
	var cr *messages.ChatCreated
	err := b.store.EachChatEvent(chatID, 0, func(ev *messages.ChatEvent) error {
		cr = ev.GetCreated()
		return errFirst
	})
	if err != nil && !errors.Is(err, errFirst) {
		return nil, err
	}
	return cr, nil
}

// DeliveryRef returns what an outside id of a message delivered to target
// refers to (WhatsApp's wamid: the chat and event), or nil.
func (b *Broker) DeliveryRef(target, ref string) (*messages.DeliveryRef, error) {
	return b.store.DeliveryRef(target, ref)
}
