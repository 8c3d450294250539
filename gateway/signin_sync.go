package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/messages"
)

// The LDAP sync: every LDAP account that is not suspended is looked up in
// the directory as the service account. An entry that is gone, disabled
// or in no mapped group suspends the account (its sockets close); a
// found one updates its role, departments, name, email and photo. A
// directory that does not answer changes nothing: it never suspends
// anyone. It runs every sync_minutes (default 15) while LDAP is on, and
// on POST /admin/sign-in/ldap/sync.

// SyncResult is what a sync did: accounts checked, the ids of those it
// suspended, how many it updated, and how many it could not check.
type SyncResult struct {
	Checked   int      `json:"checked"`
	Suspended []string `json:"suspended"`
	Updated   int      `json:"updated"`
	Errors    int      `json:"errors"`
}

// defaultSyncMinutes is LdapSettings.sync_minutes' default.
const defaultSyncMinutes = 15

// syncTick is how often the periodic sync looks at the settings (their
// interval may change at any time).
const syncTick = time.Minute

func (s *Server) postLDAPSync(w http.ResponseWriter, r *http.Request) {
	res, e := s.syncLDAP(r.Context(), s.clientAddr(r))
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// startLDAPSync runs the periodic sync until stop is called (Shutdown);
// stop waits for a sync under way to end.
func (s *Server) startLDAPSync() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(syncTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if s.ldapSyncDue(last, now) {
					last = now
					if res, e := s.syncLDAP(ctx, ""); e != nil {
						s.log.Warn("ldap sync", "error", e.GetMessage())
					} else {
						s.log.Info("ldap sync", "checked", res.Checked, "suspended", len(res.Suspended), "updated", res.Updated, "errors", res.Errors)
					}
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// ldapSyncDue: LDAP is on and sync_minutes have passed since last.
func (s *Server) ldapSyncDue(last, now time.Time) bool {
	x, e := s.signInSettings()
	if e != nil || !x.GetLdap().GetEnabled() {
		return false
	}
	every := x.GetLdap().GetSyncMinutes()
	if every == 0 {
		every = defaultSyncMinutes
	}
	return now.Sub(last) >= time.Duration(every)*time.Minute
}

// syncLDAP checks every LDAP account against the directory (one sync at
// a time), addr being who asked ("" for the periodic one).
func (s *Server) syncLDAP(ctx context.Context, addr string) (SyncResult, *messages.Error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	res := SyncResult{Suspended: []string{}}
	x, e := s.signInSettings()
	if e != nil {
		return res, e
	}
	if !x.GetLdap().GetEnabled() {
		return res, errf(messages.ErrorCode_ERROR_CODE_CONFLICT, "LDAP sign-in is off: there is nothing to sync")
	}
	dir, err := signin.NewLDAP(x.GetLdap())
	if err != nil {
		return res, asError(err)
	}
	view, err := s.b.DirectoryView()
	if err != nil {
		return res, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the directory now")
	}
	for _, a := range view.GetAgents() {
		if a.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_LDAP || a.GetSuspended() {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		res.Checked++
		s.syncAccount(ctx, addr, dir, x.GetLdap().GetGroups(), a, &res)
	}
	return res, nil
}

// syncAccount looks one account up and suspends or updates it.
func (s *Server) syncAccount(ctx context.Context, addr string, dir *signin.LDAP, maps []*messages.GroupMapping, a *messages.Agent, res *SyncResult) {
	lctx, cancel := context.WithTimeout(ctx, ldapTimeout)
	defer cancel()
	id, err := dir.Lookup(lctx, a.GetLogin())
	var acc *messages.ExternalAccount
	if err == nil {
		acc, err = signin.Account(id, maps)
	}
	switch {
	case errors.Is(err, signin.ErrNotFound) || errors.Is(err, signin.ErrDisabled) || errors.Is(err, signin.ErrNoGroup):
		ext := a.GetExternalId()
		if ext == "" {
			ext = a.GetLogin()
		}
		acc = &messages.ExternalAccount{Method: a.GetSignIn(), ExternalId: ext, Login: a.GetLogin(), Suspend: true}
		if s.applyExternal(ctx, addr, acc, "ldap sync: "+err.Error()) != nil {
			res.Errors++
			return
		}
		res.Suspended = append(res.Suspended, a.GetId())
	case err != nil: // the directory did not answer: nobody is suspended for it
		s.log.Warn("ldap sync: lookup failed", "agent", a.GetId(), "error", err)
		res.Errors++
	case externalChanged(a, acc):
		if s.applyExternal(ctx, addr, acc, "ldap sync: the directory changed") != nil {
			res.Errors++
			return
		}
		res.Updated++
	}
}

// externalChanged says whether acc would change what a's account holds
// (a sync that changes nothing writes and audits nothing).
func externalChanged(a *messages.Agent, acc *messages.ExternalAccount) bool {
	return a.GetLogin() != acc.GetLogin() || a.GetExternalId() != acc.GetExternalId() || a.GetEmail() != acc.GetEmail() ||
		a.GetDisplayName() != acc.GetDisplayName() || a.GetAvatarUrl() != acc.GetAvatarUrl() || a.GetRole() != acc.GetRole() ||
		!slices.Equal(a.GetDepartments(), acc.GetDepartments()) || a.GetChatAgent() != acc.GetChatAgent()
}
