package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Login hours (weekly windows in a time zone, on the role) and an IP
// allow-list (on the staff member), behind a trusted proxy whose
// X-Forwarded-For names the client: logins outside either are refused with
// a clear reason, and an open socket ends politely (4005) when its window
// closes.
func TestLoginHoursAndAllowList(t *testing.T) {
	clock := newFakeClock()
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	clock.now = time.Date(2030, 3, 18, 9, 30, 0, 0, stockholm) // a Monday
	if clock.now.Weekday() != time.Monday {
		t.Fatal("the test's Monday is not a Monday")
	}
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Clock = clock
		c.Gateway.TrustedProxies = []string{"127.0.0.1/32"}
	})
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/day-shift", map[string]any{"name": "Day shift",
		"permissions": []string{"live_chat", "chats.view", "chats.accept"},
		"access": map[string]any{"time_zone": "Europe/Stockholm", "login_hours": []map[string]any{
			{"days": []int{1, 2, 3, 4, 5}, "start": "09:00", "end": "17:00"},
			{"days": []int{1}, "start": "22:00", "end": "06:00"}}}})
	mustAdmin(t, addr, "PUT", "/admin/agents/dave", map[string]any{"login": "dave@x", "password": "dave-password",
		"role": "day-shift", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true,
		"access": map[string]any{"ip_allow": []string{"198.51.100.0/24"}}})
	// Bad rules are refused.
	var bad map[string]any
	if st := admin(t, addr, "PUT", "/admin/roles/broken", map[string]any{"access": map[string]any{"time_zone": "Mars/Olympus"}}, &bad); st != http.StatusBadRequest {
		t.Fatalf("a bad time zone: %d %v", st, bad)
	}
	if st := admin(t, addr, "PUT", "/admin/roles/broken", map[string]any{"access": map[string]any{"ip_allow": []string{"10.0.0.0/33"}}}, &bad); st != http.StatusBadRequest {
		t.Fatalf("a bad CIDR: %d %v", st, bad)
	}

	from := func(ip string) *gateway.Client {
		c, err := gateway.Dial(ctxT(t), "ws://"+addr+"/ws/agent", gateway.ClientOptions{Header: http.Header{"X-Forwarded-For": {ip}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseNow)
		return c
	}
	hello := func(c *gateway.Client) error {
		_, err := c.Hello(ctxT(t), &messages.Hello{Login: "dave@x", Password: "dave-password"})
		return err
	}
	if err := hello(from("203.0.113.9")); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN || !strings.Contains(err.Error(), "allow-list") {
		t.Fatalf("from outside the allow-list: %v", err)
	}
	c := from("198.51.100.7")
	if err := hello(c); err != nil {
		t.Fatalf("inside the hours and the allow-list: %v", err)
	}
	clock.Advance(7*time.Hour + 31*time.Minute) // 17:01
	_, err := c.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if gateway.CloseCode(err) != gateway.CloseLoginHours {
		t.Fatalf("at 17:01 the socket ended with %v (%v), want %d", gateway.CloseCode(err), err, gateway.CloseLoginHours)
	}
	if err := hello(from("198.51.100.7")); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN || !strings.Contains(err.Error(), "login hours") {
		t.Fatalf("at 17:01: %v", err)
	}
	clock.Advance(9 * time.Hour) // 02:01 on Tuesday: Monday's night window
	if err := hello(from("198.51.100.7")); err != nil {
		t.Fatalf("in the night window that began on Monday: %v", err)
	}
	// The audit log names the client behind the proxy.
	eventually(t, "the refusal in the audit log", func() bool {
		for _, e := range auditPage(t, addr, "kind=login.refused") {
			if e.GetAddress() == "203.0.113.9" && e.GetActor() == "dave" {
				return true
			}
		}
		return false
	})
}
