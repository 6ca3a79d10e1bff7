import { api } from '../api.js';
import { field, formData, h, link, select, table } from '../dom.js';
import { date, docLocale, label, money, num, t } from '../i18n.js';
import { dl } from '../dom.js';
import { loadAll, errorBox, message, onSubmit, pageTitle, section } from '../ui.js';
import { borrowerMonitoring } from './monitoring.js';

const PAGE_SIZE = 25;
const CONTACT_ROLES = ['legal_representative', 'finance', 'guarantor', 'other'];

export async function renderBorrowers(view, { query, navigate }) {
  const q = query.q || '';
  const page = Math.max(1, Number(query.page) || 1);
  const input = h('input', { type: 'search', name: 'q', value: q, maxlength: 100, placeholder: t('borrowers.searchHint') });
  const form = h('form', { class: 'search', role: 'search' }, field(t('borrowers.search'), input),
    h('button', { type: 'submit', class: 'primary' }, t('common.search')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); navigate('/borrowers', { q: input.value.trim() }); });
  const data = await api('/borrowers', { query: { q, page, size: PAGE_SIZE } });
  view.append(pageTitle(t('borrowers.title')), form);
  if (!data.items.length) {
    view.append(message('info', q ? t('borrowers.none', { q }) : t('borrowers.empty')));
    return;
  }
  view.append(h('p', { class: 'muted', 'data-testid': 'count' }, t('borrowers.count', { n: num(data.total) })),
    table([
      { label: t('borrower.name'), cell: (b) => link(`/borrowers/${Number(b.id)}`, b.name) },
      { label: t('borrower.uscc'), cell: (b) => h('code', {}, b.uscc) },
      { label: t('borrower.industry'), cell: (b) => b.industry ?? '—' },
      { label: t('borrower.region'), cell: (b) => b.region ?? '—' },
      { label: t('borrower.segment'), cell: (b) => label('segment', b.segment) },
    ], data.items, { caption: t('borrowers.caption'), srCaption: true }),
    pager(data, (p) => navigate('/borrowers', { q, page: p })));
}

export function pager(data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  return h('nav', { class: 'pager', 'aria-label': t('common.pages') },
    h('button', { type: 'button', disabled: data.page <= 1, onclick: () => go(data.page - 1) }, t('common.prev')),
    h('span', {}, t('common.pageOf', { page: num(data.page), pages: num(pages) })),
    h('button', { type: 'button', disabled: data.page >= pages, onclick: () => go(data.page + 1) }, t('common.next')));
}

export function contactsTable(contacts) {
  return table([
    { label: t('contact.role'), cell: (c) => label('contactRole', c.role) },
    { label: t('contact.name'), cell: (c) => h('span', { class: 'contact-name' }, c.name) },
    { label: t('contact.phone'), cell: (c) => (c.phone ? h('span', { class: c.phone_invalid ? 'bad' : null }, c.phone) : '—') },
    { label: t('contact.email'), cell: (c) => c.email ?? '—' },
    { label: t('contact.address'), cell: (c) => c.address ?? '—' },
    { label: t('contact.flags'), cell: (c) => [
      c.opted_out ? h('span', { class: 'tag warn' }, t('contact.optedOut')) : null,
      c.sms_consent === false ? h('span', { class: 'tag' }, t('contact.noSms')) : null,
      c.phone_invalid ? h('span', { class: 'tag warn' }, t('contact.phoneInvalid')) : null] },
  ], contacts, { caption: t('borrower.contacts'), srCaption: true });
}

export function loansTable(loans) {
  return table([
    { label: t('loan.contract'), cell: (l) => link(`/loans/${Number(l.id)}`, l.contract_no) },
    { label: t('loan.product'), cell: (l) => label('product', l.product) },
    { label: t('loan.principal'), num: true, cell: (l) => money(l.principal, l.currency) },
    { label: t('loan.outstanding'), num: true, cell: (l) => money(l.outstanding_principal, l.currency) },
    { label: t('loan.dpd'), num: true, cell: (l) => num(l.dpd) },
    { label: t('loan.bucket'), cell: (l) => l.bucket ?? '—' },
    { label: t('loan.overdue'), num: true, cell: (l) => money(l.overdue_amount, l.currency) },
    { label: t('loan.status'), cell: (l) => label('loanStatus', l.status) },
    { label: t('loan.maturity'), nowrap: true, cell: (l) => date(l.maturity_on) },
  ], loans, { caption: t('borrower.loans'), srCaption: true, rowAttrs: (l) => ({ class: l.dpd > 0 ? 'overdue' : null }) });
}

export async function renderBorrower(view, { params, user }) {
  const id = Number(params[0]);
  const [res, cases] = await loadAll([`/borrowers/${id}`, `/borrowers/${id}/cases`]);
  if (!res.ok) { view.append(pageTitle(t('borrower.title')), errorBox(res.error)); return; }
  const b = res.data;
  // watchlist status and the review report form (issue 8), read beside the rest of the page
  const monitoring = borrowerMonitoring(b, user);
  view.append(pageTitle(b.name, h('p', { class: 'crumbs' }, link('/borrowers', t('nav.borrowers')))),
    section(t('borrower.facts'), dl([
      [t('borrower.externalId'), b.external_id], [t('borrower.uscc'), b.uscc],
      [t('borrower.industry'), b.industry], [t('borrower.region'), b.region],
      [t('borrower.segment'), label('segment', b.segment)], [t('borrower.group'), b.group_id],
      [t('borrower.timezone'), b.timezone], [t('borrower.language'), label('lang', b.language)],
    ])),
    section(t('borrower.loans'), b.loans.length ? loansTable(b.loans) : message('info', t('borrower.noLoans'))));
  if (cases.ok) {
    const list = Array.isArray(cases.data.cases) ? cases.data.cases : [];
    const contract = new Map(b.loans.map((l) => [l.id, l.contract_no]));
    view.append(section(t('borrower.cases'), list.length ? table([
      { label: t('case.id'), cell: (c) => link(`/cases/${Number(c.id)}`, `#${c.id}`) },
      { label: t('case.contract'), cell: (c) => contract.get(c.loan_id) ?? '—' },
      { label: t('case.stage'), cell: (c) => label('stage', c.stage) },
      { label: t('case.status'), cell: (c) => (c.is_open === false ? t('case.closed') : t('case.open')) },
      { label: t('case.opened'), nowrap: true, cell: (c) => date(c.opened_on) },
      { label: t('case.nextAction'), nowrap: true, cell: (c) => date(c.next_action_on) },
    ], list, { caption: t('borrower.cases'), srCaption: true }) : message('info', t('borrower.noCases'))));
  }
  const mon = await monitoring;
  if (mon) view.append(mon);
  view.append(section(t('borrower.contacts'), contactsTable(b.contacts), addContactForm(b, user)));
  // The post-loan report is management information: the API refuses collectors, so no link for them.
  if (['admin', 'supervisor', 'risk_officer', 'auditor'].includes(user.role)) {
    view.append(section(t('borrower.documents'), h('a', {
      href: `/api/v1/reports/documents/borrowers/${id}/post-loan.pdf?locale=${docLocale()}`, download: '',
      'data-document': 'post-loan' }, t('borrower.postLoanReport'))));
  }
  if (['admin', 'supervisor'].includes(user.role)) view.append(editBorrowerForm(b));
}

function addContactForm(b, user) {
  if (!['admin', 'supervisor', 'collector'].includes(user.role)) return null;
  const form = h('form', { class: 'grid-form', id: 'add-contact' },
    h('h3', {}, t('contact.add')),
    field(t('contact.role'), select('role', CONTACT_ROLES.map((r) => [r, label('contactRole', r)]), 'finance')),
    field(t('contact.name'), h('input', { name: 'name', required: true, maxlength: 100 })),
    field(t('contact.phone'), h('input', { name: 'phone', type: 'tel', maxlength: 32, placeholder: '+8613800000000' })),
    field(t('contact.email'), h('input', { name: 'email', type: 'email', maxlength: 200 })),
    field(t('contact.address'), h('input', { name: 'address', maxlength: 300 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('contact.save'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    await api(`/borrowers/${Number(b.id)}/contacts`, { method: 'POST', body: {
      borrower_external_id: b.external_id, role: v.role, name: v.name,
      phone: v.phone || null, email: v.email || null, address: v.address || null } });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

function editBorrowerForm(b) {
  const form = h('form', { class: 'grid-form', id: 'edit-borrower' },
    field(t('borrower.name'), h('input', { name: 'name', required: true, maxlength: 200, value: b.name })),
    field(t('borrower.industry'), h('input', { name: 'industry', maxlength: 64, value: b.industry ?? '' })),
    field(t('borrower.region'), h('input', { name: 'region', maxlength: 64, value: b.region ?? '' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  onSubmit(form, async () => {
    const v = formData(form);
    await api(`/borrowers/${Number(b.id)}`, { method: 'PATCH', body: {
      version: b.version, name: v.name, industry: v.industry || null, region: v.region || null } });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return section(t('borrower.edit'), form);
}
