import { api } from '../api.js';
import { barChart } from '../chart.js';
import { h } from '../dom.js';
import { money, moneyCompact, num, t } from '../i18n.js';
import { sum } from '../money.js';
import { pageTitle, section } from '../ui.js';

const METRICS = ['outstanding_principal', 'overdue_amount', 'loans'];

function rangeText(line) {
  return line.label === 'current' ? t('dash.current') : t('dash.daysRange', { r: line.label });
}

export async function renderDashboard(view, { query, navigate }) {
  const lines = await api('/book/buckets');
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
}

function kpi(name, value) {
  return h('div', { class: 'kpi' }, h('div', { class: 'kpi-name' }, name), h('div', { class: 'kpi-val' }, value));
}
