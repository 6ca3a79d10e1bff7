// A bar chart drawn as SVG by hand: one bar per category, value labels, a keyboard- and
// pointer-reachable tooltip with the exact numbers. The same numbers are in a table beside it.
import { h, s } from './dom.js';

const W = 640;
const H = 280;
const PAD = { top: 24, right: 12, bottom: 40, left: 12 };

/**
 * bars: [{key, label, value (number for geometry), display (text), details: [[name, text], ...]}]
 */
export function barChart(bars, { title, desc }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = innerW / Math.max(1, bars.length);
  const barW = Math.min(72, step * 0.62);
  const tip = h('div', { class: 'chart-tip', role: 'status', hidden: true });
  const titleId = 'ct-' + Math.random().toString(36).slice(2, 8);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'group', 'aria-labelledby': titleId },
    s('title', { id: titleId }, title), desc ? s('desc', {}, desc) : null,
    s('line', { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom, class: 'axis' }));
  const wrap = h('div', { class: 'chart-wrap' }, svg, tip);

  function show(bar, el) {
    tip.replaceChildren(h('strong', {}, bar.label),
      ...bar.details.map(([name, text]) => h('div', {}, `${name}: `, h('span', { class: 'num' }, text))));
    tip.hidden = false;
    const box = el.getBoundingClientRect();
    const outer = wrap.getBoundingClientRect();
    tip.style.left = `${Math.max(0, box.left - outer.left + box.width / 2 - 90)}px`;
    tip.style.top = `${Math.max(0, box.top - outer.top - tip.offsetHeight - 6)}px`;
  }
  function hide() { tip.hidden = true; }

  bars.forEach((bar, i) => {
    const hgt = bar.value > 0 ? Math.max(2, (bar.value / max) * innerH) : 0;
    const x = PAD.left + i * step + (step - barW) / 2;
    const y = H - PAD.bottom - hgt;
    const g = s('g', { class: `bar bar-${i}`, tabindex: '0', role: 'img', 'data-key': bar.key,
      'aria-label': `${bar.label}: ${bar.details.map(([n, v]) => `${n} ${v}`).join('; ')}` },
    s('title', {}, `${bar.label}\n${bar.details.map(([n, v]) => `${n}: ${v}`).join('\n')}`),
    // a taller transparent hit area makes small bars easy to hover
    s('rect', { x: x - 4, y: PAD.top, width: barW + 8, height: innerH, class: 'hit' }),
    s('rect', { x, y, width: barW, height: hgt, rx: 3, class: 'fill' }),
    s('text', { x: x + barW / 2, y: y - 6, class: 'val', 'text-anchor': 'middle' }, bar.display),
    s('text', { x: x + barW / 2, y: H - PAD.bottom + 18, class: 'lbl', 'text-anchor': 'middle' }, bar.label));
    g.addEventListener('mouseenter', () => show(bar, g));
    g.addEventListener('mouseleave', hide);
    g.addEventListener('focus', () => show(bar, g));
    g.addEventListener('blur', hide);
    svg.append(g);
  });
  return wrap;
}

/**
 * A line chart over time: one line per series, a dot per point with its numbers on hover/focus
 * (tooltip and SVG title). points: [{key, label, details: [[name, text], ...]}];
 * series: [{name, values: [number per point]}]. The same numbers belong in a table beside it.
 */
export function lineChart(points, series, { title, desc }) {
  const max = Math.max(1, ...series.flatMap((sr) => sr.values));
  const innerW = W - PAD.left - PAD.right - 40;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + 20 + (points.length > 1 ? (i * innerW) / (points.length - 1) : innerW / 2);
  const y = (v) => H - PAD.bottom - (v / max) * innerH;
  const tip = h('div', { class: 'chart-tip', role: 'status', hidden: true });
  const titleId = 'ct-' + Math.random().toString(36).slice(2, 8);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart line-chart', role: 'group', 'aria-labelledby': titleId },
    s('title', { id: titleId }, title), desc ? s('desc', {}, desc) : null,
    s('line', { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom, class: 'axis' }));
  const wrap = h('div', { class: 'chart-wrap' }, svg, tip,
    h('ul', { class: 'legend' }, series.map((sr, k) => h('li', { class: `series-${k}` }, sr.name))));
  series.forEach((sr, k) => {
    if (points.length > 1) {
      svg.append(s('polyline', { class: `series series-${k}`,
        points: sr.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
    }
  });
  const step = Math.max(1, Math.ceil(points.length / 8)); // at most ~8 axis labels
  points.forEach((p, i) => {
    const text = `${p.label}\n${p.details.map(([n, v]) => `${n}: ${v}`).join('\n')}`;
    const g = s('g', { class: 'point', tabindex: '0', role: 'img', 'data-key': p.key,
      'aria-label': text.replace(/\n/g, '; ') }, s('title', {}, text),
    s('rect', { x: x(i) - 12, y: PAD.top, width: 24, height: innerH, class: 'hit' }),
    series.map((sr, k) => s('circle', { cx: x(i), cy: y(sr.values[i]), r: 4, class: `dot series-${k}` })),
    i % step === 0 || i === points.length - 1
      ? s('text', { x: x(i), y: H - PAD.bottom + 18, class: 'lbl', 'text-anchor': 'middle' }, p.label) : null);
    const show = () => {
      tip.replaceChildren(h('strong', {}, p.label),
        ...p.details.map(([name, v]) => h('div', {}, `${name}: `, h('span', { class: 'num' }, v))));
      tip.hidden = false;
      const box = g.getBoundingClientRect();
      const outer = wrap.getBoundingClientRect();
      tip.style.left = `${Math.max(0, box.left - outer.left + box.width / 2 - 90)}px`;
      tip.style.top = '0px';
    };
    const hide = () => { tip.hidden = true; };
    g.addEventListener('mouseenter', show);
    g.addEventListener('mouseleave', hide);
    g.addEventListener('focus', show);
    g.addEventListener('blur', hide);
    svg.append(g);
  });
  return wrap;
}
