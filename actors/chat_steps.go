package actors

// The follow-ups of a write: each handler lists them, in order, when it
// writes, and persisted runs them once the write is durable (or runs their
// failure side if it is not). Nothing here is sent before the events are
// stored: what is acknowledged is durable.

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// A step is one follow-up of a write: done runs once the write is durable,
// after its events went to the participants; failed runs if it did not
// land. Either may be nil. The participants' actors hear of a change
// before a client gets its ack (the handlers list acks last): a visitor
// who closes a chat and at once asks for a new one must find their visitor
// actor already knowing the first is closed. Both go to mailboxes in
// order, so what is sent first is handled first.
type step struct {
	done   func(ctx actor.Context, now *stored)
	failed func(ctx actor.Context, e *messages.Error)
}

// stored is the chat's state as a durable write's steps see it (the
// in-memory state then, later writes included): copied once for all of
// them, and only if one asks, which a message's steps do not.
type stored struct {
	c   *chat
	sum *messages.ChatSummary
}

func (s *stored) summary() *messages.ChatSummary {
	if s.sum == nil {
		s.sum = s.c.summary()
	}
	return s.sum
}

// ack answers a command once its write is durable, or with the write's
// error.
func ack(conn *actor.PID, ref uint64, a *messages.Ack) step {
	return step{
		done:   func(ctx actor.Context, _ *stored) { sendAck(ctx, conn, ref, a) },
		failed: func(ctx actor.Context, e *messages.Error) { sendErr(ctx, conn, ref, e) },
	}
}

// answered is the ack of a command that changed the chat (a message builds
// its own, with its seq).
func (c *chat) answered(m *messages.ChatCommand) step {
	return ack(m.GetConn(), m.GetRef(), &messages.Ack{ChatId: c.id})
}

// audit records a staff command that took effect; nothing if e is nil.
func (c *chat) audit(e *messages.AuditEntry) step {
	if e == nil {
		return step{}
	}
	return step{done: func(actor.Context, *stored) { c.b.Audit(e) }}
}

// answerStart acks the visitor's start; if the chat could not be stored,
// the visitor's actor hears the start refused and the queue drops the
// ticket.
func (c *chat) answerStart(s *messages.StartChat) step {
	return step{
		done: func(ctx actor.Context, _ *stored) { sendAck(ctx, s.GetConn(), s.GetRef(), &messages.Ack{ChatId: c.id}) },
		failed: func(_ actor.Context, e *messages.Error) {
			c.b.Send(KindVisitor, s.GetVisitorId(), &messages.StartRefused{ChatId: c.id, Conn: s.GetConn(), Ref: s.GetRef(), Error: e})
			c.b.Send(KindQueue, s.GetRequest().GetDepartment(), &messages.Withdraw{ChatId: c.id})
		},
	}
}

// answerAssign tells the agent the chat is theirs, or why not.
func (c *chat) answerAssign(a *messages.AssignChat) step {
	return step{
		done: func(_ actor.Context, now *stored) {
			c.b.Send(KindAgent, a.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: a.GetAgentId(), OfferId: a.GetOfferId(), Ok: true, Chat: now.summary()})
		},
		failed: func(_ actor.Context, e *messages.Error) {
			c.b.Send(KindAgent, a.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: a.GetAgentId(), OfferId: a.GetOfferId(), Error: e})
		},
	}
}

// waitAgainIfFailed puts a routed chat whose assignment did not land back
// in the queue it waited in (its department now).
func (c *chat) waitAgainIfFailed() step {
	// Taken now, before the write applies its events: the failed
	// assignment must leave no trace (its time, a transfer's head place
	// and named colleague) in what the queue gets back.
	dept, waiting, head, target := c.sum.GetDepartment(), c.summaryAs(stateQueued), c.head, c.target
	return step{failed: func(actor.Context, *messages.Error) {
		c.b.Send(KindQueue, dept, &messages.Enqueue{Chat: waiting, Ticket: c.created.GetTicket(), Head: head, Target: target})
	}}
}

// joinQueue: a new chat waits in its department's queue.
func (c *chat) joinQueue(tc *messages.TraceContext) step {
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindQueue, now.summary().GetDepartment(), &messages.Enqueue{Chat: now.summary(), Ticket: c.created.GetTicket(), Trace: tc})
	}}
}

// backToQueue: a chat handed back or transferred waits again in its (new)
// department's queue in its ticket's place, at the head if transferred.
func (c *chat) backToQueue() step {
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindQueue, now.summary().GetDepartment(), &messages.Enqueue{Chat: now.summary(), Ticket: c.created.GetTicket(), Head: c.head, Target: c.target})
	}}
}

// visitorJoined tells the visitor's actor the chat is theirs (created, or
// answered by an agent).
func (c *chat) visitorJoined() step { return step{done: visitorJoined} }

// The steps that need nothing but the chat take it from now: a plain
// function costs no allocation, a closure over c one per write.
func visitorJoined(_ actor.Context, now *stored) {
	c := now.c
	c.b.Send(KindVisitor, c.created.GetVisitorId(), &messages.ChatJoined{Chat: forVisitor(now.summary())})
}

// everyoneLeft tells the visitor, the staff in the chat and those invited
// that it closed.
func (c *chat) everyoneLeft() step { return step{done: everyoneLeft} }

func everyoneLeft(_ actor.Context, now *stored) {
	c, sum := now.c, now.summary()
	c.b.Send(KindVisitor, c.created.GetVisitorId(), &messages.ChatLeft{Chat: forVisitor(sum)})
	for _, id := range c.staff() {
		c.b.Send(KindAgent, id, &messages.ChatLeft{Chat: sum})
	}
	for _, p := range sum.GetInvited() {
		c.b.Send(KindAgent, p.GetId(), &messages.ChatLeft{Chat: sum})
	}
}

// withdrawIf takes a chat closed while it waited out of its queue.
func (c *chat) withdrawIf(waited bool) step {
	if !waited {
		return step{}
	}
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindQueue, now.summary().GetDepartment(), &messages.Withdraw{ChatId: c.id})
	}}
}

// linger keeps a closed chat's actor up a while for late commands.
func (c *chat) linger() step { return step{done: linger} }

func linger(ctx actor.Context, now *stored) { now.c.idle.arm(ctx, closedLinger) }

// agentLeft tells an agent the chat is no longer theirs to see: it was
// handed back, transferred or taken over from them, or they left it or
// declined to join.
func (c *chat) agentLeft(id string) step {
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindAgent, id, &messages.ChatLeft{Chat: now.summary()})
	}}
}

// guestJoined tells staff who joined (visibly or not) that they are in.
func (c *chat) guestJoined(id string) step {
	return step{done: func(_ actor.Context, now *stored) {
		c.b.Send(KindAgent, id, &messages.ChatJoined{Chat: now.summary(), Guest: true})
	}}
}

// invitation hands an invitation to the agent invited.
func (c *chat) invitation(id string, inv *messages.Invitation) step {
	return step{done: func(actor.Context, *stored) { c.b.Send(KindAgent, id, inv) }}
}

// monitors keeps the departments' monitors following the chats being
// handled: the department the chat was active in (as it is when the step
// is made, before the write) hears when it is no longer handled there;
// with announce (a new agent, or staff joined or left), the department it
// is active in now hears of it.
func (c *chat) monitors(announce bool) step {
	oldDept, wasActive := c.sum.GetDepartment(), c.sum.GetState() == stateActive
	return step{done: func(_ actor.Context, now *stored) {
		sum := now.summary()
		active := sum.GetState() == stateActive
		if wasActive && (!active || oldDept != sum.GetDepartment()) {
			c.b.Send(KindQueue, oldDept, &messages.ActiveChat{Chat: sum, Ended: true})
		}
		if active && announce {
			c.b.Send(KindQueue, sum.GetDepartment(), &messages.ActiveChat{Chat: sum})
		}
	}}
}
