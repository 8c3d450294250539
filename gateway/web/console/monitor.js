// The supervisor's view: for each department one supervises or manages,
// its live figures (waiting, the longest wait, chats in progress, agents
// by status), the line (how long each visitor has waited), the chats being handled
// and by whom, and each agent's status and load. From here: watch a chat
// invisibly, join it, take it over; hand a waiting chat to a chosen agent
// (chats.assign); set the queue online or offline and an agent's status
// (managers).
import { h, fill, enumName, span } from '/lib/dom.js';
import { RoutingPanel, whyWaiting } from '/console/routing.js';

const SET = ['AGENT_STATUS_AVAILABLE', 'AGENT_STATUS_AWAY', 'AGENT_STATUS_OFFLINE'];

export class MonitorTab {
  constructor(desk, el) {
    this.desk = desk;
    this.el = el;
    this.views = new Map(); // department -> {view, card, skew}
    this.why = new Map(); // chat -> its open RoutingPanel (kept across pushes)
    this.cards = h('div', { class: 'cards' });
    fill(el, this.cards);
    this.timer = setInterval(() => this.tickWaits(), 1000);
  }

  async open(force = false) {
    const deps = (this.desk.me && this.desk.me.monitors) || [];
    if (this.asked && !force) return;
    this.wanted = true; // asked again after every reconnect
    this.asked = true;
    try {
      await this.desk.command({ monitor: { departments: deps } });
    } catch (err) {
      this.asked = false; // opening the tab again asks again
      throw err;
    }
  }

  view(v) {
    let x = this.views.get(v.department);
    if (!x) {
      x = { card: h('section', { class: 'card', 'data-dept': v.department }) };
      this.views.set(v.department, x);
      this.cards.append(x.card);
    }
    x.view = v;
    x.skew = Date.now() - Number(v.at_ms || Date.now());
    this.forgetWhy();
    this.render(x);
  }

  // forgetWhy drops the Routing sections of chats no longer waiting.
  forgetWhy() {
    const waiting = new Set();
    for (const { view } of this.views.values()) for (const c of view.waiting || []) waiting.add(c.chat_id);
    for (const id of this.why.keys()) if (!waiting.has(id)) this.why.delete(id);
  }

  render({ view: v, card, skew }) {
    const manages = (this.desk.me.manages || []).includes(v.department);
    const may = (perm) => this.desk.perms.has(perm);
    const online = !!v.online;
    const assign = may('chats.assign');
    const waitCell = (c) => h('td', { class: 'waited', 'data-since': Number(c.created_at_ms) + skew }, span(Date.now() - Number(c.created_at_ms) - skew));
    fill(card,
      h('h2', {}, v.name || v.department, ' ', h('span', { class: `pill ${online ? 'on' : 'off'}` }, online ? 'online' : 'offline')),
      this.liveFigures(v, skew),
      manages ? h('button', { class: 'queue-toggle', onclick: () => this.desk.command({ set_queue_online: { department: v.department, online: !online } }) },
        online ? 'Set the queue offline' : 'Set the queue online') : null,
      h('table', { class: 'list waiting' }, h('caption', {}, `Waiting (${v.waiting_count || 0})`),
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Visitor'), h('th', {}, 'Language'), h('th', {}, 'Waited'), h('th', {}, ''))),
        h('tbody', {}, (v.waiting || []).flatMap((c) => [h('tr', { 'data-chat': c.chat_id },
          h('td', {}, String(c.position || '')), h('td', {}, c.visitor_name || 'Visitor'), h('td', {}, c.language || ''), waitCell(c),
          h('td', { class: 'row-actions' }, assign ? this.assignSelect(v, c) : null, this.whyButton(c))),
        ...this.routingRows(v, c, 5)]))),
      h('table', { class: 'list active' }, h('caption', {}, `Chats (${(v.active || []).length})`),
        h('thead', {}, h('tr', {}, h('th', {}, 'Visitor'), h('th', {}, 'Agent'), h('th', {}, 'With'), h('th', {}, ''))),
        h('tbody', {}, (v.active || []).map((c) => h('tr', { 'data-chat': c.chat_id },
          h('td', {}, c.visitor_name || 'Visitor'), h('td', {}, c.agent_name || c.agent_id || ''),
          h('td', {}, [...(c.guests || []).map((p) => p.display_name), ...(c.watchers || []).map((p) => `${p.display_name} (watching)`)].join(', ')),
          h('td', { class: 'row-actions' },
            may('chats.join_invisible') ? h('button', { class: 'watch', onclick: () => this.join(c, true) }, 'Watch') : null,
            may('chats.join') ? h('button', { class: 'join', onclick: () => this.join(c, false) }, 'Join') : null,
            may('chats.take_over') ? h('button', { class: 'takeover', onclick: () => this.takeOver(c) }, 'Take over') : null))))),
      h('table', { class: 'list agents' }, h('caption', {}, 'Agents'),
        h('thead', {}, h('tr', {}, h('th', {}, 'Agent'), h('th', {}, 'Status'), h('th', {}, 'Load'))),
        h('tbody', {}, (v.agents || []).map((a) => h('tr', { 'data-agent': a.agent_id },
          h('td', {}, a.display_name || a.agent_id),
          h('td', {}, manages ? this.statusSelect(a) : enumName(a.status || 'AGENT_STATUS_OFFLINE', 'AGENT_STATUS_'),
            a.connected ? '' : ' (not connected)'),
          h('td', {}, `${a.load || 0}/${a.max_chats || 0}`))))));
  }

  // routingRows are the rows under a waiting chat: for the head of the
  // line, why it waits (the push's head_routing); for a chat whose "Why?"
  // was opened, its Routing section.
  routingRows(v, c, cols) {
    const rows = [];
    const head = v.head_routing;
    if (head && head.chat_id === c.chat_id) {
      rows.push(h('tr', { class: 'head-routing', 'data-chat': c.chat_id }, h('td', { colspan: cols }, whyWaiting(head, 'why-waiting head-why'))));
    }
    const open = this.why.get(c.chat_id);
    if (open) rows.push(h('tr', { class: 'routing-row', 'data-chat': c.chat_id }, h('td', { colspan: cols }, open.el)));
    return rows;
  }

  // whyButton opens (or closes) a waiting chat's Routing section.
  whyButton(c) {
    return h('button', { class: 'why', 'aria-label': `Why is the chat of ${c.visitor_name || 'Visitor'} still waiting?`, onclick: () => {
      if (this.why.has(c.chat_id)) this.why.delete(c.chat_id);
      else {
        const p = new RoutingPanel(this.desk, c.chat_id);
        p.el.open = true; // its toggle event loads it
        this.why.set(c.chat_id, p);
      }
      for (const x of this.views.values()) this.render(x);
    } }, 'Why?');
  }

  // liveFigures is the department's figures now, from the push's live
  // field; the longest wait goes on counting between pushes.
  liveFigures(v, skew) {
    const f = v.live || {};
    const longest = Number(f.longest_wait_ms || 0);
    const figure = (name, label, value, since) => h('div', { class: 'figure', 'data-figure': name },
      h('span', { class: since === undefined ? 'value' : 'value waited', 'data-since': since }, value), h('span', { class: 'label' }, label));
    return h('div', { class: 'live-figures', role: 'group', 'aria-label': `Live figures of ${v.name || v.department}` },
      figure('waiting', 'waiting', String(f.waiting || 0)),
      longest ? figure('longest-wait', 'longest wait', span(longest), Number(v.at_ms) - longest + skew) : figure('longest-wait', 'longest wait', '–'),
      figure('in-progress', 'chats in progress', String(f.chats_in_progress || 0)),
      figure('available', 'available', String(f.agents_available || 0)),
      figure('away', 'away', String(f.agents_away || 0)),
      figure('draining', 'draining', String(f.agents_draining || 0)),
      figure('offline', 'offline', String(f.agents_offline || 0)));
  }

  // assignSelect is the "Assign to…" menu of a waiting chat: the
  // department's agents who can take a chat now (available, connected,
  // under their limit; the broker checks again, and their language).
  assignSelect(v, c) {
    const free = (v.agents || []).filter((a) => a.status === 'AGENT_STATUS_AVAILABLE' && a.connected && (a.load || 0) < (a.max_chats || 0));
    const sel = h('select', { class: 'assign', 'aria-label': `Assign the chat of ${c.visitor_name || 'Visitor'} to` },
      h('option', { value: '' }, 'Assign to…'),
      free.map((a) => h('option', { value: a.agent_id }, `${a.display_name || a.agent_id} (${a.load || 0}/${a.max_chats || 0})`)));
    sel.addEventListener('change', async () => {
      const a = free.find((x) => x.agent_id === sel.value);
      if (!a) return;
      try {
        await this.desk.command({ assign_waiting: { department: v.department, chat_id: c.chat_id, agent_id: a.agent_id } });
        this.desk.flash(`Offered to ${a.display_name || a.agent_id}`);
      } catch {
        sel.value = ''; // the banner says why
      }
    });
    return sel;
  }

  statusSelect(a) {
    const current = a.status || 'AGENT_STATUS_OFFLINE';
    const sel = h('select', { class: 'agent-status', 'aria-label': `Status of ${a.display_name || a.agent_id}` },
      [...new Set([...SET, current])].map((s) => h('option', { value: s, disabled: !SET.includes(s) }, enumName(s, 'AGENT_STATUS_'))));
    sel.value = current;
    sel.addEventListener('change', () => this.desk.command({ set_agent_status: { agent_id: a.agent_id, status: sel.value } }).catch(() => { sel.value = current; }));
    return sel;
  }

  tickWaits() {
    if (this.el.hidden) return;
    for (const el of this.el.querySelectorAll('.waited[data-since]')) el.textContent = span(Date.now() - Number(el.dataset.since));
  }

  async join(c, invisible) {
    await this.desk.command({ join_chat: { chat_id: c.chat_id, invisible } });
    this.desk.chats.get(c.chat_id).open(true);
  }

  async takeOver(c) {
    await this.desk.command({ take_over: { chat_id: c.chat_id } });
    this.desk.chats.get(c.chat_id).open(true);
  }
}
