// Offers: a chat offered to this agent, with accept, decline and the time
// left (the department's offer timeout).
import { h } from '/lib/dom.js';

export class Offers {
  constructor(desk, box) {
    this.desk = desk;
    this.box = box;
    this.byId = new Map();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  welcome(offers) {
    for (const id of [...this.byId.keys()]) this.remove(id);
    for (const o of offers) this.add(o, true);
  }

  add(o, quiet = false) {
    this.remove(o.chat_id);
    const left = h('span', { class: 'left' });
    const el = h('div', { class: 'offer', role: 'group', 'data-chat': o.chat_id, 'aria-label': `Offer: ${o.visitor_name || 'a visitor'}` },
      h('strong', {}, o.visitor_name || 'A visitor'), ` · ${o.department} · ${o.language}`,
      o.assigned_by ? h('p', { class: 'assigned-by' }, `Assigned to you by ${o.assigned_by}`) : null,
      o.preview ? h('p', { class: 'preview' }, o.preview) : null,
      h('div', {},
        h('button', { class: 'accept', onclick: () => this.answer(o, 'accept_offer') }, 'Accept'),
        h('button', { class: 'decline', onclick: () => this.answer(o, 'decline_offer') }, 'Decline'),
        left));
    this.byId.set(o.chat_id, { o, el, left });
    this.box.append(el);
    this.tick();
    if (!quiet) {
      this.desk.notifier.ping('New chat offered', `${o.visitor_name || 'A visitor'} in ${o.department}`, true);
      this.desk.announce(`New chat offered: ${o.visitor_name || 'a visitor'} in ${o.department}`);
    }
    this.desk.notifier.offers(this.byId.size);
  }

  remove(id) {
    const x = this.byId.get(id);
    if (!x) return;
    x.el.remove();
    this.byId.delete(id);
    this.desk.notifier.offers(this.byId.size);
  }

  async answer(o, command) {
    try {
      await this.desk.command({ [command]: { chat_id: o.chat_id } });
    } finally {
      this.remove(o.chat_id);
    }
    if (command === 'accept_offer') this.desk.chats.get(o.chat_id).open(true);
  }

  tick() {
    const now = Date.now();
    for (const { o, left } of this.byId.values()) {
      const s = Math.max(0, Math.round((Number(o.expires_at_ms) - now) / 1000));
      left.textContent = `${s} s left`;
    }
  }
}
