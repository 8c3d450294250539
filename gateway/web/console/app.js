// The console's entry point: the login form, then the desk.
import { login } from '/lib/client.js';
import { h, fill } from '/lib/dom.js';
import { Desk } from '/console/desk.js';

const TOKEN_KEY = 'switchboard.session';
const root = document.getElementById('app');

function showLogin(message) {
  document.title = 'Switchboard: log in';
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, message || '');
  const loginInput = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Switchboard'),
    h('label', { for: 'login' }, 'Login'), loginInput,
    h('label', { for: 'password' }, 'Password'), password,
    h('button', { id: 'signin', type: 'submit' }, 'Log in'),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      const res = await login(loginInput.value.trim(), password.value);
      sessionStorage.setItem(TOKEN_KEY, res.session_token);
      startDesk(res.session_token);
    } catch (err) {
      error.textContent = err.message;
      password.select();
    }
  });
  root.dataset.state = 'login';
  fill(root, form);
  loginInput.focus();
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

const token = sessionStorage.getItem(TOKEN_KEY);
if (token) startDesk(token);
else showLogin();
