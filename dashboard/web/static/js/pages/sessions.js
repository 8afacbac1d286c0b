// Sessions: filterable, paginated list. Filters live in the URL
// (#/sessions?agent=…&status=…&range=…&tags=…&page=…) so a view can be shared.

import { h } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, storageBanner, empty, changed, setQuery } from '../ui.js';
import { sessionsTable } from '../components/sessions.js';
import { wfLink, wfName } from '../workflow.js';

const PAGE = 25;
const RANGES = [['', 'Any time'], ['15m', 'Last 15 min'], ['1h', 'Last hour'], ['24h', 'Last 24 h'], ['7d', 'Last 7 days']];

export function mount(root, { query }) {
  const filters = {
    agent: query.get('agent') || '',
    status: (query.get('status') || '').toUpperCase(),
    range: query.get('range') || '',
    tags: query.get('tags') || '',
    workflow: query.get('workflow') || '',
  };
  const page = Math.max(0, parseInt(query.get('page') || '0', 10) || 0);
  const state = {};
  let agents = null;
  // The filter bar is built once so typing in it survives live refreshes.
  const bar = filterBar(filters);
  const body = h('div', {});
  const wf = filters.workflow;
  root.replaceChildren(pageHead({
    title: 'Sessions',
    sub: (wf ? `In ${wfName(wf)}. ` : '') + 'A session is one conversation: every call that continues the same message history.',
    crumbs: wf ? [{ text: 'Workflows', href: '#/workflows' }, { text: wfName(wf), href: wfLink('', wf) }] : null,
  }), h('div', { class: 'banner-slot' }), panel(null, [bar.el, body], { id: 'sessions' }));

  return {
    async refresh() {
      const [list, ag] = await Promise.all([
        get('/api/sessions/list', { agent_id: filters.agent, status: filters.status, range: filters.range, tags: filters.tags, agent_workflow_id: wf, limit: PAGE, offset: page * PAGE }),
        agents ? Promise.resolve(agents) : get('/api/agents', { agent_workflow_id: wf }),
      ]);
      agents = ag;
      bar.setAgents((ag.agents || []).map((a) => a.id));
      if (!changed(state, list)) return;
      const banner = storageBanner(list.storage);
      root.querySelector('.banner-slot').replaceChildren(...(banner ? [banner] : []));
      const rows = list.sessions || [];
      if (!rows.length) {
        const filtered = filters.agent || filters.status || filters.range || filters.tags;
        body.replaceChildren(filtered ? empty('No sessions match these filters', h('a', { href: wfLink('sessions', wf) }, 'Clear filters')) : empty('No sessions yet', 'Sessions appear as soon as traffic passes the proxy.'));
        return;
      }
      const total = Number(list.total_count) || rows.length;
      const from = page * PAGE + 1;
      body.replaceChildren(sessionsTable(rows), h('div', { class: 'pager' },
        h('span', {}, `${f.int(from)}–${f.int(from + rows.length - 1)} of ${f.int(total)}`),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', disabled: page === 0, onclick: () => setQuery({ page: page - 1 || null }) }, '← Newer'),
          h('button', { type: 'button', disabled: !list.has_more, onclick: () => setQuery({ page: page + 1 }) }, 'Older →'))));
    },
  };
}

function filterBar(filters) {
  const agentSel = h('select', { name: 'agent', onchange: (e) => setQuery({ agent: e.target.value, page: null }) },
    h('option', { value: '' }, 'All agents'));
  if (filters.agent) agentSel.append(h('option', { value: filters.agent, selected: true }, filters.agent));
  const statusSel = h('select', { name: 'status', onchange: (e) => setQuery({ status: e.target.value, page: null }) },
    [['', 'Any status'], ['ACTIVE', 'Active'], ['COMPLETED', 'Completed']].map(([v, t]) => h('option', { value: v, selected: v === filters.status }, t)));
  const rangeSel = h('select', { name: 'range', onchange: (e) => setQuery({ range: e.target.value, page: null }) },
    RANGES.map(([v, t]) => h('option', { value: v, selected: v === filters.range }, t)));
  const tagsIn = h('input', { name: 'tags', type: 'search', placeholder: 'env:prod,team', value: filters.tags, attrs: { 'aria-label': 'Tags' } });
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); setQuery({ tags: tagsIn.value.trim(), page: null }); } },
    h('label', { class: 'field' }, 'Agent', agentSel),
    h('label', { class: 'field' }, 'Status', statusSel),
    h('label', { class: 'field' }, 'Last activity', rangeSel),
    h('label', { class: 'field' }, 'Tags', tagsIn),
    h('button', { type: 'submit' }, 'Apply'));
  let known = '';
  return {
    el: form,
    setAgents(ids) {
      const key = ids.join('\n');
      if (key === known) return;
      known = key;
      agentSel.replaceChildren(h('option', { value: '' }, 'All agents'),
        ...ids.map((id) => h('option', { value: id, selected: id === filters.agent }, f.short(id, 40))));
      if (filters.agent && !ids.includes(filters.agent)) agentSel.append(h('option', { value: filters.agent, selected: true }, filters.agent));
    },
  };
}
