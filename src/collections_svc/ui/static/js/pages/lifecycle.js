import { api } from '../api.js';
import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { errorBox, pageTitle, section } from '../ui.js';

const START = '[*]';

/** Pull "a --> b : label" edges out of Mermaid stateDiagram text. */
export function edges(mermaid) {
  const out = [];
  for (const line of mermaid.split('\n')) {
    const m = line.trim().match(/^(\[\*\]|[\w-]+)\s*-->\s*(\[\*\]|[\w-]+)\s*(?::\s*(.*))?$/);
    if (m) out.push({ from: m[1], to: m[2], what: (m[3] || '').trim() });
  }
  return out;
}

function triggerText(what) {
  const trig = what.split(/[\s[]/)[0];
  const note = what.slice(trig.length).trim();
  return [h('span', { class: 'trig' }, label('trigger', trig)), note ? h('small', { class: 'muted' }, ' ', note) : null];
}

/** The state machine as a from × to matrix: each cell lists the actions that move a case that way. */
function matrix(list, stages) {
  const name = (s) => (s === START ? t('life.start') : label('stage', s));
  // Rows: where a case can be (and the start); columns: where an action can take it. Final stages have
  // no row; their only edge is to the end marker.
  const moves = list.filter((e) => e.to !== START);
  const from = [START, ...stages];
  const to = stages.filter((s) => moves.some((e) => e.to === s));
  const cell = new Map();
  for (const e of moves) {
    const key = `${e.from}|${e.to}`;
    if (!cell.has(key)) cell.set(key, []);
    cell.get(key).push(e.what);
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'matrix', id: 'lifecycle-matrix' },
    h('caption', {}, t('life.matrixCaption')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('life.fromTo')),
      to.map((s) => h('th', { scope: 'col' }, name(s))))),
    h('tbody', {}, from.filter((s) => to.some((d) => cell.has(`${s}|${d}`))).map((s) => h('tr', { 'data-from': s },
      h('th', { scope: 'row' }, name(s)),
      to.map((d) => {
        const whats = cell.get(`${s}|${d}`);
        return h('td', { class: whats ? 'on' : null, 'data-to': d },
          whats ? whats.map((w) => h('div', {}, w ? triggerText(w) : '•')) : '');
      }))))));
}

export async function renderLifecycle(view) {
  view.append(pageTitle(t('life.title')));
  let data;
  try {
    data = await api('/cases/lifecycle');
  } catch (err) {
    view.append(errorBox(err, { what: t('life.api') }));
    return;
  }
  const text = typeof data === 'string' ? data : (data && (data.mermaid || data.diagram || data.text)) || '';
  const list = edges(text);
  const seen = [];
  for (const e of list) for (const s of [e.from, e.to]) if (s !== START && !seen.includes(s)) seen.push(s);
  const stages = data && Array.isArray(data.stages) && data.stages.length ? data.stages : seen;
  if (list.length) view.append(section(t('life.transitions'), h('p', { class: 'muted' }, t('life.matrixHint')), matrix(list, stages)));
  view.append(section(t('life.source'), h('p', { class: 'muted' }, t('life.sourceHint')),
    h('pre', { class: 'mermaid-src', id: 'mermaid-src' }, text)));
}
