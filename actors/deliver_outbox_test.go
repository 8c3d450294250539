package actors

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// testSender posts deliveries as gateway/hooks does (actors never
// import the gateway): a JSON body and an HMAC-SHA256 signature header.
type testSender struct {
	client *http.Client
}

func newTestSender(timeout time.Duration) *testSender {
	return &testSender{client: &http.Client{Timeout: timeout}}
}

type testEvent struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	LiveChat string `json:"live_chat"`
	ChatID   string `json:"chat_id"`
	Seq      uint64 `json:"seq"`
}

func testSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *testSender) Post(url, secret string, d *messages.Delivery, done func(int, error)) {
	go func() {
		ev := testEvent{ID: d.GetId(), Type: d.GetType(), LiveChat: d.GetLiveChat(), ChatID: d.GetEvent().GetChatId(), Seq: d.GetEvent().GetSeq()}
		body, _ := json.Marshal(ev)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-Test-Signature", testSign(secret, body))
		resp, err := s.client.Do(req)
		if err != nil {
			done(0, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done(resp.StatusCode, fmt.Errorf("answered %s", resp.Status))
			return
		}
		done(resp.StatusCode, nil)
	}()
}

// receiver is a webhook endpoint for tests: it checks each request's
// signature, answers fail() ? 500 : 200, and keeps what it took.
type receiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server
	fail   atomic.Bool
	hang   chan struct{} // not nil: every request waits for it to close
	ended  chan struct{} // closed when the test ends
	mu     sync.Mutex
	got    []testEvent // taken (2xx), in arrival order
	tries  int
	badSig int
}

func newReceiver(t testing.TB, secret string) *receiver {
	r := &receiver{t: t, secret: secret, ended: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.ended) // a hanging request ends with the test
		r.srv.Close()
	})
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.hang != nil {
		select {
		case <-r.hang:
		case <-r.ended:
		case <-req.Context().Done():
		}
		http.Error(w, "gone", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if !hmac.Equal([]byte(testSign(r.secret, body)), []byte(req.Header.Get("X-Test-Signature"))) {
		r.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.fail.Load() {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	var ev testEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.got = append(r.got, ev)
}

// byChat is what the receiver took, deduplicated by id, per chat in
// arrival order.
func (r *receiver) byChat() (map[string][]uint64, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	out := map[string][]uint64{}
	for _, ev := range r.got {
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		out[ev.ChatID] = append(out[ev.ChatID], ev.Seq)
	}
	return out, len(seen)
}

// outboxRig is a broker over a real store with the webhook sender.
type outboxRig struct {
	dir   string
	store *persistence.Store
	b     *Broker
	clock *harnessClock
}

func startOutboxRig(t testing.TB, dir string, clock *harnessClock, cfg Config) *outboxRig {
	t.Helper()
	store, err := persistence.Open(dir, persistence.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Clock, cfg.Logger = store, clock, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if cfg.Webhooks == nil {
		cfg.Webhooks = newTestSender(5 * time.Second)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store.SetDeliveryWake(b.WakeDeliveries)
	if _, _, err := b.Recover(); err != nil {
		t.Fatal(err)
	}
	return &outboxRig{dir: dir, store: store, b: b, clock: clock}
}

func (r *outboxRig) stop() {
	r.store.SetDeliveryWake(nil)
	r.b.Shutdown()
	r.store.Close()
}

func (r *outboxRig) putHook(t testing.TB, h *messages.WebhookEndpoint, create bool) *messages.WebhookEndpoint {
	t.Helper()
	got, err := r.b.Webhook(context.Background(), h.GetId(), &messages.WebhookCommand{Create: create, Body: &messages.WebhookCommand_Put{Put: h}})
	if err != nil {
		t.Fatalf("put webhook %s: %v", h.GetId(), err)
	}
	return got
}

// appendChat stores events seq from..to of chat id (a ChatCreated first
// when from is 1), every fourth message a whisper.
func appendChat(t testing.TB, store *persistence.Store, id, dept string, from, to uint64) {
	t.Helper()
	var evs []*messages.ChatEvent
	for seq := from; seq <= to; seq++ {
		ev := &messages.ChatEvent{ChatId: id, Seq: seq, AtMs: time.Now().UnixMilli()}
		switch {
		case seq == 1:
			ev.Kind = &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: "v-" + id, Department: dept, Language: "en"}}
		default:
			ev.Kind = &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: &messages.Participant{Kind: kindVisitor, Id: "v-" + id}, Text: fmt.Sprint("m", seq)}}
			ev.Internal = seq%4 == 0
		}
		evs = append(evs, ev)
	}
	done := make(chan error, 1)
	store.AppendChat(id, evs, nil, false, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// wantSeqs are the delivered sequences of a chat of events 1..n.
func wantSeqs(n uint64) []uint64 {
	var out []uint64
	for seq := uint64(1); seq <= n; seq++ {
		if seq == 1 || seq%4 != 0 {
			out = append(out, seq)
		}
	}
	return out
}

// waitFor checks ok until it holds, running tick (when not nil) between
// checks; after d it fails the test (the one polling helper here).
func waitFor(t testing.TB, what string, d time.Duration, tick func(), ok func() bool) {
	t.Helper()
	deadline := time.After(d)
	every := time.NewTicker(5 * time.Millisecond)
	defer every.Stop()
	for !ok() {
		if tick != nil {
			tick()
		}
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-every.C:
		}
	}
}

// Every chat event reaches the endpoint signed, in order per chat, once
// after deduplication by id, across a receiver that fails for a while
// (retries on the broker's clock) and a restart of the broker with
// deliveries waiting; internal events never go out.
func TestDeliveryOutboxOrderRetryRestart(t *testing.T) {
	dir := t.TempDir()
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t, "0123456789abcdef-secret")
	rig := startOutboxRig(t, dir, clock, Config{DeliveryRetry: time.Second, DeliveryRetryMax: 8 * time.Second})
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h1", Url: rec.srv.URL + "/hook", Secret: rec.secret, Enabled: true}, true)

	const chats, first, total = 20, 10, 30
	for i := range chats {
		appendChat(t, rig.store, fmt.Sprintf("c%02d", i), "sales", 1, first)
	}
	waitFor(t, "the first events", 10*time.Second, nil, func() bool { _, n := rec.byChat(); return n == chats*len(wantSeqs(first)) })

	// The receiver fails: the next events wait, retried on the clock.
	rec.fail.Store(true)
	for i := range chats {
		appendChat(t, rig.store, fmt.Sprintf("c%02d", i), "sales", first+1, 20)
	}
	waitFor(t, "failed tries", 10*time.Second, nil, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.tries > chats*len(wantSeqs(first)) })
	waitFor(t, "the failed tries logged", 10*time.Second, nil, func() bool {
		log, _ := rig.store.DeliveryLog(messages.WebhookTarget("h1"))
		n := 0
		for _, a := range log.GetAttempts() {
			if !a.GetOk() && a.GetStatus() == 500 {
				n++
			}
		}
		return n >= chats
	})
	rig.clock.advance(2*time.Second, func() {})
	rig.stop()

	// A new broker on the same store: it loads what waits.
	rig = startOutboxRig(t, dir, clock, Config{DeliveryRetry: time.Second, DeliveryRetryMax: 8 * time.Second})
	defer rig.stop()
	for i := range chats {
		appendChat(t, rig.store, fmt.Sprintf("c%02d", i), "sales", 21, total)
	}
	rec.fail.Store(false)
	waitFor(t, "every event", 20*time.Second, func() { rig.clock.advance(time.Second, func() {}) }, func() bool {
		_, n := rec.byChat()
		return n == chats*len(wantSeqs(total))
	})
	got, _ := rec.byChat()
	for i := range chats {
		id := fmt.Sprintf("c%02d", i)
		if fmt.Sprint(got[id]) != fmt.Sprint(wantSeqs(total)) {
			t.Errorf("chat %s: got %v, want %v", id, got[id], wantSeqs(total))
		}
	}
	if rec.badSig != 0 {
		t.Errorf("%d requests with a bad signature", rec.badSig)
	}
	// Nothing waits any more, and the log holds the tries.
	waitFor(t, "the outbox empty", 10*time.Second, nil, func() bool {
		n := 0
		_ = rig.store.EachDelivery(messages.WebhookTarget("h1"), func(*messages.Delivery) bool { n++; return true })
		return n == 0
	})
	log, err := rig.b.WebhookLog("h1")
	if err != nil || len(log.GetAttempts()) == 0 {
		t.Fatalf("log: %v, %v", log, err)
	}
	var failed bool
	for _, a := range log.GetAttempts() {
		failed = failed || (!a.GetOk() && a.GetStatus() == 500)
	}
	if !failed || len(log.GetAttempts()) > DeliveryLogSize {
		t.Errorf("the log should hold the failed tries (500), at most %d: %d tries", DeliveryLogSize, len(log.GetAttempts()))
	}
}

// Filters: an endpoint gets only its event types and its live chat's
// events; a disabled one gets none.
func TestDeliveryOutboxFilters(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	all, created, other, off := newReceiver(t, "secret-all-0123456"), newReceiver(t, "secret-created-0123"), newReceiver(t, "secret-other-012345"), newReceiver(t, "secret-off-01234567")
	rig := startOutboxRig(t, t.TempDir(), clock, Config{})
	defer rig.stop()
	done := make(chan error, 1)
	rig.store.PutDepartment(&messages.Department{Id: "hr", Name: "HR", LiveChat: "staff"}, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rig.putHook(t, &messages.WebhookEndpoint{Id: "all", Url: all.srv.URL, Secret: all.secret, Enabled: true}, true)
	rig.putHook(t, &messages.WebhookEndpoint{Id: "created", Url: created.srv.URL, Secret: created.secret, Enabled: true,
		Events: []string{messages.EventChatRequested}}, true)
	rig.putHook(t, &messages.WebhookEndpoint{Id: "main", Url: other.srv.URL, Secret: other.secret, Enabled: true, LiveChat: "main"}, true)
	rig.putHook(t, &messages.WebhookEndpoint{Id: "off", Url: off.srv.URL, Secret: off.secret, Enabled: false}, true)

	appendChat(t, rig.store, "sales1", "sales", 1, 5)
	appendChat(t, rig.store, "hr1", "hr", 1, 5)
	waitFor(t, "every event", 10*time.Second, nil, func() bool { _, n := all.byChat(); return n == 2*len(wantSeqs(5)) })
	waitFor(t, "the created events", 10*time.Second, nil, func() bool { _, n := created.byChat(); return n == 2 })
	waitFor(t, "the main live chat's events", 10*time.Second, nil, func() bool { _, n := other.byChat(); return n == len(wantSeqs(5)) })
	// The round that wrote those wrote every endpoint's deliveries.
	got, _ := other.byChat()
	if len(got["hr1"]) != 0 {
		t.Errorf("the main live chat's endpoint got the staff live chat's events: %v", got)
	}
	created.mu.Lock()
	for _, ev := range created.got {
		if ev.Type != messages.EventChatRequested || ev.LiveChat == "" {
			t.Errorf("filtered endpoint got %+v", ev)
		}
	}
	created.mu.Unlock()
	if _, n := off.byChat(); n != 0 {
		t.Errorf("the disabled endpoint got %d events", n)
	}
	n := 0
	_ = rig.store.EachDelivery(messages.WebhookTarget("off"), func(*messages.Delivery) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d deliveries stored for the disabled endpoint", n)
	}
}

// An endpoint that fails every try for WebhookDisableAfter is disabled,
// with an audit entry; enabled again, its waiting deliveries go out.
func TestDeliveryOutboxDisablesFailingEndpoint(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t, "0123456789abcdef-secret")
	rec.fail.Store(true)
	rig := startOutboxRig(t, t.TempDir(), clock, Config{DeliveryRetry: time.Minute, DeliveryRetryMax: time.Hour, WebhookDisableAfter: 24 * time.Hour})
	defer rig.stop()
	h := &messages.WebhookEndpoint{Id: "h1", Url: rec.srv.URL, Secret: rec.secret, Enabled: true}
	rig.putHook(t, h, true)
	appendChat(t, rig.store, "c1", "sales", 1, 3)
	waitFor(t, "a failed try", 10*time.Second, nil, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.tries > 0 })
	// A day of tries, every one failing.
	waitFor(t, "the endpoint disabled", 20*time.Second, func() { rig.clock.advance(time.Hour, func() {}) }, func() bool {
		x, _ := rig.store.Webhook("h1")
		return !x.GetEnabled()
	})
	x, _ := rig.store.Webhook("h1")
	if x.GetDisabledReason() == "" || x.GetDisabledAtMs() == 0 {
		t.Errorf("disabled without a reason: %v", x)
	}
	if at := time.UnixMilli(x.GetDisabledAtMs()); at.Sub(time.UnixMilli(x.GetFailingSinceMs())) < 24*time.Hour {
		t.Errorf("disabled at %s, failing since %s: sooner than a day", at, time.UnixMilli(x.GetFailingSinceMs()))
	}
	waitFor(t, "the audit entry", 10*time.Second, nil, func() bool {
		es, _ := rig.store.Audit(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), clock.Now().Add(time.Hour), func(e *messages.AuditEntry) bool { return e.GetKind() == "webhook.disabled" }, 10)
		return len(es) == 1 && es[0].GetSubject() == "h1"
	})
	// Enabled again (the secret kept): the waiting deliveries go out.
	rec.fail.Store(false)
	got := rig.putHook(t, &messages.WebhookEndpoint{Id: "h1", Url: rec.srv.URL, Enabled: true}, false)
	if !got.GetHasSecret() || got.GetSecret() != "" || got.GetDisabledReason() != "" {
		t.Errorf("answer: %v", got)
	}
	waitFor(t, "the waiting events", 10*time.Second, nil, func() bool { _, n := rec.byChat(); return n == len(wantSeqs(3)) })
	if rec.badSig != 0 {
		t.Errorf("%d bad signatures", rec.badSig)
	}
}

// A dead endpoint (it never answers) does not hold up a live one.
func TestDeliveryOutboxDeadEndpointDoesNotSlowOthers(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	dead, live := newReceiver(t, "dead-secret-0123456"), newReceiver(t, "live-secret-0123456")
	dead.hang = make(chan struct{})
	defer close(dead.hang)
	rig := startOutboxRig(t, t.TempDir(), clock, Config{Webhooks: newTestSender(time.Hour)})
	defer rig.stop()
	rig.putHook(t, &messages.WebhookEndpoint{Id: "dead", Url: dead.srv.URL, Secret: dead.secret, Enabled: true}, true)
	rig.putHook(t, &messages.WebhookEndpoint{Id: "live", Url: live.srv.URL, Secret: live.secret, Enabled: true}, true)
	const chats = 100 // more conversations than DeliveriesInFlight
	for i := range chats {
		appendChat(t, rig.store, fmt.Sprintf("c%03d", i), "sales", 1, 6)
	}
	waitFor(t, "the live endpoint's events", 20*time.Second, nil, func() bool { _, n := live.byChat(); return n == chats*len(wantSeqs(6)) })
}

// A deleted endpoint takes its waiting deliveries with it; answers of
// its tries still on their way change nothing, and an endpoint created
// again under its id starts afresh with its full concurrency.
func TestDeliveryOutboxDeleteWithTriesInFlight(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	dead, live := newReceiver(t, "dead-secret-0123456"), newReceiver(t, "live-secret-0123456")
	dead.hang = make(chan struct{})
	rig := startOutboxRig(t, t.TempDir(), clock, Config{DeliveriesInFlight: 4})
	defer rig.stop()
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h", Url: dead.srv.URL, Secret: dead.secret, Enabled: true}, true)
	for i := range 8 {
		appendChat(t, rig.store, fmt.Sprintf("old%d", i), "sales", 1, 3)
	}
	waitFor(t, "every delivery waiting", 10*time.Second, nil, func() bool { return len(pendingOf(rig, "hook/h")) == 8*len(wantSeqs(3)) })
	if _, err := rig.b.Webhook(context.Background(), "h", &messages.WebhookCommand{Body: &messages.WebhookCommand_Delete{Delete: true}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = rig.store.EachDelivery(messages.WebhookTarget("h"), func(*messages.Delivery) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d deliveries left after the delete", n)
	}
	close(dead.hang) // the old tries answer now (503): dropped
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h", Url: live.srv.URL, Secret: live.secret, Enabled: true}, true)
	for i := range 8 {
		appendChat(t, rig.store, fmt.Sprintf("new%d", i), "sales", 1, 3)
	}
	waitFor(t, "the new endpoint's events", 10*time.Second, nil, func() bool { _, n := live.byChat(); return n == 8*len(wantSeqs(3)) })
	got, _ := live.byChat()
	for id := range got {
		if strings.HasPrefix(id, "old") {
			t.Errorf("the new endpoint got the deleted one's chat %s", id)
		}
	}
}

// waSender is a ChannelSender: it refuses every message for good (as the
// Graph API's 400 does) after counting it.
type waSender struct{ tries atomic.Int32 }

type refusal struct{}

func (refusal) Error() string   { return "(#131026) message undeliverable" }
func (refusal) Permanent() bool { return true }

func (s *waSender) Send(ch *messages.Channel, d *messages.Delivery, done func(string, error)) {
	s.tries.Add(1)
	go done("", refusal{})
}

// Channels: an API channel's callback gets every visible event of its
// chats, signed with its secret; a WhatsApp channel's permanent refusal
// drops the reply and records ChatDelivered "failed" in the chat; a
// deleted channel's waiting deliveries are dropped.
func TestDeliveryOutboxChannels(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t, "api-channel-secret-0123")
	wa := &waSender{}
	rig := startOutboxRig(t, t.TempDir(), clock, Config{ChannelSender: wa})
	defer rig.stop()
	putChannel := func(c *messages.Channel) {
		done := make(chan error, 1)
		rig.store.PutChannel(c, true, func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rig.b.ChannelChanged(c.GetId())
	}
	putChannel(&messages.Channel{Id: "api", Kind: messages.ChannelKind_CHANNEL_KIND_API, Enabled: true,
		Api: &messages.ApiChannel{Secret: rec.secret, CallbackUrl: rec.srv.URL}})
	putChannel(&messages.Channel{Id: "wa", Kind: messages.ChannelKind_CHANNEL_KIND_WHATSAPP, Enabled: true})
	putChannel(&messages.Channel{Id: "gone", Kind: messages.ChannelKind_CHANNEL_KIND_API, Enabled: false,
		Api: &messages.ApiChannel{Secret: rec.secret, CallbackUrl: rec.srv.URL}})

	store := func(id, channel string, evs ...*messages.ChatEvent) {
		evs = append([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: "v-" + id, Department: "sales", Channel: channel}}}}, evs...)
		for i, ev := range evs {
			ev.ChatId, ev.Seq, ev.AtMs = id, uint64(i+1), clock.Now().UnixMilli()
		}
		done := make(chan error, 1)
		rig.store.AppendChat(id, evs, nil, false, func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	agent := &messages.Participant{Kind: kindAgent, Id: "bob"}
	msg := func(from *messages.Participant, text string, internal bool) *messages.ChatEvent {
		return &messages.ChatEvent{Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: from, Text: text}}, Internal: internal}
	}
	store("apichat", "api", msg(&messages.Participant{Kind: kindVisitor, Id: "v"}, "in", false), msg(agent, "a whisper", true), msg(agent, "out", false))
	store("wachat", "wa", msg(&messages.Participant{Kind: kindVisitor, Id: "v"}, "in", false), msg(agent, "reply", false))
	store("gonechat", "gone", msg(agent, "never", false))

	waitFor(t, "the API channel's events", 10*time.Second, nil, func() bool { _, n := rec.byChat(); return n == 3 })
	got, _ := rec.byChat()
	if fmt.Sprint(got["apichat"]) != "[1 2 4]" || rec.badSig != 0 {
		t.Errorf("API channel got %v (bad signatures %d)", got, rec.badSig)
	}
	waitFor(t, "the WhatsApp reply refused and recorded", 10*time.Second, nil, func() bool {
		evs, _ := rig.store.ChatEvents("wachat", 0)
		for _, ev := range evs {
			if d := ev.GetDelivered(); d != nil {
				return d.GetState() == "failed" && d.GetOfSeq() == 3 && d.GetChannel() == "wa" && ev.GetInternal() && strings.Contains(d.GetError(), "131026")
			}
		}
		return false
	})
	if n := wa.tries.Load(); n != 1 {
		t.Errorf("WhatsApp tried %d times: only the staff's reply goes out, once", n)
	}
	waitFor(t, "the WhatsApp outbox empty", 10*time.Second, nil, func() bool { return len(pendingOf(rig, "channel/wa")) == 0 })

	// The disabled channel's delivery waits; deleted, it is dropped.
	if n := len(pendingOf(rig, "channel/gone")); n != 2 {
		t.Fatalf("the disabled channel holds %d deliveries, want 2", n)
	}
	done := make(chan error, 1)
	rig.store.DeleteChannel("gone", func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rig.b.ChannelChanged("gone")
	waitFor(t, "the deleted channel's deliveries dropped", 10*time.Second, nil, func() bool { return len(pendingOf(rig, "channel/gone")) == 0 })
}

func pendingOf(rig *outboxRig, target string) []*messages.Delivery {
	var out []*messages.Delivery
	_ = rig.store.EachDelivery(target, func(d *messages.Delivery) bool { out = append(out, d); return true })
	return out
}

// With more deliveries waiting than an actor holds, the rest are read
// from the store as it sends: every event still arrives once, in order
// per chat.
func TestDeliveryOutboxMoreThanInMemory(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t, "overflow-secret-012345")
	rig := startOutboxRig(t, t.TempDir(), clock, Config{DeliveriesInMemory: 8, DeliveriesInFlight: 3})
	defer rig.stop()
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h", Url: rec.srv.URL, Secret: rec.secret, Enabled: true}, true)
	const chats, events = 30, 12
	for round := range 3 {
		for i := range chats {
			from := uint64(round*events/3 + 1)
			appendChat(t, rig.store, fmt.Sprintf("c%02d", i), "sales", from, from+events/3-1)
		}
	}
	waitFor(t, "every event", 20*time.Second, nil, func() bool { _, n := rec.byChat(); return n == chats*len(wantSeqs(events)) })
	got, _ := rec.byChat()
	for i := range chats {
		id := fmt.Sprintf("c%02d", i)
		if fmt.Sprint(got[id]) != fmt.Sprint(wantSeqs(events)) {
			t.Errorf("chat %s: %v", id, got[id])
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != chats*len(wantSeqs(events)) {
		t.Errorf("%d requests taken for %d events: some went twice", len(rec.got), chats*len(wantSeqs(events)))
	}
}

// Deliveries left for a deleted webhook (a delivery round that read the
// endpoints before the deletion landed) are dropped when they wake its
// outbox, and never reach an endpoint created again with the same id:
// the creation clears the id's deliveries in its own batch.
func TestDeliveryOutboxLeftoversOfDeletedWebhook(t *testing.T) {
	clock := &harnessClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t, "leftover-secret-012345")
	rig := startOutboxRig(t, t.TempDir(), clock, Config{})
	defer rig.stop()
	target := messages.WebhookTarget("h")
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h", Url: rec.srv.URL, Secret: rec.secret, Enabled: true}, true)
	if _, err := rig.b.Webhook(context.Background(), "h", &messages.WebhookCommand{Body: &messages.WebhookCommand_Delete{Delete: true}}); err != nil {
		t.Fatal(err)
	}
	leave := func(chat string) []*messages.Delivery {
		var ds []*messages.Delivery
		for seq := uint64(1); seq <= 3; seq++ {
			ev := &messages.ChatEvent{ChatId: chat, Seq: seq, AtMs: clock.Now().UnixMilli(),
				Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: &messages.Participant{Kind: kindVisitor, Id: "v"}, Text: "left"}}}
			ds = append(ds, &messages.Delivery{Id: fmt.Sprintf("%s/%d", chat, seq), Target: target, Conversation: chat, Seq: seq,
				Type: messages.EventChatMessage, AtMs: ev.GetAtMs(), Event: ev, CreatedAtMs: ev.GetAtMs()})
		}
		done := make(chan error, 1)
		rig.store.WriteDeliveries(target, ds, nil, nil, nil, func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return ds
	}
	// Woken for them, the deleted webhook's outbox drops them.
	rig.b.WakeDeliveries(leave("woken"))
	waitFor(t, "a deleted webhook's deliveries dropped", 10*time.Second, nil, func() bool { return len(pendingOf(rig, target)) == 0 })
	// Not woken: the creation clears them.
	leave("asleep")
	rig.putHook(t, &messages.WebhookEndpoint{Id: "h", Url: rec.srv.URL, Secret: rec.secret, Enabled: true}, true)
	if ds := pendingOf(rig, target); len(ds) != 0 {
		t.Fatalf("the new webhook holds the deleted one's deliveries: %v", ds)
	}
	appendChat(t, rig.store, "new", "sales", 1, 3)
	waitFor(t, "the new webhook's events", 10*time.Second, nil, func() bool { _, n := rec.byChat(); return n == len(wantSeqs(3)) })
	got, _ := rec.byChat()
	if len(got) != 1 || fmt.Sprint(got["new"]) != fmt.Sprint(wantSeqs(3)) {
		t.Errorf("the new webhook got %v, want only chat new", got)
	}
}
