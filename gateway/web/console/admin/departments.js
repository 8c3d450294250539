// The departments page: routing policy, queue limit, offer timeout,
// business hours and time zone, supervisors, managers, what happens when
// an agent leaves, offline messages, tags, how long closed chats are
// kept; open and close the queue.
import { h } from '/lib/dom.js';
import { recordPage, pill, idSpec } from '/console/admin/record.js';
import { liveChatOptions } from '/console/admin/livechats.js';

const POLICIES = [
  { value: 'ROUTING_POLICY_LEAST_LOADED', label: 'Least loaded: the agent with the most room' },
  { value: 'ROUTING_POLICY_ROUND_ROBIN', label: 'Round robin: each agent in turn' },
  { value: 'ROUTING_POLICY_MANUAL', label: 'Manual: agents pick from the waiting list' },
];

const AGENT_LEFT = [
  { value: 'AGENT_LEFT_POLICY_REQUEUE', label: 'Back to the queue, in its old place' },
  { value: 'AGENT_LEFT_POLICY_CLOSE', label: 'Close the chat' },
];

// departmentFields are the form's fields. (The department's look, its
// widget colours and texts, is another group that fits in this list.)
export function departmentFields(admin, isNew) {
  const staff = admin.staffOptions();
  return [
    idSpec(isNew),
    { name: 'name', label: 'Name', hint: 'what visitors and agents see' },
    { name: 'live_chat', label: 'Live chat', kind: 'select', options: liveChatOptions(admin), hint: 'where it takes chats from' },
    { name: 'chat_enabled', label: 'Queue open: takes new chats', kind: 'checkbox' },
    { name: 'policy', label: 'Routing', kind: 'select', options: POLICIES },
    { name: 'queue_limit', label: 'Queue limit', kind: 'number', hint: 'waiting chats at once; empty means 200' },
    { name: 'offer_timeout_ms', label: 'Offer timeout (seconds)', kind: 'number', scale: 1000, hint: 'how long an agent has to accept; empty means 30' },
    { name: 'on_agent_left', label: 'When an agent’s connection is lost', kind: 'select', options: AGENT_LEFT },
    { group: 'Business hours', fields: [
      { name: 'business_hours', label: 'Open', kind: 'windows', hint: 'none: always open (while the queue is open)' },
      { name: 'time_zone', label: 'Time zone', kind: 'zone', hint: 'such as Europe/Stockholm; empty means UTC' },
    ] },
    { name: 'offline_messages', label: 'Offline messages: a visitor nobody can take may leave a message', kind: 'checkbox',
      hint: 'when the queue is closed, outside business hours, the queue is full or no agent is available (then a request is refused rather than left waiting); staff answer by email' },
    { group: 'Tags', fields: [
      { name: 'tags', label: 'Tags agents may give its chats', kind: 'lines', hint: 'one a line; at most 100, each at most 40 bytes' },
      { name: 'require_tag', label: 'A chat must be tagged before it is closed', kind: 'checkbox', hint: 'needs at least one tag above' },
    ] },
    { name: 'retention_days', label: 'Delete closed chats after (days)', kind: 'number',
      hint: 'with their files, once ended that long ago; empty or 0: kept for ever; at most 36500' },
    { name: 'supervisors', label: 'Supervisors (monitor and whisper)', kind: 'checks', options: staff },
    { name: 'managers', label: 'Managers (open and close the queue, set agents’ status)', kind: 'checks', options: staff },
  ];
}

export function departmentsPage(admin) {
  const members = (id) => (admin.dir.agents || []).filter((a) => (a.departments || []).includes(id)).length;
  return recordPage(admin, {
    page: 'departments', title: 'Departments', noun: 'department',
    items: admin.dir.departments,
    key: (d) => d.id,
    label: (d) => d.name || d.id,
    sub: (d) => `${d.chat_enabled ? 'open' : 'closed'} · ${members(d.id)} agents · ${policyName(d.policy)}`,
    path: (id) => `/admin/departments/${encodeURIComponent(id)}`,
    fields: (rec, isNew) => departmentFields(admin, isNew),
    blank: { chat_enabled: true },
    head: (d) => [
      pill(d.chat_enabled, 'queue open', 'queue closed'),
      h('button', {
        type: 'button', class: 'queue-toggle',
        onclick: async () => {
          try {
            await admin.call('PATCH', `/admin/departments/${encodeURIComponent(d.id)}`, { chat_enabled: !d.chat_enabled });
            await admin.saved(d.id, `The ${d.name || d.id} queue is now ${d.chat_enabled ? 'closed' : 'open'}.`);
          } catch (err) {
            admin.note.textContent = err.message;
          }
        },
      }, d.chat_enabled ? 'Close the queue' : 'Open the queue'),
    ],
  });
}

function policyName(p) {
  return { ROUTING_POLICY_ROUND_ROBIN: 'round robin', ROUTING_POLICY_MANUAL: 'manual' }[p] || 'least loaded';
}
