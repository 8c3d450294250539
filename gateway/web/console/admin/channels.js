// The channels page: API and WhatsApp channels (GET/POST /admin/channels,
// PUT/DELETE /admin/channels/{id}), each sending its conversations to one
// department in one language. The secrets are write-only: the broker's
// answers leave them out (a stored channel always has those of its kind),
// and an empty field keeps the stored one while the address it goes to
// stays. The page shows the inbound address to give the customer's
// system (an API channel) or Meta (WhatsApp).
import { h } from '/lib/dom.js';
import { Form, confirmButton } from '/console/admin/form.js';
import { detailHead } from '/console/admin/list.js';
import { pill } from '/console/admin/record.js';
import { fetchedPage, secretHint } from '/console/admin/fetched.js';

const API = 'CHANNEL_KIND_API';
const WHATSAPP = 'CHANNEL_KIND_WHATSAPP';

const KINDS = [
  { value: API, label: 'API: your own system posts its customers’ messages and gets the replies' },
  { value: WHATSAPP, label: 'WhatsApp (the WhatsApp Business Cloud API)' },
];

const path = (id) => `/admin/channels/${encodeURIComponent(id)}`;

export function channelsPage(admin) {
  return fetchedPage(admin, {
    page: 'channels', title: 'Channels', noun: 'channel',
    load: async () => ({ items: (await admin.call('GET', '/admin/channels') || {}).channels || [] }),
    key: (c) => c.id,
    label: (c) => c.name || c.id,
    sub: (c) => `${c.kind === WHATSAPP ? 'WhatsApp' : 'API'} · ${c.department || ''} · ${c.enabled ? 'enabled' : 'disabled'}`,
    detail: (rec) => channelForm(admin, rec),
  });
}

// inboundURL is where the outside side posts: the customer's system (an
// API channel) or Meta (WhatsApp's webhook).
export function inboundURL(c) {
  const id = encodeURIComponent(c.id);
  return c.kind === WHATSAPP ? `${location.origin}/channels/whatsapp/${id}/webhook` : `${location.origin}/api/channels/${id}/messages`;
}

function channelFields(admin, rec) {
  const isNew = !rec;
  const stored = (kind) => !isNew && (rec.kind || API) === kind; // API is the zero value, left out of answers
  const options = (xs, key) => xs.map((x) => ({ value: x[key], label: `${x.name || x[key]} (${x[key]})` }));
  const secret = (name, label, kind, keeps, rule) => ({ name, label, kind: 'password', autocomplete: 'new-password',
    hint: secretHint(stored(kind), keeps, rule) });
  return [
    { name: 'id', label: 'Id', readonly: !isNew,
      hint: isNew ? 'a-z, 0-9, - _ . (at most 64); empty: one is made; it cannot change later' : null },
    { name: 'name', label: 'Name', hint: 'what staff see; at most 80 bytes' },
    { name: 'kind', label: 'Kind', kind: 'select', options: KINDS },
    { name: 'department', label: 'Department', kind: 'select', options: options(admin.dir.departments || [], 'id'),
      hint: 'where its conversations ask for a chat' },
    { name: 'language', label: 'Language', kind: 'select', options: options(admin.dir.languages || [], 'code'),
      hint: 'the language of its chats' },
    { name: 'enabled', label: 'Enabled: takes messages (off: they are refused and replies wait)', kind: 'checkbox' },
    { group: 'API channel', key: 'api', fields: [
      { name: 'api.callback_url', label: 'Callback URL', hint: 'http or https: where replies and chat events are posted, signed' },
      secret('api.secret', 'Secret (HMAC key)', API, 'while the callback URL stays', '16 to 256 bytes'),
    ] },
    { group: 'WhatsApp', key: 'whatsapp', fields: [
      { name: 'whatsapp.phone_number_id', label: 'Phone number id', hint: 'the business number’s id in Meta’s app, digits only' },
      secret('whatsapp.verify_token', 'Verify token', WHATSAPP, 'while the phone number stays', 'the token you give Meta for the webhook'),
      secret('whatsapp.app_secret', 'App secret', WHATSAPP, 'while the phone number stays', 'the Meta app’s secret'),
      secret('whatsapp.access_token', 'Access token', WHATSAPP, 'while the phone number and Graph API URL stay', 'the Graph API token'),
      { name: 'whatsapp.graph_base_url', label: 'Graph API URL', hint: 'empty: https://graph.facebook.com/v21.0' },
    ] },
  ];
}

function channelForm(admin, rec) {
  const isNew = !rec;
  const extra = [];
  if (!isNew) {
    extra.push(confirmButton('Delete', `Delete channel ${rec.id}? Its chats stay; replies still waiting for it are dropped.`, async () => {
      try {
        await admin.call('DELETE', path(rec.id));
        await admin.saved(null, `Deleted channel ${rec.id}.`);
      } catch (err) {
        form.showError(err);
      }
    }));
  }
  const form = new Form(channelFields(admin, rec), {
    submitLabel: isNew ? 'Create channel' : 'Save changes',
    extra,
    onSubmit: async (f) => {
      const v = f.values();
      const body = { name: v.name, kind: v.kind, department: v.department, language: v.language, enabled: v.enabled };
      if (v.kind === WHATSAPP) body.whatsapp = v.whatsapp;
      else body.api = v.api;
      if (isNew) {
        if (v.id) body.id = v.id;
        const out = await admin.call('POST', '/admin/channels', body);
        await admin.saved(out.id, `Created channel ${out.id}.`);
        return;
      }
      await admin.call('PUT', path(rec.id), body);
      await admin.saved(rec.id, `Saved channel ${rec.id}.`);
    },
  });
  form.set(rec || { kind: API, enabled: true });
  // Only the settings of the kind picked are shown (and sent).
  const kind = form.input('kind');
  const groups = [...form.el.querySelectorAll('fieldset[data-group]')];
  const showKind = () => {
    for (const g of groups) g.hidden = g.dataset.group !== (kind.value === WHATSAPP ? 'whatsapp' : 'api');
  };
  kind.addEventListener('change', showKind);
  showKind();
  return h('div', { class: 'record', 'data-id': isNew ? '' : rec.id },
    detailHead(isNew ? 'New channel' : (rec.name || rec.id), ...(isNew ? [] : [pill(rec.enabled, 'enabled', 'disabled')])),
    isNew ? null : inbound(rec),
    form.el);
}

// inbound tells where the outside side sends its messages.
function inbound(rec) {
  const text = rec.kind === WHATSAPP
    ? 'In the Meta app’s WhatsApp settings, set the webhook’s callback URL to this (and its verify token to the one below):'
    : 'Your system posts its customers’ messages, signed with the secret, to:';
  return h('div', { class: 'inbound', id: 'channel-inbound' },
    h('p', { class: 'hint' }, text), h('code', { class: 'inbound-url' }, inboundURL(rec)));
}
