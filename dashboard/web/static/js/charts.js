// Hand-written SVG charts: a time-series chart (lines, stacked areas or
// stacked bars) with axes, legend and a hover read-out, and a sparkline.
// Charts size themselves to their container and redraw when it resizes.

import { h, s } from './dom.js';
import { hm, day, dateTime, toDate } from './format.js';
import { resized } from './lifecycle.js';

export const palette = {
  blue: '#2458d3', teal: '#0f8a83', violet: '#7047c9', amber: '#b86e00',
  red: '#c0362c', slate: '#5b6470', green: '#2f8a3e', pink: '#b8327a',
};

// niceStep rounds a raw step up to 1, 2, 2.5 or 5 × 10^k.
function niceStep(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p * 1.0000001) return m * p;
  return 10 * p;
}

// yScale picks about four round divisions covering max; integer series
// never get fractional ticks.
function yScale(max, integer) {
  let step = niceStep((max > 0 ? max : 1) / 4);
  if (integer) step = Math.max(1, Math.round(step));
  const n = Math.max(1, Math.ceil((max > 0 ? max : 1) / step - 1e-9));
  return { step, n, max: step * n };
}

// timeSeries draws opts.series over opts.x.
//   x:       array of times (ISO, seconds, ms or Date), one per point
//   series:  [{name, color, values: [number|null]}]
//   kind:    'line' (default), 'area' (stacked) or 'bar' (stacked)
//   format:  value formatter for the axis and read-out
//   height:  pixels (default 180)
//   integer: values are counts (no fractional ticks)
//   label:   accessible name
//   signal:  releases the chart's resize observer (default: the page's;
//            it is also released when the chart leaves the document)
export function timeSeries(opts) {
  const wrap = h('div', { class: 'chart', role: 'img', attrs: { 'aria-label': opts.label || 'chart' } });
  const legend = h('div', { class: 'legend' }, opts.series.map((se) =>
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch', style: { background: se.color } }), se.name)));
  const plot = h('div', { class: 'plot' });
  const tip = h('div', { class: 'tip', hidden: true });
  plot.append(tip);
  wrap.append(legend, plot);

  let lastW = 0;
  const draw = () => {
    const w = Math.floor(plot.clientWidth);
    if (w <= 0 || w === lastW) return;
    lastW = w;
    plot.querySelector('svg')?.remove();
    plot.insertBefore(render(opts, w, tip), tip);
  };
  resized(plot, draw, opts.signal);
  return wrap;
}

function render(opts, width, tip) {
  const height = opts.height || 180;
  const fmt = opts.format || ((v) => String(v));
  const kind = opts.kind || 'line';
  const pad = { l: 52, r: 12, t: 10, b: 24 };
  const iw = Math.max(10, width - pad.l - pad.r);
  const ih = height - pad.t - pad.b;
  const times = (opts.x || []).map((t) => toDate(t)?.getTime() ?? 0);
  const n = times.length;
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart-svg' });

  const stacked = kind !== 'line';
  const tops = opts.series.map(() => new Array(n).fill(0));
  const bases = opts.series.map(() => new Array(n).fill(0));
  let max = 0;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    opts.series.forEach((se, k) => {
      const v = Number(se.values[i]) || 0;
      bases[k][i] = stacked ? acc : 0;
      acc = stacked ? acc + v : v;
      tops[k][i] = acc;
      max = Math.max(max, acc);
    });
  }
  const scale = yScale(max, opts.integer);
  const ymax = scale.max;
  const span = n > 1 ? times[n - 1] - times[0] : 0;
  const step = n > 1 ? iw / (n - 1) : iw;
  const barW = kind === 'bar' ? Math.max(1, Math.min(28, (iw / Math.max(n, 1)) * 0.7)) : 0;
  const xAt = (i) => (kind === 'bar' ? pad.l + (iw / Math.max(n, 1)) * (i + 0.5) : pad.l + (n > 1 ? step * i : iw / 2));
  const yAt = (v) => pad.t + ih - (v / ymax) * ih;

  // Grid and y labels.
  for (let g = 0; g <= scale.n; g++) {
    const v = scale.step * g;
    const y = yAt(v);
    svg.append(s('line', { x1: pad.l, x2: pad.l + iw, y1: y, y2: y, class: g === 0 ? 'axis' : 'grid' }));
    svg.append(s('text', { x: pad.l - 8, y: y + 4, 'text-anchor': 'end', class: 'tick', text: fmt(v) }));
  }
  // X labels: at most ~6, evenly spaced.
  if (n > 0) {
    const labels = Math.min(n, Math.max(2, Math.floor(iw / 90)));
    const byDay = span > 36 * 3600 * 1000;
    for (let j = 0; j < labels; j++) {
      const i = labels === 1 ? 0 : Math.round((j * (n - 1)) / (labels - 1));
      const anchor = j === 0 && kind !== 'bar' ? 'start' : j === labels - 1 && kind !== 'bar' ? 'end' : 'middle';
      svg.append(s('text', { x: xAt(i), y: height - 6, 'text-anchor': anchor, class: 'tick', text: byDay ? day(times[i]) : hm(times[i]) }));
    }
  }

  const total = opts.series.reduce((a, se) => a + se.values.reduce((b, v) => b + (Number(v) || 0), 0), 0);
  if (n === 0 || total === 0) {
    svg.append(s('text', { x: pad.l + iw / 2, y: pad.t + ih / 2, 'text-anchor': 'middle', class: 'chart-empty', text: opts.emptyText || 'Nothing in this window yet' }));
    return svg;
  }

  opts.series.forEach((se, k) => {
    if (kind === 'bar') {
      for (let i = 0; i < n; i++) {
        const y0 = yAt(bases[k][i]);
        const y1 = yAt(tops[k][i]);
        if (y0 - y1 < 0.5) continue;
        svg.append(s('rect', { x: xAt(i) - barW / 2, y: y1, width: barW, height: y0 - y1, fill: se.color, rx: 1.5 }));
      }
      return;
    }
    // A null value (no data in the bucket) breaks a line instead of
    // dropping it to zero.
    const pts = [];
    for (let i = 0; i < n; i++) pts.push(!stacked && se.values[i] === null ? null : [xAt(i), yAt(tops[k][i])]);
    let pen = 'M';
    const line = pts.map((p) => {
      if (!p) { pen = 'M'; return ''; }
      const seg = pen + p[0].toFixed(1) + ' ' + p[1].toFixed(1);
      pen = 'L';
      return seg;
    }).join('');
    if (kind === 'area') {
      const back = [];
      for (let i = n - 1; i >= 0; i--) back.push('L' + xAt(i).toFixed(1) + ' ' + yAt(bases[k][i]).toFixed(1));
      svg.append(s('path', { d: line + back.join('') + 'Z', fill: se.color, 'fill-opacity': 0.18, stroke: 'none' }));
    }
    svg.append(s('path', { d: line, fill: 'none', stroke: se.color, 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round', 'stroke-dasharray': se.dash || null }));
    // Points with no neighbour would be invisible as lines.
    pts.forEach((p, i) => {
      if (p && !pts[i - 1] && !pts[i + 1]) svg.append(s('circle', { cx: p[0], cy: p[1], r: 2.5, fill: se.color }));
    });
  });

  // Hover read-out.
  const cursor = s('line', { y1: pad.t, y2: pad.t + ih, class: 'cursor', visibility: 'hidden' });
  svg.append(cursor);
  const hit = s('rect', { x: pad.l, y: pad.t, width: iw, height: ih, fill: 'transparent' });
  svg.append(hit);
  hit.addEventListener('mousemove', (e) => {
    const box = svg.getBoundingClientRect();
    const px = e.clientX - box.left;
    let i = kind === 'bar' ? Math.floor((px - pad.l) / (iw / n)) : Math.round((px - pad.l) / (n > 1 ? step : 1));
    i = Math.max(0, Math.min(n - 1, i));
    const x = xAt(i);
    cursor.setAttribute('x1', x);
    cursor.setAttribute('x2', x);
    cursor.setAttribute('visibility', 'visible');
    tip.replaceChildren(
      h('div', { class: 'tip-time' }, dateTime(times[i])),
      ...opts.series.map((se) => h('div', { class: 'tip-row' },
        h('span', { class: 'swatch', style: { background: se.color } }), h('span', {}, se.name), h('b', {}, se.values[i] === null ? '—' : fmt(Number(se.values[i]) || 0)))));
    tip.hidden = false;
    const left = x + 12 + tip.offsetWidth > width ? x - 12 - tip.offsetWidth : x + 12;
    tip.style.left = left + 'px';
    tip.style.top = pad.t + 'px';
  });
  hit.addEventListener('mouseleave', () => { tip.hidden = true; cursor.setAttribute('visibility', 'hidden'); });
  return svg;
}

// sparkline is a small trend line for a KPI card.
export function sparkline(values, color = palette.blue) {
  const w = 84;
  const ht = 26;
  const svg = s('svg', { width: w, height: ht, viewBox: `0 0 ${w} ${ht}`, class: 'spark', 'aria-hidden': 'true' });
  const vs = (values || []).map((v) => Number(v) || 0);
  if (vs.length < 2) return svg;
  const max = Math.max(...vs) || 1;
  const pts = vs.map((v, i) => [(i / (vs.length - 1)) * (w - 2) + 1, ht - 2 - (v / max) * (ht - 4)]);
  const d = pts.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('');
  svg.append(s('path', { d: d + `L${w - 1} ${ht}L1 ${ht}Z`, fill: color, 'fill-opacity': 0.12 }));
  svg.append(s('path', { d, fill: 'none', stroke: color, 'stroke-width': 1.5 }));
  return svg;
}

// bar is an inline horizontal data bar for a table cell (value/max).
export function bar(value, max, color = palette.blue) {
  const frac = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  const w = 80;
  const svg = s('svg', { width: w, height: 8, viewBox: `0 0 ${w} 8`, class: 'databar', 'aria-hidden': 'true' });
  svg.append(s('rect', { x: 0, y: 0, width: w, height: 8, rx: 2, class: 'databar-bg' }));
  if (frac > 0) svg.append(s('rect', { x: 0, y: 0, width: Math.max(2, w * frac), height: 8, rx: 2, fill: color }));
  return svg;
}
