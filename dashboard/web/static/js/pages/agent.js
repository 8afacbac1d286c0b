// Agent: totals, per-model tokens and latency, tools, risk, security checks, recent sessions.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import { timeSeries, bar, palette } from '../charts.js';
import * as f from '../format.js';
import { pageHead, panel, kpi, table, storageBanner, empty, changed, riskScore, severityBadge, badge, cost, RANGE_NAMES, BUCKETS, fitRange, levelClass } from '../ui.js';
import { sessionsTable } from '../components/sessions.js';
import { costKPI } from '../components/cost.js';
import { agentInfo } from '../components/agent_info.js';

export function mount(root, { params }) {
  const id = params.id;
  const state = {};
  // The name panel outlives the live re-renders (an edit in progress stays).
  const info = agentInfo(id);
  return {
    async refresh() {
      let data;
      try {
        data = await get('/api/agent/' + encodeURIComponent(id));
      } catch (e) {
        if (e.status === 404) {
          if (changed(state, 404)) root.replaceChildren(notFound(id));
          return;
        }
        throw e;
      }
      const range = fitRange([data.agent && data.agent.first_seen]);
      const [ts, sessions, toolDefs] = await Promise.all([
        get('/api/timeseries', { range, bucket: BUCKETS[range], agent_id: id }),
        get('/api/sessions/list', { agent_id: id, limit: 10 }),
        get('/api/findings', { agent_id: id, rule: 'llm01.tool_*', range: '30d', limit: 20 }).catch(() => null),
      ]);
      if (!info.loaded) await info.load();
      if (!changed(state, data, ts, sessions, toolDefs)) return;
      const out = render(id, data, ts, sessions, range, toolDefs);
      out.splice(out[1] && out[1].classList.contains('banner') ? 2 : 1, 0, info.el);
      root.replaceChildren(...out);
    },
  };
}

function notFound(id) {
  return h('div', {}, pageHead({ title: 'Agent not found', crumbs: [{ text: 'Agents', href: '#/agents' }] }),
    panel(null, empty('No events for this agent', `Nothing stored for agent ${id}.`, h('a', { href: '#/agents' }, 'See all agents'))));
}

function render(id, data, ts, sessions, range, toolDefs) {
  const a = data.agent || {};
  const an = data.analytics || {};
  const risk = data.risk_analysis || {};
  const pts = ts.points || [];
  const col = (n) => pts.map((p) => Number(p[n]) || 0);
  const out = [pageHead({
    title: id,
    crumbs: [{ text: 'Agents', href: '#/agents' }],
    sub: [(a.models || []).join(', ') || 'no model yet', `first seen ${f.dateTime(a.first_seen)}`, `last seen ${a.last_seen_relative || f.relative(a.last_seen)}`].join(' · '),
    actions: h('a', { href: '#/sessions?agent=' + encodeURIComponent(id) }, 'Sessions of this agent →'),
  })];
  const banner = storageBanner(data.storage);
  if (banner) out.push(banner);

  out.push(h('div', { class: 'kpis' },
    kpi({ label: 'Sessions', value: f.int(a.total_sessions), note: `${f.int(a.active_sessions)} active · ${f.minutes(a.avg_duration_minutes)} avg` }),
    kpi({ label: 'Requests', value: f.int(a.total_requests), note: `${f.plural(a.avg_messages_per_session, 'call')} per session`, spark: col('requests') }),
    kpi({ label: 'Tokens', value: f.compact(a.total_tokens), note: `${f.compact(a.input_tokens)} in · ${f.compact(a.output_tokens)} out`, spark: col('tokens'), color: palette.teal }),
    kpi({ label: 'Avg latency', value: f.ms(a.avg_response_time_ms), spark: col('p50_ms'), color: palette.violet }),
    kpi({ label: 'Errors', value: f.int(a.total_errors), note: `${f.pct(a.error_rate)} of requests`, alert: Number(a.error_rate) >= 5 }),
    kpi({ label: 'Tool calls', value: f.int(a.total_tools), note: `${f.plural(a.unique_tools, 'tool')} · ${f.pct(a.tools_utilization_percent)} of declared` }),
    kpi({ label: 'Risk score', value: riskScore(risk.risk_score ?? a.risk_score),
      note: `${f.plural(risk.findings_count ?? a.findings_count, 'finding')} · ${f.plural(risk.risky_sessions ?? a.risky_sessions, 'risky session')}`,
      alert: Number(risk.summary?.critical_issues) > 0 }),
    costKPI(an.token_summary || a, col('cost_usd')),
  ));

  const x = pts.map((p) => p.t);
  const answered = (name) => pts.map((p) => (Number(p.requests) > Number(p.errors) ? Number(p[name]) || 0 : null));
  const hint = `last ${RANGE_NAMES[range]}, per ${f.bucketLabel(ts.bucket_seconds)}`;
  out.push(h('div', { class: 'grid two' },
    panel('Requests and errors', h('div', { class: 'panel-body' }, timeSeries({
      x, kind: 'bar', integer: true, format: f.compact, height: 150, label: 'Requests over time',
      series: [
        { name: 'Succeeded', color: palette.blue, values: pts.map((p) => Math.max(0, (Number(p.requests) || 0) - (Number(p.errors) || 0))) },
        { name: 'Errors', color: palette.red, values: col('errors') },
      ],
    })), { hint }),
    panel('Latency', h('div', { class: 'panel-body' }, timeSeries({
      x, kind: 'line', format: f.ms, height: 150, label: 'Latency over time',
      series: [
        { name: 'p50', color: palette.blue, values: answered('p50_ms') },
        { name: 'p99', color: palette.violet, values: answered('p99_ms') },
      ],
    })), { hint })));

  const models = an.models || [];
  const maxTok = Math.max(1, ...models.map((m) => Number(m.total_tokens) || 0));
  out.push(panel('Models', models.length ? table([
    { label: 'Model', value: (m) => h('span', { class: 'mono' }, m.model) },
    { label: 'Vendor', value: (m) => m.vendor || '—' },
    { label: 'Requests', num: true, value: (m) => f.int(m.requests) },
    { label: 'Errors', num: true, value: (m) => (Number(m.errors) ? badge(f.int(m.errors), 'error') : h('span', { class: 'muted' }, '0')) },
    { label: 'Input', num: true, value: (m) => f.compact(m.input_tokens) },
    { label: 'Output', num: true, value: (m) => f.compact(m.output_tokens) },
    { label: 'Total tokens', num: true, value: (m) => h('span', {}, f.compact(m.total_tokens), ' ', bar(Number(m.total_tokens) || 0, maxTok, palette.teal)) },
    { label: 'Cost', num: true, value: (m) => cost(m) },
    { label: 'p50', num: true, value: (m) => f.ms(m.p50_response_time_ms) },
    { label: 'p95', num: true, value: (m) => f.ms(m.p95_response_time_ms) },
    { label: 'p99', num: true, value: (m) => f.ms(m.p99_response_time_ms) },
  ], models) : empty('No completed calls yet'), { hint: 'tokens, cost and latency per model', id: 'models' }));

  out.push(h('div', { class: 'grid two' }, toolsPanel(a, an.tools || [], toolDefs), riskPanel(risk)));
  out.push(checksPanel(risk));

  const rows = sessions.sessions || [];
  out.push(panel('Recent sessions', rows.length ? sessionsTable(rows, { showAgent: false }) : empty('No sessions'), {
    hint: h('a', { href: '#/sessions?agent=' + encodeURIComponent(id) }, `All ${f.int(sessions.total_count)} →`),
  }));
  return out;
}

// toolDefinitionFindings lists what detection found in the tool
// definitions the agent sent: hidden instructions (llm01.tool_poisoning),
// a tool shadowing another (llm01.tool_shadowing) and a definition that
// changed after first use (llm01.tool_definition_changed).
function toolDefinitionFindings(list) {
  const fs = (list && list.findings) || [];
  const names = { 'llm01.tool_poisoning': 'Hidden instructions', 'llm01.tool_shadowing': 'Shadows another tool', 'llm01.tool_definition_changed': 'Changed after first use' };
  return h('div', { class: 'panel-body', dataset: { testid: 'tool-definition-findings' } },
    h('h3', { class: 'subhead' }, 'Tool definitions'),
    fs.length ? table([
      { label: 'Tool', value: (x) => h('span', { class: 'mono' }, x.tool_name || '—') },
      { label: 'Finding', value: (x) => names[x.rule] || x.rule },
      { label: 'Severity', value: (x) => severityBadge(x.severity) },
      { label: 'Evidence', value: (x) => h('span', { class: 'muted' }, x.evidence || '') },
      { label: 'When', value: (x) => f.relative(x.timestamp) },
    ], fs) : h('p', { class: 'muted' }, 'No poisoned, shadowing or changed tool definitions seen in the last 30 days.'));
}

function toolsPanel(a, tools, toolDefs) {
  const declared = a.available_tools || [];
  const used = new Set(a.used_tools || []);
  const body = h('div', {});
  if (tools.length) {
    body.append(table([
      { label: 'Tool', value: (t) => h('span', { class: 'mono' }, t.tool) },
      { label: 'Calls', num: true, value: (t) => f.int(t.executions) },
      { label: 'Results', num: true, value: (t) => f.int(t.results) },
      { label: 'Failures', num: true, value: (t) => (Number(t.failures) ? badge(`${f.int(t.failures)} · ${f.pct(t.failure_rate)}`, 'error') : h('span', { class: 'muted' }, '0')) },
    ], tools));
  } else {
    body.append(empty('No tool calls yet'));
  }
  if (declared.length) {
    body.append(h('div', { class: 'panel-body' },
      h('h3', { class: 'subhead first' }, 'Declared tools (used ones highlighted)'),
      h('div', { class: 'chips' }, declared.map((t) => h('span', { class: ['chip', used.has(t) && 'used'] }, t)))));
  }
  if (toolDefs) body.append(toolDefinitionFindings(toolDefs));
  return panel('Tools', body, { id: 'tools' });
}

function riskPanel(risk) {
  const body = h('div', { class: 'panel-body' });
  const status = risk.evaluation_status;
  if (status !== 'COMPLETE') {
    body.append(empty(status === 'INSUFFICIENT_DATA' ? 'No sessions to assess yet' : 'No security findings',
      (risk.summary && risk.summary.message) || 'Detection found nothing risky in this agent\'s traffic.'));
    return panel('Risk', body, { id: 'risk' });
  }
  const sev = risk.by_severity || {};
  body.append(
    h('div', { class: 'chips sev-counts' },
      ['critical', 'high', 'medium', 'low', 'info'].filter((s) => Number(sev[s])).map((s) => h('span', {}, severityBadge(s), ' ', f.int(sev[s])))),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Risk score'), h('dd', {}, riskScore(risk.risk_score), ' ', badge(risk.risk_level || 'none', levelClass(risk.risk_level))),
      h('dt', {}, 'Sessions with findings'), h('dd', {}, `${f.int(risk.sessions_with_findings)} of ${f.int(risk.sessions_analyzed)} (${f.int(risk.risky_sessions)} risky)`),
      h('dt', {}, 'By category'), h('dd', {}, Object.entries(risk.by_category || {}).map(([c, n]) => `${c.replace(/_/g, ' ')} ${n}`).join(' · ') || '—')));
  const rules = risk.top_rules || [];
  if (rules.length) {
    body.append(h('h3', { class: 'subhead' }, 'Top rules'),
      h('ul', { class: 'rules' }, rules.slice(0, 5).map((r) => h('li', {}, severityBadge(r.severity), ' ', h('span', { class: 'mono' }, r.rule), h('span', { class: 'muted' }, ` · ${f.plural(r.count, 'hit')} in ${f.plural(r.sessions, 'session')}`)))));
  }
  const riskiest = risk.riskiest_sessions || [];
  if (riskiest.length) {
    body.append(h('h3', { class: 'subhead' }, 'Riskiest sessions'),
      h('ul', { class: 'rules' }, riskiest.map((s) => h('li', {},
        riskScore(s.risk_score), ' ', h('a', { href: route('session', s.session_id), class: 'mono' }, f.short(s.session_id, 20)),
        h('span', { class: 'muted' }, ` · ${f.plural(s.findings, 'finding')} · ${f.relative(s.last_activity)}`)))));
  }
  return panel('Risk', body, { id: 'risk' });
}

// checksPanel lists the dynamic security checks (API.md
// "GET /api/agent/{agent_id}/checks") with the behavioural summary.
function checksPanel(risk) {
  const rep = risk.security_report;
  if (!rep) {
    return panel('Security checks', h('div', { class: 'panel-body' },
      empty('No completed sessions to check yet', 'The 16 dynamic checks run over an agent\'s completed sessions.')), { id: 'checks' });
  }
  const rows = Object.values(rep.categories || {}).sort((x, y) => x.order - y.order)
    .flatMap((c) => (c.checks || []).map((ch) => ({ ...ch, category_name: c.category_name })));
  const body = h('div', {}, table([
    { label: 'Status', value: (c) => checkBadge(c.status) },
    { label: 'Check', value: (c) => h('span', { title: c.description || '' }, c.name) },
    { label: 'Category', value: (c) => h('span', { class: 'muted' }, c.category_name) },
    { label: 'Value', value: (c) => h('span', { class: 'mono' }, c.value) },
  ], rows));
  const beh = risk.behavioral_analysis;
  if (beh) {
    body.append(h('div', { class: 'panel-body' }, h('p', { class: 'muted' },
      `${beh.interpretation} · ${f.plural(beh.num_clusters, 'cluster')}, ${f.plural(beh.num_outliers, 'outlier')} in ${f.plural(beh.total_sessions, 'session')}`)));
  }
  return panel('Security checks', body, {
    id: 'checks',
    hint: `${f.int(rep.critical_issues)} critical · ${f.plural(rep.warnings, 'warning')} · ${f.int(rep.passed_checks)} passed, over ${f.plural(rep.sessions_analyzed, 'completed session')}`,
  });
}

function checkBadge(status) {
  if (status === 'critical') return badge('Critical', 'critical');
  if (status === 'warning') return badge('Warning', 'medium');
  return badge('Passed', 'ok');
}
