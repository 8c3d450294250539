// The Switchboard wire protocol over one websocket, for the console and the
// widget alike (see messages/PROTOCOL.md). Frames are the protojson text
// form of an Envelope. The client:
//   - says hello (with what hello() returns: the session or resume token),
//   - answers each command's promise with the frame carrying its ref
//     (ack, error, or a specific answer),
//   - remembers the last seq it saw of each chat and gives these cursors in
//     every hello, so a reconnect replays only what was missed; an event at
//     or below its chat's cursor is dropped, so none is shown twice,
//   - keeps every message it sends in an outbox, under its client_msg_id,
//     until it is acknowledged, and sends the outbox again after each
//     reconnect (the broker stores a resent id once): no line is lost,
//   - reconnects by itself with backoff, unless the broker ended the
//     session (close codes 4003, 4004, 4005) or the hello was refused.
// It dispatches 'frame' (a push: detail is the envelope), 'welcome',
// 'state' (detail: connecting, open, closed, ended) and 'outbox' (a message
// changed state: detail {chat_id, client_msg_id, state, seq}).

// The broker ended the session: suspended (4003), logged out (4004),
// outside the login window (4005). Anything else is reconnected.
const FINAL_CLOSES = new Set([4003, 4004, 4005]);

export class ProtocolError extends Error {
  constructor(err) {
    super(err.message || err.code);
    this.code = err.code;
    this.temporary = !!err.temporary;
    this.field = err.field || ''; // the field of the request it is about, if one
  }
}

export class Client extends EventTarget {
  constructor(path, hello) {
    super();
    this.path = path;
    this.hello = hello;
    this.ref = 0;
    this.pending = new Map(); // ref -> {resolve, reject}
    this.cursors = new Map(); // chat_id -> last seq seen
    this.outbox = new Map(); // client_msg_id -> {chat_id, text, whisper}
    this.state = 'closed';
    this.retry = 0;
    this.stopped = false;
    this.ws = null;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }

  open() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}${this.path}`);
    this.ws = ws;
    this.setState('connecting');
    ws.addEventListener('open', () => this.sayHello(ws));
    ws.addEventListener('message', (ev) => this.receive(ev.data));
    ws.addEventListener('close', (ev) => this.closed(ws, ev));
  }

  async sayHello(ws) {
    const cursors = {};
    for (const [chat, seq] of this.cursors) cursors[chat] = String(seq);
    let welcome;
    try {
      welcome = await this.command({ hello: { ...this.hello(), cursors } }, ws);
    } catch (err) {
      if (err.temporary) {
        // The connection dropped during the hello, or the broker could not
        // answer it now: the close handler tries again.
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        return;
      }
      this.ended = err;
      this.stopped = true;
      ws.close(1000);
      this.setState('ended', { error: err });
      return;
    }
    this.retry = 0;
    this.setState('open');
    this.dispatchEvent(new CustomEvent('welcome', { detail: welcome.welcome }));
    for (const [id, m] of this.outbox) this.transmit(id, m);
  }

  closed(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    for (const p of this.pending.values()) {
      p.reject(new ProtocolError({ code: 'DISCONNECTED', message: 'the connection dropped', temporary: true }));
    }
    this.pending.clear();
    if (this.stopped || FINAL_CLOSES.has(ev.code)) {
      this.stopped = true;
      this.setState('ended', { code: ev.code, reason: ev.reason });
      return;
    }
    this.setState('closed', { code: ev.code });
    this.retry = Math.min(this.retry + 1, 6);
    const delay = 200 * 2 ** this.retry * (0.75 + Math.random() / 2);
    setTimeout(() => { if (!this.stopped) this.open(); }, delay);
  }

  receive(data) {
    let env;
    try {
      env = JSON.parse(data);
    } catch {
      return;
    }
    const ref = env.ref ? Number(env.ref) : 0;
    if (!ref && env.error) {
      // A push error: a chat could not be replayed now (the broker holds
      // its live events back until it is resumed). Resume every chat from
      // its cursor a little later; what was seen already is dropped.
      if (env.error.temporary) this.resumeSoon();
      return;
    }
    if (ref && this.pending.has(ref)) {
      const p = this.pending.get(ref);
      this.pending.delete(ref);
      if (env.error) p.reject(new ProtocolError(env.error));
      else p.resolve(env);
      return;
    }
    if (env.event) {
      const ev = env.event;
      const seq = Number(ev.seq);
      if (seq <= (this.cursors.get(ev.chat_id) || 0)) return; // seen already
      this.cursors.set(ev.chat_id, seq);
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: env }));
  }

  // command sends one envelope body and resolves with the answer (rejects
  // with a ProtocolError on an error or a dropped connection).
  command(body, ws = this.ws) {
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new ProtocolError({ code: 'DISCONNECTED', message: 'not connected', temporary: true }));
        return;
      }
      const ref = ++this.ref;
      this.pending.set(ref, { resolve, reject });
      ws.send(JSON.stringify({ ref: String(ref), ...body }));
    });
  }

  resumeSoon() {
    if (this.resumeTimer) return;
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = 0;
      for (const [chat, seq] of this.cursors) {
        this.command({ resume: { chat_id: chat, after_seq: String(seq) } }).catch(() => this.resumeSoon());
      }
    }, 1000);
  }

  // forget drops a chat's cursor (the console no longer shows it): a later
  // hello replays it from the start if it comes back.
  forget(chatId) {
    this.cursors.delete(chatId);
  }

  // typing tells the chat the person is typing: at most once in 3 s
  // while they type, and that they stopped when they send or pause 4 s.
  typing(chatId) {
    const t = this.typists || (this.typists = new Map());
    const x = t.get(chatId) || { sent: 0, timer: 0 };
    t.set(chatId, x);
    const now = Date.now();
    if (now - x.sent > 3000) {
      x.sent = now;
      this.notify({ typing: { chat_id: chatId, typing: true } });
    }
    clearTimeout(x.timer);
    x.timer = setTimeout(() => this.stoppedTyping(chatId), 4000);
  }

  stoppedTyping(chatId) {
    const x = this.typists && this.typists.get(chatId);
    if (!x) return;
    clearTimeout(x.timer);
    this.typists.delete(chatId);
    this.notify({ typing: { chat_id: chatId, typing: false } });
  }

  // notify sends a body that has no answer (typing).
  notify(body) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.state === 'open') {
      this.ws.send(JSON.stringify(body));
    }
  }

  // sendMessage puts a message in the outbox and sends it; it stays there
  // until the broker acknowledges it (sent again after a reconnect).
  // A template ({name, language, params}) is a channel's approved
  // message, which may go out after the chat's reply window closed.
  sendMessage(chatId, text, whisper = false, template = null) {
    this.stoppedTyping(chatId);
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const m = { chat_id: chatId, text, whisper, template };
    this.outbox.set(id, m);
    this.outboxChanged(chatId, id, 'sending');
    if (this.state === 'open') this.transmit(id, m);
    return id;
  }

  async transmit(id, m) {
    const body = { chat_id: m.chat_id, client_msg_id: id, text: m.text };
    if (m.whisper) body.whisper = true;
    if (m.template) body.template = m.template;
    try {
      const ans = await this.command({ send_message: body });
      this.outbox.delete(id);
      this.outboxChanged(m.chat_id, id, 'stored', Number(ans.ack && ans.ack.seq));
    } catch (err) {
      if (err.code === 'DISCONNECTED') return; // kept; sent again after the reconnect
      if (err.temporary) {
        // Storage busy, or too many frames: the same id again in a moment
        // (the broker stores it once).
        setTimeout(() => { if (this.outbox.has(id) && this.state === 'open') this.transmit(id, m); }, 1000);
        return;
      }
      this.outbox.delete(id);
      this.outboxChanged(m.chat_id, id, 'failed', 0, err);
    }
  }

  outboxChanged(chatId, id, state, seq = 0, error = null) {
    this.dispatchEvent(new CustomEvent('outbox', { detail: { chat_id: chatId, client_msg_id: id, state, seq, error } }));
  }
}

// login posts credentials to /api/login and returns {agent_id,
// display_name, session_token, expires_at}; a refusal throws a
// ProtocolError with the server's typed error.
export async function login(loginName, password) {
  return api('POST', '/api/login', null, { login: loginName, password });
}

// api calls the broker's JSON API with a Bearer session token (never in a
// URL) and returns the parsed answer, or throws a ProtocolError.
export async function api(method, path, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    throw new ProtocolError(data && data.code ? data : { code: `HTTP_${res.status}`, message: text || res.statusText });
  }
  return data;
}
