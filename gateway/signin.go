package gateway

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/messages"
)

// Directory sign-in: the settings routes, the login page's list of
// methods, and the steps every directory sign-in shares. The clients for
// the directories are in gateway/signin; the rules on accounts are the
// directory actor's (actors/directory_signin.go).

func (s *Server) signInRoutes() {
	s.route("GET /admin/sign-in", s.admin(s.getSignIn))
	s.route("PUT /admin/sign-in", s.admin(s.putSignIn))
	s.route("POST /admin/sign-in/ldap/sync", s.admin(s.postLDAPSync))
	s.route("GET /api/sign-in", s.signInMethods)
	s.oidcRoutes()
}

// signInSettings reads the stored settings, secrets included: for the
// gateway's own use, never for an answer.
func (s *Server) signInSettings() (*messages.SignInSettings, *messages.Error) {
	x, err := s.b.SignIn()
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the sign-in settings now")
	}
	return x, nil
}

// redactSignIn is the settings as an answer shows them: secrets empty.
func redactSignIn(x *messages.SignInSettings) *messages.SignInSettings {
	out := proto.Clone(x).(*messages.SignInSettings)
	if l := out.GetLdap(); l != nil {
		l.BindPassword = ""
	}
	if o := out.GetOidc(); o != nil {
		o.ClientSecret = ""
	}
	return out
}

func (s *Server) getSignIn(w http.ResponseWriter, r *http.Request) {
	x, e := s.signInSettings()
	if e != nil {
		writeError(w, e)
		return
	}
	writeProto(w, http.StatusOK, redactSignIn(x))
}

// putSignIn stores new settings once the servers they name answer: an
// unreachable server or a bad certificate is refused at save time, and
// nothing changes (password sign-in is never affected).
func (s *Server) putSignIn(w http.ResponseWriter, r *http.Request) {
	x := &messages.SignInSettings{}
	if !readResource(w, r, x, func() string { return "" }) {
		return
	}
	if e := s.probeSignIn(r.Context(), x); e != nil {
		s.audit(s.clientAddr(r), "admin.signin.put", caller(r), "", e.GetMessage(), false)
		writeError(w, e)
		return
	}
	if s.runAdmin(w, r, &messages.AdminCommand{Body: &messages.AdminCommand_PutSignIn{PutSignIn: x}}) {
		writeProto(w, http.StatusOK, redactSignIn(x))
	}
}

// probeTimeout bounds the save-time check of each directory server.
const probeTimeout = 10 * time.Second

// probeSignIn tries each enabled method's server with the settings (the
// stored secrets where the body leaves them empty).
func (s *Server) probeSignIn(ctx context.Context, x *messages.SignInSettings) *messages.Error {
	if !x.GetLdap().GetEnabled() && !x.GetOidc().GetEnabled() {
		return nil
	}
	old, e := s.signInSettings()
	if e != nil {
		return e
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	// The servers are tried with the secrets the directory would keep:
	// never a stored one for a changed server.
	x = proto.Clone(x).(*messages.SignInSettings)
	actors.KeepSecrets(x, old)
	if e := actors.CheckSignIn(x); e != nil {
		return e
	}
	if l := x.GetLdap(); l.GetEnabled() {
		dir, err := signin.NewLDAP(l)
		if err == nil {
			err = dir.Check(ctx)
		}
		if err != nil {
			return probeError("ldap.url", "the LDAP settings do not work", err)
		}
	}
	if o := x.GetOidc(); o.GetEnabled() {
		if _, err := signin.NewOIDC(ctx, o); err != nil {
			return probeError("oidc.issuer", "the OpenID Connect provider cannot be used", err)
		}
	}
	return nil
}

// probeError is a failed save-time check as the caller sees it: the
// client's own typed error, or field and what went wrong.
func probeError(field, what string, err error) *messages.Error {
	return typedOr(err, func(err error) *messages.Error {
		return messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, "%s: %v", what, err)
	})
}

// SignInMethods is GET /api/sign-in: what the login page offers.
type SignInMethods struct {
	Password bool          `json:"password"`
	LDAP     *SignInButton `json:"ldap,omitempty"`
	OIDC     *SignInButton `json:"oidc,omitempty"`
}

// SignInButton is one directory method on the login page.
type SignInButton struct {
	Label string `json:"label"`
	// Start is where the browser goes to sign in (OpenID Connect); LDAP
	// uses the login form.
	Start string `json:"start,omitempty"`
}

// signInMethods is public: the login page reads it before anyone signs in.
// It names the methods and their labels, nothing of their settings.
func (s *Server) signInMethods(w http.ResponseWriter, r *http.Request) {
	x, e := s.signInSettings()
	if e != nil {
		writeError(w, e)
		return
	}
	out := SignInMethods{Password: true}
	if l := x.GetLdap(); l.GetEnabled() {
		out.LDAP = &SignInButton{Label: orDefault(l.GetLabel(), "Sign in with your organisation's account (LDAP)")}
	}
	if o := x.GetOidc(); o.GetEnabled() {
		out.OIDC = &SignInButton{Label: orDefault(o.GetLabel(), "Sign in with single sign-on"), Start: "/api/sign-in/oidc/start"}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// externalSignIn is what every directory sign-in shares once the
// directory said who the staff member is: their groups mapped (none
// mapped: refused), the account created or updated by the directory actor
// (which never takes over another's), a suspended account refused, the
// login hours and allow-lists applied, and the audit log told either way
// with the method and reason. until is when the login window ends.
func (s *Server) externalSignIn(ctx context.Context, addr string, id signin.Identity, maps []*messages.GroupMapping) (a *messages.Agent, until time.Time, e *messages.Error) {
	method := actors.MethodName(id.Method)
	defer func() {
		if e != nil {
			s.audit(addr, "login.refused", auditLogin(id.Login), "", method+": "+e.GetMessage(), false)
		} else {
			s.audit(addr, "login.ok", a.GetId(), "", method+" sign-in", true)
		}
	}()
	acc, err := signin.Account(id, maps)
	if err != nil {
		return nil, time.Time{}, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your directory account is in no group that may use Switchboard")
	}
	if err := s.b.Admin(ctx, &messages.AdminCommand{Body: &messages.AdminCommand_ExternalAccount{ExternalAccount: acc}}); err != nil {
		return nil, time.Time{}, asError(err)
	}
	if a, err = s.b.AgentByLogin(acc.GetLogin()); err != nil || a == nil {
		return nil, time.Time{}, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now")
	}
	if a.GetSuspended() {
		return a, time.Time{}, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "this account is suspended")
	}
	until, e = s.checkAccess(a, addr)
	return a, until, e
}

// applyExternal applies what a sync run by by found (an update, or a
// suspension with Suspend set) and audits it with why. A suspended account's agent
// actor closes its sockets.
func (s *Server) applyExternal(ctx context.Context, addr, by string, acc *messages.ExternalAccount, why string) *messages.Error {
	kind := "signin.sync.update"
	if acc.GetSuspend() {
		kind = "signin.sync.suspend"
	}
	if err := s.b.Admin(ctx, &messages.AdminCommand{Body: &messages.AdminCommand_ExternalAccount{ExternalAccount: acc}}); err != nil {
		e := asError(err)
		s.audit(addr, kind, by, auditLogin(acc.GetLogin()), why+": "+e.GetMessage(), false)
		return e
	}
	s.audit(addr, kind, by, auditLogin(acc.GetLogin()), why, true)
	return nil
}

// asError is an error from the broker as a typed one.
func asError(err error) *messages.Error {
	return typedOr(err, func(err error) *messages.Error {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "%v", err)
	})
}
