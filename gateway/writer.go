// The writer goroutine: it drains the outbox onto the socket.

package gateway

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/messages"
)

// writerLinger is how long a writer goroutine waits for more to write
// before it ends. Under load the next frame comes long before; an idle
// socket gives its stack back soon (with 2 s, the writer stacks of
// 10,000 sockets opened in a few seconds were all alive at once: with
// ParkAfter 2 s, 24,970 bytes of resident memory per idle socket against
// 20,318 with 250 ms).
const writerLinger = 250 * time.Millisecond

func (c *wsConn) frameType() websocket.MessageType {
	if c.text.Load() {
		return websocket.MessageText
	}
	return websocket.MessageBinary
}

// writer is the only goroutine that writes frames to the socket; at most
// one runs at a time (the outbox starts it).
func (c *wsConn) writer() {
	var batch, spare []outItem
	linger := time.NewTimer(writerLinger)
	defer linger.Stop()
	for {
		select {
		case <-c.done:
			failSpans(c.out.take(spare), "not delivered: the socket closed")
			c.closeBarrier()
			c.ws.Close(c.code, c.why)
			return
		case <-c.out.ready:
		case <-linger.C:
			if c.out.idle(c.done) {
				return
			}
		}
		batch = c.out.take(spare)
		if len(batch) > 0 && !c.writeBatch(c.last, batch) {
			failSpans(batch, "not delivered: the write failed")
			c.drop()
			return
		}
		c.written(batch)
		clear(batch) // let the envelopes go
		if cap(batch) > maxKeptBatch {
			batch = nil
		}
		spare = batch
		linger.Reset(writerLinger)
	}
}

// written uncounts a batch the socket took and asks for the next page of
// each replay in it that has more: a replay goes on only as the socket
// drains.
func (c *wsConn) written(batch []outItem) {
	n := 0
	var now time.Time // read once a batch, for its timed events
	for _, it := range batch {
		n += it.bytes
		it.span.end()
		if it.read != 0 {
			now = c.s.cfg.Metrics.written(it.read, now, c.s.b.Now)
		}
		if r := it.replay; r.GetMore() {
			evs := r.GetEvents()
			c.s.b.Send(c.actorKind(), *c.whoID.Load(), &messages.ReplayNext{ChatId: r.GetChatId(),
				AfterSeq: c.last[r.GetChatId()], FromSeq: evs[len(evs)-1].GetSeq(), Conn: c.pid})
		}
	}
	c.out.sent(n)
}

// maxKeptBatch: a queue slice up to this capacity is reused.
const maxKeptBatch = 64

// writeBatch writes everything that was queued with one socket write. It
// reports false when the socket failed.
func (c *wsConn) writeBatch(last map[string]uint64, batch []outItem) bool {
	c.cc.cork()
	for i := range batch {
		if !c.writeItem(last, &batch[i]) {
			c.cc.uncork(c.s.cfg.WriteTimeout)
			return false
		}
	}
	return c.cc.uncork(c.s.cfg.WriteTimeout) == nil
}

// writeItem writes one queued item; a timed event that was not written
// (a duplicate, or nothing a visitor may see) loses its read time, so
// only written ones are timed.
func (c *wsConn) writeItem(last map[string]uint64, it *outItem) bool {
	switch {
	case it.resetChat != "":
		delete(last, it.resetChat)
		return true
	case it.replay == nil:
		wrote, ok := c.writeOne(last, it.env, true)
		if !wrote {
			it.read = 0
		}
		return ok
	}
	for _, ev := range it.replay.GetEvents() {
		if _, ok := c.writeOne(last, &messages.Envelope{Body: &messages.Envelope_Event{Event: ev}}, false); !ok {
			return false
		}
	}
	return true
}

// writeOne writes env unless it is an event this connection already has.
// Each event goes once, in order: replays and live delivery may overlap by
// design, never leave a gap. It reports whether it wrote env, and ok
// false when the socket failed. live is false for a replayed event (its
// delivery latency is not measured).
func (c *wsConn) writeOne(last map[string]uint64, env *messages.Envelope, live bool) (wrote, ok bool) {
	if c.role == roleVisitor {
		// Every frame to a visitor passes here: what they may see of it.
		if env = c.view.Envelope(env); env == nil {
			return false, true
		}
	}
	if ev := env.GetEvent(); ev != nil {
		if ev.GetSeq() <= last[ev.GetChatId()] {
			return false, true
		}
		last[ev.GetChatId()] = ev.GetSeq()
	}
	typ := c.frameType()
	data, err := EncodeFrame(typ, env)
	if err != nil {
		c.s.log.Error("gateway: encode", "err", err)
		return false, true
	}
	// The connection is corked, so this only appends to its buffer: no
	// deadline is needed here, uncork has one.
	if c.ws.Write(context.Background(), typ, data) != nil {
		return false, false
	}
	c.s.cfg.Metrics.frameOut(env, live, c.s.b.Now)
	return true, true
}

// failSpans ends the delivery spans of frames that will not be written.
func failSpans(items []outItem, why string) {
	for _, it := range items {
		it.span.fail(why)
	}
}
