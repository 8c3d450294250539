package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/gateway/hooks"
	"github.com/switchboard-chat/switchboard/messages"
)

// hookReceiver is a webhook endpoint on loopback: it verifies each
// request's signature (as the README tells receivers to), answers 500
// while fail is set, and keeps the events it took.
type hookReceiver struct {
	secret string
	srv    *httptest.Server
	fail   atomic.Bool
	mu     sync.Mutex
	events []hooks.Event
	tries  int
	bad    []string // refused signatures or bodies
}

func newHookReceiver(t testing.TB, secret string) *hookReceiver {
	r := &hookReceiver{secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.tries++
		if err := hmacsig.Verify(req.Header, []byte(r.secret), body, time.Now()); err != nil {
			r.bad = append(r.bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.fail.Load() {
			http.Error(w, "down for a while", http.StatusInternalServerError)
			return
		}
		var ev hooks.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(hooks.HeaderEventID) || req.Method != http.MethodPost {
			r.bad = append(r.bad, fmt.Sprintf("body %q: %v", body, err))
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.events = append(r.events, ev)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// unique are the events taken, deduplicated by id, in arrival order.
func (r *hookReceiver) unique() []hooks.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []hooks.Event
	for _, ev := range r.events {
		if !seen[ev.ID] {
			seen[ev.ID] = true
			out = append(out, ev)
		}
	}
	return out
}

// ofChat are a chat's unique events' types and sequences, in arrival
// order.
func (r *hookReceiver) ofChat(chat string) (types []string, seqs []uint64) {
	for _, ev := range r.unique() {
		if ev.ChatID == chat {
			types, seqs = append(types, ev.Type), append(seqs, ev.Seq)
		}
	}
	return types, seqs
}

func (r *hookReceiver) badRequests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bad)
}

// chatEvents are a chat's stored events (the record, as staff see it).
func chatEvents(t testing.TB, addr, chat string) []*messages.ChatEvent {
	t.Helper()
	var raw json.RawMessage
	if code := admin(t, addr, "GET", "/api/chats/"+chat, nil, &raw); code != 200 {
		t.Fatalf("GET /api/chats/%s = %d %s", chat, code, raw)
	}
	rec := &messages.ChatRecord{}
	if err := protoIn.Unmarshal(raw, rec); err != nil {
		t.Fatal(err)
	}
	return rec.GetTranscript()
}

// wantDelivered are the sequences of a chat's events an endpoint for
// every type gets: the visible ones that have a type.
func wantDelivered(evs []*messages.ChatEvent) (types []string, seqs []uint64) {
	for _, ev := range evs {
		if typ := messages.DeliveryType(ev); typ != "" && !ev.GetInternal() {
			types, seqs = append(types, typ), append(seqs, ev.GetSeq())
		}
	}
	return types, seqs
}

func withWebhooks(c *Config) {
	c.Webhooks.AllowPrivate = true
	c.DeliveryRetry, c.DeliveryRetryMax = 50*time.Millisecond, 200*time.Millisecond
}

// A chat through the real gateway reaches two endpoints: one for every
// event, signed, in order, without the whisper; one filtered to
// chat.closed. An offline message goes out as offline.message. The
// delivery log and the endpoint (no secret) read over the API.
func TestWebhooksEndToEnd(t *testing.T) {
	m := startBroker(t, t.TempDir(), withWebhooks)
	addr := m.Addr()
	all, closed := newHookReceiver(t, "all-events-secret-0123"), newHookReceiver(t, "closed-only-secret-012")
	e2eCreateWebhooks(t, addr, all, closed)

	chat := e2eChatAndOfflineMessage(t, addr)

	evs := chatEvents(t, addr, chat)
	wantTypes, wantSeqs := wantDelivered(evs)
	e2eCheckEveryEvent(t, all, chat, wantTypes, wantSeqs)
	e2eCheckFilteredEndpoint(t, all, closed, chat)

	e2eCheckDeliveryLog(t, addr, len(wantSeqs))
	e2eTestListDelete(t, addr, closed)
}

// e2eCreateWebhooks: the endpoint for every event (the answer without
// its secret) and the one filtered to chat.closed of the main live chat;
// support takes offline messages.
func e2eCreateWebhooks(t *testing.T, addr string, all, closed *hookReceiver) {
	t.Helper()
	var created map[string]any
	if code := admin(t, addr, "POST", "/admin/webhooks", map[string]any{"id": "all", "url": all.srv.URL + "/in", "secret": all.secret,
		"description": "every event"}, &created); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, created)
	}
	if _, leaked := created["secret"]; leaked || created["has_secret"] != true || created["enabled"] != true {
		t.Fatalf("the answer: %v", created)
	}
	mustAdmin(t, addr, "POST", "/admin/webhooks", map[string]any{"id": "closed", "url": closed.srv.URL, "secret": closed.secret,
		"events": []string{"chat.closed"}, "live_chat": "main"})
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})
}

// e2eChatAndOfflineMessage: Ann's chat with bob (with a whisper), closed,
// and Ben's offline message to support. It returns Ann's chat.
func e2eChatAndOfflineMessage(t *testing.T, addr string) string {
	t.Helper()
	vis, bob, chat := chatWithBob(t, addr, "Ann", "ann@example.net")
	send(t, vis, chat, "v1", "hello")
	send(t, bob, chat, "b1", "hi Ann")
	if _, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
		ChatId: chat, ClientMsgId: "w1", Text: "a whisper", Whisper: true}}}); err != nil {
		t.Fatal(err)
	}
	closeChat(t, bob, chat)
	v2, _ := newVisitor(t, addr, false)
	if _, err := v2.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "support", Name: "Ben", Email: "ben@example.net", Text: "call me"}}}); err != nil {
		t.Fatal(err)
	}
	return chat
}

// e2eCheckEveryEvent: the endpoint for every event got the chat's events
// in order, without the whisper, each of the main live chat, and the
// offline message.
func e2eCheckEveryEvent(t *testing.T, all *hookReceiver, chat string, wantTypes []string, wantSeqs []uint64) {
	t.Helper()
	eventually(t, "every event of the chat", func() bool { _, seqs := all.ofChat(chat); return len(seqs) == len(wantSeqs) })
	types, seqs := all.ofChat(chat)
	if fmt.Sprint(seqs) != fmt.Sprint(wantSeqs) || fmt.Sprint(types) != fmt.Sprint(wantTypes) {
		t.Fatalf("delivered %v %v, want %v %v", types, seqs, wantTypes, wantSeqs)
	}
	for _, want := range []string{"chat.requested", "chat.assigned", "chat.message", "chat.closed"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s among %v", want, types)
		}
	}
	for _, ev := range all.unique() {
		if strings.Contains(string(ev.Data), "a whisper") {
			t.Errorf("the whisper went out: %s", ev.Data)
		}
		if ev.ChatID == chat && ev.LiveChat != "main" {
			t.Errorf("event %s: live_chat %q", ev.ID, ev.LiveChat)
		}
	}
	eventually(t, "the offline message", func() bool {
		for _, ev := range all.unique() {
			if ev.Type == "offline.message" && strings.Contains(string(ev.Data), "call me") {
				return true
			}
		}
		return false
	})
}

// e2eCheckFilteredEndpoint: the filtered endpoint got only chat.closed;
// neither endpoint refused a request.
func e2eCheckFilteredEndpoint(t *testing.T, all, closed *hookReceiver, chat string) {
	t.Helper()
	eventually(t, "chat.closed at the filtered endpoint", func() bool { return len(closed.unique()) == 1 })
	if ev := closed.unique()[0]; ev.Type != "chat.closed" || ev.ChatID != chat {
		t.Fatalf("the filtered endpoint got %+v", ev)
	}
	if bad := append(all.badRequests(), closed.badRequests()...); len(bad) > 0 {
		t.Fatalf("refused requests: %v", bad)
	}
}

// e2eCheckDeliveryLog: the delivery log of the endpoint for every event,
// newest first: wantN tries of the chat's events and the offline
// message's, each a success.
func e2eCheckDeliveryLog(t *testing.T, addr string, wantN int) {
	t.Helper()
	// The log, newest first.
	var log struct {
		Attempts []struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			Status int    `json:"status"`
			OK     bool   `json:"ok"`
		} `json:"attempts"`
	}
	eventually(t, "the delivery log", func() bool {
		admin(t, addr, "GET", "/admin/webhooks/all/deliveries", nil, &log)
		return len(log.Attempts) == wantN+1
	})
	for _, a := range log.Attempts {
		if !a.OK || a.Status != 200 || a.ID == "" {
			t.Errorf("a try: %+v", a)
		}
	}
	if !slices.ContainsFunc(log.Attempts, func(a struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Status int    `json:"status"`
		OK     bool   `json:"ok"`
	}) bool {
		return a.Type == "offline.message"
	}) {
		t.Errorf("no offline.message in the log: %+v", log.Attempts)
	}
}

// e2eTestListDelete: the test event, signed like the others; the list
// without secrets; the filtered endpoint deleted with its log.
func e2eTestListDelete(t *testing.T, addr string, closed *hookReceiver) {
	t.Helper()
	// The test event, signed like the others.
	var test map[string]any
	if code := admin(t, addr, "POST", "/admin/webhooks/closed/test", nil, &test); code != 200 {
		t.Fatalf("test: %d %v", code, test)
	}
	eventually(t, "the test event", func() bool { return len(closed.unique()) == 2 && closed.unique()[1].Type == "webhook.test" })
	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	admin(t, addr, "GET", "/admin/webhooks", nil, &list)
	if len(list.Webhooks) != 2 || list.Webhooks[0]["secret"] != nil {
		t.Fatalf("list: %v", list)
	}
	// Deleted: its log with it.
	if code := admin(t, addr, "DELETE", "/admin/webhooks/closed", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, e := adminError(t, addr, "GET", "/admin/webhooks/closed/deliveries", nil); code != 404 || e.GetCode() != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("deleted endpoint's log: %d %v", code, e)
	}
}

// TestKill9WebhooksArriveOnceInOrder: a receiver that fails for a while,
// a broker child killed with SIGKILL in the middle with deliveries
// waiting, restarted on the same folder: every event of every chat
// arrives, in order per chat, each once after deduplication by id.
func TestKill9WebhooksArriveOnceInOrder(t *testing.T) {
	rec := newHookReceiver(t, "kill9-secret-0123456789")
	dir := t.TempDir()
	ch := startChild(t, dir, "-webhook-allow-private")
	mustAdmin(t, ch.addr, "POST", "/admin/webhooks", map[string]any{"id": "crm", "url": rec.srv.URL, "secret": rec.secret})
	var chats []string
	for i := range 3 {
		vis, bob, chat := chatWithBob(t, ch.addr, fmt.Sprint("Ann", i), "")
		send(t, vis, chat, "v1", "before")
		send(t, bob, chat, "b1", "reply before")
		chats = append(chats, chat)
		if i == 0 {
			eventually(t, "the first chat's events", func() bool { _, seqs := rec.ofChat(chat); return len(seqs) >= 3 })
			rec.fail.Store(true) // then down: the rest waits in the outbox
		}
		closeChat(t, bob, chat)
	}
	eventually(t, "failed tries", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.tries > len(rec.events)+2 })
	ch.kill()

	rec.fail.Store(false)
	ch = startChild(t, dir, "-webhook-allow-private")
	for _, chat := range chats {
		wantTypes, wantSeqs := wantDelivered(chatEvents(t, ch.addr, chat))
		eventually(t, "every event of "+chat, func() bool { _, seqs := rec.ofChat(chat); return len(seqs) == len(wantSeqs) })
		types, seqs := rec.ofChat(chat)
		if fmt.Sprint(seqs) != fmt.Sprint(wantSeqs) || fmt.Sprint(types) != fmt.Sprint(wantTypes) {
			t.Errorf("chat %s: delivered %v %v, want %v %v", chat, types, seqs, wantTypes, wantSeqs)
		}
	}
	if bad := rec.badRequests(); len(bad) > 0 {
		t.Fatalf("refused requests: %v", bad)
	}
}

// An endpoint that fails every try for a day (the broker's clock) is
// disabled, with an audit entry and its reason over the API; enabled
// again, its waiting events go out.
func TestWebhookDisabledAfterFailingLong(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), withWebhooks, func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	rec := newHookReceiver(t, "failing-secret-0123456")
	rec.fail.Store(true)
	mustAdmin(t, addr, "POST", "/admin/webhooks", map[string]any{"id": "crm", "url": rec.srv.URL, "secret": rec.secret, "events": []string{"chat.requested"}})
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", "hello"))
	eventually(t, "a failed try", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.tries > 0 })
	var h map[string]any
	eventually(t, "the endpoint disabled", func() bool {
		clock.Advance(30 * time.Minute)
		h = nil // absent fields stay absent
		admin(t, addr, "GET", "/admin/webhooks/crm", nil, &h)
		return h["enabled"] != true
	})
	if reason, _ := h["disabled_reason"].(string); !strings.Contains(reason, "500") {
		t.Fatalf("disabled: %v", h)
	}
	var page struct {
		Entries []struct {
			Kind, Subject, Actor string
		} `json:"entries"`
	}
	eventually(t, "the audit entry", func() bool {
		admin(t, addr, "GET", "/admin/audit?kind=webhook.disabled", nil, &page)
		return len(page.Entries) == 1 && page.Entries[0].Subject == "crm"
	})
	rec.fail.Store(false)
	mustAdmin(t, addr, "PUT", "/admin/webhooks/crm", map[string]any{"url": rec.srv.URL, "events": []string{"chat.requested"}, "enabled": true})
	eventually(t, "the waiting event", func() bool { types, _ := rec.ofChat(chat); return len(types) == 1 })
	h = nil
	admin(t, addr, "GET", "/admin/webhooks/crm", nil, &h)
	if h["enabled"] != true || h["disabled_reason"] != nil || h["has_secret"] != true {
		t.Fatalf("enabled again: %v", h)
	}
}

// Bad input to every webhook route: a typed error naming the field, and
// nothing changed.
func TestWebhookBadInput(t *testing.T) {
	m := startBroker(t, t.TempDir(), withWebhooks)
	addr := m.Addr()
	good := map[string]any{"id": "crm", "url": "https://crm.example.com/hook", "secret": "a-good-long-secret-01"}
	mustAdmin(t, addr, "POST", "/admin/webhooks", good)
	state := func() string {
		var v any
		admin(t, addr, "GET", "/admin/webhooks", nil, &v)
		return toJSON(v)
	}
	before := state()
	with := func(k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range good {
			out[kk] = vv
		}
		out["id"] = "new"
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		field        string
	}{
		{"POST", "/admin/webhooks", `{"url":`, 400, ""},
		{"POST", "/admin/webhooks", `{"url":"https://x.example","secret":"a-good-long-secret-01","nope":1}`, 400, ""},
		{"POST", "/admin/webhooks", with("url", nil), 400, "url"},
		{"POST", "/admin/webhooks", with("url", "ftp://x.example/hook"), 400, "url"},
		{"POST", "/admin/webhooks", with("url", "https://user:pw@x.example/hook"), 400, "url"},
		{"POST", "/admin/webhooks", with("url", "not a url"), 400, "url"},
		{"POST", "/admin/webhooks", with("secret", nil), 400, "secret"},
		{"POST", "/admin/webhooks", with("secret", "short"), 400, "secret"},
		{"POST", "/admin/webhooks", with("events", []string{"chat.nope"}), 400, "events"},
		{"POST", "/admin/webhooks", with("live_chat", "bad id!"), 400, "live_chat"},
		{"POST", "/admin/webhooks", with("id", "bad id!"), 400, "id"},
		{"POST", "/admin/webhooks", good, 409, "id"},
		{"PUT", "/admin/webhooks/crm", `[]`, 400, ""},
		{"PUT", "/admin/webhooks/crm", map[string]any{"id": "other", "url": "https://x.example"}, 400, "id"},
		{"PUT", "/admin/webhooks/crm", map[string]any{"url": "javascript:alert(1)"}, 400, "url"},
		{"PUT", "/admin/webhooks/crm", map[string]any{"url": "https://x.example", "secret": "short"}, 400, "secret"},
		// A changed url keeps no stored secret (actors.KeepSecret).
		{"PUT", "/admin/webhooks/crm", map[string]any{"url": "https://elsewhere.example/hook"}, 400, "secret"},
		{"POST", "/admin/webhooks", with("live_chat", "no.such-chat"), 400, "live_chat"},
		{"PUT", "/admin/webhooks/crm", map[string]any{"url": "https://crm.example.com/hook", "live_chat": "no.such-chat"}, 400, "live_chat"},
		{"PUT", "/admin/webhooks/nope", map[string]any{"url": "https://x.example"}, 404, ""},
		{"PUT", "/admin/webhooks/bad%20id", map[string]any{"url": "https://x.example"}, 400, "id"},
		{"GET", "/admin/webhooks/nope", nil, 404, ""},
		{"GET", "/admin/webhooks/bad%20id", nil, 400, "id"},
		{"DELETE", "/admin/webhooks/nope", nil, 404, ""},
		{"DELETE", "/admin/webhooks/bad%20id", nil, 400, "id"},
		{"GET", "/admin/webhooks/nope/deliveries", nil, 404, ""},
		{"POST", "/admin/webhooks/nope/test", nil, 404, ""},
		// crm.example.com is no private address but does not resolve here:
		// the test's refusal is typed, about url.
		{"POST", "/admin/webhooks/crm/test", nil, 400, "url"},
	} {
		code, e := adminError(t, addr, c.method, c.path, c.body)
		if code != c.code || e == nil || !strings.HasPrefix(e.GetCode().String(), "ERROR_CODE_") || (c.field != "" && e.GetField() != c.field) {
			t.Errorf("%s %s %v = %d %v, want %d about %q", c.method, c.path, c.body, code, e, c.code, c.field)
		}
		if after := state(); after != before {
			t.Fatalf("%s %s changed the webhooks: %s", c.method, c.path, after)
		}
	} // A live chat's id may hold '.'; the filter names an existing one.
	mustAdmin(t, addr, "PUT", "/admin/livechats/sales.eu", map[string]any{"name": "Sales EU", "kind": "LIVE_CHAT_KIND_EXTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/webhooks/crm", map[string]any{"url": "https://crm.example.com/hook", "live_chat": "sales.eu"})
	var h map[string]any
	admin(t, addr, "GET", "/admin/webhooks/crm", nil, &h)
	if h["live_chat"] != "sales.eu" || h["has_secret"] != true {
		t.Fatalf("the same url keeps the secret, the filter names sales.eu: %v", h)
	}
}
