// The console's entry point: the login page (the password form, the
// directory's hint and the single sign-on button the broker offers), then
// the desk.
import { login, api } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';
import { Desk } from '/console/desk.js';

const TOKEN_KEY = 'switchboard.session';
const root = document.getElementById('app');

function showLogin(message) {
  document.title = 'Switchboard: log in';
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, message || '');
  const hint = h('p', { id: 'login-hint', class: 'hint', hidden: true });
  const sso = h('div', { id: 'sso', class: 'sso', hidden: true });
  const loginInput = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Switchboard'),
    sso, hint,
    h('label', { for: 'login' }, 'Login'), loginInput,
    h('label', { for: 'password' }, 'Password'), password,
    h('button', { id: 'signin', type: 'submit' }, 'Log in'),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      signedIn(await login(loginInput.value.trim(), password.value));
    } catch (err) {
      error.textContent = err.message;
      password.select();
    }
  });
  root.dataset.state = 'login';
  fill(root, form);
  loginInput.focus();
  offerMethods(hint, sso);
}

// offerMethods shows what GET /api/sign-in offers besides passwords: the
// LDAP label as a hint above the form, a link that starts the single
// sign-on. Labels are text; a start URL not on the broker's sign-in path
// is ignored.
async function offerMethods(hint, sso) {
  let m;
  try {
    m = await api('GET', '/api/sign-in');
  } catch {
    return; // the password form works without it
  }
  if (m && m.ldap && m.ldap.label) {
    hint.textContent = m.ldap.label;
    hint.hidden = false;
  }
  const start = m && m.oidc && m.oidc.start;
  if (typeof start === 'string' && start.startsWith('/api/sign-in/oidc/')) {
    const href = `${start}?return=${encodeURIComponent(location.pathname)}`;
    fill(sso, h('a', { id: 'sso-start', class: 'button', href }, m.oidc.label || 'Sign in with single sign-on'),
      h('p', { class: 'or' }, 'or log in with a password'));
    sso.hidden = false;
  }
}

function signedIn(res) {
  sessionStorage.setItem(TOKEN_KEY, res.session_token);
  startDesk(res.session_token);
}

function startDesk(token) {
  root.dataset.state = 'desk';
  const desk = new Desk(root, token, (why) => {
    desk.destroy();
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(why);
  });
  desk.start();
}

// Why a single sign-on failed, by the code the broker sends back (the
// page shows no text from the address: a link cannot put words on it).
const SIGNIN_FAILED = {
  provider: 'The sign-in provider refused the sign-in.',
  expired: 'The sign-in expired or was not started in this browser; try again.',
  refused: 'The sign-in provider’s answer was refused; try again.',
  unavailable: 'The sign-in provider or the broker did not answer; try again shortly.',
  forbidden: 'Your account may not sign in to Switchboard now (no group that may use it, suspended, or outside your login hours); ask your administrator.',
};

// main: back from the single sign-on (?signin=CODE: trade the one-time
// code for the session; ?signin_error=CODE: show why not), a session kept
// in this tab, or the login page. The query leaves the address bar first.
async function main() {
  const q = new URLSearchParams(location.search);
  const code = q.get('signin');
  const failed = q.get('signin_error');
  if (code !== null || failed !== null) history.replaceState(null, '', location.pathname + location.hash);
  if (code) {
    try {
      signedIn(await api('POST', '/api/sign-in/oidc/session', null, { code }));
    } catch (err) {
      showLogin(err.message);
    }
    return;
  }
  if (failed) {
    showLogin(SIGNIN_FAILED[failed] || SIGNIN_FAILED.refused);
    return;
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) startDesk(token);
  else showLogin();
}

main();
