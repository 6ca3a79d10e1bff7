// Administration: users and roles, strategies (view, validate, dry-run), notice templates (preview),
// scheduler status and sweep history. Every check and every preview is done by the API.
import { api, items } from '../api.js';
import { dl, field, h, link, select, table } from '../dom.js';
import { date, datetime, label, money, num, t } from '../i18n.js';
import { errorBox, loadAll, message, pageTitle, section } from '../ui.js';

// Which roles open which admin page: the same roles the API behind each page accepts.
export const ADMIN_TABS = [
  { path: '/admin', key: 'admin.users', roles: ['admin'] },
  { path: '/admin/strategies', key: 'admin.strategies', roles: ['admin', 'supervisor', 'risk_officer', 'auditor'] },
  { path: '/admin/templates', key: 'admin.templates', roles: ['admin', 'supervisor', 'risk_officer'] },
  { path: '/admin/scheduler', key: 'admin.scheduler', roles: ['admin'] },
];
export const ADMIN_ROLES = [...new Set(ADMIN_TABS.flatMap((tab) => tab.roles))];
const PREVIEWERS = ['admin', 'supervisor']; // POST /strategies/preview and dry-run sweeps

export function adminHome(role) {
  return (ADMIN_TABS.find((tab) => tab.roles.includes(role)) || ADMIN_TABS[0]).path;
}

function tabs(current, role) {
  return h('nav', { class: 'tabs', 'aria-label': t('admin.title') }, h('ul', {},
    ADMIN_TABS.filter((tab) => tab.roles.includes(role)).map((tab) => h('li', {},
      h('a', { href: '#' + tab.path, 'aria-current': tab.path === current ? 'page' : null }, t(tab.key))))));
}

function head(view, current, user, ...extra) {
  view.append(pageTitle(t('admin.title'), ...extra), tabs(current, user.role));
}

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

// --- users --------------------------------------------------------------------------------------

export async function renderAdmin(view, { user }) {
  head(view, '/admin', user);
  const users = await api('/users');
  view.append(section(t('admin.users'), table([
    { label: t('admin.username'), cell: (u) => h('code', {}, u.username) },
    { label: t('admin.displayName'), cell: (u) => u.display_name },
    { label: t('admin.role'), cell: (u) => label('role', u.role) },
    { label: t('admin.team'), cell: (u) => u.team ?? '—' },
    { label: t('admin.limit'), num: true, cell: (u) => (u.approval_limit ? money(u.approval_limit) : '—') },
    { label: t('admin.active'), cell: (u) => (u.active ? t('common.yes') : t('common.no')) },
  ], users, { caption: t('admin.usersCaption') })));
}

// --- strategies -----------------------------------------------------------------------------------

function conditionText(when) {
  const parts = Object.entries(when || {}).map(([k, v]) => `${label('cond', k)} ${Array.isArray(v) ? v.join(', ') : v}`);
  return parts.length ? parts.join(' · ') : t('strat.always');
}

function rulesTable(doc) {
  return table([
    { label: '#', num: true, cell: (r) => num(doc.rules.indexOf(r) + 1) },
    { label: t('strat.rule'), cell: (r) => [h('code', {}, r.id), r.description ? h('div', { class: 'small muted' }, r.description) : null] },
    { label: t('strat.when'), cell: (r) => conditionText(r.when) },
    { label: t('strat.target'), cell: (r) => (r.target ? label('stage', r.target) : '—') },
    { label: t('strat.notices'), cell: (r) => (r.notices || []).map((n) => h('span', { class: 'tag' }, n)) },
    { label: t('strat.tasks'), cell: (r) => (r.tasks || []).map((k) => label('taskKind', k)).join(', ') || '—' },
    { label: t('strat.proposal'), cell: (r) => (r.proposal ? label('proposalKind', r.proposal) : '—') },
    { label: t('strat.wait'), num: true, cell: (r) => (r.reevaluate_after_days ? num(r.reevaluate_after_days) : '—') },
  ], doc.rules || [], { caption: t('strat.rulesCaption', { v: doc.version }) });
}

/** The result of a dry run (sweep preview): counts, then what would move. */
export function previewResult(res) {
  const c = res.counts || {};
  const counts = ['loans_evaluated', 'cases_opened', 'cases_escalated', 'cases_cured', 'notices_queued', 'promises_broken'];
  const out = h('div', { class: 'preview-result', id: 'preview-result' },
    message('ok', t('strat.previewDone', { v: res.strategy_version, d: date(res.business_date) })),
    h('div', { class: 'kpis' }, counts.map((k) => h('div', { class: 'kpi', 'data-count': k },
      h('div', { class: 'kpi-name' }, t(`sweep.${k}`)), h('div', { class: 'kpi-val' }, num(c[k] ?? 0))))));
  if (res.stats && res.stats.note) out.append(message('info', t('strat.alreadyRan')));
  if ((res.escalations || []).length) {
    out.append(table([
      { label: t('case.id'), cell: (e) => link(`/cases/${Number(e.case_id)}`, `#${e.case_id}`) },
      { label: t('strat.from'), cell: (e) => label('stage', e.from) },
      { label: t('strat.to'), cell: (e) => label('stage', e.to) },
      { label: t('strat.rule'), cell: (e) => h('code', {}, e.rule) },
      { label: t('dash.dpd'), num: true, cell: (e) => num(e.dpd) },
    ], res.escalations, { caption: t('strat.escalations', { n: num(res.escalations.length) }) }));
  }
  if ((res.proposals || []).length) {
    out.append(table([
      { label: t('case.id'), cell: (p) => link(`/cases/${Number(p.case_id)}`, `#${p.case_id}`) },
      { label: t('appr.kind'), cell: (p) => label('proposalKind', p.kind) },
      { label: t('strat.rule'), cell: (p) => h('code', {}, p.rule) },
    ], res.proposals, { caption: t('strat.proposals', { n: num(res.proposals.length) }) }));
  }
  if (res.error_count) out.append(message('error', t('strat.previewErrors', { n: num(res.error_count) })));
  return out;
}

export async function renderStrategies(view, { params, user }) {
  if (params[0]) { await renderStrategy(view, decodeURIComponent(params[0]), user); return; }
  head(view, '/admin/strategies', user);
  const [list, active] = await loadAll(['/strategies', '/strategies/active']);
  if (!list.ok) { view.append(errorBox(list.error, { what: t('admin.strategies') })); return; }
  view.append(section(t('strat.versions'), table([
    { label: t('strat.version'), cell: (v) => link(`/admin/strategies/${encodeURIComponent(v.version)}`, v.version) },
    { label: t('strat.description'), cell: (v) => v.description || '—' },
    { label: t('strat.state'), cell: (v) => [v.is_active ? h('span', { class: 'tag ok' }, t('strat.active')) : null,
      v.shipped ? h('span', { class: 'tag' }, t('strat.shipped')) : null] },
    { label: t('strat.rules'), num: true, cell: (v) => num(v.rules) },
    { label: t('strat.created'), cell: (v) => (v.created_by ? `${v.created_by} · ${datetime(v.created_at)}` : '—') },
    { label: t('strat.activated'), cell: (v) => (v.activated_by ? `${v.activated_by} · ${datetime(v.activated_at)}` : '—') },
  ], list.data.items, { caption: t('strat.versionsCaption', { v: list.data.active_version }),
    rowAttrs: (v) => ({ 'data-version': v.version }) })));
  const start = active.ok ? { ...active.data.document, version: `${active.data.version}-draft` } : { version: 'draft-1', rules: [] };
  view.append(draftEditor(start, user));
}

function draftEditor(doc, user) {
  const text = h('textarea', { name: 'document', rows: 16, spellcheck: 'false', class: 'code',
    value: JSON.stringify(doc, null, 2) });
  const asOf = h('input', { type: 'date', name: 'as_of' });
  const out = h('div', { class: 'form-msg', 'aria-live': 'polite', id: 'draft-result' });
  const parse = () => {
    try { return JSON.parse(text.value); } catch (err) {
      out.replaceChildren(message('error', t('strat.badJson'), ' ', h('span', { class: 'detail' }, err.message)));
      return null;
    }
  };
  const run = (fn) => async (ev) => {
    const body = parse();
    if (!body) return;
    const btns = ev.target.closest('form').querySelectorAll('button');
    btns.forEach((b) => { b.disabled = true; });
    out.replaceChildren(message('info', t('common.loading')));
    try { out.replaceChildren(await fn(body)); } catch (err) { out.replaceChildren(errorBox(err)); }
    btns.forEach((b) => { b.disabled = false; });
  };
  const validate = run(async (body) => {
    const v = await api('/strategies/validate', { method: 'POST', body });
    return h('div', { id: 'validation-ok' }, message('ok', t('strat.valid', { v: v.version, n: num(v.rules) })),
      v.version_exists ? message('info', t('strat.versionExists', { v: v.version })) : null,
      v.warnings.length ? message('info', t('strat.warnings'), h('ul', {}, v.warnings.map((w) => h('li', {}, w)))) : null);
  });
  const preview = run(async (body) => previewResult(await api('/strategies/preview', { method: 'POST',
    body: { document: body, as_of: asOf.value || null } })));
  const form = h('form', { class: 'grid-form', id: 'draft-form' },
    h('p', { class: 'muted small' }, t('strat.draftHelp')),
    field(t('strat.document'), text),
    PREVIEWERS.includes(user.role) ? field(t('strat.asOf'), asOf, t('strat.asOfHint')) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'data-act': 'validate', onclick: validate }, t('strat.validate')),
      PREVIEWERS.includes(user.role)
        ? h('button', { type: 'button', 'data-act': 'preview', onclick: preview }, t('strat.preview')) : null),
    out);
  form.addEventListener('submit', (ev) => ev.preventDefault());
  return section(t('strat.draft'), form);
}

async function renderStrategy(view, version, user) {
  head(view, '/admin/strategies', user);
  let s;
  try {
    s = await api(`/strategies/${encodeURIComponent(version)}`);
  } catch (err) {
    view.append(errorBox(err, { what: t('admin.strategies') }));
    return;
  }
  view.append(h('h2', { class: 'sub' }, t('strat.versionTitle', { v: s.version })),
    dl([[t('strat.state'), s.is_active ? t('strat.active') : t('strat.inactive')],
      [t('strat.description'), s.document.description || null], [t('strat.rules'), num((s.document.rules || []).length)]]));
  if (s.warnings.length) view.append(message('info', t('strat.warnings'), h('ul', {}, s.warnings.map((w) => h('li', {}, w)))));
  view.append(section(t('strat.rules'), rulesTable(s.document)));
  const slot = h('div', { 'aria-live': 'polite' });
  const buttons = [];
  if (PREVIEWERS.includes(user.role)) {
    buttons.push(h('button', { type: 'button', 'data-act': 'preview', onclick: async (ev) => {
      ev.target.disabled = true;
      slot.replaceChildren(message('info', t('common.loading')));
      try {
        // Saved, shipped or live alike: the version's own document is dry-run (nothing is saved).
        slot.replaceChildren(previewResult(await api('/strategies/preview', { method: 'POST', body: { document: s.document } })));
      } catch (err) { slot.replaceChildren(errorBox(err)); }
      ev.target.disabled = false;
    } }, t('strat.preview')));
  }
  if (user.role === 'admin' && !s.is_active && !s.shipped) {
    buttons.push(h('button', { type: 'button', class: 'primary', 'data-act': 'activate', onclick: async (ev) => {
      ev.target.disabled = true;
      try { await api(`/strategies/${encodeURIComponent(s.version)}/activate`, { method: 'POST' }); reload(); } catch (err) {
        slot.replaceChildren(errorBox(err)); ev.target.disabled = false;
      }
    } }, t('strat.activate')));
  }
  if (buttons.length) view.append(section(t('strat.try'), h('div', { class: 'action-buttons' }, buttons), slot));
}

// --- notice templates --------------------------------------------------------------------------------

/** Letter previews are HTML: parse them inertly (no script runs, nothing loads) and show the text only. */
function letterText(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll('script, style, head').forEach((el) => el.remove());
  doc.querySelectorAll('br').forEach((el) => el.replaceWith('\n'));
  doc.querySelectorAll('p, div, h1, h2, h3, h4, li, tr, table, section').forEach((el) => el.append('\n'));
  doc.querySelectorAll('td, th').forEach((el) => el.append('\t'));
  return (doc.body ? doc.body.textContent : '').replace(/\n[ \t]*\n[ \t\n]*/g, '\n\n').trim();
}

export async function renderTemplates(view, { user, query }) {
  head(view, '/admin/templates', user);
  const [list, cases] = await loadAll(['/notice-templates', { path: '/cases', query: { size: 1 } }]);
  if (!list.ok) { view.append(errorBox(list.error, { what: t('admin.templates') })); return; }
  const firstCase = cases.ok ? items(cases.data)[0] : null;
  const tpl = select('template', list.data.map((x) => [x.name, `${x.name} (${label('channel', x.channel)})`]),
    query.template || list.data[0]?.name);
  const caseId = h('input', { type: 'number', name: 'case_id', min: 1, required: true, class: 'short',
    value: query.case_id || (firstCase ? String(firstCase.id) : '') });
  const loc = select('locale', [['zh_CN', '中文'], ['en', 'English']], query.locale || 'zh_CN');
  const out = h('div', { 'aria-live': 'polite', id: 'template-preview' });
  const form = h('form', { class: 'filters', id: 'template-form' }, field(t('tpl.template'), tpl),
    field(t('tpl.case'), caseId), field(t('tpl.locale'), loc),
    h('div', { class: 'actions field' }, h('button', { type: 'submit', class: 'primary' }, t('tpl.preview'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren(message('info', t('common.loading')));
    try {
      const p = await api(`/cases/${Number(caseId.value)}/notices/preview`,
        { query: { template: tpl.value, locale: loc.value } });
      out.replaceChildren(previewBox(p));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  });
  view.append(section(t('tpl.previewTitle'), h('p', { class: 'muted small' }, t('tpl.help')), form, out),
    section(t('admin.templates'), table([
      { label: t('tpl.name'), cell: (x) => h('code', {}, x.name) },
      { label: t('tpl.channel'), cell: (x) => label('channel', x.channel) },
      { label: t('tpl.description'), cell: (x) => x.description },
      { label: t('tpl.variables'), cell: (x) => h('span', { class: 'small' }, x.variables.join(', ')) },
      { label: t('tpl.trigger'), cell: (x) => (Object.keys(x.trigger_values).length
        ? h('span', { class: 'small' }, Object.keys(x.trigger_values).join(', ')) : '—') },
    ], list.data, { caption: t('tpl.caption', { n: num(list.data.length) }) })));
}

function previewBox(p) {
  const body = p.channel === 'letter' ? letterText(p.body) : p.body;
  return h('div', { class: 'card preview' },
    dl([[t('tpl.template'), p.template], [t('tpl.channel'), label('channel', p.channel)], [t('tpl.locale'), p.locale],
      [t('tpl.asOf'), date(p.business_date)],
      [t('tpl.samples'), p.sample_values_used.length ? p.sample_values_used.join(', ') : null]]),
    h('pre', { class: 'notice-body', 'data-channel': p.channel }, body));
}

// --- scheduler and sweeps -----------------------------------------------------------------------------

export async function renderScheduler(view, { user }) {
  head(view, '/admin/scheduler', user);
  const [status, sweeps] = await loadAll(['/scheduler/status', { path: '/sweeps', query: { limit: 30 } }]);
  if (!status.ok) view.append(errorBox(status.error, { what: t('admin.scheduler') }));
  else {
    const st = status.data;
    view.append(h('div', { class: 'two-col' },
      section(t('sched.leader'), dl([
        [t('sched.state'), h('span', { class: st.leader.held ? 'tag ok' : 'tag warn', id: 'leader-state' },
          st.leader.held ? t('sched.running') : t('sched.noLeader'))],
        [t('sched.holder'), st.leader.holder], [t('sched.since'), st.leader.since ? datetime(st.leader.since) : null],
        [t('sched.lock'), h('code', {}, st.leader.lock)], [t('sched.timezone'), st.timezone],
      ]), st.leader.held ? null : message('info', t('sched.noLeaderHint'))),
      section(t('sched.jobs'), table([
        { label: t('sched.job'), cell: (j) => label('job', j.id) },
        { label: t('sched.schedule'), cell: (j) => h('code', {}, j.schedule) },
        { label: t('sched.next'), nowrap: true, cell: (j) => (j.next_run_at ? datetime(j.next_run_at) : t('sched.interval')) },
      ], st.jobs, { caption: t('sched.jobs'), srCaption: true, rowAttrs: (j) => ({ 'data-job': j.id }) }))));
    if (st.pending_dates.length) {
      view.append(message('info', t('sched.pending', { n: num(st.pending_dates.length),
        from: date(st.pending_dates[0]), to: date(st.pending_dates[st.pending_dates.length - 1]) })));
    }
  }
  if (!sweeps.ok) { view.append(errorBox(sweeps.error, { what: t('sched.history') })); return; }
  const rows = sweeps.data.items;
  view.append(section(t('sched.history'), rows.length ? table([
    { label: t('sched.date'), nowrap: true, cell: (r) => date(r.business_date) },
    { label: t('sched.partition'), cell: (r) => r.partition },
    { label: t('sched.status'), cell: (r) => h('span', { class: r.status === 'succeeded' ? 'tag ok' : 'tag warn' }, label('sweepStatus', r.status)) },
    { label: t('sched.started'), nowrap: true, cell: (r) => datetime(r.started_at) },
    { label: t('sched.finished'), nowrap: true, cell: (r) => datetime(r.finished_at) },
    { label: t('sched.by'), cell: (r) => r.triggered_by },
    { label: t('sched.strategy'), cell: (r) => r.strategy_version ?? '—' },
    { label: t('sweep.cases_opened'), num: true, cell: (r) => num(r.cases_opened) },
    { label: t('sweep.cases_escalated'), num: true, cell: (r) => num(r.cases_escalated) },
    { label: t('sweep.cases_cured'), num: true, cell: (r) => num(r.cases_cured) },
    { label: t('sweep.notices_queued'), num: true, cell: (r) => num(r.notices_queued) },
    { label: t('sched.errors'), num: true, cell: (r) => (r.error_count ? h('span', { class: 'bad' }, num(r.error_count)) : '0') },
  ], rows, { caption: t('sched.historyCaption', { n: num(sweeps.data.total) }), rowAttrs: (r) => ({ 'data-run': String(r.id) }) })
    : message('info', t('sched.noRuns'))));
}
