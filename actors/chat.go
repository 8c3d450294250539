package actors

import (
	"fmt"
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
// from the log on activation. A message passes the guard (admit, in
// chat_guard.go), then its handler changes the in-memory state at once and
// in order by writing events (chat_log.go). What a write causes (acks,
// fan-out to participants, telling the queue or the agent) is the list of
// steps the handler gives it (chat_steps.go): persisted runs them, in that
// order, only once the events are durable.
//
// The files: chat_state.go folds events into the state and says who is
// who; chat_log.go writes, numbers and trims the log; chat_command.go
// dispatches a participant's command and holds what both sides do;
// chat_staff.go what staff do together; chat_routing.go what the routing
// asks (assign, hand back, abandon).
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
	inflight []*pending         // writes not back from the store, oldest first
	token    uint64

	// visitorSent is what the visitor wrote, as MaxVisitorBytes counts
	// (messages and rating comments); ratings how often they rated.
	visitorSent int
	// visitorAt is when the visitor last wrote (a message or a file), in
	// Unix ms: the reply window runs from it (chat_channel.go).
	visitorAt int64
	// deliveredRank: the latest state a channel reported of each event
	// (chat_channel.go).
	deliveredRank map[uint64]int
	ratings       int
	// lastAgent is the last agent the chat was assigned to (a rating
	// names them).
	lastAgent string
	// transcriptMails counts the visitor's transcript emails (at most
	// MaxTranscriptMails).
	transcriptMails int
}

func (c *chat) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self = ctx.Self()
		c.load(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.IdleCheck:
		c.idleCheck(ctx)
	case *messages.Persisted:
		c.idle.touch()
		c.persisted(ctx, m)
	default:
		// Every command first revives a chat that a failed write left
		// broken (see revive), then passes the guard.
		c.idle.touch()
		c.revive(ctx)
		if c.admit(ctx, m) {
			c.handle(ctx, m)
		}
	}
}

// handle dispatches a command that passed the guard.
func (c *chat) handle(ctx actor.Context, msg interface{}) {
	switch m := msg.(type) {
	case *messages.StartChat:
		c.start(m)
	case *messages.ChatCommand:
		c.command(ctx, m)
	case *messages.AssignChat:
		c.assign(ctx, m)
	case *messages.ReplayRequest:
		c.replay(ctx, m)
	case *messages.Handback:
		c.handback(ctx, m)
	case *messages.Abandon:
		c.abandon(m)
	case *messages.AgentRenamed:
		c.renamed(m)
	case *messages.VisitorContextChanged:
		c.visitorContext(m)
	case *messages.RecordEmailed:
		c.recordEmailed(m)
	case *messages.RecordDelivered:
		c.delivered(ctx, m)
	default:
		ctx.Logger().Warn("chat: unexpected message", "chat", c.id, "type", fmt.Sprintf("%T", m))
	}
}

// idleCheck: a closed chat lingers for late commands and replays, then
// stops; one with writes still in flight waits for them.
func (c *chat) idleCheck(ctx actor.Context) {
	switch {
	case !c.idle.due(ctx):
	case c.sum.GetState() == stateClosed && len(c.inflight) == 0 || !c.exists:
		passivate(ctx)
	case c.sum.GetState() == stateClosed:
		c.idle.arm(ctx, closedLinger)
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
		if e := ev.GetEmailed(); e != nil && e.GetPurpose() == PurposeTranscript {
			c.transcriptMails++ // sent before this activation: the limit holds across passivation
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

// start creates the chat (the guard let only the first start through).
// Once stored, the visitor's actor hears of it before the connection gets
// its ack, and then the chat waits in its queue; a failed write refuses the
// start instead.
func (c *chat) start(m *messages.StartChat) {
	r := m.GetRequest()
	evs := []*messages.ChatEvent{{Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{
		VisitorId: m.GetVisitorId(), VisitorName: r.GetName(), Email: r.GetEmail(),
		Department: r.GetDepartment(), Language: r.GetLanguage(), Ticket: m.GetTicket(),
		LiveChat: m.GetLiveChat(), Colleague: m.GetColleague(),
	}}}}
	if ch := m.GetChannel(); ch != nil {
		cr := evs[0].GetCreated()
		cr.Channel, cr.Conversation, cr.ReplyWindowMs = ch.GetChannel(), ch.GetConversation(), ch.GetReplyWindowMs()
	}
	if r.GetFirstMessage() != "" {
		from := &messages.Participant{Kind: kindVisitor, Id: m.GetVisitorId(), DisplayName: r.GetName()}
		evs = append(evs, &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: from, Text: r.GetFirstMessage()}}})
	}
	c.write(evs, c.visitorJoined(), c.answerStart(m), c.joinQueue(m.GetTrace()))
}
