package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// internalDesk sets up an internal live chat "staff" with its department
// hr: hana answers there, hrboss supervises the live chat (not hr
// itself), carl is an agent of sales and of hr who may also join, take
// over and read every chat, and nora's role lacks livechat.internal.
func internalDesk(t *testing.T, addr string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermJoin, actors.PermJoinInvisible, actors.PermSupervise}})
	agentRole, _ := actors.PermsOf(actors.RoleAgent, nil)
	var noAsk []actors.Permission
	for _, p := range actors.AllPermissions {
		if agentRole.Has(p) && p != actors.PermLiveChatInternal {
			noAsk = append(noAsk, p)
		}
	}
	mustAdmin(t, addr, "PUT", "/admin/roles/noask", map[string]any{"name": "No asking", "permissions": noAsk})
	hrDesk := []actors.Permission{actors.PermJoin, actors.PermJoinInvisible, actors.PermTakeOver, actors.PermReports}
	for _, p := range actors.AllPermissions {
		if agentRole.Has(p) {
			hrDesk = append(hrDesk, p)
		}
	}
	mustAdmin(t, addr, "PUT", "/admin/roles/hrdesk", map[string]any{"name": "HR desk", "permissions": hrDesk})
	mustAdmin(t, addr, "PUT", "/admin/livechats/staff", map[string]any{"name": "Ask a colleague", "kind": "LIVE_CHAT_KIND_INTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/hr", map[string]any{"name": "HR", "chat_enabled": true, "live_chat": "staff"})
	for _, a := range []struct {
		id, name, role string
		deps           []string
	}{{"hana", "Hana", "", []string{"hr"}}, {"hrboss", "Hilde", "lead", nil}, {"carl", "Carl", "hrdesk", []string{"sales", "hr"}}, {"nora", "Nora", "noask", []string{"sales"}}} {
		mustAdmin(t, addr, "PUT", "/admin/agents/"+a.id, map[string]any{"login": a.id + "@demo", "password": a.id + "-demo-pw",
			"display_name": a.name, "role": a.role, "departments": a.deps, "languages": []string{"en"}, "chat_agent": true, "max_chats": 2})
	}
	mustAdmin(t, addr, "PUT", "/admin/livechats/staff", map[string]any{"name": "Ask a colleague", "kind": "LIVE_CHAT_KIND_INTERNAL",
		"supervisors": []string{"hrboss"}}) // once hrboss exists
}

// colleague opens a staff member's customer-side socket: the visitor
// socket, Hello with their session token.
func colleague(t *testing.T, addr, token string) (*gateway.Client, *messages.Welcome, error) {
	t.Helper()
	c := dial(t, addr, "visitor", false)
	w, err := c.Hello(ctxT(t), &messages.Hello{SessionToken: token})
	return c, w, err
}

// An internal live chat end to end: carl (an agent of sales and also of
// hr) asks HR as a colleague. The widget configuration of the internal
// live chat is staff's; anonymous visitors cannot reach hr, nor can staff
// without livechat.internal, nor a colleague an external department (each
// refused, audited, nothing stored). Carl's question goes to hana, never
// to carl himself though he is free in hr; hana sees who asks (his
// account's name, whatever he typed); the live chat's supervisor
// monitors hr and whispers; carl's socket, live and replayed, never shows
// the whisper, the supervisor or any internal event.
func TestInternalLiveChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	internalDesk(t, addr)
	carlTok := loginToken(t, addr, "carl@demo", "carl-demo-pw")
	noraTok := loginToken(t, addr, "nora@demo", "nora-demo-pw")

	internalWidgetConfig(t, addr, carlTok, noraTok)

	refusedAsks(t, m, addr, noraTok)

	carlDesk, _ := newAgent(t, addr, "carl@demo", "carl-demo-pw", true)
	boss, _ := newAgent(t, addr, "hrboss@demo", "hrboss-demo-pw", false)
	cv, chat := carlAsksHR(t, addr, carlTok, carlDesk, boss)

	hana := hanaGetsCarlsQuestion(t, addr, chat, carlDesk)

	ownQuestionRefused(t, m, addr, chat, hana, carlDesk, carlTok)

	hrSupervisorWhispers(t, boss, hana, cv, chat)

	again := carlSeesNoStaffData(t, addr, carlTok, cv)

	roleLossClosesColleagueSocket(t, addr, hana)

	logoutClosesColleagueSocket(t, addr, carlTok, again)
}

// internalWidgetConfig: the widget configuration of the internal live
// chat is staff's with livechat.internal; the public widget lacks hr.
func internalWidgetConfig(t *testing.T, addr, carlTok, noraTok string) {
	t.Helper()
	// The widget configuration of the internal live chat.
	for _, c := range []struct {
		token string
		code  int
	}{{"", http.StatusUnauthorized}, {"not-a-token", http.StatusUnauthorized}, {noraTok, http.StatusForbidden}, {carlTok, http.StatusOK}} {
		code, ids, cfg := widgetDepartments(t, addr, "?livechat=staff", c.token)
		if code != c.code || code == http.StatusOK && (!slices.Equal(ids, []string{"hr"}) || cfg["internal"] != true) {
			t.Fatalf("internal widget config with %q: %d %v %v, want %d", c.token, code, ids, cfg, c.code)
		}
	}
	if _, ids, _ := widgetDepartments(t, addr, "", ""); slices.Contains(ids, "hr") {
		t.Fatalf("the public widget offers hr: %v", ids)
	}
}

// carlAsksHR: carl opens his customer-side socket, is refused an
// external department, asks hr, and may neither pick his own waiting
// question nor have the supervisor assign it to him. It returns his
// customer-side socket and the chat.
func carlAsksHR(t *testing.T, addr, carlTok string, carlDesk, boss *gateway.Client) (*gateway.Client, string) {
	t.Helper()
	cv, cw, err := colleague(t, addr, carlTok)
	if err != nil {
		t.Fatal(err)
	}
	if cw.GetVisitorId() != actors.ColleagueVisitorID("carl") || cw.GetResumeToken() != "" {
		t.Fatalf("carl's customer-side welcome: %v", cw)
	}
	_, err = call(t, cv, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}})
	wantCode(t, "a colleague asking an external department", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	env := mustCall(t, cv, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "hr", Language: "en",
		Name: "The CEO", FirstMessage: "When is payday?"}}})
	chat := mustChatID(t, env)

	// Waiting with nobody else in hr: carl may not pick his own question,
	// nor may the supervisor assign it to him.
	_, err = call(t, carlDesk, &messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "hr", ChatId: chat}}})
	wantCode(t, "carl picking his own question", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, err = call(t, boss, &messages.Envelope{Body: &messages.Envelope_AssignWaiting{AssignWaiting: &messages.AssignWaiting{Department: "hr", ChatId: chat, AgentId: "carl"}}})
	wantCode(t, "assigning carl his own question", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	return cv, chat
}

// hanaGetsCarlsQuestion: hana comes online and is offered carl's
// question (not carl, free in hr too), accepts it and sees who asks;
// carl's desk never sees it. It returns hana's agent socket.
func hanaGetsCarlsQuestion(t *testing.T, addr, chat string, carlDesk *gateway.Client) *gateway.Client {
	t.Helper()
	hana, _ := newAgent(t, addr, "hana@demo", "hana-demo-pw", true)
	// hana gets it, not carl, who is free in hr too.
	if o := awaitOffer(t, hana); o.GetChatId() != chat || o.GetVisitorName() != "Carl" {
		t.Fatalf("hana's offer: %v", o)
	}
	accept(t, hana, chat)
	created := awaitEvent(t, hana, chat, func(ev *messages.ChatEvent) bool { return ev.GetCreated() != nil }).GetCreated()
	if created.GetColleague().GetId() != "carl" || created.GetColleague().GetDisplayName() != "Carl" || created.GetVisitorName() != "Carl" ||
		created.GetLiveChat() != "staff" {
		t.Fatalf("hana sees the chat created as %v", created)
	}
	for carlDesk.Pending() > 0 {
		if e, _ := carlDesk.Recv(ctxT(t)); e.GetOffer() != nil || e.GetEvent().GetChatId() == chat {
			t.Fatalf("carl's own question reached his desk: %v", e)
		}
	}
	return hana
}

// hrSupervisorWhispers: the live chat's supervisor monitors hr, joins
// invisibly and whispers; hana answers and carl thanks her.
func hrSupervisorWhispers(t *testing.T, boss, hana, cv *gateway.Client, chat string) {
	t.Helper()
	// The live chat's supervisor monitors hr, joins invisibly, whispers.
	mustCall(t, boss, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"hr"}}}})
	mustCall(t, boss, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
	mustCall(t, boss, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: "w1",
		Text: "he is still on probation", Whisper: true}}})
	if wh := awaitEvent(t, hana, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "he is still on probation" }); !wh.GetInternal() {
		t.Fatalf("the whisper: %v", wh)
	}
	send(t, hana, chat, "h1", "Payday is the 25th.")
	send(t, cv, chat, "c1", "Thanks!")
	awaitEvent(t, hana, chat, func(ev *messages.ChatEvent) bool { return ev.GetMessage().GetText() == "Thanks!" })
}

// carlSeesNoStaffData: carl's customer-side socket gets hana's answer
// and nothing staff-only, live or replayed on a new socket, which it
// returns.
func carlSeesNoStaffData(t *testing.T, addr, carlTok string, cv *gateway.Client) *gateway.Client {
	t.Helper()
	// Carl's socket: the answer, and nothing staff-only, live or replayed.
	var live []*messages.Envelope
	await(t, cv, "hana's answer", func(e *messages.Envelope) bool {
		live = append(live, e)
		return e.GetEvent().GetMessage().GetText() == "Payday is the 25th."
	})
	for cv.Pending() > 0 {
		e, _ := cv.Recv(ctxT(t))
		live = append(live, e)
	}
	cv.Close()
	again, _, err := colleague(t, addr, carlTok)
	if err != nil {
		t.Fatal(err)
	}
	var replayed []*messages.Envelope
	await(t, again, "the replayed answer", func(e *messages.Envelope) bool {
		replayed = append(replayed, e)
		return e.GetEvent().GetMessage().GetText() == "Thanks!"
	})
	for _, e := range append(live, replayed...) {
		s := e.String()
		if e.GetEvent().GetInternal() || e.GetEvent().GetMember() != nil || strings.Contains(s, "probation") ||
			strings.Contains(s, "hrboss") || strings.Contains(s, "Hilde") || e.GetEvent().GetCreated().GetColleague() != nil {
			t.Fatalf("carl's customer-side socket got staff-only data: %v", e)
		}
	}
	if !slices.ContainsFunc(replayed, func(e *messages.Envelope) bool { return e.GetEvent().GetMessage().GetText() == "Payday is the 25th." }) {
		t.Fatalf("the replay lacks hana's answer: %v", replayed)
	}
	return again
}

// roleLossClosesColleagueSocket: a role that loses livechat.internal
// shuts hana's open customer-side socket (4005); her agent socket stays.
func roleLossClosesColleagueSocket(t *testing.T, addr string, hana *gateway.Client) {
	t.Helper()
	// A role that loses livechat.internal shuts the open customer-side
	// socket (4005); the staff member's agent socket stays.
	hanaTok := loginToken(t, addr, "hana@demo", "hana-demo-pw")
	hv, _, err := colleague(t, addr, hanaTok)
	if err != nil {
		t.Fatal(err)
	}
	mustAdmin(t, addr, "PATCH", "/admin/agents/hana", map[string]any{"role": "noask"})
	eventually(t, "hana's customer-side socket closed by the role change", func() bool { return hv.Closed() != nil })
	if code := gateway.CloseCode(hv.Closed()); code != gateway.CloseLoginHours {
		t.Fatalf("hana's customer-side socket closed with %d: %v", code, hv.Closed())
	}
	if err := hana.Closed(); err != nil {
		t.Fatalf("hana's agent socket closed too: %v", err)
	}
}

// logoutClosesColleagueSocket: logging out ends carl's customer-side
// socket with the session, and the session opens no new one.
func logoutClosesColleagueSocket(t *testing.T, addr, carlTok string, again *gateway.Client) {
	t.Helper()
	// Logging out ends the customer-side socket with the session.
	if code, body := staffHTTP(t, addr, carlTok, "POST", "/api/logout", ""); code/100 != 2 {
		t.Fatalf("logout: %d %s", code, body)
	}
	eventually(t, "the colleague's socket closed by the logout", func() bool { return again.Closed() != nil })
	if _, _, err := colleague(t, addr, carlTok); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("a logged-out session on the visitor socket: %v", err)
	}
}

// refusedAsks: an anonymous visitor asking hr, and nora (no
// livechat.internal) opening a customer-side session, are refused
// (FORBIDDEN), audited, and store no chat.
func refusedAsks(t *testing.T, m *Main, addr, noraTok string) {
	t.Helper()
	open := func() int {
		ocs, err := m.store.OpenChats()
		if err != nil {
			t.Fatal(err)
		}
		return len(ocs)
	}
	before := open()
	v, vw := newVisitor(t, addr, false)
	_, err := call(t, v, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "hr", Language: "en", FirstMessage: "hi"}}})
	wantCode(t, "an anonymous visitor asking an internal department", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, err = call(t, v, &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "hr", Name: "V", Email: "v@example.net", Text: "call me"}}})
	wantCode(t, "an anonymous visitor leaving hr a message", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	_, _, err = colleague(t, addr, noraTok)
	wantCode(t, "staff without livechat.internal", err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	if open() != before {
		t.Fatalf("a refused ask stored a chat")
	}
	if offline, _ := m.broker.OfflineMessages(func(*messages.OfflineMessage) bool { return true }); len(offline) != 0 {
		t.Fatalf("a refused offline message was stored: %v", offline)
	}
	eventually(t, "the denials in the audit log", func() bool {
		var anon, nora bool
		for _, e := range auditPage(t, addr, "kind=permission.denied") {
			anon = anon || e.GetActor() == vw.GetVisitorId() && strings.Contains(e.GetDetail(), "internal live chat")
			nora = nora || e.GetActor() == "nora" && strings.Contains(e.GetDetail(), string(actors.PermLiveChatInternal))
		}
		return anon && nora
	})
}

// ownQuestionRefused: carl, an agent of hr who may join, take over and
// read every chat, takes no staff part in his own question (hana has
// it): hana cannot transfer it to him or invite him; he cannot join it,
// visibly or not, take it over, or read it as staff (GET /api/chats/{id},
// the history). Each is FORBIDDEN and the transcript stays as it was.
func ownQuestionRefused(t *testing.T, m *Main, addr, chat string, hana, carlDesk *gateway.Client, carlTok string) {
	t.Helper()
	before, err := m.broker.ChatRecord(chat)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		by   *gateway.Client
		env  *messages.Envelope
	}{
		{"hana transferring it to carl", hana, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: "carl"}}}},
		{"hana inviting carl", hana, &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "carl"}}}},
		{"carl joining", carlDesk, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}}},
		{"carl joining invisibly", carlDesk, &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}}},
		{"carl taking it over", carlDesk, &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}}},
	} {
		_, err := call(t, c.by, c.env)
		wantCode(t, c.what, err, messages.ErrorCode_ERROR_CODE_FORBIDDEN)
	}
	if code, body := staffHTTP(t, addr, carlTok, "GET", "/api/chats/"+chat, ""); code != http.StatusForbidden {
		t.Fatalf("carl reading his own question as staff: %d %s", code, body)
	}
	if code, body := staffHTTP(t, addr, carlTok, "GET", "/api/chats", ""); code != http.StatusOK || strings.Contains(body, chat) {
		t.Fatalf("carl's chat history lists his own question: %d %s", code, body)
	}
	after, err := m.broker.ChatRecord(chat)
	if err != nil {
		t.Fatal(err)
	}
	carlIn := slices.ContainsFunc(after.GetParticipants(), func(p *messages.Participant) bool {
		return p.GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT && p.GetId() == "carl"
	})
	if len(after.GetTranscript()) != len(before.GetTranscript()) || carlIn {
		t.Fatalf("a refused staff command changed carl's question: %v", after)
	}
}

// A chat keeps its customer side's kind of live chat: a customer's chat
// in sales cannot be transferred into hr (internal), by department or to
// hana, who is in hr only; carl's question in hr cannot be transferred to
// sales; and once sales has moved into the internal live chat and hr into
// the external one, neither closed chat can be reopened there. Each is a
// CONFLICT that leaves the transcript as it was.
func TestInternalLiveChatKeepsItsSide(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	internalDesk(t, addr)
	carl, _ := newAgent(t, addr, "carl@demo", "carl-demo-pw", true)
	hana, _ := newAgent(t, addr, "hana@demo", "hana-demo-pw", true)
	transcript := func(chat string) int {
		rec, err := m.broker.ChatRecord(chat)
		if err != nil {
			t.Fatal(err)
		}
		return len(rec.GetTranscript())
	}
	transfer := func(by *gateway.Client, chat, agent, dept string) error {
		_, err := call(t, by, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToAgent: agent, ToDepartment: dept}}})
		return err
	}

	v, _, chat := takeChat(t, addr, carl, "sales", "my order is late")
	n := transcript(chat)
	wantCode(t, "a customer's chat transferred into hr", transfer(carl, chat, "", "hr"), messages.ErrorCode_ERROR_CODE_CONFLICT)
	wantCode(t, "a customer's chat transferred to hana (hr)", transfer(carl, chat, "hana", ""), messages.ErrorCode_ERROR_CODE_CONFLICT)
	if transcript(chat) != n || chatState(m, chat) != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("a refused transfer changed the customer's chat")
	}
	closeChat(t, carl, chat)

	cv, _, err := colleague(t, addr, loginToken(t, addr, "carl@demo", "carl-demo-pw"))
	if err != nil {
		t.Fatal(err)
	}
	q := mustChatID(t, mustCall(t, cv, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "hr", Language: "en",
		FirstMessage: "When is payday?"}}}))
	if o := awaitOffer(t, hana); o.GetChatId() != q {
		t.Fatalf("hana's offer: %v", o)
	}
	accept(t, hana, q)
	n = transcript(q)
	wantCode(t, "carl's question transferred into sales", transfer(hana, q, "", "sales"), messages.ErrorCode_ERROR_CODE_CONFLICT)
	if transcript(q) != n || chatState(m, q) != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("a refused transfer changed carl's question")
	}
	closeChat(t, hana, q)
	eventually(t, "both chats closed", func() bool {
		return chatState(m, chat) == messages.ChatState_CHAT_STATE_CLOSED && chatState(m, q) == messages.ChatState_CHAT_STATE_CLOSED
	})

	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "live_chat": "staff"})
	mustAdmin(t, addr, "PUT", "/admin/departments/hr", map[string]any{"name": "HR", "chat_enabled": true, "live_chat": actors.MainLiveChat})
	nc, nq := transcript(chat), transcript(q)
	_, err = call(t, v, reopenEnv(chat))
	wantCode(t, "a customer reopening a chat of a now internal department", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	_, err = call(t, cv, reopenEnv(q))
	wantCode(t, "carl reopening his question in a now external department", err, messages.ErrorCode_ERROR_CODE_CONFLICT)
	if transcript(chat) != nc || transcript(q) != nq || chatState(m, chat) != messages.ChatState_CHAT_STATE_CLOSED || chatState(m, q) != messages.ChatState_CHAT_STATE_CLOSED {
		t.Fatalf("a refused reopen changed a chat")
	}
}
