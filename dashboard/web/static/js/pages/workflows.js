// Workflows home: every agent workflow (agents sent through the proxy's
// /agent-workflow/{id}/ route, or analysed from an IDE) with its agents,
// sessions, cost, errors, open findings and production gate.

import { h } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, cost } from '../ui.js';
import { gateBadge, wfLink, wfName, UNASSIGNED } from '../workflow.js';

export function mount(root) {
  const state = {};
  return {
    async refresh() {
      const data = await get('/api/agent-workflows');
      if (!changed(state, data)) return;
      root.replaceChildren(...render(data));
    },
  };
}

function render(data) {
  const wfs = data.agent_workflows || [];
  const out = [pageHead({
    title: 'Agent workflows',
    sub: 'A workflow groups the agents of one application: their traffic, the findings of its security reviews, the work to fix them and the gate that says whether it may ship.',
    actions: h('a', { class: 'button', href: '#/connect' }, 'Connect an agent'),
  })];
  const banner = storageBanner(data.storage);
  if (banner) out.push(banner);
  if (!wfs.length) {
    out.push(panel(null, empty('No agent workflows yet',
      'Point an agent at http://127.0.0.1:4000/agent-workflow/{id}/… (instead of the provider\'s base URL) and its traffic is grouped under that workflow.',
      h('a', { href: '#/connect' }, 'How to connect an agent or an IDE →')), { id: 'workflows' }));
    return out;
  }
  const id = (w) => (w.id === null || w.id === undefined ? UNASSIGNED : String(w.id));
  out.push(panel('Workflows', table([
    { label: 'Workflow', value: (w) => h('span', { class: w.id ? 'mono' : 'muted' }, w.id ? (w.name && w.name !== w.id ? `${w.name} (${w.id})` : w.id) : wfName(null)), cls: 'id wf-id' },
    { label: 'Agents', cls: 'wrap', value: (w) => agentsCell(w) },
    { label: 'Sessions', num: true, value: (w) => f.int(w.session_count) },
    { label: 'Errors', num: true, value: (w) => (Number(w.error_count) ? h('span', { class: 'badge error' }, f.int(w.error_count)) : h('span', { class: 'muted' }, '0')) },
    { label: 'Open findings', num: true, value: (w) => (w.id ? h('span', { class: Number(w.open_findings) ? 'flag' : 'muted' }, f.int(w.open_findings)) : h('span', { class: 'muted' }, '—')) },
    { label: 'Cost', num: true, value: (w) => cost(w) },
    { label: 'Gate', value: (w) => (w.id ? gateCell(w) : h('span', { class: 'muted' }, '—')) },
    { label: 'Last seen', value: (w) => h('span', { class: 'muted' }, w.last_seen_relative || f.relative(w.last_seen)) },
    { label: '', value: (w) => (w.id ? h('span', { class: 'row-links' },
      h('a', { href: wfLink('recommendations', id(w)) }, 'Recommendations'), ' · ',
      h('a', { href: wfLink('reports', id(w)) }, 'Reports')) : null) },
  ], wfs, { href: (w) => wfLink('', id(w)), key: id }), { id: 'workflows', hint: `${wfs.length} by id; a row opens its overview` }));
  return out;
}

function agentsCell(w) {
  const agents = w.agents || [];
  const n = Number(w.agent_count) || agents.length;
  if (!agents.length) return h('span', { class: 'muted' }, f.plural(n, 'agent'));
  const shown = agents.slice(0, 3).map((a) => h('span', { class: 'chip' }, f.short(a, 24)));
  return h('span', { class: 'chips inline' }, shown, n > shown.length ? h('span', { class: 'muted' }, `+${n - shown.length}`) : null);
}

function gateCell(w) {
  return h('span', {}, gateBadge(w.gate_state), Number(w.blocking_count) ? h('span', { class: 'muted small' }, ` ${f.int(w.blocking_count)} blocking`) : null,
    w.has_static_analysis ? null : h('span', { class: 'muted small', title: 'No static analysis yet' }, ' · not reviewed'));
}
