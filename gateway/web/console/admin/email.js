// The email settings: the SMTP server the broker sends through (its
// password write-only: shown empty, and an empty one keeps the stored one
// while host, port and user stay the same) and the emails' templates, the
// defaults and one set per department. Read with GET /admin/email and
// saved whole with PUT; a refusal is shown next to the field it names.
// "Send a test email" tries the stored settings at once (POST
// /admin/email/test).
import { h, fill } from '/lib/dom.js';
import { Form } from '/console/admin/form.js';

const SECURITY = [
  { value: 'SMTP_SECURITY_STARTTLS', label: 'STARTTLS (usually port 587)' },
  { value: 'SMTP_SECURITY_TLS', label: 'TLS from the start (usually port 465)' },
  { value: 'SMTP_SECURITY_NONE', label: 'None: only to a server on this machine (port 25)' },
];

const EMAILS = [
  ['transcript', 'Transcript: a visitor asks for their chat'],
  ['agent', 'From an agent: the Email button in a chat'],
  ['offline_reply', 'Answer to an offline message'],
];

const PLACEHOLDERS = 'placeholders: {visitor.name} {visitor.email} {agent.name} {department.name} {chat.transcript} '
  + '{message} {subject} {brand.name} {brand.logo_url}';

function smtpFields() {
  return [
    { name: 'smtp.enabled', label: 'Send email through this server', kind: 'checkbox', hint: 'off: nothing is sent; mails wait in the outbox' },
    { name: 'smtp.host', label: 'Server', hint: 'its name or address, without port or scheme: smtp.example.com' },
    { name: 'smtp.port', label: 'Port', kind: 'number', hint: 'empty: 587 (STARTTLS), 465 (TLS), 25 (none)' },
    { name: 'smtp.security', label: 'Security', kind: 'select', options: SECURITY },
    { name: 'smtp.user', label: 'User', hint: 'empty: no login' },
    { name: 'smtp.password', label: 'Password', kind: 'password', autocomplete: 'new-password',
      hint: 'empty keeps the stored one (while server, port and user stay the same)' },
    { name: 'smtp.from', label: 'From address', hint: 'the sender, a bare address: support@example.com' },
    { name: 'smtp.ca_pem', label: 'CA certificates (PEM)', kind: 'textarea', hint: 'for a server with its own CA; empty: the system’s' },
  ];
}

// templateGroup is the fields of one template set, named
// templates.<department>.… ("" is the defaults: templates..brand_name).
function templateGroup(dept, title) {
  const p = `templates.${dept}`;
  return { group: title, key: `templates-${dept}`, fields: [
    { name: `${p}.brand_name`, label: 'Brand name', hint: dept === '' ? 'empty: the department’s name' : 'empty: the defaults’' },
    { name: `${p}.logo_url`, label: 'Logo URL', hint: 'https://…, shown at the top of the HTML body' },
    ...EMAILS.map(([k, label]) => ({ group: label, fields: [
      { name: `${p}.${k}.subject`, label: 'Subject' },
      { name: `${p}.${k}.text`, label: 'Text body', kind: 'textarea', hint: PLACEHOLDERS },
      { name: `${p}.${k}.html`, label: 'HTML body', kind: 'textarea', hint: 'every value put in it is escaped; empty: made from the text' },
    ] })),
  ] };
}

// templateSets are the sets the page edits: the defaults, each department,
// and any set stored for a department that is gone (emptied, it is dropped).
function templateSets(admin, settings) {
  const deps = (admin.dir.departments || []).map((d) => [d.id, `${d.name || d.id} (${d.id})`]);
  const gone = Object.keys(settings.templates || {}).filter((k) => k !== '' && !deps.some(([id]) => id === k))
    .map((k) => [k, `${k} (no such department)`]);
  return [['', 'Defaults (every department)'], ...deps, ...gone];
}

// compact drops empty strings and objects (an empty template falls back
// to the defaults anyway); null when nothing is left.
function compact(o) {
  const out = {};
  for (const [k, v] of Object.entries(o || {})) {
    const c = v !== null && typeof v === 'object' ? compact(v) : v;
    if (c !== '' && c !== null) out[k] = c;
  }
  return Object.keys(out).length ? out : null;
}

export function emailPage(admin) {
  const section = h('section', { class: 'settings card', id: 'admin-detail', 'aria-labelledby': 'email-title' },
    h('h2', { id: 'email-title' }, 'Email'), h('p', { class: 'hint' }, 'Reading the settings…'));
  admin.call('GET', '/admin/email').then((settings) => {
    const s = settings || {};
    const sets = templateSets(admin, s);
    const form = emailForm(admin, sets);
    form.set(s);
    fill(section, h('h2', { id: 'email-title' }, 'Email'),
      h('p', { class: 'hint' }, 'Switchboard sends transcripts, agents’ emails and answers to offline messages through your SMTP server. '
        + 'A template field left empty falls back to the defaults, then to Switchboard’s own.'),
      form.el, testForm(admin, form));
    section.dataset.loaded = 'true';
  }, (err) => {
    fill(section, h('h2', { id: 'email-title' }, 'Email'), h('p', { class: 'error', role: 'alert' }, `Cannot read the settings: ${err.message}`));
  });
  return section;
}

// emailForm is the settings' form, with a picker of the template set shown.
function emailForm(admin, sets) {
  const picker = h('select', { id: 'email-templates-for', onchange: () => show(picker.value) },
    sets.map(([id, label]) => h('option', { value: id }, label)));
  const form = new Form([
    { group: 'SMTP server', fields: smtpFields() },
    ...sets.map(([id, label]) => templateGroup(id, `Templates: ${label}`)),
  ], {
    submitLabel: 'Save email settings',
    // A refusal about a template shows that template set first.
    beforeError: (err) => {
      const m = /^templates\.([^.]*)\./.exec(err.field || '');
      if (m && sets.some(([id]) => id === m[1])) show(m[1]);
    },
    onSubmit: async (f) => {
      const v = f.values();
      await admin.call('PUT', '/admin/email', { smtp: v.smtp, templates: compact(v.templates) || {} });
      await admin.saved(null, 'Saved the email settings.');
    },
  });
  const groups = [...form.el.querySelectorAll('fieldset[data-group^="templates-"]')];
  function show(id) {
    picker.value = id;
    for (const g of groups) g.hidden = g.dataset.group !== `templates-${id}`;
  }
  groups[0].before(h('div', { class: 'field' }, h('label', { for: picker.id }, 'Templates of'), picker));
  show('');
  return form;
}

// testForm sends a test email through the stored settings; a refusal
// about the settings is shown next to their field in the settings' form.
function testForm(admin, settingsForm) {
  const to = h('input', { type: 'email', id: 'email-test-to', name: 'to', autocomplete: 'email', 'aria-describedby': 'email-test-to-error' });
  const error = h('p', { class: 'error field-error', id: 'email-test-to-error', 'data-error-for': 'to' });
  const result = h('p', { class: 'saved', role: 'status', id: 'email-test-result' });
  const send = h('button', { type: 'submit', class: 'test-send' }, 'Send a test email');
  return h('form', { class: 'admin-form email-test', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    result.textContent = '';
    to.removeAttribute('aria-invalid');
    settingsForm.clearErrors();
    send.disabled = true;
    try {
      const out = await admin.call('POST', '/admin/email/test', { to: to.value.trim() });
      result.textContent = (out && out.message) || 'Sent.';
    } catch (err) {
      if (err.field === 'to') {
        error.textContent = err.message;
        to.setAttribute('aria-invalid', 'true');
        to.focus();
      } else {
        settingsForm.showError(err);
      }
    } finally {
      send.disabled = false;
    }
  } },
  h('div', { class: 'field' }, h('label', { for: to.id }, 'Send a test email to'), to,
    h('p', { class: 'hint' }, 'through the saved settings (save a change first)'), error),
  h('div', { class: 'form-actions' }, send, result));
}
