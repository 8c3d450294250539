// How a chat event reads in the console (staff see every event, internal
// ones marked).
import { enumName } from '/lib/dom.js';

const who = (p) => (p && (p.display_name || p.id)) || 'Someone';

// describe returns {kind: 'message' | 'note', from, text} for an event.
export function describe(ev) {
  if (ev.message) return { kind: 'message', from: who(ev.message.from), self: false, text: ev.message.text };
  if (ev.created) {
    const c = ev.created;
    // A staff member writing in to an internal live chat: who they are,
    // from their account (never markup: every text is set as text).
    if (c.colleague) return note(`Colleague ${who(c.colleague)} (staff id ${c.colleague.id}) asked ${c.department} (${c.language})`);
    const via = c.channel ? ` through the channel ${c.channel}${c.reply_window_ms ? ` (replies within ${Number(c.reply_window_ms) / 3600000} h of their last message, after that /template name language params)` : ''}` : '';
    return note(`${c.visitor_name || 'A visitor'} started the chat in ${c.department} (${c.language})${c.email ? `, ${c.email}` : ''}${via}`);
  }
  if (ev.assigned) {
    const a = ev.assigned;
    const how = { ASSIGN_HOW_TRANSFERRED: ' (transferred)', ASSIGN_HOW_TAKEN_OVER: ' (took over the chat)' }[a.how] || '';
    return note(`${a.agent_name || a.agent_id} joined the chat${how}`);
  }
  if (ev.transferred) {
    const x = ev.transferred;
    return note(`${who(x.by)} transferred the chat to ${x.to_agent_name || x.to_agent_id || x.to_department}`);
  }
  if (ev.member) {
    const m = ev.member;
    const action = enumName(m.action, 'MEMBER_ACTION_') || 'changed';
    const by = m.by ? ` (by ${who(m.by)})` : '';
    return note(`${who(m.who)} ${action}${m.invisible ? ' invisibly' : ''}${by}`);
  }
  if (ev.status_changed) return note(`${who(ev.status_changed.by)} set the status to ${enumName(ev.status_changed.status, 'WORK_STATUS_') || 'open'}`);
  if (ev.renamed) return note(`Now called ${ev.renamed.display_name}`);
  if (ev.requeued) return note(`Back in the queue: ${ev.requeued.reason || ''}`);
  if (ev.attachment) return { kind: 'file', from: who(ev.attachment.from), text: `sent a file: ${ev.attachment.name || 'file'}` };
  if (ev.emailed) {
    const e = ev.emailed;
    const what = { transcript: 'the transcript', agent: `an email (${e.subject || ''})`, offline_reply: 'an answer' }[e.purpose] || 'an email';
    return note(`${who(e.by)} sent ${what} to ${e.to}`);
  }
  if (ev.delivered) {
    const d = ev.delivered;
    return note(`Message ${d.of_seq} ${d.state} (${d.channel})${d.error ? `: ${d.error}` : ''}`);
  }
  if (ev.closed) return note(`${who(ev.closed.by)} closed the chat${ev.closed.reason ? `: ${ev.closed.reason}` : ''}`);
  if (ev.reopened) {
    const r = ev.reopened;
    return note(`${who(r.by)} reopened the chat${r.prefer_agent ? ` (offered first to ${r.prefer_agent})` : ''}`);
  }
  if (ev.tagged) return note(`${who(ev.tagged.by)} ${ev.tagged.removed ? 'removed the tag' : 'tagged the chat'} ${ev.tagged.tag}`);
  if (ev.rated) {
    const r = ev.rated;
    const score = r.score === 'RATING_SCORE_GOOD' ? 'good' : 'bad';
    return { kind: 'rating', score, text: `The visitor rated the chat ${score}${r.comment ? `: “${r.comment}”` : ''}` };
  }
  return note('(an event this console does not know)');
}

function note(text) {
  return { kind: 'note', text };
}
