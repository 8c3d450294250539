// Package signin talks to the organisation's directory: LDAP (and Active
// Directory) and OpenID Connect providers. It answers who a staff member
// is (an Identity) and maps their groups to a role and departments; the
// directory actor decides what becomes of the account, and the gateway
// applies the rules every sign-in shares (lockouts, login hours,
// allow-lists, audit).
package signin

import (
	"errors"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// Identity is what a directory says of a staff member.
type Identity struct {
	Method messages.SignInMethod
	// ExternalID is the LDAP entry's DN, or "issuer|subject".
	ExternalID  string
	Login       string
	DisplayName string
	Email       string
	// AvatarURL is an https URL, or "".
	AvatarURL string
	// Groups are the staff member's groups: for LDAP each group's DN and
	// its name; for OpenID Connect the groups claim's values.
	Groups []string
}

// The ways a directory says no. Each is wrapped with the details; the
// gateway tells the caller little (a wrong login or password) and the
// audit log everything.
var (
	// ErrBadCredentials: no such login, or a wrong password.
	ErrBadCredentials = errors.New("wrong login or password")
	// ErrNotFound: the directory has no entry for the login (a sync).
	ErrNotFound = errors.New("no directory entry")
	// ErrDisabled: the entry is disabled.
	ErrDisabled = errors.New("the directory entry is disabled")
	// ErrNoGroup: the staff member is in no mapped group.
	ErrNoGroup = errors.New("in no mapped group")
	// ErrUnavailable: the directory did not answer (a temporary error;
	// a sync suspends nobody for it).
	ErrUnavailable = errors.New("the directory did not answer")
	// ErrRefused: the provider's answer failed a check (signature,
	// issuer, audience, expiry, nonce, state).
	ErrRefused = errors.New("the provider's answer was refused")
)

// Account maps an identity's groups with mappings into the account the
// directory actor creates or updates: the first mapping (in order) whose
// group the identity is in gives the role, every such mapping adds its
// departments (each once, in order) and may make them a chat agent. No
// mapped group: ErrNoGroup. Groups compare without case.
func Account(id Identity, mappings []*messages.GroupMapping) (*messages.ExternalAccount, error) {
	in := make(map[string]bool, len(id.Groups))
	for _, g := range id.Groups {
		in[strings.ToLower(g)] = true
	}
	acc := &messages.ExternalAccount{Method: id.Method, ExternalId: id.ExternalID, Login: id.Login,
		DisplayName: id.DisplayName, Email: id.Email, AvatarUrl: id.AvatarURL}
	matched, seen := false, map[string]bool{}
	for _, m := range mappings {
		if !in[strings.ToLower(m.GetGroup())] {
			continue
		}
		if !matched {
			acc.Role, matched = m.GetRole(), true
		}
		acc.ChatAgent = acc.ChatAgent || m.GetChatAgent()
		for _, d := range m.GetDepartments() {
			if !seen[d] {
				seen[d] = true
				acc.Departments = append(acc.Departments, d)
			}
		}
	}
	if !matched {
		return nil, ErrNoGroup
	}
	return acc, nil
}
