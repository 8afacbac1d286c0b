// Dev connection: whether an IDE assistant is working on the workflow
// (its ide_heartbeat calls) and how to connect the common assistants to
// the dashboard's MCP endpoint.

import { h } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, storageBanner, changed, badge } from '../ui.js';
import { choosing, wfName, wfLink } from '../workflow.js';
import { codeBlock } from '../components/code.js';

export function mount(root, { query }) {
  const wf = query.get('workflow') || '';
  if (!wf) return choosing(root, { title: 'Dev connection', sub: 'Pick an agent workflow.' }, 'dev-connection', 'IDE activity');
  const state = {};
  let pick = query.get('assistant') || '';
  return {
    async refresh() {
      const [ide, dev] = await Promise.all([
        get('/api/ide/status', { agent_workflow_id: wf }),
        get('/api/dev-connection', { agent_workflow_id: wf }),
      ]);
      if (!changed(state, ide, dev)) return;
      const rerender = () => root.replaceChildren(...render(wf, ide, dev, pick, (a) => { pick = a; rerender(); }));
      rerender();
    },
  };
}

function render(wf, ide, dev, pick, onPick) {
  const out = [pageHead({
    title: 'Dev connection',
    sub: `Your IDE's assistant reviews ${wfName(wf)}'s code through Perimeter's MCP tools and works the recommendations from there.`,
    crumbs: [{ text: 'Workflows', href: '#/workflows' }, { text: wf, href: wfLink('', wf) }],
  })];
  const banner = storageBanner(ide.storage);
  if (banner) out.push(banner);
  const info = ide.ide || {};
  const live = ide.has_activity;
  out.push(panel('IDE activity', h('div', { class: 'panel-body' },
    h('div', { class: 'ide-state', dataset: { testid: 'ide-state' } },
      live ? badge('Connected', 'ok') : badge('No activity yet', 'outline'), ' ',
      h('span', { class: 'muted' }, live ? `last heartbeat ${ide.last_seen_relative || f.relative(ide.last_seen)}` : (ide.message || 'No IDE has worked on this workflow yet.'))),
    live ? h('dl', { class: 'kv', dataset: { testid: 'ide-info' } },
      [['IDE', info.ide_type], ['Workspace', info.workspace_path], ['Model', info.model], ['Host', info.host], ['User', info.user], ['Last seen', f.dateTime(ide.last_seen)]]
        .filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'Workspace' ? 'mono' : null }, v)])) : null), { id: 'ide-activity' }));

  const inst = dev.instructions || [];
  const current = inst.find((i) => i.assistant === pick) || inst[0];
  out.push(panel('Connect an assistant', h('div', { class: 'panel-body' },
    codeBlock('mcp-url', dev.mcp_url || '', 'MCP endpoint (' + (dev.transport || 'streamable-http') + ')'),
    dev.token_required ? h('p', { class: 'banner' }, 'This dashboard needs its token: ' + (dev.token_hint || 'send Authorization: Bearer <token>') + '.') : null,
    inst.length ? [
      h('div', { class: 'seg assistants', role: 'tablist' }, inst.map((i) => h('button', {
        type: 'button', role: 'tab', class: i === current ? 'on' : null, dataset: { assistant: i.assistant },
        attrs: { 'aria-selected': i === current ? 'true' : 'false' }, onclick: () => onPick(i.assistant),
      }, i.name))),
      h('p', { class: 'muted' }, 'Put this in ', h('b', {}, current.where), ':'),
      codeBlock('mcp-config', current.config),
    ] : null,
    (dev.first_steps || []).length ? [h('div', { class: 'subhead' }, 'Then'), h('ol', { class: 'steps', dataset: { testid: 'first-steps' } }, dev.first_steps.map((s) => h('li', {}, s)))] : null,
    dev.agent_base_url ? h('p', { class: 'muted' }, 'Agents of this workflow call ', h('code', {}, dev.agent_base_url), ' instead of the provider.') : null), { id: 'mcp-setup' }));
  return out;
}
