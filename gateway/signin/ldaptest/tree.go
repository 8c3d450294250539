package ldaptest

import (
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/switchboard-chat/switchboard/messages"
)

// user is one person of the tree.
type user struct {
	login, name, photo string
	groups             []string
	disabled           bool
}

var users = []user{
	{login: "alice", name: "Alice Archer", photo: "https://example.com/alice.png", groups: []string{"support"}},
	{login: "bob", name: "Bob Baker", groups: []string{"support", "hr"}},
	{login: "carol", name: "Carol Cooper", groups: []string{"support", "hr"}, disabled: true},
	{login: "dave", name: "Dave Dunn", photo: "http://example.com/dave.png"},
}

// Groups are the tree's groups.
var Groups = []string{"support", "hr"}

// Password is a user's password.
func Password(login string) string { return login + "-secret" }

// UserDN and GroupDN are an entry's DN.
func UserDN(login string) string { return "uid=" + ldap.EscapeDN(login) + "," + PeopleBase }
func GroupDN(name string) string { return "cn=" + ldap.EscapeDN(name) + "," + GroupBase }
func Email(login string) string  { return login + "@example.com" }

// Settings are LDAP settings that fit the tree over URL, binding as the
// root DN, with group_filter (groups searched) and the disabled filter;
// photo from labeledURI. Change a copy as a test needs.
func (s *Server) Settings() *messages.LdapSettings {
	return &messages.LdapSettings{
		Enabled: true, Url: s.URL, CaPem: s.CAPEM,
		BindDn: RootDN, BindPassword: RootPassword,
		UserBase: PeopleBase, UserFilter: UserFilter, DisabledFilter: DisabledFilter,
		GroupBase: GroupBase, GroupFilter: GroupFilter, PhotoAttribute: "labeledURI",
	}
}

// Conn is a connection bound as the root DN, closed at t.Cleanup.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(RootDN, RootPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// addTree adds the base, the two units, the users and the groups.
func (s *Server) addTree(t testing.TB) {
	t.Helper()
	c := s.Conn(t)
	add := func(dn string, attrs map[string][]string) {
		r := ldap.NewAddRequest(dn, nil)
		for _, a := range sortedKeys(attrs) {
			r.Attribute(a, attrs[a])
		}
		if err := c.Add(r); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	add(Base, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"example"}, "o": {"Example"}})
	add(PeopleBase, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"people"}})
	add(GroupBase, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"groups"}})
	members := map[string][]string{}
	for _, u := range users {
		attrs := map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {u.login}, "cn": {u.name},
			"sn": {u.name}, "mail": {Email(u.login)}, "userPassword": {Password(u.login)}}
		if u.photo != "" {
			attrs["labeledURI"] = []string{u.photo}
		}
		if u.disabled {
			attrs["employeeType"] = []string{"disabled"}
		}
		add(UserDN(u.login), attrs)
		for _, g := range u.groups {
			members[g] = append(members[g], UserDN(u.login))
		}
	}
	for _, g := range Groups {
		add(GroupDN(g), map[string][]string{"objectClass": {"groupOfNames"}, "cn": {g}, "member": members[g]})
	}
}

// RemoveFromGroup takes login out of group (a group keeps at least one
// member: carol stays in both).
func (s *Server) RemoveFromGroup(t testing.TB, login, group string) {
	t.Helper()
	s.modify(t, GroupDN(group), func(r *ldap.ModifyRequest) { r.Delete("member", []string{UserDN(login)}) })
}

// AddToGroup puts login into group.
func (s *Server) AddToGroup(t testing.TB, login, group string) {
	t.Helper()
	s.modify(t, GroupDN(group), func(r *ldap.ModifyRequest) { r.Add("member", []string{UserDN(login)}) })
}

// Disable marks login's entry disabled (employeeType=disabled).
func (s *Server) Disable(t testing.TB, login string) {
	t.Helper()
	s.modify(t, UserDN(login), func(r *ldap.ModifyRequest) { r.Replace("employeeType", []string{"disabled"}) })
}

// Delete removes login's entry (its group memberships stay as dangling
// members, as a directory without referential integrity leaves them).
func (s *Server) Delete(t testing.TB, login string) {
	t.Helper()
	if err := s.Conn(t).Del(ldap.NewDelRequest(UserDN(login), nil)); err != nil {
		t.Fatalf("delete %s: %v", login, err)
	}
}

func (s *Server) modify(t testing.TB, dn string, change func(*ldap.ModifyRequest)) {
	t.Helper()
	r := ldap.NewModifyRequest(dn, nil)
	change(r)
	if err := s.Conn(t).Modify(r); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
