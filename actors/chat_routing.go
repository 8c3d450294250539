package actors

// What the routing asks of a chat: the queue assigns it, an agent's actor
// hands it back or renames its agent, the visitor's actor abandons it. The
// guard checked that the chat is still where the request expects it.

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

var systemParticipant = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_SYSTEM, Id: "switchboard", DisplayName: "Switchboard"}

// assign gives a waiting chat to the agent who accepted its offer. Stored
// first; then the agent hears the result, the visitor that it is answered,
// and the department's monitors. If the write fails, the chat waits in its
// queue again.
func (c *chat) assign(ctx actor.Context, m *messages.AssignChat) {
	a := &messages.ChatAssigned{AgentId: m.GetAgentId(), AgentName: m.GetAgentName(), How: m.GetHow(), AgentAvatarUrl: c.avatarOf(ctx, m.GetAgentId()),
		AnswerTargetS: m.GetAnswerTargetS()}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Assigned{Assigned: a}}},
		c.answerAssign(m), c.visitorJoined(), c.monitors(true), c.waitAgainIfFailed(), c.tracedAssign(m), c.offlineAnswered(a))
}

// offlineAnswered: once an agent has the chat, the visitor's unanswered
// offline messages to its department count as answered by this chat.
func (c *chat) offlineAnswered(a *messages.ChatAssigned) step {
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindMail, "main", &messages.VisitorChatAssigned{VisitorId: c.created.GetVisitorId(), Department: now.summary().GetDepartment(),
			ChatId: c.id, Agent: &messages.Participant{Kind: kindAgent, Id: a.GetAgentId(), DisplayName: a.GetAgentName()}})
	}}
}

// avatarOf reads an agent's photo URL for the assigned event (a read of the
// directory, no write): the visitor sees it with the agent's name. A read
// error only leaves the photo out.
func (c *chat) avatarOf(ctx actor.Context, agentID string) string {
	a, err := c.b.store.Agent(agentID)
	if err != nil {
		ctx.Logger().Warn("chat: read agent for photo", "chat", c.id, "agent", agentID, "err", err)
		return ""
	}
	return a.GetAvatarUrl()
}

// handback: the chat's agent left and did not come back in time. The
// department says whether the chat goes back to its queue (in its old
// place) or closes; either way the visitor sees it in the transcript.
func (c *chat) handback(ctx actor.Context, m *messages.Handback) {
	dept, err := c.b.store.Department(c.sum.GetDepartment())
	if err != nil {
		ctx.Logger().Error("chat: handback", "chat", c.id, "err", err)
	}
	if dept == nil || dept.GetOnAgentLeft() == messages.AgentLeftPolicy_AGENT_LEFT_POLICY_CLOSE {
		c.closeAs(systemParticipant, m.GetReason(), step{})
		return
	}
	agent := c.sum.GetAgentId()
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Requeued{Requeued: &messages.ChatRequeued{AgentId: agent, Reason: m.GetReason()}}}},
		c.agentLeft(agent), c.backToQueue(), c.monitors(false))
}

// abandon: the visitor left while the chat waited and did not come back
// in time; the chat closes and leaves its queue.
func (c *chat) abandon(m *messages.Abandon) {
	reason := m.GetReason()
	if reason == "" {
		reason = "the visitor left before an agent answered"
	}
	c.closeAs(systemParticipant, reason, step{})
}

// renamed shows the chat's agent under their new display name.
func (c *chat) renamed(m *messages.AgentRenamed) {
	r := &messages.ChatRenamed{AgentId: m.GetAgentId(), DisplayName: m.GetDisplayName()}
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Renamed{Renamed: r}}})
}
