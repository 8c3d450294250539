// The audit log: who did what, when, from where, and whether it was
// allowed, with the API's filters (actor, kind prefix, from, to) and
// paging (the API reads oldest first from `from`: the next page starts
// at the last entry's millisecond, skipping the entries of it shown).
import { h, fill } from '/lib/dom.js';

const KINDS = ['admin.', 'admin.department.', 'admin.agent.', 'admin.role.', 'admin.language.', 'admin.settings.put',
  'admin.owner.transfer', 'admin.refused', 'login.', 'login.ok', 'login.refused', 'logout', 'permission.denied', 'chat.',
  'chat.join_invisible', 'chat.whisper', 'chat.take_over', 'chat.transfer', 'chat.reopen', 'chat.assign', 'queue.'];

const PAGE_SIZES = [25, 50, 100, 250];

export function auditPage(admin) {
  const state = admin.audit || (admin.audit = { actor: '', kind: '', from: '', to: '', limit: 50, starts: [] });
  const input = (name, label, attrs) => {
    const el = h('input', { id: `audit-${name}`, name, value: state[name], ...attrs });
    return [el, h('div', { class: 'field' }, h('label', { for: el.id }, label), el)];
  };
  const [actor, actorField] = input('actor', 'Who', { list: 'audit-actors', placeholder: 'a staff id, @admin, a login', autocomplete: 'off' });
  const [kind, kindField] = input('kind', 'Kind starts with', { list: 'audit-kinds', placeholder: 'admin., login., chat.', autocomplete: 'off' });
  const [from, fromField] = input('from', 'From', { type: 'datetime-local', step: 1 });
  const [to, toField] = input('to', 'To', { type: 'datetime-local', step: 1 });
  const limit = h('select', { id: 'audit-limit', name: 'limit' }, PAGE_SIZES.map((n) => h('option', { value: n }, String(n))));
  limit.value = String(state.limit);
  const error = h('p', { class: 'error form-error', role: 'alert' });
  const table = h('tbody');
  const pageNote = h('span', { class: 'count', role: 'status' });
  const prev = h('button', { type: 'button', id: 'audit-prev', onclick: () => { state.starts.pop(); load(); } }, '← Earlier page');
  const next = h('button', { type: 'button', id: 'audit-next' }, 'Later page →');
  let page = [];
  // The next page starts at the last entry's millisecond (several entries
  // may share one) and skips those of it this page showed.
  next.addEventListener('click', () => {
    const at = page[page.length - 1].at_ms;
    state.starts.push({ from: new Date(Number(at)).toISOString(), skip: page.filter((e) => e.at_ms === at).length });
    load();
  });

  const form = h('form', { class: 'audit-filters', 'aria-label': 'Filter the audit log' },
    actorField, kindField, fromField, toField,
    h('div', { class: 'field' }, h('label', { for: 'audit-limit' }, 'Per page'), limit),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'audit-apply' }, 'Show'),
      h('button', { type: 'button', id: 'audit-clear', onclick: () => {
        Object.assign(state, { actor: '', kind: '', from: '', to: '', starts: [] });
        for (const el of [actor, kind, from, to]) el.value = '';
        load();
      } }, 'Clear')),
    h('datalist', { id: 'audit-actors' }, ['@admin', ...(admin.dir.agents || []).map((a) => a.id)].map((v) => h('option', { value: v }))),
    h('datalist', { id: 'audit-kinds' }, KINDS.map((v) => h('option', { value: v }))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    Object.assign(state, { actor: actor.value.trim(), kind: kind.value.trim(), from: from.value, to: to.value, limit: Number(limit.value), starts: [] });
    load();
  });

  async function load() {
    error.textContent = '';
    const top = state.starts[state.starts.length - 1] || { from: state.from && new Date(state.from).toISOString(), skip: 0 };
    const q = new URLSearchParams({ limit: String(state.limit + top.skip) });
    if (state.actor) q.set('actor', state.actor);
    if (state.kind) q.set('kind', state.kind);
    if (top.from) q.set('from', top.from);
    if (state.to) q.set('to', new Date(state.to).toISOString());
    let entries = [];
    try {
      entries = (await admin.call('GET', `/admin/audit?${q}`)).entries || [];
    } catch (err) {
      error.textContent = err.message;
    }
    entries = entries.slice(top.skip);
    page = entries;
    fill(table, entries.map(row));
    if (!entries.length) table.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No entries.')));
    pageNote.textContent = `page ${state.starts.length + 1}: ${entries.length} entries, oldest first`;
    prev.disabled = !state.starts.length;
    next.disabled = entries.length < state.limit;
  }
  load();

  return h('section', { class: 'audit', id: 'admin-detail', 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title' }, 'Audit log'), form, error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list audit-table' },
      h('thead', {}, h('tr', {}, ['When', 'Kind', 'Who', 'Address', 'About', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
      table)),
    h('div', { class: 'pager' }, prev, pageNote, next));
}

function row(e) {
  const at = new Date(Number(e.at_ms));
  return h('tr', { class: e.ok ? 'ok' : 'refused', 'data-kind': e.kind },
    h('td', { 'data-label': 'When' }, h('time', { datetime: at.toISOString() }, at.toLocaleString())),
    h('td', { 'data-label': 'Kind' }, e.kind),
    h('td', { 'data-label': 'Who' }, e.actor || ''),
    h('td', { 'data-label': 'Address' }, e.address || ''),
    h('td', { 'data-label': 'About' }, [e.subject, e.detail].filter(Boolean).join(': ')),
    h('td', { 'data-label': 'Result' }, e.ok ? 'done' : 'refused'));
}
