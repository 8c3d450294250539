package signin

// Placeholder until the OpenID Connect client lands (branch signin-oidc):
// on merge, that branch's oidc.go replaces this file whole.

import (
	"context"
	"fmt"

	"github.com/switchboard-chat/switchboard/messages"
)

// OIDC signs staff in with an OpenID Connect provider.
type OIDC struct{ s *messages.OidcSettings }

// NewOIDC reads the provider's discovery document.
func NewOIDC(ctx context.Context, s *messages.OidcSettings) (*OIDC, error) {
	return nil, fmt.Errorf("%w: OpenID Connect is not built yet", ErrUnavailable)
}

// AuthCodeURL is where the browser goes to sign in.
func (o *OIDC) AuthCodeURL(state, nonce, verifier string) string { return "" }

// Exchange trades a code for the verified identity.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	return Identity{}, fmt.Errorf("%w: OpenID Connect is not built yet", ErrUnavailable)
}
