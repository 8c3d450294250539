package actors

// The agent's connections (sockets, tabs) and the chats they show: the
// welcome at attach, the grace period while the agent has chats and no
// connection, the chats' events and replays, and joining and leaving.

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// connMessage handles the connections' messages and the chats' events;
// it reports whether m was one of them.
func (a *agent) connMessage(ctx actor.Context, m any) bool {
	switch m := m.(type) {
	case *messages.ConnAttach:
		a.attach(ctx, m)
	case *messages.ConnDetach:
		a.detach(ctx, m)
	case *messages.GraceExpired:
		a.graceExpired(ctx, m)
	case *messages.ChatJoined:
		if m.GetGuest() {
			a.joinAsGuest(ctx, m.GetChat())
			return true
		}
		a.join(ctx, m.GetChat())
		a.changed(ctx)
	case *messages.ChatLeft:
		a.left(ctx, m.GetChat())
	case *messages.ChatEvent:
		a.chatEvent(ctx, m)
	case *messages.TracedEvent:
		a.chatEvent(ctx, m.GetEvent())
	default:
		return a.conns.receive(ctx, a.b, a.who, m)
	}
	return true
}

// connCommand handles the agent's commands on the chats they are in; it
// reports whether m was one of them.
func (a *agent) connCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	conn, ref := m.GetConn(), m.GetRef()
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_SetChatStatus:
		id := body.SetChatStatus.GetChatId()
		if a.active[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
			return true
		}
		a.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: a.who(), Conn: conn, Ref: ref, Address: m.GetAddress(),
			Body: &messages.ChatCommand_SetStatus{SetStatus: body.SetChatStatus}})
	case *messages.SessionCommand_EmailFromChat:
		id := body.EmailFromChat.GetChatId()
		if a.active[id] == nil && a.joined[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
			return true
		}
		a.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: a.who(), Conn: conn, Ref: ref, Address: m.GetAddress(),
			Body: &messages.ChatCommand_EmailFromChat{EmailFromChat: body.EmailFromChat}})
	case *messages.SessionCommand_Resume:
		r := body.Resume
		e := a.conns.get(conn)
		if e == nil || a.active[r.GetChatId()] == nil && a.joined[r.GetChatId()] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", r.GetChatId()))
			return true
		}
		a.conns.sync(ctx, a.b, e, a.who(), r.GetChatId(), r.GetAfterSeq())
		sendAck(ctx, conn, ref, &messages.Ack{ChatId: r.GetChatId()})
	default:
		return false
	}
	return true
}

func (a *agent) attach(ctx actor.Context, m *messages.ConnAttach) {
	if a.rec == nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "no such account"))
		return
	}
	if m.GetSessionEpoch() != a.rec.GetSessionEpoch() {
		// The session ended between the gateway's check and now.
		ctx.Send(m.GetConn(), &messages.CloseConn{Code: CloseLoggedOut, Reason: endedSession})
		return
	}
	e := a.conns.add(m.GetConn())
	e.epoch = m.GetSessionEpoch()
	w := a.welcome(m)
	ctx.Send(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_Welcome{Welcome: w}})
	for _, s := range w.Chats {
		a.conns.sync(ctx, a.b, e, a.who(), s.GetChatId(), m.GetCursors()[s.GetChatId()])
	}
	// A new socket (a second tab) gets the views the agent follows at
	// once: asking again makes each queue push its view now.
	for _, d := range a.monitoring {
		a.b.Send(KindQueue, d, &messages.Watch{AgentId: a.id, On: true})
	}
	a.report(ctx)
	a.checkGrace()
}

// welcome is what a new connection is shown: the state, the chats (oldest
// first), the open offers and invitations, and what the role allows.
func (a *agent) welcome(m *messages.ConnAttach) *messages.Welcome {
	w := &messages.Welcome{AgentId: a.id, DisplayName: a.rec.GetDisplayName(), SessionToken: m.GetSessionToken(), State: a.state()}
	for _, s := range a.active {
		w.Chats = append(w.Chats, a.current(s))
	}
	for _, s := range a.joined {
		w.Chats = append(w.Chats, a.current(s))
	}
	for _, p := range a.pending {
		if !p.accepted {
			w.Offers = append(w.Offers, p.offer)
		}
	}
	for _, inv := range a.invites {
		w.Invitations = append(w.Invitations, inv)
	}
	a.describeRole(w)
	slices.SortFunc(w.Chats, func(x, y *messages.ChatSummary) int { return int(x.GetCreatedAtMs() - y.GetCreatedAtMs()) })
	return w
}

func (a *agent) detach(ctx actor.Context, m *messages.ConnDetach) {
	a.conns.remove(m.GetConn())
	if a.conns.len() == 0 {
		a.declineUnaccepted(ctx)
		a.watch(nil)
	}
	a.report(ctx)
	a.checkGrace()
}

// checkGrace runs the grace period while the agent has chats but no
// connection (also after a restart, until they reconnect).
func (a *agent) checkGrace() {
	a.grace.hold(a.b, a.self, a.conns.len() == 0 && len(a.active)+len(a.joined) > 0, a.b.agentGrace, graceExpired)
}

// graceExpired hands the agent's chats back to routing and leaves the
// ones they joined: they did not come back in time.
func (a *agent) graceExpired(ctx actor.Context, m *messages.GraceExpired) {
	if m.GetSilence() || !a.grace.fired(m.GetToken()) || a.conns.len() > 0 {
		return
	}
	why := fmt.Sprintf("%s lost their connection and did not come back within %s", a.rec.GetDisplayName(), a.b.agentGrace)
	for id := range a.active {
		a.b.Send(KindChat, id, &messages.Handback{ChatId: id, AgentId: a.id, Reason: why})
	}
	a.leaveJoined(ctx)
}

func (a *agent) chatEvent(ctx actor.Context, m *messages.ChatEvent) {
	if s := a.active[m.GetChatId()]; s != nil {
		a.active[m.GetChatId()] = summaryAfter(s, m)
		a.seen[m.GetChatId()] = m.GetSeq()
		a.conns.deliver(ctx, m)
	} else if s := a.joined[m.GetChatId()]; s != nil {
		a.joined[m.GetChatId()] = summaryAfter(s, m)
		a.seen[m.GetChatId()] = m.GetSeq()
		a.conns.deliver(ctx, m)
	}
}

func (a *agent) join(ctx actor.Context, s *messages.ChatSummary) {
	if a.active[s.GetChatId()] != nil {
		return
	}
	a.active[s.GetChatId()] = s
	a.conns.push(ctx, chatEnvelope(s))
	a.conns.syncAll(ctx, a.b, a.who(), s.GetChatId())
}

// joinAsGuest: the agent is now in a chat they do not own.
func (a *agent) joinAsGuest(ctx actor.Context, s *messages.ChatSummary) {
	id := s.GetChatId()
	delete(a.invites, id)
	if a.active[id] != nil {
		return
	}
	_, known := a.joined[id]
	a.joined[id] = s
	a.conns.push(ctx, chatEnvelope(s))
	if !known {
		a.conns.syncAll(ctx, a.b, a.who(), id)
	}
	a.checkGrace()
}

// left: the agent is no longer in chat s (or no longer invited to it).
func (a *agent) left(ctx actor.Context, s *messages.ChatSummary) {
	id := s.GetChatId()
	delete(a.seen, id)
	if _, ok := a.invites[id]; ok {
		delete(a.invites, id)
		a.conns.push(ctx, chatEnvelope(s))
	}
	if _, ok := a.joined[id]; ok {
		delete(a.joined, id)
		a.conns.push(ctx, chatEnvelope(s))
		a.checkGrace()
	}
	if _, ok := a.active[id]; ok {
		delete(a.active, id)
		a.conns.push(ctx, chatEnvelope(s))
		if a.status == messages.AgentStatus_AGENT_STATUS_DRAINING && len(a.active) == 0 {
			a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_OFFLINE, "your shift ended and your last chat closed")
			return
		}
		a.changed(ctx)
	}
}

// leaveJoined leaves every chat the agent is a guest or watcher in.
func (a *agent) leaveJoined(ctx actor.Context) {
	for id := range a.joined {
		a.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: a.who(), Body: &messages.ChatCommand_Leave{Leave: &messages.LeaveChat{ChatId: id}}})
	}
}

// current returns a chat's summary with last_seq the last event delivered
// (a copy when messages came since the summary was made).
func (a *agent) current(s *messages.ChatSummary) *messages.ChatSummary {
	if seq := a.seen[s.GetChatId()]; seq > s.GetLastSeq() {
		s = copySummary(s)
		s.LastSeq = seq
	}
	return s
}
