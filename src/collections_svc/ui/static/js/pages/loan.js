import { dl, h, link, table } from '../dom.js';
import { date, label, money, num, pct, t } from '../i18n.js';
import { cents, fromCents, isPositive, sum } from '../money.js';
import { errorBox, loadAll, message, pageTitle, section } from '../ui.js';

/** The as-of date of the loan's DPD figure: oldest unpaid due date + DPD days (both from the API). */
function asOfDate(loan) {
  if (!loan.oldest_unpaid_due_on || !loan.dpd) return null;
  const d = new Date(loan.oldest_unpaid_due_on + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + Number(loan.dpd));
  return d.toISOString().slice(0, 10);
}

/** Schedule rows with paid, unpaid and overdue amounts (overdue = unpaid and due before the as-of date). */
export function scheduleTable(loan) {
  const asOf = asOfDate(loan);
  const cur = loan.currency || 'CNY';
  const rows = (loan.installments || []).map((i) => {
    const due = sum(i.principal_due, i.interest_due, i.penalty_due);
    const paid = sum(i.principal_paid, i.interest_paid, i.penalty_paid);
    const unpaid = i.unpaid ?? fromCents(cents(due) - cents(paid));
    const overdue = asOf && i.due_on < asOf && isPositive(unpaid) ? unpaid : '0.00';
    return { ...i, due, paid, unpaid, overdue };
  });
  const total = (k) => sum(...rows.map((r) => r[k]));
  const foot = h('tr', {}, h('th', { scope: 'row', colspan: 2 }, t('schedule.total')),
    ...['principal_due', 'interest_due', 'penalty_due', 'paid', 'unpaid', 'overdue'].map((k) =>
      h('td', { class: 'num' }, money(total(k), cur))), h('td', {}));
  return table([
    { label: t('schedule.seq'), num: true, rowHeader: true, cell: (r) => num(r.seq) },
    { label: t('schedule.due'), nowrap: true, cell: (r) => date(r.due_on) },
    { label: t('schedule.principal'), num: true, cell: (r) => money(r.principal_due, cur) },
    { label: t('schedule.interest'), num: true, cell: (r) => money(r.interest_due, cur) },
    { label: t('schedule.penalty'), num: true, cell: (r) => money(r.penalty_due, cur) },
    { label: t('schedule.paid'), num: true, cell: (r) => money(r.paid, cur) },
    { label: t('schedule.unpaid'), num: true, cell: (r) => money(r.unpaid, cur) },
    { label: t('schedule.overdue'), num: true, cell: (r) => (isPositive(r.overdue)
      ? h('strong', { class: 'bad' }, money(r.overdue, cur)) : money('0', cur)) },
    { label: t('schedule.status'), cell: (r) => (r.settled_on
      ? h('span', { class: 'tag ok', title: date(r.settled_on) }, t('schedule.settled'))
      : isPositive(r.overdue) ? h('span', { class: 'tag warn' }, t('schedule.isOverdue'))
        : isPositive(r.paid) ? h('span', { class: 'tag' }, t('schedule.partly')) : h('span', { class: 'tag' }, t('schedule.open'))) },
  ], rows, { caption: t('schedule.caption'), foot,
    rowAttrs: (r) => ({ class: isPositive(r.overdue) ? 'overdue' : r.settled_on ? 'settled' : null, 'data-seq': r.seq }) });
}

export function loanFacts(loan) {
  const cur = loan.currency || 'CNY';
  return dl([
    [t('loan.contract'), loan.contract_no], [t('loan.externalId'), loan.external_id],
    [t('loan.product'), label('product', loan.product)], [t('loan.principal'), money(loan.principal, cur)],
    [t('loan.outstanding'), money(loan.outstanding_principal, cur)],
    [t('loan.rate'), pct(loan.annual_rate)], [t('loan.disbursed'), date(loan.disbursed_on)],
    [t('loan.maturity'), date(loan.maturity_on)], [t('loan.status'), label('loanStatus', loan.status)],
    [t('loan.dpd'), num(loan.dpd)], [t('loan.bucket'), loan.bucket],
    [t('loan.overdue'), money(loan.overdue_amount, cur)],
    [t('loan.oldestUnpaid'), loan.oldest_unpaid_due_on ? date(loan.oldest_unpaid_due_on) : null],
    [t('loan.restructured'), loan.restructured ? t('common.yes') : t('common.no')],
  ]);
}

export async function renderLoan(view, { params }) {
  const id = Number(params[0]);
  const [res, pays] = await loadAll([`/loans/${id}`, `/loans/${id}/payments`]);
  if (!res.ok) { view.append(pageTitle(t('loan.title')), errorBox(res.error)); return; }
  const loan = res.data;
  const cur = loan.currency || 'CNY';
  view.append(pageTitle(t('loan.titleOf', { no: loan.contract_no }),
    h('p', { class: 'crumbs' }, link(`/borrowers/${Number(loan.borrower_id)}`, t('loan.toBorrower')))),
  section(t('loan.facts'), loanFacts(loan)),
  section(t('schedule.title'), scheduleTable(loan)),
  section(t('payments.title'), !pays.ok ? errorBox(pays.error) : pays.data.length ? table([
    { label: t('payments.paidOn'), nowrap: true, cell: (p) => date(p.paid_on) },
    { label: t('payments.ref'), cell: (p) => h('code', {}, p.external_id) },
    { label: t('payments.amount'), num: true, cell: (p) => money(p.amount, cur) },
    { label: t('payments.unapplied'), num: true, cell: (p) => money(p.unapplied, cur) },
    { label: t('payments.recovery'), cell: (p) => (p.recovery ? t('common.yes') : t('common.no')) },
  ], pays.data, { caption: t('payments.caption') }) : message('info', t('payments.none'))));
}
