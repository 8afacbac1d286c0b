// Overview: KPI cards, time-series charts, agents and recent sessions.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import { timeSeries, palette } from '../charts.js';
import * as f from '../format.js';
import { pageHead, panel, kpi, table, storageBanner, empty, changed, rangePicker, setQuery, riskScore, badge, cost, RANGES, RANGE_NAMES, BUCKETS, fitRange } from '../ui.js';
import { UNASSIGNED, wfLink, wfPath } from '../workflow.js';
import { gatePanel } from '../components/recommendations.js';
import { sessionsTable, errorsCell } from '../components/sessions.js';
import { costKPI } from '../components/cost.js';

export function mount(root, { query }) {
  let range = RANGES.includes(query.get('range')) ? query.get('range') : null;
  const wf = query.get('workflow') || '';
  const state = {};
  let config = null;
  return {
    async refresh() {
      const dash = await get('/api/dashboard', { agent_workflow_id: wf });
      // Without a choice in the URL, the window fits the traffic: a fresh
      // install shows its first minutes, not a flat hour.
      if (!range) range = fitRange((dash.agents || []).map((a) => a.first_seen));
      if (wf) {
        // A scoped overview: its totals, the gate, its requests over time
        // and its sessions.
        const ready = wf === UNASSIGNED ? null : await get(wfPath('/api/workflow/', wf, '/production-readiness')).catch(() => null);
        const ts = await get('/api/timeseries', { range, bucket: BUCKETS[range], agent_workflow_id: wf });
        if (!config) config = await get('/api/config').catch(() => ({}));
        if (!changed(state, dash, ready, ts)) return;
        root.replaceChildren(...renderScoped(wf, dash, ready, config, ts));
        return;
      }
      const ts = await get('/api/timeseries', { range, bucket: BUCKETS[range] });
      if (!config) config = await get('/api/config').catch(() => ({}));
      // Models without a price are named only when some call had one.
      const costs = Number(dash.kpis?.unpriced_calls) ? await get('/api/cost').catch(() => null) : null;
      if (!changed(state, dash, ts, costs)) return;
      root.replaceChildren(...render(dash, ts, range, config, costs));
    },
  };
}

// requestsPanel charts requests and errors per bucket.
function requestsPanel(ts) {
  const pts = ts.points || [];
  return panel('Requests and errors', h('div', { class: 'panel-body' }, timeSeries({
    x: pts.map((p) => p.t), kind: 'bar', integer: true, format: f.compact, label: 'Requests and errors over time',
    series: [
      { name: 'Succeeded', color: palette.blue, values: pts.map((p) => Math.max(0, (Number(p.requests) || 0) - (Number(p.errors) || 0))) },
      { name: 'Errors', color: palette.red, values: pts.map((p) => Number(p.errors) || 0) },
    ],
  })), { hint: `per ${f.bucketLabel(ts.bucket_seconds)}`, id: 'scoped-requests' });
}

// renderScoped is the overview of one agent workflow.
function renderScoped(wf, dash, ready, config, ts) {
  const k = dash.kpis || {};
  const out = [pageHead({
    title: wf === UNASSIGNED ? 'Unassigned traffic' : `Workflow ${wf}`,
    sub: wf === UNASSIGNED ? 'Agents called without an /agent-workflow/{id}/ route.' : 'Totals over the sessions of this agent workflow.',
    crumbs: [{ text: 'Workflows', href: '#/workflows' }],
    actions: h('a', { class: 'button', href: '#/' }, 'All traffic'),
  })];
  const banner = storageBanner(dash.storage);
  if (banner) return [...out, banner];
  if (ready) out.push(gatePanel(ready, null), h('div', { class: 'wf-links' },
    ['recommendations', 'static-analysis', 'dynamic-analysis', 'reports', 'dev-connection'].map((p, i) => [i ? ' · ' : '',
      h('a', { href: wfLink(p, wf) }, { recommendations: 'Recommendations', 'static-analysis': 'Static analysis', 'dynamic-analysis': 'Dynamic analysis', reports: 'Reports', 'dev-connection': 'Dev connection' }[p])])));
  out.push(h('div', { class: 'kpis' },
    kpi({ label: 'Requests', value: big(k.total_requests), note: `${f.compact(k.total_events)} events captured`, testid: 'requests' }),
    kpi({ label: 'Tokens', value: f.compact(k.total_tokens), note: `${f.compact(k.input_tokens)} in · ${f.compact(k.output_tokens)} out`, testid: 'tokens' }),
    costKPI(k),
    kpi({ label: 'Latency p50', value: f.ms(k.p50_response_time_ms), note: `p99 ${f.ms(k.p99_response_time_ms)} · avg ${f.ms(k.avg_response_time_ms)}`, testid: 'latency' }),
    kpi({ label: 'Errors', value: big(k.total_errors), note: `${f.pct(k.error_rate)} of requests`, alert: Number(k.error_rate) >= 5, testid: 'errors' }),
    sessionsKPI(k, dash),
    kpi({ label: 'Tool calls', value: big(k.total_tool_calls), note: 'in this workflow', testid: 'tools' }),
    kpi({ label: 'Findings', value: f.int(k.total_findings), note: `${f.int(k.high_findings)} high or critical at run time`, alert: Number(k.high_findings) > 0, testid: 'findings' })));
  const agents = dash.agents || [];
  if (!agents.length) {
    out.push(panel(null, emptyWorkflow(wf, config), { cls: 'getting-started' }));
    return out;
  }
  out.push(requestsPanel(ts));
  out.push(panel('Agents', agentsTable(agents), { hint: `${agents.length} by last activity`, id: 'agents' }));
  const sessions = dash.recent_sessions || [];
  out.push(panel('Recent sessions', sessions.length ? sessionsTable(sessions) : empty('No sessions yet'), {
    hint: h('a', { href: wfLink('sessions', wf) }, `All ${f.plural(dash.sessions_count, 'session')} →`), id: 'recent-sessions',
  }));
  return out;
}

function emptyWorkflow(wf, config) {
  const host = (config && config.proxy_host) || '127.0.0.1';
  const port = (config && config.proxy_port) || 4000;
  return h('div', { class: 'empty', dataset: { testid: 'no-traffic' } },
    h('h2', {}, 'No traffic in this workflow yet'),
    h('p', {}, 'Send the agent\'s calls to ', h('code', {}, `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/agent-workflow/${wf === UNASSIGNED ? '{id}' : wf}`), ' instead of the provider.'),
    h('p', {}, h('a', { href: '#/connect' + (wf === UNASSIGNED ? '' : '?workflow=' + encodeURIComponent(wf)) }, 'Connection instructions →')));
}

function agentsTable(agents) {
  return table([
    { label: 'Agent', value: (a) => a.id, cls: 'id' },
    { label: 'Sessions', num: true, value: (a) => f.int(a.total_sessions) },
    { label: 'Requests', num: true, value: (a) => f.int(a.total_requests) },
    { label: 'Tokens', num: true, value: (a) => f.compact(a.total_tokens) },
    { label: 'Avg latency', num: true, value: (a) => f.ms(a.avg_response_time_ms) },
    { label: 'Errors', num: true, value: (a) => errorsCell(a.total_errors, a.error_rate) },
    { label: 'Cost', num: true, value: (a) => cost(a) },
    { label: 'Findings', num: true, value: (a) => f.int(a.findings_count) },
    { label: 'Risk', num: true, value: (a) => riskScore(a.risk_score) },
    { label: 'Last seen', value: (a) => h('span', { class: 'muted' }, a.last_seen_relative || f.relative(a.last_seen)) },
  ], agents, { href: (a) => route('agent', a.id), key: (a) => a.id });
}

function render(dash, ts, range, config, costs) {
  const k = dash.kpis || {};
  const pts = ts.points || [];
  const col = (name) => pts.map((p) => Number(p[name]) || 0);
  const x = pts.map((p) => p.t);
  // Latency only exists where calls completed: elsewhere it is a gap, not 0.
  const answered = (name) => pts.map((p) => (Number(p.requests) > Number(p.errors) ? Number(p[name]) || 0 : null));
  const banner = storageBanner(dash.storage);
  if (banner) {
    // Without a store every number would be a zero: say why, and only that.
    return [pageHead({ title: 'Overview', sub: 'Traffic is proxied, but nothing is being recorded for this dashboard.' }), banner];
  }
  const out = [pageHead({
    title: 'Overview',
    sub: `Totals for every call through the proxy; charts over the last ${RANGE_NAMES[range]}.`,
    actions: rangePicker(range, RANGES, (r) => setQuery({ range: r })),
  })];

  out.push(h('div', { class: 'kpis' },
    kpi({ label: 'Requests', value: big(k.total_requests), note: `${f.compact(k.total_events)} events captured`, spark: col('requests'), testid: 'requests' }),
    kpi({ label: 'Tokens', value: f.compact(k.total_tokens), note: `${f.compact(k.input_tokens)} in · ${f.compact(k.output_tokens)} out`, spark: col('tokens'), color: palette.teal, testid: 'tokens' }),
    costKPI(k, col('cost_usd')),
    kpi({ label: 'Latency p50', value: f.ms(k.p50_response_time_ms), note: `p99 ${f.ms(k.p99_response_time_ms)} · avg ${f.ms(k.avg_response_time_ms)}`, spark: col('p50_ms'), color: palette.violet, testid: 'latency' }),
    kpi({ label: 'Errors', value: big(k.total_errors), note: `${f.pct(k.error_rate)} of requests`, spark: col('errors'), color: palette.red, alert: Number(k.error_rate) >= 5, testid: 'errors' }),
    sessionsKPI(k, dash),
    kpi({ label: 'Tool calls', value: big(k.total_tool_calls), note: Number(k.total_sessions) ? `${(Number(k.total_tool_calls) / Number(k.total_sessions)).toFixed(1)} per session` : 'none yet', spark: col('tool_calls'), color: palette.violet, testid: 'tools' }),
    kpi({ label: 'Findings', value: f.int(k.total_findings), note: `${f.int(k.high_findings)} high or critical · ${f.plural(k.risky_sessions, 'risky session')}`, spark: col('findings'), color: palette.red, alert: Number(k.high_findings) > 0, testid: 'findings' }),
  ));

  const noTraffic = !Number(k.total_events) && dash.storage && dash.storage.available !== false;
  if (noTraffic) {
    out.push(panel(null, emptyTraffic(config), { cls: 'getting-started' }));
    return out;
  }

  const peakRisk = Math.max(0, ...col('risk_max'));
  out.push(h('div', { class: 'grid two' },
    requestsPanel(ts),
    panel('Tokens', h('div', { class: 'panel-body' }, timeSeries({
      x, kind: 'bar', integer: true, format: f.compact, label: 'Tokens over time',
      series: [
        { name: 'Input', color: palette.teal, values: col('input_tokens') },
        { name: 'Output', color: palette.amber, values: col('output_tokens') },
      ],
    })), { hint: `per ${f.bucketLabel(ts.bucket_seconds)}` }),
    panel('Latency', h('div', { class: 'panel-body' }, timeSeries({
      x, kind: 'line', format: f.ms, label: 'Latency percentiles over time',
      series: [
        { name: 'p50', color: palette.blue, values: answered('p50_ms') },
        { name: 'p99', color: palette.violet, values: answered('p99_ms') },
        { name: 'avg', color: palette.slate, values: answered('avg_ms'), dash: '4 3' },
      ],
    })), { hint: 'completed calls' }),
    panel('Security findings', h('div', { class: 'panel-body' }, timeSeries({
      x, kind: 'bar', integer: true, format: f.compact, label: 'Findings over time',
      series: [
        { name: 'High or critical', color: palette.red, values: col('high_findings') },
        { name: 'Other', color: palette.amber, values: pts.map((p) => Math.max(0, (Number(p.findings) || 0) - (Number(p.high_findings) || 0))) },
      ],
    })), { hint: peakRisk > 0 ? `peak risk score ${Math.round(peakRisk)}` : 'risk score 0' }),
  ));

  const agents = dash.agents || [];
  out.push(panel('Agents', agents.length ? agentsTable(agents) : empty('No agents yet'), { hint: `${agents.length} by last activity`, id: 'agents' }));
  const unpriced = (costs && costs.unpriced_models) || [];
  if (unpriced.length) out.push(unpricedPanel(unpriced));

  const sessions = dash.recent_sessions || [];
  out.push(panel('Recent sessions', sessions.length ? sessionsTable(sessions) : empty('No sessions yet'), {
    hint: h('a', { href: '#/sessions' }, `All ${f.plural(dash.sessions_count, 'session')} →`), id: 'recent-sessions',
  }));
  return out;
}

// sessionsKPI counts sessions and the agents they belong to (one card,
// so that the cost card fits the row of four).
function sessionsKPI(k, dash) {
  const agents = k.total_agents ?? (dash.agents || []).length;
  const last = dash.latest_session ? ` · last ${dash.latest_session.last_activity}` : '';
  return kpi({ label: 'Sessions', value: f.int(k.total_sessions ?? dash.sessions_count),
    note: `${f.plural(agents, 'agent')} · ${f.int(k.active_sessions)} active${last}`, testid: 'sessions' });
}

// unpricedPanel names the models whose calls have no price, with what to
// do about it.
function unpricedPanel(models) {
  return panel('Models without a price', h('div', {},
    table([
      { label: 'Model', value: (m) => h('span', { class: 'mono' }, m.model) },
      { label: 'Vendor', value: (m) => m.vendor || '—' },
      { label: 'Unpriced calls', num: true, value: (m) => f.int(m.calls) },
      { label: 'Last seen', value: (m) => h('span', { class: 'muted' }, f.relative(m.last_seen)) },
      { label: '', value: (m) => (m.priced_now ? badge('priced now', 'outline') : '') },
    ], models, { key: (m) => m.model }),
    h('p', { class: 'panel-body muted' }, 'Their calls are left out of the cost, never counted as $0. ',
      'To price them, add each to ', h('code', {}, 'pricing.models'), ' in the config (USD per 1M tokens: ',
      h('code', {}, 'input'), ', ', h('code', {}, 'output'), ', ', h('code', {}, 'cached_input'), '…), or point ',
      h('code', {}, 'pricing.file'), ' / ', h('code', {}, 'pricing.url'), ' at a newer price table. Calls already stored keep their status.')),
  { hint: `${f.plural(models.length, 'model')}`, id: 'unpriced-models' });
}

// big keeps KPI numbers short enough for their card.
function big(n) {
  return Number(n) >= 100000 ? f.compact(n) : f.int(n);
}

function emptyTraffic(config) {
  const host = (config && config.proxy_host) || '127.0.0.1';
  const port = (config && config.proxy_port) || 4000;
  const base = `http://${host}:${port}`;
  return h('div', { class: 'empty', dataset: { testid: 'no-traffic' } },
    h('h2', {}, 'No traffic yet'),
    h('p', {}, 'Send your agent\'s LLM calls through the proxy and they appear here within two seconds.'),
    h('p', {}, 'OpenAI clients: ', h('code', {}, `OPENAI_BASE_URL=${base}/v1`), '  ·  Anthropic clients: ', h('code', {}, `ANTHROPIC_BASE_URL=${base}`)),
    h('p', {}, 'No API key at hand? ', h('code', {}, 'make demo'), ' runs a mock provider and a small fleet of agents.'));
}
