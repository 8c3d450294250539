// The chat view: the status line (queue position and wait, or the agent),
// the transcript (an ARIA live log), the agent's typing, the composer and
// the end button. Every name and message is put in as text.
import { h, clock, enterSends, follow } from '/lib/dom.js';
import { attachButton, attachmentView } from '/lib/files.js';

export class ChatView {
  // t: texts; send(text) sends a message (returns its client_msg_id);
  // typing() says the visitor is typing; end() closes the chat; again()
  // starts a new one after the end; rate(score, comment) rates it once
  // it has ended; attach(file) sends a file (none: no file button); token() is the resume token
  // (to fetch files); emailTranscript(to) asks for the transcript by
  // email, to the address email() gave in the form.
  constructor(t, { send, typing, end, again, rate, attach, token, emailTranscript, email }) {
    this.t = t;
    this.again = again;
    this.rate = rate;
    this.token = token;
    this.emailTranscript = emailTranscript;
    this.email = email;
    this.mine = new Map(); // client_msg_id -> line (sent from this page, or seen)
    this.unplaced = new Set(); // lines sent from this page whose event has not come yet
    this.status = h('p', { class: 'status', role: 'status' });
    this.log = h('ol', { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': t.messages, tabindex: 0 });
    this.follow = follow(this.log);
    this.typingLine = h('p', { class: 'typing', 'aria-live': 'off' });
    this.input = h('textarea', { id: 'compose', rows: 2, maxlength: 8000, 'aria-label': t.write, placeholder: t.write });
    this.input.addEventListener('input', () => typing());
    enterSends(this.input, () => this.form.requestSubmit());
    this.form = h('form', { class: 'composer' }, this.input, attach ? attachButton(t.file, t.attach, (f) => attach(f)) : null,
      h('button', { type: 'submit', class: 'send' }, t.send));
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (!text || this.ended) return;
      this.input.value = '';
      this.ownLine(send(text), text);
    });
    this.endButton = h('button', { type: 'button', class: 'end', onclick: () => end() }, t.end);
    this.foot = h('div', { class: 'foot' }, this.form, this.endButton);
    this.el = h('div', { class: 'chat' }, this.status, this.log, this.typingLine, this.foot);
    this.typingTimer = 0;
  }

  // line adds a line for an event, in the order of the chat: above the
  // lines this page sent that the chat has not shown back yet (they stay
  // last until their own event places them).
  line(cls, ...children) {
    const li = h('li', { class: `line ${cls}` }, ...children);
    this.place(li);
    return li;
  }

  place(li) {
    const firstUnplaced = this.unplaced.size ? this.unplaced.values().next().value : null;
    this.log.insertBefore(li, firstUnplaced);
    this.follow.soon();
  }

  note(text, atMs) {
    return this.line('note', h('span', { class: 'text' }, text), atMs ? h('time', { class: 'at' }, clock(atMs)) : null);
  }

  ownLine(cmid, text) {
    const state = h('span', { class: 'state' }, this.t.sending);
    const li = h('li', { class: 'line message own' }, h('span', { class: 'text' }, text), state);
    this.log.append(li);
    this.follow.soon(true);
    this.unplaced.add(li);
    li.dataset.state = 'sending';
    li.dataset.cmid = cmid;
    this.mine.set(cmid, li);
    return li;
  }

  // outbox follows a message this page sent: stored or failed.
  outbox(d) {
    const li = this.mine.get(d.client_msg_id);
    if (!li) return;
    if (d.state === 'stored') this.stored(li, d.seq);
    if (d.state === 'failed') {
      this.unplaced.delete(li); // it will not be stored: it no longer holds its place at the end
      li.dataset.state = 'failed';
      li.querySelector('.state').textContent = `${this.t.failed}: ${(d.error && d.error.message) || ''}`;
    }
  }

  stored(li, seq) {
    li.dataset.state = 'stored';
    if (seq) li.dataset.seq = seq;
    const s = li.querySelector('.state');
    if (s) s.remove();
  }

  // message shows a message event: the visitor's own (once, whether this
  // page sent it or it is replayed after a reload) or staff's.
  message(ev) {
    const m = ev.message;
    const from = m.from || {};
    if (from.kind === 'PARTICIPANT_KIND_VISITOR') {
      const li = m.client_msg_id && this.mine.get(m.client_msg_id);
      if (li) {
        this.stored(li, ev.seq);
        if (this.unplaced.delete(li)) this.place(li);
        return;
      }
      const own = this.line('message own', h('span', { class: 'text' }, m.text || ''), h('time', { class: 'at' }, clock(ev.at_ms)));
      own.dataset.seq = ev.seq;
      own.dataset.state = 'stored';
      if (m.client_msg_id) this.mine.set(m.client_msg_id, own);
      return;
    }
    this.showTyping('');
    const li = this.line('message theirs', h('span', { class: 'who' }, from.display_name || this.t.agent),
      h('span', { class: 'text' }, m.text || ''), h('time', { class: 'at' }, clock(ev.at_ms)));
    li.dataset.seq = ev.seq;
  }

  // attachment shows a file sent in the chat: a picture inline, another
  // file as a download link, its name as text.
  attachment(ev, chatId) {
    const a = ev.attachment;
    const from = a.from || {};
    const own = from.kind === 'PARTICIPANT_KIND_VISITOR';
    const li = this.line(`message file ${own ? 'own' : 'theirs'}`, own ? null : h('span', { class: 'who' }, from.display_name || this.t.agent),
      h('span', { class: 'text' }, attachmentView(chatId, a, this.token)), h('time', { class: 'at' }, clock(ev.at_ms)));
    li.dataset.seq = ev.seq;
  }

  showTyping(text) {
    this.typingLine.textContent = text;
    clearTimeout(this.typingTimer);
    if (text) this.typingTimer = setTimeout(() => { this.typingLine.textContent = ''; }, 8000);
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  // end shows that the chat ended and, when an agent answered it
  // (rateable), asks the visitor to rate it.
  end(text, rateable) {
    if (this.ended) return;
    this.ended = true;
    this.showTyping('');
    this.setStatus('');
    const again = h('button', { type: 'button', class: 'again', onclick: () => this.again() }, this.t.newChat);
    this.foot.replaceChildren(h('p', { class: 'ended' }, text || this.t.ended), rateable && this.rate ? this.ratingPrompt() : null,
      this.emailTranscript ? this.transcriptForm() : null, again);
  }

  // ratingPrompt: good or bad, an optional comment, and a send button. A
  // later rating replaces the earlier one, so the prompt stays.
  ratingPrompt() {
    const t = this.t;
    let score = '';
    const faces = [['RATING_SCORE_GOOD', 'rate-good', t.rateGood], ['RATING_SCORE_BAD', 'rate-bad', t.rateBad]].map(([value, cls, label]) =>
      h('button', { type: 'button', class: `face ${cls}`, 'aria-pressed': 'false', 'data-score': value, onclick: (ev) => {
        score = value;
        for (const f of faces) f.setAttribute('aria-pressed', String(f === ev.currentTarget));
        send.disabled = false;
      } }, label));
    const comment = h('textarea', { class: 'rate-comment', rows: 2, maxlength: 1000, 'aria-label': t.rateComment, placeholder: t.rateComment });
    const send = h('button', { type: 'submit', class: 'rate-send', disabled: true }, t.rateSend);
    const done = h('p', { class: 'rate-done', role: 'status' });
    const form = h('form', { class: 'rating', 'aria-label': t.rateQuestion }, h('p', { class: 'rate-question' }, t.rateQuestion),
      h('div', { class: 'faces' }, faces), comment, send, done);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!score) return;
      send.disabled = true;
      try {
        await this.rate(score, comment.value.trim());
        done.textContent = t.rateThanks;
        form.dataset.rated = score;
      } catch (err) {
        done.textContent = (err && err.message) || t.error;
      }
      send.disabled = false;
    });
    return form;
  }

  // resume: the chat opened again (reopened): the composer is back.
  resume() {
    if (!this.ended) return;
    this.ended = false;
    this.foot.replaceChildren(this.form, this.endButton);
  }

  // transcriptForm: once the chat ended, the visitor may have its
  // transcript sent to an address.
  transcriptForm() {
    const t = this.t;
    const to = h('input', { id: 'transcript-to', type: 'email', autocomplete: 'email', maxlength: 254, required: true,
      'aria-label': t.offlineEmail, placeholder: t.offlineEmail, value: this.email() });
    const said = h('p', { class: 'transcript-status', role: 'status' });
    const form = h('form', { class: 'transcript' }, h('label', { for: 'transcript-to' }, t.transcriptTo), to,
      h('button', { type: 'submit', class: 'send' }, t.transcriptSend), said);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const addr = to.value.trim();
      if (!addr) return;
      try {
        await this.emailTranscript(addr);
        said.textContent = t.transcriptSent(addr);
        form.replaceChildren(said);
      } catch (err) {
        said.textContent = (err && err.message) || t.error;
      }
    });
    return form;
  }

  focus() {
    (this.ended ? this.foot.querySelector('button') : this.input).focus();
  }
}
