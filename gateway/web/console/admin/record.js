// recordPage: the page of one kind of directory record (departments,
// staff, roles, languages): the list, and the open record's form. A new
// record is written whole (PUT); a change sends only the fields that
// changed (PATCH, a JSON merge patch), so the others, and any field these
// pages do not show, stay as they are.
import { h } from '/lib/dom.js';
import { Form, confirmButton } from '/console/admin/form.js';
import { masterDetail, detailHead } from '/console/admin/list.js';

// kind:
//   page, title, noun ("department"), items, key(rec), label(rec), sub(rec)
//   path(key): the record's API path
//   fields(rec, isNew): the form's specs
//   newKey(values): the key of a new record from the form (default values.id)
//   body(values): the PUT body of a new record (default values)
//   head(rec): extra nodes for the record's heading (pills, buttons)
//   readonly(rec): the record cannot be changed (a built-in role)
//   blank: the values a new record starts with
export function recordPage(admin, kind) {
  const items = kind.items || [];
  const sel = admin.selected;
  const rec = sel === null ? null : (items.find((it) => kind.key(it) === sel) || null);
  let detail;
  if (sel === null) {
    detail = h('p', { class: 'empty pick' }, `Pick a ${kind.noun} in the list, or make a new one.`);
  } else if (sel !== '' && !rec) {
    detail = h('p', { class: 'empty pick' }, `The ${kind.noun} ${sel} is gone.`);
  } else {
    detail = recordForm(admin, kind, rec);
  }
  return masterDetail({
    title: kind.title, items, key: kind.key, label: kind.label, sub: kind.sub,
    selected: sel, filter: admin.filters[kind.page], onFilter: (v) => { admin.filters[kind.page] = v; },
    onSelect: (k) => admin.open(k), newLabel: `New ${kind.noun}`, detail,
  });
}

function recordForm(admin, kind, rec) {
  const isNew = !rec;
  const readonly = !isNew && kind.readonly && kind.readonly(rec);
  const specs = kind.fields(rec, isNew).map((s) => (readonly ? markReadonly(s) : s));
  const extra = [];
  if (!isNew && !readonly) {
    extra.push(confirmButton(`Delete`, `Delete ${kind.noun} ${kind.key(rec)}?`, async () => {
      try {
        await admin.call('DELETE', kind.path(kind.key(rec)));
        await admin.saved(null, `Deleted ${kind.noun} ${kind.key(rec)}.`);
      } catch (err) {
        form.showError(err);
      }
    }));
  }
  const form = new Form(specs, {
    submitLabel: isNew ? `Create ${kind.noun}` : 'Save changes',
    extra,
    onSubmit: async (f) => {
      if (isNew) {
        const values = f.values();
        const key = kind.newKey ? kind.newKey(values) : values.id;
        if (!key) throw Object.assign(new Error('Give it an id.'), { field: kind.keyField || 'id' });
        await admin.call('PUT', kind.path(key), kind.body ? kind.body(values) : values);
        await admin.saved(key, `Created ${kind.noun} ${key}.`);
        return;
      }
      const patch = f.changes(rec);
      if (!Object.keys(patch).length) {
        f.saved('Nothing changed.');
        return;
      }
      await admin.call('PATCH', kind.path(kind.key(rec)), patch);
      await admin.saved(kind.key(rec), `Saved ${kind.noun} ${kind.key(rec)}: ${Object.keys(patch).join(', ')}.`);
    },
  });
  form.set(rec || kind.blank || {});
  if (readonly) form.el.classList.add('readonly');
  const title = isNew ? `New ${kind.noun}` : kind.label(rec);
  return h('div', { class: 'record', 'data-id': isNew ? '' : kind.key(rec) },
    detailHead(title, ...(isNew || !kind.head ? [] : kind.head(rec, form))),
    form.el);
}

function markReadonly(spec) {
  if (spec.group) return { ...spec, fields: spec.fields.map(markReadonly) };
  return { ...spec, readonly: true };
}

// pill is a small on/off label.
export function pill(on, yes, no) {
  return h('span', { class: `pill ${on ? 'on' : 'off'}` }, on ? yes : no);
}

// idSpec is the field of a record's id: typed for a new record, shown
// for an existing one.
export function idSpec(isNew, label = 'Id', name = 'id') {
  return { name, label, readonly: !isNew, hint: isNew ? 'a-z, 0-9, - _ . (at most 64); it cannot change later' : null };
}

// accessGroup is the fields of access rules (an account's or a role's):
// allowed addresses, login hours and their time zone.
export function accessGroup(title) {
  return { group: title, fields: [
    { name: 'access.ip_allow', label: 'Allowed addresses', kind: 'lines', hint: 'CIDR ranges, one a line (203.0.113.0/24); none: any' },
    { name: 'access.login_hours', label: 'Login hours', kind: 'windows', hint: 'none: any time' },
    { name: 'access.time_zone', label: 'Time zone of the login hours', kind: 'zone' },
  ] };
}
