package actors

// The everyday desk's staff commands that go through the agent's actor:
// reopening a closed chat (to the chat, which checks what depends on it)
// and a supervisor's assignment of a waiting chat (to the department's
// queue, the one owner of its waiting chats). The permission was checked
// by command.

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// deskCommand handles reopen and assign, and tags and canned replies
// (agent_canned.go); it reports whether m was one of them.
func (a *agent) deskCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	switch body := m.GetBody().(type) {
	case *messages.SessionCommand_ReopenChat:
		a.toChat(m, body.ReopenChat.GetChatId(), &messages.ChatCommand{Body: &messages.ChatCommand_Reopen{Reopen: body.ReopenChat}})
	case *messages.SessionCommand_AssignWaiting:
		a.assignWaiting(ctx, m, body.AssignWaiting)
	default:
		return a.tagOrCanned(ctx, m)
	}
	return true
}

// assignWaiting hands a waiting chat to a chosen agent, when the sender
// (with chats.assign) supervises or manages its department by the one
// rule of who does (or is an administrator). The queue checks the chat
// and the agent and answers the client.
func (a *agent) assignWaiting(ctx actor.Context, m *messages.SessionCommand, as *messages.AssignWaiting) {
	if e := a.mayOversee(as.GetDepartment()); e != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), e)
		return
	}
	if !ValidName(as.GetAgentId()) {
		sendErr(ctx, m.GetConn(), m.GetRef(), messages.FieldErrorf(codeInvalid, "agent_id", "agent_id must name an agent"))
		return
	}
	a.b.Send(KindQueue, as.GetDepartment(), &messages.SupervisorAssign{ChatId: as.GetChatId(), AgentId: as.GetAgentId(),
		Conn: m.GetConn(), Ref: m.GetRef(), ById: a.id, ByName: a.rec.GetDisplayName(), Address: m.GetAddress()})
}
