// The desk: one staff member's console once logged in. It owns the
// connection (lib/client.js), the header (status, load, tabs), and hands
// each pushed frame to the part it concerns: offers, chats, the queue
// lists, the monitor.
import { Client, ProtocolError, api } from '/lib/client.js';
import { h, fill, enumName } from '/lib/dom.js';
import { Chats } from '/console/chats.js';
import { Offers } from '/console/offers.js';
import { QueueTab } from '/console/queue.js';
import { MonitorTab } from '/console/monitor.js';
import { OfflineTab } from '/console/offline.js';
import { Notifier } from '/console/notify.js';
import { RepliesTab } from '/console/replies.js';
import { HistoryTab, CHAT_HASH } from '/console/history.js';
import { ReportsTab } from '/console/reports.js';
import { AskTab } from '/console/ask.js';

const STATUSES = ['AGENT_STATUS_AVAILABLE', 'AGENT_STATUS_AWAY', 'AGENT_STATUS_OFFLINE'];

export class Desk {
  constructor(root, token, onEnd) {
    this.root = root;
    this.token = token;
    this.onEnd = onEnd;
    this.me = null;
    this.perms = new Set();
    this.notifier = new Notifier();
    this.client = new Client('/ws/agent', () => ({ session_token: this.token }));
    this.build();
    this.chats = new Chats(this, this.chatList, this.panes);
    this.offers = new Offers(this, this.offerBox);
    this.queue = new QueueTab(this, this.sections.queue);
    this.monitor = new MonitorTab(this, this.sections.monitor);
    this.replies = new RepliesTab(this, this.sections.replies);
    this.history = new HistoryTab(this, this.sections.history);
    this.reports = new ReportsTab(this, this.sections.reports);
    this.ask = new AskTab(this, this.sections.ask);
    // A chat's transcript has its own address (#/chats/<id>): opened from
    // the History list, a link or the browser's history.
    this.onHash = () => this.route();
    addEventListener('hashchange', this.onHash);
    this.offline = new OfflineTab(this, this.sections.offline);
    this.client.addEventListener('welcome', (e) => this.welcome(e.detail));
    this.client.addEventListener('frame', (e) => this.frame(e.detail));
    this.client.addEventListener('state', (e) => this.connState(e.detail));
    this.client.addEventListener('outbox', (e) => this.chats.outbox(e.detail));
    // A refused command is shown in the banner (command() does it); the
    // button handlers that awaited it stop there, and that is handled.
    this.onRejection = (ev) => {
      if (ev.reason instanceof ProtocolError && ev.reason.shown) ev.preventDefault();
    };
    addEventListener('unhandledrejection', this.onRejection);
    // The console's own timing of handling a pushed frame (decoded, its
    // line in the pane), for the benchmark.
    window.switchboardStats = this.stats = { frames: 0, events: 0, totalMs: 0, renderMs: [] };
  }

  start() {
    this.client.start();
  }

  // destroy lets go of what the desk keeps running (at logout: a new login
  // in the same tab builds a new desk).
  destroy() {
    this.client.stop();
    removeEventListener('unhandledrejection', this.onRejection);
    removeEventListener('hashchange', this.onHash);
    clearInterval(this.offers.timer);
    clearInterval(this.monitor.timer);
    clearTimeout(this.flashTimer);
  }

  // canned returns the canned replies usable in a department (the agent's
  // own first), read once per department until the replies page changes
  // them.
  async canned(dept) {
    this.cannedCache ??= new Map();
    if (!this.cannedCache.has(dept)) {
      const p = this.client.command({ list_canned: { department: dept } }).then((a) => a.canned_replies.replies || []);
      this.cannedCache.set(dept, p);
      p.catch(() => this.cannedCache.delete(dept));
    }
    return this.cannedCache.get(dept);
  }

  // command sends a command and shows its error (if any) in the header.
  async command(body) {
    try {
      return await this.client.command(body);
    } catch (err) {
      this.flash(err.message, 'error');
      err.shown = true;
      throw err;
    }
  }

  build() {
    this.statusSelect = h('select', { id: 'status', 'aria-label': 'My status', onchange: () => this.setStatus(this.statusSelect.value) },
      STATUSES.map((s) => h('option', { value: s }, enumName(s, 'AGENT_STATUS_'))));
    this.nameButton = h('button', { id: 'me', class: 'link', title: 'Change the name visitors see', onclick: () => this.rename() }, '…');
    this.load = h('span', { id: 'load', class: 'load' });
    this.reason = h('span', { id: 'reason', class: 'reason' });
    this.conn = h('span', { id: 'conn', class: 'conn', role: 'status' }, 'connecting');
    this.banner = h('p', { id: 'banner', class: 'banner', role: 'status', hidden: true });
    this.tabs = h('nav', { class: 'tabs', 'aria-label': 'Views' });
    this.sections = {};
    for (const [id, label] of [['chats', 'Chats'], ['queue', 'Queue'], ['offline', 'Messages'], ['monitor', 'Monitor'], ['history', 'History'], ['reports', 'Reports'], ['replies', 'Replies'], ['ask', 'Ask a colleague'], ['admin', 'Admin']]) {
      const button = h('button', { id: `tab-${id}`, 'aria-controls': `view-${id}`, onclick: () => this.show(id) }, label);
      this.tabs.append(button);
      this.sections[id] = h('section', { id: `view-${id}`, 'aria-label': label, class: 'view', hidden: true });
    }
    const notifyButton = h('button', { id: 'notify', class: 'link', onclick: () => this.notifier.ask(notifyButton) },
      'Enable notifications');
    if (!('Notification' in window) || Notification.permission !== 'default') notifyButton.hidden = true;
    const header = h('header', { class: 'top' },
      h('strong', { class: 'brand' }, 'Switchboard'),
      this.nameButton, this.statusSelect, this.load, this.reason, this.conn, this.tabs, notifyButton,
      h('button', { id: 'logout', onclick: () => this.logout() }, 'Log out'));
    this.offerBox = h('div', { id: 'offers', class: 'offers', 'aria-label': 'Offers' });
    this.invites = h('ul', { id: 'invites', class: 'invites', 'aria-label': 'Invitations' });
    this.chatList = h('ul', { id: 'chat-list', class: 'chat-list', 'aria-label': 'My chats' });
    this.panes = h('div', { id: 'panes', class: 'panes' });
    fill(this.sections.chats,
      h('aside', { class: 'side' }, this.offerBox, this.invites, h('h2', {}, 'My chats'), this.chatList),
      this.panes);
    fill(this.root, header, this.banner, h('main', { id: 'main' }, Object.values(this.sections)));
    this.show('chats');
  }

  show(id) {
    for (const [k, el] of Object.entries(this.sections)) {
      el.hidden = k !== id;
      const tab = this.tabs.querySelector(`#tab-${k}`);
      if (k === id) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    this.current = id;
    if (id === 'queue') this.queue.open();
    if (id === 'monitor') this.monitor.open();
    if (id === 'replies') this.replies.open();
    if (id === 'offline') this.offline.open();
    if (id === 'admin') this.openAdmin();
    if (id === 'history') this.history.open();
    if (id === 'reports') this.reports.open();
    if (id === 'ask') this.ask.open();
  }

  // route shows what the address names: a chat's transcript in History.
  route() {
    const m = CHAT_HASH.exec(location.hash);
    if (!m) return;
    if (this.current !== 'history') this.show('history');
    this.history.showChat(m[1]);
  }

  async openAdmin() {
    if (this.admin) return;
    const mod = await import('/console/admin.js');
    this.admin = mod.mount(this.sections.admin, { token: this.token, me: this.me });
  }

  welcome(w) {
    this.me = w;
    this.nameButton.textContent = w.display_name || w.agent_id;
    const perms = new Set(w.permissions || []);
    this.perms = perms;
    this.tabs.querySelector('#tab-monitor').hidden = !(w.monitors || []).length;
    this.tabs.querySelector('#tab-admin').hidden = !perms.has('admin');
    this.tabs.querySelector('#tab-replies').hidden = !(perms.has('canned.personal') || perms.has('admin') || (w.manages || []).length);
    this.tabs.querySelector('#tab-queue').hidden = !(w.departments || []).length;
    this.tabs.querySelector('#tab-history').hidden = !(perms.has('chats.view') || perms.has('reports.view') || perms.has('admin'));
    this.ask.welcome(w);
    this.tabs.querySelector('#tab-ask').hidden = !perms.has('livechat.internal') || !(w.internal_live_chats || []).length;
    this.route();
    this.tabs.querySelector('#tab-offline').hidden = !perms.has('chats.view') || !this.offline.departments().length;
    this.agentState(w.state || {});
    this.chats.welcome(w.chats || []);
    this.offers.welcome(w.offers || []);
    fill(this.invites);
    for (const inv of w.invitations || []) this.invitation(inv, true);
    if (this.current === 'reports') this.reports.open();
    // The broker keeps no monitor across a restart: ask again.
    if (this.monitor.wanted) this.monitor.open(true);
  }

  frame(env) {
    const t0 = performance.now();
    if (env.event) this.chats.event(env.event);
    else if (env.chat) this.chats.summary(env.chat);
    else if (env.typing_notice) this.chats.typing(env.typing_notice);
    else if (env.visitor_info) this.chats.visitorInfo(env.visitor_info);
    else if (env.offer) this.offers.add(env.offer);
    else if (env.offer_withdrawn) this.offers.remove(env.offer_withdrawn.chat_id);
    else if (env.agent_state) this.agentState(env.agent_state);
    else if (env.invitation) this.invitation(env.invitation);
    else if (env.department_view) this.monitor.view(env.department_view);
    else if (env.queue_state) {
      const q = env.queue_state;
      this.flash(`The ${q.department} queue is now ${q.online ? 'online' : 'offline'}${q.by ? ` (set by ${q.by})` : ''}`);
    }
    this.stats.frames++;
    if (env.event) this.stats.events++;
    const ms = performance.now() - t0;
    this.stats.totalMs += ms;
    if (this.stats.renderMs.length < 10000) this.stats.renderMs.push(ms);
  }

  agentState(s) {
    const status = s.status || 'AGENT_STATUS_OFFLINE';
    this.status = status;
    if (status === 'AGENT_STATUS_DRAINING') {
      if (!this.statusSelect.querySelector('[value=AGENT_STATUS_DRAINING]')) {
        this.statusSelect.append(h('option', { value: 'AGENT_STATUS_DRAINING', disabled: true }, 'draining'));
      }
    }
    this.statusSelect.value = status;
    this.statusSelect.dataset.status = enumName(status, 'AGENT_STATUS_');
    this.load.textContent = `${s.active_chats || 0}/${s.max_chats || 0} chats`;
    this.reason.textContent = s.reason || '';
  }

  async setStatus(status) {
    try {
      await this.command({ set_status: { status } });
    } catch {
      this.statusSelect.value = this.status;
    }
  }

  // rename swaps the name for a small form: the name visitors see.
  rename() {
    const input = h('input', { id: 'display-name', 'aria-label': 'The name visitors see', value: this.nameButton.textContent, maxlength: 256 });
    const error = h('span', { class: 'error', role: 'alert' });
    const done = () => form.replaceWith(this.nameButton);
    const form = h('form', { class: 'rename' }, input, h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', onclick: done }, 'Cancel'), error);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      try {
        if (name && name !== this.nameButton.textContent) await this.client.command({ set_display_name: { display_name: name } });
        if (name) this.nameButton.textContent = name;
        done();
        this.nameButton.focus();
      } catch (err) {
        error.textContent = err.message;
      }
    });
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') done(); });
    this.nameButton.replaceWith(form);
    input.select();
  }

  invitation(inv, quiet = false) {
    const li = h('li', { class: 'invitation', 'data-chat': inv.chat_id },
      h('span', {}, `${(inv.by && inv.by.display_name) || 'A colleague'} invites you to the chat with ${inv.visitor_name || 'a visitor'} (${inv.department})`),
      h('button', { class: 'join', onclick: async () => { await this.command({ join_chat: { chat_id: inv.chat_id } }); li.remove(); } }, 'Join'),
      h('button', { class: 'decline', onclick: async () => { await this.command({ decline_invite: { chat_id: inv.chat_id } }); li.remove(); } }, 'Decline'));
    this.invites.querySelector(`[data-chat="${CSS.escape(inv.chat_id)}"]`)?.remove();
    this.invites.append(li);
    if (!quiet) this.notifier.ping('Invitation', li.firstChild.textContent);
  }

  connState({ state, code, error }) {
    this.conn.textContent = { open: 'connected', connecting: 'connecting…', closed: 'reconnecting…', ended: 'disconnected' }[state];
    this.conn.dataset.state = state;
    document.body.dataset.conn = state;
    // At logout the broker closes the socket (4004) while the logout's
    // answer is on its way: logout() says why, once.
    if (state === 'ended' && !this.loggingOut) {
      const why = error ? error.message
        : { 4003: 'Your account was suspended.', 4004: 'Your session ended. Log in again.', 4005: 'You may not be logged in now.' }[code];
      if (why || error) this.end(why || 'Log in again.');
    }
  }

  // flash shows a short note under the header (and to screen readers).
  flash(text, kind = 'info') {
    this.banner.hidden = false;
    this.banner.dataset.kind = kind;
    this.banner.textContent = text;
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => { this.banner.hidden = true; }, 8000);
  }

  announce(text) {
    const el = document.getElementById('announce');
    el.append(h('p', {}, text));
    while (el.childElementCount > 5) el.firstChild.remove();
  }

  async logout() {
    this.loggingOut = true;
    try {
      await api('POST', '/api/logout', this.token);
    } catch {
      // ended already
    }
    this.end('You are logged out.');
  }

  // end leaves the desk for the login form, once.
  end(why) {
    if (this.over) return;
    this.over = true;
    this.onEnd(why);
  }
}
