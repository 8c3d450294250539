package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// The logs, at debug level, through a whole chat, logins (one refused),
// admin calls and the shutdown, carry neither what was written nor a
// password; each API and admin request is one line with its method, route
// pattern, status and duration.
func TestLogsCarryNoContentAndOneLinePerRequest(t *testing.T) {
	var out syncBuffer
	const text, wrongPassword = "zebra-quartz-7781 private words", "Tr0ub4dor-wrong-pw-5521"
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	addr := m.Addr()
	v, _ := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", text))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	send(t, v, chat, "v1", text+" again")
	send(t, a, chat, "a1", "agent says "+text)
	loginToken(t, addr, "alice@demo", "alice-demo-pw")
	res, err := http.Post("http://"+addr+"/api/login", "application/json", strings.NewReader(`{"login":"alice@demo","password":"`+wrongPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	mustAdmin(t, addr, "GET", "/admin/directory", nil)
	m.Close()

	logs := out.String()
	for _, secret := range []string{"zebra-quartz", "alice-demo-pw", wrongPassword, testAdminToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs carry %q", secret)
		}
	}
	want := map[string]bool{"POST /api/login 200": false, "POST /api/login 401": false, "GET /admin/directory 200": false}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l struct {
			Msg, Method, Route string
			Status             int
			DurationMs         *float64 `json:"duration_ms"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("a log line that is not JSON: %q", line)
		}
		if l.Msg != "http request" {
			continue
		}
		if l.DurationMs == nil || strings.HasPrefix(l.Route, "/ws/") {
			t.Errorf("request line %q", line)
		}
		key := fmt.Sprintf("%s %s %d", l.Method, l.Route, l.Status)
		if _, ok := want[key]; ok {
			want[key] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no request line for %s in:\n%s", k, logs)
		}
	}
}
