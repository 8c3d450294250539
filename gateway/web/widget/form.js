// The pre-chat form: name, email, department (those taking chats now; a
// closed one says when it opens), language and the first message; or no
// department list when the button names one.
import { h } from '/lib/dom.js';
import { when } from './i18n.js';

// prechat builds the form. cfg is /api/widget/config; fixed is the
// department the embedding names ("" for a list); values are what the
// visitor typed before (kept across a change of language); onLanguage and
// onDepartment are called on a change, onSubmit with the values.
// nameLocked: staff asking a colleague, whose name is their account's.
export function prechat({ t, lang, cfg, fixed, values, greeting, nameLocked, onLanguage, onDepartment, onSubmit }) {
  const deps = cfg.departments || [];
  const open = deps.filter((d) => d.open);
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const name = h('input', { id: 'name', name: 'name', autocomplete: 'name', maxlength: 128, required: true, value: values.name || '',
    readonly: !!nameLocked });
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, value: values.email || '' });
  const message = h('textarea', { id: 'message', name: 'message', rows: 3, maxlength: 4000, required: true }, values.message || '');
  const error = h('p', { class: 'error', role: 'alert', hidden: !values.error }, values.error || '');
  const notes = [];
  let department = null;
  let usable = open.length > 0;
  if (fixed) {
    const d = deps.find((x) => x.id === fixed);
    usable = !!(d && d.open);
    if (d && !d.open) notes.push(h('p', { class: 'closed' }, d.opens_at_ms ? t.closedUntil(d.name, when(d.opens_at_ms, lang)) : t.refused.DEPARTMENT_CLOSED));
  } else {
    const options = open.map((d) => h('option', { value: d.id }, d.name));
    for (const d of deps) {
      if (!d.open && d.opens_at_ms) {
        options.push(h('option', { value: d.id, disabled: true }, `${d.name} (${t.opensAt(when(d.opens_at_ms, lang))})`));
      }
    }
    department = h('select', { id: 'department', name: 'department', onchange: () => onDepartment(department.value) }, options);
    if (values.department && open.some((d) => d.id === values.department)) department.value = values.department;
    if (!usable) notes.push(h('p', { class: 'closed' }, t.noneOpen));
  }
  const language = h('select', { id: 'language', name: 'language', onchange: () => onLanguage(language.value, read()) },
    (cfg.languages || []).map((l) => h('option', { value: l.code }, l.name || l.code)));
  const codes = (cfg.languages || []).map((l) => l.code);
  language.value = codes.includes(lang) ? lang : (codes.includes('en') ? 'en' : codes[0] || '');
  const start = h('button', { type: 'submit', class: 'start', disabled: !usable }, t.start);
  function read() {
    return { name: name.value.trim(), email: email.value.trim(), message: message.value.trim(),
      department: fixed || (department ? department.value : ''), language: language.value };
  }
  const form = h('form', { class: 'prechat', novalidate: true }, h('p', { class: 'greeting' }, greeting), ...notes, error,
    field(t.name, name), field(t.email, email),
    department && open.length ? field(t.department, department) : (department ? h('div', { hidden: true }, department) : null),
    (cfg.languages || []).length > 1 ? field(t.language, language) : null,
    field(t.message, message), start);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = read();
    if (!v.name || !v.message) {
      error.textContent = t.required;
      error.hidden = false;
      (v.name ? message : name).focus();
      return;
    }
    start.disabled = true;
    start.textContent = t.starting;
    const problem = await onSubmit(v);
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      start.disabled = false;
      start.textContent = t.start;
    }
  });
  return { form, first: name, department: () => (fixed || (department ? department.value : '')) };
}
