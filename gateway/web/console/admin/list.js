// The master-detail layout of the admin pages: a filterable list of
// records (buttons, so the keyboard reaches each) beside the selected
// record's form. Long lists show the first MAX_SHOWN matches and say how
// many more a filter would narrow down.
import { h, fill } from '/lib/dom.js';

const MAX_SHOWN = 200;

// masterDetail renders the page. opts:
//   title, items, key(item), label(item), sub(item) (a second line),
//   selected (a key, or '' for a new record), filter (the text kept across
//   renders), onFilter(text), onSelect(key), newLabel, detail (an element)
export function masterDetail(opts) {
  const list = h('ul', { class: 'admin-list', 'aria-label': opts.title });
  const count = h('span', { class: 'count', role: 'status' });
  const filter = h('input', {
    type: 'search', class: 'list-filter', placeholder: `Filter ${opts.title.toLowerCase()}`, 'aria-label': `Filter ${opts.title.toLowerCase()}`,
    value: opts.filter || '',
    oninput: () => { opts.onFilter(filter.value); draw(); },
  });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const hits = opts.items.filter((it) => !q || `${opts.key(it)} ${opts.label(it)} ${opts.sub(it)}`.toLowerCase().includes(q));
    fill(list, hits.slice(0, MAX_SHOWN).map((it) => {
      const k = opts.key(it);
      const current = k === opts.selected;
      return h('li', { 'data-id': k, class: current ? 'current' : null },
        h('button', { type: 'button', 'aria-current': current ? 'true' : null, onclick: () => opts.onSelect(k) },
          h('span', { class: 'item-label' }, opts.label(it)),
          h('span', { class: 'item-sub' }, opts.sub(it))));
    }));
    if (!hits.length) list.append(h('li', { class: 'empty' }, q ? 'Nothing matches.' : 'None yet.'));
    count.textContent = hits.length > MAX_SHOWN ? `${MAX_SHOWN} of ${hits.length} shown: filter to narrow`
      : `${hits.length} of ${opts.items.length}`;
  };
  draw();
  const newButton = h('button', { type: 'button', class: 'new', onclick: () => opts.onSelect('') }, opts.newLabel);
  return h('div', { class: 'md' },
    h('section', { class: 'md-list', 'aria-label': `${opts.title}: list` },
      h('div', { class: 'md-head' }, h('h2', {}, opts.title), newButton),
      filter, count, list),
    h('section', { class: 'md-detail', id: 'admin-detail', 'aria-label': `${opts.title}: details` }, opts.detail));
}

// detailHead is the top of a record's form: its title, a note (pills) and
// buttons.
export function detailHead(title, ...rest) {
  return h('div', { class: 'detail-head' }, h('h3', {}, title), ...rest);
}
