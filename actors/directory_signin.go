package actors

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's sign-in commands: the directory sign-in settings
// (LDAP, OpenID Connect), and the accounts a directory sign-in or sync
// creates, updates or suspends. One rule for each: which accounts a
// directory may touch (externalAccount), and what a setting must hold
// (putSignIn). The gateway talks to the directory servers; the actor only
// decides.

// MaxGroupMappings bounds a sign-in method's group mappings.
const MaxGroupMappings = 200

// putSignIn checks and stores the sign-in settings. Empty secrets keep
// the stored ones.
func (d *directory) putSignIn(x *messages.SignInSettings) (*change, *messages.Error) {
	KeepSecrets(x, d.signIn)
	if e := CheckSignIn(x); e != nil {
		return nil, e
	}
	if x.GetLdap().GetEnabled() {
		if e := d.checkMappings("ldap.groups", x.GetLdap().GetGroups()); e != nil {
			return nil, e
		}
	}
	if x.GetOidc().GetEnabled() {
		if e := d.checkMappings("oidc.groups", x.GetOidc().GetGroups()); e != nil {
			return nil, e
		}
	}
	d.signIn = x
	return &change{write: func(done func(error)) { d.b.store.PutSignIn(x, done) }}, nil
}

// KeepSecrets fills the secrets x leaves empty from old, but only where
// they would go to the same server for the same account: the LDAP url and
// bind DN, or the OpenID issuer and client id, unchanged. A stored secret
// never follows a changed server (it would be sent there to try it).
func KeepSecrets(x, old *messages.SignInSettings) {
	if l, o := x.GetLdap(), old.GetLdap(); l != nil && l.GetBindPassword() == "" && l.GetUrl() == o.GetUrl() && l.GetBindDn() == o.GetBindDn() {
		l.BindPassword = o.GetBindPassword()
	}
	if c, o := x.GetOidc(), old.GetOidc(); c != nil && c.GetClientSecret() == "" && c.GetIssuer() == o.GetIssuer() && c.GetClientId() == o.GetClientId() {
		c.ClientSecret = o.GetClientSecret()
	}
}

// mappingOf names the group of the first sign-in mapping for which is
// holds ("" when none).
func (d *directory) mappingOf(is func(*messages.GroupMapping) bool) string {
	for _, m := range append(d.signIn.GetLdap().GetGroups(), d.signIn.GetOidc().GetGroups()...) {
		if is(m) {
			return m.GetGroup()
		}
	}
	return ""
}

// CheckSignIn checks the settings on their own (their secrets filled by
// KeepSecrets): what the gateway checks before it tries a server with
// them (so no password goes in the clear, nor to a server with no
// password), and the directory again before it stores them, with the
// group mappings against its roles and departments.
func CheckSignIn(x *messages.SignInSettings) *messages.Error {
	if e := checkLdap(x.GetLdap()); e != nil {
		return e
	}
	return checkOidc(x.GetOidc())
}

func checkLdap(l *messages.LdapSettings) *messages.Error {
	if !l.GetEnabled() {
		return nil
	}
	u, err := url.Parse(l.GetUrl())
	switch {
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		return refuse("ldap.url", codeInvalid, "url must be ldap://host:port or ldaps://host:port")
	case u.Scheme == "ldaps" && l.GetStartTls():
		return refuse("ldap.start_tls", codeInvalid, "start_tls is for ldap:// (ldaps:// is TLS already)")
	case u.Scheme == "ldap" && !l.GetStartTls() && !loopbackHost(u.Hostname()):
		return refuse("ldap.start_tls", codeInvalid, "ldap:// without StartTLS sends passwords in the clear: use ldaps:// or StartTLS (plain ldap:// only to this machine)")
	}
	return checkLdapSearch(l)
}

// checkLdapSearch checks the service account, the searches and the names.
func checkLdapSearch(l *messages.LdapSettings) *messages.Error {
	switch {
	case l.GetBindDn() != "" && l.GetBindPassword() == "":
		return refuse("ldap.bind_password", codeInvalid, "the service account's password is required (a changed server or bind DN does not keep the stored one)")
	case l.GetUserBase() == "":
		return refuse("ldap.user_base", codeInvalid, "user_base is required, for example ou=people,dc=example,dc=com")
	case !strings.Contains(l.GetUserFilter(), "{login}") || !ldapFilterShape(l.GetUserFilter()):
		return refuse("ldap.user_filter", codeInvalid, "user_filter must be a filter in parentheses holding {login}, for example (&(objectClass=inetOrgPerson)(uid={login}))")
	case l.GetDisabledFilter() != "" && !ldapFilterShape(l.GetDisabledFilter()):
		return refuse("ldap.disabled_filter", codeInvalid, "disabled_filter must be a filter in parentheses")
	case l.GetGroupFilter() != "" && (!ldapFilterShape(l.GetGroupFilter()) || l.GetGroupBase() == ""):
		return refuse("ldap.group_filter", codeInvalid, "group_filter must be a filter in parentheses, with group_base set")
	case l.GetSyncMinutes() > 24*60:
		return refuse("ldap.sync_minutes", codeInvalid, "sync_minutes is at most 1440")
	}
	return checkLdapNames(l)
}

// checkLdapNames checks the attributes and the label.
func checkLdapNames(l *messages.LdapSettings) *messages.Error {
	for _, a := range []struct{ field, v string }{{"login_attribute", l.GetLoginAttribute()}, {"name_attribute", l.GetNameAttribute()},
		{"email_attribute", l.GetEmailAttribute()}, {"photo_attribute", l.GetPhotoAttribute()}, {"group_name_attribute", l.GetGroupNameAttribute()}} {
		if a.v != "" && !ldapAttribute.MatchString(a.v) {
			return refuse("ldap."+a.field, codeInvalid, "%s must be an attribute name such as uid or sAMAccountName", a.field)
		}
	}
	return checkText("ldap.label", l.GetLabel())
}

func checkOidc(o *messages.OidcSettings) *messages.Error {
	if !o.GetEnabled() {
		return nil
	}
	iss, err1 := url.Parse(o.GetIssuer())
	cb, err2 := url.Parse(o.GetRedirectUrl())
	switch {
	case err1 != nil || iss.Scheme != "https" || iss.Host == "":
		return refuse("oidc.issuer", codeInvalid, "issuer must be an https URL, such as https://login.microsoftonline.com/TENANT/v2.0")
	case o.GetClientId() == "" || len(o.GetClientId()) > 256:
		return refuse("oidc.client_id", codeInvalid, "client_id is required (at most 256 bytes)")
	case err2 != nil || (cb.Scheme != "https" && !loopbackHTTP(cb)) || !strings.HasSuffix(cb.Path, "/api/sign-in/oidc/callback"):
		return refuse("oidc.redirect_url", codeInvalid, "redirect_url must be the broker's https URL ending in /api/sign-in/oidc/callback")
	case len(o.GetScopes()) > 20:
		return refuse("oidc.scopes", codeInvalid, "at most 20 scopes")
	}
	for _, s := range o.GetScopes() {
		if s == "" || len(s) > 64 || strings.ContainsAny(s, " \"\\") {
			return refuse("oidc.scopes", codeInvalid, "scope %q is not a scope name", s)
		}
	}
	for _, c := range []struct{ field, v string }{{"login_claim", o.GetLoginClaim()}, {"name_claim", o.GetNameClaim()},
		{"email_claim", o.GetEmailClaim()}, {"groups_claim", o.GetGroupsClaim()}} {
		if len(c.v) > 128 {
			return refuse("oidc."+c.field, codeInvalid, "%s has at most 128 bytes", c.field)
		}
	}
	return checkText("oidc.label", o.GetLabel())
}

// loopbackHTTP allows a plain http callback on the machine itself (a
// broker tried on a laptop); anywhere else the callback must be https.
func loopbackHTTP(u *url.URL) bool {
	return u.Scheme == "http" && loopbackHost(u.Hostname())
}

func loopbackHost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

func checkText(field, v string) *messages.Error {
	if err := CheckText(field, v, MaxNameBytes); err != nil {
		return refuse(field, err.GetCode(), "%s", err.GetMessage())
	}
	return nil
}

var ldapAttribute = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

// ldapFilterShape is the shape of a filter (in parentheses, balanced);
// the LDAP server parses the rest, and the gateway tries it at save time.
func ldapFilterShape(f string) bool {
	if len(f) < 3 || len(f) > 1024 || f[0] != '(' || f[len(f)-1] != ')' {
		return false
	}
	depth := 0
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 || (depth == 0 && i != len(f)-1) {
				return false
			}
		}
	}
	return depth == 0
}

// checkMappings: each group once, its role an existing one but never the
// owner's, its departments existing.
func (d *directory) checkMappings(field string, ms []*messages.GroupMapping) *messages.Error {
	if len(ms) > MaxGroupMappings {
		return refuse(field, codeInvalid, "at most %d group mappings", MaxGroupMappings)
	}
	seen := map[string]bool{}
	for i, m := range ms {
		f := fmt.Sprintf("%s.%d", field, i)
		g := strings.ToLower(m.GetGroup())
		switch {
		case g == "" || len(g) > 1024:
			return refuse(f+".group", codeInvalid, "group is required (a DN or a name, at most 1024 bytes)")
		case seen[g]:
			return refuse(f+".group", codeConflict, "group %q is mapped twice", m.GetGroup())
		case m.GetRole() == RoleOwner:
			return refuse(f+".role", codeInvalid, "no group maps to the owner: the owner is one account, with a password")
		case m.GetRole() != "" && d.role(m.GetRole()) == nil:
			return refuse(f+".role", codeInvalid, "no role %q", m.GetRole())
		}
		seen[g] = true
		for _, dep := range m.GetDepartments() {
			if d.deps[dep] == nil {
				return refuse(f+".departments", codeInvalid, "no department %q", dep)
			}
		}
	}
	return nil
}

// externalAccount creates, updates or suspends the account a directory
// sign-in or sync speaks of. The login finds it; a password account, an
// account of the other method, or (OpenID Connect) another subject's is
// refused: a directory never takes over an account it did not make.
func (d *directory) externalAccount(x *messages.ExternalAccount) (*change, *messages.Error) {
	if x.GetMethod() == messages.SignInMethod_SIGN_IN_METHOD_PASSWORD || x.GetLogin() == "" || x.GetExternalId() == "" {
		return nil, refuse("", codeInvalid, "a directory account needs its method, login and external id")
	}
	old := d.agents[d.logins[strings.ToLower(x.GetLogin())]]
	if old != nil {
		if e := canTouch(old, x); e != nil {
			return nil, e
		}
	}
	if x.GetSuspend() {
		if old == nil || old.GetSuspended() {
			return nil, nil // nothing to suspend
		}
		next := proto.Clone(old).(*messages.Agent)
		next.Suspended, next.SuspendedByDirectory = true, true
		return d.putAgent(next)
	}
	next := &messages.Agent{Id: d.freeID(x.GetLogin()), SignIn: x.GetMethod()}
	if old != nil {
		next = proto.Clone(old).(*messages.Agent)
		if old.GetSuspendedByDirectory() {
			// The directory lets them in again: its own suspension is
			// lifted (their old sessions stay ended).
			next.Suspended, next.SuspendedByDirectory = false, false
		}
	}
	next.Login, next.ExternalId, next.Email = x.GetLogin(), x.GetExternalId(), x.GetEmail()
	next.DisplayName, next.AvatarUrl = x.GetDisplayName(), x.GetAvatarUrl()
	next.Role, next.Departments, next.ChatAgent = x.GetRole(), x.GetDepartments(), x.GetChatAgent()
	if old != nil && proto.Equal(old, next) {
		return nil, nil // a sign-in that changes nothing writes nothing
	}
	return d.putAgent(next)
}

// canTouch says whether a directory's word about x may change account a
// (found by x's login).
func canTouch(a *messages.Agent, x *messages.ExternalAccount) *messages.Error {
	switch {
	case a.GetSignIn() != x.GetMethod():
		return refuse("", codeForbidden, "the account with login %q signs in with %s; an administrator may switch it to %s",
			x.GetLogin(), MethodName(a.GetSignIn()), MethodName(x.GetMethod()))
	case x.GetMethod() == messages.SignInMethod_SIGN_IN_METHOD_OIDC && a.GetExternalId() != "" && a.GetExternalId() != x.GetExternalId():
		return refuse("", codeForbidden, "the account with login %q belongs to another subject of the provider", x.GetLogin())
	}
	return nil
}

// MethodName is a sign-in method as the API and the audit log spell it.
func MethodName(m messages.SignInMethod) string {
	switch m {
	case messages.SignInMethod_SIGN_IN_METHOD_LDAP:
		return "ldap"
	case messages.SignInMethod_SIGN_IN_METHOD_OIDC:
		return "oidc"
	}
	return "password"
}

var notIDChar = regexp.MustCompile(`[^a-z0-9_.-]+`)

// freeID makes a new account's id from its login: lower case, other
// characters as "-", at most 56 bytes, then "-2", "-3"… until it is free.
func (d *directory) freeID(login string) string {
	if i := strings.IndexByte(login, '@'); i > 0 {
		login = login[:i]
	}
	base := strings.Trim(notIDChar.ReplaceAllString(strings.ToLower(login), "-"), "-.")
	if len(base) > 56 {
		base = base[:56]
	}
	if base == "" {
		base = "staff"
	}
	id := base
	for n := 2; d.agents[id] != nil; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}
