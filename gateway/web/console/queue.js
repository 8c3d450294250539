// The queue tab: a department's waiting chats (pick one), and this agent's
// unanswered (missed) and answered chats.
import { h, fill, clock, span } from '/lib/dom.js';

export class QueueTab {
  constructor(desk, el) {
    this.desk = desk;
    this.el = el;
    this.select = h('select', { id: 'queue-dept', 'aria-label': 'Department', onchange: () => this.refresh() });
    this.body = h('div', { class: 'queue-body' });
    fill(el, h('div', { class: 'toolbar' }, h('label', { for: 'queue-dept' }, 'Department '), this.select,
      h('button', { id: 'queue-refresh', onclick: () => this.refresh() }, 'Refresh')), this.body);
  }

  open() {
    const deps = (this.desk.me && this.desk.me.departments) || [];
    if (this.select.options.length !== deps.length) fill(this.select, deps.map((d) => h('option', { value: d }, d)));
    this.refresh();
  }

  // refresh reads the line again; the list says it is busy meanwhile
  // (aria-busy: assistive technology waits, and so do the browser tests).
  async refresh() {
    if (!this.select.value) return;
    this.body.setAttribute('aria-busy', 'true');
    try {
      this.show(await this.desk.command({ list_waiting: { department: this.select.value } }));
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }

  // show draws the line and this agent's lists from a list_waiting answer.
  show(ans) {
    const w = ans.waiting_list || {};
    const now = Date.now();
    const table = (caption, rows, pick) => h('table', { class: 'list' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', {}, 'Visitor'), h('th', {}, 'Language'), h('th', {}, 'Started'), h('th', {}, pick ? 'Waited' : 'Agent'), pick ? h('th', {}, '') : null)),
      h('tbody', {}, rows.length ? rows.map((c) => h('tr', { 'data-chat': c.chat_id },
        h('td', {}, c.visitor_name || 'Visitor'), h('td', {}, c.language || ''), h('td', {}, clock(c.created_at_ms)),
        h('td', {}, pick ? span(now - Number(c.created_at_ms)) : (c.agent_name || '')),
        pick ? h('td', {}, h('button', { class: 'pick', onclick: () => this.pick(c) }, 'Pick')) : null))
        : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'None'))));
    fill(this.body,
      h('p', {}, w.online ? 'The queue is online.' : 'The queue is offline: it takes no new chats.'),
      table('Waiting', w.chats || [], true),
      table('Unanswered (offers I missed)', w.unanswered || [], false),
      table('Answered (chats I took)', w.answered || [], false));
  }

  async pick(c) {
    await this.desk.command({ pick_chat: { department: this.select.value, chat_id: c.chat_id } });
    this.desk.chats.get(c.chat_id).open(true);
  }
}
