package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

const testAdminToken = "test-admin-token-0123456789"

// cheap argon2id costs: tests log in hundreds of times under -race.
var testPassword = gateway.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

// tlog routes the broker's logs to t.Log.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startBroker runs a broker on a free loopback port with its data in dir
// (the demo directory included) and stops it at the end of the test.
var noLimits = gateway.Limits{FramesPerSecond: -1, FrameBurst: -1, ConnsPerAddress: -1, ChatRequestsPerMinute: -1, ChatRequestBurst: -1,
	HellosPerMinute: -1, HelloBurst: -1, HTTPConnsPerAddress: -1}

func startBroker(t testing.TB, dir string, mod ...func(*Config)) *Main {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, Demo: true, AdminToken: testAdminToken,
		Logger: testLogger(t), Out: io.Discard, Password: testPassword}
	// Every test client comes from 127.0.0.1, so the per-address and
	// per-connection limits (and the silent visitors' timer, which a fake
	// clock moved by hours would set off) are off unless a test is about
	// them.
	cfg.Gateway.Limits = noLimits
	cfg.SilentWait, cfg.LinePerAddress = -1, -1
	// Sockets park after a short quiet (500 ms in production), so that every
	// test also runs its sockets through parking and waking (park.go).
	cfg.Gateway.ParkAfter = 20 * time.Millisecond
	for _, f := range mod {
		f(&cfg)
	}
	m := NewMain(cfg)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(15*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// poll checks cond every few milliseconds until it holds (true) or d has
// passed (false).
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			return false
		case <-tick.C:
		}
	}
	return true
}

func dial(t testing.TB, addr, role string, jsonFrames bool) *gateway.Client {
	t.Helper()
	c, err := gateway.Dial(ctxT(t), "ws://"+addr+"/ws/"+role, gateway.ClientOptions{JSON: jsonFrames})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// newVisitor connects a fresh visitor.
func newVisitor(t testing.TB, addr string, jsonFrames bool) (*gateway.Client, *messages.Welcome) {
	t.Helper()
	c := dial(t, addr, "visitor", jsonFrames)
	w, err := c.Hello(ctxT(t), &messages.Hello{})
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

// newAgent logs an agent in and, with available, makes them available.
func newAgent(t testing.TB, addr, login, password string, available bool) (*gateway.Client, *messages.Welcome) {
	t.Helper()
	c := dial(t, addr, "agent", false)
	w, err := c.Hello(ctxT(t), &messages.Hello{Login: login, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if available {
		setStatus(t, c, messages.AgentStatus_AGENT_STATUS_AVAILABLE)
	}
	return c, w
}

func setStatus(t testing.TB, c *gateway.Client, st messages.AgentStatus) {
	t.Helper()
	if _, err := c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: st}}}); err != nil {
		t.Fatal(err)
	}
}

func requestChat(t testing.TB, c *gateway.Client, dept, lang, first string) *messages.Envelope {
	t.Helper()
	env, err := c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: dept, Language: lang, Name: "Visitor", FirstMessage: first}}})
	if err != nil {
		t.Fatalf("request chat: %v", err)
	}
	return env
}

func mustChatID(t testing.TB, env *messages.Envelope) string {
	t.Helper()
	if env.GetAck().GetChatId() == "" {
		t.Fatalf("want an Ack with a chat id, got %v", env)
	}
	return env.GetAck().GetChatId()
}

func send(t testing.TB, c *gateway.Client, chat, cid, text string) uint64 {
	t.Helper()
	env, err := c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: cid, Text: text}}})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	return env.GetAck().GetSeq()
}

func awaitOffer(t testing.TB, c *gateway.Client) *messages.Offer {
	t.Helper()
	env, err := c.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetOffer() != nil })
	if err != nil {
		t.Fatalf("no offer: %v", err)
	}
	return env.GetOffer()
}

func accept(t testing.TB, c *gateway.Client, chat string) {
	t.Helper()
	if _, err := c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}}); err != nil {
		t.Fatalf("accept %s: %v", chat, err)
	}
}

// awaitEvent reads until an event of chat with seq arrives; events read on
// the way are returned too, so callers can check order.
func awaitEvent(t testing.TB, c *gateway.Client, chat string, match func(*messages.ChatEvent) bool) *messages.ChatEvent {
	t.Helper()
	env, err := c.Await(ctxT(t), func(e *messages.Envelope) bool {
		return e.GetEvent().GetChatId() == chat && match(e.GetEvent())
	})
	if err != nil {
		t.Fatalf("waiting for an event of %s: %v", chat, err)
	}
	return env.GetEvent()
}

// admin calls the admin API and decodes the JSON answer into out (if any).
func admin(t testing.TB, addr, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		data, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(data, out); err != nil && len(data) > 0 {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res.StatusCode
}

func mustAdmin(t testing.TB, addr, method, path string, body any) {
	t.Helper()
	var out map[string]any
	if code := admin(t, addr, method, path, body, &out); code/100 != 2 {
		t.Fatalf("%s %s = %d %v", method, path, code, out)
	}
}

var protoIn = protojson.UnmarshalOptions{DiscardUnknown: true}

func toJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// fakeClock is an actors.Clock that moves only when told: grace periods
// and timeouts are tested by advancing it, not by waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_900_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

// Pending counts the timers that have not fired or been stopped.
func (c *fakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

// Advance moves the clock and fires the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}
