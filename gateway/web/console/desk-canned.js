// Canned replies in a chat's composer: typing # and the start of a
// shortcut offers the replies that match (the agent's own before the
// department's); picking one (a click, or Tab for the first) puts its
// text, filled in by the broker for this chat, in place of the #word.
import { h, fill } from '/lib/dom.js';

const HASH = /(^|\s)#([a-z0-9_-]*)$/;

export class CannedPicker {
  constructor(view) {
    this.view = view;
    this.list = h('ul', { class: 'canned-suggest', role: 'listbox', 'aria-label': 'Canned replies', hidden: true });
    view.input.addEventListener('input', () => this.update());
    view.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Tab' && !this.list.hidden && this.list.firstChild) {
        ev.preventDefault();
        this.list.firstChild.querySelector('button').click();
      } else if (ev.key === 'Escape') this.list.hidden = true;
    });
  }

  // word is the #shortcut being typed at the caret, or null.
  word() {
    const input = this.view.input;
    const m = HASH.exec(input.value.slice(0, input.selectionStart));
    return m ? { prefix: m[2], start: input.selectionStart - m[2].length - 1, end: input.selectionStart } : null;
  }

  async update() {
    const w = this.word();
    if (!w) {
      this.list.hidden = true;
      return;
    }
    const replies = await this.view.desk.canned(this.view.s.department);
    const again = this.word();
    if (!again || again.prefix !== w.prefix) return; // typed on meanwhile
    const hits = replies.filter((r) => r.shortcut.startsWith(w.prefix)).slice(0, 8);
    fill(this.list, hits.map((r) => h('li', { role: 'option' },
      h('button', { type: 'button', class: 'canned', 'data-shortcut': r.shortcut, onclick: () => this.expand(r.shortcut) },
        h('strong', {}, `#${r.shortcut}`), ` ${r.agent_id ? '(mine) ' : ''}`, h('span', { class: 'preview' }, r.text.slice(0, 80))))));
    this.list.hidden = !hits.length;
  }

  async expand(shortcut) {
    const w = this.word();
    const ans = await this.view.desk.command({ expand_canned: { chat_id: this.view.id, shortcut } });
    const text = ans.canned_expansion.text;
    const input = this.view.input;
    const [start, end] = w ? [w.start, w.end] : [input.value.length, input.value.length];
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.selectionStart = input.selectionEnd = start + text.length;
    this.list.hidden = true;
    input.focus();
  }
}
