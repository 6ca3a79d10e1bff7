// Shared page pieces: headings, messages, API error rendering, form submission.
import { ApiError, api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export function pageTitle(text, ...extra) {
  document.title = `${text} · collections_svc`;
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}

export function message(kind, text, ...more) {
  return h('div', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, ...more);
}

/** A clear sentence for an API failure (problem+json detail, field errors, or a known status). */
export function errorBox(err, { what } = {}) {
  if (!(err instanceof ApiError)) return message('error', t('error.unexpected'), ' ', String(err && err.message));
  if (err.status === 0) return message('error', t('error.network'));
  if (err.endpointMissing) {
    return message('info', t('error.notAvailable', { what: what || t('error.thisPart') }));
  }
  if (err.status === 403) return message('error', t('error.forbidden'), ' ', h('span', { class: 'detail' }, err.detail));
  if (err.status === 409) {
    const stale = String(err.body.type || '').endsWith('stale-version');
    return message('error', stale ? [t('error.stale'), ' '] : null, h('span', { class: 'detail' }, err.detail));
  }
  const fieldList = err.errors.length
    ? h('ul', {}, err.errors.map((e) => h('li', {}, h('code', {}, e.field || '?'), ': ', e.message || '')))
    : null;
  return message('error', h('span', { class: 'detail' }, err.detail), fieldList);
}

export function loading() {
  return h('p', { class: 'muted loading', role: 'status' }, t('common.loading'));
}

/**
 * Wire a form: on submit, disable it, call `action(form)`, show success or the API error in `slot`
 * (or hand the error to `onError(err, slot)`, e.g. to put field errors beside their fields).
 */
export function onSubmit(form, action, { success, onError } = {}) {
  const slot = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  form.append(slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btns = form.querySelectorAll('button');
    btns.forEach((b) => { b.disabled = true; });
    slot.replaceChildren();
    try {
      const result = await action(form);
      if (success) slot.replaceChildren(message('ok', success));
      return result;
    } catch (err) {
      if (onError) onError(err, slot); else slot.replaceChildren(errorBox(err));
      return null;
    } finally {
      btns.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** Load several API resources in parallel; each result is {ok, data} or {ok: false, error}. */
export async function loadAll(paths) {
  return Promise.all(paths.map((p) => (typeof p === 'string' ? api(p) : api(p.path, p))
    .then((data) => ({ ok: true, data }), (error) => ({ ok: false, error }))));
}

export function section(titleText, ...children) {
  const id = 's-' + titleText.replace(/\W+/g, '-').toLowerCase().slice(0, 30) + Math.random().toString(36).slice(2, 6);
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, titleText), ...children);
}
