package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

type role int

const (
	roleVisitor role = iota
	roleAgent
)

// wsConn is one websocket. It is also an actor.Process: actors send to its
// PID and the envelope lands on the bounded outbound queue.
type wsConn struct {
	s    *Server
	ws   *websocket.Conn
	cc   *corkConn // under ws
	role role
	pid  *actor.PID
	done chan struct{}

	// The outbound queue, bounded at Config.OutboundQueue items and
	// Config.OutboundBytes bytes (qbytes counts what is queued and what the
	// writer has taken but not yet written), and its writer. The queue is a slice that grows as needed (a buffered
	// channel of that size cost every connection about 25 KB, idle or
	// not), and the writer goroutine runs only while there is something
	// to write, lingering writerLinger after: an idle connection costs no
	// writer stack.
	qmu       sync.Mutex
	queue     []outItem
	qbytes    int
	writing   bool           // a writer goroutine runs
	ready     chan struct{}  // capacity 1: the queue went from empty to not
	writers   sync.WaitGroup // the writer goroutine, if any
	last      map[string]uint64
	stopHours func() bool // the login-hours timer, if any
	once      sync.Once
	code      atomic.Int32
	why       atomic.Value // string
	text      atomic.Bool  // answer in JSON (the client's first frame was text)

	addr   string                 // the client's address, for the per-address limits
	addrSt *addrState             // its entry in the address table
	whoID  atomic.Pointer[string] // the participant's id once authenticated, for the audit log
	sid    atomic.Pointer[string] // an agent's session id, for logout
	frames bucket                 // the reader's frame budget

	// The reader's frame deadline (FrameTimeout) and byte budget.
	frameTimer *time.Timer
	body       budgetReader

	// Set by the reader goroutine once authenticated; read only by it.
	who    *messages.Participant
	authed atomic.Bool // for the Hello timer
}

// outItem is an envelope to write, a replay page, or (resetChat) a note
// that the client asked for a replay of that chat, so the writer's
// duplicate filter starts that chat afresh.
type outItem struct {
	env       *messages.Envelope
	replay    *messages.ReplayBatch // a replay page, written event by event
	resetChat string
	bytes     int // its encoded size, for the queue's byte bound
}

// size is about what the item takes in memory and on the wire.
func (it outItem) size() int {
	switch {
	case it.env != nil:
		return proto.Size(it.env)
	case it.replay != nil:
		return proto.Size(it.replay)
	}
	return 0
}

// SendUserMessage implements actor.Process. It never blocks.
func (c *wsConn) SendUserMessage(_ *actor.PID, message interface{}) {
	switch m := actor.UnwrapEnvelopeMessage(message).(type) {
	case *messages.Envelope:
		c.enqueue(outItem{env: m})
	case *messages.ReplayBatch:
		c.enqueue(outItem{replay: m})
	case *messages.CloseConn:
		c.close(websocket.StatusCode(m.GetCode()), m.GetReason())
	default:
		c.s.log.Warn("gateway: unexpected message for a connection", "type", fmt.Sprintf("%T", message))
	}
}

func (c *wsConn) enqueue(it outItem) {
	if e := it.env.GetError(); e.GetCode() == messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		// Every permission denial, decided here or by an actor, passes
		// this way to the client: the audit log gets it.
		who := ""
		if p := c.whoID.Load(); p != nil {
			who = *p
		}
		c.s.audit(c.addr, "permission.denied", who, "", e.GetMessage(), false)
	}
	it.bytes = it.size()
	c.qmu.Lock()
	n := len(c.queue)
	// One item larger than the byte bound still goes to an idle socket (a
	// replay page is far smaller; a frame is at most MaxFrameBytes).
	full := n >= c.s.cfg.OutboundQueue || c.qbytes > 0 && c.qbytes+it.bytes > c.s.cfg.OutboundBytes
	if !full {
		c.queue = append(c.queue, it)
		c.qbytes += it.bytes
		c.s.notePeak(c.qbytes)
		c.startWriterLocked()
	}
	c.qmu.Unlock()
	switch {
	case full:
		c.close(CloseSlowClient, "too slow: reconnect and resume from the last sequence you saw")
	case n == 0:
		select {
		case c.ready <- struct{}{}:
		default:
		}
	}
}

// startWriterLocked starts the writer goroutine unless one runs. qmu is
// held.
func (c *wsConn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		go c.writer()
	}
}

// writerLinger is how long a writer goroutine waits for more to write
// before it ends.
const writerLinger = 2 * time.Second

// take swaps the queue for spare (emptied) and returns what was queued.
func (c *wsConn) take(spare []outItem) []outItem {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	got := c.queue
	c.queue = spare[:0]
	return got
}

// SendSystemMessage implements actor.Process; connections have no system
// messages.
func (c *wsConn) SendSystemMessage(*actor.PID, interface{}) {}

// Stop implements actor.Process.
func (c *wsConn) Stop(*actor.PID) { c.close(websocket.StatusNormalClosure, "") }

// close ends the connection: the writer sends the close frame (a writer is
// started if none runs) and closes the socket.
func (c *wsConn) close(code websocket.StatusCode, why string) {
	c.once.Do(func() {
		c.code.Store(int32(code))
		c.why.Store(why)
		close(c.done)
		c.qmu.Lock()
		c.startWriterLocked()
		c.qmu.Unlock()
	})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, ro role) {
	addr := s.clientAddr(r)
	st, ok := s.addrs.acquire(addr)
	if !ok {
		writeError(w, rateLimited("too many connections from your address; close some and try again"))
		return
	}
	cw := &corkingWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.addrs.release(addr, s.b.Now())
		return // Accept has answered the request
	}
	ws.SetReadLimit(s.cfg.HardFrameBytes)
	c := &wsConn{s: s, ws: ws, cc: cw.conn, role: ro, ready: make(chan struct{}, 1), done: make(chan struct{}),
		last: map[string]uint64{}, addr: addr, addrSt: st}
	if !s.track(c) {
		s.addrs.release(addr, s.b.Now())
		ws.Close(CloseGoingAway, "server shutting down")
		return
	}
	sys := s.b.System()
	c.pid, _ = sys.ProcessRegistry.Add(c, "conn/"+sys.ProcessRegistry.NextId())
	// The connection lives on its own goroutine and this handler returns:
	// net/http then lets go of the request, the response and their
	// buffers (about 8 KB), and of the deep handler stack, which a
	// hijacked connection would otherwise keep for its whole life.
	go c.run()
}

// run reads until the socket ends, then cleans up.
func (c *wsConn) run() {
	s := c.s
	defer s.untrack(c)
	defer func() { s.addrs.release(c.addr, s.b.Now()) }()
	defer s.b.System().ProcessRegistry.Remove(c.pid)
	hello := time.AfterFunc(s.cfg.HelloTimeout, func() {
		if !c.authed.Load() {
			c.close(CloseUnauthenticated, "no valid Hello in time")
		}
	})
	c.reader()
	hello.Stop()
	// Every way out of the writer closes the socket, which ends the
	// reader's Read; close makes sure a writer runs, then we wait for it.
	c.close(websocket.StatusNormalClosure, "")
	c.watchLoginHours(time.Time{}) // stop the login-hours timer
	c.writers.Wait()
	if c.who != nil {
		s.b.Send(c.actorKind(), c.who.GetId(), &messages.ConnDetach{Conn: c.pid})
	}
}

func (c *wsConn) actorKind() string {
	if c.role == roleAgent {
		return actors.KindAgent
	}
	return actors.KindVisitor
}

func (c *wsConn) frameType() websocket.MessageType {
	if c.text.Load() {
		return websocket.MessageText
	}
	return websocket.MessageBinary
}

// writer is the only goroutine that writes frames to the socket; at most
// one runs at a time (qmu's writing flag).
func (c *wsConn) writer() {
	defer c.writers.Done()
	var batch, spare []outItem
	linger := time.NewTimer(writerLinger)
	defer linger.Stop()
	for {
		select {
		case <-c.done:
			why, _ := c.why.Load().(string)
			c.ws.Close(websocket.StatusCode(c.code.Load()), why)
			return
		case <-c.ready:
		case <-linger.C:
			c.qmu.Lock()
			if len(c.queue) == 0 {
				c.writing = false
				c.qmu.Unlock()
				return
			}
			c.qmu.Unlock()
		}
		batch = c.take(spare)
		if len(batch) > 0 && !c.writeBatch(c.last, batch) {
			c.ws.CloseNow()
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
	for _, it := range batch {
		n += it.bytes
		if r := it.replay; r.GetMore() {
			evs := r.GetEvents()
			c.s.b.Send(c.actorKind(), *c.whoID.Load(), &messages.ReplayNext{ChatId: r.GetChatId(),
				AfterSeq: c.last[r.GetChatId()], FromSeq: evs[len(evs)-1].GetSeq(), Conn: c.pid})
		}
	}
	c.qmu.Lock()
	c.qbytes -= n
	c.qmu.Unlock()
}

// maxKeptBatch: a queue slice up to this capacity is reused.
const maxKeptBatch = 64

// writeBatch writes everything that was queued with one socket write. It
// reports false when the socket failed.
func (c *wsConn) writeBatch(last map[string]uint64, batch []outItem) bool {
	c.cc.cork()
	for _, it := range batch {
		if !c.writeItem(last, it) {
			c.cc.uncork(c.s.cfg.WriteTimeout)
			return false
		}
	}
	return c.cc.uncork(c.s.cfg.WriteTimeout) == nil
}

func (c *wsConn) writeItem(last map[string]uint64, it outItem) bool {
	switch {
	case it.resetChat != "":
		delete(last, it.resetChat)
		return true
	case it.replay == nil:
		return c.writeOne(last, it.env)
	}
	for _, ev := range it.replay.GetEvents() {
		if !c.writeOne(last, &messages.Envelope{Body: &messages.Envelope_Event{Event: ev}}) {
			return false
		}
	}
	return true
}

// writeOne writes env unless it is an event this connection already has.
// Each event goes once, in order: replays and live delivery may overlap by
// design, never leave a gap. It reports false when the socket failed.
func (c *wsConn) writeOne(last map[string]uint64, env *messages.Envelope) bool {
	if c.role == roleVisitor {
		// Every frame to a visitor passes here: what they may see of it.
		if env = c.s.visitorView.Envelope(env); env == nil {
			return true
		}
	}
	if ev := env.GetEvent(); ev != nil {
		if ev.GetSeq() <= last[ev.GetChatId()] {
			return true
		}
		last[ev.GetChatId()] = ev.GetSeq()
	}
	typ := c.frameType()
	data, err := EncodeFrame(typ, env)
	if err != nil {
		c.s.log.Error("gateway: encode", "err", err)
		return true
	}
	// The connection is corked, so this only appends to its buffer: no
	// deadline is needed here, uncork has one.
	return c.ws.Write(context.Background(), typ, data) == nil
}

func (c *wsConn) reply(ref uint64, env *messages.Envelope) {
	env.Ref = ref
	c.enqueue(outItem{env: env})
}

func (c *wsConn) fail(ref uint64, e *messages.Error) {
	c.reply(ref, &messages.Envelope{Body: &messages.Envelope_Error{Error: e}})
}

// maxKeptReadBuffer: a connection keeps a read buffer up to this size
// between frames; a larger one (a rare large frame) is dropped.
const maxKeptReadBuffer = 64 << 10

func (c *wsConn) reader() {
	first := true
	var buf bytes.Buffer // reused: decoding copies what it keeps
	// A frame's body must arrive within FrameTimeout of its header: one
	// timer, reset per frame (no allocation), drops the socket when it
	// fires, which ends the read and lets its buffer go.
	c.frameTimer = time.AfterFunc(time.Hour, func() { c.ws.CloseNow() })
	c.frameTimer.Stop()
	defer c.frameTimer.Stop()
	c.body = budgetReader{st: c.addrSt, limit: c.s.cfg.Limits.FrameBytesPerAddress}
	for {
		// No context: a context with a Done channel costs an allocation
		// and a registration per frame. The writer closes the socket to
		// end this loop.
		typ, rd, err := c.ws.Reader(context.Background())
		if err == nil {
			if buf.Cap() > maxKeptReadBuffer {
				buf = bytes.Buffer{}
			}
			buf.Reset()
			c.frameTimer.Reset(c.s.cfg.FrameTimeout)
			c.body.r = rd
			_, err = buf.ReadFrom(&c.body)
			c.body.done()
			c.frameTimer.Stop()
		}
		if err != nil {
			var ce websocket.CloseError
			switch {
			case errors.Is(err, errFrameBudget):
				c.close(websocket.StatusPolicyViolation, "too many frame bytes in flight from your address")
			case !errors.As(err, &ce) && !errors.Is(err, net.ErrClosed):
				c.s.log.Debug("gateway: read", "err", err)
			}
			return
		}
		data := buf.Bytes()
		if first {
			c.text.Store(typ == websocket.MessageText)
			first = false
		}
		if int64(len(data)) > c.s.cfg.MaxFrameBytes {
			c.fail(0, messages.Errorf(messages.ErrorCode_ERROR_CODE_TOO_LARGE, "frame is %d bytes; at most %d", len(data), c.s.cfg.MaxFrameBytes))
			continue
		}
		env, derr := DecodeFrame(typ, data)
		// Every frame counts, undecodable ones too.
		lim := c.s.cfg.Limits
		if !c.frames.allow(c.s.b.Now(), lim.FramesPerSecond, lim.FrameBurst) {
			c.fail(env.GetRef(), rateLimited("more than %g frames a second; slow down", lim.FramesPerSecond))
			continue
		}
		if derr != nil {
			c.fail(env.GetRef(), derr)
			continue
		}
		c.dispatch(env)
	}
}
