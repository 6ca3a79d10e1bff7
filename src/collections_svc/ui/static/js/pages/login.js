import { api } from '../api.js';
import { field, h } from '../dom.js';
import { t } from '../i18n.js';
import { errorBox, message } from '../ui.js';

export function renderLogin(view, { note, onDone }) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true,
    maxlength: 256 });
  const slot = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', tabindex: '-1' }, t('login.title')),
    h('p', { class: 'muted' }, t('login.intro')),
    note ? message('info', note) : null,
    field(t('login.username'), user), field(t('login.password'), pass), button, slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    slot.replaceChildren();
    try {
      const res = await api('/auth/login', { method: 'POST', quiet401: true,
        body: { username: user.value.trim(), password: pass.value } });
      pass.value = '';
      onDone(res.user);
    } catch (err) {
      slot.replaceChildren(err.status === 401 ? message('error', t('login.failed')) : errorBox(err));
      pass.select();
    } finally {
      button.disabled = false;
    }
  });
  view.append(form);
}
