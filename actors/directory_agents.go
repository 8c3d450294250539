package actors

import (
	"cmp"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's staff account commands. The account's agent actor
// reloads it once a change is stored.

// putAgent creates or replaces an account. The checks run in this order,
// so a record with several faults is refused for the first.
func (d *directory) putAgent(x *messages.Agent) (*change, *messages.Error) {
	for _, check := range []func(*messages.Agent) *messages.Error{d.checkAgentFields, d.checkAgentRole, d.checkAgentRefs} {
		if e := check(x); e != nil {
			return nil, e
		}
	}
	if x.GetDisplayName() == "" {
		x.DisplayName = x.GetId()
	}
	prev := ""
	old := d.agents[x.GetId()]
	if old != nil {
		prev = old.GetLogin()
		delete(d.logins, strings.ToLower(prev))
	}
	d.keepSessions(x, old)
	d.agents[x.GetId()] = x
	d.logins[strings.ToLower(x.GetLogin())] = x.GetId()
	return &change{write: func(done func(error)) { d.b.store.PutAgent(x, prev, done) }, notify: agentNames(x.GetId())}, nil
}

// checkAgentFields checks the record on its own.
func (d *directory) checkAgentFields(x *messages.Agent) *messages.Error {
	switch {
	case !ValidName(x.GetId()):
		return refuse("id", codeInvalid, "agent id must be 1-64 of a-z 0-9 - _ .")
	case x.GetLogin() == "" || len(x.GetLogin()) > 254:
		return refuse("login", codeInvalid, "login is required (at most 254 bytes)")
	case x.GetSignIn() == messages.SignInMethod_SIGN_IN_METHOD_PASSWORD && x.GetPasswordHash() == "" && !keepsHash(x, d.agents[x.GetId()]):
		return refuse("password", codeInvalid, "password is required")
	case messages.SignInMethod_name[int32(x.GetSignIn())] == "":
		return refuse("sign_in", codeInvalid, "sign_in is password, ldap or oidc")
	case x.GetMaxChats() > 100:
		return refuse("max_chats", codeInvalid, "max_chats is at most 100")
	case x.GetAvatarUrl() != "" && (!strings.HasPrefix(x.GetAvatarUrl(), "https://") || len(x.GetAvatarUrl()) > 2048):
		return refuse("avatar_url", codeInvalid, "avatar_url must be an https URL of at most 2048 bytes")
	}
	if e := ValidateAccess(x.GetAccess()); e != nil {
		return refuse(nested(e, "access.", ""), codeInvalid, "%s", e.GetMessage())
	}
	if e := ValidateAccess(&messages.AccessRules{LoginHours: x.GetSchedule().GetShifts(), TimeZone: x.GetSchedule().GetTimeZone()}); e != nil {
		return refuse(nested(e, "schedule.", "shifts"), codeInvalid, "schedule: %s", e.GetMessage())
	}
	return nil
}

// checkAgentRole checks the role exists and that there stays one owner,
// who hands ownership on (transferOwner) rather than losing it.
func (d *directory) checkAgentRole(x *messages.Agent) *messages.Error {
	role := RoleOf(x)
	if BuiltinRoles[role] == nil && d.roles[role] == nil {
		return refuse("role", codeInvalid, "no role %q", role)
	}
	if old := d.agents[x.GetId()]; RoleOf(old) == RoleOwner && role != RoleOwner && old != nil {
		return refuse("role", codeConflict, "%s is the owner; the owner hands ownership on (POST /admin/owner)", x.GetId())
	}
	if role == RoleOwner && x.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_PASSWORD {
		return refuse("sign_in", codeConflict, "the owner signs in with a password, so that a broken directory cannot lock the workspace out")
	}
	if role == RoleOwner {
		for _, a := range d.agents {
			if a.GetId() != x.GetId() && RoleOf(a) == RoleOwner {
				return refuse("role", codeConflict, "%s is already the owner; there is one, who hands ownership on (POST /admin/owner)", a.GetId())
			}
		}
	}
	return nil
}

// checkAgentRefs checks the record against the rest of the directory: its
// login is its own, its departments and languages exist.
func (d *directory) checkAgentRefs(x *messages.Agent) *messages.Error {
	if owner, ok := d.logins[strings.ToLower(x.GetLogin())]; ok && owner != x.GetId() {
		return refuse("login", codeConflict, "login %q is taken", x.GetLogin())
	}
	for _, dep := range x.GetDepartments() {
		if d.deps[dep] == nil {
			return refuse("departments", codeInvalid, "no department %q", dep)
		}
	}
	for _, l := range x.GetLanguages() {
		if d.langs[l] == nil {
			return refuse("languages", codeInvalid, "no language %q", l)
		}
	}
	if err := CheckText("display_name", x.GetDisplayName(), MaxNameBytes); err != nil {
		return refuse("display_name", err.GetCode(), "%s", err.GetMessage())
	}
	return nil
}

// keepSessions sets the session fields of x, the new record of old (nil
// for a new account): which of the account's tokens stay valid.
func (d *directory) keepSessions(x, old *messages.Agent) {
	if old != nil {
		x.SessionsAfterMs = max(x.GetSessionsAfterMs(), old.GetSessionsAfterMs())
	}
	if x.GetPasswordHash() == "" && keepsHash(x, old) {
		// No new password: the account keeps its own, as the directory
		// has it now (a hash the caller read earlier could be older than
		// a change made since, and would bring the old password back).
		x.PasswordHash = old.GetPasswordHash()
	}
	if x.GetSignIn() == old.GetSignIn() && x.GetExternalId() == "" {
		// The directory's name and email stay while the method does (an
		// administrator's edit does not carry them).
		x.ExternalId, x.Email = old.GetExternalId(), cmp.Or(x.GetEmail(), old.GetEmail())
	}
	x.SessionEpoch = old.GetSessionEpoch()
	if old == nil || x.GetPasswordHash() != old.GetPasswordHash() || x.GetSignIn() != old.GetSignIn() {
		// A new account starts a new epoch (tokens of an earlier account
		// under the same id stay dead), and a new password or sign-in
		// method ends every session of the old one.
		x.SessionEpoch = d.b.newID('e', d.b.clock.Now())
	}
	if x.GetSuspended() && !old.GetSuspended() {
		// Suspension ends every session: tokens issued before now fail.
		x.SessionsAfterMs = d.b.clock.Now().UnixMilli()
	}
	// Who suspended it: a suspension that goes on keeps its author (an
	// administrator's edit does not carry the flag); a new one is the
	// administrator's unless the directory sets it (externalAccount).
	switch {
	case !x.GetSuspended():
		x.SuspendedByDirectory = false
	case old.GetSuspended():
		x.SuspendedByDirectory = old.GetSuspendedByDirectory()
	}
}

// keepsHash says whether x, the new record of old, keeps old's password
// hash when it brings none: while the method stays (a switch to a
// directory and back needs a new password, not the one from before).
func keepsHash(x, old *messages.Agent) bool {
	return old.GetPasswordHash() != "" && x.GetSignIn() == old.GetSignIn()
}

func (d *directory) setDisplayName(x *messages.DisplayNameChange) (*change, *messages.Error) {
	a := d.agents[x.GetAgentId()]
	name := strings.TrimSpace(x.GetDisplayName())
	switch {
	case a == nil:
		return nil, refuse("", codeNotFound, "no agent %q", x.GetAgentId())
	case name == "":
		return nil, refuse("display_name", codeInvalid, "a display name is 1 to %d bytes of UTF-8", MaxNameBytes)
	}
	if err := CheckText("display_name", name, MaxNameBytes); err != nil {
		return nil, refuse("display_name", err.GetCode(), "%s", err.GetMessage())
	}
	next := proto.Clone(a).(*messages.Agent)
	next.DisplayName = name
	d.agents[next.GetId()] = next
	return &change{write: func(done func(error)) { d.b.store.PutAgentRecords([]*messages.Agent{next}, done) }, notify: agentNames(next.GetId())}, nil
}

func (d *directory) deleteAgent(id string) (*change, *messages.Error) {
	a := d.agents[id]
	if a == nil {
		return nil, refuse("", codeNotFound, "no agent %q", id)
	}
	if RoleOf(a) == RoleOwner {
		return nil, refuse("", codeConflict, "%s is the owner; the owner hands ownership on first", a.GetId())
	}
	delete(d.agents, a.GetId())
	delete(d.canned, "agent/"+a.GetId()) // the store deletes them with the account
	delete(d.logins, strings.ToLower(a.GetLogin()))
	return &change{write: func(done func(error)) { d.b.store.DeleteAgent(a, done) }, notify: agentNames(a.GetId())}, nil
}
