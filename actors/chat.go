package actors

import (
	"fmt"
	"slices"
	"time"

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

	exists  bool
	broken  bool // a write failed: refuse commands until restarted
	created *messages.ChatCreated
	// sum is the chat's state as a summary (state, department, agent,
	// guests, watchers, invited, work status), folded from its events by
	// foldEvent. It is owned here: copies go out (summary()).
	sum *messages.ChatSummary
	// A transferred chat not taken yet waits at the head of its queue and
	// is offered to target first.
	head   bool
	target string

	// The log's recent tail: tail[i] holds seq base+1+i, up to last. It
	// keeps every event not yet durable and at least tailKeep durable
	// ones; replays from further back read the store. Keeping whole
	// transcripts in memory made the heap, and the collector's work, grow
	// with every message ever sent.
	tail  []*messages.ChatEvent
	base  uint64
	last  uint64
	vlast uint64   // the last visitor_seq given
	vbase uint64   // the visitor_seq of the last visible event at or before base
	idle  idleStop // armed while the chat is closed (or does not exist)
	// legacy: the log has visible events stored without a visitor_seq
	// (written before it existed); they are numbered when read.
	legacy   bool
	durable  uint64             // highest seq known to be stored
	dedupe   map[string]sentSeq // sender + client msg id -> its seqs, for each sender's last dedupeWindow messages
	recent   map[string]*idRing // per sender, their remembered keys in order
	inflight []*effect
	token    uint64

	// visitorSent is what the visitor wrote, as MaxVisitorBytes counts.
	visitorSent int
}

// visitorCost is what a visitor's message counts toward MaxVisitorBytes.
func visitorCost(text string) int { return len(text) + MessageOverhead }

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
	released string // the agent who lost the chat (handback, transfer, take-over)
	enqueue  bool   // back to its (new) department's queue
	joiner   string // staff who joined (guest or watcher)
	left     string // a guest or watcher who left or declined
	invitee  string
	invite   *messages.Invitation
	audit    *messages.AuditEntry
	// For the departments' monitors: the chat's department before, and
	// whether it was being handled (active) there.
	oldDept   string
	wasActive bool
}

// changes reports whether the write changed more than the transcript: the
// chat's state, owner or members.
func (e *effect) changes() bool {
	return e.start != nil || e.assign != nil || e.closed || e.released != "" || e.enqueue || e.joiner != "" || e.left != "" || e.invite != nil
}

type pendingAck struct {
	conn  *actor.PID
	ref   uint64
	ack   *messages.Ack
	audit *messages.AuditEntry // written with the answer, if any
}

func (c *chat) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self = ctx.Self()
		c.load(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.IdleCheck:
		// A closed chat lingers for late commands and replays, then
		// stops; one with writes still in flight waits for them.
		switch {
		case !c.idle.due(ctx):
		case c.sum.GetState() == stateClosed && len(c.inflight) == 0 || !c.exists:
			ctx.Stop(c.self)
		case c.sum.GetState() == stateClosed:
			c.idle.arm(ctx, closedLinger)
		}
	case *messages.Persisted:
		c.idle.touch()
		c.persisted(ctx, m)
	default:
		// Every command first revives a chat that a failed write left
		// broken (see revive).
		c.idle.touch()
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
		if !c.broken && c.sum.GetState() == stateActive && c.sum.GetAgentId() == m.GetAgentId() && c.sum.GetAgentName() != m.GetDisplayName() {
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
	c.dedupe = map[string]sentSeq{}
	c.sum = &messages.ChatSummary{ChatId: c.id}
	err := c.b.store.EachChatEvent(c.id, 0, func(ev *messages.ChatEvent) error {
		if !ev.GetInternal() && ev.GetVisitorSeq() == 0 {
			c.legacy = true
		}
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
	if !c.exists || c.sum.GetState() == stateClosed {
		c.idle.arm(ctx, closedLinger)
	}
}

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
		}
		if cid := k.Message.GetClientMsgId(); cid != "" {
			from := k.Message.GetFrom()
			c.remember(from.GetKind().String()+"/"+from.GetId(), dedupeKey(from, cid), sentSeq{ev.GetSeq(), ev.GetVisitorSeq()})
		}
	case *messages.ChatEvent_Assigned:
		c.head, c.target = false, ""
	case *messages.ChatEvent_Transferred:
		c.head, c.target = true, k.Transferred.GetToAgentId()
	}
}

var systemParticipant = &messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_SYSTEM, Id: "switchboard", DisplayName: "Switchboard"}

// handback: the chat's agent left and did not come back in time. The
// department says whether the chat goes back to its queue (in its old
// place) or closes; either way the visitor sees it in the transcript.
func (c *chat) handback(ctx actor.Context, m *messages.Handback) {
	if c.broken || !c.exists || c.sum.GetState() != stateActive || c.sum.GetAgentId() != m.GetAgentId() {
		return // it moved on meanwhile
	}
	dept, err := c.b.store.Department(c.sum.GetDepartment())
	if err != nil {
		ctx.Logger().Error("chat: handback", "chat", c.id, "err", err)
	}
	if dept == nil || dept.GetOnAgentLeft() == messages.AgentLeftPolicy_AGENT_LEFT_POLICY_CLOSE {
		c.closeBySystem(ctx, m.GetReason())
		return
	}
	agent := c.sum.GetAgentId()
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Requeued{Requeued: &messages.ChatRequeued{AgentId: agent, Reason: m.GetReason()}}
	}}, &effect{released: agent, enqueue: true})
}

// abandon: the visitor left while the chat waited and did not come back
// in time; the chat closes and leaves its queue.
func (c *chat) abandon(ctx actor.Context, m *messages.Abandon) {
	if c.broken || !c.exists || c.sum.GetState() != stateQueued || c.created.GetVisitorId() != m.GetVisitorId() {
		return
	}
	reason := m.GetReason()
	if reason == "" {
		reason = "the visitor left before an agent answered"
	}
	c.closeBySystem(ctx, reason)
}

// closeBySystem closes the chat on the broker's own account (no agent came
// back, the visitor left); a waiting chat also leaves its queue.
func (c *chat) closeBySystem(ctx actor.Context, reason string) {
	wasQueued := c.sum.GetState() == stateQueued
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
// sentSeq is where a message landed: its seq and visitor_seq.
type sentSeq struct{ seq, visitorSeq uint64 }

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

func dedupeKey(p *messages.Participant, cid string) string {
	return p.GetKind().String() + "/" + p.GetId() + "/" + cid
}

// summary is a copy of the chat's state for staff; forVisitor(summary())
// for the visitor.
func (c *chat) summary() *messages.ChatSummary {
	return copySummary(c.sum)
}

func (c *chat) openEntry() *messages.OpenChat {
	s := c.sum
	return &messages.OpenChat{
		ChatId: c.id, Department: s.GetDepartment(), Language: s.GetLanguage(),
		VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), Ticket: c.created.GetTicket(),
		State: s.GetState(), AgentId: s.GetAgentId(), AgentName: s.GetAgentName(), CreatedAtMs: s.GetCreatedAtMs(),
		LastSeq: c.last, WorkStatus: s.GetWorkStatus(), AssignedAtMs: s.GetAssignedAtMs(), AgentAvatarUrl: s.GetAgentAvatarUrl(),
		Guests: s.GetGuests(), Watchers: s.GetWatchers(), Invited: s.GetInvited(), Head: c.head, Target: c.target,
	}
}

// write numbers and applies events, then submits them with the open-chats
// index entry; eff runs when they are durable.
func (c *chat) write(ctx actor.Context, kinds []func(*messages.ChatEvent), eff *effect) {
	now := c.b.clock.Now().UnixMilli()
	evs := make([]*messages.ChatEvent, len(kinds))
	eff.oldDept, eff.wasActive = c.sum.GetDepartment(), c.sum.GetState() == stateActive
	eff.first = c.last + 1
	// The open-chats index changes with the chat's state, not with every
	// message: rewriting it per message doubled the writes and Pebble's
	// compaction work. Every other kind of event changes what it holds.
	index := false
	for i, set := range kinds {
		ev := &messages.ChatEvent{ChatId: c.id, Seq: c.last + 1, AtMs: now}
		set(ev)
		c.apply(ev)
		evs[i] = ev
		_, isMsg := ev.GetKind().(*messages.ChatEvent_Message)
		index = index || !isMsg
	}
	eff.last = c.last
	c.token++
	eff.token = c.token
	c.inflight = append(c.inflight, eff)
	var open *messages.OpenChat
	if c.sum.GetState() != stateClosed && index {
		open = c.openEntry()
	}
	c.b.store.AppendChat(c.id, evs, open, c.sum.GetState() == stateClosed, c.b.notifier(c.self, eff.token))
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

func (c *chat) command(ctx actor.Context, m *messages.ChatCommand) {
	conn, ref := m.GetConn(), m.GetRef()
	switch {
	case c.broken:
		c.refuse(ctx, m, c.unavailable())
		return
	case !c.exists:
		c.refuse(ctx, m, errorf(codeNotFound, "no chat %s", c.id))
		return
	}
	from := m.GetFrom()
	r := c.roleOf(from)
	who := c.participant(from, r)
	// Commands staff may send about a chat they are not in.
	switch m.GetBody().(type) {
	case *messages.ChatCommand_Join, *messages.ChatCommand_TakeOver:
		if from.GetKind() == kindAgent {
			c.staffCommand(ctx, m, r, who)
			return
		}
	}
	if r == roleNone || r == roleInvited && m.GetDeclineInvite() == nil {
		// Another visitor's chat looks the same as no chat at all.
		if from.GetKind() == kindVisitor {
			c.refuse(ctx, m, errorf(codeNotFound, "no chat %s", c.id))
		} else {
			c.refuse(ctx, m, errorf(codeForbidden, "you are not in chat %s", c.id))
		}
		return
	}
	// What the commands that change the chat answer once stored (a message
	// builds its own, with its seq).
	ack := func() *effect {
		return &effect{acks: []pendingAck{{conn: conn, ref: ref, ack: &messages.Ack{ChatId: c.id}}}}
	}
	switch body := m.GetBody().(type) {
	case *messages.ChatCommand_Send:
		c.send(ctx, m, r, who, body.Send)
	case *messages.ChatCommand_Close:
		switch {
		case r != roleVisitor && r != roleOwner:
			sendErr(ctx, conn, ref, errorf(codeForbidden, "only the chat's agent or visitor closes it; leave it instead"))
			return
		case c.sum.GetState() == stateClosed:
			sendAck(ctx, conn, ref, &messages.Ack{ChatId: c.id})
			return
		}
		eff := ack()
		eff.closed, eff.wasQueue = true, c.sum.GetState() == stateQueued
		c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: who, Reason: "closed by " + kindWord(who.GetKind())}}
		}}, eff)
	case *messages.ChatCommand_SetStatus:
		st := body.SetStatus.GetStatus()
		switch {
		case r != roleOwner:
			sendErr(ctx, conn, ref, errorf(codeForbidden, "only the chat's agent changes its status"))
			return
		case c.sum.GetState() != stateActive:
			sendErr(ctx, conn, ref, errorf(codeConflict, "chat %s is not active", c.id))
			return
		case messages.WorkStatus_name[int32(st)] == "":
			sendErr(ctx, conn, ref, errorf(codeInvalid, "unknown status %d", st))
			return
		case st == c.sum.GetWorkStatus():
			sendAck(ctx, conn, ref, &messages.Ack{ChatId: c.id})
			return
		}
		eff := ack()
		eff.audit = auditOf(m, "chat.status", st.String())
		c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_StatusChanged{StatusChanged: &messages.ChatStatusChanged{Status: st, By: who}}
		}}, eff)
	case *messages.ChatCommand_Typing:
		if c.sum.GetState() != stateActive || r == roleWatcher {
			return
		}
		notice := &messages.Envelope{Body: &messages.Envelope_TypingNotice{TypingNotice: &messages.TypingNotice{ChatId: c.id, From: who, Typing: body.Typing.GetTyping()}}}
		if r != roleVisitor {
			c.b.Send(KindVisitor, c.created.GetVisitorId(), notice)
		}
		for _, id := range c.staff() {
			if id != from.GetId() {
				c.b.Send(KindAgent, id, notice)
			}
		}
	case *messages.ChatCommand_Transfer, *messages.ChatCommand_Invite, *messages.ChatCommand_Leave, *messages.ChatCommand_DeclineInvite:
		if r == roleVisitor {
			sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "visitors cannot send this"))
			return
		}
		c.staffCommand(ctx, m, r, who)
	default:
		sendErr(ctx, conn, ref, errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown chat command"))
	}
}

// refuse answers a command that had no effect; a take-over also frees the
// slot its agent reserved.
func (c *chat) refuse(ctx actor.Context, m *messages.ChatCommand, e *messages.Error) {
	if m.GetTakeOver() != nil {
		c.b.Send(KindAgent, m.GetFrom().GetId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetFrom().GetId(), OfferId: m.GetReservation(), Error: e})
		return
	}
	sendErr(ctx, m.GetConn(), m.GetRef(), e)
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

// mayView says whether staff may see this chat: with reports.view any
// chat; with chats.view the chats of their departments; supervisors and
// managers the chats of the departments they supervise or manage.
func (c *chat) mayView(m *messages.ChatCommand) bool {
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
	return perms.Has(PermSupervise) && slices.Contains(d.GetSupervisors(), id) ||
		perms.Has(PermManageQueues) && slices.Contains(d.GetManagers(), id)
}

// staffCommand handles what staff do to a chat together: transfer,
// invite, join (visibly or not), leave, decline, take over. The agent actor
// checked the permission; the chat checks the rest, here, before any
// effect.
func (c *chat) staffCommand(ctx actor.Context, m *messages.ChatCommand, r role, who *messages.Participant) {
	conn, ref := m.GetConn(), m.GetRef()
	perms := permsOf(&messages.Role{Permissions: m.GetPerms()})
	fail := func(code messages.ErrorCode, format string, args ...any) {
		c.refuse(ctx, m, errorf(code, format, args...))
	}
	eff := &effect{acks: []pendingAck{{conn: conn, ref: ref, ack: &messages.Ack{ChatId: c.id}}}}
	member := func(action messages.MemberAction, p *messages.Participant, invisible bool, by *messages.Participant) func(*messages.ChatEvent) {
		return func(ev *messages.ChatEvent) {
			ev.Kind = &messages.ChatEvent_Member{Member: &messages.ChatMemberChanged{Who: p, Action: action, Invisible: invisible, By: by}}
			ev.Internal = invisible || action == messages.MemberAction_MEMBER_ACTION_INVITED || action == messages.MemberAction_MEMBER_ACTION_DECLINED
		}
	}
	if c.sum.GetState() == stateClosed {
		fail(codeConflict, "chat %s is closed", c.id)
		return
	}
	switch body := m.GetBody().(type) {
	case *messages.ChatCommand_Transfer:
		c.transfer(ctx, m, r, who, body.Transfer, eff)
	case *messages.ChatCommand_Invite:
		id := body.Invite.GetAgentId()
		switch {
		case r != roleOwner && r != roleGuest:
			fail(codeForbidden, "only the chat's agent and its visible guests invite")
			return
		case id == who.GetId() || c.roleOf(&messages.Participant{Kind: kindAgent, Id: id}) != roleNone:
			fail(codeConflict, "%s is already in chat %s or invited", id, c.id)
			return
		}
		rec, why := c.colleague(id)
		if why != nil {
			c.refuse(ctx, m, why)
			return
		}
		p := &messages.Participant{Kind: kindAgent, Id: id, DisplayName: rec.GetDisplayName()}
		eff.invitee = id
		eff.audit = auditOf(m, "chat.invite", "invited "+id)
		eff.invite = &messages.Invitation{ChatId: c.id, By: who, Department: c.sum.GetDepartment(), VisitorName: c.sum.GetVisitorName()}
		c.write(ctx, []func(*messages.ChatEvent){member(messages.MemberAction_MEMBER_ACTION_INVITED, p, false, who)}, eff)
	case *messages.ChatCommand_DeclineInvite:
		if r != roleInvited {
			fail(codeNotFound, "you have no invitation to chat %s", c.id)
			return
		}
		eff.left = who.GetId()
		eff.audit = auditOf(m, "chat.decline_invite", "declined the invitation")
		c.write(ctx, []func(*messages.ChatEvent){member(messages.MemberAction_MEMBER_ACTION_DECLINED, who, false, nil)}, eff)
	case *messages.ChatCommand_Join:
		invisible := body.Join.GetInvisible()
		switch {
		case r == roleOwner:
			fail(codeConflict, "chat %s is already yours", c.id)
			return
		case r == roleGuest && !invisible || r == roleWatcher && invisible:
			sendAck(ctx, conn, ref, &messages.Ack{ChatId: c.id})
			return
		case r == roleGuest:
			fail(codeConflict, "you are in chat %s visibly; the visitor has seen you", c.id)
			return
		}
		invited := r == roleInvited && !invisible
		switch {
		case !invited && invisible && !perms.Has(PermJoinInvisible):
			fail(codeForbidden, "your role does not allow this (%s)", PermJoinInvisible)
			return
		case !invited && !invisible && !perms.Has(PermJoin) && r != roleWatcher:
			fail(codeForbidden, "your role does not allow this (%s)", PermJoin)
			return
		case !invited && r != roleWatcher && !c.mayView(m):
			fail(codeForbidden, "you may not see chat %s", c.id)
			return
		}
		eff.joiner = who.GetId()
		if invisible {
			eff.audit = auditOf(m, "chat.join_invisible", "joined invisibly")
		} else {
			eff.audit = auditOf(m, "chat.join", "joined visibly")
		}
		c.write(ctx, []func(*messages.ChatEvent){member(messages.MemberAction_MEMBER_ACTION_JOINED, who, invisible, nil)}, eff)
	case *messages.ChatCommand_Leave:
		switch r {
		case roleOwner:
			fail(codeConflict, "the chat's agent cannot leave it: close it, transfer it, or hand it over to a guest (transfer)")
			return
		case roleGuest, roleWatcher:
		default:
			fail(codeNotFound, "you are not in chat %s", c.id)
			return
		}
		eff.left = who.GetId()
		eff.audit = auditOf(m, "chat.leave", map[bool]string{true: "stopped watching", false: "left"}[r == roleWatcher])
		c.write(ctx, []func(*messages.ChatEvent){member(messages.MemberAction_MEMBER_ACTION_LEFT, who, r == roleWatcher, nil)}, eff)
	case *messages.ChatCommand_TakeOver:
		c.takeOver(ctx, m, r, who)
	}
}

// auditOf is the audit entry of a staff command to a chat that took
// effect: who, from where, which chat.
func auditOf(m *messages.ChatCommand, kind, detail string) *messages.AuditEntry {
	return &messages.AuditEntry{Kind: kind, Actor: m.GetFrom().GetId(), Address: m.GetAddress(), Subject: m.GetChatId(), Detail: detail, Ok: true}
}

// colleague reads a staff account that can be in chats, or says why not.
func (c *chat) colleague(id string) (*messages.Agent, *messages.Error) {
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
func (c *chat) transfer(ctx actor.Context, m *messages.ChatCommand, r role, who *messages.Participant, t *messages.TransferChat, eff *effect) {
	fail := func(code messages.ErrorCode, format string, args ...any) {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(code, format, args...))
	}
	if r != roleOwner || c.sum.GetState() != stateActive {
		fail(codeForbidden, "only the chat's agent transfers it")
		return
	}
	to, dept := t.GetToAgent(), t.GetToDepartment()
	if to == "" && dept == "" {
		fail(codeInvalid, "name a colleague (to_agent) or a department (to_department)")
		return
	}
	var rec *messages.Agent
	if to != "" {
		if to == who.GetId() {
			fail(codeInvalid, "the chat is already yours")
			return
		}
		var why *messages.Error
		if rec, why = c.colleague(to); why != nil {
			sendErr(ctx, m.GetConn(), m.GetRef(), why)
			return
		}
		if perms, _ := c.b.Permissions(rec); !rec.GetChatAgent() || !perms.Has(PermAcceptChats) {
			fail(codeConflict, "%s does not take chats", to)
			return
		}
		switch {
		case dept == "" && slices.Contains(rec.GetDepartments(), c.sum.GetDepartment()):
			dept = c.sum.GetDepartment()
		case dept == "" && len(rec.GetDepartments()) > 0:
			dept = rec.GetDepartments()[0]
		case dept == "":
			fail(codeConflict, "%s is in no department", to)
			return
		case !slices.Contains(rec.GetDepartments(), dept):
			fail(codeConflict, "%s is not in department %q", to, dept)
			return
		}
	}
	d, err := c.b.store.Department(dept)
	switch {
	case err != nil:
		sendErr(ctx, m.GetConn(), m.GetRef(), c.unavailable())
		return
	case d == nil || !ValidName(dept):
		fail(codeNotFound, "no department %q", dept)
		return
	case !d.GetChatEnabled():
		fail(codeConflict, "the %s queue is offline", d.GetName())
		return
	}
	tr := &messages.ChatTransferred{By: who, ToAgentId: to, ToAgentName: rec.GetDisplayName(), ToDepartment: dept}
	eff.released, eff.enqueue = who.GetId(), true
	detail := "to department " + dept
	if to != "" {
		detail = "to " + to + " in department " + dept
	}
	eff.audit = auditOf(m, "chat.transfer", detail)
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Transferred{Transferred: tr}
	}}, eff)
}

// takeOver makes the sender the chat's agent at once. Their agent actor
// reserved a slot for it (m.reservation), so the take-over keeps them
// within their limit; the previous agent is told and freed.
func (c *chat) takeOver(ctx actor.Context, m *messages.ChatCommand, r role, who *messages.Participant) {
	switch {
	case r == roleOwner:
		c.refuse(ctx, m, errorf(codeConflict, "chat %s is already yours", c.id))
		return
	case c.sum.GetState() != stateActive:
		c.refuse(ctx, m, errorf(codeConflict, "chat %s has no agent to take it from; pick it from the queue", c.id))
		return
	case r == roleNone && !c.mayView(m):
		c.refuse(ctx, m, errorf(codeForbidden, "you may not see chat %s", c.id))
		return
	}
	prev := c.sum.GetAgentId()
	a := &messages.ChatAssigned{AgentId: who.GetId(), AgentName: who.GetDisplayName(), How: messages.AssignHow_ASSIGN_HOW_TAKEN_OVER, PreviousAgentId: prev,
		AgentAvatarUrl: c.avatarOf(ctx, who.GetId())}
	eff := &effect{assign: &messages.AssignChat{ChatId: c.id, AgentId: who.GetId(), AgentName: who.GetDisplayName(), OfferId: m.GetReservation()},
		released: prev,
		audit:    auditOf(m, "chat.take_over", "taken over from "+prev)}
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Assigned{Assigned: a}
	}}, eff)
}

func kindWord(k messages.ParticipantKind) string {
	if k == kindAgent {
		return "agent"
	}
	return "visitor"
}

func (c *chat) send(ctx actor.Context, m *messages.ChatCommand, r role, who *messages.Participant, s *messages.SendMessage) {
	switch {
	case c.sum.GetState() == stateClosed:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeConflict, "chat %s is closed", c.id))
		return
	case s.GetWhisper() && r == roleVisitor:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeForbidden, "only staff whisper"))
		return
	case !s.GetWhisper() && r == roleWatcher:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeForbidden, "you watch chat %s invisibly: whisper, or join visibly to write to the visitor", c.id))
		return
	case s.GetText() == "":
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "text is empty"))
		return
	case len(s.GetClientMsgId()) > MaxClientMsgIDBytes:
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeTooLarge, "client_msg_id is longer than %d bytes", MaxClientMsgIDBytes))
		return
	}
	if err := CheckText("text", s.GetText(), MaxMessageBytes); err != nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), err)
		return
	}
	ack := pendingAck{conn: m.GetConn(), ref: m.GetRef()}
	if cid := s.GetClientMsgId(); cid != "" {
		if sent, dup := c.dedupe[dedupeKey(who, cid)]; dup {
			seq := sent.seq
			ack.ack = &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: cid, VisitorSeq: sent.visitorSeq}
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
	if r == roleVisitor && c.visitorSent+visitorCost(s.GetText()) > MaxVisitorBytes {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeTooLarge, "this chat holds what a visitor may write in one chat (%d KiB); start a new chat", MaxVisitorBytes>>10))
		return
	}
	msg := &messages.ChatMessage{From: who, Text: s.GetText(), ClientMsgId: s.GetClientMsgId()}
	seq := c.last + 1
	ack.ack = &messages.Ack{ChatId: c.id, Seq: seq, ClientMsgId: s.GetClientMsgId()}
	if !s.GetWhisper() {
		ack.ack.VisitorSeq = c.vlast + 1
	}
	eff := &effect{acks: []pendingAck{ack}}
	if s.GetWhisper() {
		eff.audit = auditOf(m, "chat.whisper", fmt.Sprintf("seq %d", seq))
	}
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Message{Message: msg}
		ev.Internal = s.GetWhisper()
	}}, eff)
}

func (c *chat) assign(ctx actor.Context, m *messages.AssignChat) {
	if c.broken || !c.exists || c.sum.GetState() != stateQueued {
		c.b.Send(KindAgent, m.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: m.GetAgentId(), OfferId: m.GetOfferId(), Ok: false})
		return
	}
	a := &messages.ChatAssigned{AgentId: m.GetAgentId(), AgentName: m.GetAgentName(), How: m.GetHow(), AgentAvatarUrl: c.avatarOf(ctx, m.GetAgentId())}
	c.write(ctx, []func(*messages.ChatEvent){func(ev *messages.ChatEvent) {
		ev.Kind = &messages.ChatEvent_Assigned{Assigned: a}
	}}, &effect{assign: m})
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
	if eff.audit != nil {
		c.b.Audit(eff.audit)
	}
	if !eff.changes() {
		return // a message: the fan-out and the ack are all
	}
	visitor := c.created.GetVisitorId()
	sum := c.summary()
	switch {
	case eff.start != nil:
		s := eff.start
		c.b.Send(KindVisitor, visitor, &messages.ChatJoined{Chat: forVisitor(sum)})
		sendAck(ctx, s.GetConn(), s.GetRef(), &messages.Ack{ChatId: c.id})
		c.b.Send(KindQueue, sum.GetDepartment(), &messages.Enqueue{Chat: sum, Ticket: c.created.GetTicket()})
	case eff.assign != nil:
		a := eff.assign
		c.b.Send(KindAgent, a.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: a.GetAgentId(), OfferId: a.GetOfferId(), Ok: true, Chat: sum})
		c.b.Send(KindVisitor, visitor, &messages.ChatJoined{Chat: forVisitor(sum)})
	case eff.closed:
		c.b.Send(KindVisitor, visitor, &messages.ChatLeft{Chat: forVisitor(sum)})
		for _, id := range c.staff() {
			c.b.Send(KindAgent, id, &messages.ChatLeft{Chat: sum})
		}
		for _, p := range sum.GetInvited() {
			c.b.Send(KindAgent, p.GetId(), &messages.ChatLeft{Chat: sum})
		}
		if eff.wasQueue {
			c.b.Send(KindQueue, sum.GetDepartment(), &messages.Withdraw{ChatId: c.id})
		}
		c.idle.arm(ctx, closedLinger)
	}
	if eff.released != "" {
		c.b.Send(KindAgent, eff.released, &messages.ChatLeft{Chat: sum})
	}
	if eff.enqueue {
		c.b.Send(KindQueue, sum.GetDepartment(), &messages.Enqueue{Chat: sum, Ticket: c.created.GetTicket(), Head: c.head, Target: c.target})
	}
	if eff.left != "" {
		c.b.Send(KindAgent, eff.left, &messages.ChatLeft{Chat: sum})
	}
	if eff.joiner != "" {
		c.b.Send(KindAgent, eff.joiner, &messages.ChatJoined{Chat: sum, Guest: true})
	}
	if eff.invite != nil {
		c.b.Send(KindAgent, eff.invitee, eff.invite)
	}
	// The departments' monitors follow the chats being handled.
	active := sum.GetState() == stateActive
	if eff.wasActive && (!active || eff.oldDept != sum.GetDepartment()) {
		c.b.Send(KindQueue, eff.oldDept, &messages.ActiveChat{Chat: sum, Ended: true})
	}
	if active && (eff.assign != nil || eff.joiner != "" || eff.left != "") {
		c.b.Send(KindQueue, sum.GetDepartment(), &messages.ActiveChat{Chat: sum})
	}
}

// fanout delivers a durable event to the participants' actors, which pass
// it to their connections: the visitor unless it is internal, the staff in
// the chat, and the agent the event took the chat from.
func (c *chat) fanout(ctx actor.Context, ev *messages.ChatEvent) {
	if !ev.GetInternal() {
		c.b.Send(KindVisitor, c.created.GetVisitorId(), ev)
	}
	staff := c.staff()
	for _, id := range staff {
		c.b.Send(KindAgent, id, ev)
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
		c.b.Send(KindAgent, from, ev)
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
		c.b.Send(KindVisitor, s.GetVisitorId(), &messages.StartRefused{ChatId: c.id, Conn: s.GetConn(), Ref: s.GetRef(), Error: e})
		c.b.Send(KindQueue, s.GetRequest().GetDepartment(), &messages.Withdraw{ChatId: c.id})
	case eff.assign != nil:
		c.b.Send(KindAgent, eff.assign.GetAgentId(), &messages.AssignResult{ChatId: c.id, AgentId: eff.assign.GetAgentId(), OfferId: eff.assign.GetOfferId(), Error: e})
		if eff.released == "" {
			// A routed chat is still waiting: put it back in its queue.
			c.b.Send(KindQueue, eff.oldDept, &messages.Enqueue{Chat: c.summaryAs(stateQueued), Ticket: c.created.GetTicket(), Head: c.head, Target: c.target})
		}
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
