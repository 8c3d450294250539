// The Reports tab: the statistics of a period (GET /api/stats) for a
// department, an agent or everything the user may see, bucket by bucket
// (an hour or a day) in the browser's time zone: charts, the figures as a
// table, the ratings' comments, and the same as CSV (GET /api/stats.csv).
// It offers only what the broker would answer: reports.view every
// department and agent; a supervisor or manager their departments and
// their agents; anyone their own figures. Names and comments are text.
import { api, ProtocolError } from '/lib/client.js';
import { h, fill, span } from '/lib/dom.js';
import { barChart, lineChart } from '/console/charts.js';

const PERIODS = [['today', 'Today'], ['yesterday', 'Yesterday'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['range', 'Dates…']];
const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// duration formats milliseconds: "420 ms", "12.5 s", "3 min".
export function duration(ms) {
  ms = Number(ms || 0);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return span(ms);
}
const share = (x) => `${Math.round(Number(x || 0) * 100)} %`;
const count = (x) => String(Number(x || 0));
const seconds = (s) => span(Number(s || 0) * 1000);

// The table's sections: [label, field, format, the field that counts the
// values a percentile is of (no value when it is 0)].
const FIGURES = [
  ['Chats', [
    ['Requested', 'requested', count], ['Refused', 'refused', null], ['Queued', 'queued', count], ['Assigned', 'assigned', count],
    ['Missed (left before an answer)', 'missed', count], ['Transferred in', 'transferred_in', count],
    ['Transferred out', 'transferred_out', count], ['Closed', 'closed', count], ['Offline messages', 'offline_messages', count]]],
  ['Waiting time', [
    ['Waits', 'waits', count], ['Median (p50)', 'wait_p50_ms', duration, 'waits'], ['p90', 'wait_p90_ms', duration, 'waits'],
    ['Longest', 'wait_max_ms', duration, 'waits'], ['Answered within the target', 'answered_within_target', count],
    ['Share within the target', 'within_target_share', share, 'waits']]],
  ['First response', [
    ['First responses', 'first_responses', count], ['Median (p50)', 'first_response_p50_ms', duration, 'first_responses'],
    ['p90', 'first_response_p90_ms', duration, 'first_responses']]],
  ['Handling time', [
    ['Chats handled', 'handled', count], ['Median (p50)', 'handling_p50_ms', duration, 'handled'], ['p90', 'handling_p90_ms', duration, 'handled']]],
  ['Messages', [['By visitors', 'visitor_messages', count], ['By staff', 'staff_messages', count]]],
  ['Agents', [
    ['Available', 'available_s', seconds], ['Away', 'away_s', seconds], ['Draining', 'draining_s', seconds], ['Offline', 'offline_s', seconds],
    ['Chats at once (average)', 'chats_at_once_avg', (x) => Number(x || 0).toFixed(2)], ['Chats at once (peak)', 'chats_at_once_peak', count],
    ['Occupancy', 'occupancy', share], ['Offers declined', 'offers_declined', count], ['Offers expired', 'offers_expired', count]]],
  ['Satisfaction', [
    ['Rated good', 'rated_good', count], ['Rated bad', 'rated_bad', count], ['Share good', 'good_share', share, 'rated']]],
];

// refusals sums a refused map and lists its reasons.
function refusals(m = {}) {
  const parts = Object.entries(m).sort((a, b) => b[1] - a[1]);
  const total = parts.reduce((n, [, v]) => n + Number(v), 0);
  return parts.length ? `${total} (${parts.map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ')})` : '0';
}

export class ReportsTab {
  constructor(desk, el) {
    this.desk = desk;
    this.el = el;
    this.seq = 0;
    this.names = { departments: new Map(), agents: new Map() };
  }

  // open builds the controls for what the user may see (again after a
  // new welcome: the role may have changed) and shows the report.
  async open() {
    if (!this.desk.me) return; // before the welcome: opened again by it
    if (this.me !== this.desk.me) {
      this.me = this.desk.me;
      await this.build();
    }
    this.load();
  }

  // scope: what this user may see. reports.view: every department and
  // agent; a supervisor or manager (Welcome.monitors): those departments
  // and their agents; anyone else: only their own figures.
  scope() {
    const me = this.me || {};
    if (this.desk.perms.has('reports.view')) return { everything: true, departments: null };
    return { everything: false, departments: me.monitors || [] };
  }

  // directory reads the departments and their agents with their names
  // (the transfer list, for those who may transfer): what the selectors
  // offer. Without it, the departments are named by their ids.
  async directory(sc) {
    const me = this.me || {};
    let views = [];
    if (this.desk.perms.has('chats.forward')) {
      try {
        const ans = await this.desk.client.command({ list_transfer_targets: {} });
        views = (ans.transfer_targets && ans.transfer_targets.departments) || [];
      } catch {
        views = [];
      }
    }
    const ids = sc.everything ? new Set([...views.map((v) => v.department), ...(me.departments || []), ...(me.monitors || [])]) : new Set(sc.departments);
    const deps = [...ids].sort().map((id) => {
      const v = views.find((x) => x.department === id) || {};
      this.names.departments.set(id, v.name || id);
      for (const a of v.agents || []) this.names.agents.set(a.agent_id, a.display_name || a.agent_id);
      return { id, name: v.name || id, agents: (v.agents || []).map((a) => a.agent_id) };
    });
    return deps;
  }

  async build() {
    const me = this.me || {};
    const sc = this.scope();
    this.own = !sc.everything && !sc.departments.length; // a plain agent: their own figures only
    this.names.agents.set(me.agent_id, me.display_name || me.agent_id);
    this.deps = this.own ? [] : await this.directory(sc);
    const select = (name, options) => h('select', { id: `reports-${name}`, name }, options.map(([v, t]) => h('option', { value: v }, t)));
    const period = select('period', PERIODS);
    const bucket = select('bucket', [['hour', 'hour'], ['day', 'day']]);
    this.period = period;
    this.bucket = bucket;
    this.from = h('input', { id: 'reports-from', type: 'date', 'aria-label': 'First day' });
    this.to = h('input', { id: 'reports-to', type: 'date', 'aria-label': 'Last day' });
    this.range = h('span', { class: 'reports-range', hidden: true }, this.from, ' – ', this.to);
    period.addEventListener('change', () => {
      this.range.hidden = period.value !== 'range';
      bucket.value = ['today', 'yesterday'].includes(period.value) ? 'hour' : 'day';
      if (period.value !== 'range' || (this.from.value && this.to.value)) this.load();
    });
    for (const el of [bucket, this.from, this.to]) el.addEventListener('change', () => this.load());
    const controls = [h('label', { for: 'reports-period' }, 'Period'), period, this.range, h('label', { for: 'reports-bucket' }, 'By'), bucket];
    this.department = null;
    if (this.own) {
      this.agent = h('select', { id: 'reports-agent', 'aria-label': 'Whose figures', disabled: true },
        h('option', { value: me.agent_id }, `My figures (${me.display_name || me.agent_id})`));
    } else {
      const depOptions = this.deps.map((d) => [d.id, d.name]);
      if (sc.everything) depOptions.unshift(['', 'All departments']);
      else if (this.deps.length > 1) depOptions.unshift(['', 'All my departments']);
      const dep = select('department', depOptions);
      this.department = dep;
      this.agent = h('select', { id: 'reports-agent', name: 'agent' });
      dep.addEventListener('change', () => {
        this.fillAgents();
        this.load();
      });
      this.agent.addEventListener('change', () => this.load());
      this.fillAgents();
      controls.push(h('label', { for: 'reports-department' }, 'Department'), dep);
    }
    controls.push(h('label', { for: 'reports-agent' }, 'Agent'), this.agent);
    this.csv = h('a', { id: 'reports-csv', class: 'button', href: '#', download: 'switchboard-statistics.csv' }, 'Download CSV');
    this.csv.addEventListener('click', (ev) => this.download(ev));
    controls.push(h('button', { id: 'reports-refresh', type: 'button', onclick: () => this.load() }, 'Refresh'), this.csv);
    this.error = h('p', { id: 'reports-error', class: 'error', role: 'alert' });
    this.title = h('h2', { id: 'reports-title' });
    this.charts = h('div', { id: 'reports-charts', class: 'reports-charts' });
    this.table = h('table', { id: 'reports-figures', class: 'list reports-figures' });
    this.comments = h('ol', { id: 'reports-comments', class: 'reports-comments', 'aria-label': 'Comments' });
    const form = h('form', { class: 'reports-controls', 'aria-label': 'Which figures' }, controls);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.load();
    });
    fill(this.el, h('div', { class: 'reports' }, form,
      this.error, this.title, this.charts, this.table,
      h('h3', {}, 'Comments'), this.comments));
  }

  // fillAgents offers the agents of the chosen department (of every
  // department the user may see when none is chosen), the user first.
  fillAgents() {
    const me = this.me || {};
    const dep = this.department.value;
    const ids = new Set(this.deps.filter((d) => !dep || d.id === dep).flatMap((d) => d.agents));
    ids.delete(me.agent_id);
    const keep = this.agent.value;
    fill(this.agent,
      h('option', { value: '' }, dep ? 'The whole department' : 'Everyone'),
      h('option', { value: me.agent_id }, `Me (${me.display_name || me.agent_id})`),
      [...ids].sort((a, b) => this.agentName(a).localeCompare(this.agentName(b))).map((id) => h('option', { value: id }, this.agentName(id))));
    if ([...this.agent.options].some((o) => o.value === keep)) this.agent.value = keep;
  }

  agentName(id) {
    return this.names.agents.get(id) || id;
  }

  // query is the report's query: an agent's figures, or a department's,
  // or everything the user may see; the period and the browser's zone.
  query() {
    const p = new URLSearchParams();
    const agent = this.agent.value;
    if (agent) p.set('agent', agent);
    else if (this.department && this.department.value) p.set('department', this.department.value);
    if (this.period.value === 'range') {
      p.set('from', this.from.value); // dates: from the first day's start to the last day's end
      p.set('to', this.to.value);
    } else {
      p.set('period', this.period.value);
    }
    p.set('tz', zone());
    p.set('bucket', this.bucket.value);
    return p;
  }

  async load() {
    if (!this.period || (this.period.value === 'range' && !(this.from.value && this.to.value))) return;
    const seq = ++this.seq;
    this.forgetCSV();
    this.error.textContent = '';
    this.el.setAttribute('aria-busy', 'true');
    try {
      const r = await api('GET', `/api/stats?${this.query()}`, this.desk.token);
      if (seq === this.seq) this.render(r || {});
    } catch (err) {
      if (seq === this.seq) this.error.textContent = err.message;
    } finally {
      if (seq === this.seq) this.el.removeAttribute('aria-busy');
    }
  }

  // format is an Intl.DateTimeFormat in the report's time zone.
  format(r, opts) {
    try {
      return new Intl.DateTimeFormat([], { ...opts, timeZone: r.time_zone || zone() });
    } catch {
      return new Intl.DateTimeFormat([], opts);
    }
  }

  // periodText names the report's period: its days when it is whole days
  // (the last one is the day before "to"), else its two instants.
  periodText(r) {
    if (!r.from || !r.to) return '';
    const from = new Date(r.from);
    const to = new Date(r.to);
    if (/T00:00:00/.test(r.from) && /T00:00:00/.test(r.to)) {
      return this.format(r, { dateStyle: 'medium' }).formatRange(from, new Date(to.getTime() - 1));
    }
    return this.format(r, { dateStyle: 'medium', timeStyle: 'short' }).formatRange(from, to);
  }

  // labeler names a bucket by its start: the hour, or the day.
  labeler(r) {
    const f = this.format(r, r.bucket === 'hour' ? { hour: 'numeric' } : { day: 'numeric', month: 'short' });
    return (b) => (b.start ? f.format(new Date(b.start)) : '');
  }

  render(r) {
    const total = r.total || {};
    const buckets = r.buckets || [];
    const label = this.labeler(r);
    const labels = buckets.map(label);
    const who = r.agent_id ? this.agentName(r.agent_id) : r.department ? (this.names.departments.get(r.department) || r.department)
      : this.scope().everything ? 'All departments' : 'All my departments';
    this.title.textContent = `${who}: ${this.periodText(r)}`;
    this.title.dataset.agent = r.agent_id || '';
    this.title.dataset.department = r.department || '';
    const box = (chart) => h('figure', { class: 'chart-box' }, h('figcaption', {}, chart.getAttribute('aria-label')), chart);
    fill(this.charts,
      box(barChart({ title: 'Chats', labels, rows: buckets, series: [
        { key: 'requested', label: 'requested' }, { key: 'assigned', label: 'assigned' }, { key: 'missed', label: 'missed' }] })),
      box(lineChart({ title: 'Waiting time', labels, rows: buckets, format: duration, series: [
        { key: 'wait_p50_ms', label: 'wait p50' }, { key: 'wait_p90_ms', label: 'wait p90' }] })),
      box(barChart({ title: 'Satisfaction', labels, rows: buckets, series: [
        { key: 'rated_good', label: 'good' }, { key: 'rated_bad', label: 'bad' }] })));
    this.renderTable(total);
    this.renderComments(r.comments || []);
  }

  renderTable(t) {
    const have = { ...t, rated: Number(t.rated_good || 0) + Number(t.rated_bad || 0) };
    const value = ([, key, format, of]) => {
      if (key === 'refused') return refusals(t.refused);
      if (of && !Number(have[of] || 0)) return '–';
      return format(t[key]);
    };
    fill(this.table, h('caption', {}, 'Figures of the period'),
      FIGURES.map(([section, rows]) => h('tbody', {},
        h('tr', {}, h('th', { colspan: 2, scope: 'colgroup', class: 'section' }, section)),
        rows.map((row) => h('tr', {}, h('th', { scope: 'row' }, row[0]), h('td', { 'data-figure': row[1] }, value(row)))))));
  }

  renderComments(list) {
    const when = new Intl.DateTimeFormat([], { dateStyle: 'medium', timeStyle: 'short' });
    const history = !this.desk.tabs.querySelector('#tab-history').hidden; // the transcript opens there
    fill(this.comments, list.length ? list.map((c) => {
      const good = c.score === 'RATING_SCORE_GOOD';
      return h('li', { class: `comment ${good ? 'good' : 'bad'}`, 'data-chat': c.chat_id || '' },
        h('span', { class: 'score' }, good ? 'good' : 'bad'), ' ',
        h('time', {}, c.at_ms ? when.format(new Date(Number(c.at_ms))) : ''), ' ',
        h('span', { class: 'who' }, c.agent_id ? this.agentName(c.agent_id) : ''), ' ',
        history && c.chat_id ? [h('a', { class: 'chat', href: `#/chats/${c.chat_id}` }, 'transcript'), ' '] : null,
        h('q', { class: 'text' }, c.comment || ''));
    }) : h('li', { class: 'empty' }, 'No comments in this period.'));
  }

  forgetCSV() {
    if (this.csv && this.csv.dataset.ready) {
      URL.revokeObjectURL(this.csv.href);
      this.csv.href = '#';
      delete this.csv.dataset.ready;
    }
  }

  // download fetches the CSV with the token in the header (never in a
  // URL) and hands it to the browser from a blob: URL, as files are.
  async download(ev) {
    if (this.csv.dataset.ready) return; // the blob is there: let the browser save it
    ev.preventDefault();
    this.error.textContent = '';
    try {
      const res = await fetch(`/api/stats.csv?${this.query()}`, { headers: { Authorization: `Bearer ${this.desk.token}`, Accept: 'text/csv' } });
      if (!res.ok) {
        const data = await res.json().catch(() => null);
        throw new ProtocolError(data && data.code ? data : { code: `HTTP_${res.status}`, message: res.statusText });
      }
      this.csv.href = URL.createObjectURL(await res.blob());
      this.csv.dataset.ready = 'true';
      this.csv.click();
    } catch (err) {
      this.error.textContent = err.message;
    }
  }
}
