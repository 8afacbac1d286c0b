// Reports: generate a workflow's compliance report (OWASP LLM Top 10,
// SOC 2, blocking issues, risk score), read it here, save it; list, open,
// print and delete the saved ones.

import { h, route } from '../dom.js';
import { get, post, del } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, table, storageBanner, empty, changed, riskScore } from '../ui.js';
import { choosing, gateBadge, wfName, wfPath } from '../workflow.js';
import { renderReport, reportTypeName } from '../report_view.js';
import { deleteButton } from '../components/reports.js';

const TYPES = ['SECURITY_ASSESSMENT', 'EXECUTIVE_SUMMARY', 'CUSTOMER_DUE_DILIGENCE'];

export function mount(root, { query }) {
  const wf = query.get('workflow') || '';
  if (!wf) return choosing(root, { title: 'Reports', sub: 'Pick an agent workflow to report on.' }, 'reports', 'A compliance report');
  const state = {};
  let preview = null; // the generated, unsaved report
  let note = null;
  const typeSel = h('select', { name: 'report_type' }, TYPES.map((t) => h('option', { value: t }, reportTypeName(t))));
  const genBtn = h('button', { type: 'submit', class: 'primary' }, 'Generate report');
  const listSlot = h('div', {});
  const previewSlot = h('div', {});
  const noteSlot = h('div', {});
  const showPreview = () => {
    if (!preview) { previewSlot.replaceChildren(); return; }
    const saveBtn = h('button', { type: 'button', class: 'primary', dataset: { testid: 'save-report' }, onclick: async () => {
      saveBtn.disabled = true;
      try {
        const saved = await post(wfPath('/api/workflow/', wf, '/compliance-report'), { report_type: preview.report_type.toUpperCase(), generated_by: 'dashboard' });
        location.hash = route('report', saved.report_id) + '?workflow=' + encodeURIComponent(wf);
      } catch (e) {
        saveBtn.disabled = false;
        note = { ok: false, text: 'Could not save: ' + e.message };
        paintNote();
      }
    } }, 'Save report');
    previewSlot.replaceChildren(panel('Preview', [
      h('div', { class: 'report-actions no-print' }, saveBtn,
        h('button', { type: 'button', onclick: () => window.print() }, 'Print'),
        h('button', { type: 'button', onclick: () => { preview = null; showPreview(); } }, 'Close'),
        h('span', { class: 'muted small' }, 'Saving stores a fresh copy of this report with an id.')),
      renderReport(preview)], { id: 'report-preview', cls: 'printable' }));
  };
  const paintNote = () => noteSlot.replaceChildren(...(note ? [h('div', { class: ['banner', note.ok ? 'ok' : 'error'], role: 'status' }, h('div', {}, note.text))] : []));
  const form = h('form', { class: 'filters', dataset: { testid: 'generate' }, onsubmit: async (e) => {
    e.preventDefault();
    genBtn.disabled = true;
    try {
      preview = await get(wfPath('/api/workflow/', wf, '/compliance-report'), { report_type: typeSel.value });
      note = null;
    } catch (err) {
      note = { ok: false, text: 'Could not generate the report: ' + err.message };
    } finally {
      genBtn.disabled = false;
    }
    paintNote();
    showPreview();
    previewSlot.scrollIntoView?.({ block: 'start' });
  } }, h('label', { class: 'field' }, 'Report', typeSel), genBtn,
    h('span', { class: 'muted small' }, 'Built from the workflow\'s findings and recommendations as they are now.'));

  const view = {
    async refresh() {
      const list = await get(wfPath('/api/workflow/', wf, '/reports'), { limit: 100 });
      if (!state.mounted) {
        state.mounted = true;
        root.replaceChildren(
          pageHead({ title: 'Reports', sub: `Compliance reports of ${wfName(wf)}: the go / no-go decision, OWASP LLM Top 10 and SOC 2 status, and what blocks the gate.`,
            crumbs: [{ text: 'Workflows', href: '#/workflows' }, { text: wf, href: '#/?workflow=' + encodeURIComponent(wf) }] }),
          h('div', { class: 'banner-slot' }), noteSlot,
          panel('Generate', form, { id: 'report-generate' }), previewSlot,
          panel('Saved reports', listSlot, { id: 'reports' }));
      }
      if (!changed(state, list)) return;
      const banner = storageBanner(list.storage);
      root.querySelector('.banner-slot').replaceChildren(...(banner ? [banner] : []));
      listSlot.replaceChildren(savedList(list.reports || [], wf, async (id) => {
        try {
          await del('/api/reports/' + encodeURIComponent(id));
          note = { ok: true, text: `Report ${id} deleted.` };
        } catch (e) {
          note = { ok: false, text: 'Could not delete: ' + e.message };
        }
        paintNote();
        state.key = null;
        await view.refresh();
      }));
    },
  };
  return view;
}

function savedList(reports, wf, onDelete) {
  if (!reports.length) return empty('No saved reports', 'Generate a report above and save it to keep it here.');
  return table([
    { label: 'Report', cls: 'wrap', value: (r) => r.report_name || r.report_id },
    { label: 'Type', value: (r) => reportTypeName(r.report_type) },
    { label: 'Generated', value: (r) => h('span', { class: 'muted', title: f.dateTime(r.generated_at) }, f.relative(r.generated_at)) },
    { label: 'By', value: (r) => h('span', { class: 'muted' }, r.generated_by || '—') },
    { label: 'Risk', num: true, value: (r) => riskScore(r.risk_score) },
    { label: 'Gate', value: (r) => gateBadge(r.gate_status) },
    { label: 'Findings', num: true, value: (r) => f.int(r.findings_count) },
    { label: 'Recommendations', num: true, value: (r) => f.int(r.recommendations_count) },
    { label: '', value: (r) => deleteButton(r.report_id, onDelete) },
  ], reports, { href: (r) => route('report', r.report_id) + '?workflow=' + encodeURIComponent(wf), key: (r) => r.report_id });
}

