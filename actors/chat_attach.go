package actors

// Attachments and visitor context, as the chat sees them: a stored file
// linked into the transcript (its bytes never pass through here: the
// gateway stores them first), and a visitor's context passed on to the
// chat's staff.

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// attach links a stored file into the chat, by its visitor or a visible
// member of its staff (watchers only whisper). With check it only says
// whether the sender may.
func (c *chat) attach(ctx actor.Context, x cmd, a *messages.AttachFile) {
	switch {
	case x.r == roleWatcher:
		x.fail(ctx, codeForbidden, "you watch chat %s invisibly: join visibly to send a file", c.id)
		return
	case len(a.GetClientMsgId()) > MaxClientMsgIDBytes:
		x.fail(ctx, codeTooLarge, "client_msg_id is longer than %d bytes", MaxClientMsgIDBytes)
		return
	}
	cid := a.GetClientMsgId()
	if x.r != roleVisitor && c.dedupe[dedupeKey(x.who, cid)].seq == 0 {
		if e := c.replyWindowError(); e != nil {
			sendErr(ctx, x.GetConn(), x.GetRef(), e)
			return
		}
	}
	switch {
	case a.GetCheck():
		// A file sent before under the same client id: its seq.
		seq := uint64(0)
		if cid != "" {
			seq = c.dedupe[dedupeKey(x.who, cid)].seq
		}
		sendAck(ctx, x.GetConn(), x.GetRef(), &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: cid})
		return
	case a.GetFileId() == "" || a.GetSize() == 0:
		x.fail(ctx, codeInvalid, "file_id and size are required")
		return
	case cid != "" && c.resent(ctx, x.ChatCommand, x.who, cid):
		return
	}
	seq := c.last + 1
	a2 := &messages.Ack{ChatId: c.id, Seq: seq, VisitorSeq: c.vlast + 1, ClientMsgId: cid}
	ev := &messages.ChatEvent{Kind: &messages.ChatEvent_Attachment{Attachment: &messages.ChatAttachment{
		From: x.who, FileId: a.GetFileId(), Name: a.GetName(), ContentType: a.GetContentType(), Size: a.GetSize(), ClientMsgId: cid}}}
	detail := fmt.Sprintf("seq %d, %s, %s, %d bytes", seq, a.GetFileId(), a.GetContentType(), a.GetSize())
	c.write([]*messages.ChatEvent{ev}, c.audit(auditOf(x.ChatCommand, "chat.attachment", detail)), ack(x.GetConn(), x.GetRef(), a2))
}

// visitorContext passes the visitor's new context on to the chat's staff,
// unstored here (the visitor's actor stored it).
func (c *chat) visitorContext(m *messages.VisitorContextChanged) {
	if !c.exists || c.sum.GetState() == stateClosed {
		return
	}
	env := &messages.Envelope{Body: &messages.Envelope_VisitorInfo{VisitorInfo: &messages.VisitorInfo{ChatId: c.id, Context: m.GetContext()}}}
	for _, id := range c.staff() {
		c.b.Send(KindAgent, id, env)
	}
}

// AttachFile sends an attachment command to its chat as from (a visitor's
// through their visitor actor, which knows their chats) and waits for the
// chat's answer: the ack, or the typed error it refused with. For callers
// outside actors (the gateway's HTTP handlers).
func (b *Broker) AttachFile(ctx context.Context, chatID string, from *messages.Participant, address string, a *messages.AttachFile) (*messages.Ack, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	fut := actor.NewFuture(b.system, timeout)
	cc := &messages.ChatCommand{ChatId: chatID, From: from, Conn: fut.PID(), Address: address,
		Body: &messages.ChatCommand_AttachFile{AttachFile: a}}
	if from.GetKind() == kindVisitor {
		b.Send(KindVisitor, from.GetId(), cc)
	} else {
		b.Send(KindChat, chatID, cc)
	}
	res, err := fut.Result()
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "chat %s did not answer: %v", chatID, err)
	}
	env, _ := res.(*messages.Envelope)
	if e := env.GetError(); e != nil {
		return nil, e
	}
	if ack := env.GetAck(); ack != nil {
		return ack, nil
	}
	return nil, errorf(messages.ErrorCode_ERROR_CODE_INTERNAL, "unexpected answer %T", res)
}

// PutFile stores an attachment's bytes, synced (persistence.Store.PutFile).
func (b *Broker) PutFile(f *messages.StoredFile, data []byte) error { return b.store.PutFile(f, data) }

// File returns an attachment's description, or nil.
func (b *Broker) File(chatID, fileID string) (*messages.StoredFile, error) {
	return b.store.File(chatID, fileID)
}

// EachFileChunk streams an attachment's bytes.
func (b *Broker) EachFileChunk(f *messages.StoredFile, fn func([]byte) error) error {
	return b.store.EachFileChunk(f, fn)
}

// DeleteFile removes an attachment that could not be linked.
func (b *Broker) DeleteFile(chatID, fileID string) error { return b.store.DeleteFile(chatID, fileID) }

// VisitorContext returns a visitor's stored context, or nil.
func (b *Broker) VisitorContext(visitorID string) (*messages.VisitorContext, error) {
	return b.store.VisitorContext(visitorID)
}
