package gateway

import (
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

func errf(code messages.ErrorCode, format string, args ...any) *messages.Error {
	return messages.Errorf(code, format, args...)
}

// dispatch routes one decoded envelope by commandTable. Everything is
// checked here that can be checked without state (authentication, role,
// id format), so a bad command never touches an actor; the actors check
// the rest.
func (c *wsConn) dispatch(env *messages.Envelope) {
	ref := env.GetRef()
	m := env.ProtoReflect()
	var cmd *command
	if f := m.WhichOneof(envelopeBody); f != nil {
		cmd = commands[f.Number()]
	}
	// Nothing before Hello, not even ping (PROTOCOL.md, "Hello first").
	if c.who == nil && (cmd == nil || !cmd.beforeHello) {
		c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "send Hello first"))
		return
	}
	if cmd == nil {
		c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "clients cannot send %T", env.GetBody()))
		return
	}
	in := incoming{ref: ref, body: m.Get(cmd.envField).Message()}
	if !c.admit(cmd, &in) {
		return
	}
	switch cmd.to {
	case local:
		cmd.handle(c, in)
	case toSession:
		c.toSession(cmd, in)
	case toChat:
		c.toChat(cmd, in)
	}
}

// admit applies a command's checks in order: who sends it, its chat id,
// then its own gate. A refusal is answered here.
func (c *wsConn) admit(cmd *command, in *incoming) bool {
	if cmd.from == agentsOnly && c.role != roleAgent || cmd.from == visitorsOnly && c.role != roleVisitor {
		c.fail(in.ref, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "%s", refusal[cmd.from]))
		return false
	}
	if cmd.chatID {
		in.chatID = in.body.Get(cmd.chatField).String()
		if !actors.ValidID(in.chatID) {
			c.fail(in.ref, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no chat %q", in.chatID))
			return false
		}
	}
	return cmd.gate == nil || cmd.gate(c, *in)
}

// toSession sends the body to the connection's own actor in the
// SessionCommand field of its type.
func (c *wsConn) toSession(cmd *command, in incoming) {
	sc := &messages.SessionCommand{Conn: c.pid, Ref: in.ref, Address: c.addr}
	sc.ProtoReflect().Set(cmd.target, protoreflect.ValueOfMessage(in.body))
	defer c.s.tracing.request(sc, c.roleName()).end()
	c.s.b.Send(c.actorKind(), c.who.GetId(), sc)
}

// toChat sends the body to its chat in the ChatCommand field of its type.
func (c *wsConn) toChat(cmd *command, in incoming) {
	cc := &messages.ChatCommand{ChatId: in.chatID, From: c.who, Conn: c.pid, Ref: in.ref, Address: c.addr}
	cc.ProtoReflect().Set(cmd.target, protoreflect.ValueOfMessage(in.body))
	c.s.cfg.Metrics.timeSend(cc, c.readAt)
	defer c.s.tracing.send(cc, c.roleName()).end()
	if c.role == roleVisitor {
		c.s.b.Send(actors.KindVisitor, c.who.GetId(), cc)
		return
	}
	c.s.b.Send(actors.KindChat, in.chatID, cc)
}

func (c *wsConn) ping(in incoming) {
	c.reply(in.ref, &messages.Envelope{Body: &messages.Envelope_Pong{Pong: &messages.Pong{}}})
}

// allowChatRequest is RequestChat's gate: an address requests a bounded
// number of chats a minute.
func (c *wsConn) allowChatRequest(in incoming) bool {
	if !c.s.addrs.allowChat(c.addr, c.s.b.Now()) {
		c.s.cfg.Metrics.limit(limitChatRequests)
		c.fail(in.ref, rateLimited("too many chat requests from your address; try again in a minute"))
		return false
	}
	return true
}

// resetReplay is Resume's gate: the writer's duplicate filter starts the
// chat afresh, so the replay asked for is written whole.
func (c *wsConn) resetReplay(in incoming) bool {
	c.enqueue(outItem{resetChat: in.chatID})
	return true
}

// hello authenticates the socket: a visitor by resume token or as a new
// session, staff by helloStaff (auth.go).
func (c *wsConn) hello(in incoming) {
	if c.who != nil {
		c.fail(in.ref, errf(messages.ErrorCode_ERROR_CODE_CONFLICT, "already said Hello"))
		return
	}
	h, _ := in.body.Interface().(*messages.Hello)
	now := c.s.b.Now()
	gen := c.s.accessGen.Load() // rules changed from here on are checked again below
	attach := &messages.ConnAttach{Conn: c.pid, Cursors: h.GetCursors(), Ref: in.ref}
	var who *messages.Participant
	if c.role == roleVisitor {
		who = c.helloVisitor(in.ref, h, now, attach)
	} else {
		who = c.helloStaff(in.ref, h, now, attach)
	}
	if who == nil {
		return // refused, answered and counted
	}
	c.who = who
	c.authed.Store(true)
	c.s.cfg.Metrics.opened(c.role)
	id := c.who.GetId()
	c.whoID.Store(&id)
	c.s.b.Send(c.actorKind(), c.who.GetId(), attach)
	if c.staffID() != "" && c.s.accessGen.Load() != gen {
		c.recheckAccess()
	}
}

// helloVisitor resumes the session a resume token names, or opens a new
// one; it returns nil when it refused.
func (c *wsConn) helloVisitor(ref uint64, h *messages.Hello, now time.Time, attach *messages.ConnAttach) *messages.Participant {
	if h.GetSessionToken() != "" {
		return c.helloColleague(ref, h, now) // internal live chats (colleague.go)
	}
	id := ""
	if t := h.GetResumeToken(); t != "" {
		var err error
		if id, err = c.s.tok.verify("v", t, now); err != nil || !actors.ValidID(id) {
			c.s.cfg.Metrics.refuse(refusedAuth)
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "the resume token is invalid or expired; send Hello without one to start afresh"))
			return nil
		}
	} else {
		// Each new session is a visitor actor: an address opens a
		// bounded number a minute.
		if !c.s.addrs.allowHello(c.addr, now) {
			c.s.cfg.Metrics.limit(limitHellos)
			c.s.cfg.Metrics.refuse(refusedRateLimit)
			c.fail(ref, rateLimited("too many new visitor sessions from your address; try again in a minute"))
			return nil
		}
		id = actors.NewID('v', now)
	}
	attach.ResumeToken = c.s.tok.sign("v", id, now.Add(c.s.cfg.ResumeTTL))
	attach.UserAgent, attach.Language = c.ua, c.lang
	return &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: id}
}

// clipHeader cuts a header's value to max bytes (the actor checks the
// rest).
func clipHeader(v string, max int) string {
	if len(v) > max {
		return strings.ToValidUTF8(v[:max], "")
	}
	return v
}

// firstLanguage is the first tag of an Accept-Language header ("de-CH"
// of "de-CH,de;q=0.9").
func firstLanguage(v string) string {
	tag, _, _ := strings.Cut(v, ",")
	tag, _, _ = strings.Cut(tag, ";")
	return clipHeader(strings.TrimSpace(tag), actors.MaxContextLangBytes)
}
