// The chats a staff member is in: the list (with unread counts) and the
// panes, any number open side by side. Each pane's composer is bound to
// its own chat, so a line always goes to the chat it was typed in.
import { h, fill, clock, enumName, enterSends, follow } from '/lib/dom.js';
import { describe } from '/console/events.js';
import { TagChips } from '/console/desk-tags.js';
import { CannedPicker } from '/console/desk-canned.js';
import { attachButton, attachmentView, uploadFile } from '/lib/files.js';
import { VisitorPanel } from '/console/visitor.js';
import { RoutingPanel } from '/console/routing.js';

const WORK = ['WORK_STATUS_OPEN', 'WORK_STATUS_ON_HOLD', 'WORK_STATUS_PENDING', 'WORK_STATUS_RESOLVED'];

export class Chats {
  constructor(desk, list, panes) {
    this.desk = desk;
    this.list = list;
    this.panes = panes;
    this.byId = new Map();
  }

  get(id) {
    let c = this.byId.get(id);
    if (!c) {
      c = new ChatView(this, id);
      this.byId.set(id, c);
      this.list.append(c.item);
    }
    return c;
  }

  // welcome: the chats the broker says are ours now. One the console
  // still shows as ours but that is not among them ended while it was
  // away (closed, transferred, taken over): it stays, marked ended.
  welcome(summaries) {
    const now = new Set(summaries.map((s) => s.chat_id));
    for (const c of this.byId.values()) {
      if (!now.has(c.id) && !c.ended) c.lost();
    }
    for (const s of summaries) this.summary(s);
  }

  // summary: a chat that is new here and ours opens its pane (a pane the
  // agent hid stays hidden when the chat changes or at a reconnect).
  summary(s) {
    const isNew = !this.byId.has(s.chat_id);
    const c = this.get(s.chat_id);
    c.setSummary(s);
    if (isNew && c.mine() && !c.ended) c.open(false);
  }

  // event: a chat's event. A tag or a rating of a chat not shown here (a
  // supervisor's, or one whose pane was closed) is a note, not a pane.
  event(ev) {
    if (!this.byId.has(ev.chat_id) && (ev.rated || ev.tagged)) {
      this.desk.flash(`${describe(ev).text} (chat ${ev.chat_id})`);
      return;
    }
    this.get(ev.chat_id).add(ev);
  }

  typing(n) {
    this.byId.get(n.chat_id)?.typing(n);
  }

  visitorInfo(v) {
    this.byId.get(v.chat_id)?.visitor.show(v.context);
  }

  outbox(d) {
    this.byId.get(d.chat_id)?.outboxChanged(d);
  }

  unreadTotal() {
    let n = 0;
    for (const c of this.byId.values()) n += c.unread;
    return n;
  }

  remove(c) {
    c.item.remove();
    c.pane.remove();
    this.byId.delete(c.id);
    this.desk.client.forget(c.id);
  }
}

class ChatView {
  constructor(chats, id) {
    this.chats = chats;
    this.desk = chats.desk;
    this.id = id;
    this.s = { chat_id: id };
    this.unread = 0;
    this.ended = false;
    this.pending = new Map(); // client_msg_id -> li
    this.historyUntil = -1; // the last seq the chat held when first seen
    this.badge = h('span', { class: 'badge', hidden: true });
    this.itemName = h('span', { class: 'name' });
    this.itemMeta = h('span', { class: 'meta' });
    this.item = h('li', { 'data-chat': id },
      h('button', { class: 'chat-item', onclick: () => this.open(true) }, this.itemName, this.itemMeta, this.badge));
    this.build();
  }

  build() {
    this.visitor = new VisitorPanel(this.desk, this.id);
    this.routing = new RoutingPanel(this.desk, this.id);
    this.title = h('h2', { class: 'pane-title' });
    this.sub = h('span', { class: 'pane-sub' });
    this.work = h('select', { class: 'work', 'aria-label': 'Work status', onchange: () => this.setWork() },
      WORK.map((w) => h('option', { value: w }, enumName(w, 'WORK_STATUS_'))));
    this.log = h('ol', { class: 'transcript', role: 'log', 'aria-label': 'Transcript', tabindex: 0 });
    this.typingLine = h('p', { class: 'typing', 'aria-live': 'off' });
    this.input = h('textarea', { class: 'compose', rows: 2, maxlength: 8000, 'aria-label': 'Message', placeholder: 'Write a message (Enter sends, Shift+Enter a new line)' });
    this.whisper = h('input', { type: 'checkbox', class: 'whisper' });
    this.panel = h('div', { class: 'panel', hidden: true });
    this.actions = h('div', { class: 'actions' },
      this.work,
      h('button', { class: 'transfer', onclick: () => this.targets('transfer') }, 'Transfer'),
      h('button', { class: 'invite', onclick: () => this.targets('invite') }, 'Invite'),
      h('button', { class: 'email', onclick: () => this.emailForm() }, 'Email'),
      h('button', { class: 'leave', onclick: () => this.leave() }, 'Leave'),
      h('button', { class: 'close-chat', onclick: () => this.close() }, 'Close chat'));
    this.attach = attachButton('Attach', 'Send a file', (f) => this.sendFile(f));
    this.form = h('form', { class: 'composer' },
      this.input,
      h('label', { class: 'whisper-label' }, this.whisper, ' Whisper (staff only)'),
      h('span', { class: 'composer-buttons' }, this.attach, h('button', { type: 'submit', class: 'send' }, 'Send')));
    this.tagChips = new TagChips(this);
    this.canned = new CannedPicker(this);
    this.form.prepend(this.canned.list);
    this.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.send(); });
    enterSends(this.input, () => this.send());
    this.input.addEventListener('input', () => this.desk.client.typing(this.id));
    this.input.addEventListener('focus', () => this.seen());
    this.reopenButton = h('button', { class: 'reopen', hidden: true, onclick: () => this.reopen() }, 'Reopen');
    this.pane = h('section', { class: 'pane', 'data-chat': this.id, 'aria-label': 'Chat' },
      h('header', { class: 'pane-head' }, this.title, this.sub, this.reopenButton,
        h('button', { class: 'hide', 'aria-label': 'Hide this chat', title: 'Hide', onclick: () => this.hide() }, '×')),
      this.actions, this.tagChips.el, this.panel, this.visitor.el, this.routing.el, this.log, this.typingLine, this.form);
    this.pane.addEventListener('focusin', () => this.focusPane());
    this.follow = follow(this.log);
  }

  me() {
    return this.desk.me && this.desk.me.agent_id;
  }

  role() {
    const s = this.s;
    const me = this.me();
    if (s.agent_id === me) return 'agent';
    if ((s.guests || []).some((p) => p.id === me)) return 'guest';
    if ((s.watchers || []).some((p) => p.id === me)) return 'watcher';
    return 'none';
  }

  mine() {
    return this.role() !== 'none';
  }

  setSummary(s) {
    if (this.historyUntil < 0) this.historyUntil = Number(s.last_seq || 0);
    this.s = s;
    const name = s.visitor_name || 'Visitor';
    this.itemName.textContent = name;
    this.title.textContent = name;
    this.pane.setAttribute('aria-label', `Chat with ${name}`);
    this.work.value = s.work_status || 'WORK_STATUS_OPEN';
    const role = this.role();
    const closed = s.state === 'CHAT_STATE_CLOSED';
    let where = `${s.department || ''} · ${s.language || ''}`;
    if (role === 'watcher') where += ' · watching invisibly';
    else if (role === 'guest') where += ` · with ${s.agent_name || 'the agent'}`;
    else if (role === 'none' && !closed) where += ` · now with ${s.agent_name || 'the queue'}`;
    if (closed) where += ' · closed';
    this.sub.textContent = where;
    this.itemMeta.textContent = where;
    this.ended = closed || role === 'none';
    this.pane.dataset.role = role;
    this.pane.dataset.ended = String(this.ended);
    this.item.dataset.ended = String(this.ended);
    this.form.hidden = this.ended;
    this.actions.hidden = this.ended;
    // What the role does not allow is not offered (the broker checks anyway).
    const may = (perm) => this.desk.perms.has(perm);
    this.actions.querySelector('.close-chat').hidden = role !== 'agent';
    this.actions.querySelector('.transfer').hidden = role !== 'agent' || !may('chats.forward');
    this.actions.querySelector('.invite').hidden = role === 'watcher' || !may('chats.invite');
    this.work.hidden = role !== 'agent' || !may('chats.status');
    this.actions.querySelector('.leave').hidden = role === 'agent';
    this.reopenButton.hidden = !closed || !may('chats.reopen');
    this.actions.querySelector('.email').hidden = role === 'watcher' || !may('chats.email');
    // A watcher can only whisper; one who stops watching (took the chat
    // over, joined visibly) writes to the visitor again by default.
    if (role !== this.lastRole) this.whisper.checked = role === 'watcher';
    this.whisper.disabled = role === 'watcher';
    this.attach.hidden = role === 'watcher' || !may('chats.attach');
    if (role !== 'none' && role !== this.lastRole) this.visitor.load();
    if (role !== this.lastRole && this.routing.el.open) this.routing.load();
    this.lastRole = role;
    if (this.ended) this.typingLine.textContent = '';
    this.tagChips.set(s.tags);
  }

  // reopen opens the closed chat again: it waits in its department's
  // line, offered first to the agent who last had it.
  async reopen() {
    await this.desk.command({ reopen_chat: { chat_id: this.id } });
    this.reopenButton.hidden = true;
    this.desk.flash('Reopened: the chat is back in the queue, offered first to its last agent');
  }

  // lost marks a chat that is no longer ours, seen at a reconnect.
  lost() {
    this.setSummary({ ...this.s, agent_id: '', guests: [], watchers: [] });
  }

  // add appends an event to the transcript (events come once, in order).
  add(ev) {
    const d = describe(ev);
    const seq = Number(ev.seq);
    const li = h('li', { class: `line ${d.kind}`, 'data-seq': seq, 'data-state': 'stored' });
    if (ev.internal) li.classList.add('internal');
    if (d.kind === 'message') {
      const from = ev.message.from || {};
      const own = from.id === this.me() && from.kind === 'PARTICIPANT_KIND_AGENT';
      if (own) li.classList.add('own');
      if (from.kind === 'PARTICIPANT_KIND_VISITOR') li.classList.add('visitor');
      li.append(h('span', { class: 'who' }, d.from), h('time', { class: 'at' }, clock(ev.at_ms)));
      if (ev.internal) li.append(h('span', { class: 'tag' }, 'internal'));
      li.append(h('span', { class: 'text' }, d.text));
      const cmid = ev.message.client_msg_id;
      if (own && cmid && this.pending.has(cmid)) {
        this.pending.get(cmid).remove();
        this.pending.delete(cmid);
      }
      // What the chat held when it reached this console is history, not
      // news: no unread count, no sound.
      if (!own && seq > this.historyUntil) this.arrived(d);
      if (from.kind === 'PARTICIPANT_KIND_VISITOR' && this.typingLine.textContent) this.typingLine.textContent = '';
    } else if (d.kind === 'file') {
      const from = ev.attachment.from || {};
      if (from.kind === 'PARTICIPANT_KIND_VISITOR') li.classList.add('visitor');
      else if (from.id === this.me()) li.classList.add('own');
      li.append(h('span', { class: 'who' }, d.from), h('time', { class: 'at' }, clock(ev.at_ms)),
        h('span', { class: 'text' }, attachmentView(this.id, ev.attachment, () => this.desk.token)));
      if (from.id !== this.me() && seq > this.historyUntil) this.arrived(d);
    } else {
      li.append(h('time', { class: 'at' }, clock(ev.at_ms)), h('span', { class: 'text' }, d.text));
      if (ev.internal) li.append(h('span', { class: 'tag' }, 'internal'));
      if (ev.created && ev.created.colleague) li.append(h('span', { class: 'tag colleague' }, 'colleague'));
      if (d.score) li.dataset.score = d.score;
      if (ev.tagged) this.tagChips.fold(ev.tagged);
    }
    // Lines still being sent stay below the stored ones.
    const firstPending = this.pending.size ? this.pending.values().next().value : null;
    this.log.insertBefore(li, firstPending);
    this.follow.soon();
  }

  arrived(d) {
    const inView = this.pane.isConnected && document.hasFocus() && !document.hidden && this.pane.contains(document.activeElement);
    if (inView) return;
    this.unread++;
    this.badge.hidden = false;
    this.badge.textContent = String(this.unread);
    this.badge.setAttribute('aria-label', `${this.unread} unread`);
    this.desk.notifier.count(this.chats.unreadTotal());
    this.desk.notifier.ping(`${d.from} (${this.s.visitor_name || 'chat'})`, d.text);
    this.desk.announce(`New message from ${d.from} in the chat with ${this.s.visitor_name || 'a visitor'}`);
  }

  seen() {
    if (!this.unread) return;
    this.unread = 0;
    this.badge.hidden = true;
    this.desk.notifier.count(this.chats.unreadTotal());
  }

  focusPane() {
    for (const p of this.chats.panes.children) p.classList.toggle('focused', p === this.pane);
    for (const li of this.chats.list.children) li.classList.toggle('current', li === this.item);
    this.seen();
  }

  open(focus) {
    if (!this.pane.isConnected) this.chats.panes.append(this.pane);
    if (focus) {
      this.desk.show('chats');
      (this.form.hidden ? this.log : this.input).focus();
      this.focusPane();
    }
  }

  hide() {
    this.pane.remove();
    if (this.ended) this.chats.remove(this);
  }

  send() {
    const text = this.input.value.trim();
    if (!text) return;
    const whisper = this.whisper.checked;
    // "/template order_update en_US Grace|4711": a channel's template
    // message, which may go out after a WhatsApp chat's 24 hours.
    const t = /^\/template\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(text);
    const template = t && !whisper ? { name: t[1], language: t[2], params: t[3] ? t[3].split('|').map((p) => p.trim()) : [] } : null;
    const cmid = this.desk.client.sendMessage(this.id, template ? '' : text, whisper, template);
    const li = h('li', { class: `line message own${whisper ? ' internal' : ''}`, 'data-state': 'sending', 'data-cmid': cmid },
      h('span', { class: 'who' }, this.desk.me.display_name || 'Me'),
      h('span', { class: 'state' }, 'sending'),
      h('span', { class: 'text' }, text));
    this.pending.set(cmid, li);
    this.log.append(li);
    this.follow.soon(true);
    this.input.value = '';
  }

  // sendFile uploads a file; the chat shows it when its event comes.
  async sendFile(file) {
    try {
      await uploadFile(this.id, file, this.desk.token);
    } catch (err) {
      this.desk.flash(`The file was not sent: ${err.message}`, 'error');
    }
  }

  outboxChanged({ client_msg_id: cmid, state, error }) {
    const li = this.pending.get(cmid);
    if (!li) return;
    li.dataset.state = state;
    // A line that will not be stored no longer holds its place at the end.
    if (state === 'failed') this.pending.delete(cmid);
    li.querySelector('.state').textContent = state === 'failed' ? `not sent: ${error.message}` : state;
  }

  // typing shows who is typing; a notice that is not renewed within 8 s
  // (the visitor stopped without saying so) ends it.
  typing(n) {
    const name = (n.from && n.from.display_name) || 'The visitor';
    this.typingLine.textContent = n.typing ? `${name} is typing…` : '';
    clearTimeout(this.typingShown);
    if (n.typing) this.typingShown = setTimeout(() => { this.typingLine.textContent = ''; }, 8000);
  }

  async setWork() {
    try {
      await this.desk.command({ set_chat_status: { chat_id: this.id, status: this.work.value } });
    } catch {
      this.work.value = this.s.work_status || 'WORK_STATUS_OPEN';
    }
  }

  async close() {
    await this.desk.command({ close_chat: { chat_id: this.id } });
  }

  async leave() {
    await this.desk.command({ leave_chat: { chat_id: this.id } });
  }

  // targets shows the departments and colleagues to transfer to or invite.
  async targets(what) {
    if (!this.panel.hidden && this.panel.dataset.what === what) {
      this.panel.hidden = true;
      return;
    }
    const ans = await this.desk.command({ list_transfer_targets: {} });
    const deps = (ans.transfer_targets && ans.transfer_targets.departments) || [];
    const rows = [];
    for (const d of deps) {
      const agents = (d.agents || []).filter((a) => a.agent_id !== this.me());
      const line = h('li', { class: 'target-dept' },
        h('strong', {}, d.name || d.department), ` ${d.online ? '' : '(offline) '}${d.waiting_count || 0} waiting `,
        what === 'transfer' ? h('button', { class: 'to-dept', 'data-dept': d.department, disabled: !d.online,
          onclick: () => this.transfer({ to_department: d.department }) }, `Transfer to ${d.name || d.department}`) : null,
        h('ul', {}, agents.map((a) => h('li', {},
          h('button', { class: 'to-agent', 'data-agent': a.agent_id, disabled: !a.connected,
            onclick: () => (what === 'transfer' ? this.transfer({ to_agent: a.agent_id }) : this.invite(a.agent_id)) },
          `${a.display_name || a.agent_id}`),
          ` ${enumName(a.status || 'AGENT_STATUS_OFFLINE', 'AGENT_STATUS_')}${a.connected ? '' : ', not connected'}, ${a.load || 0}/${a.max_chats || 0} chats`))));
      rows.push(line);
    }
    this.panel.dataset.what = what;
    fill(this.panel, h('p', {}, what === 'transfer' ? 'Transfer this chat to:' : 'Invite a colleague:'),
      h('ul', { class: 'targets' }, rows),
      h('button', { class: 'link', onclick: () => { this.panel.hidden = true; } }, 'Cancel'));
    this.panel.hidden = false;
  }

  // emailForm offers an email to the visitor (to empty: the address they
  // gave), sent through the broker's outbox.
  emailForm() {
    if (!this.panel.hidden && this.panel.dataset.what === 'email') {
      this.panel.hidden = true;
      return;
    }
    const to = h('input', { class: 'email-to', type: 'email', maxlength: 254, 'aria-label': 'To', placeholder: "To (empty: the visitor's address)" });
    const subject = h('input', { class: 'email-subject', maxlength: 256, required: true, 'aria-label': 'Subject', placeholder: 'Subject' });
    const text = h('textarea', { class: 'email-text', rows: 4, maxlength: 8000, required: true, 'aria-label': 'Email text' });
    const form = h('form', { class: 'email-form' }, to, subject, text, h('button', { type: 'submit', class: 'send-email' }, 'Send email'),
      h('button', { type: 'button', class: 'link', onclick: () => { this.panel.hidden = true; } }, 'Cancel'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      await this.desk.command({ email_from_chat: { chat_id: this.id, to: to.value.trim(), subject: subject.value.trim(), text: text.value.trim() } });
      this.panel.hidden = true;
      this.desk.flash('The email is in the outbox');
    });
    this.panel.dataset.what = 'email';
    fill(this.panel, form);
    this.panel.hidden = false;
    subject.focus();
  }

  async transfer(to) {
    await this.desk.command({ transfer_chat: { chat_id: this.id, ...to } });
    this.panel.hidden = true;
  }

  async invite(agentId) {
    await this.desk.command({ invite_agent: { chat_id: this.id, agent_id: agentId } });
    this.panel.hidden = true;
    this.desk.flash('Invitation sent');
  }
}
