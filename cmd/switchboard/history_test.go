package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// historyChat runs a chat in dept: the visitor asks with first, agent
// takes it; with whisper, the agent whispers it; with close, the agent
// closes it. It returns the chat id and the visitor's client.
func historyChat(t *testing.T, addr string, agent *gateway.Client, dept, first, whisper string, close bool) (string, *gateway.Client, *messages.Welcome) {
	t.Helper()
	v, w := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, dept, "en", first))
	awaitOffer(t, agent)
	accept(t, agent, chat)
	if whisper != "" {
		if _, err := agent.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
			ChatId: chat, ClientMsgId: "w-" + chat, Text: whisper, Whisper: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	if close {
		if _, err := agent.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
			t.Fatal(err)
		}
	}
	return chat, v, w
}

// listChats calls GET /api/chats with the Bearer token (the admin
// credential or a staff session) and returns the status and the page.
func listChats(t *testing.T, addr, token string, params url.Values) (int, *messages.ChatHistoryPage, *messages.Error) {
	t.Helper()
	code, body := staffHTTP(t, addr, token, "GET", "/api/chats?"+params.Encode(), "")
	if code != http.StatusOK {
		e := &messages.Error{}
		protoIn.Unmarshal([]byte(body), e)
		return code, nil, e
	}
	page := &messages.ChatHistoryPage{}
	if err := protoIn.Unmarshal([]byte(body), page); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return code, page, nil
}

// chatIDs lists the page's chat ids, in order.
func chatIDs(p *messages.ChatHistoryPage) []string {
	var ids []string
	for _, e := range p.GetChats() {
		ids = append(ids, e.GetChatId())
	}
	return ids
}

// awaitList polls GET /api/chats until it lists want (in order).
func awaitList(t *testing.T, addr, token string, params url.Values, want ...string) {
	t.Helper()
	var got []string
	if !poll(15*time.Second, func() bool {
		code, page, _ := listChats(t, addr, token, params)
		got = chatIDs(page)
		return code == http.StatusOK && slices.Equal(got, want)
	}) {
		t.Fatalf("GET /api/chats?%s = %v, want %v", params.Encode(), got, want)
	}
}

// A word is found in the chats the caller may read and not in one they
// may not; filters, the period and the cursor narrow and page the list;
// a whisper's words are found by staff, and the visitor's list of past
// chats never shows them.
func TestHistorySearch(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	aliceTok := loginToken(t, addr, "alice@demo", "alice-demo-pw")
	bobTok := loginToken(t, addr, "bob@demo", "bob-demo-pw")

	c1, v1, w1 := historyChat(t, addr, alice, "sales", "My zeppelin is broken", "confidential walrus", true)
	c2, _, _ := historyChat(t, addr, bob, "support", "A zeppelin for support", "", true)
	c3, _, _ := historyChat(t, addr, alice, "sales", "Just saying hello", "", false)

	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	awaitList(t, addr, testAdminToken, q(), c3, c2, c1)
	awaitList(t, addr, testAdminToken, q("q", "ZEPPELIN"), c2, c1)
	awaitList(t, addr, aliceTok, q("q", "zeppelin"), c1) // not support's c2
	awaitList(t, addr, bobTok, q("q", "zeppelin"), c2)   // not sales' c1
	awaitList(t, addr, aliceTok, q("q", "walrus"), c1)   // a whisper: staff find it
	awaitList(t, addr, bobTok, q("q", "walrus"))
	awaitList(t, addr, aliceTok, q(), c3, c1)

	// Filters.
	awaitList(t, addr, testAdminToken, q("department", "support"), c2)
	awaitList(t, addr, testAdminToken, q("agent", "alice", "state", "closed"), c1)
	awaitList(t, addr, testAdminToken, q("state", "active"), c3)
	awaitList(t, addr, testAdminToken, q("visitor", w1.GetVisitorId()), c1)
	awaitList(t, addr, testAdminToken, q("to", "2001-01-01"))
	awaitList(t, addr, testAdminToken, q("from", "2001-01-01", "q", "zeppelin broken"), c1)
	awaitList(t, addr, testAdminToken, q("rating", "bad"))
	awaitList(t, addr, testAdminToken, q("tag", "billing"))

	// Paging: one chat a page, newest first, the cursor going on.
	var paged []string
	params := q("limit", "1")
	for range 5 {
		code, page, e := listChats(t, addr, testAdminToken, params)
		if code != http.StatusOK {
			t.Fatalf("page: %d %v", code, e)
		}
		paged = append(paged, chatIDs(page)...)
		if page.GetNextCursor() == "" {
			break
		}
		params.Set("cursor", page.GetNextCursor())
	}
	if !slices.Equal(paged, []string{c3, c2, c1}) {
		t.Fatalf("pages = %v, want %v", paged, []string{c3, c2, c1})
	}

	// Bad parameters: a typed error naming the field.
	for _, bad := range []struct {
		params url.Values
		field  string
	}{
		{q("state", "sleeping"), "state"}, {q("rating", "meh"), "rating"}, {q("cursor", "not-a-cursor"), "cursor"},
		{q("from", "yesterday"), "from"}, {q("limit", "1000"), "limit"}, {q("colour", "red"), "colour"}, {q("q", "!!!"), "q"},
		{q("from", "2030-01-02", "to", "2030-01-01"), "to"},
	} {
		code, _, e := listChats(t, addr, testAdminToken, bad.params)
		if code != http.StatusBadRequest || e.GetField() != bad.field {
			t.Errorf("GET /api/chats?%s = %d %v, want 400 about %s", bad.params.Encode(), code, e, bad.field)
		}
	}

	// The visitor's past chats: their own, from what they saw.
	env, err := v1.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListPastChats{ListPastChats: &messages.ListPastChats{}}})
	if err != nil {
		t.Fatal(err)
	}
	past := env.GetPastChats().GetChats()
	if len(past) != 1 || past[0].GetChatId() != c1 || past[0].GetPreview() != "My zeppelin is broken" ||
		!slices.Equal(past[0].GetAgentNames(), []string{"Alice"}) || past[0].GetState() != messages.ChatState_CHAT_STATE_CLOSED {
		t.Fatalf("past chats = %v", past)
	}
	if data, _ := protojson.Marshal(env); strings.Contains(strings.ToLower(string(data)), "walrus") {
		t.Fatalf("a visitor's past chats show a whisper: %s", data)
	}
	// Staff do not list past chats over the protocol.
	if _, err := alice.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListPastChats{ListPastChats: &messages.ListPastChats{}}}); !isCode(err, messages.ErrorCode_ERROR_CODE_FORBIDDEN) {
		t.Fatalf("an agent's ListPastChats: %v, want FORBIDDEN", err)
	}
}

func isCode(err error, code messages.ErrorCode) bool {
	e, ok := err.(*messages.Error)
	return ok && e.GetCode() == code
}

// An index whose state is gone is rebuilt from the chat logs at the next
// start.
func TestHistoryRebuiltAfterItsStateIsRemoved(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	alice, _ := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", true)
	chat, _, _ := historyChat(t, m.Addr(), alice, "sales", "Where is my platypus", "", true)
	awaitList(t, m.Addr(), testAdminToken, url.Values{"q": {"platypus"}}, chat)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := persistence.Open(dir, persistence.Options{Logger: testLogger(t), NoHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DropHistory(); err != nil {
		t.Fatal(err)
	}
	if page, err := st.SearchChats(&messages.ChatHistoryQuery{}, nil); err != nil || len(page.GetChats()) != 0 {
		t.Fatalf("the index is still there: %v, %v", page, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	m = startBroker(t, dir)
	awaitList(t, m.Addr(), testAdminToken, url.Values{"q": {"platypus"}}, chat)
}

// Retention deletes a department's closed chats that ended more than
// retention_days ago, with their index entries, and keeps a recent one
// and an open one; the pass is audited.
func TestChatRetention(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "retention_days": 30})
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	old, _, _ := historyChat(t, addr, alice, "sales", "An old question", "", true)
	clock.Advance(time.Minute) // chats started in the same millisecond list by id
	open, _, _ := historyChat(t, addr, alice, "sales", "A question still open", "", false)
	awaitList(t, addr, testAdminToken, url.Values{}, open, old)
	clock.Advance(20 * 24 * time.Hour)
	recent, _, _ := historyChat(t, addr, alice, "sales", "A recent question", "", true)
	awaitList(t, addr, testAdminToken, url.Values{}, recent, open, old)

	clock.Advance(11 * 24 * time.Hour) // the hourly pass runs: old ended 31 days ago
	awaitList(t, addr, testAdminToken, url.Values{}, recent, open)
	awaitList(t, addr, testAdminToken, url.Values{"q": {"old"}})
	if code := admin(t, addr, "GET", "/api/chats/"+old, nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET the deleted chat = %d, want 404", code)
	}
	for _, kept := range []string{recent, open} {
		if code := admin(t, addr, "GET", "/api/chats/"+kept, nil, nil); code != http.StatusOK {
			t.Fatalf("GET kept chat %s = %d", kept, code)
		}
	}
	var entries []*messages.AuditEntry
	eventually(t, "the retention's audit entry", func() bool {
		entries = auditOf(m, clock, "chats.retention")
		return len(entries) == 1
	})
	if e := entries[0]; e.GetSubject() != "sales" || !strings.Contains(e.GetDetail(), "deleted 1 ") || !e.GetOk() {
		t.Fatalf("audit entry = %v", e)
	}
	if code := admin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "retention_days": 99999}, nil); code != http.StatusBadRequest {
		t.Fatalf("retention_days 99999 = %d, want 400", code)
	}
}
