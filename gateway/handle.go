package gateway

import (
	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
	"time"
)

func errf(code messages.ErrorCode, format string, args ...any) *messages.Error {
	return messages.Errorf(code, format, args...)
}

// handle routes one decoded envelope. Everything is checked here that can
// be checked without state (authentication, role, id format), so a bad
// command never touches an actor; the actors check the rest.
func (c *wsConn) handle(env *messages.Envelope) {
	ref := env.GetRef()
	if h := env.GetHello(); h != nil {
		if c.who != nil {
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_CONFLICT, "already said Hello"))
			return
		}
		c.hello(ref, h)
		return
	}
	// Nothing before Hello, not even ping (PROTOCOL.md, "Hello first").
	if c.who == nil {
		c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "send Hello first"))
		return
	}
	if p, ok := env.GetBody().(*messages.Envelope_Ping); ok && p != nil {
		c.reply(ref, &messages.Envelope{Body: &messages.Envelope_Pong{Pong: &messages.Pong{}}})
		return
	}
	actorKind, id := c.actorKind(), c.who.GetId()
	session := func(cmd *messages.SessionCommand) {
		cmd.Conn, cmd.Ref, cmd.Address = c.pid, ref, c.addr
		c.s.b.Send(actorKind, id, cmd)
	}
	validChat := func(id string) bool {
		if !actors.ValidID(id) {
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no chat %q", id))
			return false
		}
		return true
	}
	chat := func(chatID string, cmd *messages.ChatCommand) {
		if !validChat(chatID) {
			return
		}
		cmd.ChatId, cmd.From, cmd.Conn, cmd.Ref, cmd.Address = chatID, c.who, c.pid, ref, c.addr
		if c.role == roleVisitor {
			// The visitor actor knows its chats: a made-up chat id
			// activates no chat actor and reads nothing from storage.
			c.s.b.Send(actors.KindVisitor, id, cmd)
			return
		}
		c.s.b.Send(actors.KindChat, chatID, cmd)
	}
	agentOnly := func() bool {
		if c.role != roleAgent {
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "only agents can send this"))
			return false
		}
		return true
	}
	switch b := env.GetBody().(type) {
	case *messages.Envelope_SendMessage:
		chat(b.SendMessage.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Send{Send: b.SendMessage}})
	case *messages.Envelope_CloseChat:
		chat(b.CloseChat.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Close{Close: b.CloseChat}})
	case *messages.Envelope_Typing:
		chat(b.Typing.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Typing{Typing: b.Typing}})
	case *messages.Envelope_Resume:
		if !validChat(b.Resume.GetChatId()) {
			return
		}
		c.enqueue(outItem{resetChat: b.Resume.GetChatId()})
		session(&messages.SessionCommand{Body: &messages.SessionCommand_Resume{Resume: b.Resume}})
	case *messages.Envelope_RequestChat:
		if c.role != roleVisitor {
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "only visitors request chats"))
			return
		}
		if !c.s.addrs.allowChat(c.addr, c.s.b.Now()) {
			c.fail(ref, rateLimited("too many chat requests from your address; try again in a minute"))
			return
		}
		session(&messages.SessionCommand{Body: &messages.SessionCommand_RequestChat{RequestChat: b.RequestChat}})
	case *messages.Envelope_SetStatus:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_SetStatus{SetStatus: b.SetStatus}})
		}
	case *messages.Envelope_AcceptOffer:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_AcceptOffer{AcceptOffer: b.AcceptOffer}})
		}
	case *messages.Envelope_DeclineOffer:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_DeclineOffer{DeclineOffer: b.DeclineOffer}})
		}
	case *messages.Envelope_PickChat:
		if agentOnly() && validChat(b.PickChat.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_PickChat{PickChat: b.PickChat}})
		}
	case *messages.Envelope_SetChatStatus:
		if agentOnly() && validChat(b.SetChatStatus.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_SetChatStatus{SetChatStatus: b.SetChatStatus}})
		}
	case *messages.Envelope_SetDisplayName:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_SetDisplayName{SetDisplayName: b.SetDisplayName}})
		}
	case *messages.Envelope_ListWaiting:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_ListWaiting{ListWaiting: b.ListWaiting}})
		}
	case *messages.Envelope_TransferChat:
		if agentOnly() && validChat(b.TransferChat.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_TransferChat{TransferChat: b.TransferChat}})
		}
	case *messages.Envelope_InviteAgent:
		if agentOnly() && validChat(b.InviteAgent.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_InviteAgent{InviteAgent: b.InviteAgent}})
		}
	case *messages.Envelope_JoinChat:
		if agentOnly() && validChat(b.JoinChat.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_JoinChat{JoinChat: b.JoinChat}})
		}
	case *messages.Envelope_LeaveChat:
		if agentOnly() && validChat(b.LeaveChat.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_LeaveChat{LeaveChat: b.LeaveChat}})
		}
	case *messages.Envelope_TakeOver:
		if agentOnly() && validChat(b.TakeOver.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_TakeOver{TakeOver: b.TakeOver}})
		}
	case *messages.Envelope_DeclineInvite:
		if agentOnly() && validChat(b.DeclineInvite.GetChatId()) {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_DeclineInvite{DeclineInvite: b.DeclineInvite}})
		}
	case *messages.Envelope_Monitor:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_Monitor{Monitor: b.Monitor}})
		}
	case *messages.Envelope_SetQueueOnline:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_SetQueueOnline{SetQueueOnline: b.SetQueueOnline}})
		}
	case *messages.Envelope_SetAgentStatus:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_SetAgentStatus{SetAgentStatus: b.SetAgentStatus}})
		}
	case *messages.Envelope_ListTransferTargets:
		if agentOnly() {
			session(&messages.SessionCommand{Body: &messages.SessionCommand_ListTransferTargets{ListTransferTargets: b.ListTransferTargets}})
		}
	default:
		c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "clients cannot send %T", b))
	}
}

func (c *wsConn) hello(ref uint64, h *messages.Hello) {
	now := c.s.b.Now()
	gen := c.s.accessGen.Load() // rules changed from here on are checked again below
	attach := &messages.ConnAttach{Conn: c.pid, Cursors: h.GetCursors(), Ref: ref}
	if c.role == roleVisitor {
		id := ""
		if t := h.GetResumeToken(); t != "" {
			var err error
			if id, err = c.s.tok.verify("v", t, now); err != nil || !actors.ValidID(id) {
				c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "the resume token is invalid or expired; send Hello without one to start afresh"))
				return
			}
		} else {
			// Each new session is a visitor actor: an address opens a
			// bounded number a minute.
			if !c.s.addrs.allowHello(c.addr, now) {
				c.fail(ref, rateLimited("too many new visitor sessions from your address; try again in a minute"))
				return
			}
			id = actors.NewID('v', now)
		}
		attach.ResumeToken = c.s.tok.sign("v", id, now.Add(c.s.cfg.ResumeTTL))
		c.who = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: id}
	} else {
		a, until, e := c.s.authenticate(h.GetLogin(), h.GetPassword(), h.GetSessionToken(), c.addr)
		if e != nil {
			c.fail(ref, e)
			return
		}
		perms, err := c.s.b.Permissions(a)
		if err != nil {
			c.fail(ref, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now"))
			return
		}
		if !perms.Has(actors.PermLiveChat) {
			id := a.GetId()
			c.whoID.Store(&id)
			c.fail(ref, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role has no live chat access"))
			return
		}
		sid := ""
		if t := h.GetSessionToken(); t != "" {
			attach.SessionToken = t
			id, _ := c.s.tok.verify("a", t, now)
			_, _, sid, attach.SessionEpoch, _ = parseSession(id)
		} else {
			attach.SessionToken, sid = c.s.tok.newSession(a.GetId(), a.GetSessionEpoch(), now, c.s.cfg.SessionTTL)
			attach.SessionEpoch = a.GetSessionEpoch()
		}
		c.sid.Store(&sid)
		c.watchLoginHours(until)
		c.who = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: a.GetId(), DisplayName: a.GetDisplayName()}
	}
	c.authed.Store(true)
	id := c.who.GetId()
	c.whoID.Store(&id)
	c.s.b.Send(c.actorKind(), c.who.GetId(), attach)
	if c.role == roleAgent && c.s.accessGen.Load() != gen {
		c.recheckAccess()
	}
}

// authenticateAgent checks a login and password, or a session token, and
// returns the staff account. Password logins, and every refusal, go to the
// audit log with the client's address.
func (s *Server) authenticateAgent(login, password, session, addr string) (*messages.Agent, *messages.Error) {
	a, _, e := s.authenticate(login, password, session, addr)
	return a, e
}

// authenticate is authenticateAgent that also says when the staff
// member's login window ends (zero: no end), for a socket to watch.
func (s *Server) authenticate(login, password, session, addr string) (a *messages.Agent, until time.Time, e *messages.Error) {
	defer func() {
		switch {
		case e != nil:
			actor := auditLogin(login)
			if a != nil {
				actor = a.GetId()
			}
			s.audit(addr, "login.refused", actor, "", e.GetMessage(), false)
		case session == "":
			s.audit(addr, "login.ok", a.GetId(), "", "password login", true)
		}
	}()
	if a, e = s.checkAgent(login, password, session, addr); e != nil {
		return a, time.Time{}, e
	}
	until, e = s.checkAccess(a, addr)
	return a, until, e
}

func (s *Server) checkAgent(login, password, session, addr string) (*messages.Agent, *messages.Error) {
	bad := errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "wrong login or password, or expired session")
	var a *messages.Agent
	var err error
	if session != "" {
		id, verr := s.tok.verify("a", session, s.b.Now())
		agentID, issued, sid, epoch, ok := parseSession(id)
		if verr != nil || !ok {
			return nil, bad
		}
		revoked, rerr := s.b.SessionRevoked(sid)
		if rerr != nil {
			return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read sessions now")
		}
		if revoked {
			return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "this session was logged out; log in again")
		}
		a, err = s.b.Agent(agentID)
		if err == nil && a != nil && (issued < a.GetSessionsAfterMs() || epoch != a.GetSessionEpoch()) && !a.GetSuspended() {
			return nil, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "this session has ended; log in again")
		}
	} else {
		var e *messages.Error
		if a, e = s.checkPassword(login, password, addr); e != nil {
			return nil, e
		}
	}
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now")
	}
	if a == nil {
		return nil, bad
	}
	if a.GetSuspended() {
		return a, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "this account is suspended")
	}
	return a, nil
}
