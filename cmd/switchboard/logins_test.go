package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// loginAnswer is what POST /api/login answered.
type loginAnswer struct {
	status     int
	err        *messages.Error // nil on success
	retryAfter string
}

// httpLogin posts a password login, from the client address from behind
// the trusted proxy (127.0.0.1) when from is set.
func httpLogin(t testing.TB, addr, from, login, password string) loginAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/login", bytes.NewReader(body))
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return loginAnswer{}
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	out := loginAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	if res.StatusCode != http.StatusOK {
		out.err = &messages.Error{}
		if err := protoIn.Unmarshal(data, out.err); err != nil {
			t.Errorf("login answer %d %q: %v", res.StatusCode, data, err)
		}
	}
	return out
}

func behindProxy(c *Config) { c.Gateway.TrustedProxies = []string{"127.0.0.1/32"} }

// Failures from an attacker's address lock that address out of the
// account, not the account's owner at theirs.
func TestFailedLoginsLockTheAddressNotTheOwner(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), behindProxy, func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	const attacker, owner = "203.0.113.66", "198.51.100.7"
	for i := 1; i <= 5; i++ {
		if a := httpLogin(t, addr, attacker, "alice@demo", "guess-"+string(rune('a'+i))); a.err.GetCode() != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
			t.Fatalf("guess %d: %d %v", i, a.status, a.err)
		}
		clock.Advance(6 * time.Second) // past the slow-down of the 3rd and 4th
	}
	a := httpLogin(t, addr, attacker, "alice@demo", "alice-demo-pw")
	if a.err.GetCode() != messages.ErrorCode_ERROR_CODE_RATE_LIMITED || !a.err.GetTemporary() || a.status != http.StatusTooManyRequests || a.retryAfter == "" {
		t.Fatalf("the attacker's address after 5 failures: %d %v (Retry-After %q), want a temporary RATE_LIMITED", a.status, a.err, a.retryAfter)
	}
	if a := httpLogin(t, addr, owner, "alice@demo", "alice-demo-pw"); a.status != http.StatusOK {
		t.Fatalf("the owner at their own address while the attacker's is locked: %d %v", a.status, a.err)
	}
	// On the websocket too.
	c, err := gateway.Dial(ctxT(t), "ws://"+addr+"/ws/agent", gateway.ClientOptions{Header: http.Header{"X-Forwarded-For": {owner}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	if _, err := c.Hello(ctxT(t), &messages.Hello{Login: "alice@demo", Password: "alice-demo-pw"}); err != nil {
		t.Fatalf("the owner's socket login: %v", err)
	}
}

// heavyLogins makes each password check slow enough (4 MiB, 4 passes)
// for logins to overlap, with one hash at a time.
func heavyLogins(c *Config) {
	c.Password = gateway.PasswordParams{MemoryKiB: 4 << 10, Time: 4, Threads: 1}
	c.Gateway.Logins = gateway.LoginLimits{MaxHashes: 1, HashWait: -1}
}

// burst sends n logins at once, the i-th from from(i), and returns the
// answers.
func burst(t *testing.T, addr string, n int, from func(int) string, login, password string) []loginAnswer {
	var wg sync.WaitGroup
	out := make([]loginAnswer, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = httpLogin(t, addr, from(i), login, password)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// A flood of concurrent password logins runs at most MaxHashes argon2id
// hashes at once (so their memory is bounded by construction); the rest
// are refused at once with a temporary UNAVAILABLE (503, Retry-After).
func TestLoginFloodIsBounded(t *testing.T) {
	m := startBroker(t, t.TempDir(), behindProxy, heavyLogins)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/erin", map[string]any{"login": "erin@x", "password": "erin-password", "chat_agent": true})
	ok, refused := 0, 0
	eventually(t, "a burst of logins with some refused", func() bool {
		for _, a := range burst(t, addr, 16, func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) }, "erin@x", "erin-password") {
			switch {
			case a.status == http.StatusOK:
				ok++
			case a.err.GetCode() == messages.ErrorCode_ERROR_CODE_UNAVAILABLE && a.err.GetTemporary() &&
				a.status == http.StatusServiceUnavailable && a.retryAfter != "":
				refused++
			default:
				t.Fatalf("a login in the flood: %d %v", a.status, a.err)
			}
		}
		return ok > 0 && refused > 0
	})
	if st := m.gw.HashStats(); st.Peak != 1 || st.Running != 0 {
		t.Fatalf("hash stats %+v: want at most one hash at once", st)
	}
}

// Concurrent guesses are counted as they start: of a flood of wrong
// passwords from one address, no more get to the password check than the
// guard lets through one after another (3), however many run at once.
func TestConcurrentGuessesCountAsTheyStart(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), behindProxy, func(c *Config) {
		c.Clock = clock
		c.Password = gateway.PasswordParams{MemoryKiB: 4 << 10, Time: 4, Threads: 1}
	})
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/erin", map[string]any{"login": "erin@x", "password": "erin-password", "chat_agent": true})
	checked := 0
	for _, a := range burst(t, addr, 24, func(int) string { return "203.0.113.66" }, "erin@x", "wrong-password") {
		switch a.err.GetCode() {
		case messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED:
			checked++
		case messages.ErrorCode_ERROR_CODE_RATE_LIMITED, messages.ErrorCode_ERROR_CODE_UNAVAILABLE:
		default:
			t.Fatalf("a guess: %d %v", a.status, a.err)
		}
	}
	if checked > 3 {
		t.Fatalf("%d concurrent guesses reached the password check, want at most 3", checked)
	}
}

// An unknown login costs one argon2id hash, as a known one does, so the
// two cannot be told apart by time.
func TestUnknownLoginHashesToo(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	for _, login := range []string{"alice@demo", "nobody@nowhere"} {
		before := m.gw.HashStats().Total
		if a := httpLogin(t, addr, "", login, "wrong-password"); a.err.GetCode() != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
			t.Fatalf("%s: %d %v", login, a.status, a.err)
		}
		if got := m.gw.HashStats().Total - before; got != 1 {
			t.Fatalf("a wrong password for %s ran %d hashes, want 1", login, got)
		}
	}
}

// A login longer than 254 bytes is refused (INVALID_ARGUMENT) before any
// work, and the audit log keeps only its first 64 bytes.
func TestHugeLoginRefused(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	huge := strings.Repeat("x", 100_000) + "@example.com"
	before := m.gw.HashStats().Total
	if a := httpLogin(t, addr, "", huge, "some-password"); a.err.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || a.status != http.StatusBadRequest {
		t.Fatalf("a 100 kB login: %d %v", a.status, a.err)
	}
	if a := httpLogin(t, addr, "", strings.Repeat("y", 255), "some-password"); a.err.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
		t.Fatalf("a 255-byte login: %d %v", a.status, a.err)
	}
	if got := m.gw.HashStats().Total - before; got != 0 {
		t.Fatalf("too long logins ran %d hashes", got)
	}
	eventually(t, "the refusal in the audit log, cut short", func() bool {
		for _, e := range auditPage(t, addr, "kind=login.refused") {
			if strings.HasPrefix(e.GetActor(), "xxxx") {
				if len(e.GetActor()) > 64+len("…") || len(e.GetDetail()) > 200 {
					t.Fatalf("the audit entry keeps %d bytes of the login and %d of detail", len(e.GetActor()), len(e.GetDetail()))
				}
				return true
			}
		}
		return false
	})
}

// An open agent socket is checked again when the administrator changes
// its role's or the agent's allow-list: one no longer allowed ends (4005,
// with the reason); one still allowed stays.
func TestOpenSocketsFollowAllowListChanges(t *testing.T) {
	m := startBroker(t, t.TempDir(), behindProxy)
	addr := m.Addr()
	role := func(allow ...string) map[string]any {
		return map[string]any{"name": "Desk", "permissions": []string{"live_chat", "chats.view", "chats.accept"},
			"access": map[string]any{"ip_allow": allow}}
	}
	mustAdmin(t, addr, "PUT", "/admin/roles/desk", role("198.51.100.0/24", "203.0.113.0/24"))
	for _, id := range []string{"dave", "fay"} {
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": id + "@x", "password": id + "-password",
			"role": "desk", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true})
	}
	from := func(ip, login string) *gateway.Client {
		c, err := gateway.Dial(ctxT(t), "ws://"+addr+"/ws/agent", gateway.ClientOptions{Header: http.Header{"X-Forwarded-For": {ip}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseNow)
		if _, err := c.Hello(ctxT(t), &messages.Hello{Login: login, Password: strings.TrimSuffix(login, "@x") + "-password"}); err != nil {
			t.Fatalf("%s from %s: %v", login, ip, err)
		}
		return c
	}
	ended := func(c *gateway.Client, who string) {
		t.Helper()
		_, err := c.Await(ctxT(t), func(*messages.Envelope) bool { return false })
		if gateway.CloseCode(err) != gateway.CloseLoginHours || !strings.Contains(err.Error(), "allow-list") {
			t.Fatalf("%s: the socket ended with %v (%v), want %d and the reason", who, gateway.CloseCode(err), err, gateway.CloseLoginHours)
		}
	}
	stays := func(c *gateway.Client, who string) {
		t.Helper()
		if _, err := c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
			t.Fatalf("%s: the socket that is still allowed: %v", who, err)
		}
	}
	daveOut, daveIn, fayOut := from("198.51.100.7", "dave@x"), from("203.0.113.5", "dave@x"), from("198.51.100.8", "fay@x")

	// The role's allow-list narrows: the sockets outside it end.
	mustAdmin(t, addr, "PUT", "/admin/roles/desk", role("203.0.113.0/24"))
	ended(daveOut, "dave from 198.51.100.7 after the role's change")
	ended(fayOut, "fay from 198.51.100.8 after the role's change")
	stays(daveIn, "dave from 203.0.113.5")

	// The agent's own allow-list narrows further.
	mustAdmin(t, addr, "PUT", "/admin/agents/dave", map[string]any{"login": "dave@x", "role": "desk",
		"departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true,
		"access": map[string]any{"ip_allow": []string{"203.0.113.200/32"}}})
	ended(daveIn, "dave from 203.0.113.5 after his own change")
}
