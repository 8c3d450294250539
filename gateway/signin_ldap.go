package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/messages"
)

// LDAP sign-in goes through the login form (POST /api/login, a staff
// socket's Hello, Basic auth) like a password: the same length caps and
// failed-login guard, then a bind to the directory instead of a hash.

// ldapTimeout bounds one LDAP sign-in (connect, searches, bind).
const ldapTimeout = 10 * time.Second

// ldapFor says whether a login signs in through LDAP: an LDAP account, or
// an unknown login while LDAP is on (its first sign-in makes the
// account). It returns the directory client and the group mappings, or
// nil: a password login (which refuses an LDAP account while LDAP is off).
func (s *Server) ldapFor(login string) (*signin.LDAP, []*messages.GroupMapping) {
	if login == "" {
		return nil, nil
	}
	x, e := s.signInSettings()
	if e != nil || !x.GetLdap().GetEnabled() {
		return nil, nil
	}
	a, err := s.b.AgentByLogin(login)
	if err != nil || (a != nil && a.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_LDAP) {
		return nil, nil
	}
	dir, err := signin.NewLDAP(x.GetLdap())
	if err != nil {
		s.log.Warn("ldap sign-in: the stored settings do not work", "error", err)
		return nil, nil
	}
	return dir, x.GetLdap().GetGroups()
}

// ldapLogin checks a login and password with the directory and signs the
// staff member in. The caller sees "wrong login or password" whatever the
// directory's reason; the audit log gets the reason.
func (s *Server) ldapLogin(dir *signin.LDAP, maps []*messages.GroupMapping, login, password, addr string) (*messages.Agent, time.Time, *messages.Error) {
	bad := errf(messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, "wrong login or password, or expired session")
	refused := func(e *messages.Error, why string) (*messages.Agent, time.Time, *messages.Error) {
		s.audit(addr, "login.refused", auditLogin(login), "", "ldap: "+why, false)
		return nil, time.Time{}, e
	}
	key, now, e := s.beginLogin(login, password, addr)
	if key == "" {
		if e == nil {
			return refused(bad, "no login or password")
		}
		return refused(e, e.GetMessage())
	}
	ctx, cancel := context.WithTimeout(context.Background(), ldapTimeout)
	defer cancel()
	id, err := dir.Authenticate(ctx, login, password)
	switch {
	case errors.Is(err, signin.ErrUnavailable):
		s.logins.cancel(key, addr) // the directory's fault, not a failed login
		return refused(messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the directory did not answer; try again shortly"), err.Error())
	case err != nil:
		return refused(bad, err.Error())
	}
	s.logins.succeeded(key, addr, now)
	return s.externalSignIn(ctx, addr, id, maps)
}
