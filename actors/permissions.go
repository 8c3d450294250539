package actors

import (
	"slices"

	"github.com/switchboard-chat/switchboard/messages"
)

// Permission is one thing a role can grant. Every command on a socket or
// over HTTP is checked against the caller's before it has any effect.
// Stored roles and the wire carry them as plain strings
// (messages.Role.permissions, Welcome.permissions).
type Permission string

// The permissions.
const (
	PermLiveChat      Permission = "live_chat"            // live chat module access: without it, no agent socket at all
	PermViewChats     Permission = "chats.view"           // see waiting chats and the chats of one's departments
	PermAcceptChats   Permission = "chats.accept"         // get offers, accept them, pick waiting chats
	PermAutoAccept    Permission = "chats.auto_accept"    // offers become chats without a click
	PermForward       Permission = "chats.forward"        // transfer a chat
	PermInvite        Permission = "chats.invite"         // invite another operator
	PermJoin          Permission = "chats.join"           // join an ongoing chat
	PermJoinInvisible Permission = "chats.join_invisible" // join invisibly
	PermTakeOver      Permission = "chats.take_over"      // take a colleague's chat
	PermChatStatus    Permission = "chats.status"         // change a chat's status
	PermReopen        Permission = "chats.reopen"         // reopen a closed chat one may see
	PermAssign        Permission = "chats.assign"         // hand a waiting chat of a department one supervises or manages to a chosen agent
	PermAttach        Permission = "chats.attach"         // send files in one's chats
	PermDisplayName   Permission = "profile.display_name" // change one's own display name
	PermSupervise     Permission = "supervise"            // monitor and whisper
	PermManageQueues  Permission = "queues.manage"        // open and close queues, set agents' status
	PermReports       Permission = "reports.view"         // every transcript and the statistics
	PermAdmin         Permission = "admin"                // staff, roles, departments, languages, settings
	PermTag           Permission = "chats.tag"            // tag and untag chats
	PermCannedOwn     Permission = "canned.personal"      // keep one's own canned replies
	PermEmail         Permission = "chats.email"          // email a visitor from a chat, answer offline messages by email
	// Issue 19: write in as the customer side to the departments of an
	// internal live chat (ask HR or Accounting as a colleague).
	PermLiveChatInternal Permission = "livechat.internal"
)

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []Permission{PermLiveChat, PermViewChats, PermAcceptChats, PermAutoAccept, PermForward, PermInvite,
	PermJoin, PermJoinInvisible, PermTakeOver, PermChatStatus, PermDisplayName, PermSupervise, PermManageQueues,
	PermReports, PermAdmin, PermTag, PermCannedOwn, PermReopen, PermAssign, PermAttach, PermEmail, PermLiveChatInternal}

// permissionNames is ps as the strings roles store.
func permissionNames(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

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
	RoleOwner:         {Id: RoleOwner, Name: "Owner", Permissions: permissionNames(AllPermissions), Builtin: true},
	RoleAdministrator: {Id: RoleAdministrator, Name: "Administrator", Permissions: permissionNames(AllPermissions), Builtin: true},
	RoleAgent: {Id: RoleAgent, Name: "Agent", Builtin: true, Permissions: permissionNames([]Permission{PermLiveChat, PermViewChats,
		PermAcceptChats, PermAutoAccept, PermForward, PermInvite, PermChatStatus, PermDisplayName, PermTag, PermCannedOwn,
		PermReopen, PermAttach, PermEmail, PermLiveChatInternal})},
}

// RoleOf returns an account's role id ("agent" when none is set).
func RoleOf(a *messages.Agent) string {
	if r := a.GetRole(); r != "" {
		return r
	}
	return RoleAgent
}

// Perms is a set of permissions.
type Perms map[Permission]bool

// Has reports whether p grants perm.
func (p Perms) Has(perm Permission) bool { return p[perm] }

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
		p[Permission(perm)] = true
	}
	return p
}

// names is p as the strings a ChatCommand carries, in AllPermissions'
// order.
func (p Perms) names() []string {
	var out []string
	for _, perm := range AllPermissions {
		if p.Has(perm) {
			out = append(out, string(perm))
		}
	}
	return out
}

// validPermissions reports the first unknown permission in perms, or "".
func validPermissions(perms []string) string {
	for _, p := range perms {
		if !slices.Contains(AllPermissions, Permission(p)) {
			return p
		}
	}
	return ""
}

// commandPermission is the permission an agent's session command needs.
func commandPermission(m *messages.SessionCommand) Permission {
	switch m.GetBody().(type) {
	case *messages.SessionCommand_AcceptOffer, *messages.SessionCommand_DeclineOffer, *messages.SessionCommand_PickChat:
		return PermAcceptChats
	case *messages.SessionCommand_ListWaiting:
		return PermViewChats
	case *messages.SessionCommand_SetChatStatus:
		return PermChatStatus
	case *messages.SessionCommand_EmailFromChat:
		return PermEmail
	case *messages.SessionCommand_SetDisplayName:
		return PermDisplayName
	case *messages.SessionCommand_TransferChat, *messages.SessionCommand_ListTransferTargets:
		return PermForward
	case *messages.SessionCommand_InviteAgent:
		return PermInvite
	case *messages.SessionCommand_TakeOver:
		return PermTakeOver
	case *messages.SessionCommand_SetQueueOnline, *messages.SessionCommand_SetAgentStatus:
		return PermManageQueues
	case *messages.SessionCommand_TagChat:
		return PermTag
	case *messages.SessionCommand_ReopenChat:
		return PermReopen
	case *messages.SessionCommand_AssignWaiting:
		return PermAssign
	}
	// JoinChat (chats.join, chats.join_invisible, or an invitation) and
	// Monitor (supervise or queues.manage) are checked where the facts
	// are: by the chat, and in monitor.
	return PermLiveChat
}
