// The offline form: when the department cannot take the chat (closed,
// outside its hours, its line full, nobody available) and it takes
// offline messages, the visitor leaves their name, email and message
// instead; the department's staff answer by email.
import { h } from '/lib/dom.js';

// offlineForm builds the form. why is the refusal in words; values are
// what the visitor typed in the pre-chat form; onSubmit(values) leaves the
// message and resolves with a problem to show (an error with its field),
// or null once it is stored.
export function offlineForm({ t, why, values, onSubmit, onBack }) {
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const name = h('input', { id: 'offline-name', name: 'name', autocomplete: 'name', maxlength: 128, required: true, value: values.name || '' });
  const email = h('input', { id: 'offline-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, required: true,
    value: values.email || '' });
  const text = h('textarea', { id: 'offline-text', name: 'text', rows: 4, maxlength: 8000, required: true }, values.message || '');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', class: 'start' }, t.offlineSend);
  const back = h('button', { type: 'button', class: 'again', onclick: () => onBack() }, t.newChat);
  const inputs = { name, email, text };
  const form = h('form', { class: 'prechat offline', novalidate: true }, h('p', { class: 'closed' }, why),
    h('p', { class: 'greeting' }, t.offlineIntro), error,
    field(t.name, name), field(t.offlineEmail, email), field(t.offlineText, text), send);
  const fail = (msg, at) => {
    error.textContent = msg;
    error.hidden = false;
    (at || name).focus();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = { name: name.value.trim(), email: email.value.trim(), text: text.value.trim() };
    if (!v.name || !v.email || !v.text) {
      fail(t.offlineRequired, !v.name ? name : (!v.email ? email : text));
      return;
    }
    send.disabled = true;
    const problem = await onSubmit(v);
    send.disabled = false;
    if (problem) {
      fail(problem.message || t.error, inputs[problem.field]);
      return;
    }
    form.replaceChildren(h('p', { class: 'sent', role: 'status' }, t.offlineSent), back);
    back.focus();
  });
  return form;
}
