// The replies tab: one's own canned replies and, for the departments one
// manages (or every department, for an administrator), the department's.
// A reply is a shortcut (#refund) and a text with placeholders.
import { api } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';

const HINT = 'Placeholders: {visitor.name}, {agent.name}, {department.name}';

export class RepliesTab {
  constructor(desk, section) {
    this.desk = desk;
    this.section = section;
    this.scope = h('select', { id: 'canned-scope', 'aria-label': 'Whose replies', onchange: () => this.load() });
    this.list = h('ul', { class: 'canned-list', 'aria-label': 'Canned replies' });
    this.shortcut = h('input', { id: 'canned-shortcut', 'aria-label': 'Shortcut', placeholder: 'refund', maxlength: 32, pattern: '[a-z0-9][a-z0-9_-]*' });
    this.text = h('textarea', { id: 'canned-text', 'aria-label': 'Text', rows: 3, maxlength: 4096, placeholder: HINT });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.form = h('form', { class: 'canned-form' },
      h('label', {}, '#', this.shortcut), this.text, h('p', { class: 'hint' }, HINT),
      h('button', { type: 'submit', id: 'canned-save' }, 'Save'), this.error);
    this.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.save(); });
    fill(section, h('h2', {}, 'Canned replies'), this.scope, this.list, this.form);
  }

  // path is the scope's collection: one's own, or a department's.
  path(shortcut) {
    const dept = this.scope.value;
    const base = dept ? `/admin/departments/${encodeURIComponent(dept)}/canned` : '/api/canned';
    return shortcut === undefined ? base : `${base}/${encodeURIComponent(shortcut)}`;
  }

  open() {
    const me = this.desk.me || {};
    const deps = this.desk.perms.has('admin') ? [...new Set([...(me.departments || []), ...(me.monitors || [])])] : me.manages || [];
    fill(this.scope, h('option', { value: '' }, 'Mine'), deps.map((d) => h('option', { value: d }, `Department ${d}`)));
    this.scope.hidden = !deps.length;
    this.load();
  }

  async load() {
    const dept = this.scope.value;
    try {
      const ans = await api('GET', this.path(), this.desk.token);
      const rs = (ans.replies || []).filter((r) => (dept ? r.department === dept : r.agent_id));
      fill(this.list, rs.map((r) => h('li', { class: 'canned-item', 'data-shortcut': r.shortcut },
        h('strong', {}, `#${r.shortcut}`), ' ', h('span', { class: 'text' }, r.text),
        h('button', { class: 'edit link', onclick: () => { this.shortcut.value = r.shortcut; this.text.value = r.text; this.text.focus(); } }, 'Edit'),
        h('button', { class: 'delete link', onclick: () => this.remove(r.shortcut) }, 'Delete'))));
      if (!rs.length) this.list.append(h('li', { class: 'empty' }, 'No canned replies yet.'));
    } catch (err) {
      this.error.textContent = err.message;
    }
  }

  async save() {
    this.error.textContent = '';
    try {
      await api('PUT', this.path(this.shortcut.value.trim().replace(/^#/, '')), this.desk.token, { text: this.text.value });
      this.shortcut.value = '';
      this.text.value = '';
      this.changed();
    } catch (err) {
      this.error.textContent = err.message;
    }
  }

  async remove(shortcut) {
    try {
      await api('DELETE', this.path(shortcut), this.desk.token);
      this.changed();
    } catch (err) {
      this.error.textContent = err.message;
    }
  }

  changed() {
    this.desk.cannedCache = null;
    this.load();
  }
}
