// Connect: how to send an agent's calls through the proxy under an agent
// workflow, and how to connect an IDE assistant to the dashboard's MCP
// endpoint.

import { h } from '../dom.js';
import { get } from '../api.js';
import { pageHead, panel, changed } from '../ui.js';
import { wfLink } from '../workflow.js';
import { codeBlock } from '../components/code.js';

// A workflow id is one path segment of the proxy's route.
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function mount(root, { query }) {
  const state = {};
  let wf = query.get('workflow') || 'my-agent';
  let data = null;
  const idIn = h('input', { name: 'workflow-id', value: wf, attrs: { 'aria-label': 'Workflow id', spellcheck: 'false' } });
  const agentBody = h('div', { class: 'panel-body' });
  const ideBody = h('div', { class: 'panel-body' });
  const paint = () => {
    const ok = ID_RE.test(wf);
    idIn.classList.toggle('invalid', !ok);
    agentBody.replaceChildren(...agentPart(data, ok ? wf : null).filter(Boolean));
  };
  idIn.addEventListener('input', () => { wf = idIn.value.trim(); paint(); });
  root.replaceChildren(
    pageHead({ title: 'Connect', sub: 'Send an agent\'s LLM calls through Perimeter under a workflow, and let your IDE\'s assistant review its code.' }),
    panel('Connect an agent', [h('div', { class: 'filters' }, h('label', { class: 'field' }, 'Workflow id', idIn),
      h('span', { class: 'muted small' }, 'Letters, digits, dot, dash and underscore. Agents sharing an id form one workflow.')), agentBody], { id: 'connect-agent' }),
    panel('Connect an IDE', ideBody, { id: 'connect-ide' }));
  return {
    live: false,
    async refresh() {
      const [config, dev, list] = await Promise.all([
        get('/api/config').catch(() => ({})),
        get('/api/dev-connection').catch(() => null),
        get('/api/agent-workflows').catch(() => ({ agent_workflows: [] })),
      ]);
      data = { config, dev, workflows: (list.agent_workflows || []).filter((w) => w.id) };
      if (!changed(state, data)) return;
      paint();
      ideBody.replaceChildren(...idePart(dev).filter(Boolean));
    },
  };
}

function proxyBase(data) {
  if (data && data.dev && data.dev.proxy_url) return data.dev.proxy_url;
  const c = (data && data.config) || {};
  let host = c.proxy_host || '127.0.0.1';
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `http://${host}:${c.proxy_port || 4000}`;
}

function agentPart(data, wf) {
  if (!wf) return [h('p', { class: 'banner error' }, 'Pick a workflow id made of letters, digits, ".", "-" and "_".')];
  const base = proxyBase(data) + '/agent-workflow/' + wf;
  const provider = ((data && data.config && data.config.provider_type) || '').toLowerCase();
  const out = [
    h('p', {}, 'Use this base URL instead of the provider\'s: the proxy forwards the call unchanged and files it under workflow ', h('code', {}, wf), '.'),
    codeBlock('base-url', base, 'Base URL'),
    h('div', { class: 'grid two' },
      h('div', {}, h('div', { class: 'subhead' }, 'OpenAI SDKs', provider === 'openai' ? ' (this proxy\'s provider)' : ''),
        codeBlock('openai', `export OPENAI_BASE_URL=${base}/v1`),
        codeBlock('openai-py', `client = OpenAI(base_url="${base}/v1")`)),
      h('div', {}, h('div', { class: 'subhead' }, 'Anthropic SDKs', provider === 'anthropic' ? ' (this proxy\'s provider)' : ''),
        codeBlock('anthropic', `export ANTHROPIC_BASE_URL=${base}`),
        codeBlock('anthropic-py', `client = Anthropic(base_url="${base}")`))),
    h('p', { class: 'muted' }, 'Optional headers: ', h('code', {}, 'x-cylestio-agent-id'), ' names the agent, ', h('code', {}, 'x-cylestio-session-id'), ' groups calls into one session. Both are removed before the call reaches the provider.'),
  ];
  const known = (data && data.workflows) || [];
  if (known.some((w) => w.id === wf)) {
    out.push(h('p', {}, 'Workflow ', h('code', {}, wf), ' already has traffic: ', h('a', { href: wfLink('', wf) }, 'open its overview →')));
  }
  return out;
}

function idePart(dev) {
  if (!dev) return [h('p', { class: 'muted' }, 'The dashboard did not describe its MCP endpoint.')];
  return [
    h('p', {}, 'Your IDE\'s assistant (Claude Code, Cursor, VS Code, Windsurf, …) reviews the agent\'s code through the dashboard\'s MCP endpoint and stores its findings here.'),
    codeBlock('mcp-url', dev.mcp_url, 'MCP endpoint (' + (dev.transport || 'streamable-http') + ')'),
    dev.token_required ? h('p', { class: 'banner' }, 'This dashboard needs its token: ' + (dev.token_hint || 'send Authorization: Bearer <token>') + '.') : null,
    h('p', {}, h('a', { href: '#/dev-connection' }, 'Setup for each assistant and the IDE\'s activity →')),
  ];
}

