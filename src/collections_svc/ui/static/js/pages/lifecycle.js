import { api } from '../api.js';
import { h, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { errorBox, pageTitle, section } from '../ui.js';

/** Pull "a --> b : label" edges out of Mermaid stateDiagram text, to list them as a table. */
export function edges(mermaid) {
  const out = [];
  for (const line of mermaid.split('\n')) {
    const m = line.trim().match(/^(\[\*\]|[\w-]+)\s*-->\s*(\[\*\]|[\w-]+)\s*(?::\s*(.*))?$/);
    if (m) out.push({ from: m[1], to: m[2], what: (m[3] || '').trim() });
  }
  return out;
}

export async function renderLifecycle(view) {
  view.append(pageTitle(t('life.title')));
  let text;
  try {
    const data = await api('/cases/lifecycle');
    text = typeof data === 'string' ? data : (data && (data.mermaid || data.diagram || data.text)) || JSON.stringify(data, null, 2);
  } catch (err) {
    view.append(errorBox(err, { what: t('life.api') }));
    return;
  }
  const list = edges(text);
  const stageName = (s) => (s === '[*]' ? t('life.startEnd') : label('stage', s));
  if (list.length) {
    view.append(section(t('life.transitions'), table([
      { label: t('life.from'), cell: (e) => stageName(e.from) },
      { label: t('life.action'), cell: (e) => {
        const trig = e.what.split(/[\s[]/)[0];
        return e.what ? [label('trigger', trig), e.what !== trig ? h('small', { class: 'muted' }, ' ', e.what.slice(trig.length)) : null] : '—';
      } },
      { label: t('life.to'), cell: (e) => stageName(e.to) },
    ], list)));
  }
  view.append(section(t('life.source'), h('p', { class: 'muted' }, t('life.sourceHint')),
    h('pre', { class: 'mermaid-src', id: 'mermaid-src' }, text)));
}
