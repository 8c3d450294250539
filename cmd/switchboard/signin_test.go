package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The sign-in settings through the admin API: secrets are write-only, the
// login page learns the methods and labels only, a setting whose server
// does not answer is refused at save time and stores nothing, and
// password accounts keep working whatever the directory settings.
func TestSignInSettingsThroughTheAdminAPI(t *testing.T) {
	addr := startBroker(t, t.TempDir()).Addr()
	var methods map[string]any
	getJSON(t, "http://"+addr+"/api/sign-in", &methods)
	if toJSON(methods) != `{"password":true}` {
		t.Fatalf("methods before any setting: %v", toJSON(methods))
	}

	// An LDAP server that does not answer: refused, with the field.
	bad := map[string]any{"ldap": map[string]any{"enabled": true, "url": "ldap://127.0.0.1:1", "bind_dn": "cn=svc,dc=x",
		"bind_password": "svc-secret", "user_base": "ou=people,dc=x", "user_filter": "(uid={login})"}}
	var e messages.Error
	if code := adminProto(t, addr, "PUT", "/admin/sign-in", bad, &e); code != http.StatusBadRequest || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || e.GetField() == "" {
		t.Fatalf("unreachable LDAP server: %d %v", code, &e)
	}
	var stored messages.SignInSettings
	if code := adminProto(t, addr, "GET", "/admin/sign-in", nil, &stored); code != http.StatusOK || stored.GetLdap() != nil {
		t.Fatalf("a refused setting was stored: %d %v", code, &stored)
	}

	// Settings kept but off: stored, the secret never shown again.
	off := map[string]any{"ldap": map[string]any{"url": "ldap://127.0.0.1:1", "bind_password": "svc-secret", "label": "Staff directory"}}
	if code := adminProto(t, addr, "PUT", "/admin/sign-in", off, &stored); code != http.StatusOK || stored.GetLdap().GetBindPassword() != "" {
		t.Fatalf("PUT answered %d %v", code, &stored)
	}
	if code := adminProto(t, addr, "GET", "/admin/sign-in", nil, &stored); code != http.StatusOK ||
		stored.GetLdap().GetLabel() != "Staff directory" || stored.GetLdap().GetBindPassword() != "" {
		t.Fatalf("GET answered %d %v", code, &stored)
	}
	getJSON(t, "http://"+addr+"/api/sign-in", &methods)
	if toJSON(methods) != `{"password":true}` {
		t.Fatalf("methods with LDAP off: %v", toJSON(methods))
	}
	if a := httpLogin(t, addr, "", "alice@demo", "alice-demo-pw"); a.status != http.StatusOK {
		t.Fatalf("a password account cannot log in: %d %v", a.status, a.err)
	}
}

// An account's method decides how it signs in: a password kept from
// before a switch to a directory no longer opens it, and the owner always
// signs in with a password (the directory story sign_in shows that the
// owner cannot hand ownership to a directory account either).
func TestSignInMethodOfAnAccount(t *testing.T) {
	addr := startBroker(t, t.TempDir()).Addr()
	mustAdmin(t, addr, "PUT", "/admin/agents/erin", map[string]any{"login": "erin@demo", "password": "erin-pw-123", "chat_agent": true})
	if a := httpLogin(t, addr, "", "erin@demo", "erin-pw-123"); a.status != http.StatusOK {
		t.Fatalf("password login: %d %v", a.status, a.err)
	}
	mustAdmin(t, addr, "PUT", "/admin/agents/erin", map[string]any{"login": "erin@demo", "sign_in": "oidc", "chat_agent": true})
	if a := httpLogin(t, addr, "", "erin@demo", "erin-pw-123"); a.status != http.StatusUnauthorized {
		t.Fatalf("a single sign-on account opened with its old password: %d %v", a.status, a.err)
	}
	// An edit that leaves the method out keeps it.
	mustAdmin(t, addr, "PUT", "/admin/agents/erin", map[string]any{"login": "erin@demo", "display_name": "Erin", "chat_agent": true})
	var view messages.DirectoryView
	adminProto(t, addr, "GET", "/admin/directory", nil, &view)
	for _, a := range view.GetAgents() {
		if a.GetId() == "erin" && a.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_OIDC {
			t.Fatalf("the edit changed the method: %v", a)
		}
	}
	var e messages.Error
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"login": "erin@demo", "sign_in": "oidc", "password": "new-pw-1234"}, "password"},
		{map[string]any{"login": "erin@demo", "sign_in": "kerberos"}, "sign_in"},
		{map[string]any{"login": "olga@demo", "sign_in": "ldap", "role": "owner"}, "sign_in"},
	} {
		id := "erin"
		if c.body["role"] == "owner" {
			id = "olga"
		}
		if code := adminProto(t, addr, "PUT", "/admin/agents/"+id, c.body, &e); code/100 == 2 || e.GetField() != c.field {
			t.Fatalf("%v: %d %v, want a refusal about %s", c.body, code, &e, c.field)
		}
	}
}

// adminProto calls the admin API and decodes a protojson answer.
func adminProto(t *testing.T, addr, method, path string, body any, out proto.Message) int {
	t.Helper()
	var raw json.RawMessage
	code := admin(t, addr, method, path, body, &raw)
	if len(raw) > 0 {
		if err := protoIn.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return code
}

// getJSON reads a public JSON route.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
}
