package main

import (
	"net/http"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// An administrator cannot take the owner's account (reset its password,
// suspend or delete it), raise anyone to a role with a permission they
// lack, or edit their own role into more; the owner can change their own
// account; the admin credential (break-glass) may reset the owner's
// password.
func TestAdministratorCannotBecomeOwner(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": "olivia@x", "password": "olivia-password", "role": "owner"})
	mustAdmin(t, addr, "PUT", "/admin/roles/helpdesk", map[string]any{"permissions": []string{"admin", "live_chat"}})
	mustAdmin(t, addr, "PUT", "/admin/agents/hugo", map[string]any{"login": "hugo@x", "password": "hugo-password", "role": "helpdesk"})
	dana := loginToken(t, addr, "dana@demo", "dana-demo-pw") // an administrator
	hugo := loginToken(t, addr, "hugo@x", "hugo-password")   // admin and live_chat only
	owner := func() *messages.Agent { a, _ := m.broker.Agent("olivia"); return a }
	hash := owner().GetPasswordHash()
	// hugo may give his own role to an account he calls "admin": it is a
	// staff account like any, not the admin credential.
	if code, body := staffHTTP(t, addr, hugo, "PUT", "/admin/agents/admin", `{"login":"impostor@x","password":"impostor-password","role":"helpdesk"}`); code != http.StatusOK {
		t.Fatalf("hugo creates the account admin: %d %s", code, body)
	}
	impostor := loginToken(t, addr, "impostor@x", "impostor-password")

	for _, c := range []struct {
		who, tok, method, path, body string
	}{
		{"dana", dana, "PUT", "/admin/agents/olivia", `{"login":"olivia@x","password":"taken-over-pw","role":"owner"}`},
		{"dana", dana, "PUT", "/admin/agents/olivia", `{"login":"olivia@x","role":"owner","suspended":true}`},
		{"dana", dana, "PUT", "/admin/agents/olivia", `{"login":"olivia@x","role":"administrator"}`},
		{"dana", dana, "DELETE", "/admin/agents/olivia", ``},
		{"dana", dana, "PUT", "/admin/agents/eve", `{"login":"eve@x","password":"eve-password","role":"owner"}`},
		{"hugo", hugo, "PUT", "/admin/agents/eve", `{"login":"eve@x","password":"eve-password","role":"administrator"}`},
		{"hugo", hugo, "PUT", "/admin/agents/eve", `{"login":"eve@x","password":"eve-password"}`}, // the agent role has chats.view etc.
		{"hugo", hugo, "PUT", "/admin/agents/dana", `{"login":"dana@demo","password":"taken-over-pw","role":"administrator"}`},
		{"hugo", hugo, "DELETE", "/admin/agents/dana", ``},
		{"hugo", hugo, "PUT", "/admin/roles/helpdesk", `{"permissions":["admin","live_chat","reports.view"]}`},
		{"hugo", hugo, "PUT", "/admin/roles/spy", `{"permissions":["reports.view"]}`},
		{"admin (an account)", impostor, "PUT", "/admin/agents/olivia", `{"login":"olivia@x","password":"taken-over-pw","role":"owner"}`},
		{"admin (an account)", impostor, "POST", "/admin/secrets/rotate", `{"admin_token":true}`},
	} {
		code, body := staffHTTP(t, addr, c.tok, c.method, c.path, c.body)
		if code != http.StatusForbidden {
			t.Errorf("%s: %s %s %s = %d %s, want 403", c.who, c.method, c.path, c.body, code, body)
		}
	}
	if a := owner(); a.GetPasswordHash() != hash || a.GetSuspended() || a.GetRole() != "owner" {
		t.Fatalf("the owner's account changed: %v", a)
	}
	if a, _ := m.broker.Agent("eve"); a != nil {
		t.Fatalf("eve was created: %v", a)
	}
	if r, _ := m.broker.Role(&messages.Agent{Role: "helpdesk"}); len(r.GetPermissions()) != 2 {
		t.Fatalf("hugo's role changed: %v", r)
	}
	// Within their rank they may: hugo gives his own role, edits it to
	// fewer permissions; dana creates an administrator.
	if code, body := staffHTTP(t, addr, hugo, "PUT", "/admin/agents/ivy", `{"login":"ivy@x","password":"ivy-password","role":"helpdesk"}`); code != http.StatusOK {
		t.Fatalf("hugo gives his own role: %d %s", code, body)
	}
	if code, body := staffHTTP(t, addr, dana, "PUT", "/admin/agents/eve", `{"login":"eve@x","password":"eve-password","role":"administrator"}`); code != http.StatusOK {
		t.Fatalf("dana creates an administrator: %d %s", code, body)
	}
	// The owner changes their own account.
	olivia := loginToken(t, addr, "olivia@x", "olivia-password")
	if code, body := staffHTTP(t, addr, olivia, "PUT", "/admin/agents/olivia", `{"login":"olivia@x","display_name":"Olivia O.","role":"owner"}`); code != http.StatusOK {
		t.Fatalf("the owner changes their own account: %d %s", code, body)
	}
	// The admin credential is the break-glass: it resets the owner's password.
	mustAdmin(t, addr, "PUT", "/admin/agents/olivia", map[string]any{"login": "olivia@x", "password": "new-owner-password", "role": "owner"})
	loginToken(t, addr, "olivia@x", "new-owner-password")
}

// A new password ends every session of the account: its sockets close
// with 4004 and its tokens stop working, while a login with the new
// password works.
func TestPasswordChangeEndsSessions(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", false)
	tok := loginToken(t, addr, "alice@demo", "alice-demo-pw")
	putAlice(t, addr, map[string]any{"password": "alice-new-password"})
	_, err := alice.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseLoggedOut {
		t.Fatalf("alice's socket ended with %v (%v), want %d", code, err, gateway.CloseLoggedOut)
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: tok}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("a session from before the password change: %v", err)
	}
	fresh, _ := newAgent(t, addr, "alice@demo", "alice-new-password", false)
	putAlice(t, addr, map[string]any{"display_name": "Alice A."}) // no password: sessions go on
	if _, err := fresh.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil || fresh.Closed() != nil {
		t.Fatalf("a session after the change: %v, %v", err, fresh.Closed())
	}
}

// An account deleted and created again under the same id, with more
// rights, does not bring the old account's tokens back.
func TestRecreatedAccountGetsNoOldTokens(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	old := loginToken(t, addr, "alice@demo", "alice-demo-pw")
	mustAdmin(t, addr, "DELETE", "/admin/agents/alice", nil)
	putAlice(t, addr, map[string]any{"password": "alice-new-password", "role": "administrator"})
	if code, body := staffHTTP(t, addr, old, "GET", "/admin/directory", ""); code != http.StatusUnauthorized {
		t.Fatalf("the deleted account's token on the admin API: %d %s", code, body)
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: old}); errCode(err) != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("the deleted account's token on a socket: %v", err)
	}
}
