package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Every staff action that changes who handles a chat or what others see
// is in the audit log, with who, the chat, agent or department, and the
// client's address: queue online/offline, another agent's status, a
// department monitor, a visible join, an invitation, a declined one, a
// leave, a transfer, a chat's work status and a display name.
func TestStaffActionsAreAudited(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	carmen, _ := newAgent(t, addr, "carmen@demo", "carmen-demo-pw", false)
	newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	_, _, chat := takeChat(t, addr, alice, "sales", "hello")

	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "support"}}})
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "support", Online: true}}})
	mustCall(t, mia, &messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: "bob", Status: messages.AgentStatus_AGENT_STATUS_AWAY}}})
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"sales"}}}})
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: chat}}})
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "carmen"}}})
	await(t, carmen, "invitation", func(e *messages.Envelope) bool { return e.GetInvitation() != nil })
	mustCall(t, carmen, &messages.Envelope{Body: &messages.Envelope_DeclineInvite{DeclineInvite: &messages.DeclineInvite{ChatId: chat}}})
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_SetChatStatus{SetChatStatus: &messages.SetChatStatus{ChatId: chat, Status: messages.WorkStatus_WORK_STATUS_ON_HOLD}}})
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "Alice A."}}})
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToDepartment: "support"}}})

	want := []struct{ kind, actor, subject, detail string }{
		{"queue.online", "mia", "support", "set offline"},
		{"queue.online", "mia", "support", "set online"},
		{"agent.status", "mia", "bob", "status set to away"},
		{"queue.monitor", "dana", "sales", "monitors sales"},
		{"chat.join", "dana", chat, "joined visibly"},
		{"chat.leave", "dana", chat, "left"},
		{"chat.invite", "alice", chat, "invited carmen"},
		{"chat.decline_invite", "carmen", chat, "declined the invitation"},
		{"chat.status", "alice", chat, "WORK_STATUS_ON_HOLD"},
		{"agent.display_name", "alice", "alice", "display name set to Alice A."},
		{"chat.transfer", "alice", chat, "to department support"},
	}
	var got []*messages.AuditEntry
	found := func() int {
		got = auditPage(t, addr, "limit=1000")
		n := 0
		for _, w := range want {
			for _, e := range got {
				if e.GetKind() == w.kind && e.GetActor() == w.actor && e.GetSubject() == w.subject && e.GetDetail() == w.detail {
					n++
					if !e.GetOk() || e.GetAddress() != "127.0.0.1" || e.GetAtMs() == 0 {
						t.Fatalf("entry without ok, address or time: %v", e)
					}
					break
				}
			}
		}
		return n
	}
	if !poll(10*time.Second, func() bool { return found() == len(want) }) {
		t.Fatalf("audit log: found %d of %d wanted entries in %v", found(), len(want), got)
	}
}

// GET /api/chats/{id} follows the chat: after a transfer the new
// department's members read it; members of the department it left do not,
// unless they took part.
func TestChatRecordFollowsTransfer(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/sam", map[string]any{"login": "sam@demo", "password": "sam-demo-pw",
		"display_name": "Sam", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true})
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	_, _, chat := takeChat(t, addr, alice, "sales", "please forward me")
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToDepartment: "support"}}})

	read := func(login, pw string) int {
		code, _ := staffHTTP(t, addr, loginToken(t, addr, login, pw), "GET", "/api/chats/"+chat, "")
		return code
	}
	if code := read("bob@demo", "bob-demo-pw"); code != http.StatusOK {
		t.Errorf("bob, of the chat's department now (support): %d, want 200", code)
	}
	if code := read("sam@demo", "sam-demo-pw"); code != http.StatusForbidden {
		t.Errorf("sam, of the department the chat left (sales), who never took part: %d, want 403", code)
	}
	if code := read("alice@demo", "alice-demo-pw"); code != http.StatusOK {
		t.Errorf("alice, who handled it: %d, want 200", code)
	}
	var rec map[string]any
	admin(t, addr, "GET", "/api/chats/"+chat, nil, &rec)
	if toJSON(rec["departments"]) != `["sales","support"]` || rec["department"] != "sales" {
		t.Errorf("the record's departments: %v, %v", rec["department"], rec["departments"])
	}
}

// A supervisor's second tab gets the department views they follow at
// once, not at the department's next change.
func TestSecondTabGetsDepartmentView(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	dana, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	mustCall(t, dana, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"sales"}}}})
	await(t, dana, "the first tab's view", func(e *messages.Envelope) bool { return e.GetDepartmentView().GetDepartment() == "sales" })

	tab2, _ := newAgent(t, addr, "dana@demo", "dana-demo-pw", false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := tab2.Await(ctx, func(e *messages.Envelope) bool { return e.GetDepartmentView().GetDepartment() == "sales" }); err != nil {
		t.Fatalf("the second tab got no view of sales: %v", err)
	}
}

// A refused take-over frees the slot it reserved before it is answered:
// when the refusal arrives, the last agent_state the client got counts no
// pending offer.
func TestRefusedTakeOverLeavesNoReservation(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	addLeads(t, addr)
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	_, _, chat := takeChat(t, addr, alice, "sales", "hello")
	mia, _ := newAgent(t, addr, "mia@demo", "mia-demo-pw", false) // manages support, not sales

	ref, err := mia.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}})
	if err != nil {
		t.Fatal(err)
	}
	var last *messages.AgentState
	for {
		env, err := mia.Recv(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if s := env.GetAgentState(); s != nil {
			last = s
		}
		if env.GetRef() == ref {
			if env.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
				t.Fatalf("the take-over of a chat mia may not see: %v", env)
			}
			break
		}
	}
	if last == nil || last.GetPendingOffers() != 0 {
		t.Fatalf("when the refusal arrived, mia's state was %v", last)
	}
}

// The unanswered list shows a missed chat as closed once it closed.
func TestUnansweredListAfterClose(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "support", "en", "anyone?"))
	if o := awaitOffer(t, bob); o.GetChatId() != chat {
		t.Fatalf("offered %v", o)
	}
	mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
	mustCall(t, v, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
	list := mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "support"}}}).GetWaitingList()
	if len(list.GetUnanswered()) != 1 || list.GetUnanswered()[0].GetChatId() != chat || list.GetUnanswered()[0].GetState() != messages.ChatState_CHAT_STATE_CLOSED {
		t.Fatalf("bob's unanswered list after the chat closed: %v", list.GetUnanswered())
	}
}

// accept_offer after the offer expired is a CONFLICT, as PROTOCOL.md
// says; an offer never made is NOT_FOUND.
func TestAcceptAfterExpiryIsConflict(t *testing.T) {
	m, clock := startGraceBroker(t)
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	if o := awaitOffer(t, alice); o.GetChatId() != chat {
		t.Fatalf("offered %v", o)
	}
	clock.Advance(31 * time.Second) // the default offer timeout is 30 s
	await(t, alice, "the offer withdrawn", func(e *messages.Envelope) bool { return e.GetOfferWithdrawn().GetChatId() == chat })
	_, err := call(t, alice, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}})
	wantCode(t, "accept after expiry", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	_, err = call(t, alice, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: "c" + strings.Repeat("0", 28)}}})
	wantCode(t, "accept of an offer never made", err, messages.ErrorCode_ERROR_CODE_NOT_FOUND)
}

// The Welcome answers the Hello with its ref; nothing but Hello is
// answered before it, ping included.
func TestWelcomeRefAndNothingBeforeHello(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	for _, c := range []struct {
		role  string
		hello *messages.Hello
	}{{"visitor", &messages.Hello{}}, {"agent", &messages.Hello{Login: "alice@demo", Password: "alice-demo-pw"}}} {
		cl := dial(t, addr, c.role, true)
		_, err := cl.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}})
		wantCode(t, c.role+": ping before Hello", err, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED)
		ref, err := cl.Send(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Hello{Hello: c.hello}})
		if err != nil {
			t.Fatal(err)
		}
		w := await(t, cl, "welcome", func(e *messages.Envelope) bool { return e.GetWelcome() != nil })
		if w.GetRef() != ref {
			t.Errorf("%s: the welcome carries ref %d, want the Hello's %d", c.role, w.GetRef(), ref)
		}
		if _, err := cl.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
			t.Errorf("%s: ping after Hello: %v", c.role, err)
		}
	}
}

// PATCH changes only what it names (JSON merge patch): the rest of the
// record stays, null removes a field, the password hash is never part of
// it, and a refused patch changes nothing.
func TestAdminPatchKeepsOtherFields(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	patchDepartment(t, m, addr)
	patchAccount(t, m, addr)
	refusedPatches(t, m, addr)
	patchLanguageAndSettings(t, m, addr)
}

// patchDepartment: the named fields change, null removes one, the rest
// stays.
func patchDepartment(t *testing.T, m *Main, addr string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/departments/billing", map[string]any{"name": "Billing", "chat_enabled": true,
		"supervisors": []string{"dana"}, "offer_timeout_ms": 5000})
	var d map[string]any
	if code := admin(t, addr, "PATCH", "/admin/departments/billing", `{"chat_enabled":false,"supervisors":null}`, &d); code != http.StatusOK {
		t.Fatalf("PATCH department: %d %v", code, d)
	}
	dep, _ := m.broker.DirectoryView()
	for _, x := range dep.GetDepartments() {
		if x.GetId() == "billing" && (x.GetName() != "Billing" || x.GetChatEnabled() || x.GetOfferTimeoutMs() != 5000 || len(x.GetSupervisors()) != 0) {
			t.Fatalf("after the patch: %v", x)
		}
	}
}

// patchAccount: one field changes, the login, departments and password
// stay; the hash is never shown nor patched, a new password is.
func patchAccount(t *testing.T, m *Main, addr string) {
	t.Helper()
	var a map[string]any
	if code := admin(t, addr, "PATCH", "/admin/agents/alice", `{"max_chats":5}`, &a); code != http.StatusOK {
		t.Fatalf("PATCH agent: %d %v", code, a)
	}
	if _, ok := a["password_hash"]; ok {
		t.Fatalf("the answer shows the password hash: %v", a)
	}
	rec, _ := m.broker.Agent("alice")
	if rec.GetMaxChats() != 5 || rec.GetLogin() != "alice@demo" || toJSON(rec.GetDepartments()) != `["sales"]` || !rec.GetChatAgent() {
		t.Fatalf("alice after the patch: %v", rec)
	}
	newAgent(t, addr, "alice@demo", "alice-demo-pw", false) // the password still works
	if code := admin(t, addr, "PATCH", "/admin/agents/alice", `{"password_hash":"x"}`, nil); code != http.StatusBadRequest {
		t.Fatalf("a patch of the password hash: %d, want 400", code)
	}
	if code := admin(t, addr, "PATCH", "/admin/agents/alice", `{"password":"alice-new-pw"}`, nil); code != http.StatusOK {
		t.Fatalf("a new password by patch: %d", code)
	}
	newAgent(t, addr, "alice@demo", "alice-new-pw", false)
}

// refusedPatches: nothing changes.
func refusedPatches(t *testing.T, m *Main, addr string) {
	t.Helper()
	before, _ := m.broker.DirectoryView()
	for _, c := range []struct {
		path, body string
		code       int
	}{
		{"/admin/departments/nosuch", `{"name":"x"}`, http.StatusNotFound},
		{"/admin/departments/billing", `[1]`, http.StatusBadRequest},
		{"/admin/departments/billing", `{"no_such_field":1}`, http.StatusBadRequest},
		{"/admin/departments/billing", `{"id":"other"}`, http.StatusBadRequest},
		{"/admin/agents/alice", `{"max_chats":"many"}`, http.StatusBadRequest},
	} {
		if code := admin(t, addr, "PATCH", c.path, c.body, nil); code != c.code {
			t.Errorf("PATCH %s %s: %d, want %d", c.path, c.body, code, c.code)
		}
	}
	after, _ := m.broker.DirectoryView()
	if toJSON(before) != toJSON(after) {
		t.Fatalf("a refused patch changed the directory")
	}
}

// patchLanguageAndSettings: settings and languages patch the same way.
func patchLanguageAndSettings(t *testing.T, m *Main, addr string) {
	t.Helper()
	mustAdmin(t, addr, "PATCH", "/admin/languages/es", `{"name":"Spanish"}`)
	after, _ := m.broker.DirectoryView()
	for _, l := range after.GetLanguages() {
		if l.GetCode() == "es" && (l.GetName() != "Spanish" || !l.GetChatEnabled()) {
			t.Fatalf("es after the patch: %v", l)
		}
	}
	mustAdmin(t, addr, "PATCH", "/admin/settings", `{}`)
}
