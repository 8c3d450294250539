package actors

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// visitorIdle is how often a visitor actor that has had no message checks
// whether it is still used.
const visitorIdle = 10 * time.Minute

// visitorLinger is how long a visitor actor with no connection, no chat
// and no chat being created stays up: a page reload (the old socket's
// detach, then the new socket's attach) finds it, rather than a stopping
// actor that would drop the attach.
const visitorLinger = 3 * time.Second

// visitor is the actor of one website visitor's session ("visitor/<id>"):
// their connections (tabs), their open chat, and where it stands in its
// queue. A visitor has at most one open chat at a time.
type visitor struct {
	b     *Broker
	id    string
	idle  idleStop // stops an unused visitor after visitorIdle without a message
	conns conns
	chats map[string]*messages.ChatSummary
	queue map[string]*messages.QueueUpdate // last position of each waiting chat
	// starting is the chat being created, "" when none.
	starting string
	self     *actor.PID
	grace    timer // runs while a chat waits and no connection is open
	// silent runs while a chat waits in which the visitor said nothing
	// (Config.SilentWait); spoke holds the chats they said something in.
	silent timer
	spoke  map[string]bool
	// seen is the last message event delivered of each chat: summaryAfter
	// does not fold messages (for speed), so a welcome takes its sequence
	// numbers from here (as the agent actor's current() does).
	seen map[string]*messages.ChatEvent
	// vc is the visitor's context (visitor_context.go).
	vc visitorContext
	// ended: the chats of this session that closed, the last few, for
	// what a visitor may still ask of a closed chat (its transcript by
	// email).
	ended recentIDs
	// colleague: the staff member whose customer-side session this is
	// (visitor id "staff-<id>", internal live chats), nil for an
	// anonymous visitor. Their name is their account's, not theirs to
	// choose.
	colleague *messages.Participant
	// channel: the session is a channel's outside conversation
	// (visitor_channel.go): it has no connections, and its chats are
	// never abandoned for the want of one. pending holds its inbound
	// messages while the chat they ask for is being created.
	channel bool
	pending []*messages.ChannelInbound
}

func newVisitor(b *Broker, id string) *visitor {
	return &visitor{b: b, id: id, conns: newConns(), chats: map[string]*messages.ChatSummary{}, queue: map[string]*messages.QueueUpdate{},
		spoke: map[string]bool{}, seen: map[string]*messages.ChatEvent{}, channel: IsChannelVisitor(id)}
}

func (v *visitor) who() *messages.Participant {
	return &messages.Participant{Kind: kindVisitor, Id: v.id}
}

// Receive dispatches: the actor's life and connections here, the chat's
// messages in chatMessage.
func (v *visitor) Receive(ctx actor.Context) {
	if _, check := ctx.Message().(*messages.IdleCheck); !check {
		v.idle.touch()
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		v.self = ctx.Self()
		v.loadContext(ctx)
		v.loadColleague(ctx)
		v.idle.arm(ctx, visitorIdle)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.IdleCheck:
		if v.idle.due(ctx) && !v.stopIfUnused(ctx) {
			v.idle.arm(ctx, visitorIdle)
		}
	case *messages.ConnAttach:
		v.attach(ctx, m)
		v.connContext(ctx, m)
	case *messages.Persisted:
		v.contextStored(ctx, m)
	case *messages.ConnDetach:
		v.detach(ctx, m)
	case *messages.GraceExpired:
		v.graceExpired(m)
	case *messages.SessionCommand:
		v.command(ctx, m)
	case *messages.ChannelInbound:
		v.inbound(ctx, m)
	default:
		if !v.conns.receive(ctx, v.b, v.who, m) && !v.chatMessage(ctx, m) {
			ctx.Logger().Warn("visitor: unexpected message", "visitor", v.id, "type", fmt.Sprintf("%T", m))
		}
	}
}

// chatMessage handles the messages about the visitor's chat; it reports
// whether m was one of them.
func (v *visitor) chatMessage(ctx actor.Context, m any) bool {
	switch m := m.(type) {
	case *messages.ChatCommand:
		v.chatCommand(ctx, m)
	case *messages.StartRefused:
		v.startRefused(ctx, m)
	case *messages.ChatJoined:
		if m.GetVisitorSpoke() {
			v.spoke[m.GetChat().GetChatId()] = true
		}
		v.joined(ctx, m.GetChat())
	case *messages.ChatLeft:
		v.left(ctx, m.GetChat())
	case *messages.QueueUpdate:
		if v.chats[m.GetChatId()] != nil {
			v.queue[m.GetChatId()] = m
			v.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_QueueUpdate{QueueUpdate: m}})
		}
	case *messages.ChatEvent:
		v.chatEvent(ctx, m)
	case *messages.TracedEvent:
		v.chatEvent(ctx, m.GetEvent())
	default:
		return false
	}
	return true
}

func (v *visitor) detach(ctx actor.Context, m *messages.ConnDetach) {
	v.conns.remove(m.GetConn())
	v.checkGrace()
	v.lingerIfUnused(ctx)
}

// graceExpired abandons the waiting chats: all of them when the visitor
// did not come back in time, those they said nothing in when the silence
// timer ran out.
func (v *visitor) graceExpired(m *messages.GraceExpired) {
	if m.GetSilence() {
		if v.silent.fired(m.GetToken()) {
			v.abandon(func(id string) bool { return !v.spoke[id] }, "the visitor said nothing while waiting")
		}
	} else if v.grace.fired(m.GetToken()) && v.conns.len() == 0 {
		v.abandon(func(string) bool { return true }, "")
	}
}

// chatCommand passes on a command for one of the visitor's chats; any
// other chat id is refused here, so it activates no chat actor. A rating
// is for a closed chat, which the visitor's actor no longer holds: its
// stored log says whether it is the visitor's (another's looks like none).
func (v *visitor) chatCommand(ctx actor.Context, m *messages.ChatCommand) {
	if id := m.GetChatId(); v.chats[id] == nil && v.starting != id && !(m.GetRate() != nil && v.b.chatOf(id, v.id)) &&
		!(m.GetEmailTranscript() != nil && v.ended.has(id)) {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeNotFound, "no chat %s", id))
		return
	}
	if m.GetSend() != nil {
		v.spoke[m.GetChatId()] = true
		v.checkGrace()
	}
	v.b.Send(KindChat, m.GetChatId(), m)
}

// startRefused: the chat being created was refused or not stored.
func (v *visitor) startRefused(ctx actor.Context, m *messages.StartRefused) {
	if v.starting == m.GetChatId() {
		v.starting = ""
	}
	delete(v.spoke, m.GetChatId())
	defer v.lingerIfUnused(ctx)
	if v.channel {
		v.refusePending(ctx, m)
		return
	}
	if m.GetRefusal() == nil {
		e := m.GetError()
		if e == nil {
			e = messages.TemporaryErrorf(codeUnavailable, "the chat could not be stored; try again")
		}
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
		return
	}
	v.b.offlineOffered(m.GetRefusal())
	ctx.Send(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_ChatRefused{ChatRefused: m.GetRefusal()}})
}

func (v *visitor) left(ctx actor.Context, s *messages.ChatSummary) {
	id := s.GetChatId()
	v.ended.add(id)
	delete(v.chats, id)
	delete(v.queue, id)
	delete(v.spoke, id)
	delete(v.seen, id)
	v.conns.push(ctx, chatEnvelope(s))
	v.checkGrace()
	v.lingerIfUnused(ctx)
}

func (v *visitor) chatEvent(ctx actor.Context, m *messages.ChatEvent) {
	if s := v.chats[m.GetChatId()]; s != nil {
		v.chats[m.GetChatId()] = summaryAfter(s, m)
		if m.GetMessage() != nil {
			v.seen[m.GetChatId()] = m
		}
		if m.GetAssigned() != nil {
			delete(v.queue, m.GetChatId())
		}
		v.conns.deliver(ctx, m)
		v.checkGrace()
	}
}

// unused: no connection, no chat and no chat being created. An unused
// session leaves nothing behind: its actor stops (the next Hello with its
// resume token starts it afresh, with nothing lost).
func (v *visitor) unused() bool {
	return v.conns.len() == 0 && len(v.chats) == 0 && v.starting == ""
}

// lingerIfUnused has an unused actor stop after visitorLinger without a
// message.
func (v *visitor) lingerIfUnused(ctx actor.Context) {
	if v.unused() {
		v.idle.arm(ctx, visitorLinger)
	}
}

// stopIfUnused stops the actor if it is unused.
func (v *visitor) stopIfUnused(ctx actor.Context) bool {
	if v.unused() {
		passivate(ctx)
		return true
	}
	return false
}

// checkGrace runs the grace period while a chat of the visitor waits in
// its queue and no connection is open (also after a restart), and the
// silence timer while a chat waits in which the visitor said nothing.
func (v *visitor) checkGrace() {
	waiting, silent := false, false
	for id, s := range v.chats {
		q := s.GetState() == stateQueued
		waiting = waiting || q
		silent = silent || q && !v.spoke[id]
	}
	// A channel's customer has no connection to lose, and said something.
	waiting, silent = waiting && !v.channel, silent && !v.channel
	v.grace.hold(v.b, v.self, waiting && v.conns.len() == 0, v.b.visitorGrace, graceExpired)
	v.silent.hold(v.b, v.self, silent && v.b.silentWait > 0, v.b.silentWait, silenceExpired)
}

// abandon closes the visitor's waiting chats that which selects.
func (v *visitor) abandon(which func(id string) bool, reason string) {
	for id, s := range v.chats {
		if s.GetState() == stateQueued && which(id) {
			v.b.Send(KindChat, id, &messages.Abandon{ChatId: id, VisitorId: v.id, Reason: reason})
		}
	}
}

func (v *visitor) attach(ctx actor.Context, m *messages.ConnAttach) {
	e := v.conns.add(m.GetConn())
	defer v.checkGrace()
	w := &messages.Welcome{VisitorId: v.id, ResumeToken: m.GetResumeToken()}
	for _, s := range v.chats {
		sc := proto.Clone(s).(*messages.ChatSummary)
		if q := v.queue[s.GetChatId()]; q != nil {
			sc.Position = q.GetPosition()
		}
		if ev := v.seen[s.GetChatId()]; ev != nil {
			sc.LastSeq = max(sc.GetLastSeq(), ev.GetSeq())
			sc.VisitorLastSeq = max(sc.GetVisitorLastSeq(), ev.GetVisitorSeq())
		}
		w.Chats = append(w.Chats, sc)
	}
	ctx.Send(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_Welcome{Welcome: w}})
	for id := range v.chats {
		v.conns.sync(ctx, v.b, e, v.who(), id, m.GetCursors()[id])
		if q := v.queue[id]; q != nil {
			ctx.Send(m.GetConn(), &messages.Envelope{Body: &messages.Envelope_QueueUpdate{QueueUpdate: q}})
		}
	}
}

func (v *visitor) joined(ctx actor.Context, s *messages.ChatSummary) {
	id := s.GetChatId()
	if v.starting == id {
		v.starting = ""
		defer v.flushPending(ctx, id)
	}
	_, known := v.chats[id]
	v.chats[id] = s
	if s.GetState() != stateQueued {
		delete(v.queue, id)
	}
	v.conns.push(ctx, chatEnvelope(s))
	if !known {
		v.conns.syncAll(ctx, v.b, v.who(), id)
		v.storeContextIfChatting(ctx)
	}
	v.checkGrace()
}

func (v *visitor) command(ctx actor.Context, m *messages.SessionCommand) {
	if v.contextCommand(ctx, m) {
		return
	}
	conn, ref := m.GetConn(), m.GetRef()
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_RequestChat:
		r := body.RequestChat
		if err := validateRequest(r); err != nil {
			sendErr(ctx, conn, ref, err)
			return
		}
		if err := v.b.mayWriteIn(v.id, r.GetDepartment()); err != nil {
			sendErr(ctx, conn, ref, err)
			return
		}
		if len(v.chats) > 0 || v.starting != "" {
			v.refused(r.GetDepartment(), messages.RefusalReason_REFUSAL_REASON_ALREADY_IN_CHAT)
			ctx.Send(conn, &messages.Envelope{Ref: ref, Body: &messages.Envelope_ChatRefused{ChatRefused: &messages.ChatRefused{
				Reason: messages.RefusalReason_REFUSAL_REASON_ALREADY_IN_CHAT, Department: r.GetDepartment(),
				Message: "you already have an open chat; close it before starting another"}}})
			return
		}
		v.starting = v.b.newID('c', v.b.clock.Now())
		if r.GetFirstMessage() != "" {
			v.spoke[v.starting] = true
		}
		if v.colleague != nil {
			r.Name = v.colleague.GetDisplayName()
		}
		v.b.Send(KindGroup, r.GetDepartment(), &messages.StartChat{ChatId: v.starting, VisitorId: v.id, Request: r, Conn: conn, Ref: ref, Address: m.GetAddress(),
			Trace: m.GetTrace(), Colleague: v.colleague})
	case *messages.SessionCommand_Resume:
		r := body.Resume
		e := v.conns.get(conn)
		if e == nil || v.chats[r.GetChatId()] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "no chat %s", r.GetChatId()))
			return
		}
		v.conns.sync(ctx, v.b, e, v.who(), r.GetChatId(), r.GetAfterSeq())
		sendAck(ctx, conn, ref, &messages.Ack{ChatId: r.GetChatId()})
	case *messages.SessionCommand_ReopenChat:
		v.reopen(ctx, m, body.ReopenChat.GetChatId())
	case *messages.SessionCommand_LeaveOfflineMessage:
		x := body.LeaveOfflineMessage
		if e := CheckOfflineMessage(x); e != nil {
			sendErr(ctx, conn, ref, e)
			return
		}
		if e := v.b.mayWriteIn(v.id, x.GetDepartment()); e != nil {
			sendErr(ctx, conn, ref, e)
			return
		}
		if v.colleague != nil {
			x.Name = v.colleague.GetDisplayName()
		}
		v.b.Send(KindMail, "main", &messages.OfflineLeft{Conn: conn, Ref: ref, Message: &messages.OfflineMessage{Department: x.GetDepartment(),
			VisitorId: v.id, Name: x.GetName(), Email: x.GetEmail(), Text: x.GetText(), Language: x.GetLanguage()}})
	default:
		sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "visitors cannot send this"))
	}
}

// reopen continues one of the visitor's closed chats (the chat checks it
// is theirs). Like a new chat, it waits as the chat being created: the
// visitor has at most one open chat, and the chat's answer (joined, or
// refused through startRefused) ends the wait.
func (v *visitor) reopen(ctx actor.Context, m *messages.SessionCommand, id string) {
	if len(v.chats) > 0 || v.starting != "" {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeConflict, "you already have an open chat; close it before continuing another"))
		return
	}
	v.starting = id
	v.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: v.who(), Conn: m.GetConn(), Ref: m.GetRef(), Address: m.GetAddress(),
		Body: &messages.ChatCommand_Reopen{Reopen: &messages.ReopenChat{ChatId: id}}})
}

func validateRequest(r *messages.RequestChat) *messages.Error {
	switch {
	case !ValidName(r.GetDepartment()):
		return errorf(codeInvalid, "department must be 1-64 of a-z 0-9 - _ .")
	case r.GetLanguage() == "" || len(r.GetLanguage()) > 16 || strings.ContainsAny(r.GetLanguage(), "/ "):
		return errorf(codeInvalid, "language must be a language code such as en")
	}
	for _, f := range []struct {
		name, text string
		max        int
	}{{"name", r.GetName(), MaxNameBytes}, {"email", r.GetEmail(), MaxNameBytes}, {"first_message", r.GetFirstMessage(), MaxMessageBytes}} {
		if err := CheckText(f.name, f.text, f.max); err != nil {
			return err
		}
	}
	return nil
}

// refused counts a refusal the visitor's actor makes itself, in the
// metrics and the statistics, under the department asked for when there
// is one by that name, else under "" (a visitor may ask for any name:
// labels and dimensions stay bounded).
func (v *visitor) refused(dept string, reason messages.RefusalReason) {
	if d, err := v.b.store.Department(dept); err != nil || d == nil {
		dept = ""
	}
	v.b.statsRefused(dept, reason)
	if v.b.metrics != nil {
		v.b.metrics.refused.WithLabelValues(dept, messages.RefusalName(reason)).Inc()
	}
}

// loadColleague reads who a colleague's session stands for (visitor id
// "staff-<id>"); an anonymous visitor has none.
func (v *visitor) loadColleague(ctx actor.Context) {
	id := ColleagueOf(v.id)
	if id == "" {
		return
	}
	v.colleague = &messages.Participant{Kind: kindAgent, Id: id}
	a, err := v.b.store.Agent(id)
	if err != nil {
		ctx.Logger().Warn("visitor: load colleague", "visitor", v.id, "err", err)
	}
	v.colleague.DisplayName = a.GetDisplayName()
}
