package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// syncBuffer collects a broker's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The owner rotates the admin credential and the token-signing key: the
// old credential is refused at once, every staff session ends (sockets
// close with 4004) and old resume tokens fail; an administrator may not
// rotate. The rotated credential survives a restart, and the environment
// variable, now ignored, is named in a WARN line.
func TestSecretsRotation(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": "olivia@x", "password": "olivia-password", "role": "owner"})
	owner := loginToken(t, addr, "olivia@x", "olivia-password")
	dana := loginToken(t, addr, "dana@demo", "dana-demo-pw")
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	_, welcome := newVisitor(t, addr, false)
	const both = `{"admin_token":true,"signing_key":true}`

	if code, body := staffHTTP(t, addr, dana, "POST", "/admin/secrets/rotate", both); code != http.StatusForbidden {
		t.Fatalf("an administrator rotating: %d %s", code, body)
	}
	code, body := staffHTTP(t, addr, owner, "POST", "/admin/secrets/rotate", both)
	var out struct {
		AdminToken   string `json:"admin_token"`
		SessionToken string `json:"session_token"`
	}
	if json.Unmarshal([]byte(body), &out); code != http.StatusOK || out.AdminToken == "" || out.SessionToken == "" {
		t.Fatalf("the owner rotating: %d %s", code, body)
	}
	_, err := alice.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseLoggedOut {
		t.Fatalf("alice's socket ended with %v (%v), want %d", code, err, gateway.CloseLoggedOut)
	}
	if code := admin(t, addr, "GET", "/admin/directory", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the old admin credential: %d", code)
	}
	if code, _ := staffHTTP(t, addr, out.AdminToken, "GET", "/admin/directory", ""); code != http.StatusOK {
		t.Fatalf("the new admin credential: %d", code)
	}
	for _, tok := range []string{owner, dana} {
		if code, _ := staffHTTP(t, addr, tok, "GET", "/admin/directory", ""); code != http.StatusUnauthorized {
			t.Fatalf("a session from before the rotation: %d", code)
		}
	}
	if code, _ := staffHTTP(t, addr, out.SessionToken, "GET", "/admin/directory", ""); code != http.StatusOK {
		t.Fatalf("the owner's fresh session: %d", code)
	}
	if _, err := dial(t, addr, "visitor", false).Hello(ctxT(t), &messages.Hello{ResumeToken: welcome.GetResumeToken()}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("a resume token from before the rotation: %v", err)
	}

	// A restart with the old SWITCHBOARD_ADMIN_TOKEN: ignored, and said so.
	m.Close()
	logs := &syncBuffer{}
	m = startBroker(t, dir, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	addr = m.Addr()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "SWITCHBOARD_ADMIN_TOKEN is ignored") {
		t.Fatalf("no WARN about the ignored variable:\n%s", logs)
	}
	if code := admin(t, addr, "GET", "/admin/directory", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the old admin credential after a restart: %d", code)
	}
	if code, _ := staffHTTP(t, addr, out.AdminToken, "GET", "/admin/directory", ""); code != http.StatusOK {
		t.Fatalf("the rotated admin credential after a restart: %d", code)
	}
}

// The admin credential may be limited to addresses, like a staff member.
func TestAdminCredentialAllowList(t *testing.T) {
	elsewhere := startBroker(t, t.TempDir(), func(c *Config) { c.AdminAllow = []string{"10.0.0.0/8"} })
	var e map[string]any
	if code := admin(t, elsewhere.Addr(), "GET", "/admin/directory", nil, &e); code != http.StatusForbidden {
		t.Fatalf("the admin credential from outside its allow-list: %d %v", code, e)
	}
	if code := admin(t, elsewhere.Addr(), "GET", "/api/chats/c0000000000000000000000000000", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the admin credential from outside its allow-list on a chat record: %d", code)
	}
	here := startBroker(t, t.TempDir(), func(c *Config) { c.AdminAllow = []string{"127.0.0.0/8"} })
	if code := admin(t, here.Addr(), "GET", "/admin/directory", nil, nil); code != http.StatusOK {
		t.Fatalf("the admin credential from inside its allow-list: %d", code)
	}
}
