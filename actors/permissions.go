package actors

import (
	"slices"

	"github.com/switchboard-chat/switchboard/messages"
)

// Permissions a role can grant. Every command on a socket or over HTTP is
// checked against the caller's before it has any effect.
const (
	PermLiveChat      = "live_chat"            // live chat module access: without it, no agent socket at all
	PermViewChats     = "chats.view"           // see waiting chats and the chats of one's departments
	PermAcceptChats   = "chats.accept"         // get offers, accept them, pick waiting chats
	PermAutoAccept    = "chats.auto_accept"    // offers become chats without a click
	PermForward       = "chats.forward"        // transfer a chat
	PermInvite        = "chats.invite"         // invite another operator
	PermJoin          = "chats.join"           // join an ongoing chat
	PermJoinInvisible = "chats.join_invisible" // join invisibly
	PermTakeOver      = "chats.take_over"      // take a colleague's chat
	PermChatStatus    = "chats.status"         // change a chat's status
	PermDisplayName   = "profile.display_name" // change one's own display name
	PermSupervise     = "supervise"            // monitor and whisper
	PermManageQueues  = "queues.manage"        // open and close queues, set agents' status
	PermReports       = "reports.view"         // every transcript and the statistics
	PermAdmin         = "admin"                // staff, roles, departments, languages, settings
)

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []string{PermLiveChat, PermViewChats, PermAcceptChats, PermAutoAccept, PermForward, PermInvite,
	PermJoin, PermJoinInvisible, PermTakeOver, PermChatStatus, PermDisplayName, PermSupervise, PermManageQueues,
	PermReports, PermAdmin}

// The built-in roles. There is exactly one owner, who alone can hand
// ownership on; administrators can do everything else; agents handle
// chats.
const (
	RoleOwner         = "owner"
	RoleAdministrator = "administrator"
	RoleAgent         = "agent"
)

// BuiltinRoles are defined here, not stored, and cannot be changed.
var BuiltinRoles = map[string]*messages.Role{
	RoleOwner:         {Id: RoleOwner, Name: "Owner", Permissions: AllPermissions, Builtin: true},
	RoleAdministrator: {Id: RoleAdministrator, Name: "Administrator", Permissions: AllPermissions, Builtin: true},
	RoleAgent: {Id: RoleAgent, Name: "Agent", Builtin: true, Permissions: []string{PermLiveChat, PermViewChats,
		PermAcceptChats, PermAutoAccept, PermForward, PermInvite, PermChatStatus, PermDisplayName}},
}

// RoleOf returns an account's role id ("agent" when none is set).
func RoleOf(a *messages.Agent) string {
	if r := a.GetRole(); r != "" {
		return r
	}
	return RoleAgent
}

// Perms is a set of permissions.
type Perms map[string]bool

// Has reports whether p grants perm.
func (p Perms) Has(perm string) bool { return p[perm] }

// PermsOf resolves a role (built-in, or custom through lookup) to its
// permissions. An unknown role grants nothing.
func PermsOf(roleID string, lookup func(id string) (*messages.Role, error)) (Perms, error) {
	r := BuiltinRoles[roleID]
	if r == nil {
		var err error
		if r, err = lookup(roleID); err != nil {
			return nil, err
		}
	}
	return permsOf(r), nil
}

func permsOf(r *messages.Role) Perms {
	p := Perms{}
	for _, perm := range r.GetPermissions() {
		p[perm] = true
	}
	return p
}

// validPermissions reports the first unknown permission in perms, or "".
func validPermissions(perms []string) string {
	for _, p := range perms {
		if !slices.Contains(AllPermissions, p) {
			return p
		}
	}
	return ""
}
