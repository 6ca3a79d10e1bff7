import { api } from '../api.js';
import { field, h, select, table } from '../dom.js';
import { date, label, money, num, t } from '../i18n.js';
import { errorBox, message, pageTitle } from '../ui.js';
import { pager } from './borrowers.js';

export const STAGES = ['classified', 'phone_reminder', 'letter', 'visit', 'restructuring', 'legal',
  'resolved', 'restructured', 'written_off', 'closed'];
const BUCKETS = ['M1', 'M2', 'M3', 'M4', 'M7'];
const SORTS = ['-priority', '-dpd', 'dpd', 'next_action_on', '-overdue_amount'];
const STATUSES = ['open', 'closed', 'all'];
const FILTERS = ['stage', 'bucket', 'dpd_min', 'dpd_max', 'on_hold', 'status', 'sort', 'mine'];

export async function renderQueue(view, { query, user, navigate }) {
  // Filters live in the address (#/queue?stage=...): a view is saved by bookmarking it.
  const mine = query.mine ?? (user.role === 'collector' ? '1' : '');
  const page = Math.max(1, Number(query.page) || 1);
  const f = { ...query, mine };
  const form = h('form', { class: 'filters', id: 'queue-filters' },
    field(t('queue.stage'), select('stage', [['', t('common.any')], ...STAGES.map((s) => [s, label('stage', s)])], f.stage)),
    field(t('queue.bucket'), select('bucket', [['', t('common.any')], ...BUCKETS.map((b) => [b, b])], f.bucket)),
    field(t('queue.dpdMin'), h('input', { name: 'dpd_min', type: 'number', min: 0, value: f.dpd_min ?? '', class: 'short' })),
    field(t('queue.dpdMax'), h('input', { name: 'dpd_max', type: 'number', min: 0, value: f.dpd_max ?? '', class: 'short' })),
    field(t('queue.hold'), select('on_hold', [['', t('common.any')], ['true', t('queue.onHold')], ['false', t('queue.notOnHold')]], f.on_hold)),
    field(t('queue.status'), select('status', STATUSES.map((s) => [s, t(`queue.status.${s}`)]), f.status || 'open')),
    field(t('queue.sort'), select('sort', SORTS.map((s) => [s, t(`queue.sort.${s}`)]), f.sort || '-priority')),
    field(t('queue.mine'), select('mine', [['1', t('queue.mineOnly')], ['', t('queue.everyone')]], mine)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('queue.apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    navigate('/queue', Object.fromEntries(FILTERS.map((k) => [k, String(fd.get(k) ?? '').trim()])));
  });
  view.append(pageTitle(t('queue.title')), form, h('p', { class: 'muted small' }, t('queue.saveHint')));
  let data;
  try {
    data = await api('/cases', { query: { stage: f.stage, bucket: f.bucket, dpd_min: f.dpd_min, dpd_max: f.dpd_max,
      on_hold: f.on_hold, status: f.status, sort: f.sort || '-priority', assignee_id: mine ? user.id : '', page, size: 50 } });
  } catch (err) {
    view.append(errorBox(err, { what: t('queue.casesApi') }));
    return;
  }
  const rows = Array.isArray(data) ? data : data.items || [];
  if (!rows.length) { view.append(message('info', t('queue.empty'))); return; }
  view.append(table([
    { label: t('case.borrower'), cell: (c) => h('a', { href: `#/cases/${Number(c.id)}`, class: 'row-link' },
      c.borrower_name ?? `#${c.borrower_id}`) },
    { label: t('case.contract'), cell: (c) => c.contract_no ?? '—' },
    { label: t('case.stage'), cell: (c) => h('span', { class: `tag stage-${String(c.stage).replace(/\W/g, '')}` }, label('stage', c.stage)) },
    { label: t('case.dpd'), num: true, cell: (c) => num(c.dpd) },
    { label: t('loan.bucket'), cell: (c) => c.bucket ?? '—' },
    { label: t('case.overdue'), num: true, cell: (c) => money(c.overdue_amount) },
    { label: t('case.nextAction'), nowrap: true, cell: (c) => date(c.next_action_on) },
    { label: t('case.brokenPromises'), num: true, cell: (c) => (c.broken_promises ? num(c.broken_promises) : '—') },
    { label: t('case.hold'), cell: (c) => (c.on_hold ? h('span', { class: 'tag warn' }, t('queue.onHold')) : '—') },
  ], rows, { caption: t('queue.caption', { n: num(data.total ?? rows.length) }) }),
  data.total !== undefined ? pager({ total: data.total, page: data.page || page, size: data.size || 50 },
    (p) => navigate('/queue', { ...f, page: p })) : null);
}
