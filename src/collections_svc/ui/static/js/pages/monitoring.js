// Monitoring (贷后监控): early warnings, the watchlist and review tasks due, each linked to the borrower.
// What a role may do comes from the API: writers are the roles the monitoring API lets change a warning
// or the watchlist; reporters the roles it lets file a review report.
import { ApiError, api } from '../api.js';
import { field, h, link, select, table } from '../dom.js';
import { date, label, money, num, t } from '../i18n.js';
import { fromCents } from '../money.js';
import { errorBox, message, onSubmit, pageTitle, section } from '../ui.js';
import { pager } from './borrowers.js';

const PAGE = 50; // rows per page: the lists come whole from the API, the page shows a slice

const SEVERITIES = ['severe', 'high', 'medium', 'low'];
const STATUSES = ['open', 'acknowledged', 'closed'];
// PATCH /monitoring/warnings/{id} is open to these roles (monitoring/router.py "Writer").
// POST/DELETE /monitoring/watchlist take the same guard.
export const WRITERS = ['risk_officer', 'supervisor', 'admin'];
// POST /monitoring/reviews/reports is open to these roles (monitoring/router.py "Reporter").
export const REPORTERS = ['collector', 'risk_officer', 'supervisor', 'admin'];
// ReviewReportIn.review_type and the five categories (monitoring/schemas.py, settings.py)
const REVIEW_TYPES = ['first_check', 'routine', 'full', 'pre_maturity', 'focused', 'ad_hoc'];
const CATEGORIES = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'];
const FINDINGS = ['operations', 'finances', 'use_of_funds', 'collateral', 'guarantors'];
// A task's kind -> the review type the form proposes (the officer may pick another).
const TYPE_OF_KIND = { first_check: 'first_check', routine: 'routine', pre_maturity: 'pre_maturity',
  info_update: 'ad_hoc', group_sibling: 'focused' };
const LOAN_PAGE = 500; // /loans answers at most 500 a page
const LOAN_PAGES = 20; // a book of up to 10,000 loans is read in at most 20 parallel pages, once a session
// From a status, the changes a warning allows (the API accepts any; these are the sensible ones).
const NEXT = { open: ['acknowledged', 'closed'], acknowledged: ['closed', 'open'], closed: ['open'] };

const names = new Map(); // borrower id -> name, kept for the session (names rarely change)
const contracts = new Map(); // loan id -> contract number, kept for the session (never changes)
let flash = null; // a message shown once on the next render (after a write reloads the list)

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

function keepLoans(loans) {
  for (const l of loans || []) contracts.set(l.id, l.contract_no);
}

let loanBulk = null;
/** The book's contract numbers, read once a session in pages of 500 fetched together (no call per row). */
function prefetchLoans() {
  if (!loanBulk) {
    loanBulk = api('/loans', { query: { size: LOAN_PAGE } }).then(async (first) => {
      keepLoans(first.items);
      const pages = Math.min(LOAN_PAGES, Math.ceil((first.total || 0) / LOAN_PAGE));
      const rest = [];
      for (let p = 2; p <= pages; p += 1) rest.push(p);
      await Promise.all(rest.map((p) => api('/loans', { query: { size: LOAN_PAGE, page: p } })
        .then((pg) => keepLoans(pg.items), () => {})));
    }, () => {});
  }
  return loanBulk;
}

/** Once the book's loans are read, relabel the loan links on screen with their contract numbers. The read
 *  starts after the list is drawn, so it neither delays the list nor competes with its API calls. */
function fillContracts(root) {
  prefetchLoans().then(() => {
    root.querySelectorAll('a[data-loan]').forEach((a) => {
      const no = contracts.get(Number(a.dataset.loan));
      if (no && a.textContent !== no) a.textContent = no;
    });
  });
}

/** A loan link labelled with its contract number ("Loan #id" until the book read has it). */
function loanLink(id) {
  if (!id) return null;
  const no = contracts.get(id);
  return h('div', { class: 'small' }, link(`/loans/${Number(id)}`, no ?? t('mon.loanN', { id }),
    { 'data-loan': String(id) }));
}

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
    .then((b) => { names.set(id, b.name); keepLoans(b.loans); }, () => names.set(id, `#${id}`))));
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
  // an empty fragment, not null: Element.append(null) would write the text "null" under the table
  if (rows.length <= PAGE) return document.createDocumentFragment();
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
        loanLink(w.loan_id)] },
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
  fillContracts(view);
}

// --- forms: field errors from the API's problem+json shown next to the fields -----------------

/** A labelled control whose container answers to the API's field name (data-field). */
function apiField(name, labelText, control, hint) {
  const f = field(labelText, control, hint);
  f.dataset.field = name;
  return f;
}

/** Put each problem+json field error under its field; the rest (and the detail) go in `slot`. */
function showErrors(form, slot, err) {
  clearErrors(form);
  const loose = [];
  if (err instanceof ApiError) {
    for (const e of err.errors) {
      const box = form.querySelector(`[data-field="${CSS.escape(String(e.field || ''))}"]`);
      if (!box) { loose.push(e); continue; }
      const control = box.querySelector('input, select, textarea');
      const id = `${control.id}-err`;
      box.append(h('small', { class: 'field-error', id, 'data-error-for': e.field }, e.message || ''));
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', id);
    }
  }
  if (err instanceof ApiError && err.errors.length && !loose.length) {
    slot.replaceChildren(message('error', h('span', { class: 'detail' }, err.detail)));
  } else {
    slot.replaceChildren(errorBox(err));
  }
  const first = form.querySelector('[aria-invalid=true]');
  if (first) first.focus();
}

function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((x) => x.remove());
  form.querySelectorAll('[aria-invalid]').forEach((c) => {
    c.removeAttribute('aria-invalid');
    c.removeAttribute('aria-describedby');
  });
}

/** Submit handler: the API is the judge of the input (novalidate), its errors land beside the fields. */
function wire(form, action) {
  return onSubmit(form, () => action(), { onError: (err, slot) => showErrors(form, slot, err) });
}

function takeFlash(view) {
  if (flash) { view.append(flash); flash = null; }
}

// --- review report ---------------------------------------------------------------------------

/**
 * The review report form (贷后检查报告): for a due task (task given) or an ad-hoc review of a
 * borrower (choose the loan). `done(report)` runs after the API stored it.
 */
export function reviewReportForm({ borrowerId, task = null, loans = [], onCancel, done }) {
  const uid = Math.random().toString(36).slice(2, 7);
  const ctl = (tag, attrs) => h(tag, { id: `rr-${attrs.name.replace('.', '-')}-${uid}`, ...attrs });
  const type = select('review_type', REVIEW_TYPES.map((x) => [x, label('reviewType', x)]),
    task ? (TYPE_OF_KIND[task.kind] || 'ad_hoc') : 'ad_hoc', { id: `rr-type-${uid}` });
  const onSite = select('on_site', [['true', t('rr.onSite')], ['false', t('rr.offSite')]], 'false',
    { id: `rr-site-${uid}` });
  const category = select('recommended_category', [['', t('rr.noRecommendation')],
    ...CATEGORIES.map((c) => [c, label('category', c)])], '', { id: `rr-cat-${uid}` });
  const loanSel = !task && loans.length ? select('loan_id', [['', t('rr.allLoans')],
    ...loans.map((l) => [String(l.id), l.contract_no])], '', { id: `rr-loan-${uid}` }) : null;
  const findings = FINDINGS.map((k) => apiField(`findings.${k}`, t(`rr.f.${k}`),
    ctl('textarea', { name: `findings.${k}`, rows: 2, maxlength: 5000 })));
  const form = h('form', { class: 'grid-form review-report', novalidate: true,
    'data-task': task ? String(task.id) : null },
  h('h3', {}, task ? t('rr.titleTask', { kind: label('reviewKind', task.kind), due: date(task.due_on) })
    : t('rr.titleAdHoc')),
  task ? h('p', { class: 'muted small' }, task.reason) : null,
  apiField('review_type', t('rr.type'), type),
  apiField('review_date', t('rr.date'), ctl('input', { name: 'review_date', type: 'date', value: today() })),
  apiField('on_site', t('rr.where'), onSite),
  loanSel ? apiField('loan_id', t('rr.loan'), loanSel) : null,
  apiField('recommended_category', t('rr.category'), category, t('rr.categoryHint')),
  h('fieldset', {}, h('legend', {}, t('rr.findings')), findings),
  apiField('conclusion', t('rr.conclusion'), ctl('textarea', { name: 'conclusion', rows: 3, maxlength: 5000 })),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('rr.submit')),
    onCancel ? h('button', { type: 'button', onclick: onCancel }, t('common.cancel')) : null));
  return wire(form, async () => {
    const v = (name) => form.elements.namedItem(name).value.trim();
    const loanId = task ? task.loan_id : (loanSel && loanSel.value ? Number(loanSel.value) : null);
    const rep = await api('/monitoring/reviews/reports', { method: 'POST', body: {
      borrower_id: Number(borrowerId), task_id: task ? task.id : null, loan_id: loanId ?? null,
      review_type: type.value, review_date: v('review_date') || null, on_site: onSite.value === 'true',
      findings: Object.fromEntries(FINDINGS.map((k) => [k, v(`findings.${k}`)])),
      conclusion: v('conclusion'), recommended_category: category.value || null } });
    done(rep);
  });
}

function reportFiled(rep) {
  return message('ok', t('rr.filed', { id: rep.id }),
    rep.override_id ? [' ', t('rr.overrideProposed', { id: rep.override_id })] : null,
    rep.override_note ? [' ', h('span', { class: 'detail' }, rep.override_note)] : null);
}

// --- watchlist -------------------------------------------------------------------------------

function addWatchForm(choices, done) {
  const who = select('borrower_id', [['', t('wl.choose')], ...choices], '', { id: 'wl-borrower' });
  const form = h('form', { class: 'filters', id: 'watch-add', novalidate: true },
    apiField('borrower_id', t('mon.borrower'), who),
    apiField('reason', t('mon.reason'), h('input', { name: 'reason', id: 'wl-reason', maxlength: 500, size: 40 })),
    h('div', { class: 'actions field' }, h('button', { type: 'submit', class: 'primary' }, t('wl.add'))));
  return wire(form, async () => {
    const entry = await api('/monitoring/watchlist', { method: 'POST', body: {
      borrower_id: who.value ? Number(who.value) : null, reason: form.elements.namedItem('reason').value.trim() } });
    done(entry);
  });
}

/** "Take off the watchlist": the reason is asked for in place, then DELETE with it. */
function removeWatchButton(borrowerId, done, name = names.get(borrowerId)) {
  const box = h('div', { class: 'watch-remove' });
  const open = h('button', { type: 'button', 'data-action': 'unwatch',
    'aria-label': t('wl.removeFor', { name: name ?? `#${borrowerId}` }), onclick: () => {
    const input = h('input', { name: 'reason', id: `wl-rm-${Number(borrowerId)}`, maxlength: 500 });
    const form = h('form', { class: 'inline-form', novalidate: true },
      apiField('reason', t('wl.removeReason'), input),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-unwatch' },
        t('wl.confirmRemove')), h('button', { type: 'button', onclick: () => box.replaceChildren(open) },
        t('common.cancel'))));
    box.replaceChildren(wire(form, async () => {
      const entry = await api(`/monitoring/watchlist/${Number(borrowerId)}`, { method: 'DELETE',
        query: { reason: input.value.trim() } });
      done(entry);
    }));
    input.focus();
  } }, t('wl.remove'));
  box.append(open);
  return box;
}

/** The borrower page's monitoring section: watchlist status, add/remove, an ad-hoc review report. */
export async function borrowerMonitoring(b, user) {
  let rep;
  try {
    rep = await api(`/monitoring/borrowers/${Number(b.id)}/warnings`);
  } catch (err) {
    return err instanceof ApiError && err.endpointMissing ? null : section(t('mon.title'), errorBox(err));
  }
  const canWatch = WRITERS.includes(user.role);
  const after = (msg) => { flash = msg; reload(); };
  const w = rep.watchlist;
  const status = rep.on_watchlist && w
    ? h('p', { 'data-testid': 'watch-status', 'data-watched': 'true' },
      h('span', { class: 'tag warn' }, t('wl.on')), ' ', t('wl.since', { date: date(w.added_on), by: w.added_by }),
      ' ', h('span', { class: 'ev-text' }, w.reason))
    : h('p', { 'data-testid': 'watch-status', 'data-watched': 'false' }, t('wl.off'));
  let watchCtl = null;
  if (canWatch && rep.on_watchlist) {
    watchCtl = removeWatchButton(b.id, () => after(message('ok', t('wl.removed', { name: b.name }))), b.name);
  } else if (canWatch) {
    const input = h('input', { name: 'reason', id: 'wl-reason', maxlength: 500, size: 40 });
    const form = h('form', { class: 'filters', id: 'watch-add', novalidate: true },
      apiField('reason', t('wl.addReason'), input),
      h('div', { class: 'actions field' }, h('button', { type: 'submit', class: 'primary', 'data-action': 'watch' },
        t('wl.add'))));
    watchCtl = wire(form, async () => {
      await api('/monitoring/watchlist', { method: 'POST', body: { borrower_id: Number(b.id), reason: input.value.trim() } });
      after(message('ok', t('wl.added', { name: b.name })));
    });
  }
  const out = h('div', { class: 'borrower-monitoring' });
  if (flash) { out.append(flash); flash = null; }
  out.append(h('h3', {}, t('mon.watchlist')), status);
  if (watchCtl) out.append(watchCtl); // Element.append would write null as text
  if (REPORTERS.includes(user.role)) {
    const slot = h('div', {});
    const openBtn = h('button', { type: 'button', 'data-action': 'review-report', onclick: () => {
      slot.replaceChildren(reviewReportForm({ borrowerId: b.id, loans: b.loans,
        onCancel: () => slot.replaceChildren(openBtn), done: (r) => after(reportFiled(r)) }));
      slot.querySelector('select, input, textarea').focus();
    } }, t('rr.open'));
    slot.append(openBtn);
    out.append(h('h3', {}, t('rr.section')), slot);
  }
  return section(t('mon.title'), out);
}

export async function renderWatchlist(view, { query, user, navigate }) {
  view.append(pageTitle(t('mon.title')), tabs('/monitoring/watchlist'));
  takeFlash(view);
  const canWrite = WRITERS.includes(user.role);
  let rows;
  try {
    if (canWrite) prefetchNames();
    rows = await api('/monitoring/watchlist');
  } catch (err) {
    view.append(errorBox(err, { what: t('mon.watchlist') }));
    return;
  }
  const after = (msg) => { flash = msg; reload(); };
  if (canWrite) {
    await prefetchNames();
    const listed = new Set(rows.map((w) => w.borrower_id));
    const choices = [...names.entries()].filter(([id]) => !listed.has(id))
      .sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => [String(id), name]);
    view.append(section(t('wl.addTitle'), addWatchForm(choices, (e) => after(message('ok',
      t('wl.added', { name: names.get(e.borrower_id) ?? `#${e.borrower_id}` }))))));
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
    ...(canWrite ? [{ label: t('mon.actions'), cell: (w) => removeWatchButton(w.borrower_id, () => after(
      message('ok', t('wl.removed', { name: names.get(w.borrower_id) ?? `#${w.borrower_id}` })))) }] : []),
  ], shown, { caption: t('mon.watchCaption', { n: num(rows.length) }),
    rowAttrs: (w) => ({ 'data-watch': String(w.borrower_id) }) }),
  pagerFor(rows, page, '/monitoring/watchlist', {}, navigate));
}

export async function renderReviews(view, { query, user, navigate }) {
  const overdueOnly = query.overdue === '1';
  const toggle = h('div', { class: 'seg', role: 'group', 'aria-label': t('mon.show') },
    [['', 'mon.allDue'], ['1', 'mon.overdueOnly']].map(([v, key]) => h('button', { type: 'button',
      'aria-pressed': String((v === '1') === overdueOnly), class: (v === '1') === overdueOnly ? 'on' : null,
      onclick: () => navigate('/monitoring/reviews', { overdue: v }) }, t(key))));
  view.append(pageTitle(t('mon.title')), tabs('/monitoring/reviews'), toggle);
  takeFlash(view);
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
  const canReport = REPORTERS.includes(user.role);
  const formSlot = h('div', { class: 'report-slot' });
  const openForm = (r) => () => {
    formSlot.replaceChildren(section(t('rr.sectionFor', { name: names.get(r.borrower_id) ?? `#${r.borrower_id}` }),
      reviewReportForm({ borrowerId: r.borrower_id, task: r, onCancel: () => formSlot.replaceChildren(),
        done: (rep) => { flash = reportFiled(rep); reload(); } })));
    formSlot.scrollIntoView({ block: 'start' });
    formSlot.querySelector('select').focus();
  };
  view.append(h('p', { class: 'muted', 'data-testid': 'count' },
    t('mon.reviewCount', { n: num(rows.length), late: num(late.size) })), formSlot,
  table([
    { label: t('mon.dueOn'), nowrap: true, cell: (r) => [date(r.due_on),
      late.has(r.id) ? h('span', { class: 'tag warn' }, ' ', t('mon.overdue')) : null] },
    { label: t('mon.borrower'), cell: (r) => [borrowerLink(r.borrower_id),
      loanLink(r.loan_id)] },
    { label: t('mon.reviewKind'), cell: (r) => label('reviewKind', r.kind) },
    { label: t('mon.reason'), cell: (r) => h('span', { class: 'ev-text' }, r.reason) },
    { label: t('mon.rule'), cell: (r) => (r.rule_id ? h('code', {}, r.rule_id) : '—') },
    { label: t('mon.status'), cell: (r) => label('reviewStatus', r.status) },
    ...(canReport ? [{ label: t('mon.actions'), nowrap: true, cell: (r) => h('button', { type: 'button',
      'data-action': 'review-report', onclick: openForm(r),
      'aria-label': t('rr.openFor', { name: names.get(r.borrower_id) ?? `#${r.borrower_id}` }) }, t('rr.open')) }] : []),
  ], shown, { caption: t('mon.reviews'), srCaption: true,
    rowAttrs: (r) => ({ 'data-review': String(r.id), class: late.has(r.id) ? 'overdue' : null }) }),
  pagerFor(rows, page, '/monitoring/reviews', { overdue: overdueOnly ? '1' : '' }, navigate));
  fillContracts(view);
}
