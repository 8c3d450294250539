// Forms of the admin pages, built from a list of field specs. A spec's
// name is the field's JSON name in the API's record, nested with dots
// ("access.time_zone"): the same name the server's typed errors give in
// `field`, so each error is shown next to its field.
//
// Spec: {name, label, kind, hint, options, readonly, scale}
//   kind: text (default), password, number, checkbox, select, checks (a
//   list of checkboxes: options [{value, label, hint}]; showAll: never
//   scrolled nor filtered), lines (a list of
//   strings, one a line), textarea (a long string), json (a JSON value
//   as text; spec.empty is its empty value), windows (weekly windows),
//   zone (a time zone).
import { h, fill } from '/lib/dom.js';
import { WindowsInput } from '/console/admin/windows.js';

let formSeq = 0;

export class Form {
  // specs: the fields, or groups of them ({group: legend, key, fields},
  // nested as deep as needed); onSubmit(form) is called on submit;
  // beforeError(err), if given, is called before a typed error is shown
  // (to show the part of the form its field is in).
  constructor(specs, { submitLabel = 'Save', onSubmit, extra = [], beforeError } = {}) {
    this.id = `f${++formSeq}`;
    this.specs = specs;
    this.inputs = new Map(); // name -> {get, set, el, error}
    this.error = h('p', { class: 'error form-error', role: 'alert' });
    this.submit = h('button', { type: 'submit', class: 'save' }, submitLabel);
    this.status = h('span', { class: 'saved', role: 'status' });
    this.beforeError = beforeError;
    const node = (s) => (s.group ? h('fieldset', { class: 'group', 'data-group': s.key }, h('legend', {}, s.group), s.fields.map(node))
      : this.field(s));
    this.el = h('form', { class: 'admin-form', novalidate: true },
      specs.map(node),
      h('div', { class: 'form-actions' }, this.submit, ...extra, this.status),
      this.error);
    this.el.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      this.clearErrors();
      this.submit.disabled = true;
      try {
        await onSubmit(this);
      } catch (err) {
        this.showError(err);
      } finally {
        this.submit.disabled = false;
      }
    });
  }

  field(spec) {
    const id = `${this.id}-${spec.name.replace(/\./g, '-')}`;
    const error = h('p', { class: 'error field-error', id: `${id}-error`, 'data-error-for': spec.name });
    const hint = spec.hint ? h('p', { class: 'hint', id: `${id}-hint` }, spec.hint) : null;
    const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(' ');
    const control = makeControl(spec, id, describedBy);
    this.inputs.set(spec.name, { ...control, error, spec });
    const label = spec.kind === 'checks' || spec.kind === 'windows' || spec.kind === 'lines-group'
      ? h('span', { class: 'label', id: `${id}-label` }, spec.label)
      : h('label', { for: id }, spec.label);
    if (spec.kind === 'checkbox') {
      return h('div', { class: 'field check', 'data-field': spec.name }, control.el, label, hint, error);
    }
    return h('div', { class: 'field', 'data-field': spec.name }, label, control.el, hint, error);
  }

  // set fills the fields from a record (missing keys: the field's empty value).
  set(record) {
    for (const [name, c] of this.inputs) c.set(getPath(record, name));
  }

  // values returns the record the fields hold, nested by the dots in names.
  values() {
    const out = {};
    for (const [name, c] of this.inputs) {
      if (c.spec.readonly) continue;
      setPath(out, name, c.get());
    }
    return out;
  }

  // changes returns the top-level keys of values() that differ from the
  // record's (a nested object whole, so a merge patch replaces it all).
  changes(record) {
    const now = this.values();
    const was = {};
    for (const name of this.inputs.keys()) setPath(was, name, this.inputs.get(name).normalize(getPath(record, name)));
    const out = {};
    for (const k of Object.keys(now)) {
      if (JSON.stringify(now[k]) !== JSON.stringify(was[k])) out[k] = now[k];
    }
    return out;
  }

  clearErrors() {
    this.error.textContent = '';
    this.status.textContent = '';
    for (const c of this.inputs.values()) {
      c.error.textContent = '';
      c.focusEl.removeAttribute('aria-invalid');
    }
  }

  // showError puts a typed error next to the field it names (or the
  // nearest enclosing one: "access.login_hours" falls back to "access"),
  // else under the form.
  showError(err) {
    if (this.beforeError) this.beforeError(err);
    let name = err.field || '';
    while (name && !this.inputs.has(name)) name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const c = name && this.inputs.get(name);
    if (c) {
      c.error.textContent = err.message;
      c.focusEl.setAttribute('aria-invalid', 'true');
      c.focusEl.focus();
    } else {
      this.error.textContent = err.message || String(err);
    }
  }

  saved(text) {
    this.status.textContent = text;
  }

  input(name) {
    return this.inputs.get(name).focusEl;
  }
}

function makeControl(spec, id, describedBy) {
  const aria = { id, 'aria-describedby': describedBy, name: spec.name, disabled: spec.readonly };
  const scale = spec.scale || 1;
  switch (spec.kind) {
    case 'checkbox': {
      const el = h('input', { type: 'checkbox', ...aria });
      const invert = !!spec.invert;
      return simple(el, () => el.checked !== invert, (v) => { el.checked = !!v !== invert; }, (v) => !!v);
    }
    case 'number': {
      const el = h('input', { type: 'number', inputmode: 'numeric', min: 0, step: 1, ...aria });
      return simple(el, () => Math.round(Number(el.value || 0) * scale), (v) => { el.value = v ? String(Number(v) / scale) : ''; },
        (v) => Number(v || 0));
    }
    case 'select': {
      const el = h('select', aria, spec.options.map((o) => h('option', { value: o.value }, o.label)));
      const first = spec.options[0].value;
      return simple(el, () => el.value, (v) => { el.value = v || first; }, (v) => v || first);
    }
    case 'checks':
      return checks(spec, id, describedBy);
    case 'lines': {
      const el = h('textarea', { rows: 3, ...aria });
      const norm = (v) => (v || []).map(String);
      return simple(el, () => el.value.split('\n').map((s) => s.trim()).filter(Boolean), (v) => { el.value = norm(v).join('\n'); }, norm);
    }
    case 'textarea': {
      const el = h('textarea', { rows: spec.rows || 4, spellcheck: 'false', ...aria });
      return simple(el, () => el.value.trim(), (v) => { el.value = v || ''; }, (v) => v || '');
    }
    case 'json': {
      // A JSON value edited as text (a list of records the form has no
      // fields for); text that does not parse is sent as is, for the
      // server's typed error to name.
      const el = h('textarea', { rows: spec.rows || 6, spellcheck: 'false', class: 'json', ...aria });
      const norm = (v) => (v === undefined || v === null ? spec.empty : v);
      return simple(el, () => {
        try {
          return JSON.parse(el.value || 'null') ?? spec.empty;
        } catch {
          return el.value;
        }
      }, (v) => { el.value = JSON.stringify(norm(v), null, 1); }, norm);
    }
    case 'windows': {
      const w = new WindowsInput(id, `${id}-label`, describedBy);
      return { el: w.el, focusEl: w.focusEl, get: () => w.get(), set: (v) => w.set(v), normalize: WindowsInput.normalize };
    }
    case 'zone': {
      const el = h('input', { type: 'text', list: 'admin-zones', autocomplete: 'off', placeholder: 'UTC', ...aria });
      return simple(el, () => el.value.trim(), (v) => { el.value = v || ''; }, (v) => v || '');
    }
    default: {
      const el = h('input', { type: spec.kind === 'password' ? 'password' : 'text', autocomplete: spec.autocomplete || 'off', ...aria });
      return simple(el, () => el.value.trim(), (v) => { el.value = v || ''; }, (v) => v || '');
    }
  }
}

function simple(el, get, set, normalize) {
  return { el, focusEl: el, get, set, normalize };
}

// checks is a list of checkboxes (departments, languages, permissions),
// scrolling when long, with a filter when there are many.
function checks(spec, id, describedBy) {
  const boxes = spec.options.map((o, i) => {
    const boxId = `${id}-${i}`;
    const box = h('input', { type: 'checkbox', id: boxId, value: o.value, disabled: spec.readonly });
    return h('li', { 'data-text': `${o.label} ${o.value}`.toLowerCase() },
      box, h('label', { for: boxId }, o.label, o.hint ? h('span', { class: 'hint' }, ` ${o.hint}`) : null));
  });
  const list = h('ul', { class: spec.showAll ? 'checks all' : 'checks', role: 'group', 'aria-labelledby': `${id}-label`, 'aria-describedby': describedBy }, boxes);
  if (!spec.options.length) list.append(h('li', { class: 'empty' }, 'none yet'));
  const filter = spec.options.length > 12 && !spec.showAll ? h('input', {
    type: 'search', class: 'checks-filter', placeholder: 'Filter', 'aria-label': `Filter ${spec.label}`,
    oninput: () => {
      const q = filter.value.toLowerCase();
      for (const li of boxes) li.hidden = !!q && !li.dataset.text.includes(q);
    },
  }) : null;
  const inputs = () => [...list.querySelectorAll('input')];
  const el = h('div', { class: 'checks-box' }, filter, list);
  return {
    el,
    focusEl: filter || inputs()[0] || list,
    get: () => inputs().filter((b) => b.checked).map((b) => b.value),
    set: (v) => { const s = new Set(v || []); for (const b of inputs()) b.checked = s.has(b.value); },
    normalize: (v) => spec.options.map((o) => o.value).filter((x) => (v || []).includes(x)),
  };
}

export function getPath(obj, name) {
  return name.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, name, v) {
  const keys = name.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] = o[k] || {};
  o[keys[keys.length - 1]] = v;
}

// zoneList adds (once) the datalist of time zones the zone fields offer.
export function zoneList() {
  if (document.getElementById('admin-zones')) return null;
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
  return h('datalist', { id: 'admin-zones' }, ['UTC', ...zones].map((z) => h('option', { value: z })));
}

// confirmButton is a button that asks again in place (no dialog): the
// first press shows "Really …?" with Yes and No.
export function confirmButton(label, question, action) {
  const box = h('span', { class: 'confirm' });
  const ask = h('button', { type: 'button', class: 'danger', onclick: () => {
    const yes = h('button', { type: 'button', class: 'danger yes', onclick: async () => { await action(); } }, 'Yes');
    const no = h('button', { type: 'button', onclick: () => { fill(box, ask); ask.focus(); } }, 'No');
    fill(box, h('span', {}, question), yes, no);
    no.focus();
  } }, label);
  fill(box, ask);
  return box;
}
