import { api } from '../api.js';
import { h, table } from '../dom.js';
import { label, money, t } from '../i18n.js';
import { pageTitle, section } from '../ui.js';

export async function renderAdmin(view) {
  const users = await api('/users');
  view.append(pageTitle(t('admin.title')), section(t('admin.users'), table([
    { label: t('admin.username'), cell: (u) => h('code', {}, u.username) },
    { label: t('admin.displayName'), cell: (u) => u.display_name },
    { label: t('admin.role'), cell: (u) => label('role', u.role) },
    { label: t('admin.team'), cell: (u) => u.team ?? '—' },
    { label: t('admin.limit'), num: true, cell: (u) => (u.approval_limit ? money(u.approval_limit) : '—') },
    { label: t('admin.active'), cell: (u) => (u.active ? t('common.yes') : t('common.no')) },
  ], users, { caption: t('admin.usersCaption') })));
}
