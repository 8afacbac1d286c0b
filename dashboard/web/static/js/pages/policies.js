// Policies: what the proxy blocks, redacts and limits inline, in the order
// it tries them, with what each did recently, and where alerts go. It reads
// the proxy's effective policy from /api/config (config.effective_policies,
// the proxy's GET /config view), so it shows live counters of this process.

import { h } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, empty, changed, badge, severityBadge, agentLink } from '../ui.js';

export function mount(root) {
  const state = {};
  return {
    async refresh() {
      const data = await get('/api/config');
      const eff = (data.config || {}).effective_policies;
      if (!changed(state, eff || null)) return;
      root.replaceChildren(...render(eff));
    },
  };
}

const actionClass = { block: 'error', redact: 'medium', monitor: 'info' };

function render(eff) {
  const out = [pageHead({
    title: 'Policies',
    sub: 'What the proxy does inline: guard policies (first match wins), limits per agent, workflow, session or tag, and alert deliveries. Set in policies:, limits: and alerts: of the proxy\'s config; counters are this process\'s since it started.',
  })];
  if (!eff) {
    out.push(panel(null, empty('Policies are not available here',
      'This dashboard is not running inside a proxy, so it cannot show what the proxy enforces. Open the dashboard the proxy serves (perimeter run).'), { id: 'policies' }));
    return out;
  }
  const ps = eff.policies || [];
  const ls = eff.limits || [];
  const blocked = ps.filter((p) => p.action === 'block').reduce((n, p) => n + Number(p.decisions || 0), 0);
  const redacted = ps.filter((p) => p.action === 'redact').reduce((n, p) => n + Number(p.decisions || 0), 0);
  const limited = ls.reduce((n, l) => n + Number(l.limited || 0), 0);
  out.push(h('div', { class: 'kpis' },
    kpiCard('Blocked', blocked, 'policy decisions', 'blocked'),
    kpiCard('Redacted', redacted, 'policy decisions', 'redacted'),
    kpiCard('Limited', limited, 'calls refused (429)', 'limited')));

  out.push(panel('Guard policies', ps.length ? table([
    { label: '#', num: true, value: (p) => f.int(p.order) },
    { label: 'Policy', cls: 'mono', value: (p) => p.name },
    { label: 'Action', value: (p) => badge(p.action, actionClass[p.action] || 'info') },
    { label: 'Matches', cls: 'wrap', value: (p) => matchChips(p.match || {}) },
    { label: 'Decisions', num: true, value: (p) => f.int(p.decisions) },
    { label: 'Last event', cls: 'wrap', value: (p) => lastPolicyEvent(p.last_event) },
  ], ps, { key: (p) => p.name }) : empty('No guard policies',
    'Nothing is blocked or redacted inline. Add policies: { guard: [...] } to the proxy\'s config, or set detect.guard to block or redact.'),
  { id: 'guard-policies', hint: ps.length ? `${f.plural(ps.length, 'policy', 'policies')}, tried in this order; ${f.plural(Number(eff.custom_rules || 0), 'custom rule')}` : '' }));

  out.push(panel('Limits', ls.length ? table([
    { label: 'Limit', cls: 'mono', value: (l) => l.name },
    { label: 'Per', value: (l) => h('span', {}, l.scope, ' ', h('span', { class: 'mono muted' }, l.match)) },
    { label: 'Allows', cls: 'wrap', value: (l) => h('span', { class: 'chips inline' }, Object.entries(l.limits || {}).map(([k, v]) => h('span', { class: 'chip' }, `${k.replaceAll('_', ' ')}: ${f.int(v)}`))) },
    { label: 'Action', value: (l) => badge(l.action, l.action === 'block' ? 'error' : 'info') },
    { label: 'Keys', num: true, value: (l) => f.int(l.keys_tracked) },
    { label: 'Limited', num: true, value: (l) => f.int(l.limited) },
    { label: 'Monitored', num: true, value: (l) => f.int(l.monitored) },
    { label: 'Last event', cls: 'wrap', value: (l) => lastLimitEvent(l.last_event) },
  ], ls, { key: (l) => l.name }) : empty('No limits', 'No budget or rate limit applies. Add limits: [...] to the proxy\'s config.'),
  { id: 'limits', hint: ls.length ? 'counted in memory, per proxy instance' : '' }));

  const al = eff.alerts;
  out.push(panel('Alert deliveries', al ? h('div', {},
    h('p', { class: 'muted panel-body' }, `${f.int(al.received)} raised · ${f.int(al.deduplicated)} deduplicated · ${f.int(al.rate_limited)} over the per-minute cap · ${f.int(al.dropped)} dropped (queue full)`),
    table([
      { label: 'Destination', cls: 'mono', value: (d) => d.destination },
      { label: 'Sent', num: true, value: (d) => f.int(d.sent) },
      { label: 'Failed', num: true, value: (d) => (Number(d.failed) ? h('span', { class: 'badge error' }, f.int(d.failed)) : h('span', { class: 'muted' }, '0')) },
      { label: 'Retries', num: true, value: (d) => f.int(d.retries) },
      { label: 'Queued', num: true, value: (d) => f.int(d.queued) },
      { label: 'Last error', cls: 'wrap', value: (d) => h('span', { class: d.last_error ? '' : 'muted' }, d.last_error || '—') },
    ], al.destinations || [], { key: (d) => d.destination })) : empty('No alert destinations',
    'Findings, budget thresholds and blocks are not sent anywhere. Add alerts: { destinations: [...] } (webhook, slack or log) to the proxy\'s config.'),
  { id: 'alerts' }));
  return out;
}

function kpiCard(label, n, note, id) {
  return h('div', { class: 'kpi', dataset: { kpi: id } },
    h('div', { class: 'kpi-label' }, label), h('div', { class: 'kpi-value' }, f.int(n)), h('div', { class: 'kpi-note' }, note));
}

function matchChips(m) {
  const chips = [];
  const add = (k, v) => chips.push(h('span', { class: 'chip' }, `${k}: ${Array.isArray(v) ? v.join(', ') : v}`));
  for (const k of ['rules', 'categories', 'agents', 'workflows', 'tags']) if (m[k] && m[k].length) add(k, m[k]);
  if (m.min_severity && m.min_severity !== 'info') add('severity ≥', m.min_severity);
  if (m.directions) add('direction', m.directions);
  if (m.sources && m.sources.length < 5) add('sources', m.sources);
  return chips.length ? h('span', { class: 'chips inline' }, chips) : h('span', { class: 'muted' }, 'every finding');
}

function lastPolicyEvent(e) {
  if (!e) return h('span', { class: 'muted' }, 'none yet');
  return h('span', {}, h('span', { class: 'muted' }, f.relative(e.time), ' · '), severityBadge(e.severity), ' ',
    h('span', { class: 'mono' }, e.rule), e.agent ? [' · ', agentLink(e.agent)] : null,
    h('span', { class: 'muted' }, ` · ${e.direction} ${e.source}`));
}

function lastLimitEvent(e) {
  if (!e) return h('span', { class: 'muted' }, 'none yet');
  return h('span', {}, h('span', { class: 'muted' }, f.relative(e.time), ' · '), badge(e.action, e.action === 'limited' ? 'error' : 'info'), ' ',
    h('span', { class: 'mono' }, e.key), h('span', { class: 'muted' }, ` ${String(e.kind).replaceAll('_', ' ')} ${e.used} of ${e.max}`));
}
