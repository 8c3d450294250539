package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

func auditPage(t *testing.T, addr, query string) []*messages.AuditEntry {
	t.Helper()
	var page map[string]any
	if code := admin(t, addr, "GET", "/admin/audit?"+query, nil, &page); code != http.StatusOK {
		t.Fatalf("GET /admin/audit?%s: %d %v", query, code, page)
	}
	out := &messages.AuditPage{}
	if err := protoIn.Unmarshal([]byte(toJSON(page)), out); err != nil {
		t.Fatal(err)
	}
	return out.GetEntries()
}

// The audit log records admin changes (allowed and refused), password
// logins and login refusals, and permission denials, with who, what, when
// and from where; the API filters by actor, kind and time.
func TestAuditLog(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	start := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	mustAdmin(t, addr, "PUT", "/admin/departments/billing", map[string]any{"name": "Billing", "chat_enabled": true})
	admin(t, addr, "PUT", "/admin/departments/Bad%20Id", map[string]any{}, nil) // refused
	newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	c := dial(t, addr, "agent", false)
	if _, err := c.Hello(ctxT(t), &messages.Hello{Login: "alice@demo", Password: "wrong-password"}); err == nil {
		t.Fatal("a wrong password was let in")
	}
	v, _ := newVisitor(t, addr, false)
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{}}}); err == nil {
		t.Fatal("a visitor set an agent status")
	}

	var all []*messages.AuditEntry
	eventually(t, "the audit entries to be stored", func() bool {
		all = auditPage(t, addr, "from="+url.QueryEscape(start))
		return len(all) >= 5
	})
	kinds := map[string]*messages.AuditEntry{}
	for _, e := range all {
		if e.GetAddress() != "127.0.0.1" || e.GetAtMs() == 0 {
			t.Errorf("entry without address or time: %v", e)
		}
		kinds[e.GetKind()+"/"+strings.Repeat("!", map[bool]int{true: 0, false: 1}[e.GetOk()])] = e
	}
	for _, want := range []string{"admin.department.put/", "admin.department.put/!", "login.ok/", "login.refused/!", "permission.denied/!"} {
		if kinds[want] == nil {
			t.Errorf("no %q entry in %v", want, all)
		}
	}
	if e := kinds["login.refused/!"]; e.GetActor() != "alice@demo" {
		t.Errorf("refused login names %q", e.GetActor())
	}
	logins := auditPage(t, addr, "kind=login&from="+url.QueryEscape(start))
	for _, e := range logins {
		if !strings.HasPrefix(e.GetKind(), "login.") {
			t.Errorf("kind=login returned %v", e)
		}
	}
	if len(logins) != 2 {
		t.Errorf("kind=login: %d entries, want 2", len(logins))
	}
	if got := auditPage(t, addr, "actor=alice&kind=login.ok"); len(got) != 1 {
		t.Errorf("actor=alice&kind=login.ok: %v", got)
	}
	if got := auditPage(t, addr, "to="+url.QueryEscape(start)); len(got) != 0 {
		t.Errorf("entries before the test started: %v", got)
	}
	var bad map[string]any
	if code := admin(t, addr, "GET", "/admin/audit?limit=0", nil, &bad); code != http.StatusBadRequest || bad["code"] != "ERROR_CODE_INVALID_ARGUMENT" {
		t.Errorf("limit=0: %d %v", code, bad)
	}
}
