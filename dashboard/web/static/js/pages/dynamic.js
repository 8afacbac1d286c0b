// Dynamic analysis: the 16 runtime checks and the behavioural analysis
// over a workflow's completed sessions, on demand. Shows what is new since
// the last analysis per agent, runs one, and lists each agent's latest
// checks and the history of analyses.

import { h } from '../dom.js';
import { get, post } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, kpi, badge } from '../ui.js';
import { choosing, analysisBadge, checkBadge, wfName, wfPath, wfLink } from '../workflow.js';

export function mount(root, { query }) {
  const wf = query.get('workflow') || '';
  if (!wf) return choosing(root, { title: 'Dynamic analysis', sub: 'Pick an agent workflow.' }, 'dynamic-analysis', 'A dynamic analysis');
  const state = {};
  let note = null;
  let running = false;
  const run = async (force, btn) => {
    btn.disabled = true;
    running = true;
    try {
      const res = await post(wfPath('/api/workflow/', wf, '/trigger-dynamic-analysis'), {}, undefined, force ? { force: 'true' } : undefined);
      note = { ok: res.status !== 'already_running', text: res.message || res.status };
    } catch (e) {
      note = { ok: false, text: 'Could not run the analysis: ' + e.message };
    } finally {
      running = false;
    }
    await view.refresh();
  };
  const view = {
    async refresh() {
      const [st, checks, hist] = await Promise.all([
        get(wfPath('/api/workflow/', wf, '/dynamic-analysis-status')),
        get(wfPath('/api/agent-workflow/', wf, '/security-checks')),
        get(wfPath('/api/workflow/', wf, '/analysis-history'), { session_type: 'DYNAMIC' }),
      ]);
      if (!changed(state, st, checks, hist, note, running)) return;
      root.replaceChildren(...render(wf, st, checks, hist, note, running, run));
    },
  };
  return view;
}

function render(wf, st, checks, hist, note, running, run) {
  const out = [pageHead({
    title: 'Dynamic analysis',
    sub: `Runtime checks over ${wfName(wf)}'s completed sessions: resource bounds, environment, behaviour, data privacy. Run it when new sessions arrive.`,
    crumbs: [{ text: 'Workflows', href: '#/workflows' }, { text: wf, href: wfLink('', wf) }],
  })];
  const banner = storageBanner(st.storage);
  if (banner) return [...out, banner];
  if (note) out.push(h('div', { class: ['banner', note.ok ? 'ok' : 'error'], role: 'status', dataset: { testid: 'run-result' } }, h('div', {}, note.text)));

  const runBtn = h('button', { type: 'button', class: 'primary', dataset: { testid: 'run-analysis' }, disabled: running || !st.can_trigger,
    title: st.can_trigger ? 'Analyse the sessions no analysis has covered' : 'No new completed sessions to analyse',
    onclick: (e) => run(false, e.currentTarget) }, running || st.is_running ? 'Running…' : 'Run analysis');
  const forceBtn = h('button', { type: 'button', dataset: { testid: 'rerun-analysis' }, disabled: running || st.is_running,
    onclick: (e) => run(true, e.currentTarget) }, 'Analyse all again');
  const last = st.last_analysis;
  out.push(h('div', { class: 'kpis' },
    kpi({ label: 'Status', value: st.is_running ? 'Running' : (last ? 'Analysed' : 'Never run'), note: last ? `last ${f.relative(last.completed_at || last.created_at)}` : 'no analysis yet', testid: 'dyn-status' }),
    kpi({ label: 'New sessions', value: f.int(st.total_unanalyzed_sessions), note: `${f.plural(st.agents_with_new_sessions, 'agent')} with new sessions`, testid: 'unanalyzed' }),
    kpi({ label: 'Checks', value: f.int(((checks.total_summary || {}).total_checks)), note: `${f.int((checks.total_summary || {}).critical)} critical · ${f.int((checks.total_summary || {}).warnings)} warnings`,
      alert: Number((checks.total_summary || {}).critical) > 0, testid: 'checks' }),
    h('div', { class: 'kpi run-kpi' }, h('div', { class: 'kpi-label' }, 'Analysis'), h('div', { class: 'run-buttons' }, runBtn, forceBtn), h('div', { class: 'kpi-note' }, st.message || '\u00a0'))));

  const agents = st.agents_status || [];
  out.push(panel('Sessions per agent', agents.length ? table([
    { label: 'Agent', cls: 'id', value: (a) => a.display_name ? h('span', { title: a.agent_id }, a.display_name) : a.agent_id },
    { label: 'Sessions', num: true, value: (a) => f.int(a.total_sessions) },
    { label: 'Not yet analysed', num: true, value: (a) => (Number(a.unanalyzed_count) ? badge(f.int(a.unanalyzed_count) + ' new', 'medium') : h('span', { class: 'muted' }, '0')) },
  ], agents, { key: (a) => a.agent_id }) : empty('No runtime sessions yet', 'Sessions of agents sent through /agent-workflow/' + wf + '/ show up here once they complete.'), { id: 'dyn-agents' }));

  const ac = checks.agents || [];
  out.push(panel('Latest checks per agent', ac.length ? h('div', { class: 'stack agent-checks' }, ac.map(agentChecks))
    : empty('No checks yet', 'Run an analysis to evaluate the checks over the completed sessions.'), { id: 'dyn-checks' }));

  const rows = hist.analyses || [];
  out.push(panel('History', rows.length ? table([
    { label: 'Analysis', cls: 'id', value: (r) => r.session_id },
    { label: 'Status', value: (r) => analysisBadge(r.status) },
    { label: 'Started', value: (r) => h('span', { class: 'muted', title: f.dateTime(r.created_at) }, f.relative(r.created_at)) },
    { label: 'Sessions', num: true, value: (r) => f.int(r.sessions_analyzed) },
    { label: 'Findings', num: true, value: (r) => f.int(r.findings_count) },
    { label: 'Latest', value: (r) => (r.session_id === hist.latest_id ? badge('latest', 'ok') : null) },
  ], rows, { key: (r) => r.session_id }) : empty('No analyses yet'), { id: 'dyn-history', hint: `${f.int(hist.total_count)} in all` }));
  return out;
}

function agentChecks(a) {
  const s = a.summary || {};
  const checks = (a.checks || []).slice().sort((x, y) => rank(x.status) - rank(y.status));
  return h('div', { class: 'agent-check', dataset: { agent: a.agent_id } },
    h('div', { class: 'card-head' }, h('h3', { class: 'mono' }, a.agent_id),
      h('span', { class: 'muted small' }, `${f.int(s.passed)} passed · ${f.plural(s.warnings, 'warning')} · ${f.int(s.critical)} critical · ${f.relative(a.latest_check_at)}`)),
    table([
      { label: 'Check', cls: 'wrap', value: (c) => h('div', {}, h('div', {}, c.title), c.description ? h('div', { class: 'muted small' }, c.description) : null) },
      { label: 'Category', value: (c) => h('span', { class: 'muted' }, String(c.category_id || '').toLowerCase().replace(/_/g, ' ')) },
      { label: 'Status', value: (c) => checkBadge(c.status) },
      { label: 'Value', cls: 'wrap', value: (c) => h('span', { class: 'mono small' }, c.value || '—') },
    ], checks, { key: (c) => c.check_id }));
}

function rank(status) {
  return { critical: 0, warning: 1, passed: 2 }[String(status).toLowerCase()] ?? 3;
}
