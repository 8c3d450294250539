package signin

// Placeholder until the LDAP client lands (branch signin-ldap): on merge,
// that branch's ldap.go replaces this file whole.

import (
	"context"
	"fmt"

	"github.com/switchboard-chat/switchboard/messages"
)

// LDAP signs staff in against an LDAP directory or Active Directory.
type LDAP struct{ s *messages.LdapSettings }

// NewLDAP checks the settings and makes a client.
func NewLDAP(s *messages.LdapSettings) (*LDAP, error) { return &LDAP{s: s}, nil }

// Authenticate checks a login and password against the directory.
func (l *LDAP) Authenticate(ctx context.Context, login, password string) (Identity, error) {
	return Identity{}, fmt.Errorf("%w: LDAP is not built yet", ErrUnavailable)
}

// Lookup finds a login's entry as the service account (for the sync).
func (l *LDAP) Lookup(ctx context.Context, login string) (Identity, error) {
	return Identity{}, fmt.Errorf("%w: LDAP is not built yet", ErrUnavailable)
}

// Check tries the settings: connect, bind, search the user base.
func (l *LDAP) Check(ctx context.Context) error {
	return fmt.Errorf("%w: LDAP is not built yet", ErrUnavailable)
}
