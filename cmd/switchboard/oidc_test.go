package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-chat/switchboard/gateway/signin/oidctest"
	"github.com/switchboard-chat/switchboard/messages"
)

// oidcMappings: the sales team answers chats in sales, the support leads
// administer support.
var oidcMappings = []map[string]any{
	{"group": "sales-team", "role": "agent", "departments": []string{"sales"}, "chat_agent": true},
	{"group": "support-leads", "role": "administrator", "departments": []string{"support"}},
}

// putOIDC turns OpenID Connect on with the provider at issuer (trusting
// caPEM) through PUT /admin/sign-in.
func putOIDC(t *testing.T, addr, issuer, caPEM string) {
	t.Helper()
	mustAdmin(t, addr, "PUT", "/admin/sign-in", map[string]any{"oidc": map[string]any{
		"enabled": true, "issuer": issuer, "client_id": "switchboard", "client_secret": "client-secret",
		"redirect_url": "http://" + addr + "/api/sign-in/oidc/callback", "ca_pem": caPEM,
		"label": "Sign in with Corp SSO", "groups": oidcMappings}})
}

// oidcSignIn runs a sign-in from the broker's start link to the console
// and answers where it landed: ?signin=CODE or ?signin_error=TEXT.
func oidcSignIn(t *testing.T, client *http.Client, addr, username, password string) url.Values {
	t.Helper()
	end, err := oidctest.SignIn(client, "http://"+addr+"/api/sign-in/oidc/start?return=/", username, password,
		func(u *url.URL) bool { return u.Host == addr && u.Path == "/" })
	if err != nil {
		t.Fatal(err)
	}
	return end.Query()
}

// oidcSession trades a one-time code with client's cookies: the status
// and the answer.
func oidcSession(t *testing.T, client *http.Client, addr, code string) (int, map[string]string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"code": code})
	res, err := client.Post("http://"+addr+"/api/sign-in/oidc/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	data, _ := io.ReadAll(res.Body)
	json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// agentByLogin reads an account from the directory, or nil.
func agentByLogin(t *testing.T, addr, login string) *messages.Agent {
	t.Helper()
	var view messages.DirectoryView
	if code := adminProto(t, addr, "GET", "/admin/directory", nil, &view); code != http.StatusOK {
		t.Fatalf("GET /admin/directory: %d", code)
	}
	for _, a := range view.GetAgents() {
		if a.GetLogin() == login {
			return a
		}
	}
	return nil
}

// refusedFor says whether the audit log has (or soon has: entries are
// written without waiting) an OpenID Connect refusal whose detail has why.
func refusedFor(t *testing.T, addr, why string) bool {
	t.Helper()
	return poll(5*time.Second, func() bool {
		for _, e := range auditPage(t, addr, "kind=login.refused") {
			if strings.HasPrefix(e.GetDetail(), "oidc: ") && strings.Contains(e.GetDetail(), why) && !e.GetOk() {
				return true
			}
		}
		return false
	})
}

// oidcBroker starts a broker and a provider with dana (in the sales team)
// and nobody (in no mapped group), OpenID Connect on.
func oidcBroker(t *testing.T) (string, *oidctest.Provider) {
	t.Helper()
	addr := startBroker(t, t.TempDir()).Addr()
	p := oidctest.NewProvider(t,
		oidctest.User{Username: "dana", Password: "dana-pw", FirstName: "Dana", LastName: "Scully", Email: "dana@corp.test", Groups: []string{"sales-team"}},
		oidctest.User{Username: "nobody", Password: "nobody-pw", FirstName: "No", LastName: "Body", Groups: []string{"canteen"}})
	p.AddClient("switchboard", "client-secret", "http://"+addr+"/api/sign-in/oidc/callback")
	putOIDC(t, addr, p.Issuer, p.CAPEM)
	return addr, p
}

// The full code flow through the broker with a real provider: the login
// page offers it, the first sign-in makes the account from the groups,
// the one-time code gives the session once, and the session works on
// the staff socket.
func TestOIDCSignInThroughTheBroker(t *testing.T) {
	addr, p := oidcBroker(t)
	var methods map[string]any
	getJSON(t, "http://"+addr+"/api/sign-in", &methods)
	if got := toJSON(methods["oidc"]); got != `{"label":"Sign in with Corp SSO","start":"/api/sign-in/oidc/start"}` {
		t.Fatalf("GET /api/sign-in: %s", toJSON(methods))
	}
	browser := oidctest.HTTPClient(t, p.CAPEM)
	q := oidcSignIn(t, browser, addr, "dana", "dana-pw")
	if q.Get("signin") == "" || len(q) != 1 {
		t.Fatalf("landed on /?%s", q.Encode())
	}
	// The code is bound to the browser that signed in: sent to someone
	// else (to sign them in as Dana), it gives nothing.
	if other, _ := oidcSession(t, oidctest.HTTPClient(t, p.CAPEM), addr, q.Get("signin")); other != http.StatusUnauthorized {
		t.Fatalf("another browser traded the code: %d", other)
	}
	code, sess := oidcSession(t, browser, addr, q.Get("signin"))
	if code != http.StatusOK || sess["session_token"] == "" || sess["display_name"] != "Dana Scully" || sess["expires_at"] == "" {
		t.Fatalf("session: %d %v", code, sess)
	}
	if again, _ := oidcSession(t, browser, addr, q.Get("signin")); again != http.StatusUnauthorized {
		t.Fatalf("a one-time code worked twice: %d", again)
	}
	a := agentByLogin(t, addr, "dana")
	if a == nil || a.GetId() != sess["agent_id"] || a.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_OIDC ||
		a.GetExternalId() != p.Issuer+"|"+oidctest.Subject("dana") || a.GetEmail() != "dana@corp.test" {
		t.Fatalf("account %v", a)
	}
	if a.GetRole() != "agent" || !slices.Equal(a.GetDepartments(), []string{"sales"}) || !a.GetChatAgent() {
		t.Fatalf("the sales team's mapping was not applied: %v", a)
	}
	c := dial(t, addr, "agent", false)
	w, err := c.Hello(ctxT(t), &messages.Hello{SessionToken: sess["session_token"]})
	if err != nil || w.GetAgentId() != a.GetId() {
		t.Fatalf("the session on /ws/agent: %v %v", w, err)
	}
}

// A later sign-in follows the directory's groups; a user in no mapped
// group is refused, told so, audited, and nothing is made.
func TestOIDCGroupsThroughTheBroker(t *testing.T) {
	addr, p := oidcBroker(t)
	if q := oidcSignIn(t, oidctest.HTTPClient(t, p.CAPEM), addr, "dana", "dana-pw"); q.Get("signin") == "" {
		t.Fatalf("first sign-in landed on /?%s", q.Encode())
	}
	p.SetGroups("dana", "support-leads")
	if q := oidcSignIn(t, oidctest.HTTPClient(t, p.CAPEM), addr, "dana", "dana-pw"); q.Get("signin") == "" {
		t.Fatalf("second sign-in landed on /?%s", q.Encode())
	}
	if a := agentByLogin(t, addr, "dana"); a.GetRole() != "administrator" || !slices.Equal(a.GetDepartments(), []string{"support"}) || a.GetChatAgent() {
		t.Fatalf("after the second sign-in: %v", a)
	}
	q := oidcSignIn(t, oidctest.HTTPClient(t, p.CAPEM), addr, "nobody", "nobody-pw")
	if q.Get("signin") != "" || q.Get("signin_error") != "forbidden" {
		t.Fatalf("a user in no mapped group landed on /?%s", q.Encode())
	}
	if agentByLogin(t, addr, "nobody") != nil || !refusedFor(t, addr, "no group") {
		t.Fatal("a user in no mapped group was made an account, or the refusal was not audited")
	}
}

// noRedirects is a client that trusts the provider, keeps cookies and
// answers redirects instead of following them; get GETs a broker path
// with it and answers the response and its body.
func noRedirects(t *testing.T, caPEM, addr string) func(path string) (*http.Response, []byte) {
	client := oidctest.HTTPClient(t, caPEM)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return func(path string) (*http.Response, []byte) {
		t.Helper()
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
}

// The flow's cookie: sealed, short-lived, kept from scripts; start with
// OpenID Connect off is a typed error; start never sends the browser
// back outside the console.
func TestOIDCStartThroughTheBroker(t *testing.T) {
	addr := startBroker(t, t.TempDir()).Addr()
	p := oidctest.NewProvider(t)
	p.AddClient("switchboard", "client-secret", "http://"+addr+"/api/sign-in/oidc/callback")
	get := noRedirects(t, p.CAPEM, addr)
	var e messages.Error
	res, body := get("/api/sign-in/oidc/start")
	if err := protoIn.Unmarshal(body, &e); err != nil || res.StatusCode != http.StatusNotFound || e.GetCode() != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("start with OpenID Connect off: %d %s", res.StatusCode, body)
	}
	putOIDC(t, addr, p.Issuer, p.CAPEM)
	res, _ = get("/api/sign-in/oidc/start?return=//evil.example/x")
	auth, err := res.Location()
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(auth.String(), p.Issuer+"/") {
		t.Fatalf("start: %d %v", res.StatusCode, auth)
	}
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"sb_oidc=", "Path=/api/sign-in/oidc/", "Max-Age=600", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	state := auth.Query().Get("state")
	if strings.Contains(cookie, "Secure") || state == "" {
		t.Fatalf("cookie %q (state %q): Secure over http, or no state", cookie, state)
	}
	// The cookie is signed: with its value changed, the right state finds
	// no sign-in in progress.
	value := strings.TrimPrefix(strings.Split(cookie, ";")[0], "sb_oidc=")
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/sign-in/oidc/callback?code=x&state="+url.QueryEscape(state), nil)
	flip := map[bool]string{true: "B", false: "A"}[strings.HasPrefix(value, "A")]
	req.AddCookie(&http.Cookie{Name: "sb_oidc", Value: flip + value[1:]}) // the payload changed, its MAC kept
	tampered, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tampered.Body.Close()
	if loc, _ := tampered.Location(); loc == nil || loc.Query().Get("signin_error") != "expired" || !refusedFor(t, addr, "no sign-in in progress") {
		t.Fatalf("a tampered flow cookie was taken: %d %v", tampered.StatusCode, loc)
	}
	// The provider's refusal comes back to the console, not to evil.example.
	res, _ = get("/api/sign-in/oidc/callback?error=access_denied")
	if loc, err := res.Location(); err != nil || loc.Host != addr || loc.Path != "/" {
		t.Fatalf("the callback sent the browser to %v", loc)
	}
}

// A callback whose state is not the cookie's, or without the cookie, is
// refused and audited; the provider's refusal is shown as its code.
func TestOIDCCallbackRefusalsThroughTheBroker(t *testing.T) {
	addr, p := oidcBroker(t)
	get := noRedirects(t, p.CAPEM, addr)
	res, _ := get("/api/sign-in/oidc/start")
	auth, _ := res.Location()
	state := auth.Query().Get("state")
	landing := func(path string) url.Values {
		t.Helper()
		res, _ := get(path)
		loc, err := res.Location()
		if res.StatusCode != http.StatusFound || err != nil || loc.Path != "/" {
			t.Fatalf("callback answered %d %v", res.StatusCode, loc)
		}
		return loc.Query()
	}
	if q := landing("/api/sign-in/oidc/callback?code=x&state=another"); q.Get("signin_error") != "expired" || !refusedFor(t, addr, "state does not match") {
		t.Fatalf("a state mismatch: /?%s", q.Encode())
	}
	// The callback spent the cookie: the right state no longer helps.
	if q := landing("/api/sign-in/oidc/callback?code=x&state=" + url.QueryEscape(state)); q.Get("signin_error") != "expired" || !refusedFor(t, addr, "no sign-in in progress") {
		t.Fatalf("no cookie: /?%s", q.Encode())
	}
	q := landing("/api/sign-in/oidc/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E")
	if q.Get("signin_error") != "provider" || !refusedFor(t, addr, "the provider answered access_denied") {
		t.Fatalf("the provider's refusal: /?%s", q.Encode())
	}
	if agentByLogin(t, addr, "dana") != nil {
		t.Fatal("a refused callback made an account")
	}
}

// A provider whose ID tokens fail a check: refused, audited with the
// reason, and no account is made; the same provider's valid token is let
// in (so the refusals are the checks', not the setup's).
func TestOIDCHostileProviderThroughTheBroker(t *testing.T) {
	addr := startBroker(t, t.TempDir()).Addr()
	h := oidctest.NewHostile(t, "switchboard", "mallory", "sales-team")
	putOIDC(t, addr, h.Issuer, h.CAPEM)
	for _, c := range []struct {
		mode oidctest.Mode
		why  string
	}{
		{oidctest.Forged, "signature"},
		{oidctest.Expired, "expired"},
		{oidctest.WrongAudience, "audience"},
		{oidctest.WrongNonce, "nonce"},
	} {
		h.SetMode(c.mode)
		q := oidcSignIn(t, oidctest.HTTPClient(t, h.CAPEM), addr, "", "")
		if q.Get("signin") != "" || q.Get("signin_error") != "refused" {
			t.Fatalf("%s: landed on /?%s", c.why, q.Encode())
		}
		if agentByLogin(t, addr, "mallory") != nil || !refusedFor(t, addr, c.why) {
			t.Fatalf("%s: an account was made, or the refusal not audited", c.why)
		}
	}
	h.SetMode(oidctest.Valid)
	if q := oidcSignIn(t, oidctest.HTTPClient(t, h.CAPEM), addr, "", ""); q.Get("signin") == "" || agentByLogin(t, addr, "mallory") == nil {
		t.Fatalf("the valid token: /?%s", q.Encode())
	}
}

// Settings whose provider cannot be used are refused at save time with
// the field, and nothing is stored.
func TestOIDCSettingsRefusedAtSaveTime(t *testing.T) {
	addr := startBroker(t, t.TempDir()).Addr()
	h := oidctest.NewHostile(t, "switchboard", "mallory")
	callback := "http://" + addr + "/api/sign-in/oidc/callback"
	for _, c := range []struct {
		name, issuer, ca, field string
	}{
		{"unreachable", "https://127.0.0.1:1", "", "oidc.issuer"},
		{"untrusted certificate", h.Issuer, "", "oidc.issuer"},
		{"bad CA", h.Issuer, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", "oidc.ca_pem"},
	} {
		var e messages.Error
		body := map[string]any{"oidc": map[string]any{"enabled": true, "issuer": c.issuer, "client_id": "switchboard",
			"redirect_url": callback, "ca_pem": c.ca}}
		if code := adminProto(t, addr, "PUT", "/admin/sign-in", body, &e); code != http.StatusBadRequest ||
			e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || e.GetField() != c.field {
			t.Fatalf("%s: %d %v", c.name, code, &e)
		}
		var stored messages.SignInSettings
		if code := adminProto(t, addr, "GET", "/admin/sign-in", nil, &stored); code != http.StatusOK || stored.GetOidc() != nil {
			t.Fatalf("%s: stored %v", c.name, &stored)
		}
	}
	var methods map[string]any
	if getJSON(t, "http://"+addr+"/api/sign-in", &methods); methods["oidc"] != nil {
		t.Fatalf("GET /api/sign-in offers a refused provider: %s", toJSON(methods))
	}
}

// Once in Chromium: the console's login page offers the provider's
// button, the provider's form signs Dana in, and the console lands in the
// desk as Dana with the one-time code gone from the address bar. A
// refusal comes back as text on the login page.
func TestWebConsoleOIDCSignIn(t *testing.T) {
	addr, _ := oidcBroker(t)
	base := "http://" + addr
	pg := newPage(t)
	// The provider's CA is the test's own: this tab trusts it (the broker,
	// which checks the ID token, trusts only that CA).
	if _, err := chromedp.Call(pg.ctx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
		t.Fatal(err)
	}
	pg.navigate(base + "/?signin_error=" + url.QueryEscape("<b>refused</b> by the provider"))
	pg.wait("a fixed message, never the address's text", `document.querySelector("#login-error")?.textContent.includes("answer was refused") &&
		!document.querySelector("#login-error").textContent.includes("refused</b>") && !document.querySelector("#login-error b") && location.search === ""`)
	pg.wait("the single sign-on button", `document.querySelector("#sso-start")?.textContent === "Sign in with Corp SSO"`)
	pg.screenshot("console-login-sso")
	pg.click("#sso-start")
	// Polls do not outlive a navigation; a visible element is waited for
	// across them.
	pg.do("the provider's login form", 15*time.Second, chromedp.WaitVisible(chromedp.CSS(`form[action="/login/username"] #username`)))
	pg.typeIn("#username", "dana", false)
	pg.typeIn("#password", "dana-pw", true)
	pg.do("back on the console", 15*time.Second, chromedp.WaitVisible(chromedp.CSS("#status")))
	pg.wait("the desk to connect", `document.body.dataset.conn === "open"`)
	if href := eval[string](pg, `location.href`); href != base+"/" {
		t.Fatalf("the console is at %s: the one-time code stayed in the address bar", href)
	}
	a := agentByLogin(t, addr, "dana")
	if tok := eval[string](pg, `sessionStorage.getItem("switchboard.session") || ""`); a == nil || !strings.Contains(eval[string](pg, `document.body.innerText`), "Dana Scully") || tok == "" {
		t.Fatalf("the desk is not Dana's (account %v)\n%s", a, pg.dump())
	}
	pg.screenshot("console-oidc-signed-in")
}
