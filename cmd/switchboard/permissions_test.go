package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// staffHTTP calls the broker's HTTP API with a staff session token.
func staffHTTP(t *testing.T, addr, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// TestPermissionMatrix drives every agent command on the websocket and
// every HTTP command as each built-in role and as a custom role with each
// permission missing. Each case asserts allow or deny from the role's
// permissions, and that a denial (a typed FORBIDDEN) changed nothing.
func TestPermissionMatrix(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/departments/matrix", map[string]any{"name": "Matrix", "chat_enabled": true, "policy": "ROUTING_POLICY_MANUAL"})
	x := &permMatrix{t: t, m: m, addr: addr}
	subjects := matrixSubjects(t, addr)
	offline := map[string]any{"name": "Matrix offline", "chat_enabled": true, "offline_messages": true}
	mustAdmin(t, addr, "PUT", "/admin/departments/matrixoff", offline)
	mustAdmin(t, addr, "PUT", "/admin/livechats/matrixhr", map[string]any{"name": "Matrix HR", "kind": "LIVE_CHAT_KIND_INTERNAL"})
	mustAdmin(t, addr, "PUT", "/admin/departments/matrixhr", map[string]any{"name": "Matrix HR", "chat_enabled": true, "live_chat": "matrixhr"})

	var staff []string // every staff member supervises and manages matrix
	for i, s := range subjects {
		id := fmt.Sprintf("staff%02d", i)
		login := id + "@matrix"
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": login, "password": "matrix-password",
			"role": s.role, "departments": []string{"matrix"}, "languages": []string{"en"}, "chat_agent": true, "max_chats": 5})
		staff = append(staff, id)
		mustAdmin(t, addr, "PUT", "/admin/departments/matrix", map[string]any{"name": "Matrix", "chat_enabled": true,
			"policy": "ROUTING_POLICY_MANUAL", "supervisors": staff, "managers": staff})
		offline["supervisors"] = staff
		mustAdmin(t, addr, "PUT", "/admin/departments/matrixoff", offline)
		v, _ := newVisitor(t, addr, false)
		chat := mustChatID(t, requestChat(t, v, "matrix", "en", ""))
		x.socketCommands(s, id, login, chat)
		tok := x.login(s, login)
		x.httpCommands(s, id, chat, tok)
		x.offlineCommands(s, v, tok)
		x.statsLive(s, tok)
		x.rankCommands(s, id, tok)
		x.adminReads(s, tok)
		x.channelCommands(s, id, tok)
		x.webhookCommands(s, id, tok)
		x.ownerOnlyCommands(s, id, tok)
		x.liveChatCommands(s, id, tok)
	}
	// Nobody's permission lets an anonymous visitor into an internal
	// live chat.
	anon, _ := newVisitor(t, addr, false)
	_, err := anon.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "matrixhr", Language: "en"}}})
	x.check(permSubject{role: "anonymous visitor"}, "request_chat (internal department)", false, err, nil)
	// A visitor never reads a chat's routing decisions, not even their own.
	v, vw := newVisitor(t, addr, false)
	own := mustChatID(t, requestChat(t, v, "matrix", "en", ""))
	code, body := staffHTTP(t, addr, vw.GetResumeToken(), "GET", "/api/chats/"+own+"/routing", "")
	x.check(permSubject{role: "visitor"}, "GET /api/chats/{id}/routing (their own chat)", false, httpErr(code, body), nil)
	// The owner hands ownership on; the old owner becomes an administrator.
	ownerTok := loginToken(t, addr, "staff00@matrix", "matrix-password")
	if code, body := staffHTTP(t, addr, ownerTok, "POST", "/admin/owner", `{"agent_id":"staff01"}`); code != http.StatusNoContent {
		t.Fatalf("transfer: %d %s", code, body)
	}
	view, _ := m.broker.DirectoryView()
	for _, a := range view.GetAgents() {
		want := map[string]string{"staff00": actors.RoleAdministrator, "staff01": actors.RoleOwner}[a.GetId()]
		if want != "" && a.GetRole() != want {
			t.Errorf("after the transfer %s is %q, want %q", a.GetId(), a.GetRole(), want)
		}
	}
	t.Logf("permission matrix: %d roles, %d cases", len(subjects), x.cases)
}

// permSubject is a role the matrix runs as, with the permissions it holds.
type permSubject struct {
	role  string
	perms actors.Perms
}

// holds says whether an administrator of this role may give or touch a
// role with perms: only roles whose permissions are all their own.
func (s permSubject) holds(perms ...actors.Permission) bool {
	for _, p := range perms {
		if !s.perms.Has(p) {
			return false
		}
	}
	return s.perms.Has(actors.PermAdmin)
}

// matrixSubjects are the built-in roles, and a custom role for each
// permission with all the others.
func matrixSubjects(t *testing.T, addr string) []permSubject {
	t.Helper()
	subjects := []permSubject{}
	for _, r := range []string{actors.RoleOwner, actors.RoleAdministrator, actors.RoleAgent} {
		p, _ := actors.PermsOf(r, nil)
		subjects = append(subjects, permSubject{r, p})
	}
	for _, missing := range actors.AllPermissions {
		id := "without-" + strings.ReplaceAll(string(missing), ".", "-")
		var perms []actors.Permission
		p := actors.Perms{}
		for _, q := range actors.AllPermissions {
			if q != missing {
				perms, p[q] = append(perms, q), true
			}
		}
		mustAdmin(t, addr, "PUT", "/admin/roles/"+id, map[string]any{"name": "All but " + string(missing), "permissions": perms})
		subjects = append(subjects, permSubject{id, p})
	}
	return subjects
}

// permMatrix is the broker the matrix runs against and its count of cases.
type permMatrix struct {
	t     *testing.T
	m     *Main
	addr  string
	cases int
}

// check asserts one case: allowed or FORBIDDEN, and a denial changed
// nothing (when unchanged is given).
func (x *permMatrix) check(s permSubject, what string, allowed bool, err error, unchanged func() bool) {
	x.t.Helper()
	x.cases++
	forbidden := errCode(err) == messages.ErrorCode_ERROR_CODE_FORBIDDEN
	switch {
	case allowed && forbidden:
		x.t.Errorf("%s: %s should be allowed, got %v", s.role, what, err)
	case !allowed && !forbidden:
		x.t.Errorf("%s: %s should be FORBIDDEN, got %v", s.role, what, err)
	case !allowed && unchanged != nil && !unchanged():
		x.t.Errorf("%s: the denied %s changed something", s.role, what)
	}
}

// httpErr is the typed error of an HTTP answer, nil below 300.
func httpErr(code int, body string) error {
	if code < 300 {
		return nil
	}
	e := &messages.Error{}
	protoIn.Unmarshal([]byte(body), e)
	return e
}

// directory is the directory, the sign-in and the email settings as
// they are.
func (x *permMatrix) directory() string {
	var v, signIn, email map[string]any
	admin(x.t, x.addr, "GET", "/admin/directory", nil, &v)
	admin(x.t, x.addr, "GET", "/admin/sign-in", nil, &signIn)
	admin(x.t, x.addr, "GET", "/admin/email", nil, &email)
	return toJSON(v) + toJSON(signIn) + toJSON(email)
}

// outbox counts the mails waiting in the outbox.
func (x *permMatrix) outbox() int {
	mails, err := x.m.store.Outbox()
	if err != nil {
		x.t.Fatal(err)
	}
	return len(mails)
}

// offlineCommands: a visitor leaves an offline message in matrixoff
// (every staff member supervises it); staff list the department's
// messages (chats.view) and answer one by email (chats.email).
func (x *permMatrix) offlineCommands(s permSubject, v *gateway.Client, tok string) {
	t, addr := x.t, x.addr
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "matrixoff", Name: "V", Email: "v@example.net", Text: "call me"}}}); err != nil {
		t.Fatal(err)
	}
	var list messages.OfflineMessageList
	code, body := staffHTTP(t, addr, tok, "GET", "/api/offline-messages?department=matrixoff&answered=false", "")
	x.check(s, "GET /api/offline-messages", s.perms.Has(actors.PermViewChats) || s.perms.Has(actors.PermReports) || s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	all, _ := x.m.broker.OfflineMessages(func(m *messages.OfflineMessage) bool { return !m.GetAnswered() })
	if code == 200 {
		if err := protoIn.Unmarshal([]byte(body), &list); err != nil || len(list.GetMessages()) != len(all) {
			t.Errorf("%s: offline list %s (%v), want %d", s.role, body, err, len(all))
		}
	}
	id := all[len(all)-1].GetId()
	code, body = staffHTTP(t, addr, tok, "POST", "/api/offline-messages/"+id+"/reply", `{"text":"we called"}`)
	x.check(s, "POST /api/offline-messages/{id}/reply", s.perms.Has(actors.PermEmail), httpErr(code, body), func() bool {
		m, _ := x.m.broker.OfflineMessage(id)
		return !m.GetAnswered()
	})
}

// statsLive: every staff member here is listed as a supervisor and a
// manager of matrix and matrixoff, so sees their live figures with
// supervise or queues.manage; only reports.view (or admin) sees a
// department they do not oversee.
func (x *permMatrix) statsLive(s permSubject, tok string) {
	t, addr := x.t, x.addr
	all := s.perms.Has(actors.PermReports) || s.perms.Has(actors.PermAdmin)
	oversees := all || s.perms.Has(actors.PermSupervise) || s.perms.Has(actors.PermManageQueues)
	code, body := staffHTTP(t, addr, tok, "GET", "/api/stats/live?department=matrix", "")
	x.check(s, "GET /api/stats/live?department=matrix", oversees, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/stats/live?department=sales", "")
	x.check(s, "GET /api/stats/live?department=sales", all, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/stats/live", "")
	x.check(s, "GET /api/stats/live", oversees, httpErr(code, body), nil)
	if !oversees {
		return
	}
	var live messages.StatsLive
	if err := protoIn.Unmarshal([]byte(body), &live); err != nil {
		t.Fatalf("%s: live figures %s: %v", s.role, body, err)
	}
	var got []string
	for _, d := range live.GetDepartments() {
		got = append(got, d.GetDepartment())
	}
	want := []string{"matrix", "matrixoff"}
	if all {
		want = []string{"matrix", "matrixhr", "matrixoff", "sales", "support"}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: live figures of %v, want %v", s.role, got, want)
	}
}

// sameDirectory is an unchanged check: the directory is as it is now.
func (x *permMatrix) sameDirectory() func() bool {
	before := x.directory()
	return func() bool { return x.directory() == before }
}

// events counts the stored events of chat.
func (x *permMatrix) events(chat string) int {
	rec, _ := x.m.broker.ChatRecord(chat)
	return len(rec.GetTranscript())
}

// socketCommands: the agent socket (live_chat) and every command on it.
func (x *permMatrix) socketCommands(s permSubject, id, login, chat string) {
	t, m := x.t, x.m
	chatQueued := func() bool {
		rec, _ := m.broker.ChatRecord(chat)
		return rec.GetState() == messages.ChatState_CHAT_STATE_QUEUED
	}
	c := dial(t, x.addr, "agent", false)
	_, err := c.Hello(ctxT(t), &messages.Hello{Login: login, Password: "matrix-password"})
	x.check(s, "agent socket", s.perms.Has(actors.PermLiveChat), err, nil)
	if err != nil {
		return
	}
	call := func(env *messages.Envelope) error { _, err := c.Call(ctxT(t), env); return err }
	err = call(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	x.check(s, "set_status", true, err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "matrix"}}})
	x.check(s, "list_waiting", s.perms.Has(actors.PermViewChats), err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "matrix", ChatId: chat}}})
	x.check(s, "pick_chat", s.perms.Has(actors.PermAcceptChats), err, chatQueued)
	// No offer is pending: allowed, these are NOT_FOUND; denied, FORBIDDEN.
	err = call(&messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}})
	x.check(s, "accept_offer", s.perms.Has(actors.PermAcceptChats), err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
	x.check(s, "decline_offer", s.perms.Has(actors.PermAcceptChats), err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_Resume{Resume: &messages.Resume{ChatId: chat}}})
	x.check(s, "resume", true, err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_SetChatStatus{SetChatStatus: &messages.SetChatStatus{ChatId: chat, Status: messages.WorkStatus_WORK_STATUS_PENDING}}})
	x.check(s, "set_chat_status", s.perms.Has(actors.PermChatStatus), err, func() bool {
		rec, _ := m.broker.ChatRecord(chat)
		for _, ev := range rec.GetTranscript() {
			if ev.GetStatusChanged() != nil {
				return false
			}
		}
		return true
	})
	err = call(&messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "Renamed " + id}}})
	x.check(s, "set_display_name", s.perms.Has(actors.PermDisplayName), err, func() bool {
		a, _ := m.broker.Agent(id)
		return a.GetDisplayName() == id
	})
	// Allowed: queued (the picked chat is theirs), or NOT_FOUND.
	queued := x.outbox()
	err = call(&messages.Envelope{Body: &messages.Envelope_EmailFromChat{EmailFromChat: &messages.EmailFromChat{ChatId: chat, To: "v@example.net", Subject: "s", Text: "t"}}})
	x.check(s, "email_from_chat", s.perms.Has(actors.PermEmail), err, func() bool { return x.outbox() == queued })
	if s.perms.Has(actors.PermAcceptChats) { // the picked chat is theirs
		err = call(&messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "hello"}}})
		x.check(s, "send_message", true, err, nil)
		err = call(&messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
		x.check(s, "close_chat", true, err, nil)
	}
	// Visitors' commands: refused to every agent.
	err = call(&messages.Envelope{Body: &messages.Envelope_ReportPage{ReportPage: &messages.ReportPage{Url: "https://example.com/"}}})
	x.check(s, "report_page", false, err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_SetVisitorFields{SetVisitorFields: &messages.SetVisitorFields{Fields: map[string]string{"a": "b"}}}})
	x.check(s, "set_visitor_fields", false, err, nil)
	// Tags first: working together ends with a reopen, after which the
	// chat is no longer the sender's.
	x.tagCannedCommands(s, chat, call)
	x.togetherCommands(s, id, chat, call)
}

// tagCannedCommands: tags and canned replies on the socket. The chat is the
// sender's (picked) or not theirs, and every staff member supervises and
// manages matrix: allowed, these are answered by what the chat is
// (INVALID_ARGUMENT for a tag matrix does not list, NOT_FOUND); denied,
// FORBIDDEN, and nothing changes.
func (x *permMatrix) tagCannedCommands(s permSubject, chat string, call func(*messages.Envelope) error) {
	n := x.events(chat)
	same := func() bool { return x.events(chat) == n }
	err := call(&messages.Envelope{Body: &messages.Envelope_TagChat{TagChat: &messages.TagChat{ChatId: chat, Tag: "urgent"}}})
	x.check(s, "tag_chat", s.perms.Has(actors.PermTag), err, same)
	err = call(&messages.Envelope{Body: &messages.Envelope_ListCanned{ListCanned: &messages.ListCanned{Department: "matrix"}}})
	x.check(s, "list_canned", true, err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_ExpandCanned{ExpandCanned: &messages.ExpandCanned{ChatId: chat, Shortcut: "hello"}}})
	x.check(s, "expand_canned", true, err, nil)
}

// togetherCommands: working together. The chat is closed (picked and
// closed) or still waiting: allowed, these are answered by what the chat
// is (NOT_FOUND, CONFLICT, or done); denied, FORBIDDEN, and nothing
// changes.
func (x *permMatrix) togetherCommands(s permSubject, id, chat string, call func(*messages.Envelope) error) {
	n := x.events(chat)
	same := func() bool { return x.events(chat) == n }
	err := call(&messages.Envelope{Body: &messages.Envelope_ListTransferTargets{ListTransferTargets: &messages.ListTransferTargets{}}})
	x.check(s, "list_transfer_targets", s.perms.Has(actors.PermForward), err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToDepartment: "matrix"}}})
	x.check(s, "transfer_chat", s.perms.Has(actors.PermForward), err, same)
	err = call(&messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "staff00"}}})
	x.check(s, "invite_agent", s.perms.Has(actors.PermInvite), err, same)
	err = call(&messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}})
	x.check(s, "take_over", s.perms.Has(actors.PermTakeOver), err, same)
	err = call(&messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"matrix"}}}})
	x.check(s, "monitor", s.perms.Has(actors.PermAdmin) || s.perms.Has(actors.PermSupervise) || s.perms.Has(actors.PermManageQueues), err, nil)
	unchanged := x.sameDirectory()
	err = call(&messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "matrix", Online: true}}})
	x.check(s, "set_queue_online", s.perms.Has(actors.PermManageQueues), err, unchanged)
	err = call(&messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: id, Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	x.check(s, "set_agent_status", s.perms.Has(actors.PermManageQueues), err, nil)
	err = call(&messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
	x.check(s, "join_chat invisibly", s.perms.Has(actors.PermJoinInvisible), err, same)
	n = x.events(chat)
	err = call(&messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
	x.check(s, "join_chat", s.perms.Has(actors.PermJoin), err, same)
	x.reopenAssignCommands(s, id, chat, call)
}

// reopenAssignCommands: reopen (the closed chat opens again, for its agent; a
// waiting one is a CONFLICT) and a supervisor's assignment (every subject
// supervises matrix; allowed, it is offered, or a CONFLICT).
func (x *permMatrix) reopenAssignCommands(s permSubject, id, chat string, call func(*messages.Envelope) error) {
	n := x.events(chat)
	same := func() bool { return x.events(chat) == n }
	err := call(&messages.Envelope{Body: &messages.Envelope_ReopenChat{ReopenChat: &messages.ReopenChat{ChatId: chat}}})
	x.check(s, "reopen_chat", s.perms.Has(actors.PermReopen), err, same)
	n = x.events(chat)
	err = call(&messages.Envelope{Body: &messages.Envelope_AssignWaiting{AssignWaiting: &messages.AssignWaiting{Department: "matrix", ChatId: chat, AgentId: id}}})
	x.check(s, "assign_waiting", s.perms.Has(actors.PermAssign), err, same)
}

// login opens the staff member's HTTP session.
func (x *permMatrix) login(s permSubject, login string) string {
	t := x.t
	code, body := func() (int, string) {
		res, err := http.Post("http://"+x.addr+"/api/login", "application/json", bytes.NewReader([]byte(`{"login":"`+login+`","password":"matrix-password"}`)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(data)
	}()
	if code != http.StatusOK {
		t.Fatalf("%s: login %d %s", s.role, code, body)
	}
	var out map[string]any
	jsonUnmarshal(t, body, &out)
	return out["session_token"].(string)
}

// httpCommands: HTTP with the staff member's session.
func (x *permMatrix) httpCommands(s permSubject, id, chat, tok string) {
	t, addr := x.t, x.addr
	// Every subject supervises and manages matrix, where the chat is: the
	// supervise and queues.manage permissions read it too.
	readable := s.perms.Has(actors.PermViewChats) || s.perms.Has(actors.PermReports) || s.perms.Has(actors.PermAdmin) ||
		s.perms.Has(actors.PermSupervise) || s.perms.Has(actors.PermManageQueues)
	code, body := staffHTTP(t, addr, tok, "GET", "/api/chats/"+chat, "")
	x.check(s, "GET /api/chats/{id}", readable, httpErr(code, body), nil)
	n := x.events(chat)
	code, body = staffHTTP(t, addr, tok, "POST", "/api/chats/"+chat+"/reopen", "")
	x.check(s, "POST /api/chats/{id}/reopen", s.perms.Has(actors.PermReopen), httpErr(code, body), func() bool { return x.events(chat) == n })
	code, body = staffHTTP(t, addr, tok, "GET", "/api/chats/"+chat+"/visitor", "")
	x.check(s, "GET /api/chats/{id}/visitor", readable, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/chats/"+chat+"/routing", "")
	x.check(s, "GET /api/chats/{id}/routing", readable, httpErr(code, body), nil)
	// Allowed, a made-up file is NOT_FOUND.
	code, body = staffHTTP(t, addr, tok, "GET", "/api/chats/"+chat+"/files/f0000000000000000000000000000", "")
	x.check(s, "GET /api/chats/{id}/files/{file}", readable, httpErr(code, body), nil)
	x.uploadCommand(s, chat, tok)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/chats?q=hello", "")
	x.check(s, "GET /api/chats", readable, httpErr(code, body), nil)
	x.statsHTTP(s, id, tok)
	unchanged := x.sameDirectory()
	code, body = staffHTTP(t, addr, tok, "PUT", "/admin/departments/made-by-"+id, `{"name":"x","chat_enabled":true}`)
	x.check(s, "PUT /admin/departments", s.perms.Has(actors.PermAdmin), httpErr(code, body), unchanged)
	if code < 300 {
		admin(t, addr, "DELETE", "/admin/departments/made-by-"+id, nil, nil)
	}
	x.cannedHTTP(s, id, tok)
}

// cannedHTTP: a department's canned replies are its managers' (every
// staff member manages matrix: with queues.manage) and the
// administrators'; one's own need canned.personal.
func (x *permMatrix) cannedHTTP(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	canned := func(dept, agent string) func() bool {
		before, _ := x.m.broker.CannedReplies(dept, agent)
		return func() bool {
			after, _ := x.m.broker.CannedReplies(dept, agent)
			return len(after) == len(before)
		}
	}
	unchanged := canned("matrix", "")
	code, body := staffHTTP(t, addr, tok, "PUT", "/admin/departments/matrix/canned/by-"+id, `{"text":"Hello {visitor.name}"}`)
	x.check(s, "PUT /admin/departments/{id}/canned/{shortcut}", s.perms.Has(actors.PermAdmin) || s.perms.Has(actors.PermManageQueues), httpErr(code, body), unchanged)
	code, body = staffHTTP(t, addr, tok, "GET", "/admin/departments/matrix/canned", "")
	x.check(s, "GET /admin/departments/{id}/canned", s.perms.Has(actors.PermAdmin) || s.perms.Has(actors.PermManageQueues), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "DELETE", "/admin/departments/matrix/canned/by-"+id, "")
	x.check(s, "DELETE /admin/departments/{id}/canned/{shortcut}", s.perms.Has(actors.PermAdmin) || s.perms.Has(actors.PermManageQueues), httpErr(code, body), nil)
	unchanged = canned("", id)
	code, body = staffHTTP(t, addr, tok, "PUT", "/api/canned/mine", `{"text":"Bye {visitor.name}"}`)
	x.check(s, "PUT /api/canned/{shortcut}", s.perms.Has(actors.PermCannedOwn), httpErr(code, body), unchanged)
	code, body = staffHTTP(t, addr, tok, "DELETE", "/api/canned/mine", "")
	x.check(s, "DELETE /api/canned/{shortcut}", s.perms.Has(actors.PermCannedOwn), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/canned", "")
	x.check(s, "GET /api/canned", s.perms.Has(actors.PermLiveChat), httpErr(code, body), nil)
}

// uploadCommand: sending a file needs chats.attach, checked first; with
// it, the chat answers by what the caller is to it (the picked chat is
// closed by now: CONFLICT; one they are not in: FORBIDDEN, not about the
// permission). A refusal stores nothing.
func (x *permMatrix) uploadCommand(s permSubject, chat, tok string) {
	n := x.events(chat)
	res, body := fileCall(x.t, "POST", "http://"+x.addr+"/api/chats/"+chat+"/files?name=a.png", tok, "", pngBytes(x.t))
	err := httpErr(res.StatusCode, string(body))
	if errCode(err) == messages.ErrorCode_ERROR_CODE_FORBIDDEN && !strings.Contains(err.Error(), string(actors.PermAttach)) {
		err = nil // refused by the chat, not for the permission
	}
	x.check(s, "POST /api/chats/{id}/files", s.perms.Has(actors.PermAttach), err, func() bool { return x.events(chat) == n })
}

// adminReads: the directory and the audit log are the administrator's.
func (x *permMatrix) adminReads(s permSubject, tok string) {
	t, addr := x.t, x.addr
	code, body := staffHTTP(t, addr, tok, "GET", "/admin/directory", "")
	x.check(s, "GET /admin/directory", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/admin/audit", "")
	x.check(s, "GET /admin/audit", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/admin/sign-in", "")
	x.check(s, "GET /admin/sign-in", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/admin/email", "")
	x.check(s, "GET /admin/email", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	// No SMTP server is set up: an administrator's test is INVALID_ARGUMENT.
	code, body = staffHTTP(t, addr, tok, "POST", "/admin/email/test", `{"to":"a@example.net"}`)
	x.check(s, "POST /admin/email/test", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
	// LDAP is off here: an administrator's sync is a CONFLICT, not FORBIDDEN.
	code, body = staffHTTP(t, addr, tok, "POST", "/admin/sign-in/ldap/sync", "")
	x.check(s, "POST /admin/sign-in/ldap/sync", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
}

// webhookCommands: the webhook routes are the admin's (permission
// admin); a denied call changes no endpoint.
func (x *permMatrix) webhookCommands(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	// An endpoint nobody listens on (its test fails: not FORBIDDEN).
	admin(t, addr, "POST", "/admin/webhooks", map[string]any{"id": "wh-matrix", "url": "http://127.0.0.1:9/hook", "secret": "matrix-secret-0123456789"}, nil)
	hooks := func() string {
		var v any
		admin(t, addr, "GET", "/admin/webhooks", nil, &v)
		return toJSON(v)
	}
	allowed := s.perms.Has(actors.PermAdmin)
	for _, call := range []struct{ method, path, body string }{
		{"GET", "/admin/webhooks", ""},
		{"POST", "/admin/webhooks", `{"id":"wh-by-` + id + `","url":"http://127.0.0.1:9/x","secret":"matrix-secret-0123456789"}`},
		{"GET", "/admin/webhooks/wh-matrix", ""},
		{"PUT", "/admin/webhooks/wh-matrix", `{"url":"http://127.0.0.1:9/by-` + id + `","secret":"matrix-secret-0123456789"}`},
		{"GET", "/admin/webhooks/wh-matrix/deliveries", ""},
		{"POST", "/admin/webhooks/wh-matrix/test", ""},
		{"DELETE", "/admin/webhooks/wh-by-" + id, ""},
	} {
		before := hooks()
		code, body := staffHTTP(t, addr, tok, call.method, call.path, call.body)
		x.check(s, call.method+" "+call.path, allowed, httpErr(code, body), func() bool { return hooks() == before })
	}
	admin(t, addr, "DELETE", "/admin/webhooks/wh-matrix", nil, nil)
}

// rankCommands: rank. An administrator gives or touches only roles whose
// permissions are all their own, and the owner's account only if they
// are the owner.
func (x *permMatrix) rankCommands(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	agentRole, _ := actors.PermsOf(actors.RoleAgent, nil)
	var agentPerms []actors.Permission
	for p := range agentRole {
		agentPerms = append(agentPerms, p)
	}
	everything := actors.AllPermissions
	isOwner := s.role == actors.RoleOwner
	for _, call := range []struct {
		method, path, body string
		allowed            bool
	}{
		{"PUT", "/admin/roles/made-by-" + id, `{"permissions":["live_chat"]}`, s.holds(actors.PermLiveChat)},
		{"PUT", "/admin/languages/made-by-" + id, `{"name":"x"}`, s.holds()},
		{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw"}`, s.holds(agentPerms...)},
		{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw","role":"administrator"}`, s.holds(everything...)},
		{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw","role":"owner"}`, s.holds() && isOwner},
		{"PUT", "/admin/settings", `{"live_chat_off":false}`, s.holds()},
		{"PUT", "/admin/sign-in", `{"ldap":{"label":"made by ` + id + `"}}`, s.holds()},
		{"PUT", "/admin/email", `{"templates":{"":{"brand_name":"made by ` + id + `"}}}`, s.holds()},
		{"PATCH", "/admin/departments/matrix", `{"name":"Patched"}`, s.holds()},
		{"PATCH", "/admin/languages/en", `{"name":"Patched"}`, s.holds()},
		{"PATCH", "/admin/agents/staff00", `{"display_name":"Patched"}`, s.holds() && isOwner},
		{"PATCH", "/admin/settings", `{"live_chat_off":false}`, s.holds()},
		{"DELETE", "/admin/roles/no-such-role", ``, s.holds()},
		{"DELETE", "/admin/agents/staff00", ``, s.holds() && isOwner},
	} {
		unchanged := x.sameDirectory()
		code, body := staffHTTP(t, addr, tok, call.method, call.path, call.body)
		err := httpErr(code, body)
		x.check(s, call.method+" "+strings.Split(call.path, "/made")[0]+" "+call.body, call.allowed, err, unchanged)
		if code < 300 && call.method == "PUT" && strings.Contains(call.path, "made-by") {
			admin(t, addr, "DELETE", call.path, nil, nil)
		}
	}
}

// ownerOnlyCommands: handing ownership on, and the owner's account, are
// the owner's alone whatever the permissions; nobody edits their own
// custom role into more than they hold.
func (x *permMatrix) ownerOnlyCommands(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	if s.role != actors.RoleOwner {
		unchanged := x.sameDirectory()
		code, body := staffHTTP(t, addr, tok, "PUT", "/admin/agents/staff00", `{"login":"staff00@matrix","password":"taken-over-pw","role":"owner"}`)
		x.check(s, "PUT /admin/agents/{owner} with a password", false, httpErr(code, body), unchanged)
		unchanged = x.sameDirectory()
		code, body = staffHTTP(t, addr, tok, "PUT", "/admin/agents/staff00", `{"login":"staff00@matrix","role":"owner","suspended":true}`)
		x.check(s, "PUT /admin/agents/{owner} suspended", false, httpErr(code, body), unchanged)
	}
	if actors.BuiltinRoles[s.role] == nil {
		unchanged := x.sameDirectory()
		all, _ := json.Marshal(map[string]any{"permissions": actors.AllPermissions})
		code, body := staffHTTP(t, addr, tok, "PUT", "/admin/roles/"+s.role, string(all))
		x.check(s, "PUT /admin/roles/{own role} with every permission", false, httpErr(code, body), unchanged)
	}
	if s.role != actors.RoleOwner {
		unchanged := x.sameDirectory()
		code, body := staffHTTP(t, addr, tok, "POST", "/admin/owner", `{"agent_id":"`+id+`"}`)
		x.check(s, "POST /admin/owner", false, httpErr(code, body), unchanged)
	}
}

func jsonUnmarshal(t *testing.T, data string, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), out); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}

func loginToken(t *testing.T, addr, login, password string) string {
	t.Helper()
	res, err := http.Post("http://"+addr+"/api/login", "application/json", strings.NewReader(`{"login":"`+login+`","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(res.Body)
	jsonUnmarshal(t, string(data), &out)
	tok, _ := out["session_token"].(string)
	if tok == "" {
		t.Fatalf("login %s: %d %s", login, res.StatusCode, data)
	}
	return tok
}

// statsHTTP: one's own figures always; matrix's (which every subject
// supervises and manages) with supervise or queues.manage; another
// department's and a colleague's elsewhere with reports.view only.
func (x *permMatrix) statsHTTP(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	everything := s.perms.Has(actors.PermReports) || s.perms.Has(actors.PermAdmin)
	code, body := staffHTTP(t, addr, tok, "GET", "/api/stats?agent="+id, "")
	x.check(s, "GET /api/stats (own)", true, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/stats.csv?department=matrix", "")
	x.check(s, "GET /api/stats.csv (overseen department)", everything || s.perms.Has(actors.PermSupervise) || s.perms.Has(actors.PermManageQueues), httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/stats?department=sales", "")
	x.check(s, "GET /api/stats (other department)", everything, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/stats?agent=bob", "")
	x.check(s, "GET /api/stats (colleague elsewhere)", everything, httpErr(code, body), nil)
}

// channelCommands: the channels' admin routes are the admin permission's
// (a refused one changes no channel); the inbound routes answer their
// signatures only, whatever staff token comes with them.
func (x *permMatrix) channelCommands(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	channels := func() string {
		chs, _ := x.m.broker.Channels()
		return toJSON(chs)
	}
	body := `{"kind":"CHANNEL_KIND_API","department":"matrix","language":"en","enabled":true,"api":{"secret":"matrix-secret-0123456789","callback_url":"https://cb.example"}}`
	for _, call := range []struct{ method, path, body string }{
		{"GET", "/admin/channels", ""},
		{"GET", "/admin/channels/nope", ""},
		{"POST", "/admin/channels", strings.Replace(body, "{", `{"id":"post-by-`+id+`",`, 1)},
		{"PUT", "/admin/channels/by-" + id, body},
		{"DELETE", "/admin/channels/by-" + id, ""},
	} {
		before := channels()
		code, out := staffHTTP(t, addr, tok, call.method, call.path, call.body)
		x.check(s, call.method+" "+strings.Split(call.path, "/by-")[0], s.perms.Has(actors.PermAdmin), httpErr(code, out), func() bool { return channels() == before })
	}
	admin(t, addr, "DELETE", "/admin/channels/post-by-"+id, nil, nil)
	mustAdmin(t, addr, "PUT", "/admin/channels/matrix-api", json.RawMessage(body))
	code, out := staffHTTP(t, addr, tok, "POST", "/api/channels/matrix-api/messages", `{"conversation_id":"c","message_id":"m","name":"n","text":"t"}`)
	if code != http.StatusUnauthorized {
		t.Errorf("%s: an unsigned inbound message with a staff token: %d %s", s.role, code, out)
	}
	x.cases++
}

// liveChatCommands: live chats are the administrator's (GET, PUT, PATCH
// and DELETE /admin/livechats); writing in to an internal live chat as a
// colleague needs livechat.internal (its widget configuration, the
// visitor socket with the session token, and there a request to its
// department); a colleague never reaches an external department.
func (x *permMatrix) liveChatCommands(s permSubject, id, tok string) {
	t, addr := x.t, x.addr
	isAdmin := s.perms.Has(actors.PermAdmin)
	code, body := staffHTTP(t, addr, tok, "GET", "/admin/livechats", "")
	x.check(s, "GET /admin/livechats", isAdmin, httpErr(code, body), nil)
	code, body = staffHTTP(t, addr, tok, "GET", "/admin/livechats/matrixhr", "")
	x.check(s, "GET /admin/livechats/{id}", isAdmin, httpErr(code, body), nil)
	unchanged := x.sameDirectory()
	code, body = staffHTTP(t, addr, tok, "PUT", "/admin/livechats/made-by-"+id, `{"name":"x"}`)
	x.check(s, "PUT /admin/livechats/{id}", isAdmin, httpErr(code, body), unchanged)
	if code >= 300 {
		mustAdmin(t, addr, "PUT", "/admin/livechats/made-by-"+id, `{"name":"x"}`)
	}
	unchanged = x.sameDirectory()
	code, body = staffHTTP(t, addr, tok, "PATCH", "/admin/livechats/made-by-"+id, `{"name":"y"}`)
	x.check(s, "PATCH /admin/livechats/{id}", isAdmin, httpErr(code, body), unchanged)
	unchanged = x.sameDirectory()
	code, body = staffHTTP(t, addr, tok, "DELETE", "/admin/livechats/made-by-"+id, "")
	x.check(s, "DELETE /admin/livechats/{id}", isAdmin, httpErr(code, body), unchanged)
	if code >= 300 {
		mustAdmin(t, addr, "DELETE", "/admin/livechats/made-by-"+id, nil)
	}

	asks := s.perms.Has(actors.PermLiveChatInternal)
	code, body = staffHTTP(t, addr, tok, "GET", "/api/widget/config?livechat=matrixhr", "")
	x.check(s, "GET /api/widget/config (internal live chat)", asks, httpErr(code, body), nil)
	c := dial(t, addr, "visitor", false)
	_, err := c.Hello(ctxT(t), &messages.Hello{SessionToken: tok})
	x.check(s, "colleague socket (Hello with a session token on /ws/visitor)", asks, err, nil)
	if err != nil {
		return
	}
	open := func() int {
		ocs, _ := x.m.store.OpenChats()
		return len(ocs)
	}
	n := open()
	_, err = c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "matrix", Language: "en"}}})
	x.check(s, "request_chat (colleague, external department)", false, err, func() bool { return open() == n })
	_, err = c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "matrixhr", Language: "en"}}})
	x.check(s, "request_chat (colleague, internal department)", true, err, nil)
	if err != nil {
		t.Errorf("%s: a colleague asking matrixhr: %v", s.role, err)
	}
}
