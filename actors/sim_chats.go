package actors

import (
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The simulation's chats: they arrive as recorded, wait as long as their
// visitor's patience, and stay with each agent who takes them as long as
// the recorded stay, ending as it did.

type simChat struct {
	id, dept string
	start    *messages.StartChat // an admitted chat's request
	ticket   uint64
	agent    string
	stays    int  // assignments so far
	done     bool // refused, left or closed
}

// arrive: a recorded arrival, admitted again (or, with no admission
// recorded, put in line).
func (w *simWorld) arrive(tm simTimed) {
	w.stats.Arrivals++
	c := &simChat{dept: tm.dept}
	switch x := tm.in.GetInput().(type) {
	case *messages.RoutingInput_Admit:
		c.id, c.start = x.Admit.GetChatId(), x.Admit
		m := proto.Clone(x.Admit).(*messages.StartChat)
		m.Ticket = 0
		w.chats[c.id] = c
		w.deliver(tm.dept, m)
	case *messages.RoutingInput_Enqueue:
		e := x.Enqueue
		c.id, c.ticket = e.GetChat().GetChatId(), e.GetTicket()
		w.chats[c.id] = c
		w.deliver(tm.dept, &messages.Enqueue{Chat: w.plan.summary(c.id, tm.dept, nil, w.now), Ticket: e.GetTicket(), Head: e.GetHead(), Target: e.GetTarget()})
	}
	if p, ok := w.plan.patience[c.id]; ok {
		w.at(w.now+p, func() { w.leave(c) })
	}
}

// leave: the visitor's patience ran out; they leave if still waiting.
func (w *simWorld) leave(c *simChat) {
	if c.stays > 0 || c.done {
		return
	}
	c.done = true
	w.deliver(c.dept, &messages.Withdraw{ChatId: c.id})
}

// admitted: the queue gave the chat its ticket; created, it joins the
// line.
func (w *simWorld) admitted(dept string, m *messages.StartChat) {
	c := w.chats[m.GetChatId()]
	if c == nil {
		return
	}
	c.ticket = m.GetTicket()
	w.toQueue(dept, &messages.Enqueue{Chat: w.plan.summary(c.id, dept, c.start, w.now), Ticket: c.ticket})
}

// assigned: an agent has the chat for its recorded stay.
func (w *simWorld) assigned(dept string, m *messages.AssignChat) {
	c := w.chats[m.GetChatId()]
	if c == nil {
		return
	}
	a := w.agent(m.GetAgentId())
	a.active[c.id] = true
	a.last = w.now / int64(time.Millisecond)
	c.agent, c.dept = a.id, dept
	s := w.plan.stay(c.id, dept, c.stays)
	c.stays++
	w.report(a)
	w.at(w.now+s.GetHandlingMs()*int64(time.Millisecond), func() { w.stayEnded(c, a, s) })
}

// stayEnded: the agent lets go of the chat, which closes, or goes to
// another department's line (a transfer) or back to its own (requeued).
func (w *simWorld) stayEnded(c *simChat, a *simAgent, s *messages.SimStay) {
	delete(a.active, c.id)
	c.agent = ""
	w.report(a)
	to, head := s.GetTransferredTo(), true
	switch {
	case to != "":
	case s.GetRequeued():
		to = c.dept
	default:
		c.done = true
		return
	}
	c.dept = to
	w.toQueue(to, &messages.Enqueue{Chat: w.plan.summary(c.id, to, c.start, w.now), Ticket: c.ticket, Head: head, Target: s.GetToAgent()})
}
