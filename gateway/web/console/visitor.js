// The visitor panel of a chat: where the visitor is on the site (the page
// now and those before), their browser and language, and the fields the
// customer's site attached. Staff only: read from GET
// /api/chats/{id}/visitor, then kept up to date by visitor_info pushes.
// Every value is shown as text (addresses too: never a link).
import { h, fill, clock } from '/lib/dom.js';
import { api } from '/lib/client.js';

export class VisitorPanel {
  constructor(desk, chatId) {
    this.desk = desk;
    this.chatId = chatId;
    this.body = h('div', { class: 'visitor-body' });
    this.el = h('details', { class: 'visitor-info', 'data-chat': chatId },
      h('summary', {}, 'Visitor'), this.body);
    this.el.hidden = true;
  }

  async load() {
    try {
      this.show(await api('GET', `/api/chats/${encodeURIComponent(this.chatId)}/visitor`, this.desk.token));
    } catch {
      // not readable (any more): the panel stays as it was
    }
  }

  show(c) {
    if (!c) return;
    const rows = [];
    const row = (label, value, cls) => {
      if (value) rows.push(h('dt', {}, label), h('dd', { class: cls }, value));
    };
    const p = c.page || {};
    row('Page', p.title ? `${p.title} — ${p.url}` : p.url, 'page');
    row('Came from', p.referrer, 'referrer');
    row('Browser', c.user_agent, 'user-agent');
    row('Language', c.language, 'language');
    for (const k of Object.keys(c.fields || {}).sort()) row(k, c.fields[k], 'field');
    const earlier = (c.pages || []).slice(1);
    const list = earlier.length ? h('ol', { class: 'pages' }, earlier.map((x) =>
      h('li', {}, h('time', {}, clock(x.at_ms)), ` ${x.title || ''} ${x.url}`))) : null;
    fill(this.body, rows.length ? h('dl', {}, rows) : h('p', { class: 'muted' }, 'Nothing reported yet.'),
      list ? h('p', { class: 'muted' }, 'Pages before:') : null, list);
    this.el.hidden = false;
    if (!this.opened) {
      this.opened = true;
      this.el.open = true;
    }
  }
}
