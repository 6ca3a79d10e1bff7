import { api } from '../api.js';
import { field, formData, h, select, table } from '../dom.js';
import { date, label, money, num, t } from '../i18n.js';
import { errorBox, message } from '../ui.js';

const REASONS = ['overdue', 'expected_cash_shortfall', 'already_npl', 'no_market_funding', 'delisting_risk', 'other'];
const METHODS = ['equal_installment', 'equal_principal', 'bullet'];
const FREQ = [1, 2, 3, 6, 12];

function scheduleTable(rows, caption) {
  return table([
    { label: t('schedule.seq'), num: true, cell: (r) => num(r.seq) },
    { label: t('schedule.due'), nowrap: true, cell: (r) => date(r.due_on) },
    { label: t('schedule.principal'), num: true, cell: (r) => money(r.principal) },
    { label: t('schedule.interest'), num: true, cell: (r) => money(r.interest) },
    { label: t('rst.total'), num: true, cell: (r) => money(r.total) },
  ], rows || [], { caption });
}

function plan(p) {
  const tot = p.totals || {};
  return h('div', { class: 'plan', id: 'restructuring-plan' },
    (p.warnings || []).map((w) => message('info', typeof w === 'string' ? w : (w.message || JSON.stringify(w)))),
    h('p', {}, t('rst.summary', {
      principal: money(p.new_principal), maturity: date(p.new_maturity_on), old: date(p.old_maturity_on),
      npv: money(p.npv && p.npv.change) })),
    h('div', { class: 'two-col' },
      h('div', {}, h('h3', {}, t('rst.old')), scheduleTable(p.old_schedule, t('rst.oldCaption', { total: money(tot.old && tot.old.total) }))),
      h('div', {}, h('h3', {}, t('rst.new')), scheduleTable(p.new_schedule, t('rst.newCaption', { total: money(tot.new && tot.new.total) })))));
}

/** Restructuring proposal on a case: terms, a preview with the new schedule beside the old, then propose. */
export function restructuringForm(c, onDone) {
  // Business dates in the bank's time zone (Asia/Shanghai), as the server counts them.
  const bankDate = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(ms));
  const today = bankDate(Date.now());
  const inOneMonth = bankDate(Date.now() + 31 * 86400000);
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'grid-form', id: 'restructuring-form' },
    field(t('rst.reason'), select('reason_code', REASONS.map((r) => [r, label('rstReason', r)]), 'overdue')),
    field(t('rst.effective'), h('input', { name: 'effective_on', type: 'date', required: true, value: today })),
    field(t('rst.firstDue'), h('input', { name: 'first_due_on', type: 'date', required: true, value: inOneMonth })),
    field(t('rst.count'), h('input', { name: 'count', type: 'number', min: 1, max: 600, value: 24, required: true })),
    field(t('rst.frequency'), select('frequency_months', FREQ.map((f) => [f, t('rst.everyMonths', { n: f })]), 1)),
    field(t('rst.method'), select('method', METHODS.map((m) => [m, label('rstMethod', m)]), 'equal_installment')),
    field(t('rst.grace'), h('input', { name: 'grace_periods', type: 'number', min: 0, max: 120, value: 0 })),
    field(t('rst.rate'), h('input', { name: 'annual_rate', inputmode: 'decimal', placeholder: '0.0385' })),
    field(t('rst.waiveInterest'), h('input', { name: 'waive_interest', inputmode: 'decimal', value: '0' })),
    field(t('rst.reasonText'), h('textarea', { name: 'reason_text', rows: 2, maxlength: 2000 })),
    field(t('rst.comment'), h('textarea', { name: 'comment', rows: 2, maxlength: 2000 })),
    h('div', { class: 'check' }, h('input', { type: 'checkbox', name: 'capitalise_arrears', id: 'rst-cap' }),
      h('label', { for: 'rst-cap' }, t('rst.capitalise'))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-do': 'preview' }, t('rst.preview')),
      h('button', { type: 'button', class: 'primary', 'data-do': 'propose', onclick: () => send('propose') }, t('rst.propose'))));
  const terms = () => {
    const v = formData(form);
    const tm = { reason_code: v.reason_code, effective_on: v.effective_on, first_due_on: v.first_due_on,
      count: Number(v.count), frequency_months: Number(v.frequency_months), method: v.method,
      grace_periods: Number(v.grace_periods || 0), capitalise_arrears: form.elements.capitalise_arrears.checked,
      waive_interest: v.waive_interest || '0' };
    if (v.annual_rate) tm.annual_rate = v.annual_rate;
    if (v.reason_text) tm.reason_text = v.reason_text;
    return [tm, v.comment || null];
  };
  async function send(what) {
    if (!form.reportValidity()) return;
    const [tm, comment] = terms();
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      if (what === 'preview') {
        out.replaceChildren(plan(await api('/restructuring/preview', { method: 'POST', body: { loan_id: c.loan_id, terms: tm } })));
      } else {
        const p = await api(`/cases/${Number(c.id)}/restructuring`, { method: 'POST', body: { terms: tm, comment, version: c.version } });
        out.replaceChildren(message('ok', t('rst.proposed', { id: p && p.id })));
        onDone();
      }
    } catch (err) {
      out.replaceChildren(errorBox(err, { what: t('rst.api') }));
    } finally {
      form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send('preview'); });
  return [form, out];
}
