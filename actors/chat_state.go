package actors

// The chat's state: how events fold into it, the copies that go out, and
// what each participant is to the chat.

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// apply folds one event into the state. It is the only place state changes.
func (c *chat) apply(ev *messages.ChatEvent) {
	if !ev.GetInternal() {
		// Numbered when written (write calls apply before storing), so
		// the number is stored with the event.
		if ev.VisitorSeq == 0 {
			ev.VisitorSeq = c.vlast + 1
		}
		c.vlast = ev.GetVisitorSeq()
	}
	c.tail = append(c.tail, ev)
	c.last = ev.GetSeq()
	foldEvent(c.sum, ev)
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		c.exists = true
		c.created = k.Created
	case *messages.ChatEvent_Message:
		if k.Message.GetFrom().GetKind() == kindVisitor {
			c.visitorSent += visitorCost(k.Message.GetText())
			c.visitorAt = ev.GetAtMs()
		}
		if cid := k.Message.GetClientMsgId(); cid != "" {
			from := k.Message.GetFrom()
			c.remember(from.GetKind().String()+"/"+from.GetId(), dedupeKey(from, cid), sentSeq{ev.GetSeq(), ev.GetVisitorSeq()})
		}
	case *messages.ChatEvent_Attachment:
		from := k.Attachment.GetFrom()
		if from.GetKind() == kindVisitor {
			c.visitorAt = ev.GetAtMs()
		}
		if cid := k.Attachment.GetClientMsgId(); cid != "" {
			c.remember(from.GetKind().String()+"/"+from.GetId(), dedupeKey(from, cid), sentSeq{ev.GetSeq(), ev.GetVisitorSeq()})
		}
	case *messages.ChatEvent_Delivered:
		if c.deliveredRank == nil {
			c.deliveredRank = map[uint64]int{}
		}
		c.deliveredRank[k.Delivered.GetOfSeq()] = max(c.deliveredRank[k.Delivered.GetOfSeq()], deliveredRank(k.Delivered.GetState()))
	case *messages.ChatEvent_Assigned:
		c.head, c.target = false, ""
		c.lastAgent = k.Assigned.GetAgentId()
	case *messages.ChatEvent_Transferred:
		c.head, c.target = true, k.Transferred.GetToAgentId()
	case *messages.ChatEvent_Rated:
		c.ratings++
		c.visitorSent += visitorCost(k.Rated.GetComment())
	case *messages.ChatEvent_Reopened:
		c.head, c.target = false, k.Reopened.GetPreferAgent()
	}
}

// visitorCost is what a visitor's message counts toward MaxVisitorBytes.
func visitorCost(text string) int { return len(text) + MessageOverhead }

// summary is a copy of the chat's state for staff; forVisitor(summary())
// for the visitor.
func (c *chat) summary() *messages.ChatSummary {
	return copySummary(c.sum)
}

// summaryAs is the chat's state as if it were in state st, with no agent.
func (c *chat) summaryAs(st messages.ChatState) *messages.ChatSummary {
	s := c.summary()
	s.State = st
	s.AgentId, s.AgentName = "", ""
	return s
}

// openEntry is the chat's entry in the open-chats index.
func (c *chat) openEntry() *messages.OpenChat {
	s := c.sum
	return &messages.OpenChat{
		ChatId: c.id, Department: s.GetDepartment(), Language: s.GetLanguage(),
		VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), Ticket: c.created.GetTicket(),
		State: s.GetState(), AgentId: s.GetAgentId(), AgentName: s.GetAgentName(), CreatedAtMs: s.GetCreatedAtMs(),
		LastSeq: c.last, WorkStatus: s.GetWorkStatus(), AssignedAtMs: s.GetAssignedAtMs(), AgentAvatarUrl: s.GetAgentAvatarUrl(),
		Guests: s.GetGuests(), Watchers: s.GetWatchers(), Invited: s.GetInvited(), Head: c.head, Target: c.target, Tags: s.GetTags(),
	}
}

// isIn says whether the chat exists, can be written and is in state st.
func (c *chat) isIn(st messages.ChatState) bool {
	return !c.broken && c.exists && c.sum.GetState() == st
}

// role is what a command's sender is to the chat.
type role int

const (
	roleNone    role = iota
	roleVisitor      // the chat's visitor
	roleOwner        // the agent the chat is (or was, once closed) assigned to
	roleGuest        // staff who joined visibly
	roleWatcher      // staff who joined invisibly
	roleInvited      // staff invited who have not answered
)

func (c *chat) roleOf(p *messages.Participant) role {
	id := p.GetId()
	switch {
	case p.GetKind() == kindVisitor && id == c.created.GetVisitorId():
		return roleVisitor
	case p.GetKind() != kindAgent:
		return roleNone
	case id == c.sum.GetAgentId():
		return roleOwner
	case memberIndex(c.sum.GetGuests(), id) >= 0:
		return roleGuest
	case memberIndex(c.sum.GetWatchers(), id) >= 0:
		return roleWatcher
	case memberIndex(c.sum.GetInvited(), id) >= 0:
		return roleInvited
	}
	return roleNone
}

// participant is how the sender shows in the transcript.
func (c *chat) participant(p *messages.Participant, r role) *messages.Participant {
	who := &messages.Participant{Kind: p.GetKind(), Id: p.GetId(), DisplayName: p.GetDisplayName()}
	switch r {
	case roleVisitor:
		who.DisplayName = c.created.GetVisitorName()
	case roleOwner:
		who.DisplayName = c.sum.GetAgentName()
	case roleGuest, roleWatcher:
		for _, ps := range [][]*messages.Participant{c.sum.GetGuests(), c.sum.GetWatchers()} {
			if i := memberIndex(ps, p.GetId()); i >= 0 && who.DisplayName == "" {
				who.DisplayName = ps[i].GetDisplayName()
			}
		}
	}
	return who
}

// staff lists the agents in the chat: its agent, guests and watchers.
func (c *chat) staff() []string {
	var ids []string
	if c.sum.GetAgentId() != "" && c.sum.GetState() != stateQueued {
		ids = append(ids, c.sum.GetAgentId())
	}
	for _, p := range c.sum.GetGuests() {
		ids = append(ids, p.GetId())
	}
	for _, p := range c.sum.GetWatchers() {
		ids = append(ids, p.GetId())
	}
	return ids
}
