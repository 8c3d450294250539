// Switchboard's chat widget loader. A customer's page adds one line:
//
//   <script src="https://BROKER/widget.js" async
//           data-department="sales" data-language="sv"
//           data-color="#0b7a75" data-position="left"></script>
//
// data-livechat="ID" binds the widget to a live chat (default: "main"):
// it offers that live chat's departments, with its look.
//
// It puts one iframe, served by the broker, in a corner of the page; the
// whole widget (launcher included) lives in that iframe, so the page can
// neither read nor style the chat. The frame tells this loader when it
// opens or closes (to resize it); the loader tells the frame the size of
// the window. Both sides check the other's origin AND that the message
// comes from the other's window.
//
// The loader also tells the frame the page the visitor is on (address,
// title, referrer: shown to the agent once the visitor chats) as they
// move, and the page's site may attach fields about the visitor for the
// agent through the one global it defines:
//
//   Switchboard.setFields({ user_id: '4711', plan: 'pro' });
//
// (at most 20 fields, names of a-z A-Z 0-9 _ - ., values at most 256
// characters; an empty value removes a field; later calls merge.)
(() => {
  const me = document.currentScript;
  if (!me || !me.src) return;
  const broker = new URL(me.src).origin;
  const opts = me.dataset;
  const left = opts.position === 'left';

  const params = new URLSearchParams({ origin: location.origin });
  for (const k of ['department', 'language', 'color', 'livechat']) {
    if (opts[k]) params.set(k, opts[k]);
  }
  if (left) params.set('position', 'left');

  const frame = document.createElement('iframe');
  frame.src = `${broker}/widget/?${params}`;
  frame.title = 'Chat';
  frame.setAttribute('data-switchboard-widget', '');
  const st = frame.style;
  st.position = 'fixed';
  st.border = '0';
  st.margin = '0';
  st.padding = '0';
  st.zIndex = '2147483000';
  st.background = 'transparent';
  st.colorScheme = 'normal';
  st.maxWidth = '100vw';
  st.maxHeight = '100vh';
  let open = false;
  let ready = false;
  let fields = null; // set before the frame was ready: sent when it is
  let lastPage = '';

  // place sizes the frame: the launcher's corner when closed; a panel
  // when open, or the whole window on a narrow screen.
  function place() {
    const narrow = window.innerWidth < 480;
    const edge = open && narrow ? '0' : '12px';
    st.bottom = edge;
    st.left = left ? edge : 'auto';
    st.right = left ? 'auto' : edge;
    if (!open) {
      st.width = '76px';
      st.height = '76px';
    } else if (narrow) {
      st.width = '100vw';
      st.height = '100vh';
    } else {
      st.width = '380px';
      st.height = `${Math.min(640, window.innerHeight - 24)}px`;
    }
    tell();
  }

  function tell() {
    if (frame.contentWindow) {
      frame.contentWindow.postMessage({ type: 'switchboard:viewport', width: window.innerWidth, height: window.innerHeight }, broker);
    }
  }

  function post(msg) {
    if (ready && frame.contentWindow) frame.contentWindow.postMessage(msg, broker);
  }

  // page tells the frame where the visitor is, when it changed (a
  // single-page site moves without loading: a light check every 2 s).
  function page() {
    const now = `${location.href}\n${document.title}`;
    if (!ready || now === lastPage) return;
    lastPage = now;
    post({ type: 'switchboard:page', url: location.href, title: document.title, referrer: document.referrer });
  }
  window.addEventListener('popstate', page);
  window.addEventListener('hashchange', page);
  setInterval(page, 2000);

  const api = window.Switchboard || {};
  api.setFields = (f) => {
    if (!f || typeof f !== 'object') return;
    fields = { ...(fields || {}), ...f };
    post({ type: 'switchboard:fields', fields });
  };
  window.Switchboard = api;

  window.addEventListener('message', (ev) => {
    if (ev.origin !== broker || ev.source !== frame.contentWindow) return;
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'switchboard:ready') {
      frame.setAttribute('data-ready', '');
      ready = true;
      lastPage = '';
      tell();
      page();
      if (fields) post({ type: 'switchboard:fields', fields });
    } else if (m.type === 'switchboard:open') {
      open = !!m.open;
      frame.toggleAttribute('data-open', open);
      place();
    }
  });
  window.addEventListener('resize', place);

  function mount() {
    if (document.querySelector('iframe[data-switchboard-widget]')) return; // the line twice
    place();
    document.body.appendChild(frame);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
