// Recommendations: the work each finding turned into, most severe first,
// with the production gate (BLOCKED while a critical or high one is
// pending or being fixed). Tabs split what is open, fixed and awaiting
// verification, and done; a row opens the recommendation and its actions.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, setQuery, severityBadge } from '../ui.js';
import { choosing, statusBadge, wfName, wfPath } from '../workflow.js';
import { gatePanel, where } from '../components/recommendations.js';

const TABS = [
  ['open', 'Open', ['PENDING', 'FIXING']],
  ['fixed', 'Awaiting verification', ['FIXED']],
  ['resolved', 'Resolved', ['VERIFIED', 'DISMISSED', 'IGNORED', 'RESOLVED', 'SUPERSEDED']],
  ['all', 'All', null],
];
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

export function mount(root, { query }) {
  const wf = query.get('workflow') || '';
  if (!wf) return choosing(root, { title: 'Recommendations', sub: 'Pick an agent workflow to see its recommendations and gate.' }, 'recommendations', 'A recommendation');
  const tab = TABS.some((t) => t[0] === query.get('tab')) ? query.get('tab') : 'open';
  const severity = SEVERITIES.includes(query.get('severity')) ? query.get('severity') : '';
  const state = {};
  return {
    async refresh() {
      const [recs, ready] = await Promise.all([
        get(wfPath('/api/workflow/', wf, '/recommendations'), { limit: 1000 }),
        get(wfPath('/api/workflow/', wf, '/production-readiness')),
      ]);
      if (!changed(state, recs, ready)) return;
      root.replaceChildren(...render(wf, tab, severity, recs, ready));
    },
  };
}

function render(wf, tab, severity, recs, ready) {
  const all = recs.recommendations || [];
  const out = [pageHead({
    title: 'Recommendations',
    sub: `What to fix in ${wfName(wf)}, most severe first. Critical and high ones block the production gate until they are fixed or dismissed.`,
    crumbs: [{ text: 'Workflows', href: '#/workflows' }, { text: wf, href: '#/?workflow=' + encodeURIComponent(wf) }],
  })];
  const banner = storageBanner(recs.storage);
  if (banner) return [...out, banner];
  out.push(gatePanel(ready, all));

  const open = all.filter((r) => r.status === 'PENDING' || r.status === 'FIXING');
  out.push(h('div', { class: 'kpis sev-kpis', dataset: { testid: 'rec-severity' } }, SEVERITIES.map((s) => {
    const n = open.filter((r) => r.severity === s).length;
    return h('button', {
      type: 'button', class: ['kpi', 'sev-kpi', s.toLowerCase(), severity === s && 'on'],
      onclick: () => setQuery({ severity: severity === s ? null : s }),
      attrs: { 'aria-label': `Show ${s.toLowerCase()} recommendations only`, 'aria-pressed': severity === s ? 'true' : 'false' },
    }, h('div', { class: 'kpi-label' }, severityBadge(s)), h('div', { class: 'kpi-value' }, f.int(n)),
      h('div', { class: 'kpi-note' }, s === 'CRITICAL' || s === 'HIGH' ? 'open · blocks the gate' : 'open'));
  })));

  const tabs = h('div', { class: 'tabs', role: 'tablist' }, TABS.map(([key, label, statuses]) => {
    const n = statuses ? all.filter((r) => statuses.includes(r.status)).length : all.length;
    return h('button', {
      type: 'button', role: 'tab', class: key === tab ? 'on' : null, dataset: { tab: key },
      attrs: { 'aria-selected': key === tab ? 'true' : 'false' },
      onclick: () => setQuery({ tab: key === 'open' ? null : key }),
    }, label, h('span', { class: 'count' }, f.int(n)));
  }));
  const statuses = TABS.find((t) => t[0] === tab)[2];
  const rows = all.filter((r) => (!statuses || statuses.includes(r.status)) && (!severity || r.severity === severity));
  let body;
  if (!all.length) {
    body = empty('No recommendations yet', 'Each finding of a static review (from your IDE\'s assistant) or of a dynamic analysis becomes a recommendation here.',
      h('a', { href: '#/dev-connection?workflow=' + encodeURIComponent(wf) }, 'Connect your IDE to run a review →'));
  } else if (!rows.length) {
    body = empty(tab === 'open' ? 'Nothing open' : 'Nothing here', severity ? h('a', { href: '#/recommendations?workflow=' + encodeURIComponent(wf) + (tab === 'open' ? '' : '&tab=' + tab) }, 'Show every severity') : null);
  } else {
    body = table([
      { label: 'Id', value: (r) => r.recommendation_id, cls: 'id' },
      { label: 'Severity', value: (r) => severityBadge(r.severity) },
      { label: 'Status', value: (r) => statusBadge(r.status) },
      { label: 'Recommendation', cls: 'wrap rec-title', value: (r) => h('div', {}, h('div', {}, r.title),
        h('div', { class: 'muted small' }, [r.source_type, r.owasp_llm, r.cwe, r.category].filter(Boolean).join(' · '))) },
      { label: 'Where', cls: 'wrap', value: (r) => where(r) },
      { label: 'Updated', value: (r) => h('span', { class: 'muted', title: f.dateTime(r.updated_at) }, f.relative(r.updated_at || r.created_at)) },
    ], rows, { href: (r) => route('recommendation', r.recommendation_id) + '?workflow=' + encodeURIComponent(wf), key: (r) => r.recommendation_id });
  }
  out.push(panel(null, [tabs, body], { id: 'recommendations' }));
  return out;
}

