// Static analysis: what the IDE assistant's code reviews found, by
// security category (pass / info / fail), the history of reviews, and how
// the findings correlate with what the agents did at run time.

import { h, route } from '../dom.js';
import { get, post } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, severityBadge, kpi } from '../ui.js';
import { choosing, checkBadge, gateBadge, statusBadge, analysisBadge, wfName, wfPath, wfLink } from '../workflow.js';

const CORRELATION = [
  ['validated', 'Validated', 'seen at run time: the risk is real'],
  ['unexercised', 'Unexercised', 'the code path exists but never ran'],
  ['runtime_only', 'Runtime only', 'seen at run time, not in the code review'],
  ['theoretical', 'Theoretical', 'nothing at run time touches it'],
  ['uncorrelated', 'Not correlated', 'not compared with run time yet'],
];

export function mount(root, { query }) {
  const wf = query.get('workflow') || '';
  if (!wf) return choosing(root, { title: 'Static analysis', sub: 'Pick an agent workflow.' }, 'static-analysis', 'A static analysis');
  const state = {};
  let note = null;
  const view = {
    async refresh() {
      const [sum, corr] = await Promise.all([
        get(wfPath('/api/workflow/', wf, '/static-summary')),
        get(wfPath('/api/workflow/', wf, '/correlation-summary')),
      ]);
      if (!changed(state, sum, corr, note)) return;
      root.replaceChildren(...render(wf, sum, corr, note, async (btn) => {
        btn.disabled = true;
        try {
          const res = await post(wfPath('/api/workflow/', wf, '/correlate'), {});
          note = { ok: true, text: `Correlated: ${f.plural(res.updated, 'finding')} updated.` };
        } catch (e) {
          note = { ok: false, text: 'Could not correlate: ' + e.message };
        }
        await view.refresh();
      }));
    },
  };
  return view;
}

function render(wf, sum, corr, note, correlate) {
  const out = [pageHead({
    title: 'Static analysis',
    sub: `Security reviews of ${wfName(wf)}'s code by your IDE's assistant, by category.`,
    crumbs: [{ text: 'Workflows', href: '#/workflows' }, { text: wf, href: wfLink('', wf) }],
  })];
  const banner = storageBanner(sum.storage);
  if (banner) return [...out, banner];
  if (note) out.push(h('div', { class: ['banner', note.ok ? 'ok' : 'error'], role: 'status', dataset: { testid: 'correlate-result' } }, h('div', {}, note.text)));
  const s = sum.summary || {};
  const sev = sum.severity_counts || {};
  const last = sum.last_scan;
  out.push(h('div', { class: 'kpis' },
    kpi({ label: 'Last review', value: last ? f.relative(last.timestamp) : 'never', note: last ? `by ${last.scanned_by || 'AI assistant'}` : 'no completed review', testid: 'last-scan' }),
    kpi({ label: 'Categories', value: `${f.int(s.passed)} / ${f.int(s.total_checks)}`, note: `pass · ${f.int(s.failed)} fail · ${f.int(s.info)} info`, alert: Number(s.failed) > 0, testid: 'categories' }),
    kpi({ label: 'Open findings', value: f.int(['critical', 'high', 'medium', 'low'].reduce((n, k) => n + (Number(sev[k]) || 0), 0)),
      note: `${f.int(sev.critical)} critical · ${f.int(sev.high)} high · ${f.int(sev.medium)} medium`, alert: Number(sev.critical) + Number(sev.high) > 0, testid: 'open-findings' }),
    h('div', { class: 'kpi', dataset: { kpi: 'gate' } }, h('div', { class: 'kpi-label' }, 'Gate'), h('div', { class: 'kpi-value' }, gateBadge(s.gate_status)),
      h('div', { class: 'kpi-note' }, h('a', { href: wfLink('recommendations', wf) }, `${f.plural(sum.recommendations_count, 'recommendation')} →`)))));

  const checks = sum.checks || [];
  if (!checks.length) {
    out.push(panel('Categories', empty('No completed static analysis',
      'Ask your IDE\'s assistant to review the agent\'s code with Perimeter: it opens a STATIC analysis session, stores a finding per issue and completes the session.',
      h('a', { href: wfLink('dev-connection', wf) }, 'Connect your IDE →')), { id: 'static-checks' }));
  } else {
    out.push(h('div', { class: 'cards', id: 'static-checks' }, checks.map(card)));
  }

  out.push(panel('Correlation with run time', correlation(corr, correlate), { id: 'correlation', hint: `${f.plural(corr.sessions_count, 'completed runtime session')}` }));

  const hist = sum.scan_history || [];
  out.push(panel('Scan history', hist.length ? table([
    { label: 'Analysis', value: (r) => r.session_id, cls: 'id' },
    { label: 'Type', value: (r) => h('span', { class: 'muted' }, String(r.session_type || '').toLowerCase()) },
    { label: 'Status', value: (r) => analysisBadge(r.status) },
    { label: 'Started', value: (r) => h('span', { class: 'muted', title: f.dateTime(r.created_at) }, f.relative(r.created_at)) },
    { label: 'Findings', num: true, value: (r) => f.int(r.findings_count) },
    { label: 'By severity', value: (r) => breakdown(r.severity_breakdown) },
  ], hist, { key: (r) => r.session_id }) : empty('No reviews yet'), { id: 'scan-history' }));
  const hs = sum.historical_summary;
  if (hs && Number(hs.total_resolved)) {
    out.push(h('p', { class: 'muted' }, `Resolved so far: ${f.int(hs.fixed)} fixed, ${f.int(hs.resolved)} gone from a later review, ${f.int(hs.dismissed)} dismissed.`));
  }
  return out;
}

function card(c) {
  const findings = c.findings || [];
  return h('section', { class: ['card', 'status-' + String(c.status || '').toLowerCase()], dataset: { category: c.category_id } },
    h('div', { class: 'card-head' }, h('h2', {}, c.name || c.category_id), checkBadge(c.status)),
    h('div', { class: 'muted small' }, (c.owasp_llm || []).join(' · ') || 'no OWASP control'),
    h('div', { class: 'card-count' }, `${f.int(c.open_count)} open of ${f.int(c.findings_count)}`, c.max_severity ? [' · worst ', severityBadge(c.max_severity)] : null),
    findings.length ? h('ul', { class: 'card-list' }, findings.slice(0, 4).map((x) => h('li', {},
      severityBadge(x.severity), ' ',
      x.recommendation_id ? h('a', { href: route('recommendation', x.recommendation_id) + '?workflow=' + encodeURIComponent(x.agent_workflow_id || '') }, x.title) : h('span', {}, x.title),
      ' ', statusBadge(x.status),
      x.file_path ? h('div', { class: 'mono small muted' }, f.truncate(x.file_path, 40) + (x.line_start ? ':' + x.line_start : '')) : null))) : null);
}

function breakdown(b) {
  const parts = ['critical', 'high', 'medium', 'low'].filter((k) => Number((b || {})[k]));
  if (!parts.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'chips inline' }, parts.map((k) => h('span', { class: ['badge', k] }, `${b[k]} ${k}`)));
}

function correlation(c, correlate) {
  const btn = h('button', { type: 'button', dataset: { testid: 'correlate' }, onclick: (e) => correlate(e.currentTarget) }, 'Correlate now');
  return h('div', { class: 'panel-body' },
    h('div', { class: 'corr' }, CORRELATION.map(([k, label, what]) => h('div', { class: ['corr-item', k], dataset: { corr: k } },
      h('div', { class: 'corr-n' }, f.int(c[k])), h('div', {}, h('b', {}, label), h('div', { class: 'muted small' }, what))))),
    h('div', { class: 'corr-foot' }, c.is_correlated ? h('span', { class: 'badge ok' }, 'Correlated') : h('span', { class: 'badge outline' }, 'Not fully correlated'),
      ' ', h('span', { class: 'muted' }, c.message || ''), h('span', { class: 'spacer' }), btn));
}
