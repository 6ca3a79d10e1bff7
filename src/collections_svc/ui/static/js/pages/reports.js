// Reports (报表): aging by bucket and classification with a slice selector, the roll-rate matrix as a
// heat-map table, cure / promise-kept / recovery / right-party-contact rates and collector performance,
// each with CSV and XLSX downloads of exactly what the API computed.
import { field, h, select, table } from '../dom.js';
import { date, docLocale, label, money, moneyCompact, num, pct, t } from '../i18n.js';
import { errorBox, loadAll, message, pageTitle, section } from '../ui.js';

const SLICES = ['', 'product', 'region', 'industry', 'team'];
const CATEGORIES = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss', 'unclassified'];

function monthOf(d) { return d.toISOString().slice(0, 7); }

function defaultMonths() {
  const now = new Date();
  const prev = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return { from: monthOf(prev), to: monthOf(now) };
}

/** Download links: the same endpoint and parameters with format=csv / format=xlsx (cookie session). */
function downloads(path, params, name) {
  const link = (fmt) => {
    const qs = new URLSearchParams(Object.entries({ ...params, format: fmt }).filter(([, v]) => v !== '' && v != null));
    return h('a', { href: `/api/v1${path}?${qs}`, download: '', 'data-format': fmt, 'data-report': name }, t(`rep.${fmt}`));
  };
  return h('div', { class: 'downloads' }, h('span', { class: 'muted' }, t('rep.download')), link('csv'), link('xlsx'));
}

function heatClass(rate) {
  if (rate === null || rate === undefined) return 'h0';
  return `h${Math.min(5, Math.ceil(rate * 5))}`;
}

export async function renderReports(view, { query, navigate }) {
  const months = defaultMonths();
  const q = {
    as_of: query.as_of || '', by: SLICES.includes(query.by) ? query.by : '',
    from: query.from || '', to: query.to || '',
    rr_from: query.rr_from || months.from, rr_to: query.rr_to || months.to,
  };
  const period = { from: q.from || null, to: q.to || null };
  const [aging, roll, rates, coll] = await loadAll([
    { path: '/reports/aging', query: { as_of: q.as_of, by: q.by } },
    { path: '/reports/roll-rates', query: { from: q.rr_from, to: q.rr_to } },
    { path: '/reports/rates', query: period },
    { path: '/reports/collectors', query: period },
  ]);
  view.append(pageTitle(t('rep.title')), controls(q, navigate, rates.ok ? rates.data : null));
  view.append(agingSection(aging, q), rollSection(roll, q), ratesSection(rates, period), collectorSection(coll, period),
    documentsSection(q, rates.ok ? rates.data : null));
}

/** The PDF/XLSX documents (monthly portfolio report, risk-warning report) in the page's language. */
function documentsSection(q, ratesData) {
  const locale = docLocale();
  const month = q.rr_from;
  const portfolio = (ext) => h('a', { href: `/api/v1/reports/documents/portfolio/${encodeURIComponent(month)}.${ext}?locale=${locale}`,
    download: '', 'data-document': `portfolio-${ext}` }, t(`rep.doc.portfolio.${ext}`, { month }));
  const period = { from: q.from || (ratesData ? ratesData.from : ''), to: q.to || (ratesData ? ratesData.to : ''), locale };
  const qs = new URLSearchParams(Object.entries(period).filter(([, v]) => v));
  const warnings = h('a', { href: `/api/v1/reports/documents/warnings.pdf?${qs}`, download: '', 'data-document': 'warnings' },
    t('rep.doc.warnings'));
  return section(t('rep.documents'), h('ul', { class: 'doc-links' },
    h('li', {}, portfolio('pdf')), h('li', {}, portfolio('xlsx')), h('li', {}, warnings)),
  h('p', { class: 'muted' }, t('rep.doc.hint')));
}

function controls(q, navigate, ratesData) {
  const asOf = h('input', { type: 'date', name: 'as_of', value: q.as_of });
  const by = select('by', SLICES.map((v) => [v, v ? t(`rep.by.${v}`) : t('rep.by.none')]), q.by);
  const from = h('input', { type: 'date', name: 'from', value: q.from || (ratesData ? ratesData.from : '') });
  const to = h('input', { type: 'date', name: 'to', value: q.to || (ratesData ? ratesData.to : '') });
  const rrFrom = h('input', { type: 'month', name: 'rr_from', value: q.rr_from, placeholder: 'YYYY-MM' });
  const rrTo = h('input', { type: 'month', name: 'rr_to', value: q.rr_to, placeholder: 'YYYY-MM' });
  const form = h('form', { class: 'filters', id: 'report-form' },
    field(t('rep.asOf'), asOf, t('rep.asOfHint')), field(t('rep.slice'), by),
    field(t('rep.rollFrom'), rrFrom), field(t('rep.rollTo'), rrTo),
    field(t('dash.from'), from), field(t('dash.to'), to),
    h('div', { class: 'actions field' }, h('button', { type: 'submit', class: 'primary' }, t('common.apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate('/reports', { as_of: asOf.value, by: by.value, rr_from: rrFrom.value, rr_to: rrTo.value,
      from: from.value, to: to.value });
  });
  return form;
}

function agingSection(res, q) {
  if (!res.ok) return section(t('rep.aging'), errorBox(res.error, { what: t('dash.reportsApi') }));
  const d = res.data;
  const params = { as_of: q.as_of, by: q.by };
  const head = [downloads('/reports/aging', params, 'aging'),
    h('p', { class: 'muted small' }, d.snapshot_date ? t('dash.asOf', { d: date(d.snapshot_date) }) : t('dash.noSnapshot'))];
  const tot = d.total;
  const kpis = h('div', { class: 'kpis' },
    // Money compact on the cards (five fit a laptop row); the exact amount is on hover and in the tables below.
    [[t('dash.loans'), num(tot.loans)], [t('dash.outstanding'), moneyCompact(tot.outstanding), money(tot.outstanding)],
      [t('dash.overdue'), moneyCompact(tot.overdue), money(tot.overdue)],
      ['PAR30', pct(tot.par30)], ['PAR90', pct(tot.par90)]].map(([k, v, exact]) => h('div', { class: 'kpi' },
      h('div', { class: 'kpi-name' }, k), h('div', { class: 'kpi-val', title: exact ?? null }, v))));
  const lineCols = (nameKey, nameCell) => [
    { label: t(nameKey), rowHeader: true, cell: nameCell },
    { label: t('dash.loans'), num: true, cell: (r) => num(r.loans) },
    { label: t('dash.outstanding'), num: true, cell: (r) => money(r.outstanding) },
    { label: t('dash.overdue'), num: true, cell: (r) => money(r.overdue) },
    { label: t('rep.share'), num: true, cell: (r) => pct(r.share) },
  ];
  // One above the other: side by side, five money-wide columns do not fit a laptop screen.
  const parts = [...head, kpis, h('div', { class: 'stack' },
    table(lineCols('dash.bucket', (r) => `${r.bucket} · ${r.label === 'current' ? t('dash.current') : t('dash.daysRange', { r: r.label })}`),
      tot.buckets, { caption: t('rep.byBucket'), rowAttrs: (r) => ({ 'data-bucket': r.bucket }) }),
    table(lineCols('rep.category', (r) => label('category', r.category)),
      tot.categories.filter((c) => CATEGORIES.includes(c.category)),
      { caption: t('rep.byCategory'), rowAttrs: (r) => ({ 'data-category': r.category }) }))];
  if (q.by && d.groups.length) {
    const codes = tot.buckets.map((b) => b.bucket);
    parts.push(h('div', { class: 'table-wrap' }, h('table', { id: 'aging-slices' },
      h('caption', {}, t('rep.sliceCaption', { by: t(`rep.by.${q.by}`) })),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t(`rep.by.${q.by}`)),
        h('th', { scope: 'col', class: 'num' }, t('dash.loans')),
        codes.map((c) => h('th', { scope: 'col', class: 'num' }, c)),
        h('th', { scope: 'col', class: 'num' }, 'PAR30'), h('th', { scope: 'col', class: 'num' }, 'PAR90'))),
      h('tbody', {}, d.groups.map((g) => h('tr', { 'data-key': String(g.key ?? '') },
        h('th', { scope: 'row' }, g.key ?? '—'), h('td', { class: 'num' }, num(g.loans)),
        g.buckets.map((b) => h('td', { class: 'num', title: `${b.bucket}: ${num(b.loans)} · ${money(b.outstanding)}` },
          money(b.outstanding))),
        h('td', { class: 'num' }, pct(g.par30)), h('td', { class: 'num' }, pct(g.par90))))))));
  }
  return section(t('rep.aging'), ...parts);
}

function rollSection(res, q) {
  if (!res.ok) return section(t('rep.roll'), errorBox(res.error, { what: t('dash.reportsApi') }));
  const d = res.data;
  const colName = (c) => (c === 'paid_off' ? t('rep.paidOff') : c === 'written_off' ? t('rep.writtenOff') : c);
  const note = !d.from.snapshot_date || !d.to.snapshot_date ? message('info', t('rep.rollNoSnapshot')) : null;
  return section(t('rep.roll'), downloads('/reports/roll-rates', { from: q.rr_from, to: q.rr_to }, 'roll-rates'),
    h('p', { class: 'muted small' }, t('rep.rollHint', { from: d.from.month, to: d.to.month })), note,
    h('div', { class: 'table-wrap' }, h('table', { class: 'matrix heat', id: 'roll-matrix' },
      h('caption', {}, t('rep.rollCaption')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('rep.fromTo')), h('th', { scope: 'col' }, t('dash.outstanding')),
        d.columns.map((c) => h('th', { scope: 'col' }, colName(c))),
        h('th', { scope: 'col' }, t('rep.rollForward')))),
      h('tbody', {}, d.rows.map((r) => h('tr', { 'data-bucket': r.bucket },
        h('th', { scope: 'row' }, `${r.bucket} · ${r.label === 'current' ? t('dash.current') : r.label}`),
        h('td', {}, money(r.balance)),
        d.columns.map((c) => h('td', { class: heatClass(r.rates_balance[c]), 'data-col': c,
          title: `${r.bucket} → ${colName(c)}: ${num(r.counts[c])} · ${money(r.balances[c])}` },
        r.rates_balance[c] === null ? '—' : pct(r.rates_balance[c]))),
        h('td', {}, r.roll_forward_rate === null ? '—' : pct(r.roll_forward_rate))))))));
}

function ratesSection(res, period) {
  if (!res.ok) return section(t('rep.rates'), errorBox(res.error, { what: t('dash.reportsApi') }));
  const d = res.data;
  const rows = [
    ['cure', t('rep.cure'), d.cure.rate_balance, t('rep.cureBasis', { n: num(d.cure.cured_loans), of: num(d.cure.delinquent_loans) })],
    ['promise_kept', t('dash.keptRate'), d.promise_kept.rate, t('rep.promiseBasis', { n: num(d.promise_kept.kept), of: num(d.promise_kept.due) })],
    ['recovery', t('rep.recovery'), d.recovery.rate, t('rep.recoveryBasis', { n: money(d.recovery.recovered_to_date), of: money(d.recovery.charged_off) })],
    ['right_party_contact', t('rep.rpc'), d.right_party_contact.rate,
      t('rep.rpcBasis', { n: num(d.right_party_contact.right_party_contacts), of: num(d.right_party_contact.attempts) })],
  ];
  return section(t('rep.rates'), downloads('/reports/rates', period, 'rates'),
    h('p', { class: 'muted small' }, t('dash.promiseHint', { from: date(d.from), to: date(d.to) })),
    table([
      { label: t('rep.measure'), rowHeader: true, cell: (r) => r[1] },
      { label: t('rep.rate'), num: true, cell: (r) => (r[2] === null ? '—' : pct(r[2])) },
      { label: t('rep.basis'), cell: (r) => r[3] },
    ], rows, { caption: t('rep.rates'), srCaption: true, rowAttrs: (r) => ({ 'data-rate': r[0] }) }));
}

function collectorSection(res, period) {
  if (!res.ok) return section(t('rep.collectors'), errorBox(res.error, { what: t('dash.reportsApi') }));
  const d = res.data;
  const rate = (v) => (v === null || v === undefined ? '—' : pct(v));
  const cols = (first) => [first,
    { label: t('rep.casesWorked'), num: true, cell: (r) => num(r.cases_worked) },
    { label: t('rep.contacts'), num: true, cell: (r) => num(r.contacts) },
    { label: t('rep.rpc'), num: true, cell: (r) => rate(r.rpc_rate) },
    { label: t('dash.keptRate'), num: true, cell: (r) => rate(r.promise_kept_rate) },
    { label: t('rep.cure'), num: true, cell: (r) => rate(r.cure_rate) },
    { label: t('rep.rollForward'), num: true, cell: (r) => rate(r.roll_forward_rate) },
    { label: t('rep.collected'), num: true, cell: (r) => money(r.amount_collected) },
    { label: t('rep.score'), num: true, cell: (r) => (r.score === null ? '—' : num(Math.round(r.score * 1000) / 1000)) },
  ];
  return section(t('rep.collectors'), downloads('/reports/collectors', period, 'collectors'),
    h('p', { class: 'muted small' }, t('rep.scoreHint')),
    d.collectors.length ? table(cols({ label: t('rep.collector'), rowHeader: true, cell: (r) => r.name || r.username }),
      d.collectors, { caption: t('rep.collectorCaption'), rowAttrs: (r) => ({ 'data-user': r.username }) })
      : message('info', t('rep.noActivity')),
    d.teams.length ? table(cols({ label: t('admin.team'), rowHeader: true, cell: (r) => r.team ?? '—' }),
      d.teams, { caption: t('rep.teamCaption') }) : null);
}

