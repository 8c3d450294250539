// The messages tab: the offline messages visitors left for the
// department (GET /api/offline-messages), unanswered first, and the
// answer by email (POST /api/offline-messages/{id}/reply). Every name and
// message is put in as text.
import { api } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';

export class OfflineTab {
  constructor(desk, el) {
    this.desk = desk;
    this.el = el;
    this.select = h('select', { id: 'offline-dept', 'aria-label': 'Department', onchange: () => this.refresh() });
    this.answered = h('select', { id: 'offline-state', 'aria-label': 'Which messages', onchange: () => this.refresh() },
      h('option', { value: 'false' }, 'Unanswered'), h('option', { value: 'true' }, 'Answered'));
    this.body = h('div', { class: 'offline-body' });
    fill(el, h('div', { class: 'toolbar' }, h('label', { for: 'offline-dept' }, 'Department '), this.select, this.answered,
      h('button', { id: 'offline-refresh', onclick: () => this.refresh() }, 'Refresh')), this.body);
  }

  // departments are the agent's own and those they supervise or manage.
  departments() {
    const me = this.desk.me || {};
    return [...new Set([...(me.departments || []), ...(me.monitors || []), ...(me.manages || [])])];
  }

  open() {
    const deps = this.departments();
    if (this.select.options.length !== deps.length) fill(this.select, deps.map((d) => h('option', { value: d }, d)));
    this.refresh();
  }

  async refresh() {
    if (!this.select.value) return;
    this.body.setAttribute('aria-busy', 'true');
    try {
      const q = new URLSearchParams({ department: this.select.value, answered: this.answered.value });
      this.show((await api('GET', `/api/offline-messages?${q}`, this.desk.token)).messages || []);
    } catch (err) {
      this.desk.flash(err.message, 'error');
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }

  show(list) {
    if (!list.length) {
      fill(this.body, h('p', { class: 'empty' }, 'No messages.'));
      return;
    }
    fill(this.body, h('ul', { class: 'offline-list', 'aria-label': 'Offline messages' }, list.map((m) => this.item(m))));
  }

  item(m) {
    const at = new Date(Number(m.at_ms)).toLocaleString();
    const li = h('li', { class: 'offline-message', 'data-id': m.id },
      h('p', { class: 'from' }, h('strong', { class: 'name' }, m.name || 'Visitor'), ' ', h('span', { class: 'email' }, `<${m.email}>`), ' ',
        h('time', {}, at)),
      h('p', { class: 'text' }, m.text || ''));
    if (m.answered) {
      li.append(h('p', { class: 'answered' }, `Answered by ${m.answered_by || '?'} (${m.answered_how || 'email'})`));
    } else if (this.desk.perms.has('chats.email')) {
      li.append(h('button', { class: 'answer', onclick: () => this.answer(li, m) }, 'Answer by email'));
    }
    return li;
  }

  // answer opens the reply form under the message.
  answer(li, m) {
    li.querySelector('.answer')?.remove();
    const subject = h('input', { class: 'reply-subject', 'aria-label': 'Subject (optional)', placeholder: 'Subject (optional)', maxlength: 256 });
    const text = h('textarea', { class: 'reply-text', rows: 4, 'aria-label': 'Your answer', required: true, maxlength: 8000 });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'reply' }, subject, text, h('button', { type: 'submit', class: 'send' }, 'Send'), error);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) return;
      try {
        await api('POST', `/api/offline-messages/${encodeURIComponent(m.id)}/reply`, this.desk.token,
          { subject: subject.value.trim(), text: text.value.trim() });
        form.replaceWith(h('p', { class: 'answered' }, 'Answered by email.'));
        this.desk.announce(`Answered ${m.name || 'the visitor'} by email`);
      } catch (err) {
        error.textContent = err.message;
      }
    });
    li.append(form);
    text.focus();
  }
}
