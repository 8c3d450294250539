// Files in a chat, for the console and the widget. An upload sends the
// file's bytes as the body with the token in the Authorization header
// (never in a URL); a file is fetched the same way and shown from a blob:
// URL: a picture inline (an <img>), anything else as a download link. The
// broker sniffs the type and checks the size; its refusal comes back as a
// ProtocolError with the typed error.
import { h } from '/lib/dom.js';
import { ProtocolError } from '/lib/client.js';

const PICTURES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

// uploadFile sends file (a File) to the chat and returns the broker's
// answer {file_id, name, content_type, size, seq, url}.
export async function uploadFile(chatId, file, token) {
  const res = await fetch(`/api/chats/${encodeURIComponent(chatId)}/files?name=${encodeURIComponent(file.name || 'file')}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' }, body: file,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ProtocolError(data && data.code ? data : { code: `HTTP_${res.status}`, message: res.statusText });
  return data;
}

// fetchFile reads a file of the chat as a blob: URL.
async function fetchFile(chatId, fileId, token) {
  const res = await fetch(`/api/chats/${encodeURIComponent(chatId)}/files/${encodeURIComponent(fileId)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`${res.status}`);
  return URL.createObjectURL(await res.blob());
}

// size formats a byte count.
export function size(n) {
  n = Number(n || 0);
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

// attachmentView shows a ChatAttachment of chatId: the picture, or a link
// that downloads the file; its name as text. token() gives the current
// token.
export function attachmentView(chatId, a, token) {
  const name = a.name || 'file';
  if (PICTURES.includes(a.content_type)) {
    const img = h('img', { class: 'attachment-image', alt: name });
    fetchFile(chatId, a.file_id, token()).then((url) => { img.src = url; }, () => img.classList.add('failed'));
    return h('figure', { class: 'attachment', 'data-file': a.file_id }, img, h('figcaption', {}, name));
  }
  const link = h('a', { class: 'attachment-link', href: '#', download: name }, name);
  link.addEventListener('click', async (ev) => {
    if (link.dataset.ready) return; // the blob is there: let the browser download it
    ev.preventDefault();
    try {
      link.href = await fetchFile(chatId, a.file_id, token());
      link.dataset.ready = 'true';
      link.click();
    } catch {
      link.classList.add('failed');
    }
  });
  return h('span', { class: 'attachment', 'data-file': a.file_id }, link, h('span', { class: 'size' }, ` (${size(a.size)})`));
}

// attachButton is a button (showing text, titled label) that picks a
// file and calls onFile(file).
export function attachButton(text, label, onFile) {
  const input = h('input', { type: 'file', class: 'attach-input', hidden: true, 'aria-hidden': 'true', tabindex: -1 });
  input.addEventListener('change', () => {
    const f = input.files && input.files[0];
    input.value = '';
    if (f) onFile(f);
  });
  const button = h('button', { type: 'button', class: 'attach', title: label, 'aria-label': label, onclick: () => input.click() }, text);
  return h('span', { class: 'attach-wrap' }, button, input);
}
