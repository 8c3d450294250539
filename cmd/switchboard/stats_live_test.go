package main

import (
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// liveDesk is a department "desk" with agents in every status, a chat in
// progress and two visitors waiting 45 s and 15 s by the fake clock, and
// its supervisor, Sue, who is not one of its agents; Tom, an agent of
// sales, is listed as its supervisor too, but his role may not supervise.
type liveDesk struct {
	m                *Main
	addr             string
	clock            *fakeClock
	sue              *gateway.Client
	sueTok, tomTok   string
	waiting1, later2 *gateway.Client
	chat2            string
}

func newLiveDesk(t *testing.T) *liveDesk {
	t.Helper()
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	d := &liveDesk{m: m, addr: m.Addr(), clock: clock}
	mustAdmin(t, d.addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermViewChats, actors.PermSupervise}})
	desk := map[string]any{"name": "Desk", "chat_enabled": true}
	mustAdmin(t, d.addr, "PUT", "/admin/departments/desk", desk)
	for _, a := range []struct{ id, role, dept string }{
		{"sue", "lead", ""}, {"tom", "agent", "sales"}, {"ann", "agent", "desk"}, {"ben", "agent", "desk"}, {"cid", "agent", "desk"}, {"dee", "agent", "desk"},
	} {
		rec := map[string]any{"login": a.id + "@desk", "password": a.id + "-desk-pw", "display_name": a.id, "role": a.role,
			"languages": []string{"en"}, "max_chats": 1, "chat_agent": true}
		if a.dept != "" {
			rec["departments"] = []string{a.dept}
		}
		mustAdmin(t, d.addr, "PUT", "/admin/agents/"+a.id, rec)
	}
	desk["supervisors"] = []string{"sue", "tom"} // tom's role has no supervise
	mustAdmin(t, d.addr, "PUT", "/admin/departments/desk", desk)
	d.sue, _ = newAgent(t, d.addr, "sue@desk", "sue-desk-pw", false)
	d.sueTok, d.tomTok = loginToken(t, d.addr, "sue@desk", "sue-desk-pw"), loginToken(t, d.addr, "tom@desk", "tom-desk-pw")
	ann, _ := newAgent(t, d.addr, "ann@desk", "ann-desk-pw", true)
	for who, st := range map[string]messages.AgentStatus{"ben": messages.AgentStatus_AGENT_STATUS_AWAY,
		"cid": messages.AgentStatus_AGENT_STATUS_DRAINING, "dee": messages.AgentStatus_AGENT_STATUS_AVAILABLE} {
		c, _ := newAgent(t, d.addr, who+"@desk", who+"-desk-pw", false)
		setStatus(t, c, st)
		if who == "dee" {
			c.CloseNow() // available, but without a socket: offline
		}
	}
	takeChat(t, d.addr, ann, "desk", "hello") // ann is at her limit of 1
	d.waiting1, _ = newVisitor(t, d.addr, false)
	mustChatID(t, requestChat(t, d.waiting1, "desk", "en", "first in line"))
	d.awaitLive(t, "the first waiter", func(f *messages.StatsLiveDepartment) bool { return f.GetWaiting() == 1 })
	clock.Advance(30 * time.Second)
	d.later2, _ = newVisitor(t, d.addr, false)
	d.chat2 = mustChatID(t, requestChat(t, d.later2, "desk", "en", "second"))
	d.awaitLive(t, "the second waiter", func(f *messages.StatsLiveDepartment) bool { return f.GetWaiting() == 2 })
	clock.Advance(15 * time.Second)
	return d
}

// live reads GET /api/stats/live{query} with token (the admin credential
// when empty), decoding a 200 into out.
func (d *liveDesk) live(t *testing.T, token, query string, out *messages.StatsLive) (int, string) {
	t.Helper()
	if token == "" {
		token = testAdminToken
	}
	code, body := staffHTTP(t, d.addr, token, "GET", "/api/stats/live"+query, "")
	if code == http.StatusOK {
		if err := protoIn.Unmarshal([]byte(body), out); err != nil {
			t.Fatalf("live figures %s: %v", body, err)
		}
	}
	return code, body
}

// awaitLive polls desk's live figures until ok holds.
func (d *liveDesk) awaitLive(t *testing.T, what string, ok func(*messages.StatsLiveDepartment) bool) *messages.StatsLiveDepartment {
	t.Helper()
	var f *messages.StatsLiveDepartment
	eventually(t, what, func() bool {
		var live messages.StatsLive
		d.live(t, "", "?department=desk", &live)
		f = nil
		if len(live.GetDepartments()) == 1 {
			f = live.GetDepartments()[0]
		}
		return f != nil && ok(f)
	})
	return f
}

// The live figures of a department are exact, by the fake clock, the same
// at GET /api/stats/live and in the monitor's push, and the push follows
// a change.
func TestStatsLive(t *testing.T) {
	d := newLiveDesk(t)
	want := &messages.StatsLiveDepartment{Department: "desk", Name: "Desk", Online: true, Waiting: 2, LongestWaitMs: 45_000,
		ChatsInProgress: 1, AgentsAvailable: 1, AgentsAway: 1, AgentsDraining: 1, AgentsOffline: 1}
	d.awaitLive(t, "the desk's figures", func(f *messages.StatsLiveDepartment) bool { return proto.Equal(f, want) })
	var live messages.StatsLive
	d.live(t, d.sueTok, "", &live)
	if len(live.GetDepartments()) != 1 || !proto.Equal(live.GetDepartments()[0], want) || live.GetAtMs() != d.clock.Now().UnixMilli() {
		t.Fatalf("sue's live figures: %v, want only %v at %d", &live, want, d.clock.Now().UnixMilli())
	}

	// The monitor's first push carries the same figures.
	mustCall(t, d.sue, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"desk"}}}})
	view := await(t, d.sue, "the desk's view", func(e *messages.Envelope) bool { return e.GetDepartmentView() != nil }).GetDepartmentView()
	if !proto.Equal(view.GetLive(), want) || view.GetAtMs() != d.clock.Now().UnixMilli() {
		t.Fatalf("the pushed figures: %v at %d, want %v", view.GetLive(), view.GetAtMs(), want)
	}

	// The second visitor leaves; the next push (at most four a second, by
	// the clock) says one waits, for 45.25 s.
	mustCall(t, d.later2, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: d.chat2}}})
	d.awaitLive(t, "the second waiter gone", func(f *messages.StatsLiveDepartment) bool { return f.GetWaiting() == 1 })
	d.clock.Advance(250 * time.Millisecond)
	want.Waiting, want.LongestWaitMs = 1, 45_250
	view = await(t, d.sue, "the view after a visitor left", func(e *messages.Envelope) bool {
		return e.GetDepartmentView().GetLive().GetWaiting() == 1
	}).GetDepartmentView()
	if !proto.Equal(view.GetLive(), want) {
		t.Fatalf("the pushed figures after a visitor left: %v, want %v", view.GetLive(), want)
	}
}

// Who sees which departments' live figures, and bad requests: typed
// errors.
func TestStatsLiveAccess(t *testing.T) {
	d := newLiveDesk(t)
	var live messages.StatsLive
	if code, body := d.live(t, "", "", &live); code != http.StatusOK || len(live.GetDepartments()) != 3 ||
		live.GetDepartments()[0].GetDepartment() != "desk" || live.GetDepartments()[1].GetDepartment() != "sales" {
		t.Fatalf("the admin credential's live figures: %d %s", code, body)
	}
	for _, c := range []struct {
		what, token, query string
		status             int
		code               messages.ErrorCode
		field              string
	}{
		{"an agent listed as supervisor without supervise", d.tomTok, "", http.StatusForbidden, messages.ErrorCode_ERROR_CODE_FORBIDDEN, ""},
		{"the same agent, his own department", d.tomTok, "?department=sales", http.StatusForbidden, messages.ErrorCode_ERROR_CODE_FORBIDDEN, ""},
		{"a department sue does not supervise", d.sueTok, "?department=sales", http.StatusForbidden, messages.ErrorCode_ERROR_CODE_FORBIDDEN, ""},
		{"an unknown department", "", "?department=nope", http.StatusNotFound, messages.ErrorCode_ERROR_CODE_NOT_FOUND, "department"},
		{"an invalid department id", d.sueTok, "?department=Bad%20Id!", http.StatusBadRequest, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "department"},
		{"no credential", "nonsense", "", http.StatusUnauthorized, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, ""},
	} {
		code, body := d.live(t, c.token, c.query, &live)
		e := &messages.Error{}
		if err := protoIn.Unmarshal([]byte(body), e); err != nil || code != c.status || e.GetCode() != c.code || e.GetField() != c.field {
			t.Errorf("%s: %d %s, want %d %v (field %q)", c.what, code, body, c.status, c.code, c.field)
		}
	}
}
