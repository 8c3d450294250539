package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// liveChats reads GET /admin/livechats as the raw JSON and as records.
func liveChats(t *testing.T, addr string) (string, []*messages.LiveChat) {
	t.Helper()
	var out map[string]any
	if code := admin(t, addr, "GET", "/admin/livechats", nil, &out); code != http.StatusOK {
		t.Fatalf("GET /admin/livechats: %d %v", code, out)
	}
	v := &messages.DirectoryView{}
	if err := protoIn.Unmarshal([]byte(toJSON(out)), v); err != nil {
		t.Fatal(err)
	}
	return toJSON(out), v.GetLiveChats()
}

// widgetDepartments lists the departments a widget configuration offers.
func widgetDepartments(t *testing.T, addr, query, token string) (int, []string, map[string]any) {
	t.Helper()
	code, body := staffHTTP(t, addr, token, "GET", "/api/widget/config"+query, "")
	var cfg map[string]any
	jsonUnmarshal(t, body, &cfg)
	var ids []string
	deps, _ := cfg["departments"].([]any)
	for _, d := range deps {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	return code, ids, cfg
}

// The default live chat: a broker set up as before live chats (the demo
// directory, no live chat stored) has "main", external, named Website,
// holding every department; the widget offers them as before, chats
// record it, and main can be renamed but neither deleted nor made
// internal.
func TestLiveChatDefault(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	_, lcs := liveChats(t, addr)
	if len(lcs) != 1 || lcs[0].GetId() != "main" || lcs[0].GetName() != "Website" || lcs[0].GetKind() != messages.LiveChatKind_LIVE_CHAT_KIND_EXTERNAL {
		t.Fatalf("live chats of a fresh broker: %v", lcs)
	}
	var one map[string]any
	if code := admin(t, addr, "GET", "/admin/livechats/main", nil, &one); code != http.StatusOK || one["name"] != "Website" {
		t.Fatalf("GET main: %d %v", code, one)
	}
	// Departments are stored as before: no live_chat of their own.
	view, _ := m.broker.DirectoryView()
	for _, d := range view.GetDepartments() {
		if d.GetLiveChat() != "" {
			t.Fatalf("department %s got a live chat: %v", d.GetId(), d)
		}
	}
	checkDefaultWidget(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	_, _, chat := takeChat(t, addr, alice, "sales", "hello")
	if c := awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetCreated() != nil }).GetCreated(); c.GetLiveChat() != "main" || c.GetColleague() != nil {
		t.Fatalf("created: %v", c)
	}

	checkMainRefusals(t, addr)
	mustAdmin(t, addr, "PUT", "/admin/livechats/main", map[string]any{"name": "Shop", "look": map[string]any{"color": "#112233"}})
	_, ids, cfg := widgetDepartments(t, addr, "", "")
	look, _ := cfg["departments"].([]any)[0].(map[string]any)["look"].(map[string]any)
	if cfg["live_chat_name"] != "Shop" || len(ids) != 2 || look["color"] != "#112233" {
		t.Fatalf("widget after main's look changed: %v", cfg)
	}
}

// checkDefaultWidget: the widget of the default live chat offers every
// department, with or without ?livechat=main; an unknown or invalid live
// chat is refused.
func checkDefaultWidget(t *testing.T, addr string) {
	t.Helper()
	for _, q := range []string{"", "?livechat=main"} {
		code, ids, cfg := widgetDepartments(t, addr, q, "")
		if code != http.StatusOK || !slices.Equal(ids, []string{"sales", "support"}) || cfg["live_chat"] != "main" {
			t.Fatalf("widget config%s: %d %v %v", q, code, ids, cfg)
		}
	}
	if code, _, _ := widgetDepartments(t, addr, "?livechat=nope", ""); code != http.StatusNotFound {
		t.Fatalf("widget config of an unknown live chat: %d", code)
	}
	if code, _, _ := widgetDepartments(t, addr, "?livechat=Not+Valid", ""); code != http.StatusBadRequest {
		t.Fatalf("widget config of an invalid live chat id: %d", code)
	}
}

// checkMainRefusals: main is neither made internal nor deleted, and the
// refusals change nothing.
func checkMainRefusals(t *testing.T, addr string) {
	t.Helper()
	before, _ := liveChats(t, addr)
	var e map[string]any
	if code := admin(t, addr, "PUT", "/admin/livechats/main", `{"kind":"LIVE_CHAT_KIND_INTERNAL"}`, &e); code != http.StatusBadRequest || e["field"] != "kind" {
		t.Fatalf("main made internal: %d %v", code, e)
	}
	if code := admin(t, addr, "DELETE", "/admin/livechats/main", nil, &e); code != http.StatusConflict {
		t.Fatalf("main deleted: %d %v", code, e)
	}
	if after, _ := liveChats(t, addr); after != before {
		t.Fatalf("refused changes changed the live chats: %s, was %s", after, before)
	}
}

// Live chats over the admin API: create, read, list, replace, delete;
// every bad input is a typed 400 (or 404, 409) with its field and changes
// nothing; departments name their live chat (unknown: refused); a live
// chat with departments is not deleted; every change is audited.
func TestLiveChatAdmin(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/livechats/hr-desk", map[string]any{"name": "HR desk", "kind": "LIVE_CHAT_KIND_INTERNAL",
		"supervisors": []string{"dana"}, "look": map[string]any{"color": "#123456", "title": map[string]string{"en": "Ask HR"}}})
	mustAdmin(t, addr, "PUT", "/admin/livechats/partners", map[string]any{})
	_, lcs := liveChats(t, addr)
	var ids []string
	for _, x := range lcs {
		ids = append(ids, x.GetId())
	}
	if !slices.Equal(ids, []string{"hr-desk", "main", "partners"}) || lcs[0].GetKind() != messages.LiveChatKind_LIVE_CHAT_KIND_INTERNAL ||
		!slices.Equal(lcs[0].GetSupervisors(), []string{"dana"}) || lcs[2].GetName() != "partners" {
		t.Fatalf("live chats: %v", lcs)
	}

	checkLiveChatRefusals(t, m, addr)

	// A department moves to partners (PUT and PATCH take live_chat); the
	// widget of each live chat offers its own.
	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"live_chat": "partners"})
	if _, ids, _ := widgetDepartments(t, addr, "?livechat=partners", ""); !slices.Equal(ids, []string{"support"}) {
		t.Fatalf("partners' widget offers %v", ids)
	}
	if _, ids, _ := widgetDepartments(t, addr, "", ""); !slices.Equal(ids, []string{"sales"}) {
		t.Fatalf("main's widget offers %v", ids)
	}
	var e map[string]any
	if code := admin(t, addr, "DELETE", "/admin/livechats/partners", nil, &e); code != http.StatusConflict || !strings.Contains(e["message"].(string), "support") {
		t.Fatalf("deleting a live chat with a department: %d %v", code, e)
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/support", map[string]any{"name": "Support", "chat_enabled": true, "live_chat": "main"})
	if code := admin(t, addr, "DELETE", "/admin/livechats/partners", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE partners: %d", code)
	}
	if code := admin(t, addr, "GET", "/admin/livechats/partners", nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET a deleted live chat: %d", code)
	}

	// Every change and refusal is in the audit log.
	checkLiveChatAudit(t, addr)

	// Live chats are durable: a restarted broker reads the same.
	before, _ := liveChats(t, addr)
	dir := m.cfg.DataDir
	m.Close()
	m2 := startBroker(t, dir)
	if after, _ := liveChats(t, m2.Addr()); after != before {
		t.Fatalf("after a restart: %s, was %s", after, before)
	}
}

// checkLiveChatRefusals: every bad live chat request is a typed error
// about its field and changes neither the live chats nor the departments.
func checkLiveChatRefusals(t *testing.T, m *Main, addr string) {
	t.Helper()
	before, _ := liveChats(t, addr)
	for _, bad := range []struct {
		method, path, body string
		code               int
		field              string
	}{
		{"PUT", "/admin/livechats/Bad!", `{}`, http.StatusBadRequest, "id"},
		{"PUT", "/admin/livechats/hr-desk", `{"kind":7}`, http.StatusBadRequest, "kind"},
		{"PUT", "/admin/livechats/hr-desk", `{"kind":"LIVE_CHAT_KIND_SOMETHING"}`, http.StatusBadRequest, ""},
		{"PUT", "/admin/livechats/hr-desk", `{"name":"` + strings.Repeat("x", 81) + `"}`, http.StatusBadRequest, "name"},
		{"PUT", "/admin/livechats/hr-desk", `{"supervisors":["nobody"]}`, http.StatusBadRequest, "supervisors"},
		{"PUT", "/admin/livechats/hr-desk", `{"look":{"color":"red"}}`, http.StatusBadRequest, "look.color"},
		{"PUT", "/admin/livechats/hr-desk", `{"id":"other"}`, http.StatusBadRequest, ""},
		{"PUT", "/admin/livechats/hr-desk", `{"colour":"#123456"}`, http.StatusBadRequest, ""},
		{"PUT", "/admin/livechats/hr-desk", `[1,2]`, http.StatusBadRequest, ""},
		{"GET", "/admin/livechats/nope", ``, http.StatusNotFound, ""},
		{"DELETE", "/admin/livechats/nope", ``, http.StatusNotFound, ""},
		{"PUT", "/admin/departments/sales", `{"name":"Sales","chat_enabled":true,"live_chat":"nope"}`, http.StatusBadRequest, "live_chat"},
		{"PATCH", "/admin/departments/sales", `{"live_chat":"Bad!"}`, http.StatusBadRequest, "live_chat"},
	} {
		view, _ := m.broker.DirectoryView()
		var e map[string]any
		if code := admin(t, addr, bad.method, bad.path, bad.body, &e); code != bad.code || e["code"] == nil || bad.field != "" && e["field"] != bad.field {
			t.Errorf("%s %s %s: %d %v, want %d (field %q)", bad.method, bad.path, bad.body, code, e, bad.code, bad.field)
		}
		if after, _ := liveChats(t, addr); after != before {
			t.Errorf("%s %s %s changed the live chats: %s", bad.method, bad.path, bad.body, after)
		}
		if now, _ := m.broker.DirectoryView(); toJSON(now.GetDepartments()) != toJSON(view.GetDepartments()) {
			t.Errorf("%s %s %s changed the departments", bad.method, bad.path, bad.body)
		}
	}
}

// checkLiveChatAudit: every live chat change and refusal is in the audit
// log.
func checkLiveChatAudit(t *testing.T, addr string) {
	t.Helper()
	var kinds []string
	for _, e := range auditPage(t, addr, "kind=admin.livechat") {
		ok := "refused"
		if e.GetOk() {
			ok = "ok"
		}
		kinds = append(kinds, e.GetKind()+" "+e.GetSubject()+" "+ok)
	}
	for _, want := range []string{"admin.livechat.put hr-desk ok", "admin.livechat.put partners ok", "admin.livechat.put hr-desk refused",
		"admin.livechat.delete nope refused", "admin.livechat.delete partners refused", "admin.livechat.delete partners ok"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("audit lacks %q: %v", want, kinds)
		}
	}
}

// A live chat's supervisors supervise every department of it: Sam, who
// supervises no department himself, monitors the department, joins a
// chat invisibly and whispers, reads its history and statistics, once he
// supervises its live chat; before, each is refused.
func TestLiveChatSupervisor(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermJoin, actors.PermJoinInvisible, actors.PermSupervise}})
	mustAdmin(t, addr, "PUT", "/admin/agents/sam", map[string]any{"login": "sam@demo", "password": "sam-demo-pw", "display_name": "Sam",
		"role": "lead", "languages": []string{"en"}, "max_chats": 1})
	mustAdmin(t, addr, "PUT", "/admin/livechats/partners", map[string]any{"name": "Partners"})
	mustAdmin(t, addr, "PATCH", "/admin/departments/sales", map[string]any{"live_chat": "partners"})
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, _, chat := takeChat(t, addr, alice, "sales", "hello")
	sam, _ := newAgent(t, addr, "sam@demo", "sam-demo-pw", false)
	tok := loginToken(t, addr, "sam@demo", "sam-demo-pw")

	monitor := &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"sales"}}}}
	join := &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}}
	_, err := call(t, sam, monitor)
	wantCode(t, "monitor before supervising the live chat", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, err = call(t, sam, join)
	wantCode(t, "join before supervising the live chat", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	for _, path := range []string{"/api/chats/" + chat, "/api/stats?department=sales"} {
		if code, body := staffHTTP(t, addr, tok, "GET", path, ""); code != http.StatusForbidden {
			t.Fatalf("GET %s before supervising the live chat: %d %s", path, code, body)
		}
	}

	mustAdmin(t, addr, "PUT", "/admin/livechats/partners", map[string]any{"name": "Partners", "supervisors": []string{"sam"}})
	if _, w := newAgent(t, addr, "sam@demo", "sam-demo-pw", false); !slices.Equal(w.GetMonitors(), []string{"sales"}) {
		t.Fatalf("sam's welcome says he monitors %v", w.GetMonitors())
	}
	mustCall(t, sam, monitor)
	await(t, sam, "the department's view", func(e *messages.Envelope) bool { return len(e.GetDepartmentView().GetActive()) == 1 })
	mustCall(t, sam, join)
	mustCall(t, sam, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "w1", Text: "ask for the order number", Whisper: true}}})
	if wh := awaitEvent(t, alice, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "ask for the order number" }); !wh.GetInternal() {
		t.Fatalf("the whisper: %v", wh)
	}
	for _, path := range []string{"/api/chats/" + chat, "/api/stats?department=sales"} {
		if code, body := staffHTTP(t, addr, tok, "GET", path, ""); code != http.StatusOK {
			t.Fatalf("GET %s as the live chat's supervisor: %d %s", path, code, body)
		}
	}
	// Another live chat's departments stay out of reach.
	_, err = call(t, sam, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"support"}}}})
	wantCode(t, "monitor a department of another live chat", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	// The visitor never saw the supervisor.
	send(t, alice, chat, "a1", "what is your order number?")
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "what is your order number?" })
	for v.Pending() > 0 {
		if env, _ := v.Recv(ctxT(t)); strings.Contains(env.String(), "sam") || strings.Contains(env.String(), "ask for the order number") {
			t.Fatalf("the visitor saw the supervisor: %v", env)
		}
	}
}
