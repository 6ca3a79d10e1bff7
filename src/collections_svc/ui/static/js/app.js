// App shell: session check, navigation by role, language switch and a hash router.
import { api, setUnauthenticatedHandler } from './api.js';
import { h } from './dom.js';
import { LOCALES, getLocale, label, setLocale, t } from './i18n.js';
import { ADMIN_ROLES, ADMIN_TABS, adminHome, renderAdmin, renderScheduler, renderStrategies, renderTemplates } from './pages/admin.js';
import { renderApprovals } from './pages/approvals.js';
import { renderBorrower, renderBorrowers } from './pages/borrowers.js';
import { renderCase } from './pages/case.js';
import { REPORT_READERS, renderDashboard } from './pages/dashboard.js';
import { renderLifecycle } from './pages/lifecycle.js';
import { renderLoan } from './pages/loan.js';
import { renderLogin } from './pages/login.js';
import { renderReviews, renderWarnings, renderWatchlist } from './pages/monitoring.js';
import { renderQueue } from './pages/queue.js';
import { renderReports } from './pages/reports.js';
import { errorBox, loading, message, pageTitle } from './ui.js';

const STAFF = ['collector', 'supervisor', 'risk_officer', 'admin'];
const READERS = [...STAFF, 'auditor'];

// Navigation entries: which roles see the link (the API enforces the same rules on every call).
const NAV = [
  { path: '/dashboard', key: 'nav.dashboard', roles: READERS },
  { path: '/queue', key: 'nav.queue', roles: ['collector', 'supervisor', 'admin'] },
  { path: '/approvals', key: 'nav.approvals', roles: ['supervisor', 'admin'] },
  { path: '/borrowers', key: 'nav.borrowers', roles: READERS },
  { path: '/monitoring', key: 'nav.monitoring', roles: READERS },
  { path: '/reports', key: 'nav.reports', roles: REPORT_READERS },
  { path: '/lifecycle', key: 'nav.lifecycle', roles: READERS },
  { path: '/admin', key: 'nav.admin', roles: ADMIN_ROLES, home: adminHome },
];

const tabRoles = (path) => ADMIN_TABS.find((tab) => tab.path === path).roles;

const ROUTES = [
  [/^\/dashboard$/, renderDashboard, READERS],
  [/^\/queue$/, renderQueue, ['collector', 'supervisor', 'admin']],
  [/^\/borrowers$/, renderBorrowers, READERS],
  [/^\/borrowers\/(\d+)$/, renderBorrower, READERS],
  [/^\/loans\/(\d+)$/, renderLoan, READERS],
  [/^\/cases\/(\d+)$/, renderCase, READERS],
  [/^\/approvals(?:\/(\d+))?$/, renderApprovals, ['supervisor', 'admin', 'auditor']],
  [/^\/lifecycle$/, renderLifecycle, READERS],
  [/^\/reports$/, renderReports, REPORT_READERS],
  [/^\/monitoring$/, renderWarnings, READERS],
  [/^\/monitoring\/watchlist$/, renderWatchlist, READERS],
  [/^\/monitoring\/reviews$/, renderReviews, READERS],
  [/^\/admin$/, renderAdmin, tabRoles('/admin')],
  [/^\/admin\/strategies(?:\/([^/]+))?$/, renderStrategies, tabRoles('/admin/strategies')],
  [/^\/admin\/templates$/, renderTemplates, tabRoles('/admin/templates')],
  [/^\/admin\/scheduler$/, renderScheduler, tabRoles('/admin/scheduler')],
];

const state = { user: null, seq: 0, routed: false };
const main = document.getElementById('main');
const top = document.getElementById('top');

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/dashboard';
  const [path, qs = ''] = raw.split('?');
  return { path: path === '/' ? '/dashboard' : path, query: Object.fromEntries(new URLSearchParams(qs)) };
}

export function navigate(path, query) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString() : '';
  const target = '#' + path + (qs ? '?' + qs : '');
  if (location.hash === target) route();
  else location.hash = target;
}

function renderTop() {
  const { path } = parseHash();
  document.getElementById('skip-link').textContent = t('nav.skip');
  const langSelect = h('select', { id: 'lang', 'aria-label': t('nav.language'),
    onchange: (ev) => { setLocale(ev.target.value); renderTop(); route(); } },
  LOCALES.map(([code, name]) => h('option', { value: code, selected: code === getLocale(), lang: code }, name)));
  const brand = h('a', { class: 'brand', href: '#/dashboard' }, t('app.name'));
  if (!state.user) {
    top.replaceChildren(h('div', { class: 'bar' }, brand, h('div', { class: 'spacer' }), langSelect));
    return;
  }
  const role = state.user.role;
  const links = NAV.filter((n) => n.roles.includes(role)).map((n) => h('li', {},
    h('a', { href: '#' + (n.home ? n.home(role) : n.path), 'aria-current': path.startsWith(n.path) ? 'page' : null, 'data-nav': n.path.slice(1) },
      t(n.key))));
  const logout = h('button', { type: 'button', class: 'link-btn', onclick: logoutNow }, t('nav.logout'));
  top.replaceChildren(h('div', { class: 'bar' }, brand,
    h('nav', { 'aria-label': t('nav.main') }, h('ul', {}, links)),
    h('div', { class: 'spacer' }),
    h('span', { class: 'who', 'data-testid': 'who' }, state.user.display_name || state.user.username,
      h('small', {}, ' · ', label('role', role))),
    langSelect, logout));
}

async function logoutNow() {
  try { await api('/auth/logout', { method: 'POST', quiet401: true }); } catch { /* already gone */ }
  state.user = null;
  location.hash = '#/login';
  showLogin();
}

function showLogin(note) {
  renderTop();
  const view = h('div', { class: 'view narrow' });
  renderLogin(view, { note, onDone: (user) => { state.user = user; renderTop(); navigate(postLoginPath()); } });
  main.replaceChildren(view);
  document.title = `${t('login.title')} · collections_svc`;
  view.querySelector('input')?.focus();
}

function postLoginPath() {
  const { path } = parseHash();
  return path && path !== '/login' ? path : '/dashboard';
}

async function route() {
  if (!state.user) { showLogin(); return; }
  const { path, query } = parseHash();
  if (path === '/login') { navigate('/dashboard'); return; }
  renderTop();
  const seq = ++state.seq;
  const found = ROUTES.map(([re, fn, roles]) => [path.match(re), fn, roles]).find(([m]) => m);
  const view = h('div', { class: 'view' });
  main.replaceChildren(loading());
  if (!found) {
    view.append(pageTitle(t('error.notFoundTitle')), message('error', t('error.noSuchPage')));
  } else {
    const [m, fn, roles] = found;
    if (!roles.includes(state.user.role)) {
      view.append(pageTitle(t('error.notAllowedTitle')),
        message('error', t('error.notAllowedPage', { role: label('role', state.user.role) })));
    } else {
      try {
        await fn(view, { params: m.slice(1), query, user: state.user, navigate });
      } catch (err) {
        view.append(errorBox(err));
      }
    }
  }
  if (seq !== state.seq || !state.user) return; // the user moved on (or was signed out) meanwhile
  main.replaceChildren(view);
  performance.mark('cs:ready', { detail: path }); // read by bench/ui_pages.py
  // After an in-app navigation, move focus to the new heading (screen readers announce it); on the
  // first load leave it at the top so Tab reaches the skip link first.
  const heading = view.querySelector('h1');
  if (state.routed && heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  state.routed = true;
}

async function boot() {
  setLocale(getLocale());
  setUnauthenticatedHandler(() => {
    if (state.user) { state.user = null; state.seq += 1; showLogin(t('login.expired')); }
  });
  const skip = document.getElementById('skip-link');
  // The skip link must not change the hash (the hash is the route): move focus instead.
  skip.addEventListener('click', (ev) => { ev.preventDefault(); main.focus(); });
  try {
    state.user = await api('/auth/me', { quiet401: true });
  } catch {
    state.user = null;
  }
  window.addEventListener('hashchange', () => { if (location.hash.startsWith('#/')) route(); });
  route();
}

boot();
