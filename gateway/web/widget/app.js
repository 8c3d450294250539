// The widget's frame: the launcher, the pre-chat form and the chat, in the
// broker's own iframe on the customer's page. The visitor's resume token is
// kept in this frame's localStorage, so a reload or another page of the
// site resumes the chat (the broker replays it from the start: every line
// once, in order). It talks to the loader on the host page by postMessage,
// checking the host's origin (given in the query, and the frame's first
// ancestor where the browser says it) and that the message comes from the
// parent window.
import { Client, api } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';
import { text, refusal, when, baseLanguage } from './i18n.js';
import { prechat } from './form.js';
import { ChatView } from './chat.js';
import { uploadFile } from '/lib/files.js';
import { offlineForm } from './offline.js';

const query = new URLSearchParams(location.search);
const host = hostOrigin(query.get('origin'));
const fixedDepartment = query.get('department') || '';
// The live chat the widget is bound to ("main" when none is named).
const liveChat = query.get('livechat') || '';
// Staff asking a colleague (an internal live chat, framed by the
// console): the console hands the staff session to the frame by
// postMessage (never in the address); it stays in memory, the session
// has no resume token, and the name is the account's.
const staff = query.get('staff') === '1';
const KEY = staff ? 'switchboard.colleague' : 'switchboard.widget';
let gotSession;
const session = new Promise((resolve) => { gotSession = resolve; });

const st = {
  lang: baseLanguage(query.get('language') || navigator.language || 'en'),
  color: validColor(query.get('color')),
  cfg: { departments: [], languages: [] },
  open: false,
  client: null,
  chatId: '',
  chat: null, // the chat's summary
  view: null, // ChatView
  values: {}, // what the visitor typed in the form
  department: fixedDepartment,
  token: '', // the resume token (also in storage, when the browser keeps it)
  staffToken: '', // staff asking a colleague: their session (memory only)
  // The visitor context: the host page's address, title and referrer,
  // and the fields its site set (Switchboard.setFields), sent once the
  // session is up and whenever they change.
  page: null,
  fields: null,
};

function hostOrigin(o) {
  if (!o || window.parent === window) return '';
  // A page cannot claim another origin than the one framing us.
  const anc = location.ancestorOrigins;
  if (anc && anc.length && anc[0] !== o) return '';
  return o;
}

function validColor(c) {
  return /^#[0-9a-fA-F]{6}$/.test(c || '') ? c : '';
}

function stored() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

function store(patch) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...stored(), ...patch }));
  } catch {
    // storage refused (privacy settings): the chat works, without resume
  }
}

function toHost(msg) {
  if (host) window.parent.postMessage(msg, host);
}

window.addEventListener('message', (ev) => {
  if (!host || ev.origin !== host || ev.source !== window.parent) return;
  const m = ev.data;
  if (staff && m && m.type === 'switchboard:session' && typeof m.token === 'string' && !st.staffToken) {
    st.staffToken = m.token;
    st.values = { ...st.values, name: String(m.name || '') };
    gotSession();
  }
  if (m && m.type === 'switchboard:viewport') document.body.classList.toggle('narrow', Number(m.width) < 480);
  if (m && m.type === 'switchboard:page' && typeof m.url === 'string') {
    st.page = { url: m.url, title: String(m.title || ''), referrer: String(m.referrer || '') };
    reportPage();
  }
  if (m && m.type === 'switchboard:fields' && m.fields && typeof m.fields === 'object') {
    const f = {};
    for (const [k, v] of Object.entries(m.fields)) f[k] = v === null || v === undefined ? '' : String(v);
    st.fields = f;
    reportFields();
  }
});

// reportPage and reportFields tell the broker, when a session is up (the
// page is not reported before the visitor chats). A refusal (too long,
// too often) is dropped: the context is a help for the agent, never a
// reason to bother the visitor.
function reportPage() {
  if (!st.page || !st.client || !st.welcomed) return;
  st.client.command({ report_page: st.page }).catch(() => {});
}

function reportFields() {
  if (!st.fields || !st.client || !st.welcomed) return;
  st.client.command({ set_visitor_fields: { fields: st.fields } }).catch(() => {});
}

// The page's fixed parts.
const t = () => text(st.lang);
const titleEl = h('strong', { class: 'title' });
const subEl = h('span', { class: 'sub' });
const avatar = h('img', { class: 'avatar', alt: '', hidden: true, onerror: () => avatar.classList.add('failed') });
const minimize = h('button', { type: 'button', class: 'minimize', onclick: () => setOpen(false) }, '–');
const body = h('div', { class: 'body' });
const panel = h('section', { id: 'panel', class: 'panel', role: 'dialog', hidden: true },
  h('header', { class: 'head' }, avatar, h('div', { class: 'names' }, titleEl, subEl), minimize), body);
const launcher = h('button', { type: 'button', id: 'launcher', class: 'launcher', 'aria-controls': 'panel', 'aria-expanded': 'false',
  onclick: () => setOpen(!st.open) }, bubble());

function bubble() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
  svg.append(path);
  return svg;
}

document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && st.open) {
    setOpen(false);
    launcher.focus();
  }
});

function setOpen(open) {
  st.open = open;
  panel.hidden = !open;
  launcher.hidden = open;
  launcher.setAttribute('aria-expanded', String(open));
  document.body.classList.toggle('open', open);
  store({ open });
  toHost({ type: 'switchboard:open', open });
  if (open) {
    if (st.view) st.view.focus();
    else body.querySelector('input, select, textarea, button')?.focus();
  }
}

// look returns the department's look ({} when none).
function look(id) {
  return ((st.cfg.departments || []).find((d) => d.id === id) || {}).look || {};
}

// paint applies the colour and texts of the department in view.
function paint() {
  const l = look(st.department);
  const color = validColor(l.color) || st.color;
  if (color) document.documentElement.style.setProperty('--accent', color);
  else document.documentElement.style.removeProperty('--accent');
  document.documentElement.lang = st.lang;
  const tx = t();
  titleEl.textContent = (l.title && l.title[st.lang]) || (staff && st.cfg.live_chat_name) || tx.title;
  panel.setAttribute('aria-label', titleEl.textContent);
  launcher.setAttribute('aria-label', tx.open);
  launcher.title = tx.open;
  minimize.setAttribute('aria-label', tx.minimize);
  minimize.title = tx.minimize;
  const s = st.chat;
  const agent = s && s.state === 'CHAT_STATE_ACTIVE' && s.agent_name;
  subEl.textContent = agent ? tx.talkingWith(agent) : '';
  const url = agent && s.agent_avatar_url;
  avatar.hidden = !(url && url.startsWith('https://'));
  if (!avatar.hidden && avatar.getAttribute('src') !== url) {
    avatar.classList.remove('failed');
    avatar.src = url;
  }
}

function greeting() {
  const l = look(st.department);
  return (l.greeting && l.greeting[st.lang]) || t().greeting;
}

function showForm(problem = '') {
  st.view = null;
  st.chat = null;
  const f = prechat({
    t: t(), lang: st.lang, cfg: st.cfg, fixed: fixedDepartment, values: { ...st.values, error: problem }, greeting: greeting(),
    nameLocked: staff,
    onLanguage: (code, values) => {
      st.lang = baseLanguage(code);
      st.values = values;
      showForm();
      document.getElementById('language')?.focus();
    },
    onDepartment: (id) => {
      st.department = id;
      const g = body.querySelector('.greeting');
      if (g) g.textContent = greeting();
      paint();
    },
    onSubmit: startChat,
  });
  st.department = f.department();
  fill(body, f.form);
  paint();
  showPastChats(f.form);
}

// showPastChats lists, under the form, the visitor's previous chats (a
// returning visitor: the same resume token), from what they saw.
async function showPastChats(form) {
  if (!stored().token) return;
  let ans;
  try {
    await connect();
    ans = await st.client.command({ list_past_chats: {} });
  } catch {
    return; // the form works without it
  }
  const chats = (ans && ans.past_chats && ans.past_chats.chats) || [];
  if (!chats.length || !form.isConnected) return;
  const tx = t();
  form.after(h('section', { id: 'past-chats', class: 'past-chats', 'aria-label': tx.pastChats },
    h('h2', {}, tx.pastChats),
    h('ul', {}, chats.map((c) => h('li', { 'data-chat': c.chat_id },
      tx.pastChat(when(c.started_at_ms, st.lang), c.preview || c.chat_id))))));
}

// connect starts the session (resuming with the stored token); it
// resolves once the broker welcomed us.
function connect() {
  if (st.client) return st.ready;
  const c = new Client('/ws/visitor', () => {
    if (staff) return { session_token: st.staffToken };
    const token = stored().token;
    return token ? { resume_token: token } : {};
  });
  st.client = c;
  st.ready = new Promise((resolve, reject) => {
    c.addEventListener('welcome', (e) => {
      welcome(e.detail);
      resolve();
    });
    c.addEventListener('state', (e) => {
      const d = e.detail;
      document.body.dataset.conn = d.state;
      if (d.state === 'ended') {
        reject(d.error || new Error('ended'));
        ended(d);
      }
      if (st.view && !st.view.ended) {
        if (d.state === 'closed') st.view.setStatus(t().reconnecting);
      }
    });
  });
  st.ready.catch(() => {});
  c.addEventListener('frame', (e) => frame(e.detail));
  c.addEventListener('outbox', (e) => st.view?.outbox(e.detail));
  c.start();
  return st.ready;
}

// ended: the session is over (a token the broker no longer knows): start
// afresh with the form.
function ended(d) {
  st.client = null;
  st.welcomed = false;
  store({ token: '' });
  if (d.error && !st.view) return; // the form shows the error of its request
  if (st.view && !st.view.ended) st.view.end();
}

function welcome(w) {
  if (w.resume_token) {
    st.token = w.resume_token;
    store({ token: w.resume_token });
  }
  st.welcomed = true;
  reportPage();
  reportFields();
  const open = (w.chats || []).find((c) => c.state !== 'CHAT_STATE_CLOSED');
  if (open && open.chat_id !== st.chatId) showChat(open);
  else if (st.view && !st.view.ended && st.chat) st.view.setStatus(statusText());
  else if (!open && !st.view) offerContinue(w);
}

// offerContinue puts "Continue the last conversation" above the form when
// the visitor comes back with no open chat: their last chat is the closed
// one the welcome names, or the one this frame remembers.
function offerContinue(w) {
  const closed = (w.chats || []).find((c) => c.state === 'CHAT_STATE_CLOSED');
  const id = (closed && closed.chat_id) || stored().lastChat;
  if (!id || body.querySelector('.continue')) return;
  const button = h('button', { type: 'button', class: 'continue', onclick: () => continueChat(id, button) }, t().continueLast);
  body.prepend(button);
}

// continueChat reopens the visitor's last chat; the broker answers with
// the chat (queued) and its whole transcript, which show it (frame()).
async function continueChat(id, button) {
  button.disabled = true;
  try {
    await connect();
    await st.client.command({ reopen_chat: { chat_id: id } });
  } catch (err) {
    store({ lastChat: '' });
    showForm((err && err.message) || t().error);
  }
}

function showChat(summary) {
  st.chatId = summary.chat_id;
  store({ lastChat: summary.chat_id });
  st.chat = summary;
  st.department = summary.department || st.department;
  st.view = new ChatView(t(), {
    send: (txt) => st.client.sendMessage(st.chatId, txt),
    token: () => st.token || stored().token,
    // Files go over HTTP with the resume token, which a colleague's
    // session has none of: no files in an internal live chat.
    attach: staff ? null : async (file) => {
      st.view?.setStatus(t().uploading);
      try {
        await uploadFile(st.chatId, file, st.token || stored().token);
        st.view?.setStatus(statusText());
      } catch (err) {
        st.view?.setStatus(err.message || t().error);
      }
    },
    typing: () => st.client?.typing(st.chatId),
    end: async () => {
      try {
        await st.client.command({ close_chat: { chat_id: st.chatId } });
      } catch (err) {
        st.view?.setStatus(err.message || t().error);
      }
    },
    rate: (score, comment) => st.client.command({ rate_chat: { chat_id: summary.chat_id, score, comment: comment || undefined } }),
    emailTranscript: (to) => st.client.command({ email_transcript: { chat_id: st.chatId, to } }),
    email: () => st.values.email || '',
    again: () => {
      st.chatId = '';
      st.values = { ...st.values, message: '' };
      showForm();
      body.querySelector('textarea, input')?.focus();
    },
  });
  fill(body, st.view.el);
  st.view.setStatus(statusText());
  paint();
}

// answered: an agent took the chat (a chat that only waited has nothing
// to rate).
function answered() {
  return Boolean(st.chat && (st.chat.agent_name || st.chat.agent_id || st.chat.assigned_at_ms));
}

function statusText(q) {
  const s = st.chat;
  const tx = t();
  if (!s) return '';
  if (s.state === 'CHAT_STATE_ACTIVE') return '';
  if (!q) return s.position ? tx.position(s.position, s.position) : '';
  let line = tx.position(q.position || 1, q.queue_length || q.position || 1);
  const ms = Number(q.estimated_wait_ms || 0);
  if (q.no_estimate) line += ` ${tx.waitUnknown}`;
  else if (ms < 30000) line += ` ${tx.waitNow}`;
  else line += ` ${tx.waitAbout(tx.minutes(Math.round(ms / 60000)))}`;
  return line;
}

function frame(env) {
  const v = st.view;
  if (env.chat) {
    const s = env.chat;
    if (!st.chatId && s.state !== 'CHAT_STATE_CLOSED') showChat(s);
    if (s.chat_id !== st.chatId) return;
    st.chat = { ...st.chat, ...s };
    if (!s.agent_avatar_url) delete st.chat.agent_avatar_url;
    paint();
    if (s.state === 'CHAT_STATE_CLOSED') st.view?.end(undefined, answered());
    else if (s.state === 'CHAT_STATE_ACTIVE') st.view?.setStatus('');
  } else if (env.queue_update && v && env.queue_update.chat_id === st.chatId && !v.ended) {
    v.setStatus(statusText(env.queue_update));
  } else if (env.typing_notice && v && env.typing_notice.chat_id === st.chatId) {
    const n = env.typing_notice;
    v.showTyping(n.typing ? t().typing((n.from && n.from.display_name) || t().agent) : '');
  } else if (env.event && v && env.event.chat_id === st.chatId) {
    event(env.event);
  }
}

function event(ev) {
  const v = st.view;
  const tx = t();
  const name = (p) => (p && p.display_name) || tx.agent;
  if (ev.message) {
    v.message(ev);
  } else if (ev.attachment) {
    v.attachment(ev, st.chatId);
  } else if (ev.assigned) {
    st.chat = { ...st.chat, state: 'CHAT_STATE_ACTIVE', agent_name: ev.assigned.agent_name, agent_avatar_url: ev.assigned.agent_avatar_url };
    v.setStatus('');
    v.note(tx.talkingWith(ev.assigned.agent_name || tx.agent), ev.at_ms);
    paint();
  } else if (ev.transferred) {
    const to = ev.transferred.to_department;
    const toName = ((st.cfg.departments || []).find((d) => d.id === to) || {}).name || to;
    v.note(tx.transferred(to === st.chat.department ? '' : toName), ev.at_ms);
  } else if (ev.requeued) {
    v.note(tx.requeued, ev.at_ms);
  } else if (ev.renamed) {
    v.note(tx.renamed(ev.renamed.display_name), ev.at_ms);
  } else if (ev.member) {
    const a = ev.member.action;
    if (a === 'MEMBER_ACTION_JOINED') v.note(tx.joined(name(ev.member.who)), ev.at_ms);
    if (a === 'MEMBER_ACTION_LEFT') v.note(tx.left(name(ev.member.who)), ev.at_ms);
  } else if (ev.reopened) {
    v.resume();
    v.note(tx.reopened, ev.at_ms);
    st.chat = { ...st.chat, state: 'CHAT_STATE_QUEUED', agent_name: '' };
    paint();
  } else if (ev.closed) {
    const by = ev.closed.by;
    v.end(by && by.kind !== 'PARTICIPANT_KIND_VISITOR' && by.display_name ? tx.endedBy(by.display_name) : tx.ended, answered());
    st.chat = { ...st.chat, state: 'CHAT_STATE_CLOSED' };
    paint();
  }
}

// showOffline offers the offline form after a refusal (why, in words).
function showOffline(why, v) {
  st.view = null;
  const form = offlineForm({ t: t(), why, values: v,
    onSubmit: async (o) => {
      try {
        await st.client.command({ leave_offline_message: { department: v.department, language: v.language, ...o } });
        st.values = { ...st.values, message: '' };
        return null;
      } catch (err) {
        return { message: (err && err.message) || t().error, field: err && err.field };
      }
    },
    onBack: () => showForm(),
  });
  fill(body, form);
  form.querySelector('textarea, input')?.focus();
}

// startChat asks for a chat with the form's values; it returns the
// problem to show in the form, or "" once the chat started.
async function startChat(v) {
  st.values = v;
  st.lang = baseLanguage(v.language || st.lang);
  try {
    await connect();
    const ans = await st.client.command({ request_chat: { department: v.department, language: v.language,
      name: v.name, email: v.email || undefined, first_message: v.message } });
    if (ans.chat_refused) {
      const r = ans.chat_refused;
      let words = refusal(t(), r.reason);
      if (r.opens_at_ms && Number(r.opens_at_ms) > 0) words += ` ${t().opensAt(when(r.opens_at_ms, st.lang))}.`;
      if (r.offline_messages) {
        showOffline(words, v);
        return '';
      }
      return words;
    }
    const id = ans.ack && ans.ack.chat_id;
    if (id && st.chatId !== id) showChat({ chat_id: id, department: v.department, state: 'CHAT_STATE_QUEUED' });
    st.values = { ...v, message: '' };
    st.view?.focus();
    return '';
  } catch (err) {
    return (err && err.message) || t().error;
  }
}

async function init() {
  document.body.append(panel, launcher);
  if (query.get('position') === 'left') document.body.classList.add('left');
  paint();
  toHost({ type: 'switchboard:ready' });
  if (staff) await session;
  try {
    const q = liveChat ? `?livechat=${encodeURIComponent(liveChat)}` : '';
    st.cfg = await api('GET', `/api/widget/config${q}`, staff ? st.staffToken : undefined);
  } catch {
    st.cfg = { departments: [], languages: [] };
  }
  if (!st.view) showForm();
  const saved = stored();
  if (saved.token || staff) connect();
  if (saved.open || staff) setOpen(true);
}

init();
