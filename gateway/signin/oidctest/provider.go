package oidctest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a staff member the provider knows.
type User struct {
	Username, Password string
	// Name is the display name: the first name, a space, the last name.
	FirstName, LastName string
	Email               string
	Groups              []string
}

// Provider is a real OpenID Provider (zitadel's op package and its
// example storage and login form) serving discovery, keys, authorize,
// login and token endpoints over HTTPS on 127.0.0.1.
type Provider struct {
	// Issuer is https://127.0.0.1:PORT.
	Issuer string
	// CAPEM is the CA that signed the provider's certificate.
	CAPEM string
	store *store
}

// NewProvider starts a provider with users; it stops when the test ends.
func NewProvider(t testing.TB, users ...User) *Provider {
	t.Helper()
	st := &store{clients: map[string]client{}, users: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, u := range users {
		id := "sub-" + u.Username
		st.users[id] = &storage.User{ID: id, Username: u.Username, Password: u.Password,
			FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: true,
			PreferredLanguage: language.English}
		st.groups[id] = slices.Clone(u.Groups)
	}
	st.Storage = storage.NewStorageWithClients(userStore{st}, map[string]*storage.Client{})
	srv, ca := serveTLS(t, func(issuer string) http.Handler {
		return exampleop.SetupServer(issuer, st, nil, false)
	})
	return &Provider{Issuer: srv.URL, CAPEM: ca, store: st}
}

// AddClient registers a confidential web client (client_secret_basic)
// whose one redirect URL is redirectURL.
func (p *Provider) AddClient(id, secret, redirectURL string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.clients[id] = client{Client: storage.WebClient(id, secret, redirectURL), secret: secret}
}

// SetGroups replaces a user's groups (the next ID token carries them).
func (p *Provider) SetGroups(username string, groups ...string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.groups["sub-"+username] = slices.Clone(groups)
}

// Subject is the sub claim the provider gives username.
func Subject(username string) string { return "sub-" + username }

// store is the example storage with its own clients (registered while
// the provider runs) and a groups claim.
type store struct {
	*storage.Storage
	mu      sync.Mutex
	clients map[string]client
	users   map[string]*storage.User // read only after NewProvider
	groups  map[string][]string
}

type client struct {
	*storage.Client
	secret string
}

// webClient lets the groups scope through and puts the profile and email
// claims into the ID token, as Keycloak and Entra ID do.
type webClient struct{ op.Client }

func (webClient) IsScopeAllowed(scope string) bool     { return scope == "groups" }
func (webClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client not found")
	}
	return webClient{c.Client}, nil
}

func (s *store) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; !ok || c.secret != secret {
		return fmt.Errorf("wrong client or secret")
	}
	return nil
}

// SetUserinfoFromRequest adds the groups claim (scope groups) to what the
// example storage puts in the ID token.
func (s *store) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	if slices.Contains(scopes, "groups") {
		s.mu.Lock()
		g := slices.Clone(s.groups[token.GetSubject()])
		s.mu.Unlock()
		ui.AppendClaims("groups", g)
	}
	return nil
}

// userStore is the example storage's view of the users.
type userStore struct{ s *store }

func (u userStore) GetUserByID(id string) *storage.User { return u.s.users[id] }
func (u userStore) ExampleClientID() string             { return "service" }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.s.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}
