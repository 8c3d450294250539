package actors

// Supervisors and managers: following departments' live views, opening
// and closing queues, setting colleagues' status, and the one rule of who
// supervises or manages a department.

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// supervisionCommand handles the supervisors' and managers' commands; it
// reports whether m was one of them.
func (a *agent) supervisionCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_Monitor:
		a.monitor(ctx, m, body.Monitor.GetDepartments())
	case *messages.SessionCommand_SetQueueOnline:
		a.setQueueOnline(ctx, m, body.SetQueueOnline)
	case *messages.SessionCommand_SetAgentStatus:
		a.setAgentStatus(ctx, m, body.SetAgentStatus)
	default:
		return false
	}
	return true
}

// setQueueOnline asks the directory, the one writer of departments, to
// open or close a queue the agent manages; its answer comes back as an
// AdminReply, in order.
func (a *agent) setQueueOnline(ctx actor.Context, m *messages.SessionCommand, q *messages.SetQueueOnline) {
	if e := a.mayManage(q.GetDepartment()); e != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
		return
	}
	a.adminAcks = append(a.adminAcks, pendingAck{conn: m.GetConn(), ref: m.GetRef(), ack: &messages.Ack{},
		audit: a.auditOf(m, "queue.online", q.GetDepartment(), map[bool]string{true: "set online", false: "set offline"}[q.GetOnline()])})
	ctx.Request(a.b.PID(KindDirectory, "main"), &messages.AdminCommand{Body: &messages.AdminCommand_SetQueueOnline{
		SetQueueOnline: &messages.QueueOnlineChange{Department: q.GetDepartment(), Online: q.GetOnline(), By: a.rec.GetDisplayName()}}})
}

// setAgentStatus sets a colleague's status, when the agent manages one
// of their departments (or is an administrator).
func (a *agent) setAgentStatus(ctx actor.Context, m *messages.SessionCommand, s *messages.SetAgentStatus) {
	conn, ref := m.GetConn(), m.GetRef()
	target, err := a.b.store.Agent(s.GetAgentId())
	switch {
	case err != nil:
		sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read accounts now"))
		return
	case target == nil || !ValidName(s.GetAgentId()):
		sendErr(ctx, conn, ref, errorf(codeNotFound, "no agent %q", s.GetAgentId()))
		return
	case messages.AgentStatus_name[int32(s.GetStatus())] == "":
		sendErr(ctx, conn, ref, errorf(codeInvalid, "unknown status %d", s.GetStatus()))
		return
	}
	allowed := a.perms.Has(PermAdmin)
	for _, d := range target.GetDepartments() {
		allowed = allowed || a.mayManage(d) == nil
	}
	if !allowed {
		sendErr(ctx, conn, ref, errorf(codeForbidden, "you manage none of %s's departments", s.GetAgentId()))
		return
	}
	a.b.Send(KindAgent, s.GetAgentId(), &messages.ManagedStatus{Status: s.GetStatus(), By: a.rec.GetDisplayName(), Conn: conn, Ref: ref})
	// Checked above, so the target applies it.
	a.b.Audit(a.auditOf(m, "agent.status", s.GetAgentId(), "status set to "+statusWord(s.GetStatus())))
}

// mayManage says whether the agent manages department d (queues.manage
// and listed among its managers, or admin), or why not.
func (a *agent) mayManage(d string) *messages.Error {
	return a.mayWatch(d, PermManageQueues, managersOf)
}

// mayOversee says whether the agent supervises or manages department d
// (or is an administrator), or why not: who may monitor it and assign
// its waiting chats.
func (a *agent) mayOversee(d string) *messages.Error {
	e := a.mayWatch(d, PermSupervise, a.b.SupervisorsOf)
	if e != nil && a.mayManage(d) == nil {
		e = nil
	}
	return e
}

func (a *agent) mayWatch(d string, perm Permission, staff func(*messages.Department) []string) *messages.Error {
	dept, err := a.b.store.Department(d)
	switch {
	case err != nil:
		return messages.TemporaryErrorf(codeUnavailable, "cannot read departments now")
	case dept == nil || !ValidName(d):
		return errorf(codeNotFound, "no department %q", d)
	case a.isStaffOf(dept, perm, staff):
		return nil
	}
	return errorf(codeForbidden, "you do not %s department %q", map[Permission]string{PermManageQueues: "manage", PermSupervise: "supervise"}[perm], d)
}

// isStaffOf: the rule of who supervises or manages a department (the
// administrator does all; others need the permission and to be listed).
func (a *agent) isStaffOf(dept *messages.Department, perm Permission, staff func(*messages.Department) []string) bool {
	return a.perms.Has(PermAdmin) || a.perms.Has(perm) && slices.Contains(staff(dept), a.id)
}

func managersOf(x *messages.Department) []string { return x.GetManagers() }

// monitor follows the live views of departments (replacing the previous
// list): supervisors those they supervise, managers those they manage.
func (a *agent) monitor(ctx actor.Context, m *messages.SessionCommand, deps []string) {
	conn, ref := m.GetConn(), m.GetRef()
	for _, d := range deps {
		if e := a.mayOversee(d); e != nil {
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

// describeRole fills in a welcome what the agent's role lets them do and
// where, so a console shows only what applies (every command is still
// checked on its own).
func (a *agent) describeRole(w *messages.Welcome) {
	w.Departments = slices.Clone(a.rec.GetDepartments())
	for perm, ok := range a.perms {
		if ok {
			w.Permissions = append(w.Permissions, string(perm))
		}
	}
	slices.Sort(w.Permissions)
	if a.perms.Has(PermLiveChatInternal) {
		lcs, _ := a.b.LiveChats() // none shown when they cannot be read now
		for _, lc := range lcs {
			if lc.GetKind() == messages.LiveChatKind_LIVE_CHAT_KIND_INTERNAL {
				w.InternalLiveChats = append(w.InternalLiveChats, &messages.LiveChatEntry{Id: lc.GetId(), Name: lc.GetName()})
			}
		}
	}
	deps, err := a.b.store.Departments()
	if err != nil {
		return
	}
	for _, d := range deps { // read once: no store read per department
		manages := a.isStaffOf(d, PermManageQueues, managersOf)
		if manages {
			w.Manages = append(w.Manages, d.GetId())
		}
		monitors := manages || a.isStaffOf(d, PermSupervise, a.b.SupervisorsOf)
		if monitors {
			w.Monitors = append(w.Monitors, d.GetId())
		}
		if len(d.GetTags()) > 0 && (monitors || slices.Contains(w.Departments, d.GetId())) {
			w.DepartmentTags = append(w.DepartmentTags, &messages.DepartmentTags{Department: d.GetId(), Tags: d.GetTags(), RequireTag: d.GetRequireTag()})
		}
	}
}
