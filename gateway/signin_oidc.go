package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/messages"
)

// OpenID Connect sign-in for the console: the authorization code flow
// with PKCE. start keeps the flow's state, nonce and PKCE verifier in a
// sealed, short-lived cookie and sends the browser to the provider;
// callback checks the state, trades the code for a verified identity,
// signs the staff member in (externalSignIn) and hands the console a
// one-time code, never the session token itself, in the URL; the console
// trades that code for the session with a POST.

const (
	oidcCookie     = "sb_oidc"
	oidcCodeCookie = "sb_oidc_code"
	oidcCookiePath = "/api/sign-in/oidc/"
	// oidcFlowTTL bounds a sign-in at the provider.
	oidcFlowTTL = 10 * time.Minute
	// handoffTTL bounds the console's one-time code.
	handoffTTL = 60 * time.Second
	// handoffMax bounds the codes kept at once (each is a session).
	handoffMax = 10000
	// oidcCallTimeout bounds the provider's part of a callback.
	oidcCallTimeout = 20 * time.Second
)

// consoleReturn is where a sign-in may send the browser back: a path on
// the broker (the console is at /), never another site ("//host").
var consoleReturn = regexp.MustCompile(`^/([A-Za-z0-9_-][A-Za-z0-9/_-]{0,100})?$`)

// oidcState is the gateway's OpenID Connect state: the client for the
// stored settings (kept while they do not change, so the provider's keys
// stay cached) and the one-time codes waiting for the console.
type oidcState struct {
	mu       sync.Mutex
	settings *messages.OidcSettings
	client   *signin.OIDC
	handoffs map[string]handoff
}

// handoff is a session waiting for the console to take it.
type handoff struct {
	resp loginResponse
	exp  time.Time
}

func (s *Server) oidcRoutes() {
	s.route("GET /api/sign-in/oidc/start", s.oidcStart)
	s.route("GET /api/sign-in/oidc/callback", s.oidcCallback)
	s.route("POST /api/sign-in/oidc/session", s.oidcSession)
}

// oidcClient is the client for the stored settings, or a typed error:
// NOT_FOUND while OpenID Connect is off, UNAVAILABLE while the provider
// does not answer.
func (s *Server) oidcClient(ctx context.Context) (*signin.OIDC, *messages.OidcSettings, *messages.Error) {
	x, e := s.signInSettings()
	if e != nil {
		return nil, nil, e
	}
	o := x.GetOidc()
	if !o.GetEnabled() {
		return nil, nil, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "OpenID Connect sign-in is not enabled")
	}
	st := &s.oidc
	st.mu.Lock()
	if st.client != nil && proto.Equal(st.settings, o) {
		c := st.client
		st.mu.Unlock()
		return c, o, nil
	}
	st.mu.Unlock()
	c, err := signin.NewOIDC(ctx, o)
	if err != nil {
		s.log.Warn("oidc sign-in: the provider cannot be used", "error", err)
		return nil, nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the sign-in provider did not answer; try again shortly")
	}
	st.mu.Lock()
	st.settings, st.client = o, c
	st.mu.Unlock()
	return c, o, nil
}

// oidcStart is GET /api/sign-in/oidc/start?return=/ (the console).
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	ret := r.URL.Query().Get("return")
	if !consoleReturn.MatchString(ret) {
		ret = "/"
	}
	ctx, cancel := context.WithTimeout(r.Context(), oidcCallTimeout)
	defer cancel()
	c, _, e := s.oidcClient(ctx)
	switch {
	case e != nil && e.GetCode() == messages.ErrorCode_ERROR_CODE_NOT_FOUND:
		writeError(w, e)
		return
	case e != nil:
		signInFailed(w, r, ret, e.GetMessage())
		return
	}
	f := oidcFlow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier(), ret: ret}
	now := s.b.Now()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: s.tok.sign("o", f.String(), now.Add(oidcFlowTTL)),
		Path: oidcCookiePath, MaxAge: int(oidcFlowTTL / time.Second), HttpOnly: true, Secure: s.isHTTPS(r),
		SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, c.AuthCodeURL(f.state, f.nonce, f.verifier), http.StatusFound)
}

// oidcCallback is GET /api/sign-in/oidc/callback?code=…&state=… (or
// ?error=… from the provider). Every refusal is audited and sends the
// browser to the login page with a short message.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	addr, q := s.clientAddr(r), r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: oidcCookiePath, MaxAge: -1, HttpOnly: true,
		Secure: s.isHTTPS(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	f, ok := s.oidcFlowOf(r)
	ret := orDefault(f.ret, "/")
	refuse := func(why, shown string) {
		s.audit(addr, "login.refused", "", "", "oidc: "+why, false)
		signInFailed(w, r, ret, shown)
	}
	switch {
	case q.Get("error") != "":
		refuse("the provider answered "+providerErrorCode(q.Get("error")), failedProvider)
		return
	case !ok:
		refuse("no sign-in in progress (the state cookie is missing, forged or expired)", failedExpired)
		return
	case q.Get("state") != f.state:
		refuse("the state does not match this browser's sign-in", failedExpired)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), oidcCallTimeout)
	defer cancel()
	c, o, e := s.oidcClient(ctx)
	if e != nil {
		refuse(e.GetMessage(), failedUnavailable)
		return
	}
	id, err := c.Exchange(ctx, q.Get("code"), f.verifier, f.nonce)
	if err != nil {
		shown := failedRefused
		if errors.Is(err, signin.ErrUnavailable) {
			shown = failedUnavailable
		}
		refuse(err.Error(), shown)
		return
	}
	a, _, e := s.externalSignIn(ctx, addr, id, o.GetGroups())
	if e != nil { // audited by externalSignIn, with the reason
		signInFailed(w, r, ret, failedCodeOf(e))
		return
	}
	now := s.b.Now()
	tok, _ := s.tok.newSession(a.GetId(), a.GetSessionEpoch(), now, s.cfg.SessionTTL)
	code := s.oidc.put(loginResponse{AgentID: a.GetId(), DisplayName: a.GetDisplayName(), SessionToken: tok,
		ExpiresAt: now.Add(s.cfg.SessionTTL).UTC().Format(time.RFC3339)}, now)
	// The code works only with this browser's cookie: a code sent to
	// someone else (to sign them in as the sender) is worth nothing.
	http.SetCookie(w, &http.Cookie{Name: oidcCodeCookie, Value: code, Path: oidcCookiePath, MaxAge: int(handoffTTL / time.Second),
		HttpOnly: true, Secure: s.isHTTPS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, ret+"?signin="+url.QueryEscape(code), http.StatusFound)
}

// What the login page is told when a sign-in fails: a code it turns into
// a fixed message (the reason is the audit log's). The page shows no
// text from the URL, so a link cannot put words on it.
const (
	failedProvider    = "provider"    // the provider refused
	failedExpired     = "expired"     // no sign-in of this browser's in progress
	failedRefused     = "refused"     // the provider's answer failed a check
	failedUnavailable = "unavailable" // the provider did not answer
	failedForbidden   = "forbidden"   // not allowed: no mapped group, suspended, login hours, another's account
)

func failedCodeOf(e *messages.Error) string {
	if e.GetTemporary() {
		return failedUnavailable
	}
	return failedForbidden
}

// oidcSession is POST /api/sign-in/oidc/session {"code":…}: the session a
// callback made, once, within handoffTTL; answered as POST /api/login.
func (s *Server) oidcSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	mine, err := r.Cookie(oidcCodeCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcCodeCookie, Path: oidcCookiePath, MaxAge: -1, HttpOnly: true,
		Secure: s.isHTTPS(r), SameSite: http.SameSiteStrictMode})
	if err != nil || subtle.ConstantTimeCompare([]byte(mine.Value), []byte(req.Code)) != 1 {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "the sign-in code was not made for this browser; sign in again"))
		return
	}
	resp, ok := s.oidc.take(req.Code, s.b.Now())
	if !ok {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "the sign-in code is unknown, used or expired; sign in again"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// put keeps a session for the console under a new one-time code.
func (st *oidcState) put(resp loginResponse, now time.Time) string {
	code := rand.Text()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.handoffs == nil {
		st.handoffs = map[string]handoff{}
	}
	if len(st.handoffs) >= handoffMax/10 {
		for k, h := range st.handoffs {
			if !now.Before(h.exp) {
				delete(st.handoffs, k)
			}
		}
	}
	for k := range st.handoffs {
		if len(st.handoffs) < handoffMax {
			break
		}
		delete(st.handoffs, k)
	}
	st.handoffs[code] = handoff{resp: resp, exp: now.Add(handoffTTL)}
	return code
}

// take removes and answers the session under code, unless it expired.
func (st *oidcState) take(code string, now time.Time) (loginResponse, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	h, ok := st.handoffs[code]
	delete(st.handoffs, code)
	return h.resp, ok && now.Before(h.exp)
}

// signInFailed sends the browser back to the login page with one of the
// failed* codes.
func signInFailed(w http.ResponseWriter, r *http.Request, ret, code string) {
	http.Redirect(w, r, ret+"?signin_error="+code, http.StatusFound)
}

// providerErrorCode is the provider's error code as shown: an OAuth error
// code is a short word; anything else is shown as "error".
func providerErrorCode(s string) string {
	if len(s) > 40 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "error"
	}
	return s
}

// isHTTPS says whether the browser reached the broker over HTTPS: TLS
// here, or a trusted proxy's X-Forwarded-Proto.
func (s *Server) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && s.trusted(host) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// oidcFlow is one sign-in at the provider, kept in the browser's
// sealed cookie: the kind "o" token of tokens (HMAC with the server's
// token key, expiring with the flow), so it is never a session token.
type oidcFlow struct{ state, nonce, verifier, ret string }

// String is the token's id: the parts joined with ":" (none has one but
// the return path, which comes last and never has "|").
func (f oidcFlow) String() string { return f.state + ":" + f.nonce + ":" + f.verifier + ":" + f.ret }

// oidcFlowOf reads the request's flow cookie; false when it is missing,
// forged or expired.
func (s *Server) oidcFlowOf(r *http.Request) (oidcFlow, bool) {
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return oidcFlow{}, false
	}
	id, err := s.tok.verify("o", c.Value, s.b.Now())
	if err != nil {
		return oidcFlow{}, false
	}
	p := strings.SplitN(id, ":", 4)
	if len(p) != 4 || p[0] == "" || p[1] == "" || p[2] == "" || !consoleReturn.MatchString(p[3]) {
		return oidcFlow{}, false
	}
	return oidcFlow{state: p[0], nonce: p[1], verifier: p[2], ret: p[3]}, true
}
