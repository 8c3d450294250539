// The live chats page: each live chat's name, kind (external: customers;
// internal: staff asking colleagues), supervisors (of every department of
// it) and widget colour. The default one, main, is always there; it can
// be renamed, never deleted nor made internal (the broker refuses).
import { recordPage, pill, idSpec } from '/console/admin/record.js';

const KINDS = [
  { value: 'LIVE_CHAT_KIND_EXTERNAL', label: 'External: customers write in (the website widget, channels)' },
  { value: 'LIVE_CHAT_KIND_INTERNAL', label: 'Internal: staff with “Ask colleagues” write in as colleagues' },
];

export function liveChatsPage(admin) {
  const deps = (id) => (admin.dir.departments || []).filter((d) => (d.live_chat || 'main') === id).length;
  const internal = (lc) => lc.kind === 'LIVE_CHAT_KIND_INTERNAL';
  return recordPage(admin, {
    page: 'livechats', title: 'Live chats', noun: 'live chat',
    items: admin.dir.live_chats,
    key: (lc) => lc.id,
    label: (lc) => lc.name || lc.id,
    sub: (lc) => `${internal(lc) ? 'internal' : 'external'} · ${deps(lc.id)} departments`,
    path: (id) => `/admin/livechats/${encodeURIComponent(id)}`,
    blank: { kind: 'LIVE_CHAT_KIND_EXTERNAL' },
    head: (lc) => [pill(!internal(lc), 'external', 'internal')],
    fields: (rec, isNew) => [
      idSpec(isNew),
      { name: 'name', label: 'Name', hint: 'at most 80 bytes' },
      { name: 'kind', label: 'Who writes in', kind: 'select', options: KINDS },
      { name: 'supervisors', label: 'Supervisors of every department of it (monitor and whisper)', kind: 'checks', options: admin.staffOptions() },
      { name: 'look.color', label: 'Widget colour', hint: '#rrggbb; a department’s own colour wins' },
    ],
  });
}

// liveChatOptions are the live chats a department may belong to.
export function liveChatOptions(admin) {
  const lcs = admin.dir.live_chats || [];
  const main = lcs.find((lc) => lc.id === 'main');
  return [{ value: '', label: `${(main && main.name) || 'Website'} (main, the default)` },
    ...lcs.filter((lc) => lc.id !== 'main').map((lc) => ({ value: lc.id, label: `${lc.name || lc.id} (${lc.id})` }))];
}
