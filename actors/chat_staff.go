package actors

// What staff do to a chat together: transfer, invite, decline, join
// (visibly or not), leave, take over. The agent actor checked the
// permission and the guard the chat's state; each handler checks the rest
// of its own rules before it writes.

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// auditOf is the audit entry of a staff command to a chat that took
// effect: who, from where, which chat.
func auditOf(m *messages.ChatCommand, kind, detail string) *messages.AuditEntry {
	return &messages.AuditEntry{Kind: kind, Actor: m.GetFrom().GetId(), Address: m.GetAddress(), Subject: m.GetChatId(), Detail: detail, Ok: true}
}

// memberEvent is a change of the chat's staff. Invitations, declines and
// invisible members are internal: the visitor never sees them.
func memberEvent(action messages.MemberAction, p *messages.Participant, invisible bool, by *messages.Participant) []*messages.ChatEvent {
	return []*messages.ChatEvent{{
		Kind:     &messages.ChatEvent_Member{Member: &messages.ChatMemberChanged{Who: p, Action: action, Invisible: invisible, By: by}},
		Internal: invisible || action == messages.MemberAction_MEMBER_ACTION_INVITED || action == messages.MemberAction_MEMBER_ACTION_DECLINED,
	}}
}

// invite asks a colleague into the chat, by its agent or a visible guest.
func (c *chat) invite(ctx actor.Context, x cmd, id string) {
	switch {
	case x.r != roleOwner && x.r != roleGuest:
		x.fail(ctx, codeForbidden, "only the chat's agent and its visible guests invite")
		return
	case id == x.who.GetId() || c.roleOf(&messages.Participant{Kind: kindAgent, Id: id}) != roleNone:
		x.fail(ctx, codeConflict, "%s is already in chat %s or invited", id, c.id)
		return
	}
	rec, why := c.colleague(id)
	if why != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), why)
		return
	}
	p := &messages.Participant{Kind: kindAgent, Id: id, DisplayName: rec.GetDisplayName()}
	inv := &messages.Invitation{ChatId: c.id, By: x.who, Department: c.sum.GetDepartment(), VisitorName: c.sum.GetVisitorName()}
	c.write(memberEvent(messages.MemberAction_MEMBER_ACTION_INVITED, p, false, x.who),
		c.audit(auditOf(x.ChatCommand, "chat.invite", "invited "+id)), c.invitation(id, inv), c.monitors(false), c.answered(x.ChatCommand))
}

// decline: the invited agent says no.
func (c *chat) decline(ctx actor.Context, x cmd) {
	if x.r != roleInvited {
		x.fail(ctx, codeNotFound, "you have no invitation to chat %s", c.id)
		return
	}
	c.write(memberEvent(messages.MemberAction_MEMBER_ACTION_DECLINED, x.who, false, nil),
		c.audit(auditOf(x.ChatCommand, "chat.decline_invite", "declined the invitation")), c.agentLeft(x.who.GetId()), c.monitors(true), c.answered(x.ChatCommand))
}

// join brings staff into the chat: visibly as a guest (on an invitation,
// or with the permission to join), or invisibly as a watcher. A watcher
// may step into view.
func (c *chat) join(ctx actor.Context, x cmd, invisible bool) {
	r := x.r
	switch {
	case r == roleOwner:
		x.fail(ctx, codeConflict, "chat %s is already yours", c.id)
		return
	case r == roleGuest && !invisible || r == roleWatcher && invisible:
		x.ackNow(ctx, c.id)
		return
	case r == roleGuest:
		x.fail(ctx, codeConflict, "you are in chat %s visibly; the visitor has seen you", c.id)
		return
	}
	if e := c.joinError(x, invisible); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	audit := auditOf(x.ChatCommand, "chat.join", "joined visibly")
	if invisible {
		audit = auditOf(x.ChatCommand, "chat.join_invisible", "joined invisibly")
	}
	c.write(memberEvent(messages.MemberAction_MEMBER_ACTION_JOINED, x.who, invisible, nil),
		c.audit(audit), c.guestJoined(x.who.GetId()), c.monitors(true), c.answered(x.ChatCommand))
}

// joinError is why staff may not join this way, if so: an invitation
// lets them in visibly; otherwise their role must allow it and they must
// be allowed to see the chat (a watcher already does).
func (c *chat) joinError(x cmd, invisible bool) *messages.Error {
	perms := permsOf(&messages.Role{Permissions: x.GetPerms()})
	invited := x.r == roleInvited && !invisible
	switch {
	case !invited && invisible && !perms.Has(PermJoinInvisible):
		return errorf(codeForbidden, "your role does not allow this (%s)", PermJoinInvisible)
	case !invited && !invisible && !perms.Has(PermJoin) && x.r != roleWatcher:
		return errorf(codeForbidden, "your role does not allow this (%s)", PermJoin)
	case !invited && x.r != roleWatcher && !c.mayView(x.ChatCommand):
		return errorf(codeForbidden, "you may not see chat %s", c.id)
	}
	return nil
}

// leave takes a guest or watcher out of the chat; its agent cannot leave.
func (c *chat) leave(ctx actor.Context, x cmd) {
	switch x.r {
	case roleOwner:
		x.fail(ctx, codeConflict, "the chat's agent cannot leave it: close it, transfer it, or hand it over to a guest (transfer)")
		return
	case roleGuest, roleWatcher:
	default:
		x.fail(ctx, codeNotFound, "you are not in chat %s", c.id)
		return
	}
	detail := "left"
	if x.r == roleWatcher {
		detail = "stopped watching"
	}
	c.write(memberEvent(messages.MemberAction_MEMBER_ACTION_LEFT, x.who, x.r == roleWatcher, nil),
		c.audit(auditOf(x.ChatCommand, "chat.leave", detail)), c.agentLeft(x.who.GetId()), c.monitors(true), c.answered(x.ChatCommand))
}

// colleague reads a staff account that can be in chats (invited, or
// transferred to; never the colleague who asked it), or says why not.
func (c *chat) colleague(id string) (*messages.Agent, *messages.Error) {
	if e := OwnQuestion(c.created.GetVisitorId(), id, c.id); e != nil {
		return nil, e
	}
	rec, err := c.b.store.Agent(id)
	if err != nil {
		return nil, c.unavailable()
	}
	if rec == nil || !ValidName(id) {
		return nil, errorf(codeNotFound, "no agent %q", id)
	}
	perms, err := c.b.Permissions(rec)
	if err != nil {
		return nil, c.unavailable()
	}
	if rec.GetSuspended() || !perms.Has(PermLiveChat) {
		return nil, errorf(codeConflict, "%s cannot take part in chats now", id)
	}
	return rec, nil
}

// transfer hands the chat on. It leaves its agent at once and waits at the
// head of the target department's queue, offered first to the named
// colleague, if any: it is never dropped and never stays with an agent who
// left.
func (c *chat) transfer(ctx actor.Context, x cmd, t *messages.TransferChat) {
	if x.r != roleOwner || c.sum.GetState() != stateActive {
		x.fail(ctx, codeForbidden, "only the chat's agent transfers it")
		return
	}
	to, dept := t.GetToAgent(), t.GetToDepartment()
	if to == "" && dept == "" {
		x.fail(ctx, codeInvalid, "name a colleague (to_agent) or a department (to_department)")
		return
	}
	var rec *messages.Agent
	if to != "" {
		var e *messages.Error
		if rec, dept, e = c.transferTo(x, to, dept); e != nil {
			sendErr(ctx, x.GetConn(), x.GetRef(), e)
			return
		}
	}
	if e := c.queueOpen(dept); e != nil {
		sendErr(ctx, x.GetConn(), x.GetRef(), e)
		return
	}
	tr := &messages.ChatTransferred{By: x.who, ToAgentId: to, ToAgentName: rec.GetDisplayName(), ToDepartment: dept}
	detail := "to department " + dept
	if to != "" {
		detail = "to " + to + " in department " + dept
	}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Transferred{Transferred: tr}}},
		c.audit(auditOf(x.ChatCommand, "chat.transfer", detail)), c.agentLeft(x.who.GetId()), c.backToQueue(), c.monitors(false), c.answered(x.ChatCommand))
}

// transferTo checks the colleague a chat is transferred to, and picks the
// department when none is named: the chat's own if they are in it, else
// their first.
func (c *chat) transferTo(x cmd, to, dept string) (*messages.Agent, string, *messages.Error) {
	if to == x.who.GetId() {
		return nil, "", errorf(codeInvalid, "the chat is already yours")
	}
	rec, why := c.colleague(to)
	if why != nil {
		return nil, "", why
	}
	if perms, _ := c.b.Permissions(rec); !rec.GetChatAgent() || !perms.Has(PermAcceptChats) {
		return nil, "", errorf(codeConflict, "%s does not take chats", to)
	}
	switch {
	case dept == "" && slices.Contains(rec.GetDepartments(), c.sum.GetDepartment()):
		dept = c.sum.GetDepartment()
	case dept == "" && len(rec.GetDepartments()) > 0:
		dept = rec.GetDepartments()[0]
	case dept == "":
		return nil, "", errorf(codeConflict, "%s is in no department", to)
	case !slices.Contains(rec.GetDepartments(), dept):
		return nil, "", errorf(codeConflict, "%s is not in department %q", to, dept)
	}
	return rec, dept, nil
}

// queueOpen says why a chat cannot be transferred to dept (or reopened in
// it), if so: the department must take chats, and its live chat's kind
// must match the chat's customer side (sideMatches), as it did when the
// chat started: a colleague's question stays internal, a customer's
// external.
func (c *chat) queueOpen(dept string) *messages.Error {
	d, err := c.b.store.Department(dept)
	switch {
	case err != nil:
		return c.unavailable()
	case d == nil || !ValidName(dept):
		return errorf(codeNotFound, "no department %q", dept)
	case !d.GetChatEnabled():
		return errorf(codeConflict, "the %s queue is offline", d.GetName())
	}
	if e := c.b.mayWriteIn(c.created.GetVisitorId(), dept); e != nil {
		if e.GetTemporary() {
			return e
		}
		return errorf(codeConflict, "chat %s cannot wait in department %q: %s", c.id, dept, e.GetMessage())
	}
	return nil
}

// takeOver makes the sender the chat's agent at once. Their agent actor
// reserved a slot for it (m.reservation), so the take-over keeps them
// within their limit; the previous agent is told and freed. A refused
// take-over frees the slot (refuse).
func (c *chat) takeOver(ctx actor.Context, x cmd) {
	var e *messages.Error
	switch {
	case x.r == roleOwner:
		e = errorf(codeConflict, "chat %s is already yours", c.id)
	case c.sum.GetState() != stateActive:
		e = errorf(codeConflict, "chat %s has no agent to take it from; pick it from the queue", c.id)
	case x.r == roleNone && !c.mayView(x.ChatCommand):
		e = errorf(codeForbidden, "you may not see chat %s", c.id)
	}
	if e != nil {
		c.refuse(ctx, x.ChatCommand, e)
		return
	}
	who, prev := x.who, c.sum.GetAgentId()
	a := &messages.ChatAssigned{AgentId: who.GetId(), AgentName: who.GetDisplayName(), How: messages.AssignHow_ASSIGN_HOW_TAKEN_OVER, PreviousAgentId: prev,
		AgentAvatarUrl: c.avatarOf(ctx, who.GetId())}
	assign := &messages.AssignChat{ChatId: c.id, AgentId: who.GetId(), AgentName: who.GetDisplayName(), OfferId: x.GetReservation()}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Assigned{Assigned: a}}},
		c.audit(auditOf(x.ChatCommand, "chat.take_over", "taken over from "+prev)), c.answerAssign(assign), c.visitorJoined(), c.agentLeft(prev), c.monitors(true))
}

// mayView says whether staff may see this chat: with reports.view any
// chat; with chats.view the chats of their departments; supervisors and
// managers the chats of the departments they supervise or manage.
func (c *chat) mayView(m *messages.ChatCommand) bool {
	if AskedBy(c.created.GetVisitorId(), m.GetFrom().GetId()) {
		return false
	}
	perms := permsOf(&messages.Role{Permissions: m.GetPerms()})
	dept := c.sum.GetDepartment()
	if perms.Has(PermReports) || perms.Has(PermViewChats) && slices.Contains(m.GetDepartments(), dept) {
		return true
	}
	d, err := c.b.store.Department(dept)
	if err != nil {
		return false
	}
	id := m.GetFrom().GetId()
	return perms.Has(PermSupervise) && c.b.Supervises(d, id) ||
		perms.Has(PermManageQueues) && slices.Contains(d.GetManagers(), id)
}
