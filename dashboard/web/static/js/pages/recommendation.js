// One recommendation: what to fix and where, its finding, its audit log,
// and the lifecycle steps its status allows: start fix → complete fix
// (notes, files, commit) → verify (or back to pending), or dismiss /
// ignore with a reason.

import { h } from '../dom.js';
import { get, post } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, storageBanner, analyticsOff, severityBadge, empty } from '../ui.js';
import { statusBadge, wfLink } from '../workflow.js';
import { where } from '../components/recommendations.js';

// The steps each status allows (the API refuses the others with 409).
const STEPS = {
  PENDING: ['start', 'complete', 'dismiss', 'ignore'],
  FIXING: ['complete', 'dismiss', 'ignore'],
  FIXED: ['verify', 'dismiss', 'ignore'],
};

export function mount(root, { params, query }) {
  const id = params.id;
  const back = query.get('workflow') || '';
  let data = null;
  let message = null; // the last step's answer, shown until the next one
  let form = null; // the open step form's name
  const load = async () => {
    data = await get('/api/recommendations/' + encodeURIComponent(id));
    paint();
  };
  const paint = () => root.replaceChildren(...render(id, data, back, message, form, {
    open: (name) => { form = form === name ? null : name; paint(); },
    run: async (step, body, btn) => {
      btn.disabled = true;
      try {
        const path = '/api/recommendations/' + encodeURIComponent(id) + '/' + step;
        const res = await post(path, body);
        message = { ok: true, text: res.message || 'Done' };
        form = null;
      } catch (e) {
        message = { ok: false, text: e.message };
      }
      await load();
    },
  }));
  return {
    // Refreshing would close a form being filled in: this page reloads
    // after each step instead.
    live: false,
    refresh: load,
  };
}

function render(id, d, back, message, form, act) {
  const r = d.recommendation || { recommendation_id: id };
  const wf = r.workflow_id || back;
  const crumbs = [{ text: 'Workflows', href: '#/workflows' }, wf ? { text: wf, href: wfLink('', wf) } : null, { text: 'Recommendations', href: wfLink('recommendations', wf) }].filter(Boolean);
  const banner = storageBanner(d.storage);
  // With the store off the answer is the envelope alone: no severity or
  // status to show.
  if (analyticsOff(d.storage)) return [pageHead({ title: id, crumbs }), banner];
  const out = [pageHead({
    title: r.title || id,
    sub: h('span', {}, h('span', { class: 'mono' }, r.recommendation_id), ' · ', severityBadge(r.severity), ' ', statusBadge(r.status),
      r.source_type ? h('span', { class: 'muted' }, ` · ${r.source_type.toLowerCase()} analysis`) : null),
    crumbs,
  })];
  if (banner) out.push(banner);
  if (message) {
    out.push(h('div', { class: ['banner', message.ok ? 'ok' : 'error'], role: 'status', dataset: { testid: 'step-result' } }, h('div', {}, message.text)));
  }
  out.push(h('div', { class: 'grid side-right' },
    h('div', { class: 'stack' },
      panel('What to fix', h('div', { class: 'panel-body' }, details(r)), { id: 'rec-detail' }),
      d.finding ? panel('Finding', h('div', { class: 'panel-body' }, findingPart(d.finding)), { id: 'rec-finding' }) : null,
      panel('Audit log', auditPart(d.audit_log || []), { id: 'rec-audit', hint: 'every step, newest first' })),
    panel('Next step', h('div', { class: 'panel-body' }, actions(r, form, act)), { id: 'rec-actions' })));
  return out;
}

function details(r) {
  const kv = [];
  const row = (k, v) => { if (v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length)) kv.push(h('dt', {}, k), h('dd', {}, v)); };
  row('Where', r.file_path ? where(r) : null);
  row('OWASP LLM', r.owasp_llm);
  row('CWE', r.cwe);
  row('SOC 2', (r.soc2_controls || []).join(', '));
  row('CVSS', r.cvss_score);
  row('Category', r.category);
  row('Complexity', r.fix_complexity);
  row('Created', f.dateTime(r.created_at));
  row('Fixed', r.fixed_at ? `${f.dateTime(r.fixed_at)}${r.fixed_by ? ' by ' + r.fixed_by : ''}` : null);
  row('Fix method', r.fix_method);
  row('Commit', r.fix_commit ? h('code', {}, r.fix_commit) : null);
  row('Files changed', (r.files_modified || []).length ? h('div', { class: 'chips' }, r.files_modified.map((x) => h('span', { class: 'chip' }, x))) : null);
  row('Fix notes', r.fix_notes ? h('div', { class: 'prewrap' }, r.fix_notes) : null);
  row('Verified', r.verified_at ? `${f.dateTime(r.verified_at)}${r.verified_by ? ' by ' + r.verified_by : ''}` : null);
  row('Verification', r.verification_result);
  row(r.dismiss_type === 'IGNORED' ? 'Ignored' : 'Dismissed', r.dismissed_reason ? `${r.dismissed_reason}${r.dismissed_by ? ' (' + r.dismissed_by + ')' : ''}` : null);
  return [
    r.description ? h('p', { class: 'prewrap' }, r.description) : null,
    r.impact ? h('p', {}, h('strong', {}, 'Impact: '), r.impact) : null,
    r.fix_hints ? h('div', {}, h('div', { class: 'subhead first' }, 'How to fix'), h('p', { class: 'prewrap' }, r.fix_hints)) : null,
    r.code_snippet ? h('pre', { class: 'code snippet' }, r.code_snippet) : null,
    h('dl', { class: 'kv' }, kv),
  ];
}

function findingPart(fd) {
  return [
    h('div', {}, h('span', { class: 'mono' }, fd.finding_id), ' ', severityBadge(fd.severity), ' ', statusBadge(fd.status),
      fd.correlation_state ? [' ', h('span', { class: 'badge outline' }, fd.correlation_state.toLowerCase().replace(/_/g, ' '))] : null),
    h('p', {}, fd.title),
    fd.description ? h('p', { class: 'muted prewrap' }, fd.description) : null,
    h('div', { class: 'muted small' }, [fd.finding_type, (fd.owasp_mapping || []).join(', '), fd.cwe].filter(Boolean).join(' · ')),
  ];
}

function auditPart(entries) {
  if (!entries.length) return empty('No changes yet');
  return h('ol', { class: 'audit', dataset: { testid: 'audit' } }, entries.map((e) => h('li', {},
    h('span', { class: 'muted', title: f.dateTime(e.performed_at) }, f.relative(e.performed_at)), ' ',
    h('b', {}, String(e.action || '').toLowerCase().replace(/_/g, ' ')), ' ',
    e.previous_value || e.new_value ? h('span', { class: 'mono small' }, `${e.previous_value || '∅'} → ${e.new_value || '∅'}`) : null,
    e.performed_by ? h('span', { class: 'muted' }, ` by ${e.performed_by}`) : null,
    e.reason ? h('div', { class: 'muted small' }, e.reason) : null)));
}

function actions(r, form, act) {
  const steps = STEPS[r.status] || [];
  if (!steps.length) {
    return h('p', { class: 'muted', dataset: { testid: 'no-steps' } }, `This recommendation is ${String(r.status || '').toLowerCase()}: nothing more to do.`);
  }
  const labels = { start: 'Start fix', complete: 'Complete fix', verify: 'Verify fix', dismiss: 'Dismiss', ignore: 'Ignore' };
  const buttons = h('div', { class: 'step-buttons' }, steps.map((s) => h('button', {
    type: 'button', class: [s === steps[0] && 'primary', form === s && 'on'], dataset: { step: s },
    onclick: (e) => (s === 'start' ? act.run('start-fix', { fixed_by: 'dashboard' }, e.currentTarget) : act.open(s)),
  }, labels[s])));
  return [buttons, form ? stepForm(form, act) : h('p', { class: 'muted small' }, hint(r.status))];
}

function hint(status) {
  return {
    PENDING: 'Start the fix when work begins, or record a fix that is already done.',
    FIXING: 'Record the fix when it is done: what changed, which files, which commit.',
    FIXED: 'Check that the fix works; a failed check sends it back to pending.',
  }[status] || '';
}

function stepForm(step, act) {
  const field = (label, el) => h('label', { class: 'field' }, label, el);
  const by = h('input', { name: 'by', placeholder: 'your name', attrs: { 'aria-label': 'Who' } });
  let fields;
  let submit;
  if (step === 'complete') {
    const notes = h('textarea', { name: 'fix_notes', rows: 3, placeholder: 'What was changed and why' });
    const files = h('textarea', { name: 'files_modified', rows: 2, placeholder: 'one path per line' });
    const commit = h('input', { name: 'fix_commit', placeholder: 'commit id' });
    const method = h('select', { name: 'fix_method' }, [['MANUAL', 'Manual'], ['AI_ASSISTED', 'AI assisted']].map(([v, t]) => h('option', { value: v }, t)));
    fields = [field('Notes', notes), field('Files modified', files), h('div', { class: 'row2' }, field('Commit', commit), field('Method', method)), field('Fixed by', by)];
    submit = () => ({ step: 'complete-fix', body: { fix_notes: notes.value.trim(), files_modified: files.value.split(/[\n,]+/).map((x) => x.trim()).filter(Boolean),
      fix_commit: commit.value.trim(), fix_method: method.value, fixed_by: by.value.trim() || 'dashboard' } });
  } else if (step === 'verify') {
    const result = h('textarea', { name: 'verification_result', rows: 3, placeholder: 'How the fix was checked and what came out', required: true });
    const ok = h('select', { name: 'success' }, h('option', { value: 'true' }, 'The fix works: verified'), h('option', { value: 'false' }, 'It does not: back to pending'));
    fields = [field('Verification', result), field('Result', ok), field('Verified by', by)];
    submit = () => (result.value.trim() ? { step: 'verify', body: { verification_result: result.value.trim(), success: ok.value === 'true', verified_by: by.value.trim() || 'dashboard' } } : null);
  } else {
    const reason = h('textarea', { name: 'reason', rows: 3, required: true,
      placeholder: step === 'ignore' ? 'Why this is left as it is' : 'Why no fix is needed (false positive, accepted risk, …)' });
    fields = [field('Reason', reason), field(step === 'ignore' ? 'Ignored by' : 'Dismissed by', by)];
    submit = () => (reason.value.trim() ? { step: 'dismiss', body: { reason: reason.value.trim(), dismiss_type: step === 'ignore' ? 'IGNORED' : 'DISMISSED', dismissed_by: by.value.trim() || 'dashboard' } } : null);
  }
  const err = h('p', { class: 'form-error', role: 'alert' });
  const btn = h('button', { type: 'submit', class: 'primary' }, { complete: 'Record the fix', verify: 'Record verification', dismiss: 'Dismiss', ignore: 'Ignore' }[step]);
  return h('form', { class: 'step-form', dataset: { form: step }, onsubmit: (e) => {
    e.preventDefault();
    const s = submit();
    if (!s) { err.textContent = 'Say why: the reason is kept in the audit log.'; return; }
    act.run(s.step, s.body, btn);
  } }, fields, err, h('div', { class: 'step-buttons' }, btn, h('button', { type: 'button', onclick: () => act.open(step) }, 'Cancel')));
}
