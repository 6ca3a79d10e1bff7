import { api, items } from '../api.js';
import { dl, field, formData, h, link, select, table } from '../dom.js';
import { date, datetime, label, money, num, t } from '../i18n.js';
import { errorBox, loadAll, message, onSubmit, pageTitle, section } from '../ui.js';
import { contactsTable } from './borrowers.js';
import { loanFacts, scheduleTable } from './loan.js';
import { STAGES } from './queue.js';
import { restructuringForm } from './restructuring.js';

const CHANNELS = ['phone', 'sms', 'email', 'letter', 'visit'];
const OUTCOMES = ['reached', 'promised', 'no_answer', 'left_message', 'refused', 'disputed', 'paid_claimed',
  'wrong_number'];
const HOLD_KINDS = ['dispute', 'bankruptcy_stay', 'supervisor_hold'];
const OPERATING = ['normal', 'reduced', 'suspended', 'ceased', 'unknown'];
const COLLATERAL = ['intact', 'impaired', 'missing', 'not_applicable', 'unknown'];
const MULTI_TARGET = ['escalate', 'de_escalate'];

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

export async function renderCase(view, { params }) {
  const id = Number(params[0]);
  let c;
  try {
    c = await api(`/cases/${id}`);
  } catch (err) {
    view.append(pageTitle(t('case.title', { id })), errorBox(err, { what: t('queue.casesApi') }));
    return;
  }
  const [loanRes, borrowerRes, timelineRes, visitsRes, promisesRes] = await loadAll([
    `/loans/${Number(c.loan_id)}`, `/borrowers/${Number(c.borrower_id)}`, `/cases/${id}/timeline`,
    `/cases/${id}/visits`, `/cases/${id}/promises`]);
  const loan = loanRes.ok ? loanRes.data : null;
  const borrower = borrowerRes.ok ? borrowerRes.data : null;
  const contacts = borrower ? borrower.contacts : [];
  const name = c.borrower_name || (borrower && borrower.name) || `#${c.borrower_id}`;
  const contactName = new Map(contacts.map((x) => [x.id, x.name]));

  view.append(pageTitle(t('case.titleOf', { id, name }),
    h('p', { class: 'crumbs' }, link('/queue', t('nav.queue')), ' / ',
      link(`/borrowers/${Number(c.borrower_id)}`, name))));
  const has = (k) => c[k] !== undefined;
  view.append(h('div', { class: 'case-top' },
    section(t('case.facts'), dl([
      [t('case.stage'), h('span', { class: 'tag', 'data-testid': 'stage' }, label('stage', c.stage))],
      [t('case.status'), has('is_open') ? (c.is_open ? t('case.open') : t('case.closed')) : undefined],
      [t('loan.contract'), c.contract_no ? link(`/loans/${Number(c.loan_id)}`, c.contract_no) : undefined],
      [t('case.dpd'), has('dpd') ? num(c.dpd) : undefined],
      [t('loan.bucket'), has('bucket') ? c.bucket : undefined],
      [t('case.overdue'), has('overdue_amount') ? money(c.overdue_amount) : undefined],
      [t('loan.outstanding'), has('outstanding_principal') ? money(c.outstanding_principal) : undefined],
      [t('case.opened'), has('opened_on') ? date(c.opened_on) : undefined],
      [t('case.stageSince'), has('stage_entered_on') ? date(c.stage_entered_on) : undefined],
      [t('case.nextAction'), has('next_action_on') ? date(c.next_action_on) : undefined],
      [t('case.team'), has('team') ? c.team : undefined],
      [t('case.assignee'), c.assignee_name ?? (has('assignee_id') ? c.assignee_id : undefined)],
      [t('case.hold'), has('on_hold') ? (c.on_hold ? h('span', { class: 'tag warn' }, t('queue.onHold')) : t('common.no')) : undefined],
      [t('case.brokenPromises'), has('broken_promises') ? num(c.broken_promises) : undefined],
    ])),
    actionsSection(c)));

  view.append(h('div', { class: 'two-col' },
    section(t('call.title'), callForm(c, contacts)),
    section(t('visit.title'), visitsRes.ok ? visitsBlock(c, items(visitsRes.data)) : errorBox(visitsRes.error))));
  view.append(section(t('case.timeline'), timelineRes.ok ? timeline(items(timelineRes.data), contactName)
    : errorBox(timelineRes.error, { what: t('case.timelineApi') })));
  if (promisesRes.ok) view.append(section(t('promise.title'), promisesTable(items(promisesRes.data))));
  view.append(section(t('hold.title'), holdsBlock(c)));
  if (c.is_open !== false) view.append(section(t('rst.title'), restructuringForm(c, () => setTimeout(reload, 800))));
  view.append(section(t('case.loan'), loan ? [loanFacts(loan), link(`/loans/${Number(loan.id)}`, t('case.openLoan'))]
    : errorBox(loanRes.error)));
  view.append(section(t('schedule.title'), loan ? scheduleTable(loan) : message('info', t('case.noSchedule'))));
  view.append(section(t('case.contacts'), borrower ? contactsTable(contacts) : errorBox(borrowerRes.error)));
}

function actionsSection(c) {
  const triggers = Array.isArray(c.allowed_triggers) ? c.allowed_triggers : [];
  const panel = h('div', { class: 'action-panel' });
  const buttons = triggers.map((trig) => h('button', { type: 'button', class: 'action', 'data-trigger': trig,
    onclick: () => { panel.replaceChildren(transitionForm(c, trig)); panel.querySelector('textarea')?.focus(); } },
  label('trigger', trig)));
  return section(t('case.actions'),
    triggers.length ? h('div', { class: 'action-buttons', 'data-testid': 'actions' }, buttons)
      : message('info', t('case.noActions')),
    h('p', { class: 'muted small' }, t('case.actionsHint')), panel);
}

function transitionForm(c, trig) {
  const open = STAGES.slice(0, 6);
  const form = h('form', { class: 'grid-form', id: 'transition-form', 'data-trigger': trig },
    h('h3', {}, label('trigger', trig)),
    // escalate and de_escalate can reach several stages: the user picks one, the server decides if it is allowed.
    MULTI_TARGET.includes(trig) ? field(t('transition.target'),
      select('target', [['', t('transition.choose')], ...open.filter((s) => s !== c.stage).map((s) => [s, label('stage', s)])], '',
        { required: true }))
      : null,
    field(t('transition.reason'), h('textarea', { name: 'reason', rows: 3, maxlength: 2000 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('transition.submit')),
      h('button', { type: 'button', onclick: () => form.remove() }, t('common.cancel'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    const body = { trigger: trig, version: c.version };
    if (v.reason) body.reason = v.reason;
    if (v.target) body.target = v.target;
    await api(`/cases/${Number(c.id)}/transitions`, { method: 'POST', body });
    reload();
  });
}

function contactOptions(contacts) {
  return contacts.map((ct) => [ct.id, `${ct.name} · ${label('contactRole', ct.role)}${ct.phone ? ' · ' + ct.phone : ''}`]);
}

function callForm(c, contacts) {
  const promiseFields = h('fieldset', { class: 'promise', disabled: true },
    h('legend', {}, t('call.promise')),
    field(t('promise.amount'), h('input', { name: 'amount', inputmode: 'decimal', required: true,
      pattern: '\\d+(\\.\\d{1,2})?' })),
    field(t('promise.dueOn'), h('input', { name: 'due_on', type: 'date', required: true })),
    field(t('promise.grace'), h('input', { name: 'grace_days', type: 'number', min: 0, max: 30, value: 3 })));
  const withPromise = h('input', { type: 'checkbox', name: 'with_promise', id: 'with-promise',
    onchange: (ev) => { promiseFields.disabled = !ev.target.checked; } });
  const form = h('form', { class: 'grid-form', id: 'call-form' },
    field(t('call.channel'), select('channel', CHANNELS.map((x) => [x, label('channel', x)]), 'phone')),
    field(t('call.contact'), select('contact_id', [['', '—'], ...contactOptions(contacts)], contacts[0]?.id)),
    field(t('call.outcome'), select('outcome', OUTCOMES.map((x) => [x, label('outcome', x)]), 'reached')),
    field(t('call.nextAction'), h('input', { name: 'next_action_on', type: 'date' })),
    field(t('call.note'), h('textarea', { name: 'note', rows: 3, maxlength: 4000 })),
    h('div', { class: 'check' }, withPromise, h('label', { for: 'with-promise' }, t('call.withPromise'))),
    promiseFields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('call.submit'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    const body = { channel: v.channel, outcome: v.outcome, contact_id: v.contact_id ? Number(v.contact_id) : null,
      note: v.note || null, next_action_on: v.next_action_on || null };
    if (withPromise.checked) body.promise = { amount: v.amount, due_on: v.due_on, grace_days: Number(v.grace_days || 0) };
    await api(`/cases/${Number(c.id)}/contacts`, { method: 'POST', body });
    reload();
  });
}

/** Visits: the list, a report form for each scheduled one, and a form to schedule a new one. */
function visitsBlock(c, visits) {
  const list = visits.length ? h('ul', { class: 'visits', id: 'visits' }, visits.map((v) => h('li', { 'data-visit': v.id },
    h('div', {}, h('strong', {}, date(v.scheduled_on)), ' · ', v.address, ' ',
      h('span', { class: 'tag' }, label('visitStatus', v.status))),
    v.findings ? h('div', { class: 'ev-text' }, v.findings) : null,
    v.operating_status ? h('div', { class: 'muted small' }, t('visit.operating'), ': ', label('operating', v.operating_status),
      ' · ', t('visit.collateral'), ': ', label('collateral', v.collateral_status)) : null,
    v.status === 'scheduled' ? reportForm(v) : null))) : message('info', t('visit.none'));
  const form = h('form', { class: 'grid-form', id: 'visit-form' },
    h('h3', {}, t('visit.schedule')),
    field(t('visit.scheduledOn'), h('input', { name: 'scheduled_on', type: 'date', required: true, value: today() })),
    field(t('visit.address'), h('input', { name: 'address', required: true, maxlength: 300 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('visit.submit'))));
  onSubmit(form, async () => {
    const v = formData(form);
    await api(`/cases/${Number(c.id)}/visits`, { method: 'POST', body: { scheduled_on: v.scheduled_on, address: v.address } });
    reload();
  });
  return [list, form];
}

function reportForm(visit) {
  const form = h('form', { class: 'grid-form report-form', 'data-visit': visit.id },
    h('h3', {}, t('visit.report')),
    field(t('visit.visitedOn'), h('input', { name: 'visited_on', type: 'date', value: today() })),
    field(t('visit.operating'), select('operating_status', OPERATING.map((x) => [x, label('operating', x)]), 'normal')),
    field(t('visit.collateral'), select('collateral_status', COLLATERAL.map((x) => [x, label('collateral', x)]), 'intact')),
    field(t('visit.findings'), h('textarea', { name: 'findings', rows: 4, required: true, maxlength: 8000 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('visit.submitReport'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    await api(`/visits/${Number(visit.id)}/report`, { method: 'POST', body: {
      findings: v.findings, operating_status: v.operating_status, collateral_status: v.collateral_status,
      visited_on: v.visited_on || null, version: visit.version } });
    reload();
  });
}

function promisesTable(promises) {
  if (!promises.length) return message('info', t('promise.none'));
  return table([
    { label: t('promise.amount'), num: true, cell: (p) => money(p.amount) },
    { label: t('promise.dueOn'), nowrap: true, cell: (p) => date(p.due_on) },
    { label: t('promise.grace'), num: true, cell: (p) => num(p.grace_days) },
    { label: t('promise.paid'), num: true, cell: (p) => money(p.paid_amount) },
    { label: t('promise.status'), cell: (p) => h('span', { class: `tag ${p.status === 'kept' ? 'ok' : p.status === 'broken' ? 'warn' : ''}` },
      label('promiseStatus', p.status)) },
    { label: t('promise.by'), cell: (p) => p.created_by ?? '—' },
  ], promises, { caption: t('promise.title'), srCaption: true });
}

function holdsBlock(c) {
  const holds = Array.isArray(c.holds) ? c.holds : [];
  const list = holds.length ? table([
    { label: t('hold.kind'), cell: (x) => label('holdKind', x.kind) },
    { label: t('hold.from'), nowrap: true, cell: (x) => date(x.starts_on) },
    { label: t('hold.until'), nowrap: true, cell: (x) => (x.ends_on ? date(x.ends_on) : t('hold.open')) },
    { label: t('hold.reason'), cell: (x) => x.reason ?? '—' },
    { label: t('hold.by'), cell: (x) => x.created_by ?? '—' },
    { label: '', cell: (x) => (x.released_by || (x.ends_on && x.ends_on <= today()) ? (x.released_by ?? '—')
      : h('button', { type: 'button', 'data-release': x.id, onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await api(`/cases/${Number(c.id)}/holds/${Number(x.id)}/release`, { method: 'POST', body: {} });
          reload();
        } catch (err) { ev.target.disabled = false; ev.target.after(errorBox(err)); }
      } }, t('hold.release'))) },
  ], holds, { caption: t('hold.title'), srCaption: true }) : message('info', t('hold.none'));
  const form = h('form', { class: 'grid-form', id: 'hold-form' },
    h('h3', {}, t('hold.add')),
    field(t('hold.kind'), select('kind', HOLD_KINDS.map((x) => [x, label('holdKind', x)]), 'dispute')),
    field(t('hold.from'), h('input', { name: 'starts_on', type: 'date' })),
    field(t('hold.until'), h('input', { name: 'ends_on', type: 'date' })),
    field(t('hold.reason'), h('textarea', { name: 'reason', rows: 2, maxlength: 2000 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('hold.submit'))));
  onSubmit(form, async () => {
    const v = formData(form);
    const body = { kind: v.kind, reason: v.reason || null, version: c.version };
    if (v.starts_on) body.starts_on = v.starts_on;
    if (v.ends_on) body.ends_on = v.ends_on;
    await api(`/cases/${Number(c.id)}/holds`, { method: 'POST', body });
    reload();
  });
  return [list, form];
}

/** One line per timeline entry, written from its kind and data in the page's language. */
function summary(e, d, contactName) {
  switch (e.kind) {
    case 'stage_change':
      return `${label('trigger', d.trigger)}: ${label('stage', d.from_stage)} → ${label('stage', d.to_stage)}`;
    case 'opened':
      return t('timeline.opened', { stage: label('stage', d.to_stage) });
    case 'contact': {
      const [ch, out] = String(e.title || '').split(': ');
      const who = d.contact_id && contactName.get(d.contact_id);
      return [label('channel', d.channel || ch), label('outcome', d.outcome || out), who,
        d.next_action_on ? t('timeline.next', { d: date(d.next_action_on) }) : null].filter(Boolean).join(' · ');
    }
    case 'promise':
      return t('timeline.promise', { amount: money(d.amount), d: date(d.due_on), status: label('promiseStatus', d.status) });
    case 'payment':
      return t('timeline.payment', { amount: money(d.amount) });
    case 'visit':
      return [label('visitStatus', d.status), d.operating_status ? label('operating', d.operating_status) : null]
        .filter(Boolean).join(' · ');
    case 'hold':
      return e.title || label('event', 'hold');
    default:
      if (d.from_stage || d.to_stage) return `${label('stage', d.from_stage)} → ${label('stage', d.to_stage)}`;
      return e.title || '';
  }
}

function timeline(entries, contactName) {
  if (!entries.length) return message('info', t('case.noEvents'));
  return h('ol', { class: 'timeline', id: 'timeline' }, entries.map((e) => {
    const d = { ...e, ...(e.data && typeof e.data === 'object' ? e.data : {}) };
    const when = e.at ? datetime(e.at) : date(e.on || e.business_date);
    const text = d.note || d.reason || d.findings || d.report;
    return h('li', { class: `ev ev-${String(e.kind || 'event').replace(/\W/g, '')}`, 'data-kind': e.kind },
      h('div', { class: 'ev-head' }, h('time', {}, when), ' ', h('strong', {}, label('event', e.kind || 'event')),
        e.actor ? h('span', { class: 'muted' }, ' · ', e.actor) : null),
      h('div', {}, summary(e, d, contactName)),
      text ? h('div', { class: 'ev-text' }, text) : null);
  }));
}
