// Ask a colleague: staff with livechat.internal write in to an internal
// live chat (HR, Accounting) as the customer side. The tab frames the
// broker's own widget bound to that live chat and hands it the staff
// session by postMessage (never in the address); the widget then speaks
// the visitor protocol with it, like any visitor.
import { h, fill } from '/lib/dom.js';

export class AskTab {
  constructor(desk, section) {
    this.desk = desk;
    this.section = section;
    this.liveChats = [];
    this.frame = null;
    addEventListener('message', (ev) => this.message(ev));
  }

  // welcome keeps the internal live chats the staff member may ask.
  welcome(w) {
    this.liveChats = w.internal_live_chats || [];
  }

  open() {
    if (this.frame) return;
    const list = h('ul', { class: 'ask-list' }, this.liveChats.map((lc) => h('li', {},
      h('button', { type: 'button', class: 'ask', 'data-livechat': lc.id, onclick: () => this.ask(lc) }, lc.name || lc.id))));
    fill(this.section, h('h2', {}, 'Ask a colleague'),
      h('p', {}, 'Write to an internal team as a colleague: they see your name; you see what any customer sees.'), list);
  }

  ask(lc) {
    const q = new URLSearchParams({ origin: location.origin, livechat: lc.id, staff: '1' });
    this.frame = h('iframe', { class: 'ask-frame', title: `Ask ${lc.name || lc.id}`, src: `/widget/?${q}` });
    fill(this.section, h('h2', {}, `Ask ${lc.name || lc.id}`),
      h('button', { type: 'button', class: 'link ask-back', onclick: () => this.back() }, 'Back'), this.frame);
  }

  back() {
    this.frame = null;
    this.open();
  }

  // message answers the frame's "ready" with the session: only our own
  // frame, from our own origin.
  message(ev) {
    if (!this.frame || ev.source !== this.frame.contentWindow || ev.origin !== location.origin) return;
    if (ev.data && ev.data.type === 'switchboard:ready') {
      const me = this.desk.me || {};
      this.frame.contentWindow.postMessage({ type: 'switchboard:session', token: this.desk.token, name: me.display_name || me.agent_id || '' },
        location.origin);
    }
  }
}
