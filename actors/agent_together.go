package actors

// Working with colleagues on chats: transfer (and the list of where to),
// invite, join, decline an invitation, leave, take over. The permission
// was checked by command; what depends on a chat is checked by the chat.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// togetherMessage handles invitations and the queues' answers for a
// transfer-target list; it reports whether m was one of them.
func (a *agent) togetherMessage(ctx actor.Context, m any) bool {
	switch m := m.(type) {
	case *messages.Invitation:
		a.invites[m.GetChatId()] = m
		a.conns.push(ctx, &messages.Envelope{Body: &messages.Envelope_Invitation{Invitation: m}})
	case *messages.ViewAnswer:
		a.gathered(ctx, m)
	default:
		return false
	}
	return true
}

// togetherCommand handles the agent's commands for working with others;
// it reports whether m was one of them.
func (a *agent) togetherCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	conn, ref := m.GetConn(), m.GetRef()
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_TransferChat:
		id := body.TransferChat.GetChatId()
		if a.active[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you do not have chat %s", id))
			return true
		}
		a.toChat(m, id, &messages.ChatCommand{Body: &messages.ChatCommand_Transfer{Transfer: body.TransferChat}})
	case *messages.SessionCommand_InviteAgent:
		id := body.InviteAgent.GetChatId()
		if a.active[id] == nil && a.joined[id] == nil {
			sendErr(ctx, conn, ref, errorf(codeNotFound, "you are not in chat %s", id))
			return true
		}
		a.toChat(m, id, &messages.ChatCommand{Body: &messages.ChatCommand_Invite{Invite: body.InviteAgent}})
	case *messages.SessionCommand_JoinChat:
		a.joinCommand(ctx, m, body.JoinChat)
	case *messages.SessionCommand_DeclineInvite:
		a.toChat(m, body.DeclineInvite.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_DeclineInvite{DeclineInvite: body.DeclineInvite}})
	case *messages.SessionCommand_LeaveChat:
		a.leaveCommand(ctx, m, body.LeaveChat)
	case *messages.SessionCommand_TakeOver:
		a.takeOver(ctx, m, body.TakeOver)
	case *messages.SessionCommand_ListTransferTargets:
		a.listTransferTargets(ctx, conn, ref)
	default:
		return false
	}
	return true
}

// toChat sends a staff command to chat id, with who sends it and what
// their role allows (the chat checks the rest).
func (a *agent) toChat(m *messages.SessionCommand, id string, cmd *messages.ChatCommand) {
	cmd.ChatId, cmd.From, cmd.Conn, cmd.Ref, cmd.Address = id, a.who(), m.GetConn(), m.GetRef(), m.GetAddress()
	cmd.Departments = a.rec.GetDepartments()
	cmd.Perms = a.perms.names()
	a.b.Send(KindChat, id, cmd)
}

// joinCommand checks the permission first (the chat checks it again, with
// what it knows): an invitation lets one join visibly without chats.join.
func (a *agent) joinCommand(ctx actor.Context, m *messages.SessionCommand, j *messages.JoinChat) {
	need := PermJoin
	if j.GetInvisible() {
		need = PermJoinInvisible
	}
	if !a.perms.Has(need) && (j.GetInvisible() || a.invites[j.GetChatId()] == nil) {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeForbidden, "your role does not allow this (%s)", need))
		return
	}
	a.toChat(m, j.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Join{Join: j}})
}

func (a *agent) leaveCommand(ctx actor.Context, m *messages.SessionCommand, l *messages.LeaveChat) {
	id := l.GetChatId()
	switch {
	case a.active[id] != nil:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeConflict, "the chat's agent cannot leave it: close it, transfer it, or hand it over to a guest (transfer)"))
	case a.joined[id] == nil:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeNotFound, "you are not in chat %s", id))
	default:
		a.toChat(m, id, &messages.ChatCommand{Body: &messages.ChatCommand_Leave{Leave: l}})
	}
}

// takeOver reserves a slot like an offer until the chat answers (through
// AssignResult; the agent answers the client).
func (a *agent) takeOver(ctx actor.Context, m *messages.SessionCommand, t *messages.TakeOver) {
	conn, ref, id := m.GetConn(), m.GetRef(), t.GetChatId()
	switch {
	case a.active[id] != nil || a.pending[id] != nil:
		sendErr(ctx, conn, ref, errorf(codeConflict, "chat %s is already yours or offered to you", id))
		return
	case a.loadCount() >= a.max():
		sendErr(ctx, conn, ref, errorf(codeConflict, "you are at your limit of %d chats", a.max()))
		return
	}
	a.picks++
	res := fmt.Sprintf("take:%s:%d", a.id, a.picks)
	a.pending[id] = &pendingOffer{offerID: res, accepted: true, conn: conn, ref: ref}
	a.changed(ctx)
	a.toChat(m, id, &messages.ChatCommand{Reservation: res, Body: &messages.ChatCommand_TakeOver{TakeOver: t}})
}

// gather collects one DepartmentView per department for a transfer-target
// list.
type gather struct {
	conn  *actor.PID
	ref   uint64
	need  int
	views []*messages.DepartmentView
}

// listTransferTargets asks every department's queue for its view.
func (a *agent) listTransferTargets(ctx actor.Context, conn *actor.PID, ref uint64) {
	deps, err := a.b.store.Departments()
	if err != nil {
		sendErr(ctx, conn, ref, messages.TemporaryErrorf(codeUnavailable, "cannot read departments now"))
		return
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
