package actors

// The actor-level test harness: one or more real actors of this package,
// with stand-in processes registered under every other name they send to
// ("visitor/v1", "queue/sales", "agent/a1", a connection "conn/a1"), on
// Pebble in memory (vfs.NewMem) and a fake clock.
//
// It is deterministic: every mailbox runs on a dispatcher that queues work
// for the test goroutine (drain runs it until nothing is left), and every
// storage write completes before the call that submitted it returns, so
// after each step the actors have done all they will do. No goroutine of
// ours runs an actor, and no test waits on time.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// harness runs the actors under test. Only the test goroutine drives it,
// but the actor system's own goroutines (dead letters, the store's writer)
// may touch the recorder and the run queue, hence the lock.
type harness struct {
	t     testing.TB
	b     *Broker
	store *syncStore
	clock *harnessClock
	ids   uint64 // the last id made (nextID)
	// audited is how many audit entries the `audit` command has shown.
	audited int

	mu   sync.Mutex
	runq []func()
	sent []delivery // what stand-ins received since the last take
}

// delivery is one message a stand-in received.
type delivery struct {
	to  string
	msg proto.Message
}

// newHarness starts a broker whose actors of the real kinds run for
// real; every other kind is a stand-in that records what it receives.
func newHarness(t testing.TB, real ...string) *harness {
	t.Helper()
	st, err := persistence.Open("/data", persistence.Options{FS: vfs.NewMem(), MinFreeBytes: -1,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: &syncStore{Store: st}, clock: &harnessClock{now: harnessEpoch}}
	b, err := New(Config{Store: h.store, Clock: h.clock,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	b.dispatcher = harnessDispatcher{h}
	b.newID = h.nextID
	isReal := map[string]bool{}
	for _, k := range real {
		isReal[k] = true
	}
	for kind := range b.props {
		if !isReal[kind] {
			kind := kind
			b.props[kind] = func(id string, _ []interface{}) *actor.Props { return h.standIn(kind + "/" + id) }
		}
	}
	h.b = b
	t.Cleanup(func() {
		h.drain()
		b.Shutdown()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// nextID makes ids in NewID's form with a counter for the random part:
// the first chat is c01a22baeb6800000000000000001 (at the epoch) and so on.
func (h *harness) nextID(prefix byte, now time.Time) string {
	h.ids++
	return fmt.Sprintf("%c%012x%016x", prefix, now.UnixMilli(), h.ids)
}

// harnessEpoch is the fake clock's start: a Monday, 09:00 UTC.
var harnessEpoch = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// standIn is a process that records every user message it receives.
func (h *harness) standIn(name string) *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(proto.Message); ok {
			h.mu.Lock()
			h.sent = append(h.sent, delivery{to: name, msg: m})
			h.mu.Unlock()
		}
	}, actor.WithDispatcher(harnessDispatcher{h}))
}

// conn returns the stand-in for a client connection "conn/<id>": where an
// actor sends a session's replies and pushes.
func (h *harness) conn(id string) *actor.PID {
	name := "conn/" + id
	if _, ok := h.b.system.ProcessRegistry.GetLocal(name); ok {
		return actor.NewPID(h.b.system.Address(), name)
	}
	pid, err := h.b.root.SpawnNamed(h.standIn(name), name)
	if err != nil {
		h.t.Fatal(err)
	}
	h.drain()
	return pid
}

// send delivers msg to the actor "<kind>/<id>" (activating it), from
// sender when it is not nil, and runs everything that follows.
func (h *harness) send(kind, id string, msg proto.Message, sender *actor.PID) {
	pid := h.b.PID(kind, id)
	if sender != nil {
		h.b.root.RequestWithCustomSender(pid, msg, sender)
	} else {
		h.b.root.Send(pid, msg)
	}
	h.drain()
}

// stop stops an actor, as a crash or an idle passivation would; the next
// message to its name activates it afresh from storage.
func (h *harness) stop(kind, id string) {
	h.b.root.Stop(h.b.PID(kind, id))
	h.drain()
}

// advance moves the clock, firing the timers that come due in time order.
func (h *harness) advance(d time.Duration) {
	h.clock.advance(d, h.drain)
	h.drain()
}

// drain runs queued mailbox work until there is none.
func (h *harness) drain() {
	for i := 0; ; i++ {
		if i > 1_000_000 {
			h.t.Fatal("harness: the actors never went quiet")
		}
		h.mu.Lock()
		if len(h.runq) == 0 {
			h.mu.Unlock()
			return
		}
		fn := h.runq[0]
		h.runq = h.runq[1:]
		h.mu.Unlock()
		fn()
	}
}

// take returns, and forgets, what the stand-ins received.
func (h *harness) take() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.sent
	h.sent = nil
	return out
}

// harnessDispatcher queues mailbox work for drain.
type harnessDispatcher struct{ h *harness }

func (d harnessDispatcher) Schedule(fn func()) {
	d.h.mu.Lock()
	d.h.runq = append(d.h.runq, fn)
	d.h.mu.Unlock()
}

func (d harnessDispatcher) Throughput() int { return 1 << 20 }

// harnessClock is a fake clock whose timers fire on advance, in order.
type harnessClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*harnessTimer
}

type harnessTimer struct {
	at   time.Time
	seq  int
	f    func()
	done bool
}

func (c *harnessClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *harnessClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &harnessTimer{at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

// advance moves time forward to each due timer in turn, fires it and
// lets the actors run (settle) before the next, so a timer armed by a
// fired one is honoured within the same advance.
func (c *harnessClock) advance(d time.Duration, settle func()) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *harnessTimer
		for _, t := range c.timers {
			if !t.done && !t.at.After(end) && (next == nil || t.at.Before(next.at) || (t.at.Equal(next.at) && t.seq < next.seq)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.done = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
		settle()
	}
}

// pending lists the armed timers as offsets from now, for a test to read.
func (c *harnessClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		if !t.done {
			out = append(out, t.at.Sub(c.now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// syncStore completes every write before the call that submitted it
// returns (the done callback runs on the caller's goroutine, inside the
// actor's Receive, which the store's contract allows: done may run on any
// goroutine), so a drained harness has nothing in flight. fail, when set,
// makes every write fail with it, as a broken disk would.
type syncStore struct {
	Store
	fail error
}

func (s *syncStore) do(write func(func(error)), done func(error)) {
	if s.fail != nil {
		done(s.fail)
		return
	}
	ch := make(chan error, 1)
	write(func(err error) { ch <- err })
	done(<-ch)
}

func (s *syncStore) AppendChat(id string, evs []*messages.ChatEvent, open *messages.OpenChat, closed bool, done func(error)) {
	s.do(func(cb func(error)) { s.Store.AppendChat(id, evs, open, closed, cb) }, done)
}
func (s *syncStore) AppendAudit(e *messages.AuditEntry, done func(error)) {
	s.do(func(cb func(error)) { s.Store.AppendAudit(e, cb) }, done)
}
func (s *syncStore) SaveAgentSnapshot(snap *messages.AgentSnapshot, done func(error)) {
	s.do(func(cb func(error)) { s.Store.SaveAgentSnapshot(snap, cb) }, done)
}
func (s *syncStore) PutDepartment(d *messages.Department, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutDepartment(d, cb) }, done)
}
func (s *syncStore) DeleteDepartment(id string, done func(error)) {
	s.do(func(cb func(error)) { s.Store.DeleteDepartment(id, cb) }, done)
}
func (s *syncStore) PutCanned(r *messages.CannedReply, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutCanned(r, cb) }, done)
}
func (s *syncStore) DeleteCanned(r *messages.CannedReply, done func(error)) {
	s.do(func(cb func(error)) { s.Store.DeleteCanned(r, cb) }, done)
}
func (s *syncStore) PutLanguage(l *messages.Language, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutLanguage(l, cb) }, done)
}
func (s *syncStore) DeleteLanguage(code string, done func(error)) {
	s.do(func(cb func(error)) { s.Store.DeleteLanguage(code, cb) }, done)
}
func (s *syncStore) PutAgent(a *messages.Agent, previousLogin string, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutAgent(a, previousLogin, cb) }, done)
}
func (s *syncStore) DeleteAgent(a *messages.Agent, done func(error)) {
	s.do(func(cb func(error)) { s.Store.DeleteAgent(a, cb) }, done)
}
func (s *syncStore) PutAgentRecords(as []*messages.Agent, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutAgentRecords(as, cb) }, done)
}
func (s *syncStore) PutSettings(x *messages.Settings, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutSettings(x, cb) }, done)
}
func (s *syncStore) PutSignIn(x *messages.SignInSettings, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutSignIn(x, cb) }, done)
}
func (s *syncStore) PutRole(r *messages.Role, done func(error)) {
	s.do(func(cb func(error)) { s.Store.PutRole(r, cb) }, done)
}
func (s *syncStore) DeleteRole(id string, done func(error)) {
	s.do(func(cb func(error)) { s.Store.DeleteRole(id, cb) }, done)
}

// seed writes a directory (departments, languages, agents, roles,
// settings) straight to storage, as an administrator had set it up.
func (h *harness) seed(v *messages.DirectoryView) {
	ok := func(err error) {
		if err != nil {
			h.t.Fatal(err)
		}
	}
	for _, l := range v.GetLanguages() {
		h.store.PutLanguage(l, ok)
	}
	for _, d := range v.GetDepartments() {
		h.store.PutDepartment(d, ok)
	}
	for _, r := range v.GetRoles() {
		h.store.PutRole(r, ok)
	}
	for _, a := range v.GetAgents() {
		h.store.PutAgent(a, "", ok)
	}
	if v.GetSettings() != nil {
		h.store.PutSettings(v.GetSettings(), ok)
	}
}

// format prints a delivery as one line: "<to> <- <Type> <json>", with the
// JSON compacted (protojson's own spacing is unstable on purpose).
func format(d delivery) string {
	return d.to + " <- " + string(d.msg.ProtoReflect().Descriptor().Name()) + " " + compactJSON(d.msg)
}

func compactJSON(m proto.Message) string {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// testWriter routes log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
