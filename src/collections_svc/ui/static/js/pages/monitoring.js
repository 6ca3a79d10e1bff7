// Monitoring (贷后监控): early warnings, the watchlist and review tasks due, each linked to the borrower.
// What a role may do comes from the API: writers are the roles the monitoring API lets change a warning.
import { api } from '../api.js';
import { field, h, link, select, table } from '../dom.js';
import { date, label, money, num, t } from '../i18n.js';
import { fromCents } from '../money.js';
import { errorBox, message, pageTitle } from '../ui.js';
import { pager } from './borrowers.js';

const PAGE = 50; // rows per page: the lists come whole from the API, the page shows a slice

const SEVERITIES = ['severe', 'high', 'medium', 'low'];
const STATUSES = ['open', 'acknowledged', 'closed'];
// PATCH /monitoring/warnings/{id} is open to these roles (monitoring/router.py "Writer").
const WRITERS = ['risk_officer', 'supervisor', 'admin'];
// From a status, the changes a warning allows (the API accepts any; these are the sensible ones).
const NEXT = { open: ['acknowledged', 'closed'], acknowledged: ['closed', 'open'], closed: ['open'] };

const names = new Map(); // borrower id -> name, kept for the session (names rarely change)

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

let bulk = null;
/** Started beside the page's own API call on the first visit: one page of borrower names. */
function prefetchNames() {
  if (!bulk) {
    bulk = api('/borrowers', { query: { size: 500 } }).then((page) => {
      for (const b of page.items || []) names.set(b.id, b.name);
    }, () => {});
  }
  return bulk;
}

/** Borrower names for the ids on screen: the bulk page, then single look-ups for the rest. */
async function borrowerNames(ids) {
  let missing = [...new Set(ids)].filter((id) => !names.has(id));
  if (missing.length > 8 || bulk) {
    await prefetchNames();
    missing = missing.filter((id) => !names.has(id));
  }
  await Promise.all(missing.slice(0, 60).map((id) => api(`/borrowers/${Number(id)}`)
    .then((b) => names.set(id, b.name), () => names.set(id, `#${id}`))));
}

function borrowerLink(id) {
  return link(`/borrowers/${Number(id)}`, names.get(id) ?? `#${id}`, { 'data-borrower': String(id) });
}

function tabs(current) {
  const items = [['/monitoring', 'mon.warnings'], ['/monitoring/watchlist', 'mon.watchlist'],
    ['/monitoring/reviews', 'mon.reviews']];
  return h('nav', { class: 'tabs', 'aria-label': t('mon.title') }, h('ul', {}, items.map(([path, key]) => h('li', {},
    h('a', { href: '#' + path, 'aria-current': path === current ? 'page' : null }, t(key))))));
}

function evidence(ev) {
  if (!ev || typeof ev !== 'object' || !Object.keys(ev).length) return '—';
  return h('dl', { class: 'evidence' }, Object.entries(ev).map(([k, v]) => [
    h('dt', {}, label('evidence', k)),
    h('dd', {}, evidenceValue(k, v))]));
}

function evidenceValue(k, v) {
  if (v === null || v === undefined) return '—';
  // amounts in evidence are integer minor units (cents): shown as money, exactly
  if (k.endsWith('_cents') && Number.isInteger(v)) return money(fromCents(BigInt(v)));
  if (typeof v === 'object') return JSON.stringify(v);
  if (/^\d{4}-\d{2}-\d{2}$/.test(String(v))) return date(v);
  return String(v);
}

function slice(rows, query) {
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const page = Math.min(pages, Math.max(1, Number(query.page) || 1));
  return { page, shown: rows.slice((page - 1) * PAGE, page * PAGE) };
}

function pagerFor(rows, page, path, query, navigate) {
  if (rows.length <= PAGE) return null;
  return pager({ total: rows.length, page, size: PAGE }, (p) => navigate(path, { ...query, page: p }));
}

function severityTag(sev) {
  return h('span', { class: `tag sev-${SEVERITIES.includes(sev) ? sev : 'low'}` }, label('severity', sev));
}

export async function renderWarnings(view, { query, user, navigate }) {
  const severity = SEVERITIES.includes(query.severity) ? query.severity : '';
  const status = STATUSES.includes(query.status) ? query.status : '';
  const sevSel = select('severity', [['', t('common.any')], ...SEVERITIES.map((s) => [s, label('severity', s)])], severity);
  const stSel = select('status', [['', t('common.any')], ...STATUSES.map((s) => [s, label('warnStatus', s)])], status);
  const form = h('form', { class: 'filters', id: 'warning-filters' }, field(t('mon.severity'), sevSel),
    field(t('mon.status'), stSel), h('div', { class: 'actions field' },
      h('button', { type: 'submit', class: 'primary' }, t('common.apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate('/monitoring', { severity: sevSel.value, status: stSel.value });
  });
  view.append(pageTitle(t('mon.title')), tabs('/monitoring'), form);
  let rows;
  try {
    prefetchNames();
    rows = await api('/monitoring/warnings', { query: { severity, status, limit: 1000 } });
  } catch (err) {
    view.append(errorBox(err, { what: t('mon.warnings') }));
    return;
  }
  if (!rows.length) { view.append(message('info', t('mon.noWarnings'))); return; }
  const { page, shown } = slice(rows, query);
  await borrowerNames(shown.map((w) => w.borrower_id));
  const canWrite = WRITERS.includes(user.role);
  const slot = h('div', { 'aria-live': 'polite' });
  const act = (w, next) => async (ev) => {
    ev.target.closest('td').querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await api(`/monitoring/warnings/${Number(w.id)}`, { method: 'PATCH', body: { status: next, version: w.version } });
      reload();
    } catch (err) {
      slot.replaceChildren(errorBox(err));
      ev.target.closest('td').querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  };
  view.append(h('p', { class: 'muted', 'data-testid': 'count' }, t('mon.warningCount', { n: num(rows.length) })), slot,
    table([
      { label: t('mon.raised'), nowrap: true, cell: (w) => date(w.raised_on) },
      { label: t('mon.borrower'), cell: (w) => [borrowerLink(w.borrower_id),
        w.loan_id ? h('div', { class: 'small' }, link(`/loans/${Number(w.loan_id)}`, t('mon.loanN', { id: w.loan_id }))) : null] },
      { label: t('mon.severity'), cell: (w) => severityTag(w.severity) },
      { label: t('mon.kind'), cell: (w) => [label('warnKind', w.kind), h('div', { class: 'small' }, h('code', {}, w.code))] },
      { label: t('mon.rule'), cell: (w) => h('code', {}, w.rule_id) },
      { label: t('mon.evidence'), cell: (w) => [evidence(w.evidence), w.note ? h('div', { class: 'ev-text small' }, w.note) : null] },
      { label: t('mon.status'), cell: (w) => [h('span', { class: 'warn-status' }, label('warnStatus', w.status)),
        w.closed_on ? h('div', { class: 'small muted' }, date(w.closed_on)) : null] },
      ...(canWrite ? [{ label: t('mon.actions'), cell: (w) => h('div', { class: 'action-buttons' },
        (NEXT[w.status] || []).map((next) => h('button', { type: 'button', 'data-action': next,
          onclick: act(w, next) }, t(`mon.to.${next}`)))) }] : []),
    ], shown, { caption: t('mon.warnings'), srCaption: true,
      rowAttrs: (w) => ({ 'data-warning': String(w.id), 'data-status': w.status }) }),
    pagerFor(rows, page, '/monitoring', { severity, status }, navigate));
  if (!canWrite) view.append(message('info', t('mon.readOnly', { role: label('role', user.role) })));
}

export async function renderWatchlist(view, { query, navigate }) {
  view.append(pageTitle(t('mon.title')), tabs('/monitoring/watchlist'));
  let rows;
  try {
    rows = await api('/monitoring/watchlist');
  } catch (err) {
    view.append(errorBox(err, { what: t('mon.watchlist') }));
    return;
  }
  if (!rows.length) { view.append(message('info', t('mon.noWatch'))); return; }
  const { page, shown } = slice(rows, query);
  await borrowerNames(shown.map((w) => w.borrower_id));
  view.append(table([
    { label: t('mon.borrower'), cell: (w) => borrowerLink(w.borrower_id) },
    { label: t('mon.added'), nowrap: true, cell: (w) => date(w.added_on) },
    { label: t('mon.reason'), cell: (w) => h('span', { class: 'ev-text' }, w.reason) },
    { label: t('mon.fromWarning'), cell: (w) => (w.warning_id ? `#${w.warning_id}` : '—') },
    { label: t('mon.addedBy'), cell: (w) => w.added_by },
  ], shown, { caption: t('mon.watchCaption', { n: num(rows.length) }) }),
  pagerFor(rows, page, '/monitoring/watchlist', {}, navigate));
}

export async function renderReviews(view, { query, navigate }) {
  const overdueOnly = query.overdue === '1';
  const toggle = h('div', { class: 'seg', role: 'group', 'aria-label': t('mon.show') },
    [['', 'mon.allDue'], ['1', 'mon.overdueOnly']].map(([v, key]) => h('button', { type: 'button',
      'aria-pressed': String((v === '1') === overdueOnly), class: (v === '1') === overdueOnly ? 'on' : null,
      onclick: () => navigate('/monitoring/reviews', { overdue: v }) }, t(key))));
  view.append(pageTitle(t('mon.title')), tabs('/monitoring/reviews'), toggle);
  let due; let overdue;
  try {
    // Which tasks are overdue is the API's judgement (the bank's business date), not the browser's.
    prefetchNames();
    [due, overdue] = await Promise.all([overdueOnly ? null : api('/monitoring/reviews/due'),
      api('/monitoring/reviews/due', { query: { overdue: 'true' } })]);
  } catch (err) {
    view.append(errorBox(err, { what: t('mon.reviews') }));
    return;
  }
  const rows = overdueOnly ? overdue : due;
  const late = new Set(overdue.map((r) => r.id));
  if (!rows.length) { view.append(message('info', overdueOnly ? t('mon.noOverdue') : t('mon.noReviews'))); return; }
  const { page, shown } = slice(rows, query);
  await borrowerNames(shown.map((r) => r.borrower_id));
  view.append(h('p', { class: 'muted', 'data-testid': 'count' },
    t('mon.reviewCount', { n: num(rows.length), late: num(late.size) })),
  table([
    { label: t('mon.dueOn'), nowrap: true, cell: (r) => [date(r.due_on),
      late.has(r.id) ? h('span', { class: 'tag warn' }, ' ', t('mon.overdue')) : null] },
    { label: t('mon.borrower'), cell: (r) => [borrowerLink(r.borrower_id),
      r.loan_id ? h('div', { class: 'small' }, link(`/loans/${Number(r.loan_id)}`, t('mon.loanN', { id: r.loan_id }))) : null] },
    { label: t('mon.reviewKind'), cell: (r) => label('reviewKind', r.kind) },
    { label: t('mon.reason'), cell: (r) => h('span', { class: 'ev-text' }, r.reason) },
    { label: t('mon.rule'), cell: (r) => (r.rule_id ? h('code', {}, r.rule_id) : '—') },
    { label: t('mon.status'), cell: (r) => label('reviewStatus', r.status) },
  ], shown, { caption: t('mon.reviews'), srCaption: true,
    rowAttrs: (r) => ({ 'data-review': String(r.id), class: late.has(r.id) ? 'overdue' : null }) }),
  pagerFor(rows, page, '/monitoring/reviews', { overdue: overdueOnly ? '1' : '' }, navigate));
}
