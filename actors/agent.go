package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// agent is the actor of one staff member ("agent/<id>"). It alone decides
// whether the agent takes a chat: an offer reserves a slot (load = active
// chats + pending offers), so no interleaving of offers from several queues
// can push the agent past their limit. Its status is snapshotted; its
// chats are not (they come from the chats themselves).
type agent struct {
	b     *Broker
	id    string
	self  *actor.PID
	rec   *messages.Agent // nil: no such account
	perms Perms           // what the account's role allows

	status   messages.AgentStatus
	conns    conns
	active   map[string]*messages.ChatSummary
	pending  map[string]*pendingOffer // by chat id
	lastAsgn int64
	reported map[string]bool // departments told about this agent
	token    uint64
	acks     map[uint64]pendingAck // status changes waiting to be stored
	picks    uint64
	grace    graceTimer // runs while the agent has chats and no connection

	// Shifts: the timer to the next shift change, and why the status last
	// changed when the broker changed it.
	shiftToken   uint64
	shiftStop    func() bool
	statusReason string
	adminAcks    []pendingAck // commands waiting for the directory (display name, queue online), in order

	// Working together: chats the agent is in without owning them (as a
	// guest or invisible watcher), invitations not answered yet, the
	// departments whose live view they follow, and the transfer-target
	// lists being gathered from the queues.
	joined map[string]*messages.ChatSummary
	// seen is the last seq delivered of each chat in active or joined:
	// their summaries are not copied for every message, so a welcome takes
	// last_seq from here (a console tells what it is shown at login, the
	// history, from what comes after).
	seen       map[string]uint64
	invites    map[string]*messages.Invitation
	monitoring []string
	gathers    map[uint64]*gather
	// Recent offers missed and chats taken, newest first (snapshotted).
	unanswered []*messages.ChatSummary
	answered   []*messages.ChatSummary
	listsArmed bool // a save of the lists is due
	// Chats whose offers to this agent ended (expired, declined,
	// withdrawn), newest last, at most recentKeep: accepting one of them
	// is a CONFLICT (the offer is gone), not a NOT_FOUND.
	gone []string
}

// gather collects one DepartmentView per department for a transfer-target
// list.
type gather struct {
	conn  *actor.PID
	ref   uint64
	need  int
	views []*messages.DepartmentView
}

// recentKeep is how many unanswered and answered chats an agent's lists
// keep.
const recentKeep = 20

type pendingOffer struct {
	offerID  string
	dept     string
	offer    *messages.Offer
	accepted bool
	conn     *actor.PID // who accepted or picked, to answer
	ref      uint64
}

func newAgent(b *Broker, id string) *agent {
	return &agent{b: b, id: id, conns: newConns(), active: map[string]*messages.ChatSummary{},
		pending: map[string]*pendingOffer{}, reported: map[string]bool{}, acks: map[uint64]pendingAck{},
		joined: map[string]*messages.ChatSummary{}, seen: map[string]uint64{}, invites: map[string]*messages.Invitation{}, gathers: map[uint64]*gather{}}
}

func (a *agent) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.self = ctx.Self()
		a.load(ctx)
		a.planShift()
	case *messages.ShiftTick:
		if m.GetToken() == a.shiftToken {
			a.shiftTick(ctx)
		}
	case *messages.FlushViews: // the recent lists' save timer
		a.listsArmed = false
		a.saveSnapshot()
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.AdminReply:
		if len(a.adminAcks) == 0 {
			return
		}
		p := a.adminAcks[0]
		a.adminAcks = a.adminAcks[1:]
		if e := m.GetError(); e != nil {
			if p.audit != nil {
				p.audit.Ok, p.audit.Detail = false, p.audit.GetDetail()+": "+e.GetMessage()
				a.b.Audit(p.audit)
			}
			sendErr(ctx, p.conn, p.ref, e)
		} else {
			if p.audit != nil {
				a.b.Audit(p.audit)
			}
			sendAck(ctx, p.conn, p.ref, p.ack)
		}
	case *messages.DirectoryChanged:
		old := a.rec.GetDisplayName()
		a.load(ctx)
		if name := a.rec.GetDisplayName(); a.rec != nil && old != "" && name != old {
			for id := range a.active {
				a.b.Send(KindChat, id, &messages.AgentRenamed{AgentId: a.id, DisplayName: name})
			}
		}
		a.applyAccount(ctx)
		a.report(ctx)
		a.planShift()
	case *messages.ConnAttach:
		a.attach(ctx, m)
	case *messages.ConnDetach:
		a.conns.remove(m.GetConn())
		if a.conns.len() == 0 {
			a.declineUnaccepted(ctx)
			a.watch(nil)
		}
		a.report(ctx)
		a.checkGrace()
	case *messages.GraceExpired:
		if a.grace.expired(m) && a.conns.len() == 0 {
			why := fmt.Sprintf("%s lost their connection and did not come back within %s", a.rec.GetDisplayName(), a.b.agentGrace)
			for id := range a.active {
				a.b.Send(KindChat, id, &messages.Handback{ChatId: id, AgentId: a.id, Reason: why})
			}
			a.leaveJoined(ctx)
		}
	case *messages.SessionCommand:
		a.command(ctx, m)
	case *messages.OfferChat:
		a.offered(ctx, m)
	case *messages.RevokeOffer:
		a.revoked(ctx, m)
	case *messages.PickRefused:
		if p := a.pending[m.GetChatId()]; p != nil && p.offerID == m.GetOfferId() {
			delete(a.pending, m.GetChatId())
			a.changed(ctx)
			sendErr(ctx, p.conn, p.ref, errorf(codeConflict, "%s", m.GetReason()))
		}
	case *messages.AssignResult:
		a.assigned(ctx, m)
	case *messages.ChatJoined:
		if m.GetGuest() {
			a.joinAsGuest(ctx, m.GetChat())
			return
		}
		a.join(ctx, m.GetChat())
		a.changed(ctx)
	case *messages.Invitation:
		a.invites[m.GetChatId()] = m
		a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_Invitation{Invitation: m}})
	case *messages.ManagedStatus:
		if _, ok := messages.AgentStatus_name[int32(m.GetStatus())]; !ok || a.rec == nil {
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "unknown status %d", m.GetStatus()))
			return
		}
		if m.GetStatus() != statusAvailable {
			a.declineUnaccepted(ctx)
		}
		a.setStatus(ctx, m.GetStatus(), fmt.Sprintf("%s (manager) set your status to %s", m.GetBy(), statusWord(m.GetStatus())))
		a.acks[a.token] = pendingAck{conn: m.GetConn(), ref: m.GetRef(), ack: &messages.Ack{}}
	case *messages.WaitingAnswer:
		l := m.GetList()
		a.refreshLists(ctx)
		l.Unanswered, l.Answered = slices.Clone(a.unanswered), slices.Clone(a.answered)
		ctx.Send(m.GetConn(), &messages.Envelope{Ref: m.GetRef(), Body: &messages.Envelope_WaitingList{WaitingList: l}})
	case *messages.ViewAnswer:
		a.gathered(ctx, m)
	case *messages.ChatLeft:
		id := m.GetChat().GetChatId()
		delete(a.seen, id)
		if _, ok := a.invites[id]; ok {
			delete(a.invites, id)
			a.conns.push(ctx, chatEnvelope(m.GetChat()))
		}
		if _, ok := a.joined[id]; ok {
			delete(a.joined, id)
			a.conns.push(ctx, chatEnvelope(m.GetChat()))
			a.checkGrace()
		}
		if _, ok := a.active[id]; ok {
			delete(a.active, id)
			a.conns.push(ctx, chatEnvelope(m.GetChat()))
			if a.status == messages.AgentStatus_AGENT_STATUS_DRAINING && len(a.active) == 0 {
				a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_OFFLINE, "your shift ended and your last chat closed")
				return
			}
			a.changed(ctx)
		}
	case *messages.ChatEvent:
		if s := a.active[m.GetChatId()]; s != nil {
			a.active[m.GetChatId()] = summaryAfter(s, m)
			a.seen[m.GetChatId()] = m.GetSeq()
			a.conns.deliver(ctx, m)
		} else if s := a.joined[m.GetChatId()]; s != nil {
			a.joined[m.GetChatId()] = summaryAfter(s, m)
			a.seen[m.GetChatId()] = m.GetSeq()
			a.conns.deliver(ctx, m)
		}
	case *messages.ReplayBatch:
		a.conns.replayed(ctx, m)
	case *messages.ReplayNext:
		a.conns.next(ctx, a.b, a.who(), m)
	case *messages.Envelope: // typing notices
		a.conns.push(ctx, m)
	case *messages.Persisted:
		if ack, ok := a.acks[m.GetToken()]; ok {
			delete(a.acks, m.GetToken())
			if m.GetError() != nil {
				sendErr(ctx, ack.conn, ack.ref, m.GetError())
			} else {
				sendAck(ctx, ack.conn, ack.ref, ack.ack)
			}
		}
	default:
		ctx.Logger().Warn("agent: unexpected message", "agent", a.id, "type", fmt.Sprintf("%T", m))
	}
}

func (a *agent) load(ctx actor.Context) {
	rec, err := a.b.store.Agent(a.id)
	if err != nil {
		ctx.Logger().Error("agent: load", "agent", a.id, "err", err)
		return
	}
	a.rec = rec
	if perms, err := a.b.Permissions(rec); err == nil {
		a.perms = perms
	} else {
		ctx.Logger().Error("agent: load role", "agent", a.id, "err", err)
	}
	if snap, err := a.b.store.AgentSnapshot(a.id); err == nil && snap != nil && a.status == 0 {
		a.status, a.statusReason = snap.GetStatus(), snap.GetReason()
		a.unanswered, a.answered = snap.GetUnanswered(), snap.GetAnswered()
	}
}

func (a *agent) max() uint32 {
	if n := a.rec.GetMaxChats(); n > 0 {
		return n
	}
	return DefaultMaxChats
}

func (a *agent) loadCount() uint32 { return uint32(len(a.active) + len(a.pending)) }

func (a *agent) who() *messages.Participant {
	return &messages.Participant{Kind: kindAgent, Id: a.id, DisplayName: a.rec.GetDisplayName()}
}

func (a *agent) state() *messages.AgentState {
	return &messages.AgentState{AgentId: a.id, Status: a.status, ActiveChats: uint32(len(a.active)), MaxChats: a.max(),
		PendingOffers: uint32(len(a.pending)), Reason: a.statusReason}
}

// CloseSuspended is the websocket close code for a suspended or removed
// account.
const CloseSuspended = 4003

// CloseLoggedOut is the websocket close code for a socket whose session
// ended: logged out, or the account's password changed.
const CloseLoggedOut = 4004

// endedSession is why a socket of a session from before the account's
// sessions_after_ms closes.
const endedSession = "this session has ended (the password changed); log in again"

// applyAccount makes a changed account take effect at once: a suspended or
// removed account loses its sockets (4003) and its chats go back to
// routing; offers from departments the agent left, or any offer once they
// are no longer a live chat agent, are withdrawn. A lower limit keeps the
// current chats and stops new offers (canTake).
func (a *agent) applyAccount(ctx actor.Context) {
	if a.rec == nil || a.rec.GetSuspended() || !a.perms.Has(PermLiveChat) {
		why := "this account was removed"
		switch {
		case a.rec != nil && a.rec.GetSuspended():
			why = "this account is suspended"
		case a.rec != nil:
			why = "your role no longer has live chat access"
		}
		for _, p := range a.pending {
			if !p.accepted && p.offer != nil {
				a.decline(ctx, p)
			}
		}
		for _, e := range a.conns.byID {
			ctx.Send(e.pid, &messages.CloseConn{Code: CloseSuspended, Reason: why})
		}
		for id := range a.active {
			a.b.Send(KindChat, id, &messages.Handback{ChatId: id, AgentId: a.id, Reason: "the agent's account is no longer active"})
		}
		a.leaveJoined(ctx)
		a.changed(ctx)
		return
	}
	for _, e := range a.conns.byID {
		if e.epoch != a.rec.GetSessionEpoch() {
			ctx.Send(e.pid, &messages.CloseConn{Code: CloseLoggedOut, Reason: endedSession})
		}
	}
	for _, p := range a.pending {
		if p.accepted || p.offer == nil {
			continue
		}
		if !a.rec.GetChatAgent() || !a.perms.Has(PermAcceptChats) || !slices.Contains(a.rec.GetDepartments(), p.dept) {
			a.decline(ctx, p)
			a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{
				ChatId: p.offer.GetChatId(), Reason: "you are no longer in department " + p.dept}}})
		}
	}
	a.changed(ctx)
}

// changed tells the connections and the queues about a new state.
func (a *agent) changed(ctx actor.Context) {
	a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_AgentState{AgentState: a.state()}})
	a.report(ctx)
	a.checkGrace()
}

// checkGrace runs the grace period while the agent has chats but no
// connection (also after a restart, until they reconnect).
func (a *agent) checkGrace() {
	a.grace.update(a.b, a.self, a.conns.len() == 0 && len(a.active)+len(a.joined) > 0, a.b.agentGrace)
}

// report tells each of the agent's departments' queues its state, and the
// ones it left that it is gone.
func (a *agent) report(ctx actor.Context) {
	var deps []string
	if a.rec != nil && a.rec.GetChatAgent() && !a.rec.GetSuspended() && a.perms.Has(PermAcceptChats) {
		deps = a.rec.GetDepartments()
	}
	for d := range a.reported {
		if !slices.Contains(deps, d) {
			delete(a.reported, d)
			a.b.Send(KindQueue, d, &messages.AgentReport{AgentId: a.id, Member: false})
		}
	}
	for _, d := range deps {
		a.reported[d] = true
		a.b.Send(KindQueue, d, &messages.AgentReport{
			AgentId: a.id, DisplayName: a.rec.GetDisplayName(), Status: a.status, Connected: a.conns.len() > 0,
			Languages: a.rec.GetLanguages(), MaxChats: a.max(), Load: a.loadCount(), LastAssignedMs: a.lastAsgn, Member: true,
		})
	}
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

func (a *agent) command(ctx actor.Context, m *messages.SessionCommand) {
	conn, ref := m.GetConn(), m.GetRef()
	if a.rec == nil {
		sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "no such account"))
		return
	}
	if need := commandPermission(m); need != "" && !a.perms.Has(need) {
		sendErr(ctx, conn, ref, errorf(codeForbidden, "your role does not allow this (%s)", need))
		return
	}
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_SetStatus:
		st := body.SetStatus.GetStatus()
		if _, ok := messages.AgentStatus_name[int32(st)]; !ok {
			sendErr(ctx, conn, ref, errorf(codeInvalid, "unknown status %d", st))
			return
		}
		if st != statusAvailable {
			a.declineUnaccepted(ctx)
		}
		a.setStatus(ctx, st, "")
		a.acks[a.token] = pendingAck{conn: conn, ref: ref, ack: &messages.Ack{}}
	case *messages.SessionCommand_AcceptOffer:
		id := body.AcceptOffer.GetChatId()
		p := a.pending[id]
		if (p == nil || p.offer == nil) && slices.Contains(a.gone, id) {
			sendErr(ctx, conn, ref, errorf(codeConflict, "the offer for chat %s is gone (it expired, was declined or was withdrawn)", id))
			return
		}
		if p == nil || p.offer == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "no offer for chat %s", id))
			return
		}
		if p.accepted {
			sendErr(ctx, conn, ref, errorf(codeConflict, "the offer for chat %s is already accepted", body.AcceptOffer.GetChatId()))
			return
		}
		p.accepted, p.conn, p.ref = true, conn, ref
		a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: p.offer.GetChatId(), AgentId: a.id, Accepted: true})
	case *messages.SessionCommand_DeclineOffer:
		p := a.pending[body.DeclineOffer.GetChatId()]
		if p == nil || p.offer == nil || p.accepted {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "no open offer for chat %s", body.DeclineOffer.GetChatId()))
			return
		}
		a.decline(ctx, p)
		sendAck(ctx, conn, ref, &messages.Ack{ChatId: p.offer.GetChatId()})
		a.changed(ctx)
	case *messages.SessionCommand_PickChat:
		a.pick(ctx, conn, ref, body.PickChat)
	case *messages.SessionCommand_ListWaiting:
		d := body.ListWaiting.GetDepartment()
		if !slices.Contains(a.rec.GetDepartments(), d) {
			sendErr(ctx, conn, ref, errorf(codeForbidden, "you are not in department %q", d))
			return
		}
		a.b.Send(KindQueue, d, &messages.WaitingQuery{Conn: conn, Ref: ref, AgentId: a.id})
	case *messages.SessionCommand_SetChatStatus:
		id := body.SetChatStatus.GetChatId()
		if a.active[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
			return
		}
		a.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: a.who(), Conn: conn, Ref: ref, Address: m.GetAddress(),
			Body: &messages.ChatCommand_SetStatus{SetStatus: body.SetChatStatus}})
	case *messages.SessionCommand_SetDisplayName:
		// The directory is the one writer of accounts; its answer comes
		// back as an AdminReply, in order.
		a.adminAcks = append(a.adminAcks, pendingAck{conn: conn, ref: ref, ack: &messages.Ack{},
			audit: a.auditOf(m, "agent.display_name", a.id, "display name set to "+body.SetDisplayName.GetDisplayName())})
		ctx.Request(a.b.PID(KindDirectory, "main"), &messages.AdminCommand{Body: &messages.AdminCommand_SetDisplayName{
			SetDisplayName: &messages.DisplayNameChange{AgentId: a.id, DisplayName: body.SetDisplayName.GetDisplayName()}}})
	case *messages.SessionCommand_Resume:
		r := body.Resume
		e := a.conns.get(conn)
		if e == nil || a.active[r.GetChatId()] == nil && a.joined[r.GetChatId()] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", r.GetChatId()))
			return
		}
		a.conns.sync(ctx, a.b, e, a.who(), r.GetChatId(), r.GetAfterSeq())
		sendAck(ctx, conn, ref, &messages.Ack{ChatId: r.GetChatId()})
	default:
		if !a.together(ctx, m) {
			sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "agents cannot send this"))
		}
	}
}

// planShift arms the timer for the agent's next shift change (a shift
// starting or ending), if they have a schedule.
func (a *agent) planShift() {
	if a.shiftStop != nil {
		a.shiftStop()
		a.shiftStop = nil
	}
	sch := a.rec.GetSchedule()
	if len(sch.GetShifts()) == 0 {
		return
	}
	now := a.b.clock.Now()
	at := nextShiftChange(sch, now)
	if at.IsZero() {
		return
	}
	a.shiftToken++
	t, self, root := a.shiftToken, a.self, a.b.root
	a.shiftStop = a.b.clock.AfterFunc(at.Sub(now), func() { root.Send(self, &messages.ShiftTick{Token: t}) })
}

// shiftTick brings the agent online when a shift starts, and drains them
// when it ends: no new offers, their chats go on, then offline.
func (a *agent) shiftTick(ctx actor.Context) {
	sch := a.rec.GetSchedule()
	inShift, _ := BusinessHours(sch.GetShifts(), sch.GetTimeZone(), a.b.clock.Now())
	switch {
	case inShift && a.status != statusAvailable:
		a.setStatus(ctx, statusAvailable, "your shift started")
	case !inShift && a.status != messages.AgentStatus_AGENT_STATUS_OFFLINE && a.status != messages.AgentStatus_AGENT_STATUS_DRAINING:
		if len(a.active) > 0 {
			a.declineUnaccepted(ctx)
			a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_DRAINING, "your shift ended: no new chats; finish the ones you have")
		} else {
			a.declineUnaccepted(ctx)
			a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_OFFLINE, "your shift ended")
		}
	}
	a.planShift()
}

// setStatus changes the status on the broker's own account (shifts,
// managers), stores it and tells the agent why.
func (a *agent) setStatus(ctx actor.Context, st messages.AgentStatus, why string) {
	a.status, a.statusReason = st, why
	a.saveSnapshot()
	a.changed(ctx)
}

// refreshLists brings the recent lists' states up to date from the
// open-chats index before they are shown: the agent hears nothing of a
// chat it missed once it closes or someone else takes it.
func (a *agent) refreshLists(ctx actor.Context) {
	changed := false
	for _, list := range [][]*messages.ChatSummary{a.unanswered, a.answered} {
		for i, s := range list {
			if s.GetState() == stateClosed {
				continue
			}
			oc, err := a.b.store.OpenChat(s.GetChatId())
			if err != nil {
				ctx.Logger().Error("agent: refresh lists", "agent", a.id, "chat", s.GetChatId(), "err", err)
				return
			}
			st := stateClosed
			if oc != nil {
				st = oc.GetState()
			}
			if st != s.GetState() {
				// A copy: the old summary may be on its way to a socket.
				list[i] = copySummary(s)
				list[i].State, changed = st, true
			}
		}
	}
	if changed {
		a.listsChanged()
	}
}

// listsChanged saves the recent lists within listsSave: they are a view
// of history, not acknowledged data, so an assignment does not pay for a
// write of its own. (A status change saves them at once too.)
func (a *agent) listsChanged() {
	if a.listsArmed {
		return
	}
	a.listsArmed = true
	self, root := a.self, a.b.root
	a.b.clock.AfterFunc(listsSave, func() { root.Send(self, &messages.FlushViews{}) })
}

// listsSave is how long a change to the recent lists may wait to be saved.
const listsSave = time.Second

// saveSnapshot stores the agent's status and recent lists; a.token names
// the write (Persisted answers the ack registered under it, if any).
func (a *agent) saveSnapshot() {
	a.token++
	a.b.store.SaveAgentSnapshot(&messages.AgentSnapshot{AgentId: a.id, Status: a.status, Reason: a.statusReason,
		Unanswered: a.unanswered, Answered: a.answered}, a.b.notifier(a.self, a.token))
}

// auditOf is the audit entry of one of the agent's commands: who, from
// where, about what.
func (a *agent) auditOf(m *messages.SessionCommand, kind, subject, detail string) *messages.AuditEntry {
	return &messages.AuditEntry{Kind: kind, Actor: a.id, Address: m.GetAddress(), Subject: subject, Detail: detail, Ok: true}
}

// commandPermission is the permission an agent's session command needs.
func commandPermission(m *messages.SessionCommand) string {
	switch m.GetBody().(type) {
	case *messages.SessionCommand_AcceptOffer, *messages.SessionCommand_DeclineOffer, *messages.SessionCommand_PickChat:
		return PermAcceptChats
	case *messages.SessionCommand_ListWaiting:
		return PermViewChats
	case *messages.SessionCommand_SetChatStatus:
		return PermChatStatus
	case *messages.SessionCommand_SetDisplayName:
		return PermDisplayName
	case *messages.SessionCommand_TransferChat, *messages.SessionCommand_ListTransferTargets:
		return PermForward
	case *messages.SessionCommand_InviteAgent:
		return PermInvite
	case *messages.SessionCommand_TakeOver:
		return PermTakeOver
	case *messages.SessionCommand_SetQueueOnline, *messages.SessionCommand_SetAgentStatus:
		return PermManageQueues
	}
	// JoinChat (chats.join, chats.join_invisible, or an invitation) and
	// Monitor (supervise or queues.manage) are checked where the facts
	// are: by the chat, and in monitor.
	return PermLiveChat
}

// canTake says why the agent cannot take one more chat now, or "".
func (a *agent) canTake() string {
	switch {
	case a.rec == nil || !a.rec.GetChatAgent() || a.rec.GetSuspended() || !a.perms.Has(PermAcceptChats):
		return "not a live chat agent"
	case a.status != statusAvailable:
		return "not available"
	case a.conns.len() == 0:
		return "not connected"
	case a.loadCount() >= a.max():
		return fmt.Sprintf("at the limit of %d chats", a.max())
	}
	return ""
}

func (a *agent) offered(ctx actor.Context, m *messages.OfferChat) {
	o := m.GetOffer()
	if why := a.canTake(); why != "" || a.pending[o.GetChatId()] != nil || a.active[o.GetChatId()] != nil ||
		!slices.Contains(a.rec.GetDepartments(), o.GetDepartment()) || !m.GetTargeted() && !slices.Contains(a.rec.GetLanguages(), o.GetLanguage()) {
		a.b.Send(KindQueue, o.GetDepartment(), &messages.OfferReply{OfferId: m.GetOfferId(), ChatId: o.GetChatId(), AgentId: a.id, Busy: true})
		a.report(ctx)
		return
	}
	p := &pendingOffer{offerID: m.GetOfferId(), dept: o.GetDepartment(), offer: o}
	a.pending[o.GetChatId()] = p
	if a.rec.GetAutoAccept() && a.perms.Has(PermAutoAccept) {
		p.accepted = true
		a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: o.GetChatId(), AgentId: a.id, Accepted: true})
	} else {
		a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_Offer{Offer: o}})
	}
	a.changed(ctx)
}

func (a *agent) decline(ctx actor.Context, p *pendingOffer) {
	delete(a.pending, p.offer.GetChatId())
	a.offerGone(p.offer.GetChatId())
	a.missed(p.offer)
	a.b.Send(KindQueue, p.dept, &messages.OfferReply{OfferId: p.offerID, ChatId: p.offer.GetChatId(), AgentId: a.id})
}

// declineUnaccepted hands back every offer nobody accepted yet, when the
// agent goes away or loses their last connection.
func (a *agent) declineUnaccepted(ctx actor.Context) {
	for _, p := range a.pending {
		if !p.accepted && p.offer != nil {
			a.decline(ctx, p)
			a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{ChatId: p.offer.GetChatId(), Reason: "you are no longer available"}}})
		}
	}
}

func (a *agent) revoked(ctx actor.Context, m *messages.RevokeOffer) {
	p := a.pending[m.GetChatId()]
	if p == nil || p.offerID != m.GetOfferId() {
		return
	}
	delete(a.pending, m.GetChatId())
	a.offerGone(m.GetChatId())
	if !p.accepted && p.offer != nil && m.GetReason() == reasonExpired {
		a.missed(p.offer)
	}
	a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_OfferWithdrawn{OfferWithdrawn: &messages.OfferWithdrawn{ChatId: m.GetChatId(), Reason: m.GetReason()}}})
	a.changed(ctx)
	if p.accepted {
		sendErr(ctx, p.conn, p.ref, errorf(codeConflict, "the offer for chat %s is gone: %s", m.GetChatId(), m.GetReason()))
	}
}

// offerGone remembers that the offer of chat id ended.
func (a *agent) offerGone(id string) {
	a.gone = append(slices.DeleteFunc(a.gone, func(x string) bool { return x == id }), id)
	if len(a.gone) > recentKeep {
		a.gone = slices.Delete(a.gone, 0, len(a.gone)-recentKeep)
	}
}

func (a *agent) pick(ctx actor.Context, conn *actor.PID, ref uint64, m *messages.PickChat) {
	switch {
	case !slices.Contains(a.rec.GetDepartments(), m.GetDepartment()):
		sendErr(ctx, conn, ref, errorf(codeForbidden, "you are not in department %q", m.GetDepartment()))
		return
	case a.pending[m.GetChatId()] != nil || a.active[m.GetChatId()] != nil:
		sendErr(ctx, conn, ref, errorf(codeConflict, "chat %s is already yours or offered to you", m.GetChatId()))
		return
	}
	if why := a.canTake(); why != "" {
		sendErr(ctx, conn, ref, errorf(codeConflict, "you cannot take a chat now: %s", why))
		return
	}
	a.picks++
	id := fmt.Sprintf("pick:%s:%d", a.id, a.picks)
	a.pending[m.GetChatId()] = &pendingOffer{offerID: id, dept: m.GetDepartment(), accepted: true, conn: conn, ref: ref}
	a.b.Send(KindQueue, m.GetDepartment(), &messages.PickRequest{ChatId: m.GetChatId(), AgentId: a.id, AgentName: a.rec.GetDisplayName(), OfferId: id})
	a.changed(ctx)
}

func (a *agent) assigned(ctx actor.Context, m *messages.AssignResult) {
	p := a.pending[m.GetChatId()]
	if p != nil && p.offerID == m.GetOfferId() {
		delete(a.pending, m.GetChatId())
	} else {
		p = nil
	}
	if !m.GetOk() {
		// The freed slot is pushed before the answer: when the client
		// reads the refusal, its agent_state already counts no reservation.
		a.changed(ctx)
		if p != nil {
			e := m.GetError()
			if e == nil {
				e = errorf(codeConflict, "chat %s could not be assigned (it ended meanwhile)", m.GetChatId())
			}
			sendErr(ctx, p.conn, p.ref, e)
		}
		return
	}
	// The assignment is stored: it is a fact even if we no longer expected it.
	a.lastAsgn = a.b.clock.Now().UnixMilli()
	delete(a.joined, m.GetChatId()) // a guest who took the chat over
	a.join(ctx, m.GetChat())
	a.answered = remember(a.answered, m.GetChat())
	a.listsChanged()
	if p != nil {
		sendAck(ctx, p.conn, p.ref, &messages.Ack{ChatId: m.GetChatId()})
	}
	a.changed(ctx)
}

func (a *agent) join(ctx actor.Context, s *messages.ChatSummary) {
	if a.active[s.GetChatId()] != nil {
		return
	}
	a.active[s.GetChatId()] = s
	a.conns.push(ctx, chatEnvelope(s))
	a.conns.syncAll(ctx, a.b, a.who(), s.GetChatId())
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
