package actors

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// A role stores permissions as strings; they resolve back to the same
// Permissions, and nothing else is valid.
func TestPermissionsRoundTripThroughRoles(t *testing.T) {
	p := permsOf(&messages.Role{Permissions: permissionNames(AllPermissions)})
	for _, perm := range AllPermissions {
		if !p.Has(perm) {
			t.Errorf("%s lost on the way through a role", perm)
		}
	}
	if bad := validPermissions(permissionNames(AllPermissions)); bad != "" {
		t.Errorf("%q reported unknown", bad)
	}
	if bad := validPermissions([]string{"live_chat", "chats.fly"}); bad != "chats.fly" {
		t.Errorf("validPermissions = %q, want chats.fly", bad)
	}
}

// Which permission each agent command needs.
func TestCommandPermission(t *testing.T) {
	for _, c := range []struct {
		cmd  *messages.SessionCommand
		want Permission
	}{
		{&messages.SessionCommand{Body: &messages.SessionCommand_AcceptOffer{}}, PermAcceptChats},
		{&messages.SessionCommand{Body: &messages.SessionCommand_PickChat{}}, PermAcceptChats},
		{&messages.SessionCommand{Body: &messages.SessionCommand_ListWaiting{}}, PermViewChats},
		{&messages.SessionCommand{Body: &messages.SessionCommand_SetChatStatus{}}, PermChatStatus},
		{&messages.SessionCommand{Body: &messages.SessionCommand_SetDisplayName{}}, PermDisplayName},
		{&messages.SessionCommand{Body: &messages.SessionCommand_ListTransferTargets{}}, PermForward},
		{&messages.SessionCommand{Body: &messages.SessionCommand_InviteAgent{}}, PermInvite},
		{&messages.SessionCommand{Body: &messages.SessionCommand_TakeOver{}}, PermTakeOver},
		{&messages.SessionCommand{Body: &messages.SessionCommand_SetAgentStatus{}}, PermManageQueues},
		{&messages.SessionCommand{Body: &messages.SessionCommand_JoinChat{}}, PermLiveChat}, // checked by the chat
		{&messages.SessionCommand{Body: &messages.SessionCommand_Monitor{}}, PermLiveChat},  // checked in monitor
	} {
		if got := commandPermission(c.cmd); got != c.want {
			t.Errorf("%T needs %s, want %s", c.cmd.GetBody(), got, c.want)
		}
	}
}
