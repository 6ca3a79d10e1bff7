import { api } from '../api.js';
import { barChart, lineChart } from '../chart.js';
import { field, h } from '../dom.js';
import { date, label, money, moneyCompact, num, pct, t } from '../i18n.js';
import { sum } from '../money.js';
import { errorBox, loadAll, message, pageTitle, section } from '../ui.js';

// GET /reports/* is open to these roles (reports/router.py); a collector's dashboard is the book only.
export const REPORT_READERS = ['supervisor', 'risk_officer', 'admin', 'auditor'];
const STAGE_ORDER = ['classified', 'phone_reminder', 'letter', 'visit', 'restructuring', 'legal'];
const NOTICE_STEPS = ['queued', 'sent', 'delivered', 'failed', 'deferred_now', 'cancelled'];

const METRICS = ['outstanding_principal', 'overdue_amount', 'loans'];

function rangeText(line) {
  return line.label === 'current' ? t('dash.current') : t('dash.daysRange', { r: line.label });
}

export async function renderDashboard(view, { query, navigate, user }) {
  const reports = REPORT_READERS.includes(user.role);
  const interval = query.interval === 'day' ? 'day' : 'month';
  const period = { from: query.from || null, to: query.to || null };
  const [book, stages, trend, rates, notices] = await loadAll(['/book/buckets', ...(reports ? [
    '/reports/stages', { path: '/reports/trend', query: { interval } },
    { path: '/reports/rates', query: period }, { path: '/reports/notices', query: period }] : [])]);
  if (!book.ok) throw book.error;
  const lines = book.data;
  const metric = METRICS.includes(query.metric) ? query.metric : 'outstanding_principal';
  const value = (l) => (metric === 'loans' ? l.loans : Number(l[metric]));
  const display = (l) => (metric === 'loans' ? num(l.loans) : moneyCompact(l[metric]));
  const bars = lines.map((l) => ({
    key: l.bucket, label: `${l.bucket} ${rangeText(l)}`, value: value(l), display: display(l),
    details: [[t('dash.dpd'), rangeText(l)], [t('dash.loans'), num(l.loans)],
      [t('dash.outstanding'), money(l.outstanding_principal)], [t('dash.overdue'), money(l.overdue_amount)]],
  }));
  const picker = h('div', { class: 'seg', role: 'group', 'aria-label': t('dash.metric') },
    METRICS.map((m) => h('button', { type: 'button', 'aria-pressed': String(m === metric),
      class: m === metric ? 'on' : null, onclick: () => navigate('/dashboard', { metric: m }) }, t(`dash.metric.${m}`))));
  const totals = {
    loans: lines.reduce((a, l) => a + l.loans, 0),
    outstanding: sum(...lines.map((l) => l.outstanding_principal)),
    overdue: sum(...lines.map((l) => l.overdue_amount)),
  };
  const overdueLoans = lines.filter((l) => l.bucket !== lines[0]?.bucket).reduce((a, l) => a + l.loans, 0);
  const kpis = h('div', { class: 'kpis' },
    kpi(t('dash.kpi.loans'), num(totals.loans)),
    kpi(t('dash.kpi.outstanding'), money(totals.outstanding)),
    kpi(t('dash.kpi.overdue'), money(totals.overdue)),
    kpi(t('dash.kpi.overdueLoans'), num(overdueLoans)));
  const tbl = h('div', { class: 'table-wrap' }, h('table', { id: 'bucket-table' },
    h('caption', {}, t('dash.tableCaption')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('dash.bucket')), h('th', { scope: 'col' }, t('dash.dpd')),
      h('th', { scope: 'col', class: 'num' }, t('dash.loans')),
      h('th', { scope: 'col', class: 'num' }, t('dash.outstanding')),
      h('th', { scope: 'col', class: 'num' }, t('dash.overdue')))),
    h('tbody', {}, lines.map((l) => h('tr', { 'data-bucket': l.bucket },
      h('th', { scope: 'row' }, l.bucket), h('td', {}, rangeText(l)),
      h('td', { class: 'num' }, num(l.loans)), h('td', { class: 'num' }, money(l.outstanding_principal)),
      h('td', { class: 'num' }, money(l.overdue_amount))))),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: 2 }, t('dash.total')),
      h('td', { class: 'num' }, num(totals.loans)), h('td', { class: 'num' }, money(totals.outstanding)),
      h('td', { class: 'num' }, money(totals.overdue))))));
  view.append(pageTitle(t('dash.title')), kpis,
    section(t('dash.byBucket'), picker,
      barChart(bars, { title: `${t('dash.byBucket')}: ${t(`dash.metric.${metric}`)}`, desc: t('dash.chartDesc') }),
      tbl));
  if (!reports) return;
  view.append(stageSection(stages), trendSection(trend, interval, navigate, query),
    periodForm(period, query, navigate, rates.ok ? rates.data : notices.ok ? notices.data : null),
    h('div', { class: 'two-col' }, promiseSection(rates), noticeSection(notices)));
}

function numTable(id, caption, head, rows, foot) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
    h('tbody', {}, rows.map(([key, cells]) => h('tr', { 'data-key': key },
      h('th', { scope: 'row' }, cells[0]), cells.slice(1).map((c) => h('td', { class: 'num' }, c))))),
    foot ? h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, foot[0]), foot.slice(1).map((c) => h('td', { class: 'num' }, c)))) : null));
}

function unavailable(res, titleKey) {
  return section(t(titleKey), errorBox(res.error, { what: t('dash.reportsApi') }));
}

function stageSection(res) {
  if (!res.ok) return unavailable(res, 'dash.byStage');
  const rows = [...res.data.stages].sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage));
  const asOf = t('dash.asOf', { d: date(res.data.snapshot_date) });
  if (!rows.length) return section(t('dash.byStage'), message('info', res.data.snapshot_date ? t('dash.noCases') : t('dash.noSnapshot')));
  const bars = rows.map((r) => ({ key: r.stage, label: label('stage', r.stage), value: r.cases, display: num(r.cases),
    details: [[t('dash.cases'), num(r.cases)], [t('dash.outstanding'), money(r.outstanding)],
      [t('dash.overdue'), money(r.overdue)], [t('dash.avgDpd'), num(r.avg_dpd)]] }));
  return section(t('dash.byStage'), h('p', { class: 'muted small' }, asOf),
    barChart(bars, { title: t('dash.byStage'), desc: t('dash.chartDesc') }),
    numTable('stage-table', t('dash.stageCaption'),
      [t('case.stage'), t('dash.cases'), t('dash.outstanding'), t('dash.overdue'), t('dash.avgDpd'), t('dash.maxDpd')],
      rows.map((r) => [r.stage, [label('stage', r.stage), num(r.cases), money(r.outstanding), money(r.overdue),
        num(r.avg_dpd), num(r.max_dpd)]]),
      [t('dash.total'), num(res.data.total_cases), money(sum(...rows.map((r) => r.outstanding))),
        money(sum(...rows.map((r) => r.overdue))), '', '']));
}

function trendSection(res, interval, navigate, query) {
  if (!res.ok) return unavailable(res, 'dash.trend');
  const pts = res.data.series;
  const picker = h('div', { class: 'seg', role: 'group', 'aria-label': t('dash.interval') },
    ['month', 'day'].map((v) => h('button', { type: 'button', 'aria-pressed': String(v === interval),
      class: v === interval ? 'on' : null, onclick: () => navigate('/dashboard', { ...query, interval: v }) },
    t(`dash.interval.${v}`))));
  if (!pts.length) return section(t('dash.trend'), picker, message('info', t('dash.noSnapshot')));
  const when = (p) => (interval === 'month' ? p.date.slice(0, 7) : date(p.snapshot_date));
  const chart = lineChart(pts.map((p) => ({ key: p.snapshot_date, label: when(p),
    details: [[t('dash.snapshot'), date(p.snapshot_date)], [t('dash.loans'), num(p.loans)],
      [t('dash.outstanding'), money(p.outstanding)], [t('dash.overdue'), money(p.overdue)],
      ['PAR30', pct(p.par30)], ['PAR90', pct(p.par90)]] })),
  [{ name: t('dash.outstanding'), values: pts.map((p) => Number(p.outstanding)) },
    { name: t('dash.overdue'), values: pts.map((p) => Number(p.overdue)) }],
  { title: t('dash.trend'), desc: t('dash.chartDesc') });
  return section(t('dash.trend'), picker, chart,
    pts.length === 1 ? message('info', t('dash.onePoint')) : null,
    numTable('trend-table', t('dash.trendCaption'),
      [t('dash.period'), t('dash.loans'), t('dash.outstanding'), t('dash.overdue'), 'PAR30', 'PAR90'],
      pts.map((p) => [p.snapshot_date, [when(p), num(p.loans), money(p.outstanding), money(p.overdue), pct(p.par30), pct(p.par90)]])));
}

function periodForm(period, query, navigate, data) {
  const from = h('input', { type: 'date', name: 'from', value: period.from || (data ? data.from : '') });
  const to = h('input', { type: 'date', name: 'to', value: period.to || (data ? data.to : '') });
  const form = h('form', { class: 'filters period', id: 'period-form' },
    field(t('dash.from'), from), field(t('dash.to'), to),
    h('div', { class: 'actions field' }, h('button', { type: 'submit', class: 'primary' }, t('common.apply'))),
    h('p', { class: 'muted small' }, t('dash.periodHint')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate('/dashboard', { ...query, from: from.value, to: to.value });
  });
  return form;
}

function promiseSection(res) {
  if (!res.ok) return unavailable(res, 'dash.promises');
  const p = res.data.promise_kept;
  const parts = ['kept', 'broken', 'partially_paid', 'open', 'cancelled'];
  const bars = parts.map((k) => ({ key: k, label: t(`dash.promise.${k}`), value: p[k], display: num(p[k]),
    details: [[t('dash.promises'), num(p[k])], [t('dash.keptRate'), pct(p.rate)]] }));
  return section(t('dash.promises'),
    h('p', { class: 'muted small' }, t('dash.promiseHint', { from: date(res.data.from), to: date(res.data.to) })),
    h('div', { class: 'kpis' }, h('div', { class: 'kpi', id: 'kept-rate' }, h('div', { class: 'kpi-name' }, t('dash.keptRate')),
      h('div', { class: 'kpi-val' }, p.rate === null ? '—' : pct(p.rate)))),
    barChart(bars, { title: t('dash.promises'), desc: t('dash.chartDesc') }),
    numTable('promise-table', t('dash.promiseCaption'), [t('dash.outcome'), t('dash.promises')],
      parts.map((k) => [k, [t(`dash.promise.${k}`), num(p[k])]]),
      [t('dash.promise.due'), num(p.due)]));
}

function noticeSection(res) {
  if (!res.ok) return unavailable(res, 'dash.notices');
  const tot = res.data.totals;
  const bars = NOTICE_STEPS.map((k) => ({ key: k, label: t(`dash.notice.${k}`), value: tot[k], display: num(tot[k]),
    details: [[t('dash.notices'), num(tot[k])]] }));
  return section(t('dash.notices'),
    h('div', { class: 'kpis' }, h('div', { class: 'kpi', id: 'delivery-rate' }, h('div', { class: 'kpi-name' }, t('dash.deliveryRate')),
      h('div', { class: 'kpi-val' }, res.data.delivery_rate === null ? '—' : pct(res.data.delivery_rate)))),
    barChart(bars, { title: t('dash.notices'), desc: t('dash.chartDesc') }),
    numTable('notice-table', t('dash.noticeCaption'),
      [t('dash.template'), ...NOTICE_STEPS.map((k) => t(`dash.notice.${k}`))],
      res.data.by_template.map((r) => [`${r.channel}/${r.template}`,
        [`${label('channel', r.channel)} · ${r.template}`, ...NOTICE_STEPS.map((k) => num(r[k]))]]),
      [t('dash.total'), ...NOTICE_STEPS.map((k) => num(tot[k]))]));
}

function kpi(name, value) {
  return h('div', { class: 'kpi' }, h('div', { class: 'kpi-name' }, name), h('div', { class: 'kpi-val' }, value));
}
