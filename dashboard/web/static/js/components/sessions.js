// Session and agent table pieces shared by the overview, agent, agents and
// sessions pages.

import { h, route } from '../dom.js';
import * as f from '../format.js';
import { table, riskScore, badge, cost } from '../ui.js';

export function sessionsTable(sessions, { showAgent = true } = {}) {
  return table([
    { label: 'Session', value: (r) => f.short(r.id, 13), cls: 'id' },
    showAgent ? { label: 'Agent', value: (r) => h('span', { class: 'mono' }, f.short(r.agent_id, 20)) } : null,
    { label: 'Status', value: (r) => statusBadge(r) },
    { label: 'Model', value: (r) => h('span', { class: 'mono' }, r.model || '—') },
    { label: 'Calls', num: true, value: (r) => f.int(r.message_count) },
    { label: 'Tools', num: true, value: (r) => f.int(r.tool_uses) },
    { label: 'Tokens', num: true, value: (r) => f.compact(r.total_tokens) },
    { label: 'Cost', num: true, value: (r) => cost(r) },
    { label: 'Errors', num: true, value: (r) => errorsCell(r.errors) },
    { label: 'Risk', num: true, value: (r) => (Number(r.findings_count) ? h('span', { title: f.plural(r.findings_count, 'finding') }, riskScore(r.risk_score), ' ', h('span', { class: 'flag' }, `⚑${f.int(r.findings_count)}`)) : h('span', { class: 'muted' }, '—')) },
    { label: 'Last active', value: (r) => h('span', { class: 'muted' }, r.last_activity_relative || f.relative(r.last_activity)) },
  ].filter(Boolean), sessions, { href: (r) => route('session', r.id), key: (r) => r.id });
}

export function statusBadge(r) {
  return r.is_active ? badge('Active', 'active') : badge('Completed', 'outline');
}

export function errorsCell(n, rate) {
  const v = Number(n) || 0;
  if (!v) return h('span', { class: 'muted' }, '0');
  return h('span', { class: 'badge error' }, f.int(v) + (rate !== undefined ? ` · ${f.pct(rate)}` : ''));
}
