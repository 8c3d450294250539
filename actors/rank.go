package actors

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// CallerAdmin is AdminCommand.by for the admin credential: the
// installation's break-glass secret, which may do anything the admin API
// offers, the owner's account included (an owner who lost their password
// is let back in with it). It is no valid account id (ValidName refuses
// "@"), so no staff account can pass for it: an account called "admin"
// once could.
const CallerAdmin = "@admin"

// rank is what a staff caller may hand out or touch: a role whose
// permissions are all among their own, and the owner role or the owner's
// account only if they are the owner.
type rank struct {
	owner bool
	perms Perms
	all   bool // the admin credential
}

// callerRank resolves AdminCommand.by against the directory's own copy of
// the accounts and roles.
func (d *directory) callerRank(by string) (rank, *messages.Error) {
	switch by {
	case CallerAdmin:
		return rank{all: true}, nil
	case "":
		return rank{}, errorf(codeForbidden, "an account or role change needs its caller")
	}
	a := d.agents[by]
	if a == nil || a.GetSuspended() {
		return rank{}, errorf(codeForbidden, "%q is not an active staff account", by)
	}
	return rank{owner: RoleOf(a) == RoleOwner, perms: permsOf(d.role(RoleOf(a)))}, nil
}

// role returns a built-in or custom role (nil when unknown).
func (d *directory) role(id string) *messages.Role {
	if r := BuiltinRoles[id]; r != nil {
		return r
	}
	return d.roles[id]
}

// grants reports why r may not give or touch a role holding perms (""
// when it may). owner says the role is the owner's.
func (r rank) grants(owner bool, perms []string) string {
	if r.all {
		return ""
	}
	if owner && !r.owner {
		return "only the owner may change the owner's account or make someone owner"
	}
	for _, p := range perms {
		if !r.perms.Has(Permission(p)) {
			return "your role lacks the permission " + p + "; you cannot give it or change an account or role that has it"
		}
	}
	return ""
}

// target is an account's or role's standing: what a caller must hold to
// touch it.
type target struct {
	owner bool
	perms []string
}

func (d *directory) accountTarget(a *messages.Agent) target {
	return target{owner: RoleOf(a) == RoleOwner, perms: d.role(RoleOf(a)).GetPermissions()}
}

// rankTargets lists what an account or role command touches (the old and
// the new standing); ok is false for every other command.
func (d *directory) rankTargets(m *messages.AdminCommand) (ts []target, ok bool) {
	switch body := m.GetBody().(type) {
	case *messages.AdminCommand_PutAgent:
		if old := d.agents[body.PutAgent.GetId()]; old != nil {
			ts = append(ts, d.accountTarget(old))
		}
		return append(ts, d.accountTarget(body.PutAgent)), true
	case *messages.AdminCommand_DeleteAgent:
		if old := d.agents[body.DeleteAgent]; old != nil {
			ts = append(ts, d.accountTarget(old))
		}
		return ts, true
	case *messages.AdminCommand_PutRole:
		if old := d.roles[body.PutRole.GetId()]; old != nil {
			ts = append(ts, target{perms: old.GetPermissions()})
		}
		return append(ts, target{perms: body.PutRole.GetPermissions()}), true
	case *messages.AdminCommand_DeleteRole:
		if old := d.roles[body.DeleteRole]; old != nil {
			ts = append(ts, target{perms: old.GetPermissions()})
		}
		return ts, true
	case *messages.AdminCommand_PutSignIn:
		// Group mappings hand roles out: the roles they map to, before
		// and after.
		return append(d.mappingTargets(d.signIn), d.mappingTargets(body.PutSignIn)...), true
	}
	return nil, false
}

// mappingTargets are the roles the settings' group mappings give.
func (d *directory) mappingTargets(x *messages.SignInSettings) (ts []target) {
	for _, m := range append(x.GetLdap().GetGroups(), x.GetOidc().GetGroups()...) {
		ts = append(ts, target{perms: d.role(RoleOf(&messages.Agent{Role: m.GetRole()})).GetPermissions()})
	}
	return ts
}

// rankCheck applies the rank rules to an account or role command before
// anything else is checked; it returns nil for other commands and when
// the caller may.
func (d *directory) rankCheck(m *messages.AdminCommand) *messages.Error {
	ts, ok := d.rankTargets(m)
	if !ok {
		return nil
	}
	r, e := d.callerRank(m.GetBy())
	if e != nil {
		return e
	}
	for _, t := range ts {
		if why := r.grants(t.owner, t.perms); why != "" {
			return errorf(codeForbidden, "%s", why)
		}
	}
	return nil
}
