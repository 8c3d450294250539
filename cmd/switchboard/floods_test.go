package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// rawVisitor opens a websocket without the protocol client and says Hello,
// so a test can write frames by halves.
func rawVisitor(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctxT(t), "ws://"+addr+"/ws/visitor", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(1 << 20)
	hello, _ := gateway.EncodeFrame(websocket.MessageBinary, &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}})
	if err := ws.Write(ctxT(t), websocket.MessageBinary, hello); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctxT(t)); err != nil { // the Welcome
		t.Fatal(err)
	}
	return ws
}

// startFrame writes n bytes of a frame and leaves it unfinished.
func startFrame(t *testing.T, ws *websocket.Conn, n int) io.WriteCloser {
	t.Helper()
	w, err := ws.Writer(ctxT(t), websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	return w
}

// closedBy reads until the socket ends and returns its close code (-1: it
// was dropped without a close frame).
func closedBy(t *testing.T, ws *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		if _, _, err := ws.Read(ctxT(t)); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the socket was not closed")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// An authenticated socket that sends most of a frame and waits is dropped
// once FrameTimeout passes, and what it buffered is let go.
func TestPartialFrameTimesOut(t *testing.T) {
	// Long enough for the poll below to see the bytes held on a loaded
	// machine, short enough not to slow the suite.
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Gateway.FrameTimeout = 2 * time.Second })
	ws := rawVisitor(t, m.Addr())
	startFrame(t, ws, 200<<10)
	eventually(t, "the partial frame to be buffered", func() bool { return m.Gateway().FrameBytesReading("127.0.0.1") > 0 })
	closedBy(t, ws)
	eventually(t, "the socket to end", func() bool { return m.Gateway().Connections() == 0 })
	if n := m.Gateway().FrameBytesReading("127.0.0.1"); n != 0 {
		t.Fatalf("%d frame bytes still held after the socket ended", n)
	}
}

// The frame bytes one address has in flight are bounded: the socket that
// would pass the budget is closed with 1008, the others go on, and the
// budget comes back as frames complete.
func TestFrameBytesPerAddress(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = noLimits
		c.Gateway.Limits.FrameBytesPerAddress = 160 << 10
	})
	a, b, c := rawVisitor(t, m.Addr()), rawVisitor(t, m.Addr()), rawVisitor(t, m.Addr())
	wa, wb := startFrame(t, a, 90<<10), startFrame(t, b, 90<<10)
	eventually(t, "two partial frames to be buffered", func() bool { return m.Gateway().FrameBytesReading("127.0.0.1") >= 128<<10 })
	startFrame(t, c, 90<<10)
	if code := closedBy(t, c); code != websocket.StatusPolicyViolation {
		t.Fatalf("the socket over the budget closed with %d, want 1008", code)
	}
	for _, w := range []io.WriteCloser{wa, wb} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []*websocket.Conn{a, b} {
		_, data, err := ws.Read(ctxT(t))
		env, _ := gateway.DecodeFrame(websocket.MessageBinary, data)
		if err != nil || env.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_TOO_LARGE {
			t.Fatalf("a finished 90 KiB frame: %v, %v; want TOO_LARGE on an open socket", env, err)
		}
	}
	eventually(t, "the budget to come back", func() bool { return m.Gateway().FrameBytesReading("127.0.0.1") == 0 })
}

// rawHTTP opens a TCP connection to the broker.
func rawHTTP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// endsWithin reads c until it ends; it fails the test if that takes d.
func endsWithin(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after %v", d)
	}
}

// HTTP connections that sit idle after a request, or trickle a body, are
// closed by the server's timeouts; websockets, hijacked, keep going.
func TestHTTPSlowClientsClosed(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		// Short, but not so short that a loaded machine misses them with
		// the websocket upgrade and the calls that must succeed.
		c.Gateway.ReadTimeout, c.Gateway.IdleTimeout, c.Gateway.HTTPWriteTimeout = time.Second, time.Second, time.Second
	})
	v, _ := newVisitor(t, m.Addr(), false)

	idle := rawHTTP(t, m.Addr())
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v, %v", res, err)
	}
	endsWithin(t, idle, 5*time.Second)

	trickle := rawHTTP(t, m.Addr())
	io.WriteString(trickle, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	endsWithin(t, trickle, 5*time.Second)

	// The websocket outlived the HTTP deadlines.
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
		t.Fatalf("a websocket after the HTTP timeouts: %v", err)
	}
}

// TCP connections per peer address are capped: one over the cap is closed
// at once; a closed one frees its place.
func TestHTTPConnsPerAddress(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = noLimits
		c.Gateway.Limits.HTTPConnsPerAddress = 3
	})
	var held []net.Conn
	for i := 0; i < 3; i++ {
		held = append(held, rawHTTP(t, m.Addr()))
	}
	over := rawHTTP(t, m.Addr())
	endsWithin(t, over, 5*time.Second)
	held[0].Close()
	eventually(t, "a place to free", func() bool {
		res, err := http.Get("http://" + m.Addr() + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

// countActors counts the running actors whose names start with prefix.
func countActors(m *Main, prefix string) int {
	n := 0
	for _, bucket := range m.broker.System().ProcessRegistry.LocalPIDs.LocalPIDs {
		for _, k := range bucket.Keys() {
			if strings.HasPrefix(k, prefix) {
				n++
			}
		}
	}
	return n
}

// Anonymous clients leave nothing behind: a visitor session that never
// had a chat ends with its socket, and chat commands naming chats the
// visitor is not in activate no chat actor.
func TestVisitorLeavesNoActors(t *testing.T) {
	m := startBroker(t, t.TempDir())
	chats, visitors := countActors(m, "chat/"), countActors(m, "visitor/")
	v, _ := newVisitor(t, m.Addr(), false)
	eventually(t, "the visitor actor", func() bool { return countActors(m, "visitor/") == visitors+1 })
	for i := 0; i < 20; i++ {
		id := actors.NewID('c', time.Now())
		for _, env := range []*messages.Envelope{
			{Body: &messages.Envelope_Typing{Typing: &messages.Typing{ChatId: id, Typing: true}}},
			{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: id, Text: "hi"}}},
		} {
			_, err := v.Call(ctxT(t), env)
			var e *messages.Error
			if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
				t.Fatalf("a command for chat %s the visitor is not in: %v, want NOT_FOUND", id, err)
			}
		}
	}
	if n := countActors(m, "chat/"); n != chats {
		t.Fatalf("%d chat actors after commands for unknown chats, want %d", n, chats)
	}
	v.Close()
	eventually(t, "the unused visitor actor to stop", func() bool { return countActors(m, "visitor/") == visitors })
}

// New visitor sessions (Hello without a resume token) are limited per
// address; a returning visitor's resume token is not.
func TestHellosPerAddress(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = noLimits
		c.Gateway.Limits.HellosPerMinute, c.Gateway.Limits.HelloBurst = 1, 2
	})
	_, w := newVisitor(t, m.Addr(), false)
	newVisitor(t, m.Addr(), false)
	_, err := dial(t, m.Addr(), "visitor", false).Hello(ctxT(t), &messages.Hello{})
	if !isRateLimited(err) {
		t.Fatalf("a third new session at once: %v, want RATE_LIMITED", err)
	}
	if _, err := dial(t, m.Addr(), "visitor", false).Hello(ctxT(t), &messages.Hello{ResumeToken: w.GetResumeToken()}); err != nil {
		t.Fatalf("a returning visitor: %v", err)
	}
}

// An IPv6 client counts by its /64: fresh addresses in it share one
// allowance (else every try could come from a new one), while the next
// /64 is someone else.
func TestIPv6AddressesCountByTheirSlash64(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = noLimits
		c.Gateway.Limits.HellosPerMinute, c.Gateway.Limits.HelloBurst = 1, 2
		c.Gateway.TrustedProxies = []string{"127.0.0.1/32"}
	})
	hello := func(from string) error {
		c, err := gateway.Dial(ctxT(t), "ws://"+m.Addr()+"/ws/visitor", gateway.ClientOptions{Header: http.Header{"X-Forwarded-For": {from}}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_, err = c.Hello(ctxT(t), &messages.Hello{})
		return err
	}
	for i, from := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::2"} {
		if err := hello(from); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	if err := hello("2001:db8:1:2:abcd::3"); !isRateLimited(err) {
		t.Fatalf("a third session from the same /64: %v, want RATE_LIMITED", err)
	}
	if err := hello("2001:db8:1:3::1"); err != nil {
		t.Fatalf("the next /64: %v", err)
	}
}
