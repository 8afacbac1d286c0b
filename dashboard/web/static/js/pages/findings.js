// Findings: every security finding detection raised (prompt injection, PII,
// secrets, …), filterable, newest first, linked to the event it was found in.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, setQuery, severityBadge, riskScore } from '../ui.js';
import { UNASSIGNED, wfLink, wfName, wfPath, statusBadge } from '../workflow.js';

const PAGE = 50;
const LEVELS = [['', 'Any severity'], ['critical', 'Critical'], ['high', 'High and above'], ['medium', 'Medium and above'], ['low', 'Low and above']];
const RANGES = [['', 'Any time'], ['15m', 'Last 15 min'], ['1h', 'Last hour'], ['24h', 'Last 24 h'], ['7d', 'Last 7 days']];

export function mount(root, { query }) {
  const filters = {
    min: query.get('min_severity') || '',
    category: query.get('category') || '',
    agent: query.get('agent') || '',
    range: query.get('range') || '',
    workflow: query.get('workflow') || '',
  };
  const page = Math.max(0, parseInt(query.get('page') || '0', 10) || 0);
  const state = {};
  const bar = h('div', {});
  const summary = h('div', {});
  const body = h('div', {});
  const wf = filters.workflow;
  // A workflow's own findings (from its static and dynamic analyses, with
  // their lifecycle) come first when the page is scoped to one.
  const wfSlot = h('div', {});
  const scopeNote = h('div', {});
  root.replaceChildren(
    pageHead({
      title: 'Findings',
      sub: (wf ? `In ${wfName(wf)}. ` : '') + 'What detection found in prompts, tool arguments, tool results and answers: prompt injection, PII, secrets and more.',
      crumbs: wf ? [{ text: 'Workflows', href: '#/workflows' }, { text: wfName(wf), href: wfLink('', wf) }] : null,
    }),
    h('div', { class: 'banner-slot' }), wfSlot, summary, panel(wf ? 'Runtime detections' : null, [scopeNote, bar, body], { id: 'findings' }));
  return {
    async refresh() {
      const [data, agents, wfFindings] = await Promise.all([
        get('/api/findings', { min_severity: filters.min, category: filters.category, agent_id: filters.agent, range: filters.range, agent_workflow_id: wf, limit: PAGE, offset: page * PAGE }),
        get('/api/agents', { agent_workflow_id: wf }),
        wf && wf !== UNASSIGNED ? get(wfPath('/api/agent-workflow/', wf, '/findings'), { limit: 200 }) : Promise.resolve(null),
      ]);
      if (!changed(state, data, (agents.agents || []).map((a) => a.id), wfFindings)) return;
      wfSlot.replaceChildren(...(wfFindings ? [workflowFindings(wf, wfFindings)] : []));
      // Runtime detections are scoped when the API says it filtered them.
      const scoped = !wf || (data.filters && data.filters.agent_workflow_id === wf);
      scopeNote.replaceChildren(...(scoped ? [] : [h('p', { class: 'muted small scope-note' }, 'Runtime detections are not kept per workflow: these are every agent\'s. Pick an agent to narrow them.')]));
      const banner = storageBanner(data.storage);
      root.querySelector('.banner-slot').replaceChildren(...(banner ? [banner] : []));
      const by = (data.summary && data.summary.by_severity) || {};
      summary.replaceChildren(h('div', { class: 'kpis sev-kpis' },
        ['critical', 'high', 'medium', 'low'].map((s) => h('button', {
          type: 'button', class: ['kpi', 'sev-kpi', s, filters.min === s && 'on'],
          onclick: () => setQuery({ min_severity: filters.min === s ? null : s, page: null }),
          attrs: { 'aria-label': `Show ${s} and above` },
        }, h('div', { class: 'kpi-label' }, severityBadge(s)), h('div', { class: 'kpi-value' }, f.int(by[s] || 0)), h('div', { class: 'kpi-note' }, s === 'critical' ? 'most severe' : `${f.int(atLeast(by, s))} at ${s} or above`)))));
      bar.replaceChildren(filterBar(filters, Object.keys((data.summary && data.summary.by_category) || {}), (agents.agents || []).map((a) => a.id)));
      const rows = data.findings || [];
      if (!rows.length) {
        const filtered = filters.min || filters.category || filters.agent || filters.range;
        body.replaceChildren(filtered
          ? empty('No findings match these filters', h('a', { href: wfLink('findings', wf) }, 'Clear filters'))
          : empty('No findings', 'Nothing risky has been detected in the traffic so far. Prompt injection, PII, leaked secrets and risky tool use show up here.'));
        return;
      }
      const total = Number(data.total_count) || rows.length;
      body.replaceChildren(table([
        { label: 'When', value: (r) => h('span', { class: 'muted', title: f.dateTime(r.timestamp) }, f.relative(r.timestamp)) },
        { label: 'Severity', value: (r) => severityBadge(r.severity) },
        { label: 'Finding', cls: 'two-line', value: (r) => h('div', {}, h('div', { class: 'mono' }, r.rule), h('div', { class: 'muted small' }, String(r.category || '').replace(/_/g, ' ') + (r.owasp ? ` · ${r.owasp}` : ''))) },
        { label: 'Evidence', cls: 'wrap evidence-cell', value: (r) => h('code', {}, f.truncate(r.evidence, 90)) },
        { label: 'Found in', value: (r) => h('span', { class: 'muted' }, foundIn(r.source_event_name)) },
        { label: 'Agent', value: (r) => h('a', { href: route('agent', r.agent_id), class: 'mono' }, f.short(r.agent_id, 20)) },
        { label: 'Risk', num: true, value: (r) => riskScore(r.risk_score) },
      ], rows, {
        href: (r) => route('session', r.session_id) + '?event=' + encodeURIComponent(r.source_event_id || r.id),
        key: (r) => r.id,
      }), h('div', { class: 'pager' },
        h('span', {}, `${f.int(page * PAGE + 1)}–${f.int(page * PAGE + rows.length)} of ${f.int(total)}`),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', disabled: page === 0, onclick: () => setQuery({ page: page - 1 || null }) }, '← Newer'),
          h('button', { type: 'button', disabled: !data.has_more, onclick: () => setQuery({ page: page + 1 }) }, 'Older →'))));
    },
  };
}

function foundIn(name) {
  return { 'llm.call.start': 'request', 'llm.call.finish': 'answer', 'tool.execution': 'tool call', 'tool.result': 'tool result' }[name] || name || '—';
}

function atLeast(by, sev) {
  const order = ['critical', 'high', 'medium', 'low', 'info'];
  return order.slice(0, order.indexOf(sev) + 1).reduce((n, s) => n + (Number(by[s]) || 0), 0);
}

function filterBar(filters, categories, agents) {
  const cats = new Set(categories);
  if (filters.category) cats.add(filters.category);
  const ags = new Set(agents);
  if (filters.agent) ags.add(filters.agent);
  const sel = (name, key, options, label) => h('label', { class: 'field' }, label,
    h('select', { name, onchange: (e) => setQuery({ [key]: e.target.value, page: null }) },
      options.map(([v, t]) => h('option', { value: v, selected: v === filters[name] }, t))));
  return h('div', { class: 'filters' },
    sel('min', 'min_severity', LEVELS, 'Severity'),
    sel('category', 'category', [['', 'All categories'], ...[...cats].sort().map((c) => [c, c.replace(/_/g, ' ')])], 'Category'),
    sel('agent', 'agent', [['', 'All agents'], ...[...ags].map((a) => [a, f.short(a, 40)])], 'Agent'),
    sel('range', 'range', RANGES, 'When'));
}

// workflowFindings lists a workflow's analysis findings with their status
// and the recommendation each became.
function workflowFindings(wf, list) {
  const rows = list.findings || [];
  const sum = list.summary || {};
  const open = (sum.by_status || {}).OPEN || 0;
  return panel('Workflow findings', rows.length ? table([
    { label: 'Severity', value: (r) => severityBadge(r.severity) },
    { label: 'Status', value: (r) => statusBadge(r.status) },
    { label: 'Finding', cls: 'wrap', value: (r) => h('div', {}, h('div', {}, r.title), h('div', { class: 'muted small' }, [r.source_type, r.finding_type, (r.owasp_mapping || []).join(', ')].filter(Boolean).join(' · '))) },
    { label: 'Where', cls: 'wrap', value: (r) => (r.file_path ? h('span', { class: 'mono small' }, f.truncate(r.file_path, 48) + (r.line_start ? ':' + r.line_start : '')) : h('span', { class: 'muted' }, 'runtime')) },
    { label: 'Correlation', value: (r) => (r.correlation_state ? h('span', { class: 'badge outline' }, r.correlation_state.toLowerCase().replace(/_/g, ' ')) : h('span', { class: 'muted' }, '—')) },
    { label: 'Recommendation', value: (r) => (r.recommendation_id ? h('a', { href: route('recommendation', r.recommendation_id) + '?workflow=' + encodeURIComponent(wf), class: 'mono' }, r.recommendation_id) : '—') },
  ], rows, { key: (r) => r.finding_id }) : empty('No analysis findings', 'Findings of static reviews and dynamic analyses of this workflow appear here.'),
  { id: 'workflow-findings', hint: `${f.int(open)} open of ${f.int(list.total_count ?? rows.length)}` });
}
