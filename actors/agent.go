package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// agent is the actor of one staff member ("agent/<id>"). It alone decides
// whether the agent takes a chat: an offer reserves a slot (load = active
// chats + pending offers), so no interleaving of offers from several queues
// can push the agent past their limit. Its status is snapshotted; its
// chats are not (they come from the chats themselves).
//
// Its concerns live in their own files: offers and capacity
// (agent_offers.go), connections and the chats they show (agent_conns.go),
// status and shifts (agent_status.go), working with colleagues on chats
// (agent_together.go), monitoring and managing departments
// (agent_supervision.go). This file holds the type, the dispatch, the
// account and the snapshot.
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
	acks     map[uint64]statusAck // status changes waiting to be stored
	picks    uint64
	grace    timer // runs while the agent has chats and no connection

	// Shifts: the timer to the next shift change, and why the status last
	// changed when the broker changed it.
	shift        timer
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
	listsSave  timer // runs while a save of the lists is due
	// Chats whose offers to this agent ended (expired, declined,
	// withdrawn), newest last, at most recentKeep: accepting one of them
	// is a CONFLICT (the offer is gone), not a NOT_FOUND.
	gone []string
	// counted is what this instance adds to the agents-by-status gauges;
	// given back when it stops or restarts.
	counted agentCount
	// statsLast is the activity last stored for the statistics.
	statsLast *messages.AgentActivity
}

func newAgent(b *Broker, id string) *agent {
	return &agent{b: b, id: id, conns: newConns(), active: map[string]*messages.ChatSummary{},
		pending: map[string]*pendingOffer{}, reported: map[string]bool{}, acks: map[uint64]statusAck{},
		joined: map[string]*messages.ChatSummary{}, seen: map[string]uint64{}, invites: map[string]*messages.Invitation{}, gathers: map[uint64]*gather{}}
}

// Receive dispatches: the actor's own life, account and storage answers
// here, the rest to the handlers of each concern.
func (a *agent) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.self = ctx.Self()
		a.load(ctx)
		a.planShift()
	case *actor.Stopped, *actor.Restarting:
		a.counted.drop()
	case *actor.Stopping:
	case *messages.SaveListsDue:
		if a.listsSave.fired(m.GetToken()) {
			a.saveSnapshot()
		}
	case *messages.Persisted:
		a.persisted(ctx, m)
	case *messages.AdminReply:
		a.adminReplied(ctx, m)
	case *messages.DirectoryChanged:
		a.directoryChanged(ctx)
	case *messages.SessionCommand:
		a.command(ctx, m)
	default:
		if !a.offerMessage(ctx, m) && !a.connMessage(ctx, m) && !a.statusMessage(ctx, m) && !a.togetherMessage(ctx, m) {
			ctx.Logger().Warn("agent: unexpected message", "agent", a.id, "type", fmt.Sprintf("%T", m))
		}
	}
}

// command checks that the account exists and its role allows m, then
// hands m to the concern it belongs to.
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
	if !a.offerCommand(ctx, m) && !a.connCommand(ctx, m) && !a.statusCommand(ctx, m) && !a.accountCommand(ctx, m) &&
		!a.togetherCommand(ctx, m) && !a.supervisionCommand(ctx, m) && !a.deskCommand(ctx, m) {
		sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "agents cannot send this"))
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

func (a *agent) who() *messages.Participant {
	return &messages.Participant{Kind: kindAgent, Id: a.id, DisplayName: a.rec.GetDisplayName()}
}

func (a *agent) state() *messages.AgentState {
	return &messages.AgentState{AgentId: a.id, Status: a.status, ActiveChats: uint32(len(a.active)), MaxChats: a.max(),
		PendingOffers: uint32(len(a.pending)), Reason: a.statusReason}
}

// changed tells the connections and the queues about a new state.
func (a *agent) changed(ctx actor.Context) {
	a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_AgentState{AgentState: a.state()}})
	a.report(ctx)
	a.checkGrace()
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

// directoryChanged reloads the account and makes the change take effect.
func (a *agent) directoryChanged(ctx actor.Context) {
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
}

// applyAccount makes a changed account take effect at once: a suspended or
// removed account loses its sockets (4003) and its chats go back to
// routing; offers from departments the agent left, or any offer once they
// are no longer a live chat agent, are withdrawn. A lower limit keeps the
// current chats and stops new offers (canTake).
func (a *agent) applyAccount(ctx actor.Context) {
	if a.rec == nil || a.rec.GetSuspended() || !a.perms.Has(PermLiveChat) {
		a.deactivated(ctx)
		return
	}
	for _, e := range a.conns.byID {
		if e.epoch != a.rec.GetSessionEpoch() {
			ctx.Send(e.pid, &messages.CloseConn{Code: CloseLoggedOut, Reason: endedSession})
		}
	}
	a.withdrawOutside(ctx)
	a.changed(ctx)
}

// deactivated ends everything of an account that is removed, suspended or
// no longer has live chat access.
func (a *agent) deactivated(ctx actor.Context) {
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
}

// accountCommand handles the agent's commands on their own account.
func (a *agent) accountCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	body, ok := m.GetBody().(*messages.SessionCommand_SetDisplayName)
	if !ok {
		return false
	}
	// The directory is the one writer of accounts; its answer comes back
	// as an AdminReply, in order.
	a.adminAcks = append(a.adminAcks, pendingAck{conn: m.GetConn(), ref: m.GetRef(), ack: &messages.Ack{},
		audit: a.auditOf(m, "agent.display_name", a.id, "display name set to "+body.SetDisplayName.GetDisplayName())})
	ctx.Request(a.b.PID(KindDirectory, "main"), &messages.AdminCommand{Body: &messages.AdminCommand_SetDisplayName{
		SetDisplayName: &messages.DisplayNameChange{AgentId: a.id, DisplayName: body.SetDisplayName.GetDisplayName()}}})
	return true
}

// adminReplied answers the oldest command waiting for the directory.
func (a *agent) adminReplied(ctx actor.Context, m *messages.AdminReply) {
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
		return
	}
	if p.audit != nil {
		a.b.Audit(p.audit)
	}
	sendAck(ctx, p.conn, p.ref, p.ack)
}

// auditOf is the audit entry of one of the agent's commands: who, from
// where, about what.
func (a *agent) auditOf(m *messages.SessionCommand, kind, subject, detail string) *messages.AuditEntry {
	return &messages.AuditEntry{Kind: kind, Actor: a.id, Address: m.GetAddress(), Subject: subject, Detail: detail, Ok: true}
}

// saveSnapshot stores the agent's status and recent lists; a.token names
// the write (Persisted answers the ack registered under it, if any).
func (a *agent) saveSnapshot() {
	a.token++
	a.b.store.SaveAgentSnapshot(&messages.AgentSnapshot{AgentId: a.id, Status: a.status, Reason: a.statusReason,
		Unanswered: a.unanswered, Answered: a.answered}, a.b.notifier(a.self, a.token))
}

// persisted answers the command whose snapshot write this was.
func (a *agent) persisted(ctx actor.Context, m *messages.Persisted) {
	ack, ok := a.acks[m.GetToken()]
	if !ok {
		return
	}
	delete(a.acks, m.GetToken())
	if m.GetError() != nil {
		a.statusNotStored(ctx, m.GetToken(), ack)
		sendErr(ctx, ack.conn, ack.ref, m.GetError())
	} else {
		sendAck(ctx, ack.conn, ack.ref, ack.ack)
	}
}

// listsChanged saves the recent lists within listsSaveAfter: they are a
// view of history, not acknowledged data, so an assignment does not pay
// for a write of its own. (A status change saves them at once too.)
func (a *agent) listsChanged() {
	if !a.listsSave.armed {
		a.listsSave.start(a.b, a.self, listsSaveAfter, saveListsDue)
	}
}

// listsSaveAfter is how long a change to the recent lists may wait to be
// saved.
const listsSaveAfter = time.Second

// pendingAck is an answer held until a write is durable (the chat's writes
// list ack steps instead).
type pendingAck struct {
	conn  *actor.PID
	ref   uint64
	ack   *messages.Ack
	audit *messages.AuditEntry // written with the answer, if any
}
