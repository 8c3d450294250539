package actors

// The chat's log: writing events, what happens when they are durable (or
// not), the in-memory tail, and the ids of recent messages for dedupe.

import (
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// pending is a write on its way to the store: seqs first..last, and the
// steps to run, in order, once it is back.
type pending struct {
	token uint64
	first uint64
	last  uint64
	steps []step
	// traced: a traced message's write (tracing.go); nil mostly.
	traced *tracedWrite
	// For the metrics: when the chat wrote it (it did on receiving the
	// command) and the chat's department after its events; read: a timed
	// message's, when the gateway read its frame (stages.go; 0 mostly).
	at   time.Time
	dept string
	read int64
	// result is what its steps get once it is durable (kept here so it
	// costs no allocation of its own).
	result stored
}

// write numbers and applies events, then submits them with the open-chats
// index entry. Once they are durable, persisted sends them to the
// participants and runs then, in order; if the write fails, it runs their
// failure side instead.
func (c *chat) write(evs []*messages.ChatEvent, then ...step) {
	at := c.b.clock.Now()
	now := at.UnixMilli()
	w := &pending{first: c.last + 1, steps: then, at: at}
	// The open-chats index changes with the chat's state, not with every
	// message: rewriting it per message doubled the writes and Pebble's
	// compaction work. Every other kind of event changes what it holds.
	index := false
	for _, ev := range evs {
		ev.ChatId, ev.Seq, ev.AtMs = c.id, c.last+1, now
		c.apply(ev)
		_, isMsg := ev.GetKind().(*messages.ChatEvent_Message)
		index = index || !isMsg
	}
	w.last = c.last
	w.dept = c.sum.GetDepartment()
	c.token++
	w.token = c.token
	c.inflight = append(c.inflight, w)
	var open *messages.OpenChat
	if c.sum.GetState() != stateClosed && index {
		open = c.openEntry()
	}
	c.b.store.AppendChat(c.id, evs, open, c.sum.GetState() == stateClosed, c.b.notifier(c.self, w.token))
}

// persisted: the oldest write in flight is back. Its events go to the
// participants, then its steps run in the order the handler listed them.
func (c *chat) persisted(ctx actor.Context, m *messages.Persisted) {
	if len(c.inflight) == 0 || c.inflight[0].token != m.GetToken() {
		ctx.Logger().Error("chat: persisted out of order", "chat", c.id, "token", m.GetToken())
		return
	}
	w := c.inflight[0]
	// Shifted, not resliced: the slice keeps its capacity, and a chat's
	// next write (usually with nothing in flight) needs no new one.
	c.inflight = slices.Delete(c.inflight, 0, 1)
	tc := c.stored(w, m.GetError())
	if m.GetError() != nil {
		c.failed(ctx, w, m.GetError())
		return
	}
	c.durable = w.last
	if back := c.fanoutTimed(w, tc); c.b.metrics != nil {
		c.measure(w, back)
	}
	c.trim()
	w.result = stored{c: c}
	for _, s := range w.steps {
		if s.done != nil {
			s.done(ctx, &w.result)
		}
	}
}

// measure counts a durable write's events: messages stored and how long
// they took (back: when the write came back), and the chat's changes
// under its department.
func (c *chat) measure(w *pending, back time.Time) {
	m := c.b.metrics
	took := back.Sub(w.at)
	for seq := w.first; seq <= w.last; seq++ {
		ev := c.event(seq)
		switch k := ev.GetKind().(type) {
		case *messages.ChatEvent_Message:
			m.messageStored(took)
		case *messages.ChatEvent_Created:
			m.chatCreated(w.dept)
		case *messages.ChatEvent_Assigned:
			if k.Assigned.GetHow() != messages.AssignHow_ASSIGN_HOW_TAKEN_OVER {
				// The summary keeps the first assignment's time.
				first := ev.GetAtMs() == c.sum.GetAssignedAtMs()
				m.chatAssigned(w.dept, first, time.Duration(ev.GetAtMs()-c.sum.GetCreatedAtMs())*time.Millisecond)
			}
		case *messages.ChatEvent_Closed:
			m.chatClosed(w.dept)
		case *messages.ChatEvent_Transferred:
			m.chatTransferred(w.dept)
		}
	}
}

// failed answers a write that did not land. The in-memory state is ahead of
// the store now, so the actor refuses everything until every write in
// flight has come back; the next command then revives it from what is
// stored.
func (c *chat) failed(ctx actor.Context, w *pending, e *messages.Error) {
	c.broken = true
	for _, s := range w.steps {
		if s.failed != nil {
			s.failed(ctx, e)
		}
	}
}

// fanout delivers a durable event to the participants' actors, which pass
// it to their connections: the visitor unless it is internal, the staff in
// the chat, and the agent the event took the chat from.
// A traced message's event carries tc, the parent of its delivery, and a
// timed one read, when the gateway read it; one message goes to all.
func (c *chat) fanout(ev *messages.ChatEvent, tc *messages.TraceContext, read int64) {
	msg := traced(ev, tc, read)
	if !ev.GetInternal() {
		c.b.Send(KindVisitor, c.created.GetVisitorId(), msg)
	}
	staff := c.staff()
	for _, id := range staff {
		c.b.Send(KindAgent, id, msg)
	}
	var from string
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Assigned:
		from = k.Assigned.GetPreviousAgentId()
	case *messages.ChatEvent_Transferred:
		from = k.Transferred.GetBy().GetId()
	case *messages.ChatEvent_Requeued:
		from = k.Requeued.GetAgentId()
	case *messages.ChatEvent_Member:
		if a := k.Member.GetAction(); a == messages.MemberAction_MEMBER_ACTION_LEFT || a == messages.MemberAction_MEMBER_ACTION_DECLINED {
			from = k.Member.GetWho().GetId()
		}
	}
	if from != "" && !slices.Contains(staff, from) {
		c.b.Send(KindAgent, from, msg)
	}
}

// trim drops durable events beyond tailKeep from memory, in steps of
// tailKeep so that it copies rarely.
func (c *chat) trim() {
	keepFrom := c.durable
	if keepFrom > tailKeep {
		keepFrom -= tailKeep
	} else {
		keepFrom = 0
	}
	if keepFrom < c.base+tailKeep {
		return
	}
	n := keepFrom - c.base
	for _, ev := range c.tail[:n] {
		c.vbase = max(c.vbase, ev.GetVisitorSeq())
	}
	c.tail = append([]*messages.ChatEvent(nil), c.tail[n:]...)
	c.base = keepFrom
}

// event returns the event with sequence seq, which must be in the tail.
func (c *chat) event(seq uint64) *messages.ChatEvent { return c.tail[seq-c.base-1] }

// sentSeq is where a message landed: its seq and visitor_seq.
type sentSeq struct{ seq, visitorSeq uint64 }

// idRing is one sender's remembered client message ids, oldest first
// from at.
type idRing struct {
	keys []string
	at   int
}

func dedupeKey(p *messages.Participant, cid string) string {
	return p.GetKind().String() + "/" + p.GetId() + "/" + cid
}

// remember records a client message id, forgetting that sender's oldest
// beyond dedupeWindow. The window is per sender: a sender's unacknowledged
// messages are always its most recent ones, whatever the other side sent
// meanwhile. (A window shared by both sides let a fast visitor push an
// agent's unacknowledged messages out of it; the soak profile's crash
// cycles found it: the agent resent them after a restart and they were
// stored twice.)
func (c *chat) remember(sender, key string, seq sentSeq) {
	if c.recent == nil {
		c.recent = map[string]*idRing{}
	}
	r := c.recent[sender]
	if r == nil {
		r = &idRing{}
		c.recent[sender] = r
	}
	if len(r.keys) < dedupeWindow {
		r.keys = append(r.keys, key)
	} else {
		delete(c.dedupe, r.keys[r.at])
		r.keys[r.at] = key
		r.at = (r.at + 1) % dedupeWindow
	}
	c.dedupe[key] = seq
}

// resent answers a message its sender sent before (same client message
// id) with the first one's ack: at once if it is durable, else after its
// write's other steps. It reports whether the message was a resend the
// chat still remembers.
func (c *chat) resent(ctx actor.Context, m *messages.ChatCommand, who *messages.Participant, cid string) bool {
	sent, dup := c.dedupe[dedupeKey(who, cid)]
	if !dup {
		return false
	}
	a := &messages.Ack{ChatId: c.id, Seq: sent.seq, ClientMsgId: cid, VisitorSeq: sent.visitorSeq}
	if sent.seq <= c.durable {
		sendAck(ctx, m.GetConn(), m.GetRef(), a)
		return true
	}
	for _, w := range c.inflight {
		if sent.seq >= w.first && sent.seq <= w.last {
			// A message's steps end with its acks: this one goes last.
			w.steps = append(w.steps, ack(m.GetConn(), m.GetRef(), a))
			return true
		}
	}
	return false
}
