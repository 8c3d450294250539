// WindowsInput edits weekly windows (business hours, login hours, shifts):
// rows of days (0 Sunday .. 6 Saturday), a start and an end ("HH:MM"; an
// end before the start runs past midnight).
import { h } from '/lib/dom.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

let rowSeq = 0;

export class WindowsInput {
  constructor(id, labelId, describedBy) {
    this.rows = h('ul', { class: 'windows', id, role: 'group', 'aria-labelledby': labelId, 'aria-describedby': describedBy });
    this.add = h('button', { type: 'button', class: 'add-window', onclick: () => this.addRow({ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, true) },
      'Add a window');
    this.el = h('div', { class: 'windows-box' }, this.rows, this.add);
    this.focusEl = this.add;
  }

  static normalize(v) {
    return (v || []).map((w) => ({ days: (w.days || []).map(Number).sort(), start: w.start || '', end: w.end || '' }));
  }

  set(v) {
    this.rows.replaceChildren();
    for (const w of WindowsInput.normalize(v)) this.addRow(w, false);
  }

  get() {
    return [...this.rows.children].map((li) => ({
      days: [...li.querySelectorAll('.day input')].filter((b) => b.checked).map((b) => Number(b.value)),
      start: li.querySelector('.start').value,
      end: li.querySelector('.end').value,
    }));
  }

  addRow(w, focus) {
    const n = ++rowSeq;
    const days = DAYS.map((d, i) => {
      const id = `win${n}-d${i}`;
      return h('span', { class: 'day' },
        h('input', { type: 'checkbox', id, value: i, checked: w.days.includes(i) }),
        h('label', { for: id, title: DAY_NAMES[i] }, d));
    });
    const start = h('input', { type: 'time', class: 'start', value: w.start, 'aria-label': 'From' });
    const end = h('input', { type: 'time', class: 'end', value: w.end, 'aria-label': 'To' });
    const li = h('li', { class: 'window' },
      h('span', { class: 'days' }, days),
      h('span', { class: 'times' }, start, '–', end,
        h('button', { type: 'button', class: 'link remove', 'aria-label': 'Remove this window', onclick: () => { li.remove(); this.add.focus(); } }, 'Remove')));
    this.rows.append(li);
    if (focus) li.querySelector('input').focus();
  }
}
