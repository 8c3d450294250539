package actors

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// A replay goes out in pages, each at most ReplayPageEvents events and
// about ReplayPageBytes bytes (a page ends after the event that reaches
// it). The connection asks for the next page (ReplayNext) only once it has
// written one, so a socket that does not read holds at most a page of a
// transcript, however long, in the broker's memory.
const (
	ReplayPageEvents = 256
	ReplayPageBytes  = 64 << 10
)

// errPageFull stops a store scan once a page is full.
var errPageFull = errors.New("replay page full")

// replay answers one page of the events after m's cursor, as the asker may
// see them: staff every event, by seq; the visitor the events not
// internal, by visitor_seq.
func (c *chat) replay(ctx actor.Context, m *messages.ReplayRequest) {
	r := roleNone
	if c.exists {
		r = c.roleOf(m.GetWho())
	}
	if r == roleNone || r == roleInvited {
		ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), NotFound: true})
		return
	}
	p := replayPage{after: m.GetAfterSeq(), visitor: r == roleVisitor, durable: c.durable}
	// Events past the cursor have a seq past it too (seq >= visitor_seq),
	// and past the previous page's last event.
	from := max(m.GetAfterSeq(), m.GetFromSeq())
	inTail := from >= c.base
	if p.visitor {
		inTail = inTail || p.after >= c.vbase
	}
	if inTail {
		for seq := max(from, c.base) + 1; seq <= c.durable && p.add(c.event(seq)); seq++ {
		}
	} else {
		// Older than the tail: the store has every durable event.
		scanFrom, number := from, legacyNumbering{}
		if c.legacy && p.visitor {
			// Events stored before visitor_seq existed are numbered as
			// the chat numbered them when it loaded: counting from the
			// start.
			scanFrom, number.on = 0, true
		}
		err := c.b.store.EachChatEvent(c.id, scanFrom, func(ev *messages.ChatEvent) error {
			number.apply(ev)
			if ev.GetSeq() <= from {
				return nil
			}
			if !p.add(ev) {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			ctx.Logger().Error("chat: replay", "chat", c.id, "err", err)
			ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), Unavailable: true})
			return
		}
	}
	ctx.Respond(&messages.ReplayBatch{ChatId: c.id, Conn: m.GetConn(), Events: p.events, More: p.more})
}

// replayPage collects one page.
type replayPage struct {
	after   uint64 // the cursor: a seq, or the visitor's visitor_seq
	visitor bool
	durable uint64 // nothing past it goes out
	events  []*messages.ChatEvent
	bytes   int
	more    bool
}

// add takes ev if the asker may see it and it is past the cursor; it
// reports false when the page is done (full, or past what is durable).
func (p *replayPage) add(ev *messages.ChatEvent) bool {
	switch {
	case ev.GetSeq() > p.durable:
		return false
	case p.full():
		p.more = true
		return false
	case p.visitor && (ev.GetInternal() || ev.GetVisitorSeq() <= p.after):
		return true
	case !p.visitor && ev.GetSeq() <= p.after:
		return true
	}
	p.events = append(p.events, ev)
	p.bytes += proto.Size(ev)
	return true
}

func (p *replayPage) full() bool {
	return len(p.events) >= ReplayPageEvents || p.bytes >= ReplayPageBytes
}

// legacyNumbering gives visible events read from the store, in order from
// the first, the visitor_seq that the chat gave them in memory when it
// loaded (apply numbers one stored without it after the last it saw).
// Off: the events are read as stored.
type legacyNumbering struct {
	on   bool
	last uint64
}

func (n *legacyNumbering) apply(ev *messages.ChatEvent) {
	if !n.on || ev.GetInternal() {
		return
	}
	if ev.GetVisitorSeq() == 0 {
		ev.VisitorSeq = n.last + 1
	}
	n.last = ev.GetVisitorSeq()
}
