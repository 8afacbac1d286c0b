// Shared page pieces: headers, panels, KPI cards, tables, badges, empty
// states. All text goes in as text nodes (see dom.js).

import { h, route } from './dom.js';
import { sparkline } from './charts.js';
import { toDate, usd } from './format.js';

export function pageHead({ title, sub, crumbs, actions }) {
  return h('header', { class: 'page-head' },
    h('div', { class: 'page-title' },
      crumbs ? h('div', { class: 'crumbs' }, crumbs.map((c, i) => [i ? ' / ' : '', c.href ? h('a', { href: c.href }, c.text) : c.text])) : null,
      h('h1', {}, title),
      sub ? h('div', { class: 'sub' }, sub) : null),
    actions ? h('div', { class: 'head-actions' }, actions) : null);
}

export function panel(title, body, { hint, id, cls } = {}) {
  return h('section', { class: ['panel', cls], id },
    title ? h('div', { class: 'panel-head' }, h('h2', {}, title), hint ? h('span', { class: 'hint' }, hint) : null) : null,
    body);
}

export function kpi({ label, value, note, spark, color, alert, testid }) {
  return h('div', { class: ['kpi', alert && 'alert'], dataset: testid ? { kpi: testid } : undefined },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: 'kpi-value' }, value),
    h('div', { class: 'kpi-note' }, note || '\u00a0'),
    spark ? sparkline(spark, color) : null);
}

// table renders rows with columns [{label, value(row) → node|string, cls, num}].
// onRow(row) makes rows links (href(row) gives the fragment).
export function table(columns, rows, { href, key, fresh } = {}) {
  const thead = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: [c.num && 'num', c.cls], scope: 'col' }, c.label))));
  const tbody = h('tbody', {}, rows.map((r) => {
    const link = href ? href(r) : null;
    const tr = h('tr', { class: [link && 'rowlink', fresh && key && fresh.has(key(r)) && 'fresh'], dataset: key ? { key: key(r) } : undefined },
      columns.map((c, i) => {
        const v = c.value(r);
        // The first cell carries a real link so the row works with the keyboard.
        const content = i === 0 && link ? h('a', { href: link }, v) : v;
        return h('td', { class: [c.num && 'num', c.cls] }, content);
      }));
    if (link) tr.addEventListener('click', (e) => { if (!e.target.closest('a')) location.hash = link; });
    return tr;
  }));
  return h('div', { class: 'table-wrap' }, h('table', {}, thead, tbody));
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];

export function severityClass(sev) {
  const v = String(sev || '').toLowerCase();
  return SEVERITIES.includes(v) ? v : 'info';
}

export function severityBadge(sev) {
  const c = severityClass(sev);
  return h('span', { class: ['badge', c], dataset: { severity: c } }, c.charAt(0).toUpperCase() + c.slice(1));
}

export function badge(text, cls) {
  return h('span', { class: ['badge', cls] }, text);
}

// riskLevel maps a 0–100 score to the API's levels (API.md "Risk").
export function riskLevel(v) {
  const n = Number(v) || 0;
  if (n <= 0) return 'none';
  if (n < 25) return 'low';
  if (n < 50) return 'medium';
  if (n < 75) return 'high';
  return 'critical';
}

export function riskScore(v) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  return h('span', { class: ['score', riskLevel(v)], title: 'risk ' + riskLevel(v) }, String(Math.round(Number(v))));
}

const COST_NOTES = {
  priced: 'every call priced from the usage it reported',
  partial: 'a lower bound: some calls have no price, reported no usage or were cut short',
  unpriced: 'the model has no price: add it to pricing.models in the config',
  no_usage: 'the calls reported no usage (an OpenAI stream without stream_options.include_usage)',
  none: 'no completed calls',
};

// cost shows what a set of calls cost (API.md "Cost"): its cost_usd, or
// why there is none — never $0 for an unknown cost.
export function cost(o) {
  const st = (o && o.cost_status) || '';
  const v = o ? o.cost_usd : null;
  return h('span', { class: ['cost', (v === null || v === undefined) && 'muted'], title: COST_NOTES[st] || '', dataset: { cost: st } }, usd(v, st));
}

export function empty(title, ...lines) {
  return h('div', { class: 'empty' }, h('h2', {}, title), lines.map((l) => h('p', {}, l)));
}

// storageBanner explains why analytics are empty, with the API's reason
// and fix, or that they will not survive a restart (an ephemeral store),
// or returns null when the store works and keeps its data.
export function storageBanner(status) {
  if (status && status.available !== false && status.ephemeral) {
    return h('div', { class: 'banner', role: 'alert', dataset: { testid: 'analytics-ephemeral' } },
      h('div', {},
        h('strong', {}, 'This store is in memory: everything shown here is lost when the proxy stops.'),
        h('p', {}, status.warning || 'Remove storage.embedded.ephemeral (or live_trace storage_mode: memory) to keep analytics on disk.')));
  }
  if (!status || status.available !== false) return null;
  return h('div', { class: 'banner', role: 'alert', dataset: { testid: 'analytics-off' } },
    h('div', {},
      h('strong', {}, 'Analytics are off because ' + storageReason(status)),
      status.fix ? h('p', {}, 'To fix: ' + status.fix) : null,
      h('p', { class: 'muted' }, status.engine === 'none'
        ? 'The proxy keeps forwarding traffic; nothing is recorded until a store is configured.'
        : 'The proxy keeps forwarding traffic and keeps its events on disk; they appear here once the store works.')));
}

// analyticsOff reports whether an answer's storage status says the store
// is off or down: the answer's data is then empty, and a page shows the
// banner alone rather than an empty object's blanks and defaults.
export function analyticsOff(status) {
  return !!status && status.available === false;
}

// storageReason is the API's reason as the end of "Analytics are off
// because …": without a repeated "analytics are off" and without a
// trailing period.
function storageReason(status) {
  let r = String(status.reason || 'the analytics store is unavailable').trim();
  r = r.replace(/^analytics (are|is) (off|unavailable)\s*[:,;-]?\s*(because\s+)?/i, '');
  r = r.replace(/[.\s]+$/, '');
  return lowerFirst(r) + '.';
}

export function errorBanner(err) {
  return h('div', { class: 'banner error', role: 'alert' },
    h('div', {}, h('strong', {}, 'Could not load this page'), h('p', {}, err && err.message ? err.message : String(err))));
}

function lowerFirst(str) {
  // "Libchdb.so was not found" reads on after "because"; "ClickHouse …" keeps its capital.
  return /^[A-Z][a-z]/.test(str || '') ? str.charAt(0).toLowerCase() + str.slice(1) : str;
}

export function agentLink(id) {
  return h('a', { href: route('agent', id), class: 'mono' }, id);
}

export function sessionLink(id, text) {
  return h('a', { href: route('session', id), class: 'mono' }, text || id);
}

// changed reports whether data differs from what the page showed last
// (ignoring last_updated, which differs on every answer), so live refreshes
// re-render only when something happened.
export function changed(state, ...data) {
  const key = JSON.stringify(data, (k, v) => (k === 'last_updated' ? undefined : v));
  if (state.key === key) return false;
  state.key = key;
  return true;
}

// rangePicker is a segmented control for the time window, kept in the URL.
export function rangePicker(current, ranges, onPick) {
  return h('div', { class: 'seg', role: 'group', attrs: { 'aria-label': 'Time range' } },
    ranges.map((r) => h('button', {
      type: 'button', class: r === current ? 'on' : null, attrs: { 'aria-pressed': r === current ? 'true' : 'false' },
      onclick: () => onPick(r),
    }, r)));
}

// setQuery rewrites the current route's query string (filters) without
// adding history entries for every change.
export function setQuery(updates) {
  const raw = location.hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  const path = i < 0 ? raw : raw.slice(0, i);
  const q = new URLSearchParams(i < 0 ? '' : raw.slice(i + 1));
  for (const [k, v] of Object.entries(updates)) {
    if (v === null || v === undefined || v === '') q.delete(k); else q.set(k, v);
  }
  const qs = q.toString();
  location.hash = path + (qs ? '?' + qs : '');
}

// Time windows the charts offer, their names and the bucket that gives
// 48–96 points (bars stay wide enough to see).
export const RANGES = ['15m', '1h', '6h', '24h', '7d'];
export const RANGE_NAMES = { '15m': '15 minutes', '1h': 'hour', '6h': '6 hours', '24h': '24 hours', '7d': '7 days' };
export const BUCKETS = { '15m': '15s', '1h': '1m', '6h': '5m', '24h': '20m', '7d': '2h' };

// fitRange is the smallest window that holds traffic first seen at the
// earliest of times, so that a fresh install shows its first minutes
// rather than a flat day.
export function fitRange(times) {
  const first = Math.min(...times.map((x) => toDate(x)?.getTime() ?? Infinity));
  const age = Date.now() - first;
  if (!Number.isFinite(age) || age < 14 * 60e3) return '15m';
  if (age < 55 * 60e3) return '1h';
  if (age < 5.5 * 3600e3) return '6h';
  return '24h';
}

// levelClass is the badge class of a risk level.
export function levelClass(lvl) {
  return { critical: 'critical', high: 'high', medium: 'medium', low: 'low' }[lvl] || 'outline';
}
