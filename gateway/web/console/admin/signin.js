// The directory sign-in settings: LDAP / Active Directory and OpenID
// Connect, with their group mappings. Read with GET /admin/sign-in (the
// secrets come back empty: an empty secret field keeps the stored one)
// and saved whole with PUT, which tries each enabled server first; a
// refusal is shown next to the field it names.
import { h, fill } from '/lib/dom.js';
import { Form } from '/console/admin/form.js';

const mappingsHint = 'a JSON list: [{"group": "cn=support,ou=groups,dc=example,dc=com", "role": "agent", '
  + '"departments": ["sales"], "chat_agent": true}]; the first matching group gives the role, every match adds its departments; '
  + 'someone in no mapped group cannot sign in';

function ldapFields() {
  return [
    { name: 'ldap.enabled', label: 'Staff may sign in with LDAP / Active Directory', kind: 'checkbox' },
    { name: 'ldap.label', label: 'Text on the login page', hint: 'default: Sign in with your organisation’s account (LDAP)' },
    { name: 'ldap.url', label: 'Server', hint: 'ldaps://dc1.corp.example.com:636 or ldap://ldap.example.com:389' },
    { name: 'ldap.start_tls', label: 'StartTLS (for ldap://)', kind: 'checkbox' },
    { name: 'ldap.ca_pem', label: 'CA certificates (PEM)', kind: 'textarea', hint: 'for a directory with its own CA; empty: the system’s' },
    { name: 'ldap.bind_dn', label: 'Service account (bind DN)', hint: 'empty: anonymous search' },
    { name: 'ldap.bind_password', label: 'Service account password', kind: 'password', autocomplete: 'new-password', hint: 'empty keeps the stored one' },
    { name: 'ldap.user_base', label: 'User base', hint: 'ou=people,dc=example,dc=com' },
    { name: 'ldap.user_filter', label: 'User filter', hint: '{login} is the login: (&(objectClass=user)(sAMAccountName={login}))' },
    { name: 'ldap.login_attribute', label: 'Login attribute', hint: 'default uid; Active Directory: sAMAccountName' },
    { name: 'ldap.name_attribute', label: 'Name attribute', hint: 'default cn' },
    { name: 'ldap.email_attribute', label: 'Email attribute', hint: 'default mail' },
    { name: 'ldap.photo_attribute', label: 'Photo attribute', hint: 'an attribute holding an https URL; optional' },
    { name: 'ldap.disabled_filter', label: 'Disabled entries', hint: 'Active Directory: (userAccountControl:1.2.840.113556.1.4.803:=2)' },
    { name: 'ldap.group_base', label: 'Group base' },
    { name: 'ldap.group_filter', label: 'Group filter', hint: '{dn} is the user’s DN: (&(objectClass=groupOfNames)(member={dn})); empty: memberOf' },
    { name: 'ldap.group_name_attribute', label: 'Group name attribute', hint: 'default cn' },
    { name: 'ldap.sync_minutes', label: 'Sync every (minutes)', kind: 'number', hint: 'the sync suspends accounts the directory disabled or removed; empty: 15' },
    { name: 'ldap.groups', label: 'Group mappings', kind: 'json', empty: [], hint: mappingsHint },
  ];
}

function oidcFields() {
  return [
    { name: 'oidc.enabled', label: 'Staff may sign in with single sign-on (OpenID Connect)', kind: 'checkbox' },
    { name: 'oidc.label', label: 'Text of the sign-in button', hint: 'default: Sign in with single sign-on' },
    { name: 'oidc.issuer', label: 'Issuer', hint: 'https://login.microsoftonline.com/TENANT/v2.0, https://accounts.google.com, https://keycloak.example.com/realms/staff' },
    { name: 'oidc.client_id', label: 'Client id' },
    { name: 'oidc.client_secret', label: 'Client secret', kind: 'password', autocomplete: 'new-password', hint: 'empty keeps the stored one' },
    { name: 'oidc.redirect_url', label: 'Redirect URL', hint: `as registered at the provider: ${location.origin}/api/sign-in/oidc/callback` },
    { name: 'oidc.scopes', label: 'Scopes', kind: 'lines', hint: 'besides openid; empty: profile, email, groups' },
    { name: 'oidc.login_claim', label: 'Login claim', hint: 'default preferred_username' },
    { name: 'oidc.name_claim', label: 'Name claim', hint: 'default name' },
    { name: 'oidc.email_claim', label: 'Email claim', hint: 'default email' },
    { name: 'oidc.groups_claim', label: 'Groups claim', hint: 'default groups' },
    { name: 'oidc.ca_pem', label: 'CA certificates (PEM)', kind: 'textarea', hint: 'for a provider with its own CA; empty: the system’s' },
    { name: 'oidc.groups', label: 'Group mappings', kind: 'json', empty: [], hint: mappingsHint },
  ];
}

export function signInPage(admin) {
  const section = h('section', { class: 'settings card', id: 'admin-detail', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, 'Sign-in'), h('p', { class: 'hint' }, 'Reading the settings…'));
  const form = new Form([
    { group: 'LDAP / Active Directory', fields: ldapFields() },
    { group: 'Single sign-on (OpenID Connect)', fields: oidcFields() },
  ], {
    submitLabel: 'Save sign-in settings',
    onSubmit: async (f) => {
      const saved = await admin.call('PUT', '/admin/sign-in', f.values());
      f.set(saved);
      await admin.saved(null, 'Saved the sign-in settings. Passwords keep working for every password account and for the owner.');
    },
  });
  admin.call('GET', '/admin/sign-in').then((settings) => {
    form.set(settings || {});
    fill(section, h('h2', { id: 'signin-title' }, 'Sign-in'),
      h('p', { class: 'hint' }, 'Staff sign in with a password, or through the organisation’s directory. '
        + 'Each enabled server is tried before the settings are saved. The owner always signs in with a password.'),
      form.el);
    section.dataset.loaded = 'true';
  }, (err) => {
    fill(section, h('h2', { id: 'signin-title' }, 'Sign-in'), h('p', { class: 'error', role: 'alert' }, `Cannot read the settings: ${err.message}`));
  });
  return section;
}
