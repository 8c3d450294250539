// The staff page: accounts, their role, departments, languages, limit,
// access rules and schedule.
import { recordPage, pill, idSpec, accessGroup } from '/console/admin/record.js';

// idFromLogin makes an account id from a login when none is typed:
// "Erik.Larsson@shop.example" -> "erik.larsson-shop.example".
function idFromLogin(login) {
  return login.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

// How an account signs in, as the directory view spells it.
const signInMethods = [
  { value: 'SIGN_IN_METHOD_PASSWORD', label: 'Password' },
  { value: 'SIGN_IN_METHOD_LDAP', label: 'LDAP / Active Directory' },
  { value: 'SIGN_IN_METHOD_OIDC', label: 'Single sign-on (OpenID Connect)' },
];

function signInLabel(method) {
  return method && method !== 'SIGN_IN_METHOD_PASSWORD' ? (signInMethods.find((m) => m.value === method) || {}).label : '';
}

export function staffPage(admin) {
  const dir = admin.dir;
  const roles = [
    { value: 'agent', label: 'Agent' }, { value: 'administrator', label: 'Administrator' }, { value: 'owner', label: 'Owner' },
    ...(dir.roles || []).filter((r) => !r.builtin).map((r) => ({ value: r.id, label: r.name || r.id })),
  ];
  const departments = (dir.departments || []).map((d) => ({ value: d.id, label: d.name || d.id }));
  const languages = (dir.languages || []).map((l) => ({ value: l.code, label: `${l.name || l.code} (${l.code})` }));
  return recordPage(admin, {
    page: 'staff', title: 'Staff', noun: 'staff member',
    items: dir.agents,
    key: (a) => a.id,
    label: (a) => a.display_name || a.id,
    sub: (a) => [a.login, signInLabel(a.sign_in), a.role || 'agent', (a.departments || []).join(', '), a.suspended ? 'suspended' : ''].filter(Boolean).join(' · '),
    path: (id) => `/admin/agents/${encodeURIComponent(id)}`,
    newKey: (v) => v.id || idFromLogin(v.login || ''),
    body: (v) => { const b = { ...v }; delete b.id; return b; },
    blank: { chat_agent: true, role: 'agent', sign_in: 'SIGN_IN_METHOD_PASSWORD' },
    head: (a) => [pill(!a.suspended, 'active', 'suspended'), a.chat_agent ? pill(true, 'takes chats', '') : null],
    fields: (rec, isNew) => [
      { ...idSpec(isNew), hint: isNew ? 'empty: made from the login; it cannot change later' : null },
      { name: 'login', label: 'Login', hint: 'what they log in with, such as an email address' },
      { name: 'sign_in', label: 'Signs in with', kind: 'select', options: signInMethods,
        hint: 'a directory account gets its name, role and departments from the directory at each sign-in; the owner always has a password' },
      { name: 'password', label: isNew ? 'Password' : 'New password', kind: 'password', autocomplete: 'new-password',
        hint: isNew ? 'at least 8 characters (password accounts only)' : 'empty keeps the password; a new one ends their sessions (password accounts only)' },
      { name: 'display_name', label: 'Display name', hint: 'the name visitors see' },
      { name: 'avatar_url', label: 'Photo URL', hint: 'an https:// address of a picture visitors see' },
      { name: 'role', label: 'Role', kind: 'select', options: roles },
      { name: 'departments', label: 'Departments', kind: 'checks', options: departments },
      { name: 'languages', label: 'Languages', kind: 'checks', options: languages },
      { name: 'max_chats', label: 'Chats at once', kind: 'number', hint: 'empty means 3' },
      { name: 'chat_agent', label: 'Takes chats (chat agent)', kind: 'checkbox' },
      { name: 'auto_accept', label: 'Accepts offers automatically', kind: 'checkbox' },
      { name: 'suspended', label: 'Suspended: may not log in (ends their sessions)', kind: 'checkbox' },
      accessGroup('Access rules (on top of the role’s)'),
      { group: 'Schedule', fields: [
        { name: 'schedule.shifts', label: 'Shifts', kind: 'windows', hint: 'available when a shift starts, draining when it ends' },
        { name: 'schedule.time_zone', label: 'Time zone of the shifts', kind: 'zone' },
      ] },
    ],
  });
}
