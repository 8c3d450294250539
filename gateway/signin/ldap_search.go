package signin

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/switchboard-chat/switchboard/messages"
)

// read finds login's one entry under user_base as the connection is
// bound, refuses it when disabled, and reads its identity and groups:
// ErrNotFound (no entry, or several), ErrDisabled, ErrUnavailable.
func (l *LDAP) read(c *ldap.Conn, login string) (*ldap.Entry, Identity, error) {
	if login == "" {
		return nil, Identity{}, fmt.Errorf("%w: empty login", ErrNotFound)
	}
	filter := strings.ReplaceAll(l.s.GetUserFilter(), "{login}", ldap.EscapeFilter(login))
	attrs := []string{l.s.GetLoginAttribute(), l.s.GetNameAttribute(), l.s.GetEmailAttribute()}
	if l.s.GetPhotoAttribute() != "" {
		attrs = append(attrs, l.s.GetPhotoAttribute())
	}
	if l.s.GetGroupFilter() == "" {
		attrs = append(attrs, "memberOf")
	}
	// At most two: one is the answer, two say the filter is ambiguous.
	res, err := l.search(c, l.s.GetUserBase(), ldap.ScopeWholeSubtree, 2, filter, attrs)
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1):
		return nil, Identity{}, fmt.Errorf("%w: several entries match %s under %s", ErrNotFound, filter, l.s.GetUserBase())
	case err != nil:
		return nil, Identity{}, fmt.Errorf("%w: search %s: %w", ErrUnavailable, l.s.GetUserBase(), err)
	case len(res.Entries) == 0:
		return nil, Identity{}, fmt.Errorf("%w: no entry matches %s under %s", ErrNotFound, filter, l.s.GetUserBase())
	}
	e := res.Entries[0]
	if err := l.checkEnabled(c, e.DN); err != nil {
		return nil, Identity{}, err
	}
	id := Identity{
		Method:      messages.SignInMethod_SIGN_IN_METHOD_LDAP,
		ExternalID:  e.DN,
		Login:       e.GetAttributeValue(l.s.GetLoginAttribute()),
		DisplayName: e.GetAttributeValue(l.s.GetNameAttribute()),
		Email:       e.GetAttributeValue(l.s.GetEmailAttribute()),
	}
	if id.Login == "" {
		id.Login = login
	}
	if p := l.s.GetPhotoAttribute(); p != "" {
		id.AvatarURL = httpsURL(e.GetAttributeValue(p))
	}
	if id.Groups, err = l.groups(c, e, id.Login); err != nil {
		return nil, Identity{}, err
	}
	return e, id, nil
}

// checkEnabled is ErrDisabled when the entry at dn matches
// disabled_filter (a base search of the entry).
func (l *LDAP) checkEnabled(c *ldap.Conn, dn string) error {
	if l.s.GetDisabledFilter() == "" {
		return nil
	}
	res, err := l.search(c, dn, ldap.ScopeBaseObject, 1, l.s.GetDisabledFilter(), []string{"1.1"})
	if err != nil {
		return fmt.Errorf("%w: check %s against the disabled filter: %w", ErrUnavailable, dn, err)
	}
	if len(res.Entries) > 0 {
		return fmt.Errorf("%w: %s matches %s", ErrDisabled, dn, l.s.GetDisabledFilter())
	}
	return nil
}

// groups are the entry's groups, each as its DN and its name: found with
// group_filter under group_base, or else from the entry's memberOf (the
// name is the DN's first value, as cn=support,ou=groups gives support).
func (l *LDAP) groups(c *ldap.Conn, e *ldap.Entry, login string) ([]string, error) {
	var out []string
	if l.s.GetGroupFilter() == "" {
		for _, dn := range e.GetAttributeValues("memberOf") {
			out = append(out, dn)
			if d, err := ldap.ParseDN(dn); err == nil && len(d.RDNs) > 0 && len(d.RDNs[0].Attributes) > 0 {
				out = append(out, d.RDNs[0].Attributes[0].Value)
			}
		}
		return out, nil
	}
	filter := strings.NewReplacer("{dn}", ldap.EscapeFilter(e.DN), "{login}", ldap.EscapeFilter(login)).Replace(l.s.GetGroupFilter())
	res, err := l.search(c, l.s.GetGroupBase(), ldap.ScopeWholeSubtree, 0, filter, []string{l.s.GetGroupNameAttribute()})
	if err != nil {
		return nil, fmt.Errorf("%w: search groups %s under %s: %w", ErrUnavailable, filter, l.s.GetGroupBase(), err)
	}
	for _, g := range res.Entries {
		out = append(out, g.DN)
		if n := g.GetAttributeValue(l.s.GetGroupNameAttribute()); n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// search runs one search, never following aliases, under the
// connection's timeout.
func (l *LDAP) search(c *ldap.Conn, base string, scope, size int, filter string, attrs []string) (*ldap.SearchResult, error) {
	return c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, size, int(ldapTimeout.Seconds()), false, filter, attrs, nil))
}

// httpsURL is v when it is an absolute https URL, else "".
func httpsURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return v
}
