// fetchedPage: the master-detail page of records read from their own
// admin route (channels, webhooks) rather than from the directory: read
// again each time the page is shown (a save shows it again, so the list
// is the broker's after every change).
import { h, fill } from '/lib/dom.js';
import { masterDetail } from '/console/admin/list.js';

// kind:
//   page, title, noun, key(rec), label(rec), sub(rec)
//   load(): a promise of {items, ...} (the rest is passed on to detail)
//   detail(rec, data): the open record's form (rec null for a new one)
export function fetchedPage(admin, kind) {
  const box = h('div', { class: 'fetched', 'data-loaded': 'false' }, h('p', { class: 'hint' }, `Reading the ${kind.title.toLowerCase()}…`));
  const sel = admin.selected;
  kind.load().then((data) => {
    const items = data.items || [];
    const rec = sel === null ? null : (items.find((it) => kind.key(it) === sel) || null);
    let detail;
    if (sel === null) {
      detail = h('p', { class: 'empty pick' }, `Pick a ${kind.noun} in the list, or make a new one.`);
    } else if (sel !== '' && !rec) {
      detail = h('p', { class: 'empty pick' }, `The ${kind.noun} ${sel} is gone.`);
    } else {
      detail = kind.detail(rec, data);
    }
    fill(box, masterDetail({
      title: kind.title, items, key: kind.key, label: kind.label, sub: kind.sub,
      selected: sel, filter: admin.filters[kind.page], onFilter: (v) => { admin.filters[kind.page] = v; },
      onSelect: (k) => admin.open(k), newLabel: `New ${kind.noun}`, detail,
    }));
    box.dataset.loaded = 'true';
    if (sel !== null) {
      const first = box.querySelector('#admin-detail input:not([disabled]), #admin-detail select');
      if (first) first.focus();
    }
  }, (err) => {
    fill(box, h('p', { class: 'error', role: 'alert' }, `Cannot read the ${kind.title.toLowerCase()}: ${err.message}`));
  });
  return box;
}

// secretHint is the hint of a write-only secret: whether one is stored,
// and what an empty field does.
export function secretHint(set, keeps, rule) {
  return set ? `Set. Leave empty to keep it${keeps ? ` (${keeps})` : ''}; it is never shown.` : `Not set: required, ${rule}.`;
}
