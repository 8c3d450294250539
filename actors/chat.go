package actors

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// tailKeep is how many durable events a chat keeps in memory for replays;
// dedupeWindow how many recent client message ids it remembers per sender.
// A client resends only what was not acknowledged, which is always among
// its own most recent sends.
const (
	tailKeep     = 256
	dedupeWindow = 1024
)

// closedLinger is how long a closed chat's actor stays up for late
// commands before it stops; its log stays in the store.
const closedLinger = time.Minute

// chat is the actor of one chat ("chat/<id>"): the only writer of its log.
// Its state machine is queued -> active -> closed (state field), rebuilt
// from the log on activation. Commands change the in-memory state at once
// and in order; what they cause (acks, fan-out to participants, telling the
// queue or the agent) happens only when their events are durable, in the
// same order, through the inflight list.
type chat struct {
	b    *Broker
	id   string
	self *actor.PID

	exists    bool
	broken    bool // a write failed: refuse commands until restarted
	state     messages.ChatState
	created   *messages.ChatCreated
	createdAt int64
	agentID   string
	agentName string
	work      messages.WorkStatus

	// The log's recent tail: tail[i] holds seq base+1+i, up to last. It
	// keeps every event not yet durable and at least tailKeep durable
	// ones; replays from further back read the store. Keeping whole
	// transcripts in memory made the heap, and the collector's work, grow
	// with every message ever sent.
	tail     []*messages.ChatEvent
	base     uint64
	last     uint64
	durable  uint64             // highest seq known to be stored
	dedupe   map[string]uint64  // sender + client msg id -> seq, for each sender's last dedupeWindow messages
	recent   map[string]*idRing // per sender, their remembered keys in order
	inflight []*effect
	token    uint64
}

// effect is what to do once a write is durable.
type effect struct {
	token    uint64
	first    uint64 // seqs first..last were in the write
	last     uint64
	acks     []pendingAck
	start    *messages.StartChat
	assign   *messages.AssignChat
	closed   bool
	wasQueue bool   // closed while waiting in its queue
	requeued string // handed back by this agent: back to the queue
}

type pendingAck struct {
	conn *actor.PID
	ref  uint64
	ack  *messages.Ack
}

func (c *chat) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self = ctx.Self()
		c.load(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *actor.ReceiveTimeout:
		if c.state == stateClosed && len(c.inflight) == 0 || !c.exists {
			ctx.Stop(c.self)
		}
	case *messages.Persisted:
		c.persisted(ctx, m)
	default:
		// Every command first revives a chat that a failed write left
		// broken (see revive).
		c.revive(ctx)
		c.handle(ctx, m)
	}
}

// handle dispatches a command.
func (c *chat) handle(ctx actor.Context, msg interface{}) {
	switch m := msg.(type) {
	case *messages.StartChat:
		c.start(ctx, m)
	case *messages.ChatCommand:
		c.command(ctx, m)
	case *messages.AssignChat:
		c.assign(ctx, m)
	case *messages.ReplayRequest:
		c.replay(ctx, m)
	case *messages.Handback:
		c.handback(ctx, m)
	case *messages.Abandon:
		c.abandon(ctx, m)
	case *messages.AgentRenamed:
		if !c.broken && c.state == stateActive && c.agentID == m.GetAgentId() && c.agentName != m.GetDisplayName() {
			r := &messages.ChatRenamed{AgentId: m.GetAgentId(), DisplayName: m.GetDisplayName()}
			c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
				ev.Kind = &messages.ChatEvent_Renamed{Renamed: r}
			}}, &effect{})
		}
	default:
		ctx.Logger().Warn("chat: unexpected message", "chat", c.id, "type", fmt.Sprintf("%T", m))
	}
}

func (c *chat) load(ctx actor.Context) {
	// The log is streamed, not read whole: a long chat keeps only its tail.
	c.dedupe = map[string]uint64{}
	err := c.b.store.EachChatEvent(c.id, 0, func(ev *messages.ChatEvent) error {
		c.apply(ev)
		c.durable = c.last
		c.trim()
		return nil
	})
	if err != nil {
		ctx.Logger().Error("chat: load", "chat", c.id, "err", err)
		c.broken = true
		return
	}
	if !c.exists || c.state == stateClosed {
		ctx.SetReceiveTimeout(closedLinger)
	}
}

// apply folds one event into the state. It is the only place state changes.
func (c *chat) apply(ev *messages.ChatEvent) {
	c.tail = append(c.tail, ev)
	c.last = ev.GetSeq()
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		c.exists = true
		c.state = stateQueued
		c.created = k.Created
		c.createdAt = ev.GetAtMs()
	case *messages.ChatEvent_Message:
		if cid := k.Message.GetClientMsgId(); cid != "" {
			from := k.Message.GetFrom()
			c.remember(from.GetKind().String()+"/"+from.GetId(), dedupeKey(from, cid), ev.GetSeq())
		}
	case *messages.ChatEvent_Assigned:
		c.state = stateActive
		c.agentID, c.agentName = k.Assigned.GetAgentId(), k.Assigned.GetAgentName()
	case *messages.ChatEvent_StatusChanged:
		c.work = k.StatusChanged.GetStatus()
	case *messages.ChatEvent_Renamed:
		if k.Renamed.GetAgentId() == c.agentID {
			c.agentName = k.Renamed.GetDisplayName()
		}
	case *messages.ChatEvent_Requeued:
		c.state = stateQueued
		c.agentID, c.agentName = "", ""
	case *messages.ChatEvent_Closed:
		c.state = stateClosed
	}
}

var systemParticipant = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_SYSTEM, Id: "switchboard", DisplayName: "Switchboard"}

// handback: the chat's agent left and did not come back in time. The
// department says whether the chat goes back to its queue (in its old
// place) or closes; either way the visitor sees it in the transcript.
func (c *chat) handback(ctx actor.Context, m *messages.Handback) {
	if c.broken || !c.exists || c.state != stateActive || c.agentID != m.GetAgentId() {
		return // it moved on meanwhile
	}
	dept, err := c.b.store.Department(c.created.GetDepartment())
	if err != nil {
		ctx.Logger().Error("chat: handback", "chat", c.id, "err", err)
	}
	if dept == nil || dept.GetOnAgentLeft() == messages.AgentLeftPolicy_AGENT_LEFT_POLICY_CLOSE {
		c.closeBySystem(ctx, m.GetReason())
		return
	}
	agent := c.agentID
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Requeued{Requeued: &messages.ChatRequeued{AgentId: agent, Reason: m.GetReason()}}
	}}, &effect{requeued: agent})
}

// abandon: the visitor left while the chat waited and did not come back
// in time; the chat closes and leaves its queue.
func (c *chat) abandon(ctx actor.Context, m *messages.Abandon) {
	if c.broken || !c.exists || c.state != stateQueued || c.created.GetVisitorId() != m.GetVisitorId() {
		return
	}
	c.closeBySystem(ctx, "the visitor left before an agent answered")
}

// closeBySystem closes the chat on the broker's own account (no agent came
// back, the visitor left); a waiting chat also leaves its queue.
func (c *chat) closeBySystem(ctx actor.Context, reason string) {
	wasQueued := c.state == stateQueued
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: systemParticipant, Reason: reason}}
	}}, &effect{closed: true, wasQueue: wasQueued})
}

// idRing is one sender's remembered client message ids, oldest first
// from at.
type idRing struct {
	keys []string
	at   int
}

// remember records a client message id, forgetting that sender's oldest
// beyond dedupeWindow. The window is per sender: a sender's unacknowledged
// messages are always its most recent ones, whatever the other side sent
// meanwhile. (A window shared by both sides let a fast visitor push an
// agent's unacknowledged messages out of it; the soak profile's crash
// cycles found it: the agent resent them after a restart and they were
// stored twice.)
func (c *chat) remember(sender, key string, seq uint64) {
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
	c.tail = append([]*messages.ChatEvent(nil), c.tail[n:]...)
	c.base = keepFrom
}

// event returns the event with sequence seq, which must be in the tail.
func (c *chat) event(seq uint64) *messages.ChatEvent { return c.tail[seq-c.base-1] }

func dedupeKey(p *messages.Participant, cid string) string {
	return p.GetKind().String() + "/" + p.GetId() + "/" + cid
}

func (c *chat) summary() *messages.ChatSummary {
	return &messages.ChatSummary{
		ChatId: c.id, Department: c.created.GetDepartment(), Language: c.created.GetLanguage(),
		State: c.state, VisitorId: c.created.GetVisitorId(), VisitorName: c.created.GetVisitorName(),
		AgentId: c.agentID, AgentName: c.agentName, LastSeq: c.last, CreatedAtMs: c.createdAt, WorkStatus: c.work,
	}
}

func (c *chat) openEntry() *messages.OpenChat {
	return &messages.OpenChat{
		ChatId: c.id, Department: c.created.GetDepartment(), Language: c.created.GetLanguage(),
		VisitorId: c.created.GetVisitorId(), VisitorName: c.created.GetVisitorName(), Ticket: c.created.GetTicket(),
		State: c.state, AgentId: c.agentID, AgentName: c.agentName, CreatedAtMs: c.createdAt, LastSeq: c.last, WorkStatus: c.work,
	}
}

// write numbers and applies events, then submits them with the open-chats
// index entry; eff runs when they are durable.
func (c *chat) write(ctx actor.Context, kinds []func(*messages.ChatEvent), eff *effect) {
	now := c.b.clock.Now().UnixMilli()
	evs := make([]*messages.ChatEvent, len(kinds))
	first := c.last == 0
	wasState, wasAgent, wasWork, wasName := c.state, c.agentID, c.work, c.agentName
	eff.first = c.last + 1
	for i, set := range kinds {
		ev := &messages.ChatEvent{ChatId: c.id, Seq: c.last + 1, AtMs: now}
		set(ev)
		c.apply(ev)
		evs[i] = ev
	}
	eff.last = c.last
	c.token++
	eff.token = c.token
	c.inflight = append(c.inflight, eff)
	// The open-chats index changes with the chat's state, not with every
	// message: rewriting it per message doubled the writes and Pebble's
	// compaction work.
	var open *messages.OpenChat
	if c.state != stateClosed && (first || c.state != wasState || c.agentID != wasAgent || c.work != wasWork || c.agentName != wasName) {
		open = c.openEntry()
	}
	c.b.store.AppendChat(c.id, evs, open, c.state == stateClosed, c.b.notifier(c.self, eff.token))
}

func (c *chat) unavailable() *messages.Error {
	return messages.TemporaryErrorf(codeUnavailable, "chat %s cannot be written now; try again", c.id)
}

func (c *chat) start(ctx actor.Context, m *messages.StartChat) {
	if c.broken {
		c.b.Send(KindVisitor, m.GetVisitorId(), &messages.StartRefused{ChatId: c.id, Conn: m.GetConn(), Ref: m.GetRef()})
		c.b.Send(KindQueue, m.GetRequest().GetDepartment(), &messages.Withdraw{ChatId: c.id})
		return
	}
	if c.exists {
		return // a duplicate start: the first one answered
	}
	r := m.GetRequest()
	created := &messages.ChatCreated{
		VisitorId: m.GetVisitorId(), VisitorName: r.GetName(), Email: r.GetEmail(),
		Department: r.GetDepartment(), Language: r.GetLanguage(), Ticket: m.GetTicket(),
	}
	kinds := []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Created{Created: created}
	}}
	if r.GetFirstMessage() != "" {
		from := &messages.Participant{Kind: kindVisitor, Id: m.GetVisitorId(), DisplayName: r.GetName()}
		kinds = append(kinds, func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: from, Text: r.GetFirstMessage()}}
		})
	}
	c.write(ctx, kinds, &effect{start: m})
}

func (c *chat) command(ctx actor.Context, m *messages.ChatCommand) {
	switch {
	case c.broken:
		sendErr(ctx, m.GetConn(), m.GetRef(), c.unavailable())
		return
	case !c.exists:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeNotFound, "no chat %s", c.id))
		return
	}
	from := m.GetFrom()
	isVisitor := from.GetKind() == kindVisitor && from.GetId() == c.created.GetVisitorId()
	// The agent the chat is (or was, once closed) assigned to.
	isOwner := from.GetKind() == kindAgent && c.agentID != "" && from.GetId() == c.agentID
	if !isVisitor && !isOwner {
		// Another visitor's chat looks the same as no chat at all.
		if from.GetKind() == kindVisitor {
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeNotFound, "no chat %s", c.id))
		} else {
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeForbidden, "you are not in chat %s", c.id))
		}
		return
	}
	who := &messages.Participant{Kind: from.GetKind(), Id: from.GetId(), DisplayName: c.created.GetVisitorName()}
	if isOwner {
		who.DisplayName = c.agentName
	}
	switch body := m.GetBody().(type) {
	case *messages.ChatCommand_Send:
		c.send(ctx, m, who, body.Send)
	case *messages.ChatCommand_Close:
		if c.state == stateClosed {
			sendAck(ctx, m.GetConn(), m.GetRef(), &messages.Ack{ChatId: c.id})
			return
		}
		wasQueued := c.state == stateQueued
		c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: who, Reason: "closed by " + kindWord(who.GetKind())}}
		}}, &effect{closed: true, wasQueue: wasQueued, acks: []pendingAck{{conn: m.GetConn(), ref: m.GetRef(), ack: &messages.Ack{ChatId: c.id}}}})
	case *messages.ChatCommand_SetStatus:
		st := body.SetStatus.GetStatus()
		switch {
		case !isOwner:
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeForbidden, "only the chat's agent changes its status"))
			return
		case c.state != stateActive:
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeConflict, "chat %s is not active", c.id))
			return
		case messages.WorkStatus_name[int32(st)] == "":
			sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "unknown status %d", st))
			return
		case st == c.work:
			sendAck(ctx, m.GetConn(), m.GetRef(), &messages.Ack{ChatId: c.id})
			return
		}
		c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_StatusChanged{StatusChanged: &messages.ChatStatusChanged{Status: st, By: who}}
		}}, &effect{acks: []pendingAck{{conn: m.GetConn(), ref: m.GetRef(), ack: &messages.Ack{ChatId: c.id}}}})
	case *messages.ChatCommand_Typing:
		if c.state != stateActive {
			return
		}
		notice := &messages.Envelope{Body: &messages.Envelope_TypingNotice{TypingNotice: &messages.TypingNotice{ChatId: c.id, From: who, Typing: body.Typing.GetTyping()}}}
		if isVisitor {
			c.b.Send(KindAgent, c.agentID, notice)
		} else {
			c.b.Send(KindVisitor, c.created.GetVisitorId(), notice)
		}
	default:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown chat command"))
	}
}

func kindWord(k messages.ParticipantKind) string {
	if k == kindAgent {
		return "agent"
	}
	return "visitor"
}

func (c *chat) send(ctx actor.Context, m *messages.ChatCommand, who *messages.Participant, s *messages.SendMessage) {
	switch {
	case c.state == stateClosed:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeConflict, "chat %s is closed", c.id))
		return
	case s.GetText() == "":
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "text is empty"))
		return
	case len(s.GetText()) > MaxMessageBytes:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeTooLarge, "text is %d bytes; at most %d", len(s.GetText()), MaxMessageBytes))
		return
	case len(s.GetClientMsgId()) > MaxClientMsgIDBytes:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeTooLarge, "client_msg_id is longer than %d bytes", MaxClientMsgIDBytes))
		return
	case !utf8.ValidString(s.GetText()):
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "text is not UTF-8"))
		return
	}
	ack := pendingAck{conn: m.GetConn(), ref: m.GetRef()}
	if cid := s.GetClientMsgId(); cid != "" {
		if seq, dup := c.dedupe[dedupeKey(who, cid)]; dup {
			ack.ack = &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: cid}
			if seq <= c.durable {
				sendAck(ctx, ack.conn, ack.ref, ack.ack)
				return
			}
			for _, eff := range c.inflight {
				if seq >= eff.first && seq <= eff.last {
					eff.acks = append(eff.acks, ack)
					return
				}
			}
		}
	}
	msg := &messages.ChatMessage{From: who, Text: s.GetText(), ClientMsgId: s.GetClientMsgId()}
	seq := c.last + 1
	ack.ack = &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: s.GetClientMsgId()}
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Message{Message: msg}
	}}, &effect{acks: []pendingAck{ack}})
}

func (c *chat) assign(ctx actor.Context, m *messages.AssignChat) {
	if c.broken || !c.exists || c.state != stateQueued {
		c.b.Send(KindAgent, m.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetAgentId(), OfferId: m.GetOfferId(), Ok: false})
		return
	}
	a := &messages.ChatAssigned{AgentId: m.GetAgentId(), AgentName: m.GetAgentName()}
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Assigned{Assigned: a}
	}}, &effect{assign: m})
}

func (c *chat) replay(ctx actor.Context, m *messages.ReplayRequest) {
	who := m.GetWho()
	allowed := c.exists && (who.GetKind() == kindVisitor && who.GetId() == c.created.GetVisitorId() ||
		who.GetKind() == kindAgent && who.GetId() == c.agentID)
	if !allowed {
		ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), NotFound: true})
		return
	}
	var evs []*messages.ChatEvent
	switch after := m.GetAfterSeq(); {
	case after >= c.durable:
	case after >= c.base:
		evs = c.tail[after-c.base : c.durable-c.base]
	default:
		// Older than the tail: the store has every durable event.
		stored, err := c.b.store.ChatEvents(c.id, after)
		if err != nil {
			ctx.Logger().Error("chat: replay", "chat", c.id, "err", err)
			ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), Unavailable: true})
			return
		}
		for _, ev := range stored {
			if ev.GetSeq() <= c.durable {
				evs = append(evs, ev)
			}
		}
	}
	ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), Events: evs})
}

func (c *chat) persisted(ctx actor.Context, m *messages.Persisted) {
	if len(c.inflight) == 0 || c.inflight[0].token != m.GetToken() {
		ctx.Logger().Error("chat: persisted out of order", "chat", c.id, "token", m.GetToken())
		return
	}
	eff := c.inflight[0]
	c.inflight = c.inflight[1:]
	if m.GetError() != nil {
		c.failed(ctx, eff, m.GetError())
		return
	}
	c.durable = eff.last
	for seq := eff.first; seq <= eff.last; seq++ {
		c.fanout(ctx, c.event(seq))
	}
	c.trim()
	// The participants' actors hear of the change before the client gets
	// its ack: a visitor who closes a chat and at once asks for a new one
	// must find their visitor actor already knowing the first is closed.
	// (Both go to mailboxes in order, so what is sent first is handled
	// first.)
	defer func() {
		for _, a := range eff.acks {
			sendAck(ctx, a.conn, a.ref, a.ack)
		}
	}()
	switch {
	case eff.start != nil:
		s := eff.start
		c.b.Send(KindVisitor, c.created.GetVisitorId(), &messages.ChatJoined{Chat: c.summary()})
		sendAck(ctx, s.GetConn(), s.GetRef(), &messages.Ack{ChatId: c.id})
		c.b.Send(KindQueue, c.created.GetDepartment(), &messages.Enqueue{Chat: c.summary(), Ticket: c.created.GetTicket()})
	case eff.assign != nil:
		a := eff.assign
		sum := c.summary()
		c.b.Send(KindAgent, a.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: a.GetAgentId(), OfferId: a.GetOfferId(), Ok: true, Chat: sum})
		c.b.Send(KindVisitor, c.created.GetVisitorId(), &messages.ChatJoined{Chat: sum})
	case eff.requeued != "":
		sum := c.summary()
		c.b.Send(KindAgent, eff.requeued, &messages.ChatLeft{Chat: sum})
		c.b.Send(KindQueue, c.created.GetDepartment(), &messages.Enqueue{Chat: sum, Ticket: c.created.GetTicket()})
	case eff.closed:
		sum := c.summary()
		c.b.Send(KindVisitor, c.created.GetVisitorId(), &messages.ChatLeft{Chat: sum})
		if c.agentID != "" {
			c.b.Send(KindAgent, c.agentID, &messages.ChatLeft{Chat: sum})
		}
		if eff.wasQueue {
			c.b.Send(KindQueue, c.created.GetDepartment(), &messages.Withdraw{ChatId: c.id})
		}
		ctx.SetReceiveTimeout(closedLinger)
	}
}

// fanout delivers a durable event to the participants' actors, which pass
// it to their connections.
func (c *chat) fanout(ctx actor.Context, ev *messages.ChatEvent) {
	c.b.Send(KindVisitor, c.created.GetVisitorId(), ev)
	if c.agentID != "" && c.state != stateQueued {
		c.b.Send(KindAgent, c.agentID, ev)
	}
}

// failed answers a write that did not land. The in-memory state is ahead of
// the store now, so the actor refuses everything until every write in
// flight has come back; the next command then revives it from what is
// stored.
func (c *chat) failed(ctx actor.Context, eff *effect, e *messages.Error) {
	c.broken = true
	for _, a := range eff.acks {
		sendErr(ctx, a.conn, a.ref, e)
	}
	switch {
	case eff.start != nil:
		s := eff.start
		c.b.Send(KindVisitor, s.GetVisitorId(), &messages.StartRefused{ChatId: c.id, Conn: s.GetConn(), Ref: s.GetRef()})
		c.b.Send(KindQueue, s.GetRequest().GetDepartment(), &messages.Withdraw{ChatId: c.id})
	case eff.assign != nil:
		c.b.Send(KindAgent, eff.assign.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: eff.assign.GetAgentId(), OfferId: eff.assign.GetOfferId()})
		// The chat is still waiting: put it back in its queue.
		c.b.Send(KindQueue, c.created.GetDepartment(), &messages.Enqueue{Chat: c.summaryAs(stateQueued), Ticket: c.created.GetTicket()})
	}
}

// revive starts a broken chat afresh from what is stored, once no write is
// in flight: after a failed write its memory was ahead of the store, and
// after a failed load it had nothing. If storage still fails, it stays
// broken and the command gets a temporary error.
func (c *chat) revive(ctx actor.Context) {
	if !c.broken || len(c.inflight) > 0 {
		return
	}
	*c = chat{b: c.b, id: c.id, self: c.self}
	c.load(ctx)
}

func (c *chat) summaryAs(st messages.ChatState) *messages.ChatSummary {
	s := c.summary()
	s.State = st
	s.AgentId, s.AgentName = "", ""
	return s
}
