package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
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

	type subject struct {
		role  string
		perms actors.Perms
	}
	subjects := []subject{}
	for _, r := range []string{actors.RoleOwner, actors.RoleAdministrator, actors.RoleAgent} {
		p, _ := actors.PermsOf(r, nil)
		subjects = append(subjects, subject{r, p})
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
		subjects = append(subjects, subject{id, p})
	}

	cases := 0
	check := func(s subject, what string, allowed bool, err error, unchanged func() bool) {
		t.Helper()
		cases++
		forbidden := errCode(err) == messages.ErrorCode_ERROR_CODE_FORBIDDEN
		switch {
		case allowed && forbidden:
			t.Errorf("%s: %s should be allowed, got %v", s.role, what, err)
		case !allowed && !forbidden:
			t.Errorf("%s: %s should be FORBIDDEN, got %v", s.role, what, err)
		case !allowed && unchanged != nil && !unchanged():
			t.Errorf("%s: the denied %s changed something", s.role, what)
		}
	}
	httpErr := func(code int, body string) error {
		if code < 300 {
			return nil
		}
		e := &messages.Error{}
		protoIn.Unmarshal([]byte(body), e)
		return e
	}
	directory := func() string {
		var v map[string]any
		admin(t, addr, "GET", "/admin/directory", nil, &v)
		return toJSON(v)
	}

	var staff []string // every staff member supervises and manages matrix
	for i, s := range subjects {
		id := fmt.Sprintf("staff%02d", i)
		login := id + "@matrix"
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": login, "password": "matrix-password",
			"role": s.role, "departments": []string{"matrix"}, "languages": []string{"en"}, "chat_agent": true, "max_chats": 5})
		staff = append(staff, id)
		mustAdmin(t, addr, "PUT", "/admin/departments/matrix", map[string]any{"name": "Matrix", "chat_enabled": true,
			"policy": "ROUTING_POLICY_MANUAL", "supervisors": staff, "managers": staff})
		v, _ := newVisitor(t, addr, false)
		chat := mustChatID(t, requestChat(t, v, "matrix", "en", ""))
		chatQueued := func() bool {
			rec, _ := m.broker.ChatRecord(chat)
			return rec.GetState() == messages.ChatState_CHAT_STATE_QUEUED
		}

		// The agent socket: live_chat.
		c := dial(t, addr, "agent", false)
		_, err := c.Hello(ctxT(t), &messages.Hello{Login: login, Password: "matrix-password"})
		check(s, "agent socket", s.perms.Has(actors.PermLiveChat), err, nil)
		if err == nil {
			call := func(env *messages.Envelope) error { _, err := c.Call(ctxT(t), env); return err }
			err = call(&messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
			check(s, "set_status", true, err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "matrix"}}})
			check(s, "list_waiting", s.perms.Has(actors.PermViewChats), err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_PickChat{PickChat: &messages.PickChat{Department: "matrix", ChatId: chat}}})
			check(s, "pick_chat", s.perms.Has(actors.PermAcceptChats), err, chatQueued)
			// No offer is pending: allowed, these are NOT_FOUND; denied, FORBIDDEN.
			err = call(&messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: chat}}})
			check(s, "accept_offer", s.perms.Has(actors.PermAcceptChats), err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
			check(s, "decline_offer", s.perms.Has(actors.PermAcceptChats), err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_Resume{Resume: &messages.Resume{ChatId: chat}}})
			check(s, "resume", true, err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_SetChatStatus{SetChatStatus: &messages.SetChatStatus{ChatId: chat, Status: messages.WorkStatus_WORK_STATUS_PENDING}}})
			check(s, "set_chat_status", s.perms.Has(actors.PermChatStatus), err, func() bool {
				rec, _ := m.broker.ChatRecord(chat)
				for _, ev := range rec.GetTranscript() {
					if ev.GetStatusChanged() != nil {
						return false
					}
				}
				return true
			})
			err = call(&messages.Envelope{Body: &messages.Envelope_SetDisplayName{SetDisplayName: &messages.SetDisplayName{DisplayName: "Renamed " + id}}})
			check(s, "set_display_name", s.perms.Has(actors.PermDisplayName), err, func() bool {
				a, _ := m.broker.Agent(id)
				return a.GetDisplayName() == id
			})
			if s.perms.Has(actors.PermAcceptChats) { // the picked chat is theirs
				err = call(&messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, Text: "hello"}}})
				check(s, "send_message", true, err, nil)
				err = call(&messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
				check(s, "close_chat", true, err, nil)
			}
			// Working together. The chat is closed (picked and closed) or
			// still waiting: allowed, these are answered by what the chat
			// is (NOT_FOUND, CONFLICT, or done); denied, FORBIDDEN, and
			// nothing changes.
			events := func() int { rec, _ := m.broker.ChatRecord(chat); return len(rec.GetTranscript()) }
			n := events()
			same := func() bool { return events() == n }
			err = call(&messages.Envelope{Body: &messages.Envelope_ListTransferTargets{ListTransferTargets: &messages.ListTransferTargets{}}})
			check(s, "list_transfer_targets", s.perms.Has(actors.PermForward), err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: chat, ToDepartment: "matrix"}}})
			check(s, "transfer_chat", s.perms.Has(actors.PermForward), err, same)
			err = call(&messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: chat, AgentId: "staff00"}}})
			check(s, "invite_agent", s.perms.Has(actors.PermInvite), err, same)
			err = call(&messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: chat}}})
			check(s, "take_over", s.perms.Has(actors.PermTakeOver), err, same)
			err = call(&messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"matrix"}}}})
			check(s, "monitor", s.perms.Has(actors.PermAdmin) || s.perms.Has(actors.PermSupervise) || s.perms.Has(actors.PermManageQueues), err, nil)
			before := directory()
			err = call(&messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: "matrix", Online: true}}})
			check(s, "set_queue_online", s.perms.Has(actors.PermManageQueues), err, func() bool { return directory() == before })
			err = call(&messages.Envelope{Body: &messages.Envelope_SetAgentStatus{SetAgentStatus: &messages.SetAgentStatus{AgentId: id, Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
			check(s, "set_agent_status", s.perms.Has(actors.PermManageQueues), err, nil)
			err = call(&messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat, Invisible: true}}})
			check(s, "join_chat invisibly", s.perms.Has(actors.PermJoinInvisible), err, same)
			n = events()
			err = call(&messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: chat}}})
			check(s, "join_chat", s.perms.Has(actors.PermJoin), err, same)
		}

		// HTTP with the staff member's session.
		code, body := func() (int, string) {
			res, err := http.Post("http://"+addr+"/api/login", "application/json", bytes.NewReader([]byte(`{"login":"`+login+`","password":"matrix-password"}`)))
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
		tok := out["session_token"].(string)

		code, body = staffHTTP(t, addr, tok, "GET", "/api/chats/"+chat, "")
		check(s, "GET /api/chats/{id}", s.perms.Has(actors.PermViewChats) || s.perms.Has(actors.PermReports) || s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
		before := directory()
		code, body = staffHTTP(t, addr, tok, "PUT", "/admin/departments/made-by-"+id, `{"name":"x","chat_enabled":true}`)
		check(s, "PUT /admin/departments", s.perms.Has(actors.PermAdmin), httpErr(code, body), func() bool { return directory() == before })
		if code < 300 {
			admin(t, addr, "DELETE", "/admin/departments/made-by-"+id, nil, nil)
		}
		// Rank: an administrator gives or touches only roles whose
		// permissions are all their own, and the owner's account only if
		// they are the owner.
		holds := func(perms ...actors.Permission) bool {
			for _, p := range perms {
				if !s.perms.Has(p) {
					return false
				}
			}
			return s.perms.Has(actors.PermAdmin)
		}
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
			{"PUT", "/admin/roles/made-by-" + id, `{"permissions":["live_chat"]}`, holds(actors.PermLiveChat)},
			{"PUT", "/admin/languages/made-by-" + id, `{"name":"x"}`, holds()},
			{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw"}`, holds(agentPerms...)},
			{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw","role":"administrator"}`, holds(everything...)},
			{"PUT", "/admin/agents/made-by-" + id, `{"login":"x-` + id + `@x","password":"long-enough-pw","role":"owner"}`, holds() && isOwner},
			{"PUT", "/admin/settings", `{"live_chat_off":false}`, holds()},
			{"PATCH", "/admin/departments/matrix", `{"name":"Patched"}`, holds()},
			{"PATCH", "/admin/languages/en", `{"name":"Patched"}`, holds()},
			{"PATCH", "/admin/agents/staff00", `{"display_name":"Patched"}`, holds() && isOwner},
			{"PATCH", "/admin/settings", `{"live_chat_off":false}`, holds()},
			{"DELETE", "/admin/roles/no-such-role", ``, holds()},
			{"DELETE", "/admin/agents/staff00", ``, holds() && isOwner},
		} {
			before = directory()
			code, body = staffHTTP(t, addr, tok, call.method, call.path, call.body)
			err := httpErr(code, body)
			check(s, call.method+" "+strings.Split(call.path, "/made")[0]+" "+call.body, call.allowed, err, func() bool { return directory() == before })
			if code < 300 && call.method == "PUT" && strings.Contains(call.path, "made-by") {
				admin(t, addr, "DELETE", call.path, nil, nil)
			}
		}
		code, body = staffHTTP(t, addr, tok, "GET", "/admin/directory", "")
		check(s, "GET /admin/directory", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
		code, body = staffHTTP(t, addr, tok, "GET", "/admin/audit", "")
		check(s, "GET /admin/audit", s.perms.Has(actors.PermAdmin), httpErr(code, body), nil)
		// Handing ownership on, and the owner's account, are the owner's
		// alone whatever the permissions; nobody edits their own custom
		// role into more than they hold.
		if !isOwner {
			before = directory()
			code, body = staffHTTP(t, addr, tok, "PUT", "/admin/agents/staff00", `{"login":"staff00@matrix","password":"taken-over-pw","role":"owner"}`)
			check(s, "PUT /admin/agents/{owner} with a password", false, httpErr(code, body), func() bool { return directory() == before })
			code, body = staffHTTP(t, addr, tok, "PUT", "/admin/agents/staff00", `{"login":"staff00@matrix","role":"owner","suspended":true}`)
			check(s, "PUT /admin/agents/{owner} suspended", false, httpErr(code, body), func() bool { return directory() == before })
		}
		if actors.BuiltinRoles[s.role] == nil {
			before = directory()
			all, _ := json.Marshal(map[string]any{"permissions": actors.AllPermissions})
			code, body = staffHTTP(t, addr, tok, "PUT", "/admin/roles/"+s.role, string(all))
			check(s, "PUT /admin/roles/{own role} with every permission", false, httpErr(code, body), func() bool { return directory() == before })
		}
		if s.role != actors.RoleOwner {
			before = directory()
			code, body = staffHTTP(t, addr, tok, "POST", "/admin/owner", `{"agent_id":"`+id+`"}`)
			check(s, "POST /admin/owner", false, httpErr(code, body), func() bool { return directory() == before })
		}
	}
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
	t.Logf("permission matrix: %d roles, %d cases", len(subjects), cases)
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
