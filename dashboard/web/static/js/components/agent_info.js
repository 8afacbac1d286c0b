// An agent's display name and description (update_agent_info), shown and
// edited on the agent page.

import { h } from '../dom.js';
import { get, patch } from '../api.js';

export function agentInfo(id) {
  const el = h('section', { class: 'panel agent-info', id: 'agent-info' });
  let cur = { display_name: null, description: null };
  let editing = false;
  let msg = null;
  const paint = () => {
    const name = cur.display_name;
    if (!editing) {
      el.replaceChildren(h('div', { class: 'panel-body agent-info-row' },
        h('div', {},
          h('div', { class: name ? 'agent-name' : 'muted' }, name || 'No display name'),
          cur.description ? h('div', { class: 'muted prewrap' }, cur.description) : null,
          msg ? h('div', { class: ['small', msg.ok ? 'muted' : 'form-error'], role: 'status' }, msg.text) : null),
        h('button', { type: 'button', dataset: { testid: 'edit-agent' }, onclick: () => { editing = true; paint(); } }, name ? 'Rename' : 'Name this agent')));
      return;
    }
    const nameIn = h('input', { name: 'display_name', value: name || '', placeholder: 'e.g. Support bot (EU)', attrs: { 'aria-label': 'Display name' } });
    const descIn = h('textarea', { name: 'description', rows: 2, placeholder: 'What the agent does' });
    descIn.value = cur.description || '';
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    el.replaceChildren(h('form', { class: 'panel-body step-form agent-info-form', onsubmit: async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        const res = await patch('/api/agent/' + encodeURIComponent(id) + '/info', { display_name: nameIn.value.trim(), description: descIn.value.trim() });
        const a = res.agent || {};
        cur = { display_name: a.display_name ?? null, description: a.description ?? null };
        msg = { ok: true, text: res.message || 'Saved' };
        editing = false;
      } catch (err) {
        msg = { ok: false, text: 'Could not save: ' + err.message };
        save.disabled = false;
        editing = false;
      }
      paint();
    } }, h('label', { class: 'field' }, 'Display name', nameIn), h('label', { class: 'field' }, 'Description', descIn),
    h('div', { class: 'step-buttons' }, save, h('button', { type: 'button', onclick: () => { editing = false; paint(); } }, 'Cancel'))));
    nameIn.focus();
  };
  return {
    el,
    loaded: false,
    async load() {
      this.loaded = true;
      try {
        const list = await get('/api/agents/info', { include_stats: 'false' });
        const a = (list.agents || []).find((x) => x.agent_id === id);
        if (a) cur = { display_name: a.display_name ?? null, description: a.description ?? null };
      } catch {
        // Without the workflow store the panel still offers to name the agent.
      }
      paint();
    },
  };
}
