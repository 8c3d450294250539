package ldaptest

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// The fixture's tree is there, memberOf follows the groups, users bind
// with their passwords, and ldaps:// serves a certificate from CAPEM.
func TestTree(t *testing.T) {
	s := Start(t)
	c := s.Conn(t)
	memberOf := func(login string) []string {
		t.Helper()
		r, err := c.Search(ldap.NewSearchRequest(UserDN(login), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"memberOf"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return r.Entries[0].GetAttributeValues("memberOf")
	}
	if got := memberOf("bob"); !slices.Equal(got, []string{GroupDN("support"), GroupDN("hr")}) {
		t.Fatalf("bob's memberOf: %q", got)
	}
	s.RemoveFromGroup(t, "bob", "hr")
	if got := memberOf("bob"); !slices.Equal(got, []string{GroupDN("support")}) {
		t.Fatalf("bob's memberOf after leaving hr: %q", got)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(s.CAPEM))
	tc, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.Bind(UserDN("alice"), Password("alice")); err != nil {
		t.Fatal(err)
	}
	if err := tc.Bind(UserDN("alice"), "wrong"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
}
