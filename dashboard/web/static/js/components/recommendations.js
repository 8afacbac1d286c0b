// The production gate and where a recommendation points, shared by the
// overview and the recommendation pages.

import { h } from '../dom.js';
import * as f from '../format.js';
import { gateBadge, analysisBadge } from '../workflow.js';

// where is the file and lines a recommendation points at.
export function where(r) {
  if (!r.file_path) return h('span', { class: 'muted' }, r.source_type === 'DYNAMIC' ? 'runtime' : '—');
  const lines = r.line_start ? `:${r.line_start}${r.line_end && r.line_end !== r.line_start ? '–' + r.line_end : ''}` : '';
  return h('span', { class: 'mono small' }, f.truncate(r.file_path, 48) + lines);
}

// gatePanel is the production gate with what holds it shut.
export function gatePanel(ready, recs) {
  const gate = (ready && ready.gate) || {};
  const blocked = gate.state === 'BLOCKED' || gate.is_blocked;
  const blocking = (recs || []).filter((r) => (r.severity === 'CRITICAL' || r.severity === 'HIGH') && (r.status === 'PENDING' || r.status === 'FIXING'));
  const crit = blocking.filter((r) => r.severity === 'CRITICAL').length;
  const st = (ready && ready.static_analysis) || {};
  const dy = (ready && ready.dynamic_analysis) || {};
  return h('section', { class: ['gate-panel', blocked ? 'blocked' : 'open'], id: 'gate', dataset: { gate: blocked ? 'BLOCKED' : 'OPEN' } },
    h('div', { class: 'gate-state' },
      h('div', { class: 'kpi-label' }, 'Production gate'),
      h('div', { class: 'gate-big' }, gateBadge(blocked ? 'BLOCKED' : 'OPEN')),
      h('div', { class: 'gate-msg' }, blocked
        ? `${f.plural(gate.blocking_count ?? blocking.length, 'blocking issue')}${recs ? ` (${crit} critical, ${blocking.length - crit} high)` : ''} must be fixed or dismissed before this workflow ships.`
        : 'No critical or high recommendation is open: cleared for production.')),
    h('dl', { class: 'kv gate-facts' },
      h('dt', {}, 'Static analysis'), h('dd', {}, analysisBadge(st.status), st.critical_count ? h('span', { class: 'muted small' }, ` ${st.critical_count} blocking`) : null),
      h('dt', {}, 'Dynamic analysis'), h('dd', {}, analysisBadge(dy.status), dy.critical_count ? h('span', { class: 'muted small' }, ` ${dy.critical_count} blocking`) : null)));
}
