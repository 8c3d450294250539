package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/gateway/signin/ldaptest"
	"github.com/switchboard-chat/switchboard/messages"
)

// LDAP sign-in end to end, against slapd started by the test and the real
// broker: the first sign-in makes the account from the group mappings
// and its session opens a staff socket.
func TestLDAPSignIn(t *testing.T) {
	_, addr := ldapBroker(t)
	var methods map[string]any
	getJSON(t, "http://"+addr+"/api/sign-in", &methods)
	if methods["ldap"] == nil {
		t.Fatalf("the login page does not offer LDAP: %v", methods)
	}
	tok := loginToken(t, addr, "alice", ldaptest.Password("alice"))
	alice := ldapAccount(t, addr, "alice")
	if alice.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_LDAP || alice.GetExternalId() != ldaptest.UserDN("alice") ||
		!isAgentRole(alice.GetRole()) || !slices.Equal(alice.GetDepartments(), []string{"support"}) || !alice.GetChatAgent() ||
		alice.GetDisplayName() != "Alice Archer" || alice.GetEmail() != ldaptest.Email("alice") || alice.GetAvatarUrl() != "https://example.com/alice.png" {
		t.Fatalf("alice's account: %v", alice)
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: tok}); err != nil {
		t.Fatalf("a staff socket with alice's session: %v", err)
	}
	loginToken(t, addr, "bob", ldaptest.Password("bob"))
	if bob := ldapAccount(t, addr, "bob"); bob.GetRole() != "administrator" || !slices.Equal(bob.GetDepartments(), []string{"sales", "support"}) {
		t.Fatalf("bob's account: %v", bob)
	}
}

// Refusals say little to the caller and the reason to the audit log,
// never a password.
func TestLDAPRefusalsAreAudited(t *testing.T) {
	_, addr := ldapBroker(t)
	for _, c := range []struct {
		login, password string
		status          int
		reason          string
	}{
		{"alice", "wrong-password", http.StatusUnauthorized, "refused the password"},
		{"carol", ldaptest.Password("carol"), http.StatusUnauthorized, "disabled"},
		{"dave", ldaptest.Password("dave"), http.StatusForbidden, "no group"},
		{"*)(uid=*", ldaptest.Password("alice"), http.StatusUnauthorized, "no entry"},
		{"alice", "", http.StatusUnauthorized, "no login or password"},
	} {
		if a := httpLogin(t, addr, "", c.login, c.password); a.status != c.status {
			t.Fatalf("%s: %d %v, want %d", c.login, a.status, a.err, c.status)
		}
		awaitAudit(t, addr, "login.refused", c.reason)
	}
	for _, e := range auditPage(t, addr, "limit=200") {
		if strings.Contains(e.GetDetail(), "-secret") || strings.Contains(e.GetDetail(), "wrong-password") {
			t.Fatalf("a password in the audit log: %v", e)
		}
	}
}

// The directory's changes: a changed group changes the role at the next
// sign-in; who left every mapped group is refused at once, and the sync
// suspends them and closes their open socket; a deleted entry is
// suspended too.
func TestLDAPDirectoryChanges(t *testing.T) {
	dir, addr := ldapBroker(t)
	tok := loginToken(t, addr, "alice", ldaptest.Password("alice"))
	ws := dial(t, addr, "agent", false)
	if _, err := ws.Hello(ctxT(t), &messages.Hello{SessionToken: tok}); err != nil {
		t.Fatal(err)
	}
	loginToken(t, addr, "bob", ldaptest.Password("bob"))
	dir.RemoveFromGroup(t, "bob", "hr")
	loginToken(t, addr, "bob", ldaptest.Password("bob"))
	if bob := ldapAccount(t, addr, "bob"); !isAgentRole(bob.GetRole()) || !slices.Equal(bob.GetDepartments(), []string{"support"}) {
		t.Fatalf("bob after leaving hr: %v", bob)
	}

	dir.RemoveFromGroup(t, "alice", "support")
	if a := httpLogin(t, addr, "", "alice", ldaptest.Password("alice")); a.status != http.StatusForbidden {
		t.Fatalf("alice out of every group: %d %v", a.status, a.err)
	}
	alice := ldapAccount(t, addr, "alice")
	if res := ldapSync(t, addr); res.Checked != 2 || !slices.Equal(res.Suspended, []string{alice.GetId()}) || res.Updated != 0 || res.Errors != 0 {
		t.Fatalf("sync: %+v", res)
	}
	_, err := ws.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseSuspended {
		t.Fatalf("alice's socket ended with %v (%v), want %d", code, err, gateway.CloseSuspended)
	}
	if !ldapAccount(t, addr, "alice").GetSuspended() {
		t.Fatal("alice is not suspended")
	}
	awaitAudit(t, addr, "signin.sync.suspend", "in no mapped group")
	// Back in the group: the next sync lifts the suspension it made (her
	// old sessions stay ended); an administrator's suspension of bob is
	// not the sync's to lift.
	dir.AddToGroup(t, "alice", "support")
	bob := ldapAccount(t, addr, "bob")
	mustAdmin(t, addr, "PATCH", "/admin/agents/"+bob.GetId(), map[string]any{"suspended": true})
	if res := ldapSync(t, addr); !slices.Equal(res.Reinstated, []string{alice.GetId()}) || len(res.Suspended) != 0 || res.Checked != 1 {
		t.Fatalf("sync after alice came back: %+v", res)
	}
	if ldapAccount(t, addr, "alice").GetSuspended() || !ldapAccount(t, addr, "bob").GetSuspended() {
		t.Fatal("alice still suspended, or bob's suspension by an administrator lifted")
	}
	if _, err := dial(t, addr, "agent", false).Hello(ctxT(t), &messages.Hello{SessionToken: tok}); err == nil {
		t.Fatal("alice's session from before her suspension works again")
	}
	mustAdmin(t, addr, "PATCH", "/admin/agents/"+bob.GetId(), map[string]any{"suspended": false})
	dir.Delete(t, "bob")
	if res := ldapSync(t, addr); res.Checked != 2 || !slices.Equal(res.Suspended, []string{bob.GetId()}) { // alice is back
		t.Fatalf("sync after bob's entry went: %+v", res)
	}
	awaitAudit(t, addr, "signin.sync.suspend", "no entry")
}

// A directory that does not answer suspends nobody: the sync counts
// errors and changes nothing.
func TestLDAPSyncWithoutTheDirectory(t *testing.T) {
	dir, addr := ldapBroker(t)
	loginToken(t, addr, "alice", ldaptest.Password("alice"))
	dir.Stop()
	if res := ldapSync(t, addr); res.Checked != 1 || len(res.Suspended) != 0 || res.Errors != 1 {
		t.Fatalf("sync without the directory: %+v", res)
	}
	if ldapAccount(t, addr, "alice").GetSuspended() {
		t.Fatal("alice was suspended because the directory did not answer")
	}
}

// A sync that would suspend many accounts at once (here a settings
// mistake: the user base moved, so nobody is found) suspends nobody and
// says so; forced, it suspends them.
func TestLDAPSyncHaltsAMassSuspension(t *testing.T) {
	dir, addr := ldapBroker(t)
	for _, who := range []string{"alice", "bob"} {
		loginToken(t, addr, who, ldaptest.Password(who))
	}
	for _, id := range []string{"erin", "frank"} { // made by an administrator, ahead of their first sign-in
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": id, "sign_in": "ldap", "chat_agent": true})
	}
	wrong := ldapSettings(dir)
	wrong.UserBase = ldaptest.GroupBase // exists, so saving takes it, but holds no user
	putLDAP(t, addr, wrong, http.StatusOK, "")
	res := ldapSync(t, addr, "")
	if res.Checked != 4 || !res.Halted || len(res.WouldSuspend) != 4 || len(res.Suspended) != 0 {
		t.Fatalf("a sync that finds nobody: %+v", res)
	}
	if ldapAccount(t, addr, "alice").GetSuspended() {
		t.Fatal("the halted sync suspended alice")
	}
	awaitAudit(t, addr, "signin.sync.halted", "would suspend 4 of 4")
	if res := ldapSync(t, addr, "?force=true"); len(res.Suspended) != 4 || res.Halted {
		t.Fatalf("the forced sync: %+v", res)
	}
	if !ldapAccount(t, addr, "alice").GetSuspended() {
		t.Fatal("the forced sync did not suspend alice")
	}
	awaitAudit(t, addr, "signin.sync.suspend", "ldap sync")
}

// The periodic sync runs every sync_minutes on the broker's clock: bob,
// taken out of every group, is suspended by it without anyone asking.
func TestLDAPPeriodicSync(t *testing.T) {
	dir := ldaptest.Start(t)
	clock := newFakeClock()
	addr := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock }).Addr()
	settings := ldapSettings(dir)
	settings.SyncMinutes = 5
	putLDAP(t, addr, settings, http.StatusOK, "")
	loginToken(t, addr, "bob", ldaptest.Password("bob"))
	dir.RemoveFromGroup(t, "bob", "support")
	dir.RemoveFromGroup(t, "bob", "hr")
	clock.Advance(4 * time.Minute)
	if ldapAccount(t, addr, "bob").GetSuspended() {
		t.Fatal("the sync ran before sync_minutes")
	}
	eventually(t, "the periodic sync suspends bob", func() bool {
		clock.Advance(time.Minute)
		return ldapAccount(t, addr, "bob").GetSuspended()
	})
	awaitAudit(t, addr, "signin.sync.suspend", "ldap sync")
	// Back in a group, bob's own sign-in lifts the sync's suspension.
	dir.AddToGroup(t, "bob", "support")
	if a := httpLogin(t, addr, "", "bob", ldaptest.Password("bob")); a.status != http.StatusOK || ldapAccount(t, addr, "bob").GetSuspended() {
		t.Fatalf("bob back in support: %d %v", a.status, a.err)
	}
}

// ldapBroker starts slapd and a broker with LDAP sign-in saved.
func ldapBroker(t *testing.T) (*ldaptest.Server, string) {
	dir := ldaptest.Start(t)
	addr := startBroker(t, t.TempDir()).Addr()
	putLDAP(t, addr, ldapSettings(dir), http.StatusOK, "")
	return dir, addr
}

// ldapSync runs POST /admin/sign-in/ldap/sync, with query ("" or
// "?force=true").
func ldapSync(t *testing.T, addr string, query ...string) gateway.SyncResult {
	t.Helper()
	var res gateway.SyncResult
	if code := admin(t, addr, "POST", "/admin/sign-in/ldap/sync"+strings.Join(query, ""), nil, &res); code != http.StatusOK {
		t.Fatalf("sync: %d %+v", code, res)
	}
	return res
}

// Settings whose server does not work are refused at save time with the
// field to fix and store nothing; password accounts log in regardless.
func TestLDAPSettingsRefusedAtSaveTime(t *testing.T) {
	dir := ldaptest.Start(t)
	addr := startBroker(t, t.TempDir()).Addr()
	unreachable := ldapSettings(dir)
	unreachable.Url = "ldap://127.0.0.1:1"
	putLDAP(t, addr, unreachable, http.StatusBadRequest, "ldap.url")
	badCA := ldapSettings(dir)
	badCA.Url, badCA.CaPem = dir.LDAPSURL, ldaptest.OtherCAPEM(t)
	putLDAP(t, addr, badCA, http.StatusBadRequest, "ldap.ca_pem")
	wrongBind := ldapSettings(dir)
	wrongBind.BindPassword = "wrong"
	putLDAP(t, addr, wrongBind, http.StatusBadRequest, "ldap.bind_dn")
	var stored messages.SignInSettings
	if code := adminProto(t, addr, "GET", "/admin/sign-in", nil, &stored); code != http.StatusOK || stored.GetLdap() != nil {
		t.Fatalf("a refused setting was stored: %d %v", code, &stored)
	}
	if a := httpLogin(t, addr, "", "alice@demo", "alice-demo-pw"); a.status != http.StatusOK {
		t.Fatalf("a password account cannot log in: %d %v", a.status, a.err)
	}
	if a := httpLogin(t, addr, "", "alice", ldaptest.Password("alice")); a.status != http.StatusUnauthorized {
		t.Fatalf("an LDAP login with LDAP never saved: %d %v", a.status, a.err)
	}
}

// ldaps:// with the test's own CA, end to end.
func TestLDAPSignInOverLDAPS(t *testing.T) {
	dir := ldaptest.Start(t)
	addr := startBroker(t, t.TempDir()).Addr()
	s := ldapSettings(dir)
	s.Url = dir.LDAPSURL
	putLDAP(t, addr, s, http.StatusOK, "")
	loginToken(t, addr, "alice", ldaptest.Password("alice"))
	if a := ldapAccount(t, addr, "alice"); a.GetExternalId() != ldaptest.UserDN("alice") {
		t.Fatalf("alice over ldaps: %v", a)
	}
}

// The failed-login guard counts LDAP attempts as it counts passwords:
// after five wrong passwords in a row from one address, that address is
// rate limited, even with the right password; spelling the login with
// other case or spaces (which LDAP ignores) does not start a new count.
func TestLDAPFailedLoginsAreLimited(t *testing.T) {
	dir := ldaptest.Start(t)
	clock := newFakeClock()
	addr := startBroker(t, t.TempDir(), behindProxy, func(c *Config) { c.Clock = clock }).Addr()
	putLDAP(t, addr, ldapSettings(dir), http.StatusOK, "")
	const attacker = "203.0.113.66"
	// Spellings the directory takes for the same login share its count.
	spellings := []string{"bob", " bob", "BOB ", "bob  ", "Bob"}
	for i := 1; i <= 5; i++ {
		if a := httpLogin(t, addr, attacker, spellings[i-1], "guess-"+string(rune('a'+i))); a.err.GetCode() != messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
			t.Fatalf("guess %d: %d %v", i, a.status, a.err)
		}
		clock.Advance(6 * time.Second) // past the slow-down of the 3rd and 4th
	}
	a := httpLogin(t, addr, attacker, "bob", ldaptest.Password("bob"))
	if a.status != http.StatusTooManyRequests || a.err.GetCode() != messages.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Fatalf("after 5 wrong LDAP passwords: %d %v, want RATE_LIMITED", a.status, a.err)
	}
	if a := httpLogin(t, addr, "198.51.100.7", "bob", ldaptest.Password("bob")); a.status != http.StatusOK {
		t.Fatalf("bob from his own address: %d %v", a.status, a.err)
	}
}

// Allow-lists (and login hours) apply to a directory sign-in as to a
// password: an administrator limits alice's account to an address range
// and her next LDAP sign-in from elsewhere is refused, with the reason.
func TestLDAPSignInKeepsAccessRules(t *testing.T) {
	_, addr := ldapBroker(t)
	loginToken(t, addr, "alice", ldaptest.Password("alice"))
	id := ldapAccount(t, addr, "alice").GetId() // alice-2: the demo's alice came first
	mustAdmin(t, addr, "PATCH", "/admin/agents/"+id, map[string]any{"access": map[string]any{"ip_allow": []string{"10.0.0.0/8"}}})
	a := httpLogin(t, addr, "", "alice", ldaptest.Password("alice"))
	if a.status != http.StatusForbidden || !strings.Contains(a.err.GetMessage(), "allow-list") {
		t.Fatalf("alice from outside her allow-list: %d %v", a.status, a.err)
	}
	if !ldapAccount(t, addr, "alice").GetChatAgent() || len(ldapAccount(t, addr, "alice").GetAccess().GetIpAllow()) != 1 {
		t.Fatal("the sign-in dropped the account's access rules")
	}
}

// ldapSettings fit the fixture's tree: hr (by name) makes administrators
// of sales, support (by DN) chat agents of support.
func ldapSettings(dir *ldaptest.Server) *messages.LdapSettings {
	s := dir.Settings()
	s.Groups = []*messages.GroupMapping{
		{Group: "hr", Role: "administrator", Departments: []string{"sales"}},
		{Group: ldaptest.GroupDN("support"), Departments: []string{"support"}, ChatAgent: true},
	}
	return s
}

// putLDAP saves s; a refusal must name field.
func putLDAP(t *testing.T, addr string, s *messages.LdapSettings, status int, field string) {
	t.Helper()
	body, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&messages.SignInSettings{Ldap: s})
	if err != nil {
		t.Fatal(err)
	}
	var e messages.Error
	if code := adminProto(t, addr, "PUT", "/admin/sign-in", json.RawMessage(body), &e); code != status || e.GetField() != field {
		t.Fatalf("PUT /admin/sign-in: %d %v, want %d on %q", code, &e, status, field)
	}
}

// ldapAccount is the account with login.
func ldapAccount(t *testing.T, addr, login string) *messages.Agent {
	t.Helper()
	var view messages.DirectoryView
	adminProto(t, addr, "GET", "/admin/directory", nil, &view)
	for _, a := range view.GetAgents() {
		if a.GetLogin() == login {
			return a
		}
	}
	t.Fatalf("no account with login %s", login)
	return nil
}

func isAgentRole(r string) bool { return r == "" || r == "agent" }

// awaitAudit waits for an entry of kind whose detail holds detail (the
// gateway audits without waiting for the write).
func awaitAudit(t *testing.T, addr, kind, detail string) {
	t.Helper()
	eventually(t, kind+" saying "+detail, func() bool {
		return slices.ContainsFunc(auditPage(t, addr, "kind="+kind+"&limit=200"), func(e *messages.AuditEntry) bool {
			return strings.Contains(e.GetDetail(), detail)
		})
	})
}
