package signin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/switchboard-chat/switchboard/messages"
)

// oidcTimeout bounds every call to the provider: discovery, keys, token.
const oidcTimeout = 10 * time.Second

// defaultOidcScopes are OidcSettings.scopes' default (messages/store.proto).
var defaultOidcScopes = []string{"profile", "email", "groups"}

// OIDC signs staff in through an OpenID Provider with the authorization
// code flow and PKCE. It is safe for concurrent use: it holds the
// provider's discovery document, a key set that fetches the provider's
// keys again when a token names a key it has not seen (key rotation), and
// the settings, none of which change after NewOIDC.
type OIDC struct {
	client   *http.Client
	issuer   string
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	claims   claimNames
}

type claimNames struct{ login, name, email, groups string }

// NewOIDC reads the provider's discovery document (issuer
// /.well-known/openid-configuration) over an HTTPS client that trusts the
// system's roots and s.ca_pem. A bad ca_pem is an INVALID_ARGUMENT
// *messages.Error on "oidc.ca_pem"; a provider that does not answer, or
// whose document names another issuer, is an error wrapping
// ErrUnavailable that names "oidc.issuer".
func NewOIDC(ctx context.Context, s *messages.OidcSettings) (*OIDC, error) {
	client, err := oidcHTTPClient(s.GetCaPem())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.GetIssuer())
	if err != nil {
		return nil, fmt.Errorf("%w: oidc.issuer %q: discovery: %v", ErrUnavailable, s.GetIssuer(), err)
	}
	scopes := s.GetScopes()
	if len(scopes) == 0 {
		scopes = defaultOidcScopes
	}
	return &OIDC{
		client: client,
		issuer: s.GetIssuer(),
		oauth: oauth2.Config{
			ClientID: s.GetClientId(), ClientSecret: s.GetClientSecret(),
			Endpoint: p.Endpoint(), RedirectURL: s.GetRedirectUrl(),
			Scopes: append([]string{oidc.ScopeOpenID}, withoutOpenID(scopes)...),
		},
		verifier: p.Verifier(&oidc.Config{ClientID: s.GetClientId()}),
		claims: claimNames{
			login:  claimOr(s.GetLoginClaim(), "preferred_username"),
			name:   claimOr(s.GetNameClaim(), "name"),
			email:  claimOr(s.GetEmailClaim(), "email"),
			groups: claimOr(s.GetGroupsClaim(), "groups"),
		},
	}, nil
}

// oidcHTTPClient trusts the system's roots and caPEM's certificates.
func oidcHTTPClient(caPEM string) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if strings.TrimSpace(caPEM) != "" && !roots.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "oidc.ca_pem",
			"ca_pem holds no PEM certificate")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	tr.TLSHandshakeTimeout = oidcTimeout
	tr.ResponseHeaderTimeout = oidcTimeout
	return &http.Client{Transport: tr, Timeout: oidcTimeout}, nil
}

// AuthCodeURL is the provider's authorization URL for one sign-in: state
// and nonce are random values the caller keeps, verifier a PKCE verifier
// (oauth2.GenerateVerifier) sent as its S256 challenge.
func (o *OIDC) AuthCodeURL(state, nonce, verifier string) string {
	return o.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// Exchange trades the callback's code (with the PKCE verifier) for the
// provider's tokens, verifies the ID token (signature against the
// provider's keys, issuer, audience, expiry) and its nonce, and maps its
// claims to an Identity. A provider that does not answer: ErrUnavailable;
// any answer that fails a check: ErrRefused. Both are wrapped with the
// reason, which never quotes a token.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client), oidcTimeout)
	defer cancel()
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Identity{}, fmt.Errorf("%w: the token endpoint refused the code: %s %s", ErrRefused, re.ErrorCode, re.ErrorDescription)
		}
		return Identity{}, fmt.Errorf("%w: token endpoint: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: the token response has no id_token", ErrRefused)
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: id_token: %v", ErrRefused, err)
	}
	if nonce == "" || idt.Nonce != nonce {
		return Identity{}, fmt.Errorf("%w: id_token: the nonce is not this sign-in's", ErrRefused)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: id_token claims: %v", ErrRefused, err)
	}
	return o.identity(idt.Issuer, idt.Subject, claims)
}

// identity maps an ID token's claims.
func (o *OIDC) identity(issuer, subject string, claims map[string]any) (Identity, error) {
	login, _ := claims[o.claims.login].(string)
	if strings.TrimSpace(login) == "" {
		return Identity{}, fmt.Errorf("%w: id_token has no %q claim", ErrRefused, o.claims.login)
	}
	if subject == "" {
		return Identity{}, fmt.Errorf("%w: id_token has no subject", ErrRefused)
	}
	name, _ := claims[o.claims.name].(string)
	email, _ := claims[o.claims.email].(string)
	return Identity{
		Method:      messages.SignInMethod_SIGN_IN_METHOD_OIDC,
		ExternalID:  issuer + "|" + subject,
		Login:       login,
		DisplayName: name,
		Email:       email,
		Groups:      claimStrings(claims[o.claims.groups]),
	}, nil
}

// claimStrings reads a claim that is a list of strings or one string;
// anything else is no groups.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func withoutOpenID(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s != oidc.ScopeOpenID {
			out = append(out, s)
		}
	}
	return out
}

func claimOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
