package actors

import (
	"fmt"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// reasonExpired is the reason of an offer withdrawn because its time ran
// out (it counts as unanswered).
const reasonExpired = "the offer expired"

// together handles an agent's commands for working with others: transfer,
// invite, join, leave, take-over, and the supervisors' and managers'
// commands. The permission was checked by command; what depends on a
// chat is checked by the chat. It reports whether m was one of these.
func (a *agent) together(ctx actor.Context, m *messages.SessionCommand) bool {
	conn, ref := m.GetConn(), m.GetRef()
	toChat := func(id string, cmd *messages.ChatCommand) {
		cmd.ChatId, cmd.From, cmd.Conn, cmd.Ref, cmd.Address = id, a.who(), conn, ref, m.GetAddress()
		cmd.Departments = a.rec.GetDepartments()
		for _, p := range AllPermissions {
			if a.perms.Has(p) {
				cmd.Perms = append(cmd.Perms, p)
			}
		}
		a.b.Send(KindChat, id, cmd)
	}
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_TransferChat:
		id := body.TransferChat.GetChatId()
		if a.active[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you do not have chat %s", id))
			return true
		}
		toChat(id, &messages.ChatCommand{Body: &messages.ChatCommand_Transfer{Transfer: body.TransferChat}})
	case *messages.SessionCommand_InviteAgent:
		id := body.InviteAgent.GetChatId()
		if a.active[id] == nil && a.joined[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
			return true
		}
		toChat(id, &messages.ChatCommand{Body: &messages.ChatCommand_Invite{Invite: body.InviteAgent}})
	case *messages.SessionCommand_JoinChat:
		// The permission first (the chat checks it again, with what it
		// knows): an invitation lets one join visibly without chats.join.
		j := body.JoinChat
		need := PermJoin
		if j.GetInvisible() {
			need = PermJoinInvisible
		}
		if !a.perms.Has(need) && (j.GetInvisible() || a.invites[j.GetChatId()] == nil) {
			sendErr(ctx, conn, ref, errorf(codeForbidden, "your role does not allow this (%s)", need))
			return true
		}
		toChat(j.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Join{Join: j}})
	case *messages.SessionCommand_DeclineInvite:
		toChat(body.DeclineInvite.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_DeclineInvite{DeclineInvite: body.DeclineInvite}})
	case *messages.SessionCommand_LeaveChat:
		id := body.LeaveChat.GetChatId()
		switch {
		case a.active[id] != nil:
			sendErr(ctx, conn, ref, errorf(codeConflict, "the chat's agent cannot leave it: close it, transfer it, or hand it over to a guest (transfer)"))
		case a.joined[id] == nil:
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
		default:
			toChat(id, &messages.ChatCommand{Body: &messages.ChatCommand_Leave{Leave: body.LeaveChat}})
		}
	case *messages.SessionCommand_TakeOver:
		id := body.TakeOver.GetChatId()
		switch {
		case a.active[id] != nil || a.pending[id] != nil:
			sendErr(ctx, conn, ref, errorf(codeConflict, "chat %s is already yours or offered to you", id))
			return true
		case a.loadCount() >= a.max():
			sendErr(ctx, conn, ref, errorf(codeConflict, "you are at your limit of %d chats", a.max()))
			return true
		}
		// The slot is reserved like an offer until the chat answers.
		a.picks++
		res := fmt.Sprintf("take:%s:%d", a.id, a.picks)
		a.pending[id] = &pendingOffer{offerID: res, accepted: true, conn: conn, ref: ref}
		a.changed(ctx)
		// The chat answers through AssignResult; the agent answers the client.
		toChat(id, &messages.ChatCommand{Reservation: res, Body: &messages.ChatCommand_TakeOver{TakeOver: body.TakeOver}})
	case *messages.SessionCommand_Monitor:
		a.monitor(ctx, m, body.Monitor.GetDepartments())
	case *messages.SessionCommand_SetQueueOnline:
		q := body.SetQueueOnline
		if e := a.mayManage(q.GetDepartment()); e != nil {
			sendErr(ctx, conn, ref, e)
			return true
		}
		a.adminAcks = append(a.adminAcks, pendingAck{conn: conn, ref: ref, ack: &messages.Ack{},
			audit: a.auditOf(m, "queue.online", q.GetDepartment(), map[bool]string{true: "set online", false: "set offline"}[q.GetOnline()])})
		ctx.Request(a.b.PID(KindDirectory, "main"), &messages.AdminCommand{Body: &messages.AdminCommand_SetQueueOnline{
			SetQueueOnline: &messages.QueueOnlineChange{Department: q.GetDepartment(), Online: q.GetOnline(), By: a.rec.GetDisplayName()}}})
	case *messages.SessionCommand_SetAgentStatus:
		s := body.SetAgentStatus
		target, err := a.b.store.Agent(s.GetAgentId())
		switch {
		case err != nil:
			sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read accounts now"))
			return true
		case target == nil || !ValidName(s.GetAgentId()):
			sendErr(ctx, conn, ref, errorf(codeNotFound, "no agent %q", s.GetAgentId()))
			return true
		case messages.AgentStatus_name[int32(s.GetStatus())] == "":
			sendErr(ctx, conn, ref, errorf(codeInvalid, "unknown status %d", s.GetStatus()))
			return true
		}
		allowed := a.perms.Has(PermAdmin)
		for _, d := range target.GetDepartments() {
			allowed = allowed || a.mayManage(d) == nil
		}
		if !allowed {
			sendErr(ctx, conn, ref, errorf(codeForbidden, "you manage none of %s's departments", s.GetAgentId()))
			return true
		}
		a.b.Send(KindAgent, s.GetAgentId(), &messages.ManagedStatus{Status: s.GetStatus(), By: a.rec.GetDisplayName(), Conn: conn, Ref: ref})
		// Checked above, so the target applies it.
		a.b.Audit(a.auditOf(m, "agent.status", s.GetAgentId(), "status set to "+statusWord(s.GetStatus())))
	case *messages.SessionCommand_ListTransferTargets:
		deps, err := a.b.store.Departments()
		if err != nil {
			sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read departments now"))
			return true
		}
		a.token++
		g := &gather{conn: conn, ref: ref, need: len(deps)}
		a.gathers[a.token] = g
		for _, d := range deps {
			a.b.Send(KindQueue, d.GetId(), &messages.ViewQuery{AgentId: a.id, Token: a.token})
		}
		if len(deps) == 0 {
			a.gathered(ctx, &messages.ViewAnswer{Token: a.token})
		}
	default:
		return false
	}
	return true
}

// gathered adds a queue's view to a transfer-target list and answers once
// every department has. Colleagues see who is there and how busy, not the
// visitors of other departments.
func (a *agent) gathered(ctx actor.Context, m *messages.ViewAnswer) {
	g := a.gathers[m.GetToken()]
	if g == nil {
		return
	}
	if v := m.GetView(); v != nil {
		v.Waiting, v.Active = nil, nil
		g.views = append(g.views, v)
	}
	if len(g.views) < g.need {
		return
	}
	delete(a.gathers, m.GetToken())
	slices.SortFunc(g.views, func(x, y *messages.DepartmentView) int { return strings.Compare(x.GetDepartment(), y.GetDepartment()) })
	ctx.Send(g.conn, &messages.Envelope{Ref: g.ref, Body: &messages.Envelope_TransferTargets{TransferTargets: &messages.TransferTargets{Departments: g.views}}})
}

// mayManage says whether the agent manages department d (queues.manage
// and listed among its managers, or admin), or why not.
func (a *agent) mayManage(d string) *messages.Error {
	return a.mayWatch(d, PermManageQueues, managersOf)
}

func (a *agent) mayWatch(d, perm string, staff func(*messages.Department) []string) *messages.Error {
	dept, err := a.b.store.Department(d)
	switch {
	case err != nil:
		return messages.TemporaryErrorf(codeUnavailable, "cannot read departments now")
	case dept == nil || !ValidName(d):
		return errorf(codeNotFound, "no department %q", d)
	case a.isStaffOf(dept, perm, staff):
		return nil
	}
	return errorf(codeForbidden, "you do not %s department %q", map[string]string{PermManageQueues: "manage", PermSupervise: "supervise"}[perm], d)
}

// isStaffOf: the rule of who supervises or manages a department (the
// administrator does all; others need the permission and to be listed).
func (a *agent) isStaffOf(dept *messages.Department, perm string, staff func(*messages.Department) []string) bool {
	return a.perms.Has(PermAdmin) || a.perms.Has(perm) && slices.Contains(staff(dept), a.id)
}

func supervisorsOf(x *messages.Department) []string { return x.GetSupervisors() }
func managersOf(x *messages.Department) []string    { return x.GetManagers() }

// monitor follows the live views of departments (replacing the previous
// list): supervisors those they supervise, managers those they manage.
func (a *agent) monitor(ctx actor.Context, m *messages.SessionCommand, deps []string) {
	conn, ref := m.GetConn(), m.GetRef()
	for _, d := range deps {
		e := a.mayWatch(d, PermSupervise, supervisorsOf)
		if e != nil && a.mayManage(d) == nil {
			e = nil
		}
		if e != nil {
			sendErr(ctx, conn, ref, e)
			return
		}
	}
	// Audited when what they watch changes: the same command again (a
	// second tab, a reconnect) leaves no entry.
	if !slices.Equal(a.monitoring, deps) {
		detail := "monitors " + strings.Join(deps, ", ")
		if len(deps) == 0 {
			detail = "stopped monitoring"
		}
		a.b.Audit(a.auditOf(m, "queue.monitor", strings.Join(deps, ","), detail))
	}
	a.watch(deps)
	sendAck(ctx, conn, ref, &messages.Ack{})
}

// watch makes the agent follow exactly deps.
func (a *agent) watch(deps []string) {
	for _, d := range a.monitoring {
		if !slices.Contains(deps, d) {
			a.b.Send(KindQueue, d, &messages.Watch{AgentId: a.id})
		}
	}
	for _, d := range deps {
		if !slices.Contains(a.monitoring, d) {
			a.b.Send(KindQueue, d, &messages.Watch{AgentId: a.id, On: true})
		}
	}
	a.monitoring = slices.Clone(deps)
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

// leaveJoined leaves every chat the agent is a guest or watcher in.
func (a *agent) leaveJoined(ctx actor.Context) {
	for id := range a.joined {
		a.b.Send(KindChat, id, &messages.ChatCommand{ChatId: id, From: a.who(), Body: &messages.ChatCommand_Leave{Leave: &messages.LeaveChat{ChatId: id}}})
	}
}

// missed records an offer the agent declined or let expire.
func (a *agent) missed(o *messages.Offer) {
	a.unanswered = remember(a.unanswered, &messages.ChatSummary{ChatId: o.GetChatId(), Department: o.GetDepartment(),
		Language: o.GetLanguage(), VisitorName: o.GetVisitorName(), State: stateQueued})
	a.listsChanged()
}

// remember puts s first in a recent list, without an older entry of the
// same chat, keeping recentKeep.
func remember(list []*messages.ChatSummary, s *messages.ChatSummary) []*messages.ChatSummary {
	out := make([]*messages.ChatSummary, 0, recentKeep)
	out = append(out, s)
	for _, x := range list {
		if len(out) == recentKeep {
			break
		}
		if x.GetChatId() != s.GetChatId() {
			out = append(out, x)
		}
	}
	return out
}

func statusWord(st messages.AgentStatus) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "AGENT_STATUS_"))
}

// describeRole fills in a welcome what the agent's role lets them do and
// where, so a console shows only what applies (every command is still
// checked on its own).
func (a *agent) describeRole(w *messages.Welcome) {
	w.Departments = slices.Clone(a.rec.GetDepartments())
	for perm, ok := range a.perms {
		if ok {
			w.Permissions = append(w.Permissions, perm)
		}
	}
	slices.Sort(w.Permissions)
	deps, err := a.b.store.Departments()
	if err != nil {
		return
	}
	for _, d := range deps { // read once: no store read per department
		manages := a.isStaffOf(d, PermManageQueues, managersOf)
		if manages {
			w.Manages = append(w.Manages, d.GetId())
		}
		if manages || a.isStaffOf(d, PermSupervise, supervisorsOf) {
			w.Monitors = append(w.Monitors, d.GetId())
		}
	}
}
