// Agents: every agent seen, with volume, latency, errors and risk.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import { bar, palette } from '../charts.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, riskScore, badge, levelClass } from '../ui.js';
import { errorsCell } from '../components/sessions.js';
import { wfLink, wfName } from '../workflow.js';

export function mount(root, { query }) {
  const state = {};
  const wf = query.get('workflow') || '';
  return {
    async refresh() {
      const data = await get('/api/agents', { agent_workflow_id: wf });
      if (!changed(state, data)) return;
      root.replaceChildren(...render(data, wf));
    },
  };
}

function render(data, wf) {
  const agents = data.agents || [];
  const out = [pageHead({
    title: 'Agents',
    sub: (wf ? `In ${wfName(wf)}. ` : '') + 'An agent is a system prompt and tool set (or an x-cylestio-agent-id header).',
    crumbs: wf ? [{ text: 'Workflows', href: '#/workflows' }, { text: wfName(wf), href: wfLink('', wf) }] : null,
  })];
  const banner = storageBanner(data.storage);
  if (banner) out.push(banner);
  if (!agents.length) {
    out.push(panel(null, empty('No agents yet', 'Agents appear as soon as their first call passes the proxy.')));
    return out;
  }
  const maxTok = Math.max(1, ...agents.map((a) => Number(a.total_tokens) || 0));
  out.push(panel(null, table([
    { label: 'Agent', value: (a) => a.id, cls: 'id' },
    { label: 'Sessions', num: true, value: (a) => h('span', {}, f.int(a.total_sessions), Number(a.active_sessions) ? h('span', { class: 'muted' }, ` · ${f.int(a.active_sessions)} active`) : null) },
    { label: 'Requests', num: true, value: (a) => f.int(a.total_requests) },
    { label: 'Tokens', num: true, value: (a) => h('span', {}, f.compact(a.total_tokens), ' ', bar(Number(a.total_tokens) || 0, maxTok, palette.teal)) },
    { label: 'Avg latency', num: true, value: (a) => f.ms(a.avg_response_time_ms) },
    { label: 'Tools', num: true, value: (a) => h('span', {}, f.int(a.total_tools), h('span', { class: 'muted' }, ` · ${f.plural(a.unique_tools, 'kind')}`)) },
    { label: 'Errors', num: true, value: (a) => errorsCell(a.total_errors, a.error_rate) },
    { label: 'Findings', num: true, value: (a) => f.int(a.findings_count) },
    { label: 'Risk', value: (a) => riskCell(a) },
    { label: 'Last seen', value: (a) => h('span', { class: 'muted' }, a.last_seen_relative || f.relative(a.last_seen)) },
  ], agents, { href: (a) => route('agent', a.id), key: (a) => a.id }), { id: 'agents-table' }));
  return out;
}

export function riskCell(a) {
  const lvl = String(a.risk_level || 'none');
  return h('span', {}, riskScore(a.risk_score), ' ', lvl === 'none' ? null : badge(lvl, levelClass(lvl)));
}

