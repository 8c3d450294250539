package signin_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/switchboard-chat/switchboard/gateway/signin"
	"github.com/switchboard-chat/switchboard/gateway/signin/oidctest"
	"github.com/switchboard-chat/switchboard/messages"
)

// callback is the relying party's redirect URL in these tests: nothing
// serves it, the flow stops there and takes the code.
const callback = "http://127.0.0.1:1/api/sign-in/oidc/callback"

func atCallback(u *url.URL) bool { return u.Host == "127.0.0.1:1" }

var alice = oidctest.User{Username: "alice", Password: "alice-pw", FirstName: "Alice", LastName: "Liddell",
	Email: "alice@example.test", Groups: []string{"support", "sales"}}

// signIn runs one sign-in through the provider's login form and answers
// Exchange's result.
func signIn(t *testing.T, o *signin.OIDC, caPEM, username, password string) (signin.Identity, error) {
	t.Helper()
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	end, err := oidctest.SignIn(oidctest.HTTPClient(t, caPEM), o.AuthCodeURL(state, nonce, verifier), username, password, atCallback)
	if err != nil {
		t.Fatal(err)
	}
	if got := end.Query().Get("state"); got != state {
		t.Fatalf("state %q, want %q", got, state)
	}
	return o.Exchange(context.Background(), end.Query().Get("code"), verifier, nonce)
}

func TestOIDCCodeFlow(t *testing.T) {
	p := oidctest.NewProvider(t, alice)
	p.AddClient("switchboard", "s3cret", callback)
	o, err := signin.NewOIDC(context.Background(), &messages.OidcSettings{Enabled: true, Issuer: p.Issuer,
		ClientId: "switchboard", ClientSecret: "s3cret", RedirectUrl: callback, CaPem: p.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(o.AuthCodeURL("st", "nn", oauth2.GenerateVerifier()))
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") != "nn" ||
		q.Get("scope") != "openid profile email groups" || q.Get("redirect_uri") != callback {
		t.Fatalf("auth URL %s", u)
	}
	id, err := signIn(t, o, p.CAPEM, "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	want := signin.Identity{Method: messages.SignInMethod_SIGN_IN_METHOD_OIDC, ExternalID: p.Issuer + "|" + oidctest.Subject("alice"),
		Login: "alice", DisplayName: "Alice Liddell", Email: "alice@example.test", Groups: []string{"support", "sales"}}
	if !equalIdentity(id, want) {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	p.SetGroups("alice", "billing")
	if id, err = signIn(t, o, p.CAPEM, "alice", "alice-pw"); err != nil || !slices.Equal(id.Groups, []string{"billing"}) {
		t.Fatalf("second sign-in: %+v %v", id, err)
	}
}

func equalIdentity(a, b signin.Identity) bool {
	return a.Method == b.Method && a.ExternalID == b.ExternalID && a.Login == b.Login && a.DisplayName == b.DisplayName &&
		a.Email == b.Email && a.AvatarURL == b.AvatarURL && slices.Equal(a.Groups, b.Groups)
}

// TestOIDCPKCE: a code exchanged with another verifier is refused by the
// provider.
func TestOIDCPKCE(t *testing.T) {
	p := oidctest.NewProvider(t, alice)
	p.AddClient("switchboard", "s3cret", callback)
	o, err := signin.NewOIDC(context.Background(), &messages.OidcSettings{Issuer: p.Issuer, ClientId: "switchboard",
		ClientSecret: "s3cret", RedirectUrl: callback, CaPem: p.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	end, err := oidctest.SignIn(oidctest.HTTPClient(t, p.CAPEM), o.AuthCodeURL("st", "nn", oauth2.GenerateVerifier()), "alice", "alice-pw", atCallback)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Exchange(context.Background(), end.Query().Get("code"), oauth2.GenerateVerifier(), "nn"); !errors.Is(err, signin.ErrRefused) {
		t.Fatalf("another verifier: %v, want ErrRefused", err)
	}
}

func TestOIDCRefusals(t *testing.T) {
	h := oidctest.NewHostile(t, "switchboard", "mallory", "support")
	o, err := signin.NewOIDC(context.Background(), &messages.OidcSettings{Issuer: h.Issuer, ClientId: "switchboard",
		ClientSecret: "s3cret", RedirectUrl: callback, CaPem: h.CAPEM, GroupsClaim: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mode oidctest.Mode
		why  string // in the error; "": accepted
	}{
		{"valid", oidctest.Valid, ""},
		{"forged", oidctest.Forged, "signature"},
		{"expired", oidctest.Expired, "expired"},
		{"wrong audience", oidctest.WrongAudience, "audience"},
		{"wrong nonce", oidctest.WrongNonce, "nonce"},
		{"no login claim", oidctest.NoLogin, "preferred_username"},
		{"rotated key", oidctest.Rotated, ""},
		{"valid after rotation", oidctest.Valid, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.SetMode(c.mode)
			id, err := signIn(t, o, h.CAPEM, "", "")
			if c.why == "" {
				if err != nil || id.Login != "mallory" || id.ExternalID != h.Issuer+"|hostile-sub" || !slices.Equal(id.Groups, []string{"support"}) {
					t.Fatalf("got %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, signin.ErrRefused) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("got %+v, %v; want ErrRefused for %s", id, err, c.why)
			}
		})
	}
}

func TestNewOIDCFails(t *testing.T) {
	h := oidctest.NewHostile(t, "switchboard", "mallory")
	ctx := context.Background()
	_, err := signin.NewOIDC(ctx, &messages.OidcSettings{Issuer: h.Issuer, ClientId: "x", CaPem: "not a certificate"})
	var e *messages.Error
	if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT || e.GetField() != "oidc.ca_pem" {
		t.Fatalf("bad CA: %v", err)
	}
	// The right server, but its CA not trusted.
	if _, err := signin.NewOIDC(ctx, &messages.OidcSettings{Issuer: h.Issuer, ClientId: "x"}); !errors.Is(err, signin.ErrUnavailable) ||
		!strings.Contains(err.Error(), "oidc.issuer") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted CA: %v", err)
	}
	// Nothing listens there.
	if _, err := signin.NewOIDC(ctx, &messages.OidcSettings{Issuer: "https://127.0.0.1:1", ClientId: "x"}); !errors.Is(err, signin.ErrUnavailable) ||
		!strings.Contains(err.Error(), "oidc.issuer") {
		t.Fatalf("unreachable: %v", err)
	}
	// The discovery document names another issuer.
	if _, err := signin.NewOIDC(ctx, &messages.OidcSettings{Issuer: h.Issuer + "/", ClientId: "x", CaPem: h.CAPEM}); !errors.Is(err, signin.ErrUnavailable) ||
		!strings.Contains(err.Error(), "oidc.issuer") {
		t.Fatalf("issuer mismatch: %v", err)
	}
}

// TestOIDCOneGroup: a groups claim that is one string, or none.
func TestOIDCOneGroup(t *testing.T) {
	h := oidctest.NewHostile(t, "switchboard", "mallory")
	h.SetClaim("groups", "support")
	o, err := signin.NewOIDC(context.Background(), &messages.OidcSettings{Issuer: h.Issuer, ClientId: "switchboard",
		RedirectUrl: callback, CaPem: h.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := signIn(t, o, h.CAPEM, "", ""); err != nil || !slices.Equal(id.Groups, []string{"support"}) {
		t.Fatalf("got %+v, %v", id, err)
	}
	h.SetClaim("groups", nil)
	if id, err := signIn(t, o, h.CAPEM, "", ""); err != nil || len(id.Groups) != 0 {
		t.Fatalf("no groups claim: %+v, %v", id, err)
	}
}
