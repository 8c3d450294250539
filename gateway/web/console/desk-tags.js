// A chat's tags in its pane: a chip for each (with × to remove it) and a
// list of the department's other tags to add. The tags are the summary's,
// then each tagged event folded in (one rule: add once, remove if there).
import { h, fill } from '/lib/dom.js';

export class TagChips {
  constructor(view) {
    this.view = view;
    this.tags = [];
    this.chips = h('ul', { class: 'tag-chips', 'aria-label': 'Tags' });
    this.add = h('select', { class: 'add-tag', 'aria-label': 'Add a tag', onchange: () => this.pick() });
    this.el = h('div', { class: 'tags' }, this.chips, this.add);
  }

  // allowed: the department's tags, from the welcome.
  allowed() {
    const d = (this.view.desk.me?.department_tags || []).find((x) => x.department === this.view.s.department);
    return d ? d.tags || [] : [];
  }

  set(tags) {
    this.tags = [...(tags || [])];
    this.render();
  }

  fold(t) {
    const i = this.tags.indexOf(t.tag);
    if (t.removed && i >= 0) this.tags.splice(i, 1);
    if (!t.removed && i < 0) this.tags.push(t.tag);
    this.render();
  }

  render() {
    const may = this.view.desk.perms.has('chats.tag') && this.view.role() !== 'none';
    fill(this.chips, this.tags.map((t) => h('li', { class: 'chip', 'data-tag': t }, h('span', {}, t),
      may ? h('button', { class: 'untag', 'aria-label': `Remove the tag ${t}`, onclick: () => this.send(t, true) }, '×') : null)));
    const rest = this.allowed().filter((t) => !this.tags.includes(t));
    fill(this.add, h('option', { value: '' }, '+ tag'), rest.map((t) => h('option', { value: t }, t)));
    this.add.hidden = !may || !rest.length;
    this.el.hidden = !this.tags.length && this.add.hidden;
  }

  pick() {
    const t = this.add.value;
    this.add.value = '';
    if (t) this.send(t, false);
  }

  async send(tag, remove) {
    await this.view.desk.command({ tag_chat: { chat_id: this.view.id, tag, remove } });
    // A closed chat's event comes as a push; an open one's in its stream.
  }
}
