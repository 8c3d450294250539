// The languages page: the languages chats can be in.
import { recordPage, idSpec } from '/console/admin/record.js';

export function languagesPage(admin) {
  return recordPage(admin, {
    page: 'languages', title: 'Languages', noun: 'language',
    items: admin.dir.languages,
    key: (l) => l.code,
    keyField: 'code',
    newKey: (v) => v.code,
    label: (l) => l.name || l.code,
    sub: (l) => `${l.code}${l.chat_enabled ? '' : ' · no chats'}`,
    path: (code) => `/admin/languages/${encodeURIComponent(code)}`,
    fields: (rec, isNew) => [
      { ...idSpec(isNew, 'Code', 'code'), hint: isNew ? 'such as en or pt-BR; it cannot change later' : null },
      { name: 'name', label: 'Name' },
      { name: 'chat_enabled', label: 'Visitors may ask for chats in this language', kind: 'checkbox' },
    ],
    blank: { chat_enabled: true },
  });
}
