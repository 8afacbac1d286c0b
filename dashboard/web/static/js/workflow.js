// The security workflow's shared pieces: the current agent workflow (the
// `workflow` query parameter), the picker in the sidebar, workflow links,
// and the badges of gate, recommendation and analysis states.
//
// A workflow scopes the overview, agents, sessions and findings pages and
// is required by the workflow pages (recommendations, analyses, reports,
// dev connection). "unassigned" is the traffic sent without a workflow
// route, as the API spells it.

import { h } from './dom.js';
import { get } from './api.js';
import { badge, empty, pageHead, panel } from './ui.js';

export const UNASSIGNED = 'unassigned';

// wfLink is the fragment of a page, scoped to wf when given.
export function wfLink(page, wf, extra) {
  const q = new URLSearchParams(extra || {});
  if (wf) q.set('workflow', wf);
  const qs = q.toString();
  return '#/' + page + (qs ? '?' + qs : '');
}

// wfName is how a workflow is shown: its id, or "Unassigned".
export function wfName(wf) {
  return !wf || wf === UNASSIGNED ? 'Unassigned traffic' : wf;
}

// wfPath is a workflow id as a path segment of the API.
export function wfPath(prefix, wf, suffix) {
  return prefix + encodeURIComponent(wf) + (suffix || '');
}

// gateBadge shows a gate state (BLOCKED, OPEN; the static summary's
// UNBLOCKED reads as OPEN).
export function gateBadge(state) {
  const s = String(state || '').toUpperCase();
  if (s === 'BLOCKED') return h('span', { class: 'badge critical gate', dataset: { gate: 'BLOCKED' } }, 'Blocked');
  if (s === 'OPEN' || s === 'UNBLOCKED') return h('span', { class: 'badge ok gate', dataset: { gate: 'OPEN' } }, 'Open');
  return h('span', { class: 'badge outline gate' }, s ? s.toLowerCase() : 'no data');
}

const REC_STATUS = {
  PENDING: ['Pending', 'high'], FIXING: ['Fixing', 'medium'], FIXED: ['Fixed', 'low'], VERIFIED: ['Verified', 'ok'],
  DISMISSED: ['Dismissed', 'outline'], IGNORED: ['Ignored', 'outline'], RESOLVED: ['Resolved', 'ok'], SUPERSEDED: ['Superseded', 'outline'],
  OPEN: ['Open', 'high'],
};

// statusBadge shows a recommendation or finding status.
export function statusBadge(status) {
  const s = String(status || '').toUpperCase();
  const [text, cls] = REC_STATUS[s] || [s.toLowerCase() || '—', 'outline'];
  return h('span', { class: ['badge', cls], dataset: { status: s } }, text);
}

// checkBadge shows a PASS / INFO / WARNING / FAIL (or passed / warning /
// critical) state.
export function checkBadge(status) {
  const s = String(status || '').toUpperCase();
  const cls = { PASS: 'ok', PASSED: 'ok', COMPLIANT: 'ok', GO: 'ok', INFO: 'low', WARNING: 'medium', FAIL: 'critical', CRITICAL: 'critical',
    'NON-COMPLIANT': 'critical', 'NO-GO': 'critical', 'N/A': 'outline', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', NONE: 'ok' }[s] || 'outline';
  return h('span', { class: ['badge', cls], dataset: { check: s } }, s === 'PASSED' ? 'PASS' : s || '—');
}

export function analysisBadge(status) {
  const s = String(status || '').toLowerCase();
  if (s === 'completed') return badge('Completed', 'ok');
  if (s === 'in_progress' || s === 'running') return badge('Running', 'medium');
  return badge(s ? s.replace(/_/g, ' ') : 'Not run', 'outline');
}

// chooser is the body of a workflow page opened without a workflow: the
// workflows to pick from, or how to create one.
export async function chooser(page, title) {
  const list = await get('/api/agent-workflows');
  const wfs = (list.agent_workflows || []).filter((w) => w.id);
  if (!wfs.length) {
    return panel(null, empty('No agent workflows yet', `${title} belongs to an agent workflow: point an agent at the proxy's /agent-workflow/{id}/ route or create an analysis from your IDE.`,
      h('a', { href: '#/connect' }, 'How to connect an agent →')), { id: 'choose-workflow' });
  }
  return panel('Pick a workflow', h('ul', { class: 'wf-choices' }, wfs.map((w) => h('li', {},
    h('a', { href: wfLink(page, w.id), class: 'mono' }, w.id),
    ' ', h('span', { class: 'muted' }, `${w.agent_count ?? 0} agents · ${w.session_count ?? 0} sessions`)))), { id: 'choose-workflow', hint: `${title} is kept per workflow` });
}

// choosing is the view of a workflow page opened without a workflow: the
// page's header (head, as pageHead takes it) over the chooser, drawn once.
export function choosing(root, head, page, title) {
  let drawn = false;
  return {
    async refresh() {
      if (drawn) return;
      drawn = true;
      root.replaceChildren(pageHead(head), await chooser(page, title));
    },
  };
}

// Picker: the sidebar's workflow select. The pages that a workflow scopes
// take it from their URL; the sidebar's links carry the last one picked,
// so moving between pages keeps the scope.
let sticky = '';
let known = [];

export function currentWorkflow() { return sticky; }

export function setSticky(wf) {
  sticky = wf || '';
  paintPicker();
}

// The list is asked for at most every listTTL ms: navigating between
// pages repaints the picker without another scan of the events.
const listTTL = 15000;
let listedAt = -Infinity;

export async function loadWorkflows() {
  if (Date.now() - listedAt < listTTL) {
    paintPicker();
    return;
  }
  listedAt = Date.now();
  try {
    const list = await get('/api/agent-workflows');
    known = (list.agent_workflows || []).map((w) => (w.id === null || w.id === undefined ? UNASSIGNED : String(w.id)));
  } catch {
    // The picker keeps what it had; the page shows the error.
    listedAt = -Infinity;
  }
  paintPicker();
}

function paintPicker() {
  const sel = document.getElementById('workflow-picker');
  if (!sel) return;
  const ids = known.slice();
  if (sticky && !ids.includes(sticky)) ids.push(sticky);
  const key = ids.join('\n') + '\u0000' + sticky;
  if (sel.dataset.key === key) return;
  sel.dataset.key = key;
  sel.replaceChildren(h('option', { value: '' }, 'All traffic'),
    ...ids.map((id) => h('option', { value: id, selected: id === sticky }, wfName(id))));
  sel.value = sticky;
}
