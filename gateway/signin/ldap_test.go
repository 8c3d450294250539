package signin

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway/signin/ldaptest"
	"github.com/switchboard-chat/switchboard/messages"
)

func newLDAP(t *testing.T, s *messages.LdapSettings) *LDAP {
	t.Helper()
	l, err := NewLDAP(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// closedURL is an ldap:// URL nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return "ldap://" + l.Addr().String()
}

func TestLDAPAuthenticate(t *testing.T) {
	dir := ldaptest.Start(t)
	ctx := context.Background()
	l := newLDAP(t, dir.Settings())
	id, err := l.Authenticate(ctx, "alice", ldaptest.Password("alice"))
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{Method: messages.SignInMethod_SIGN_IN_METHOD_LDAP, ExternalID: ldaptest.UserDN("alice"), Login: "alice",
		DisplayName: "Alice Archer", Email: "alice@example.com", AvatarURL: "https://example.com/alice.png",
		Groups: []string{ldaptest.GroupDN("support"), "support"}}
	if !equalIdentity(id, want) {
		t.Fatalf("alice: %+v, want %+v", id, want)
	}
	bob, err := l.Authenticate(ctx, "bob", ldaptest.Password("bob"))
	if err != nil || !sameGroups(bob.Groups, ldaptest.GroupDN("support"), "support", ldaptest.GroupDN("hr"), "hr") {
		t.Fatalf("bob: %+v, %v", bob, err)
	}
	// An http photo is no avatar; no group is no error here (the mapping
	// refuses it).
	if dave, err := l.Authenticate(ctx, "dave", ldaptest.Password("dave")); err != nil || dave.AvatarURL != "" || len(dave.Groups) != 0 {
		t.Fatalf("dave: %+v, %v", dave, err)
	}
	for _, c := range []struct{ name, login, password string }{
		{"wrong password", "alice", "wrong"},
		{"another's password", "alice", ldaptest.Password("bob")},
		{"empty password", "alice", ""},
		{"unknown login", "zoe", "x"},
		{"filter metacharacters", "*)(uid=*", ldaptest.Password("alice")},
		{"a wildcard", "*", ldaptest.Password("alice")},
		{"empty login", "", "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := l.Authenticate(ctx, c.login, c.password); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("got %v, want ErrBadCredentials", err)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		if _, err := l.Authenticate(ctx, "carol", ldaptest.Password("carol")); !errors.Is(err, ErrDisabled) {
			t.Fatalf("got %v, want ErrDisabled", err)
		}
	})
	t.Run("memberOf", func(t *testing.T) {
		s := dir.Settings()
		s.GroupFilter, s.GroupBase = "", ""
		bob, err := newLDAP(t, s).Authenticate(ctx, "bob", ldaptest.Password("bob"))
		if err != nil || !sameGroups(bob.Groups, ldaptest.GroupDN("support"), "support", ldaptest.GroupDN("hr"), "hr") {
			t.Fatalf("bob: %+v, %v", bob, err)
		}
	})
	t.Run("service bind refused", func(t *testing.T) {
		s := dir.Settings()
		s.BindPassword = "wrong"
		if _, err := newLDAP(t, s).Authenticate(ctx, "alice", ldaptest.Password("alice")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
	t.Run("anonymous search", func(t *testing.T) {
		s := dir.Settings()
		s.BindDn, s.BindPassword = "", ""
		if _, err := newLDAP(t, s).Authenticate(ctx, "alice", ldaptest.Password("alice")); err != nil {
			t.Fatal(err)
		}
	})
}

// An empty password is refused before anything is sent: even a directory
// that does not answer gives ErrBadCredentials, not ErrUnavailable.
func TestLDAPEmptyPasswordSendsNothing(t *testing.T) {
	l := newLDAP(t, &messages.LdapSettings{Url: closedURL(t), UserBase: "dc=x", UserFilter: "(uid={login})"})
	if _, err := l.Authenticate(context.Background(), "alice", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("got %v, want ErrBadCredentials", err)
	}
	if _, err := l.Authenticate(context.Background(), "alice", "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with a password: got %v, want ErrUnavailable", err)
	}
}

func TestLDAPTLS(t *testing.T) {
	dir := ldaptest.Start(t)
	ctx := context.Background()
	signIn := func(change func(*messages.LdapSettings)) error {
		s := dir.Settings()
		change(s)
		_, err := newLDAP(t, s).Authenticate(ctx, "alice", ldaptest.Password("alice"))
		return err
	}
	if err := signIn(func(s *messages.LdapSettings) { s.Url = dir.LDAPSURL }); err != nil {
		t.Fatalf("ldaps with the CA: %v", err)
	}
	if err := signIn(func(s *messages.LdapSettings) { s.StartTls = true }); err != nil {
		t.Fatalf("StartTLS with the CA: %v", err)
	}
	for name, change := range map[string]func(*messages.LdapSettings){
		"ldaps without the CA":     func(s *messages.LdapSettings) { s.Url, s.CaPem = dir.LDAPSURL, "" },
		"ldaps with another CA":    func(s *messages.LdapSettings) { s.Url, s.CaPem = dir.LDAPSURL, ldaptest.OtherCAPEM(t) },
		"StartTLS with another CA": func(s *messages.LdapSettings) { s.StartTls, s.CaPem = true, ldaptest.OtherCAPEM(t) },
	} {
		t.Run(name, func(t *testing.T) {
			err := signIn(change)
			var verify *tls.CertificateVerificationError
			if !errors.Is(err, ErrUnavailable) || !errors.As(err, &verify) {
				t.Fatalf("got %v, want ErrUnavailable for a certificate", err)
			}
		})
	}
}

// The sync's view: the directory's changes show at the next Lookup, and
// a directory that does not answer is ErrUnavailable, never ErrNotFound.
func TestLDAPLookup(t *testing.T) {
	dir := ldaptest.Start(t)
	ctx := context.Background()
	l := newLDAP(t, dir.Settings())
	bob, err := l.Lookup(ctx, "bob")
	if err != nil || !slices.Contains(bob.Groups, "hr") || bob.DisplayName != "Bob Baker" {
		t.Fatalf("bob: %+v, %v", bob, err)
	}
	dir.RemoveFromGroup(t, "bob", "hr")
	if bob, err = l.Lookup(ctx, "bob"); err != nil || !slices.Equal(bob.Groups, []string{ldaptest.GroupDN("support"), "support"}) {
		t.Fatalf("bob out of hr: %+v, %v", bob, err)
	}
	dir.Delete(t, "dave")
	if _, err := l.Lookup(ctx, "dave"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted dave: %v, want ErrNotFound", err)
	}
	dir.Disable(t, "alice")
	if _, err := l.Lookup(ctx, "alice"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled alice: %v, want ErrDisabled", err)
	}
	if _, err := l.Lookup(ctx, "*)(uid=*"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("metacharacters: %v, want ErrNotFound", err)
	}
	s := dir.Settings()
	s.Url = closedURL(t)
	if _, err := newLDAP(t, s).Lookup(ctx, "bob"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no directory: %v, want ErrUnavailable", err)
	}
	s = dir.Settings()
	s.UserBase = "ou=gone," + ldaptest.Base
	if _, err := newLDAP(t, s).Lookup(ctx, "bob"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no user base: %v, want ErrUnavailable", err)
	}
}

func TestLDAPCheck(t *testing.T) {
	dir := ldaptest.Start(t)
	ctx := context.Background()
	if err := newLDAP(t, dir.Settings()).Check(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		change      func(*messages.LdapSettings)
		field       string
		unavailable bool
	}{
		{"wrong bind password", func(s *messages.LdapSettings) { s.BindPassword = "wrong" }, "ldap.bind_dn", false},
		{"unreachable", func(s *messages.LdapSettings) { s.Url = closedURL(t) }, "ldap.url", true},
		{"another CA", func(s *messages.LdapSettings) { s.Url, s.CaPem = dir.LDAPSURL, ldaptest.OtherCAPEM(t) }, "ldap.ca_pem", false},
		{"StartTLS, another CA", func(s *messages.LdapSettings) { s.StartTls, s.CaPem = true, ldaptest.OtherCAPEM(t) }, "ldap.ca_pem", false},
		{"no such base", func(s *messages.LdapSettings) { s.UserBase = "ou=gone," + ldaptest.Base }, "ldap.user_base", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := dir.Settings()
			c.change(s)
			err := newLDAP(t, s).Check(ctx)
			var e *messages.Error
			if !errors.As(err, &e) || e.GetField() != c.field || errors.Is(err, ErrUnavailable) != c.unavailable {
				t.Fatalf("got %v (field %q), want field %s", err, e.GetField(), c.field)
			}
		})
	}
}

func TestNewLDAP(t *testing.T) {
	for _, c := range []struct {
		name, field string
		s           *messages.LdapSettings
	}{
		{"bad PEM", "ldap.ca_pem", &messages.LdapSettings{Url: "ldaps://x", CaPem: "not a certificate"}},
		{"bad URL", "ldap.url", &messages.LdapSettings{Url: "http://x"}},
	} {
		_, err := NewLDAP(c.s)
		var e *messages.Error
		if !errors.As(err, &e) || e.GetField() != c.field || e.GetCode() != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
			t.Errorf("%s: %v, want INVALID_ARGUMENT on %s", c.name, err, c.field)
		}
	}
	l := newLDAP(t, &messages.LdapSettings{Url: "ldap://x"})
	if l.s.GetLoginAttribute() != "uid" || l.s.GetNameAttribute() != "cn" || l.s.GetEmailAttribute() != "mail" || l.s.GetGroupNameAttribute() != "cn" {
		t.Fatalf("defaults: %v", l.s)
	}
}

func equalIdentity(a, b Identity) bool {
	return a.Method == b.Method && a.ExternalID == b.ExternalID && a.Login == b.Login && a.DisplayName == b.DisplayName &&
		a.Email == b.Email && a.AvatarURL == b.AvatarURL && slices.Equal(a.Groups, b.Groups)
}

// sameGroups: the directory returns groups in its own order.
func sameGroups(got []string, want ...string) bool {
	got = slices.Clone(got)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}
