// The roles page: the permissions each role grants, and its access rules.
// The built-in roles (owner, administrator, agent) are shown, not changed.
import { recordPage, pill, idSpec, accessGroup } from '/console/admin/record.js';

// PERMISSIONS are the broker's (actors/permissions.go), with what each
// allows.
export const PERMISSIONS = [
  ['live_chat', 'Live chat', 'may use the console at all'],
  ['chats.view', 'See chats', 'the waiting chats and the chats of their departments'],
  ['chats.accept', 'Accept chats', 'get offers, accept them, pick waiting chats'],
  ['chats.auto_accept', 'Auto-accept', 'offers become chats without a click'],
  ['chats.forward', 'Transfer', 'hand a chat to another department or agent'],
  ['chats.invite', 'Invite', 'invite a colleague into a chat'],
  ['chats.join', 'Join', 'join an ongoing chat'],
  ['chats.join_invisible', 'Join invisibly', 'watch a chat without the visitor seeing it'],
  ['chats.take_over', 'Take over', 'take a colleague’s chat'],
  ['chats.status', 'Chat status', 'set a chat open, on hold, pending or resolved'],
  ['profile.display_name', 'Own display name', 'change the name visitors see'],
  ['supervise', 'Supervise', 'monitor departments and whisper to agents'],
  ['queues.manage', 'Manage queues', 'open and close queues, set agents’ status'],
  ['reports.view', 'Reports', 'every transcript and the statistics'],
  ['admin', 'Administration', 'staff, roles, departments, languages, settings'],
  ['chats.tag', 'Tag chats', 'tag and untag chats with their department’s tags'],
  ['canned.personal', 'Own canned replies', 'keep personal canned replies'],
  ['chats.reopen', 'Reopen chats', 'open a closed chat they may see again'],
  ['chats.assign', 'Assign chats', 'hand a waiting chat of a department they supervise or manage to a chosen agent'],
  ['chats.attach', 'Send files', 'send files in their chats'],
  ['chats.email', 'Email visitors', 'email a visitor from a chat, answer offline messages by email'],
  ['livechat.internal', 'Ask colleagues', 'write in to an internal live chat (HR, Accounting) as a colleague'],
];

export function rolesPage(admin) {
  const roles = admin.dir.roles || [];
  const holders = (id) => (admin.dir.agents || []).filter((a) => (a.role || 'agent') === id).length;
  return recordPage(admin, {
    page: 'roles', title: 'Roles', noun: 'role',
    items: roles,
    key: (r) => r.id,
    label: (r) => r.name || r.id,
    sub: (r) => `${r.builtin ? 'built in · ' : ''}${(r.permissions || []).length} permissions · ${holders(r.id)} staff`,
    path: (id) => `/admin/roles/${encodeURIComponent(id)}`,
    readonly: (r) => r.builtin,
    blank: { permissions: ['live_chat', 'chats.view', 'chats.accept'] },
    head: (r) => (r.builtin ? [pill(true, 'built in: cannot be changed', '')] : []),
    fields: (rec, isNew) => [
      idSpec(isNew),
      { name: 'name', label: 'Name' },
      { name: 'permissions', label: 'Permissions', kind: 'checks', showAll: true,
        options: PERMISSIONS.map(([value, label, hint]) => ({ value, label, hint: `(${value}): ${hint}` })) },
      accessGroup('Access rules for everyone with this role'),
    ],
  });
}
