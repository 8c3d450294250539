// Why a chat went where it went, or still waits: its routing decisions
// (GET /api/chats/{id}/routing, staff who may read the chat). "Why here"
// is the stay in line that ended with the chat's assignment: the offers
// made, each agent considered with why they were passed over, and the
// answers; "Why still waiting" is the queue's explanation now. Agent ids
// and the decisions' words are shown as text, never markup.
import { h, fill, clock } from '/lib/dom.js';
import { api } from '/lib/client.js';

// Why an agent was passed over, in words (RoutingSkip).
const REASONS = {
  ROUTING_SKIP_CHOSEN: 'chosen',
  ROUTING_SKIP_NOT_MEMBER: 'not in the department',
  ROUTING_SKIP_LANGUAGE: "does not speak the chat's language",
  ROUTING_SKIP_AT_LIMIT: 'at their limit',
  ROUTING_SKIP_AWAY: 'away or offline',
  ROUTING_SKIP_DRAINING: 'ending their shift',
  ROUTING_SKIP_NOT_CONNECTED: 'not connected',
  ROUTING_SKIP_COOLING: 'declined it a moment ago',
  ROUTING_SKIP_NOT_TURN: 'not their turn (round robin)',
  ROUTING_SKIP_MORE_LOADED: 'more loaded',
  ROUTING_SKIP_OWN_QUESTION: 'their own question',
  ROUTING_SKIP_MANUAL: 'routing by hand, or offered already',
  ROUTING_SKIP_TRANSFER_TARGET: 'after the colleague it was transferred to',
};

const KIND = 'ROUTING_DECISION_KIND_';

// policy is a decision's policy in words ("least_loaded": "least loaded").
const policy = (d) => (d.policy || '').replace(/_/g, ' ');

// candidates lists a decision's agents, each with why (the proto leaves
// the reason out when it is CHOSEN, its zero value).
export function candidateList(d) {
  const cs = d.candidates || [];
  if (!cs.length) return null;
  const more = d.candidates_omitted ? h('li', { class: 'omitted' }, `and ${d.candidates_omitted} more`) : null;
  return h('ul', { class: 'candidates' }, cs.map((c) => {
    const reason = c.reason || 'ROUTING_SKIP_CHOSEN';
    let why = REASONS[reason] || reason;
    if (reason === 'ROUTING_SKIP_COOLING' && c.until_ms) why += ` (until ${clock(c.until_ms)})`;
    return h('li', { class: 'candidate', 'data-agent': c.agent_id, 'data-reason': reason.replace('ROUTING_SKIP_', '').toLowerCase() },
      h('span', { class: 'agent' }, c.agent_id), ': ', h('span', { class: 'why' }, why), ` (${c.load || 0}/${c.max_chats || 0} chats)`);
  }), more);
}

// decisionItem is one decision: when, in words, and whom it considered.
function decisionItem(d) {
  const kind = (d.kind || '').replace(KIND, '').toLowerCase();
  return h('li', { class: 'decision', 'data-kind': kind },
    h('time', {}, clock(d.at_ms)), ' ', h('span', { class: 'detail' }, d.detail || kind), candidateList(d));
}

// whyWaiting is a WAITING decision (now, or a monitor's head_routing).
export function whyWaiting(d, cls = 'why-waiting') {
  return h('div', { class: cls, 'data-chat': d.chat_id },
    h('h3', {}, 'Why still waiting'),
    h('p', { class: 'detail' }, d.detail || ''),
    d.position ? h('p', { class: 'muted' }, `Place ${d.position} of ${d.line_length || d.position} in line, ${policy(d)}`) : null,
    candidateList(d));
}

// lastStay is the decisions of the stay in line that ended in the last
// assignment: from the QUEUED before it to the ASSIGNED.
function lastStay(ds) {
  let end = -1;
  for (let i = ds.length - 1; i >= 0; i--) {
    if (ds[i].kind === `${KIND}ASSIGNED`) { end = i; break; }
  }
  if (end < 0) return [];
  let start = end;
  while (start > 0 && ds[start].kind !== `${KIND}QUEUED`) start--;
  return ds.slice(start, end + 1);
}

export function storyView(story) {
  if (story.now) return whyWaiting(story.now);
  const stay = lastStay(story.decisions || []);
  if (!stay.length) return h('p', { class: 'muted' }, 'No routing decisions recorded for this chat.');
  const assigned = stay[stay.length - 1];
  return h('div', { class: 'why-here' },
    h('h3', {}, 'Why here'),
    h('p', { class: 'detail' }, `Assigned to `, h('span', { class: 'agent' }, assigned.agent_id), ` (${policy(assigned)})`),
    h('ol', { class: 'decisions' }, stay.map(decisionItem)));
}

// RoutingPanel is the Routing section of a chat (a pane, a row of the
// monitor): closed until opened, read again each time it opens.
export class RoutingPanel {
  constructor(desk, chatId) {
    this.desk = desk;
    this.chatId = chatId;
    this.body = h('div', { class: 'routing-body' });
    this.el = h('details', { class: 'routing-info', 'data-chat': chatId }, h('summary', {}, 'Routing'), this.body);
    this.el.addEventListener('toggle', () => { if (this.el.open) this.load(); });
  }

  async load() {
    this.body.setAttribute('aria-busy', 'true');
    try {
      fill(this.body, storyView(await api('GET', `/api/chats/${encodeURIComponent(this.chatId)}/routing`, this.desk.token)));
    } catch (err) {
      fill(this.body, h('p', { class: 'error' }, err.message));
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }
}
