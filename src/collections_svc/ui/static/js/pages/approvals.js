import { api, items } from '../api.js';
import { dl, field, h, link, table } from '../dom.js';
import { datetime, label, money, num, t } from '../i18n.js';
import { errorBox, message, pageTitle, section } from '../ui.js';

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

/** Supervisors' inbox: pending proposals oldest first; open one to approve or reject with a comment. */
export async function renderApprovals(view, { params }) {
  if (params[0]) { await renderProposal(view, Number(params[0])); return; }
  view.append(pageTitle(t('appr.title')));
  let rows;
  try {
    rows = items(await api('/approvals'));
  } catch (err) {
    view.append(errorBox(err, { what: t('appr.api') }));
    return;
  }
  if (!rows.length) { view.append(message('info', t('appr.empty'))); return; }
  view.append(table([
    { label: t('appr.what'), cell: (p) => h('a', { href: `#/approvals/${Number(p.id)}`, class: 'row-link' }, p.title) },
    { label: t('appr.kind'), cell: (p) => label('proposalKind', p.kind) },
    { label: t('appr.amount'), num: true, cell: (p) => money(p.amount, p.currency || 'CNY') },
    { label: t('appr.maker'), cell: (p) => p.maker },
    { label: t('appr.waiting'), num: true, cell: (p) => [p.age_hours != null ? t('appr.hours', { n: num(Math.round(p.age_hours)) }) : '—',
      p.overdue ? h('span', { class: 'tag warn' }, ' ', t('appr.overdue')) : null] },
    { label: t('appr.approvals'), num: true, cell: (p) => `${p.approvals_received ?? 0} / ${p.approvals_required ?? 1}` },
    { label: t('appr.yours'), cell: (p) => (p.can_decide ? h('span', { class: 'tag ok' }, t('appr.canDecide')) : '—') },
  ], rows, { caption: t('appr.caption', { n: num(rows.length) }) }));
}

function payloadValue(v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v) || typeof v === 'object') return h('pre', { class: 'payload' }, JSON.stringify(v, null, 2));
  return String(v);
}

async function renderProposal(view, id) {
  let p;
  try {
    p = await api(`/approvals/${id}`);
  } catch (err) {
    view.append(pageTitle(t('appr.title')), errorBox(err, { what: t('appr.api') }));
    return;
  }
  view.append(pageTitle(p.title, h('p', { class: 'crumbs' }, link('/approvals', t('appr.title')))));
  view.append(h('div', { class: 'case-top' },
    section(t('appr.facts'), dl([
      [t('appr.kind'), label('proposalKind', p.kind)], [t('appr.state'), label('proposalState', p.state)],
      [t('appr.amount'), money(p.amount, p.currency || 'CNY')], [t('appr.maker'), p.maker],
      [t('appr.approvals'), `${p.approvals_received ?? 0} / ${p.approvals_required ?? 1}`],
      [t('appr.submitted'), datetime(p.submitted_at)],
      [t('case.id'), p.case_id ? link(`/cases/${Number(p.case_id)}`, `#${p.case_id}`) : null],
      [t('loan.title'), link(`/loans/${Number(p.loan_id)}`, `#${p.loan_id}`)],
    ])),
    section(t('appr.decide'), p.can_decide ? decisionForm(p) : message('info', t('appr.cannotDecide')))));
  const payload = p.payload && typeof p.payload === 'object' ? Object.entries(p.payload) : [];
  view.append(section(t('appr.details'), payload.length ? dl(payload.map(([k, v]) => [k, payloadValue(v)]))
    : message('info', t('appr.noDetails'))));
  view.append(section(t('appr.trail'), (p.decisions || []).length ? table([
    { label: t('appr.when'), nowrap: true, cell: (d) => datetime(d.at) },
    { label: t('appr.decision'), cell: (d) => label('decision', d.decision) },
    { label: t('appr.by'), cell: (d) => d.actor },
    { label: t('appr.comment'), cell: (d) => h('span', { class: 'ev-text' }, d.comment ?? '') },
  ], p.decisions, { caption: t('appr.trail'), srCaption: true }) : message('info', t('appr.noTrail'))));
}

function decisionForm(p) {
  const comment = h('textarea', { name: 'comment', rows: 3, maxlength: 2000 });
  const slot = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const decide = (verb) => async () => {
    if (verb === 'reject' && !comment.value.trim()) { slot.replaceChildren(message('error', t('appr.needComment'))); return; }
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await api(`/approvals/${Number(p.id)}/${verb}`, { method: 'POST', body: { version: p.version, comment: comment.value.trim() || null } });
      reload();
    } catch (err) {
      slot.replaceChildren(errorBox(err));
      form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  };
  const form = h('form', { class: 'grid-form', id: 'decision-form' },
    field(t('appr.comment'), comment),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'data-decide': 'approve', onclick: decide('approve') }, t('appr.approve')),
      h('button', { type: 'button', 'data-decide': 'reject', onclick: decide('reject') }, t('appr.reject'))), slot);
  form.addEventListener('submit', (ev) => ev.preventDefault());
  return form;
}
