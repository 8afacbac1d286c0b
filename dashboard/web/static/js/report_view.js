// A compliance report (GET /api/workflow/{wf}/compliance-report, or a
// saved one's report_data) as a page that prints cleanly: decision and
// gate, risk score and how it was computed, business impact, OWASP LLM
// Top 10, SOC 2, security categories, blocking items, remediation,
// findings and recommendations. Every string goes in as text.

import { h } from './dom.js';
import * as f from './format.js';
import { severityBadge } from './ui.js';
import { checkBadge, gateBadge, statusBadge } from './workflow.js';

const TYPE_NAMES = { security_assessment: 'Security assessment', executive_summary: 'Executive summary', customer_due_diligence: 'Customer due diligence' };

export function reportTypeName(t) {
  return TYPE_NAMES[String(t || '').toLowerCase()] || String(t || '');
}

const IMPACT_NAMES = { remote_code_execution: 'Remote code execution', data_exfiltration: 'Data exfiltration', privilege_escalation: 'Privilege escalation',
  supply_chain: 'Supply chain', compliance_violation: 'Compliance violation' };

const CATEGORY_ORDER = ['PROMPT', 'OUTPUT', 'TOOL', 'DATA', 'MEMORY', 'SUPPLY', 'BEHAVIOR'];

export function renderReport(rep, name) {
  const ex = rep.executive_summary || {};
  const bi = rep.business_impact || {};
  const rb = ex.risk_breakdown || {};
  const table = (head, rows) => h('table', { class: 'report-table' }, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { class: 'muted', colSpan: head.length }, 'None'))));
  const sorted = (o) => Object.keys(o || {}).sort().map((k) => [k, o[k]]);
  const go = ex.decision === 'GO';
  return h('article', { class: 'report', dataset: { testid: 'report' } },
    h('header', { class: 'report-head' },
      h('h1', {}, name || (rep.workflow_id ? `Compliance report: ${rep.workflow_id}` : 'Compliance report')),
      h('p', { class: 'muted' }, [rep.workflow_id ? `Workflow ${rep.workflow_id}` : '', reportTypeName(rep.report_type), `generated ${f.dateTime(rep.generated_at)}`, rep.report_id || '']
        .filter(Boolean).join(' · '))),
    h('section', { class: ['decision', go ? 'go' : 'no-go'], dataset: { decision: ex.decision || '' } },
      h('div', { class: 'decision-word' }, ex.decision || '—'),
      h('div', {},
        h('div', {}, 'Gate ', gateBadge(ex.gate_status), ' · risk score ', h('b', { dataset: { testid: 'report-risk' } }, String(ex.risk_score ?? '—')), '/100'),
        h('p', {}, ex.decision_message || ''))),
    h('h2', {}, 'Executive summary'),
    table(['Findings', 'Open', 'Fixed', 'Dismissed', 'Blocking', 'Blocking critical', 'Blocking high'],
      [h('tr', {}, [ex.total_findings, ex.open_findings, ex.fixed_findings, ex.dismissed_findings, ex.blocking_count, ex.blocking_critical, ex.blocking_high].map((v) => h('td', { class: 'num' }, f.int(v))))]),
    rb.breakdown ? h('div', {},
      h('p', { class: 'muted' }, rb.formula || ''),
      table(['Severity', 'Open', 'Weight', 'Subtotal'], rb.breakdown.map((c) => h('tr', {}, h('td', {}, severityBadge(c.severity)), h('td', { class: 'num' }, f.int(c.count)), h('td', { class: 'num' }, f.int(c.weight)), h('td', { class: 'num' }, f.int(c.subtotal))))),
      h('p', { class: 'muted small' }, `Raw total ${f.int(rb.raw_total)}, score ${f.int(rb.final_score)} (capped at 100).`)) : null,
    h('h2', {}, 'Business impact ', checkBadge(bi.overall_risk)),
    bi.overall_description ? h('p', {}, bi.overall_description) : null,
    (bi.executive_bullets || []).length ? h('ul', {}, bi.executive_bullets.map((b) => h('li', {}, b))) : null,
    table(['Risk', 'Level', 'Description', 'Affected'], sorted(bi.impacts).map(([k, v]) => h('tr', {},
      h('td', {}, IMPACT_NAMES[k] || k), h('td', {}, checkBadge(v.risk_level)), h('td', { class: 'wrap' }, v.description || ''),
      h('td', { class: 'wrap mono small' }, (v.affected_components || []).join(', '))))),
    h('h2', {}, 'OWASP Top 10 for LLM Applications'),
    table(['Control', 'Name', 'Status', 'Findings'], sorted(rep.owasp_llm_coverage).map(([k, v]) => h('tr', { dataset: { control: k } },
      h('td', { class: 'mono' }, k), h('td', {}, v.name || ''), h('td', {}, checkBadge(v.status)), h('td', { class: 'wrap' }, v.message || '')))),
    h('h2', {}, 'SOC 2'),
    table(['Control', 'Name', 'Status', 'Open / total'], sorted(rep.soc2_compliance).map(([k, v]) => h('tr', {},
      h('td', { class: 'mono' }, k), h('td', {}, v.name || ''), h('td', {}, checkBadge(v.status)), h('td', { class: 'num' }, `${f.int(v.open_count)} / ${f.int(v.findings_count)}`)))),
    h('h2', {}, 'Security categories'),
    table(['Category', 'Status', 'Open / total', 'Highest open severity'], Object.entries(rep.security_checks || {})
      .sort((a, b) => CATEGORY_ORDER.indexOf(a[0]) - CATEGORY_ORDER.indexOf(b[0])).map(([k, v]) => h('tr', {},
        h('td', {}, v.name || k), h('td', {}, checkBadge(v.status)), h('td', { class: 'num' }, `${f.int(v.open_count)} / ${f.int(v.findings_count)}`),
        h('td', {}, v.max_severity ? severityBadge(v.max_severity) : '—')))),
    h('h2', {}, 'Blocking items'),
    (rep.blocking_items || []).length
      ? table(['Recommendation', 'Severity', 'Status', 'Title', 'File'], rep.blocking_items.map((r) => recRow(r, true)))
      : h('p', { dataset: { testid: 'no-blocking' } }, 'None: no critical or high recommendation is open.'),
    h('h2', {}, 'Remediation'),
    (() => {
      const s = rep.remediation_summary || {};
      return table(['Recommendations', 'Pending', 'Fixing', 'Fixed', 'Verified', 'Dismissed', 'Resolved'],
        [h('tr', {}, [s.total_recommendations, s.pending, s.fixing, s.fixed, s.verified, s.dismissed, s.resolved].map((v) => h('td', { class: 'num' }, f.int(v))))]);
    })(),
    h('h2', {}, 'Findings'),
    table(['Finding', 'Severity', 'Status', 'Title', 'Where'], (rep.findings_detail || []).map((x) => h('tr', {},
      h('td', { class: 'mono' }, x.finding_id), h('td', {}, severityBadge(x.severity)), h('td', {}, statusBadge(x.status)),
      h('td', { class: 'wrap' }, x.title || ''), h('td', { class: 'mono small wrap' }, x.file_path || '')))),
    h('h2', {}, 'Recommendations'),
    table(['Recommendation', 'Severity', 'Status', 'Title'], (rep.recommendations_detail || []).map((r) => recRow(r, false))),
    (rep.audit_trail || []).length ? [h('h2', {}, 'Audit trail'),
      table(['When', 'Change', 'By'], rep.audit_trail.slice(0, 20).map((e) => h('tr', {},
        h('td', {}, f.dateTime(e.performed_at)), h('td', { class: 'wrap' }, `${String(e.action || '').toLowerCase().replace(/_/g, ' ')} ${e.entity_id || ''}`,
          e.previous_value || e.new_value ? ` (${e.previous_value || '∅'} → ${e.new_value || '∅'})` : ''), h('td', {}, e.performed_by || ''))))] : null,
    h('p', { class: 'muted small report-foot' }, `Static analyses: ${f.int((rep.static_analysis || {}).sessions_count)} · dynamic analyses: ${f.int((rep.dynamic_analysis || {}).sessions_count)} · generated by Perimeter.`));
}

function recRow(r, file) {
  return h('tr', {}, h('td', { class: 'mono' }, r.recommendation_id), h('td', {}, severityBadge(r.severity)), h('td', {}, statusBadge(r.status)),
    h('td', { class: 'wrap' }, r.title || ''), file ? h('td', { class: 'mono small wrap' }, r.file_path || '') : null);
}
