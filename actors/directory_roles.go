package actors

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's role commands: custom roles and the hand-over of
// ownership. The agents who hold a changed role reload it.

func (d *directory) putRole(x *messages.Role) (*change, *messages.Error) {
	if e := checkRole(x); e != nil {
		return nil, e
	}
	x.Permissions = slices.Compact(slices.Sorted(slices.Values(x.GetPermissions())))
	x.Builtin = false
	if x.GetName() == "" {
		x.Name = x.GetId()
	}
	d.roles[x.GetId()] = x
	c := &change{write: func(done func(error)) { d.b.store.PutRole(x, done) }}
	for _, a := range d.agents {
		if RoleOf(a) == x.GetId() {
			c.notify = append(c.notify, Name{KindAgent, a.GetId()})
		}
	}
	return c, nil
}

func checkRole(x *messages.Role) *messages.Error {
	switch {
	case !ValidName(x.GetId()):
		return refuse("id", codeInvalid, "role id must be 1-64 of a-z 0-9 - _ .")
	case BuiltinRoles[x.GetId()] != nil:
		return refuse("", codeConflict, "%q is a built-in role and cannot be changed", x.GetId())
	}
	if bad := validPermissions(x.GetPermissions()); bad != "" {
		return refuse("permissions", codeInvalid, "unknown permission %q; permissions are %s", bad, strings.Join(permissionNames(AllPermissions), ", "))
	}
	if e := ValidateAccess(x.GetAccess()); e != nil {
		return refuse(nested(e, "access.", ""), codeInvalid, "%s", e.GetMessage())
	}
	return nil
}

func (d *directory) deleteRole(id string) (*change, *messages.Error) {
	switch {
	case BuiltinRoles[id] != nil:
		return nil, refuse("", codeConflict, "%q is a built-in role and cannot be removed", id)
	case d.roles[id] == nil:
		return nil, refuse("", codeNotFound, "no role %q", id)
	}
	for _, a := range d.agents {
		if RoleOf(a) == id {
			return nil, refuse("", codeConflict, "role %q is still given to %s; change theirs first", id, a.GetId())
		}
	}
	if m := d.mappingOf(func(m *messages.GroupMapping) bool { return m.GetRole() == id }); m != "" {
		return nil, refuse("", codeConflict, "role %q is given by the sign-in group mapping of %q; change the mapping first", id, m)
	}
	delete(d.roles, id)
	return &change{write: func(done func(error)) { d.b.store.DeleteRole(id, done) }}, nil
}

// transferOwner makes another account the owner; the owner becomes an
// administrator.
func (d *directory) transferOwner(toID string) (*change, *messages.Error) {
	var owner *messages.Agent
	for _, a := range d.agents {
		if RoleOf(a) == RoleOwner {
			owner = a
		}
	}
	to := d.agents[toID]
	switch {
	case owner == nil:
		return nil, refuse("", codeConflict, "there is no owner yet; give one account the owner role")
	case to == nil:
		return nil, refuse("", codeNotFound, "no agent %q", toID)
	case to.GetSuspended():
		return nil, refuse("", codeConflict, "%s is suspended", to.GetId())
	case to.GetSignIn() != messages.SignInMethod_SIGN_IN_METHOD_PASSWORD || to.GetPasswordHash() == "":
		return nil, refuse("", codeConflict, "%s signs in through a directory; the owner signs in with a password: give the account one first", to.GetId())
	case to.GetId() == owner.GetId():
		return nil, refuse("", codeConflict, "%s is the owner already", to.GetId())
	}
	was, now := proto.Clone(owner).(*messages.Agent), proto.Clone(to).(*messages.Agent)
	was.Role, now.Role = RoleAdministrator, RoleOwner
	d.agents[was.GetId()], d.agents[now.GetId()] = was, now
	return &change{write: func(done func(error)) { d.b.store.PutAgentRecords([]*messages.Agent{was, now}, done) },
		notify: agentNames(was.GetId(), now.GetId())}, nil
}
