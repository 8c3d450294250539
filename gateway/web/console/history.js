// The History tab: past and current chats the staff member may read
// (GET /api/chats), filtered and searched, a page at a time, and a chat's
// transcript (GET /api/chats/{id}) at a stable address, #/chats/<id>.
// Everything users wrote is shown as text.
import { api } from '/lib/client.js';
import { h, fill, enumName } from '/lib/dom.js';
import { RoutingPanel } from '/console/routing.js';

const when = new Intl.DateTimeFormat([], { dateStyle: 'medium', timeStyle: 'short' });
const stamp = (ms) => (ms ? when.format(new Date(Number(ms))) : '');

// The address of a chat's transcript.
export const CHAT_HASH = /^#\/chats\/([a-z][0-9a-f]{28})$/;

export class HistoryTab {
  constructor(desk, el) {
    this.desk = desk;
    this.el = el;
    this.cursor = '';
    const field = (name, label, attrs = {}) => {
      const input = h('input', { id: `history-${name}`, name, ...attrs });
      return [h('label', { for: `history-${name}` }, label), input];
    };
    const select = (name, label, options) => [
      h('label', { for: `history-${name}` }, label),
      h('select', { id: `history-${name}`, name }, options.map(([v, t]) => h('option', { value: v }, t))),
    ];
    this.form = h('form', { class: 'history-filters', role: 'search', 'aria-label': 'Search chats' },
      field('q', 'Words', { type: 'search', placeholder: 'words in the transcript' }),
      field('department', 'Department'),
      field('agent', 'Agent'),
      field('visitor', 'Visitor id'),
      select('state', 'State', [['', 'any'], ['queued', 'queued'], ['active', 'active'], ['closed', 'closed']]),
      field('tag', 'Tag'),
      select('rating', 'Rating', [['', 'any'], ['good', 'good'], ['bad', 'bad']]),
      field('from', 'From', { type: 'date' }),
      field('to', 'To', { type: 'date' }),
      h('button', { id: 'history-search', type: 'submit' }, 'Search'));
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search(false);
    });
    this.error = h('p', { id: 'history-error', class: 'error', role: 'alert' });
    this.list = h('ul', { id: 'history-list', class: 'history-list', 'aria-label': 'Chats found' });
    this.more = h('button', { id: 'history-more', type: 'button', hidden: true, onclick: () => this.search(true) }, 'More');
    this.transcript = h('article', { id: 'history-transcript', class: 'history-transcript', 'aria-label': 'Transcript', hidden: true });
    fill(el, h('div', { class: 'history' },
      h('div', { class: 'history-search' }, this.form, this.error, this.list, this.more),
      this.transcript));
  }

  open() {
    if (!this.searched) this.search(false);
  }

  params(more) {
    const p = new URLSearchParams();
    for (const el of this.form.elements) {
      if (!el.name || !el.value.trim()) continue;
      p.set(el.name, el.value.trim());
    }
    if (more && this.cursor) p.set('cursor', this.cursor);
    return p;
  }

  async search(more) {
    this.searched = true;
    this.error.textContent = '';
    this.list.setAttribute('aria-busy', 'true');
    try {
      const page = await api('GET', `/api/chats?${this.params(more)}`, this.desk.token);
      if (!more) fill(this.list);
      for (const c of (page && page.chats) || []) this.list.append(this.row(c));
      if (!this.list.children.length) this.list.append(h('li', { class: 'empty' }, 'No chats found.'));
      this.cursor = (page && page.next_cursor) || '';
      this.more.hidden = !this.cursor;
    } catch (err) {
      this.error.textContent = err.message;
    } finally {
      this.list.removeAttribute('aria-busy');
    }
  }

  row(c) {
    const deps = c.departments || [];
    const agents = (c.agents || []).map((id) => (c.agent_names || {})[id] || id);
    return h('li', { 'data-chat': c.chat_id },
      h('a', { class: 'history-item', href: `#/chats/${c.chat_id}` },
        h('span', { class: 'history-when' }, stamp(c.started_at_ms)),
        h('span', { class: 'history-who' }, c.visitor_name || c.visitor_id || ''),
        h('span', { class: 'history-where' }, deps[deps.length - 1] || ''),
        h('span', { class: 'history-agents' }, agents.join(', ')),
        h('span', { class: 'history-state' }, enumName(c.state, 'CHAT_STATE_')),
        (c.tags || []).length ? h('span', { class: 'history-tags' }, c.tags.join(', ')) : null,
        c.rating ? h('span', { class: 'history-rating' }, enumName(c.rating, 'RATING_SCORE_')) : null,
        h('span', { class: 'history-preview' }, c.preview || '')));
  }

  // showChat opens a chat's transcript (the address says which).
  async showChat(id) {
    this.transcript.hidden = false;
    this.transcript.setAttribute('aria-busy', 'true');
    fill(this.transcript, h('p', {}, 'Loading…'));
    for (const li of this.list.children) li.classList.toggle('current', li.dataset.chat === id);
    try {
      const rec = await api('GET', `/api/chats/${id}`, this.desk.token);
      const names = {};
      for (const p of rec.participants || []) names[`${p.kind}/${p.id}`] = p.display_name || p.id;
      fill(this.transcript,
        h('h2', { id: 'history-chat-title' }, `Chat ${rec.chat_id}`),
        h('p', { class: 'history-meta' },
          `${(rec.departments || []).join(' → ')} · ${enumName(rec.state, 'CHAT_STATE_')} · ${stamp(rec.started_at_ms)}`,
          rec.ended_at_ms ? ` – ${stamp(rec.ended_at_ms)}` : ''),
        new RoutingPanel(this.desk, rec.chat_id).el,
        h('ol', { class: 'history-events' }, (rec.transcript || []).map((ev) => this.line(ev, names))));
    } catch (err) {
      fill(this.transcript, h('p', { class: 'error', role: 'alert' }, err.message));
    } finally {
      this.transcript.removeAttribute('aria-busy');
    }
  }

  line(ev, names) {
    const at = h('time', {}, stamp(ev.at_ms));
    const m = ev.message;
    if (m) {
      const from = m.from || {};
      return h('li', { class: ev.internal ? 'msg whisper' : 'msg', 'data-seq': ev.seq },
        at, ' ', h('strong', {}, names[`${from.kind}/${from.id}`] || from.display_name || from.id || ''),
        ev.internal ? h('em', {}, ' (whisper)') : null, ': ', h('span', { class: 'text' }, m.text || ''));
    }
    const kind = Object.keys(ev).find((k) => !['chat_id', 'seq', 'at_ms', 'internal', 'visitor_seq'].includes(k)) || 'event';
    const detail = ev[kind] || {};
    const text = detail.tag ? `${kind} ${detail.removed ? '-' : '+'}${detail.tag}` : detail.agent_name ? `${kind} ${detail.agent_name}` : kind;
    return h('li', { class: ev.internal ? 'sys whisper' : 'sys', 'data-seq': ev.seq }, at, ' ', text);
  }
}
