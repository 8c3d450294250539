package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/messages"
)

// The LDAP sync: every LDAP account that is not suspended (or that an
// earlier sync suspended) is looked up in the directory as the service
// account. An entry that is gone, disabled or in no mapped group
// suspends the account (its sockets close); a found one updates its
// role, departments, name, email and photo, and lifts a suspension a
// sync made. A directory that does not answer changes nothing: it never
// suspends anyone. It runs every sync_minutes (default 15) while LDAP is on, and
// on POST /admin/sign-in/ldap/sync.

// SyncResult is what a sync did: accounts checked, the ids of those it
// suspended, how many it updated, the ids of those whose suspension by an
// earlier sync it lifted, and how many it could not check. When
// it held back its suspensions (see maxSuspensions), Halted says so and
// WouldSuspend lists whom it would have suspended.
type SyncResult struct {
	Checked      int      `json:"checked"`
	Suspended    []string `json:"suspended"`
	Updated      int      `json:"updated"`
	Errors       int      `json:"errors"`
	Reinstated   []string `json:"reinstated,omitempty"`
	Halted       bool     `json:"halted,omitempty"`
	WouldSuspend []string `json:"would_suspend,omitempty"`
}

// defaultSyncMinutes is LdapSettings.sync_minutes' default.
const defaultSyncMinutes = 15

// syncTick is how often the periodic sync looks at the settings (their
// interval may change at any time).
const syncTick = time.Minute

// syncActor is who the audit log says ran the periodic sync.
const syncActor = "@ldap-sync"

// syncRun is one sync: from where and by whom (the administrator's id, or
// syncActor), and whether a mass suspension is forced.
type syncRun struct {
	addr, by string
	force    bool
}

// maxSuspensions is how many accounts one sync suspends unless forced. A
// settings mistake that still passes the save-time check (a wrong but
// existing user base, a filter on another attribute than the login, a
// mistyped group) makes every lookup come back "not found" or "no
// group"; the sync must not then lock everyone out. Above 3 accounts and
// a quarter of those checked, it suspends nobody, audits
// signin.sync.halted, and an administrator who means it runs
// POST /admin/sign-in/ldap/sync?force=true.
func maxSuspensions(checked int) int { return max(3, checked/4) }

func (s *Server) postLDAPSync(w http.ResponseWriter, r *http.Request) {
	force := r.URL.Query().Get("force")
	if force != "" && force != "true" && force != "false" {
		writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "force", "force is true or false"))
		return
	}
	run := syncRun{addr: s.clientAddr(r), by: caller(r), force: force == "true"}
	res, e := s.syncLDAP(r.Context(), run)
	if e != nil {
		s.audit(run.addr, "signin.sync", run.by, "", e.GetMessage(), false)
		writeError(w, e)
		return
	}
	s.audit(run.addr, "signin.sync", run.by, "", fmt.Sprintf("checked %d, suspended %d, updated %d, errors %d, halted %t, forced %t",
		res.Checked, len(res.Suspended), res.Updated, res.Errors, res.Halted, run.force), true)
	writeJSON(w, http.StatusOK, res)
}

// startLDAPSync runs the periodic sync until stop is called (Shutdown);
// stop waits for a sync under way to end. It waits on the broker's clock,
// so a test's clock drives it.
func (s *Server) startLDAPSync() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := s.b.Now()
		for {
			wake := make(chan struct{})
			stopTimer := s.b.AfterFunc(syncTick, func() { close(wake) })
			select {
			case <-ctx.Done():
				stopTimer()
				return
			case <-wake:
			}
			if now := s.b.Now(); s.ldapSyncDue(last, now) {
				last = now
				s.periodicSync(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// periodicSync is one run of the periodic sync, told to the log.
func (s *Server) periodicSync(ctx context.Context) {
	res, e := s.syncLDAP(ctx, syncRun{by: syncActor})
	if e != nil {
		s.log.Warn("ldap sync", "error", e.GetMessage())
		return
	}
	s.log.Info("ldap sync", "checked", res.Checked, "suspended", len(res.Suspended), "updated", res.Updated,
		"errors", res.Errors, "halted", res.Halted)
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
// a time): it updates what changed at once, and suspends those the
// directory no longer lets in, unless there are too many of them.
func (s *Server) syncLDAP(ctx context.Context, run syncRun) (SyncResult, *messages.Error) {
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
	var gone []suspension
	for _, a := range view.GetAgents() {
		if a.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_LDAP || (a.GetSuspended() && !a.GetSuspendedByDirectory()) {
			continue // an administrator's suspension is not the directory's to lift
		}
		if ctx.Err() != nil {
			break
		}
		res.Checked++
		if g, ok := s.syncAccount(ctx, run, dir, x.GetLdap().GetGroups(), a, &res); ok {
			gone = append(gone, g)
		}
	}
	s.suspendGone(ctx, run, gone, &res)
	return res, nil
}

// suspension is an account the directory no longer lets in, and why.
type suspension struct {
	a   *messages.Agent
	why string
}

// suspendGone suspends the accounts a sync found gone, unless there are
// more than maxSuspensions and the run is not forced.
func (s *Server) suspendGone(ctx context.Context, run syncRun, gone []suspension, res *SyncResult) {
	if len(gone) > maxSuspensions(res.Checked) && !run.force {
		res.Halted = true
		for _, g := range gone {
			res.WouldSuspend = append(res.WouldSuspend, g.a.GetId())
		}
		detail := fmt.Sprintf("would suspend %d of %d LDAP accounts; suspended none: check the sign-in settings, or force the sync", len(gone), res.Checked)
		s.audit(run.addr, "signin.sync.halted", run.by, "", detail, false)
		s.log.Warn("ldap sync halted", "would_suspend", len(gone), "checked", res.Checked)
		return
	}
	for _, g := range gone {
		ext := cmp.Or(g.a.GetExternalId(), g.a.GetLogin())
		acc := &messages.ExternalAccount{Method: g.a.GetSignIn(), ExternalId: ext, Login: g.a.GetLogin(), Suspend: true}
		if s.applyExternal(ctx, run.addr, run.by, acc, "ldap sync: "+g.why) != nil {
			res.Errors++
			continue
		}
		res.Suspended = append(res.Suspended, g.a.GetId())
	}
}

// syncAccount looks one account up: it updates a changed one at once, and
// answers a suspension (ok) for one the directory no longer lets in.
func (s *Server) syncAccount(ctx context.Context, run syncRun, dir *signin.LDAP, maps []*messages.GroupMapping, a *messages.Agent, res *SyncResult) (g suspension, ok bool) {
	lctx, cancel := context.WithTimeout(ctx, ldapTimeout)
	defer cancel()
	id, err := dir.Lookup(lctx, a.GetLogin())
	var acc *messages.ExternalAccount
	if err == nil {
		acc, err = signin.Account(id, maps)
	}
	switch {
	case errors.Is(err, signin.ErrNotFound) || errors.Is(err, signin.ErrDisabled) || errors.Is(err, signin.ErrNoGroup):
		return suspension{a: a, why: err.Error()}, !a.GetSuspended()
	case err != nil: // the directory did not answer: nobody is suspended for it
		s.log.Warn("ldap sync: lookup failed", "agent", a.GetId(), "error", err)
		res.Errors++
	case a.GetSuspended(): // suspended by the directory, which lets them in again
		if s.applyExternal(ctx, run.addr, run.by, acc, "ldap sync: the directory lets them in again") != nil {
			res.Errors++
			return
		}
		res.Reinstated = append(res.Reinstated, a.GetId())
	case externalChanged(a, acc):
		if s.applyExternal(ctx, run.addr, run.by, acc, "ldap sync: the directory changed") != nil {
			res.Errors++
			return
		}
		res.Updated++
	}
	return
}

// externalChanged says whether acc would change what a's account holds
// (a sync that changes nothing writes and audits nothing).
func externalChanged(a *messages.Agent, acc *messages.ExternalAccount) bool {
	return a.GetLogin() != acc.GetLogin() || a.GetExternalId() != acc.GetExternalId() || a.GetEmail() != acc.GetEmail() ||
		a.GetDisplayName() != acc.GetDisplayName() || a.GetAvatarUrl() != acc.GetAvatarUrl() || a.GetRole() != acc.GetRole() ||
		!slices.Equal(a.GetDepartments(), acc.GetDepartments()) || a.GetChatAgent() != acc.GetChatAgent()
}
