// The administrator's pages (departments, languages, staff, roles, site
// settings, the audit log) on the admin API.
import { h, fill } from '/lib/dom.js';

export function mount(el) {
  fill(el, h('p', {}, 'Administration'));
  return {};
}
