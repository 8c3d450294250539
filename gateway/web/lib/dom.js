// Small DOM helpers. Every piece of text goes in as a text node (never as
// markup): names, messages and errors from users are shown as they are.

// h creates an element: h('button', {class: 'x', onclick: fn}, 'Text', child).
// Attributes starting with "on" are listeners; others are set as attributes
// (false, null and undefined leave them out). Children are nodes or text.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (typeof v === 'function' && k.startsWith('on')) el.addEventListener(k.slice(2), v);
    // Never an inline handler or style attribute from a value (the CSP
    // would refuse it anyway): listeners are functions, styles are classes.
    else if (k === 'style' || (/^on[a-z]+$/.test(k) && k !== 'open')) throw new TypeError(`h(): ${k} must be a listener function`);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// fill replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// clock formats epoch milliseconds as the time of day (HH:MM).
// (One formatter for all: making one per call is slow.)
const timeOfDay = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
export function clock(ms) {
  return timeOfDay.format(new Date(Number(ms)));
}

// span formats a duration in milliseconds as "42 s" or "3 min".
export function span(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// enumName turns "AGENT_STATUS_AVAILABLE" into "available".
export function enumName(v, prefix) {
  if (!v) return '';
  return String(v).replace(prefix, '').toLowerCase().replace(/_/g, ' ');
}

// enterSends makes Enter in a text area call send (Shift+Enter is a new
// line, and an input method's Enter is left alone). The keypress that
// follows the keydown is stopped too, or its line break would be left
// behind in the emptied field.
export function enterSends(textarea, send) {
  textarea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    }
  });
  textarea.addEventListener('keypress', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) ev.preventDefault();
  });
}

// follow keeps a scrolling list showing its newest line as lines are
// added, unless the reader scrolled up: soon() scrolls once before the
// next frame (a replay of many lines lays the list out once a frame, not
// once a line); soon(true) scrolls even if the reader had scrolled up.
export function follow(list) {
  let stuck = true;
  let queued = false;
  list.addEventListener('scroll', () => {
    stuck = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }, { passive: true });
  return {
    soon(force = false) {
      if (force) stuck = true;
      if (!stuck || queued) return;
      queued = true;
      const later = document.hidden ? (f) => setTimeout(f, 50) : requestAnimationFrame;
      later(() => {
        queued = false;
        list.scrollTop = list.scrollHeight;
      });
    },
  };
}
