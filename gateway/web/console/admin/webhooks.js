// The webhooks page: the endpoints that get a live chat's events (GET/POST
// /admin/webhooks, PUT/DELETE /admin/webhooks/{id}), their secret
// write-only (answers say has_secret; an empty field keeps it), a test
// event sent at once (POST /admin/webhooks/{id}/test) and the endpoint's
// delivery log (GET /admin/webhooks/{id}/deliveries, newest first), read
// again every few seconds while it is shown.
import { h, fill } from '/lib/dom.js';
import { Form, confirmButton } from '/console/admin/form.js';
import { detailHead } from '/console/admin/list.js';
import { pill } from '/console/admin/record.js';
import { fetchedPage, secretHint } from '/console/admin/fetched.js';

// EVENTS are the types an endpoint may ask for (messages.WebhookEventTypes).
const EVENTS = [
  ['chat.requested', 'a chat was asked for'],
  ['chat.queued', 'back in the line'],
  ['chat.assigned', 'an agent took it'],
  ['chat.transferred', 'moved to another agent or department'],
  ['chat.closed', ''],
  ['chat.reopened', ''],
  ['chat.message', 'a visible message'],
  ['chat.attachment', 'a file'],
  ['chat.rated', 'the visitor’s rating'],
  ['chat.member', 'someone joined or left visibly'],
  ['offline.message', 'a message left while nobody could chat'],
];

// LOG_EVERY is how often the shown delivery log is read again (ms).
const LOG_EVERY = 3000;

const path = (id) => `/admin/webhooks/${encodeURIComponent(id)}`;

export function webhooksPage(admin) {
  return fetchedPage(admin, {
    page: 'webhooks', title: 'Webhooks', noun: 'webhook',
    load: async () => {
      const [hooks, lcs] = await Promise.all([admin.call('GET', '/admin/webhooks'), admin.call('GET', '/admin/livechats')]);
      return { items: (hooks || {}).webhooks || [], liveChats: (lcs || {}).live_chats || [] };
    },
    key: (w) => w.id,
    label: (w) => w.description || w.url || w.id,
    sub: (w) => `${w.id} · ${w.enabled ? 'enabled' : 'disabled'} · ${w.live_chat || 'every live chat'}`,
    detail: (rec, data) => webhookDetail(admin, rec, data.liveChats),
  });
}

function webhookFields(rec, liveChats) {
  const isNew = !rec;
  return [
    { name: 'id', label: 'Id', readonly: !isNew,
      hint: isNew ? 'a-z, 0-9, - _ . (at most 64); empty: one is made; it cannot change later' : null },
    { name: 'url', label: 'URL', hint: 'http or https: each event is POSTed here, signed with the secret' },
    { name: 'secret', label: 'Secret (HMAC key)', kind: 'password', autocomplete: 'new-password',
      hint: secretHint(!isNew && rec.has_secret, '', '16 bytes or more') },
    { name: 'live_chat', label: 'Live chat', kind: 'select',
      options: [{ value: '', label: 'Every live chat' }, ...liveChats.map((lc) => ({ value: lc.id, label: `${lc.name || lc.id} (${lc.id})` }))] },
    { name: 'events', label: 'Event types (none ticked: every type)', kind: 'checks', showAll: true,
      options: EVENTS.map(([value, hint]) => ({ value, label: value, hint })) },
    { name: 'enabled', label: 'Enabled (enabling it again resumes its waiting deliveries)', kind: 'checkbox' },
    { name: 'description', label: 'Description', hint: 'what it is for, for staff' },
  ];
}

function webhookDetail(admin, rec, liveChats) {
  const isNew = !rec;
  const extra = [];
  const tested = h('span', { class: 'saved', role: 'status', id: 'hook-test-result' });
  if (!isNew) {
    const test = h('button', { type: 'button', class: 'test-send', id: 'hook-test' }, 'Send test event');
    test.addEventListener('click', async () => {
      form.clearErrors();
      tested.textContent = '';
      test.disabled = true;
      try {
        const out = await admin.call('POST', `${path(rec.id)}/test`);
        tested.textContent = `${(out && out.message) || 'Sent'} (HTTP ${out && out.status}).`;
      } catch (err) {
        form.showError(err);
      } finally {
        test.disabled = false;
      }
    });
    extra.push(test, confirmButton('Delete', `Delete webhook ${rec.id}? Its waiting deliveries are dropped.`, async () => {
      try {
        await admin.call('DELETE', path(rec.id));
        await admin.saved(null, `Deleted webhook ${rec.id}.`);
      } catch (err) {
        form.showError(err);
      }
    }));
  }
  const form = new Form(webhookFields(rec, liveChats), {
    submitLabel: isNew ? 'Create webhook' : 'Save changes',
    extra,
    onSubmit: async (f) => {
      const v = f.values();
      const body = { url: v.url, live_chat: v.live_chat, events: v.events, enabled: v.enabled, description: v.description };
      if (v.secret) body.secret = v.secret;
      if (isNew) {
        if (v.id) body.id = v.id;
        const out = await admin.call('POST', '/admin/webhooks', body);
        await admin.saved(out.id, `Created webhook ${out.id}.`);
        return;
      }
      await admin.call('PUT', path(rec.id), body);
      await admin.saved(rec.id, `Saved webhook ${rec.id}.`);
    },
  });
  form.set({ ...(rec || { enabled: true }), secret: '' });
  return h('div', { class: 'record', 'data-id': isNew ? '' : rec.id },
    detailHead(isNew ? 'New webhook' : rec.id, ...(isNew ? [] : [pill(rec.enabled, 'enabled', 'disabled')])),
    isNew ? null : health(rec),
    form.el, isNew ? null : tested,
    isNew ? null : deliveryLog(admin, rec));
}

// health says why the broker disabled the endpoint, or since when it fails.
function health(rec) {
  const at = (ms) => new Date(Number(ms)).toLocaleString();
  if (rec.disabled_reason) {
    return h('p', { class: 'error hook-disabled', id: 'hook-disabled-reason' },
      `Disabled by the broker${rec.disabled_at_ms ? ` at ${at(rec.disabled_at_ms)}` : ''}: ${rec.disabled_reason}. Enable it to resume.`);
  }
  if (rec.failing_since_ms && Number(rec.failing_since_ms) > 0) {
    return h('p', { class: 'error hook-failing' }, `Every try has failed since ${at(rec.failing_since_ms)}.`);
  }
  return null;
}

// deliveryLog is the endpoint's last tries, read now and again every
// LOG_EVERY while the table is on the page.
function deliveryLog(admin, rec) {
  const body = h('tbody');
  const error = h('p', { class: 'error', role: 'alert' });
  const note = h('span', { class: 'count', role: 'status' });
  const section = h('section', { class: 'hook-log', id: 'hook-log', 'aria-labelledby': 'hook-log-title' },
    h('h3', { id: 'hook-log-title' }, 'Delivery log'),
    h('p', { class: 'hint' }, 'The endpoint’s last tries, newest first (the test event is not among them); read again every few seconds.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'button', id: 'hook-log-refresh', onclick: () => load() }, 'Refresh'), note),
    error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list hook-log-table' },
      h('thead', {}, h('tr', {}, ['When', 'Event', 'Type', 'Try', 'Status', 'Result', 'Took'].map((t) => h('th', { scope: 'col' }, t)))),
      body)));
  let timer = 0;
  async function load() {
    clearTimeout(timer);
    try {
      const log = await admin.call('GET', `${path(rec.id)}/deliveries`);
      const tries = (log && log.attempts) || [];
      error.textContent = '';
      fill(body, tries.map(row));
      if (!tries.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No tries yet.')));
      note.textContent = `${tries.length} tries`;
    } catch (err) {
      error.textContent = err.message;
    }
    // Read again while shown; a page shown again makes a new table.
    timer = setTimeout(() => { if (section.isConnected) load(); }, LOG_EVERY);
  }
  load();
  return section;
}

function row(a) {
  const at = new Date(Number(a.at_ms || 0));
  return h('tr', { class: a.ok ? 'ok' : 'refused', 'data-id': a.id, 'data-type': a.type },
    h('td', { 'data-label': 'When' }, h('time', { datetime: at.toISOString() }, at.toLocaleString())),
    h('td', { 'data-label': 'Event' }, a.id),
    h('td', { 'data-label': 'Type' }, a.type || ''),
    h('td', { 'data-label': 'Try' }, String(a.attempt || 1)),
    h('td', { 'data-label': 'Status' }, a.status ? String(a.status) : 'no answer'),
    h('td', { 'data-label': 'Result' }, a.ok ? 'taken' : (a.error || 'failed')),
    h('td', { 'data-label': 'Took' }, `${Number(a.took_ms || 0)} ms`));
}
