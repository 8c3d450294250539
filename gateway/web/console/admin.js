// The administrator's pages (departments, live chats, channels, webhooks,
// staff, roles, languages, site settings, sign-in, email, the audit log)
// on the admin API, called with the staff member's own session token.
// Each page is a module under admin/. Most render from the directory (GET
// /admin/directory) and write with PUT (a new record) or PATCH (a JSON
// merge patch of the changed fields only, so a change of one field keeps
// the others, even fields these pages do not show); channels and webhooks
// read their own routes and write each record whole (admin/fetched.js).
import { api } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';
import { zoneList } from '/console/admin/form.js';
import { departmentsPage } from '/console/admin/departments.js';
import { staffPage } from '/console/admin/staff.js';
import { rolesPage } from '/console/admin/roles.js';
import { languagesPage } from '/console/admin/languages.js';
import { settingsPage } from '/console/admin/settings.js';
import { signInPage } from '/console/admin/signin.js';
import { emailPage } from '/console/admin/email.js';
import { auditPage } from '/console/admin/audit.js';
import { liveChatsPage } from '/console/admin/livechats.js';
import { channelsPage } from '/console/admin/channels.js';
import { webhooksPage } from '/console/admin/webhooks.js';

const PAGES = [
  ['departments', 'Departments', departmentsPage],
  ['livechats', 'Live chats', liveChatsPage],
  ['channels', 'Channels', channelsPage],
  ['webhooks', 'Webhooks', webhooksPage],
  ['staff', 'Staff', staffPage],
  ['roles', 'Roles', rolesPage],
  ['languages', 'Languages', languagesPage],
  ['settings', 'Site settings', settingsPage],
  ['signin', 'Sign-in', signInPage],
  ['email', 'Email', emailPage],
  ['audit', 'Audit log', auditPage],
];

export function mount(el, { token, me }) {
  const admin = new Admin(el, token, me);
  admin.start();
  return admin;
}

class Admin {
  constructor(el, token, me) {
    this.token = token;
    this.me = me;
    this.dir = null;
    this.page = 'departments';
    this.selected = null; // the key of the open record, '' for a new one, null for none
    this.filters = {};
    if (!document.querySelector('link[href="/console/admin/admin.css"]')) {
      document.head.append(h('link', { rel: 'stylesheet', href: '/console/admin/admin.css' }));
    }
    this.nav = h('nav', { class: 'admin-nav', 'aria-label': 'Administration' },
      PAGES.map(([id, label]) => h('button', { type: 'button', id: `admin-nav-${id}`, onclick: () => this.show(id) }, label)));
    this.body = h('div', { class: 'admin-body', id: 'admin-page' });
    this.note = h('p', { class: 'admin-note', role: 'status' });
    fill(el, h('div', { class: 'admin' }, this.nav, this.note, this.body, zoneList()));
  }

  async start() {
    await this.reload();
    this.show('departments');
  }

  // call is the admin API with this staff member's session.
  call(method, path, body) {
    return api(method, path, this.token, body);
  }

  async reload() {
    try {
      this.dir = await this.call('GET', '/admin/directory');
      this.note.textContent = '';
    } catch (err) {
      this.note.textContent = `Cannot read the directory: ${err.message}`;
      this.dir = this.dir || {};
    }
  }

  // show renders a page with a record open (its key; '' for a new one).
  show(page, selected = null) {
    this.page = page;
    this.selected = selected;
    for (const b of this.nav.children) b.setAttribute('aria-current', String(b.id === `admin-nav-${page}`));
    const render = PAGES.find(([id]) => id === page)[2];
    fill(this.body, render(this));
    this.body.dataset.page = page;
    if (selected !== null) {
      const first = this.body.querySelector('#admin-detail input:not([disabled]), #admin-detail select, #admin-detail button');
      if (first) first.focus();
    }
  }

  open(key) {
    this.show(this.page, key);
  }

  // saved reloads the directory and shows the page again with key open and
  // a note of what happened.
  async saved(key, text) {
    await this.reload();
    this.show(this.page, key);
    this.note.textContent = text;
  }

  staffOptions() {
    return (this.dir.agents || []).map((a) => ({ value: a.id, label: `${a.display_name || a.id} (${a.login})` }));
  }
}
