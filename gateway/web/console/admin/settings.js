// The site settings: live chat on or off, and the customer sites that may
// show the chat widget.
import { h } from '/lib/dom.js';
import { Form } from '/console/admin/form.js';

export function settingsPage(admin) {
  const settings = admin.dir.settings || {};
  const form = new Form([
    { name: 'live_chat_off', label: 'Live chat on: visitors can ask for chats', kind: 'checkbox', invert: true,
      hint: 'off: new chat requests are refused; chats already running go on' },
    { name: 'widget_origins', label: 'Sites that may show the chat widget', kind: 'lines',
      hint: 'origins, one a line, such as https://shop.example.com or http://localhost:8081; none: only the broker’s own pages' },
  ], {
    submitLabel: 'Save settings',
    onSubmit: async (f) => {
      const patch = f.changes(settings);
      if (!Object.keys(patch).length) {
        f.saved('Nothing changed.');
        return;
      }
      await admin.call('PATCH', '/admin/settings', patch);
      await admin.saved(null, `Saved the site settings: ${Object.keys(patch).join(', ')}.`);
    },
  });
  form.set(settings);
  return h('section', { class: 'settings card', id: 'admin-detail', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Site settings'), form.el);
}
