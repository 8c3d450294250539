package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

type role int

const (
	roleVisitor role = iota
	roleAgent
)

// wsConn is one websocket. It is also an actor.Process: actors send to its
// PID and the envelope lands on its outbox. Goroutines: the reader (serve,
// for the socket's life), the writer (outbox), the timers' (Hello,
// frame, login hours) and any that sends to the PID or closes it.
type wsConn struct {
	// Set by serveWS before serve starts, then read only. (pid is set
	// after track: what finds the connection through the Server does not
	// read it.)
	s      *Server
	ws     *websocket.Conn // the reader reads; the writer writes and closes
	cc     *corkConn       // under ws; the writer corks it
	role   role
	pid    *actor.PID
	addr   string     // the client's address, for the per-address limits
	addrSt *addrState // its entry in the address table
	out    outbox     // its own contract (outbox.go)
	// A visitor's User-Agent and first Accept-Language tag, cut short,
	// for their context.
	ua, lang string

	// Closing. close (any goroutine, once) sets code and why, then closes
	// done; the writer reads them only after done is closed, which orders
	// the two. Anyone may watch done.
	once sync.Once
	done chan struct{}
	code websocket.StatusCode
	why  string

	// Written by the reader goroutine, and read only by it where not said.
	// A parked socket's next reader is another goroutine: the poller's
	// lock orders the two (park.go).
	text       atomic.Bool      // answer in JSON (the client's first frame was text); the writer reads it
	typed      bool             // text is set
	buf        bytes.Buffer     // the frame being read, reused: decoding copies what it keeps
	br         *bufio.Reader    // the websocket's read buffer (waitFrame asks what it holds)
	raw        syscall.RawConn  // the socket's descriptor, for the poller (nil: never parks)
	armed      bool             // the socket is in the poller's set (park_linux.go)
	parkID     uint64           // its number there
	check      func(fd uintptr) // the poller's readiness check, made once; it sets ready (park_linux.go)
	ready      bool
	helloTimer *time.Timer // the Hello deadline
	// rd keeps the reader's look into br apart from the websocket's Close
	// (park.go).
	rd         sync.Mutex
	frames     bucket      // the frame budget
	frameTimer *time.Timer // the frame deadline (FrameTimeout); its func only drops the socket
	body       budgetReader
	readAt     time.Time // when the frame being handled was read (the broker's clock)
	// who is set by hello; serve reads it after the reader ended.
	who *messages.Participant
	// peerCode is the client's close code when it sent a close frame
	// (0: it did not); serve reads it after the reader ended.
	peerCode websocket.StatusCode
	// Set by hello, read from other goroutines: authed by the Hello
	// timer and access checks; whoID (the participant's id, for the audit
	// log) by enqueue, the writer and access checks; sid (an agent's
	// session id) by logout.
	authed atomic.Bool
	whoID  atomic.Pointer[string]
	sid    atomic.Pointer[string]

	// view is what a visitor may see, with the refs it computed; only the
	// writer goroutine touches it.
	view actors.VisitorView
	// last is the writer's duplicate filter: the last sequence written per
	// chat. Only the writer goroutine touches it.
	last map[string]uint64

	// hours is the login-hours timer's stop, if any. Replaced by hello
	// (reader), the timer's own recheck, an admin change (its request's
	// goroutine) and serve's end: under its own lock.
	hours struct {
		mu   sync.Mutex
		stop func() bool
	}
}

// SendUserMessage implements actor.Process. It never blocks.
func (c *wsConn) SendUserMessage(_ *actor.PID, message interface{}) {
	switch m := actor.UnwrapEnvelopeMessage(message).(type) {
	case *messages.Envelope:
		c.enqueue(outItem{env: m})
	case *messages.ReplayBatch:
		c.enqueue(outItem{replay: m})
	case *messages.TracedEnvelope:
		c.enqueue(outItem{env: m.GetEnvelope(), span: c.s.tracing.deliver(m.GetTrace(), c.roleName()), read: m.GetReadUnixNano()})
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
	held, ok := c.out.put(it)
	if !ok {
		it.span.fail("not delivered: the client is too slow")
		c.close(CloseSlowClient, "too slow: reconnect and resume from the last sequence you saw")
		return
	}
	c.s.notePeak(held)
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
		c.code, c.why = code, why
		close(c.done)
		c.out.start()
		c.unpark()
	})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, ro role) {
	addr := s.clientAddr(r)
	st, ok := s.addrs.acquire(addr)
	if !ok {
		s.cfg.Metrics.refuse(refusedTooMany)
		s.cfg.Metrics.limit(limitConnections)
		writeError(w, rateLimited("too many connections from your address; close some and try again"))
		return
	}
	cw := &corkingWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.addrs.release(addr, s.b.Now())
		if cw.status == http.StatusForbidden {
			s.cfg.Metrics.refuse(refusedOrigin)
		} else {
			s.cfg.Metrics.refuse(refusedBadRequest)
		}
		return // Accept has answered the request
	}
	ws.SetReadLimit(s.cfg.HardFrameBytes)
	c := &wsConn{s: s, ws: ws, cc: cw.conn, br: cw.br, raw: cw.raw, role: ro, done: make(chan struct{}), last: map[string]uint64{}, addr: addr, addrSt: st}
	c.out.init(s.cfg.OutboundQueue, s.cfg.OutboundBytes, c.writer)
	if ro == roleVisitor {
		c.view = s.visitorView.WithRefCache() // the writer's own
		c.ua, c.lang = clipHeader(r.Header.Get("User-Agent"), actors.MaxContextAgentBytes), firstLanguage(r.Header.Get("Accept-Language"))
	}
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
	c.start()
}

// start sets up reading and starts the socket's first reader.
func (c *wsConn) start() {
	s := c.s
	c.helloTimer = time.AfterFunc(s.cfg.HelloTimeout, func() {
		if !c.authed.Load() {
			c.close(CloseUnauthenticated, "no valid Hello in time")
		}
	})
	// A frame's body must arrive within FrameTimeout of its header: one
	// timer, reset per frame (no allocation), drops the socket when it
	// fires, which ends the read and lets its buffer go.
	c.frameTimer = time.AfterFunc(time.Hour, c.drop)
	c.frameTimer.Stop()
	c.body = budgetReader{st: c.addrSt, limit: s.cfg.Limits.FrameBytesPerAddress}
	go c.readOn()
}

// finish runs once the reader ended: it waits for the writer and cleans
// up.
func (c *wsConn) finish() {
	s := c.s
	defer s.untrack(c)
	defer func() { s.addrs.release(c.addr, s.b.Now()) }()
	defer s.b.System().ProcessRegistry.Remove(c.pid)
	c.frameTimer.Stop()
	c.helloTimer.Stop()
	c.countClose()
	// Every way out of the writer closes the socket, which ends the
	// reader's Read; close makes sure a writer runs, then we wait for it.
	c.close(websocket.StatusNormalClosure, "")
	c.watchLoginHours(time.Time{}) // stop the login-hours timer
	c.out.wait()
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

// reader reads and handles frames until the socket ends (false) or the
// connection parks (true: the goroutine must leave it alone).
func (c *wsConn) reader() (parked bool) {
	for {
		if c.waitFrame() {
			return true
		}
		// No context: a context with a Done channel costs an allocation
		// and a registration per frame. The writer closes the socket to
		// end this loop.
		typ, rd, err := c.ws.Reader(context.Background())
		if err == nil {
			if c.buf.Cap() > maxKeptReadBuffer {
				c.buf = bytes.Buffer{}
			}
			c.buf.Reset()
			c.frameTimer.Reset(c.s.cfg.FrameTimeout)
			c.body.r = rd
			_, err = c.buf.ReadFrom(&c.body)
			c.body.done()
			c.frameTimer.Stop()
		}
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				c.peerCode = ce.Code
			}
			switch {
			case errors.Is(err, errFrameBudget):
				c.close(websocket.StatusPolicyViolation, "too many frame bytes in flight from your address")
			case !errors.As(err, &ce) && !errors.Is(err, net.ErrClosed):
				c.s.log.Debug("gateway: read", "err", err)
			}
			return false
		}
		c.readAt = c.s.b.Now()
		data := c.buf.Bytes()
		if !c.typed {
			c.text.Store(typ == websocket.MessageText)
			c.typed = true
		}
		if int64(len(data)) > c.s.cfg.MaxFrameBytes {
			c.s.cfg.Metrics.frameIn(nil)
			c.fail(0, messages.Errorf(messages.ErrorCode_ERROR_CODE_TOO_LARGE, "frame is %d bytes; at most %d", len(data), c.s.cfg.MaxFrameBytes))
			continue
		}
		env, derr := DecodeFrame(typ, data)
		if derr != nil {
			c.s.cfg.Metrics.frameIn(nil)
		} else {
			c.s.cfg.Metrics.frameIn(env)
		}
		// Every frame counts, undecodable ones too.
		lim := c.s.cfg.Limits
		if !c.frames.allow(c.readAt, lim.FramesPerSecond, lim.FrameBurst) {
			c.s.cfg.Metrics.limit(limitFrames)
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

// countClose counts the socket's end once its reader ended: the client's
// close code when it sent one, else the server's when it closed first,
// else none (the connection dropped: "other").
func (c *wsConn) countClose() {
	m := c.s.cfg.Metrics
	if m == nil {
		return
	}
	code := c.peerCode
	if code == 0 {
		select {
		case <-c.done:
			code = c.code // close set it before closing done
		default:
			code = -1
		}
	}
	m.closedConn(code, c.authed.Load(), c.role)
}
