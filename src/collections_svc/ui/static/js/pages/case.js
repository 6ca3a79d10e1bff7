import { api, items } from '../api.js';
import { dl, field, formData, h, link, select } from '../dom.js';
import { date, datetime, label, money, num, t } from '../i18n.js';
import { errorBox, loadAll, message, onSubmit, pageTitle, section } from '../ui.js';
import { contactsTable } from './borrowers.js';
import { loanFacts, scheduleTable } from './loan.js';
import { STAGES } from './queue.js';

const CHANNELS = ['phone', 'sms', 'email', 'wechat'];
const OUTCOMES = ['reached', 'promise_to_pay', 'no_answer', 'refused', 'wrong_number', 'callback_requested'];
const MULTI_TARGET = ['escalate', 'de_escalate'];

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

export async function renderCase(view, { params }) {
  const id = Number(params[0]);
  let c;
  try {
    c = await api(`/cases/${id}`);
  } catch (err) {
    view.append(pageTitle(t('case.title', { id })), errorBox(err, { what: t('queue.casesApi') }));
    return;
  }
  const [loanRes, borrowerRes, timelineRes] = await loadAll([
    c.loan_id ? `/loans/${Number(c.loan_id)}` : '/loans/0',
    c.borrower_id ? `/borrowers/${Number(c.borrower_id)}` : '/borrowers/0',
    `/cases/${id}/timeline`]);
  const loan = loanRes.ok ? loanRes.data : null;
  const borrower = borrowerRes.ok ? borrowerRes.data : null;
  const contacts = borrower ? borrower.contacts : [];
  const name = c.borrower_name || (borrower && borrower.name) || `#${c.borrower_id}`;

  view.append(pageTitle(t('case.titleOf', { id, name }),
    h('p', { class: 'crumbs' }, link('/queue', t('nav.queue')), ' / ',
      c.borrower_id ? link(`/borrowers/${Number(c.borrower_id)}`, name) : name)));
  view.append(h('div', { class: 'case-top' },
    section(t('case.facts'), dl([
      [t('case.stage'), h('span', { class: 'tag', 'data-testid': 'stage' }, label('stage', c.stage))],
      [t('case.dpd'), c.dpd !== undefined ? num(c.dpd) : undefined],
      [t('case.overdue'), c.overdue_amount !== undefined ? money(c.overdue_amount) : undefined],
      [t('case.opened'), c.opened_on ? date(c.opened_on) : undefined],
      [t('case.stageSince'), c.stage_entered_on ? date(c.stage_entered_on) : undefined],
      [t('case.nextAction'), c.next_action_on !== undefined ? date(c.next_action_on) : undefined],
      [t('case.assignee'), c.assignee_name ?? c.assignee_username ?? (c.assignee_id !== undefined ? (c.assignee_id ?? '—') : undefined)],
      [t('case.hold'), c.on_hold !== undefined ? (c.on_hold ? t('queue.onHold') : t('common.no')) : undefined],
      [t('case.brokenPromises'), c.broken_promises !== undefined ? num(c.broken_promises) : undefined],
      [t('case.promise'), c.promise_status ? label('promiseStatus', c.promise_status) : undefined],
    ])),
    actionsSection(c)));

  view.append(section(t('case.loan'), loan ? [loanFacts(loan), link(`/loans/${Number(loan.id)}`, t('case.openLoan'))]
    : errorBox(loanRes.error)));
  view.append(section(t('schedule.title'), loan ? scheduleTable(loan) : message('info', t('case.noSchedule'))));
  view.append(section(t('case.timeline'), timelineRes.ok ? timeline(items(timelineRes.data))
    : errorBox(timelineRes.error, { what: t('case.timelineApi') })));
  view.append(section(t('case.contacts'), borrower ? contactsTable(contacts) : errorBox(borrowerRes.error)));
  view.append(h('div', { class: 'two-col' },
    section(t('call.title'), callForm(c, contacts)),
    section(t('visit.title'), visitForm(c, contacts))));
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
    MULTI_TARGET.includes(trig) ? field(t('transition.target'),
      select('target', [['', t('transition.auto')], ...open.filter((s) => s !== c.stage).map((s) => [s, label('stage', s)])], ''))
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
    field(t('promise.amount'), h('input', { name: 'amount', inputmode: 'decimal', pattern: '\\d+(\\.\\d{1,2})?' })),
    field(t('promise.dueOn'), h('input', { name: 'due_on', type: 'date' })),
    field(t('promise.grace'), h('input', { name: 'grace_days', type: 'number', min: 0, max: 30, value: 3 })));
  const withPromise = h('input', { type: 'checkbox', name: 'with_promise', id: 'with-promise',
    onchange: (ev) => { promiseFields.disabled = !ev.target.checked; } });
  const form = h('form', { class: 'grid-form', id: 'call-form' },
    field(t('call.channel'), select('channel', CHANNELS.map((x) => [x, label('channel', x)]), 'phone')),
    field(t('call.contact'), select('contact_id', contactOptions(contacts), contacts[0]?.id, { required: true })),
    field(t('call.outcome'), select('outcome', OUTCOMES.map((x) => [x, label('outcome', x)]), 'reached')),
    field(t('call.note'), h('textarea', { name: 'note', rows: 3, maxlength: 2000 })),
    field(t('call.nextAction'), h('input', { name: 'next_action_on', type: 'date' })),
    h('div', { class: 'check' }, withPromise, h('label', { for: 'with-promise' }, t('call.withPromise'))),
    promiseFields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('call.submit'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    const body = { channel: v.channel, contact_id: Number(v.contact_id), outcome: v.outcome, note: v.note || null,
      next_action_on: v.next_action_on || null };
    if (withPromise.checked) body.promise = { amount: v.amount, due_on: v.due_on, grace_days: Number(v.grace_days || 0) };
    await api(`/cases/${Number(c.id)}/contacts`, { method: 'POST', body });
    reload();
  });
}

function visitForm(c, contacts) {
  const form = h('form', { class: 'grid-form', id: 'visit-form' },
    field(t('visit.plannedOn'), h('input', { name: 'planned_on', type: 'date' })),
    field(t('visit.visitedOn'), h('input', { name: 'visited_on', type: 'date' })),
    field(t('visit.contact'), select('contact_id', [['', '—'], ...contactOptions(contacts)], '')),
    field(t('visit.address'), h('input', { name: 'address', maxlength: 300,
      value: (contacts.find((x) => x.address) || {}).address || '' })),
    field(t('visit.report'), h('textarea', { name: 'report', rows: 4, maxlength: 5000 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('visit.submit'))));
  return onSubmit(form, async () => {
    const v = formData(form);
    const body = {};
    for (const k of ['planned_on', 'visited_on', 'address', 'report']) if (v[k]) body[k] = v[k];
    if (v.contact_id) body.contact_id = Number(v.contact_id);
    await api(`/cases/${Number(c.id)}/visits`, { method: 'POST', body });
    reload();
  });
}

/** Timeline entries of any kind: render the fields each entry has, as text. */
function timeline(entries) {
  if (!entries.length) return message('info', t('case.noEvents'));
  return h('ol', { class: 'timeline', id: 'timeline' }, entries.map((e) => {
    const when = e.at ? datetime(e.at) : date(e.business_date || e.on || e.date);
    const bits = [];
    if (e.from_stage || e.to_stage) bits.push(`${label('stage', e.from_stage)} → ${label('stage', e.to_stage)}`);
    if (e.trigger) bits.push(label('trigger', e.trigger));
    if (e.outcome) bits.push(label('outcome', e.outcome));
    if (e.channel) bits.push(label('channel', e.channel));
    if (e.amount !== undefined && e.amount !== null) bits.push(money(e.amount));
    if (e.status) bits.push(label('status', e.status));
    const text = e.reason || e.note || e.report || e.summary || e.detail || e.message;
    return h('li', { class: `ev ev-${String(e.kind || 'event').replace(/\W/g, '')}` },
      h('div', { class: 'ev-head' }, h('time', {}, when), ' ', h('strong', {}, label('event', e.kind || 'event')),
        e.actor ? h('span', { class: 'muted' }, ' · ', e.actor) : null),
      bits.length ? h('div', {}, bits.join(' · ')) : null,
      text ? h('div', { class: 'ev-text' }, text) : null);
  }));
}
