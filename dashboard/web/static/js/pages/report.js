// A saved compliance report, laid out to print (the sidebar and buttons
// are left out of the printout), with the server's standalone printable
// page and deletion.

import { h } from '../dom.js';
import { get, del, withToken } from '../api.js';
import { pageHead, storageBanner, analyticsOff } from '../ui.js';
import { wfLink } from '../workflow.js';
import { renderReport } from '../report_view.js';
import { deleteButton } from '../components/reports.js';

export function mount(root, { params, query }) {
  const id = params.id;
  return {
    live: false,
    async refresh() {
      const saved = await get('/api/reports/' + encodeURIComponent(id));
      const wf = saved.agent_workflow_id || query.get('workflow') || '';
      const crumbs = [{ text: 'Workflows', href: '#/workflows' }, wf ? { text: wf, href: wfLink('', wf) } : null, { text: 'Reports', href: wfLink('reports', wf) }].filter(Boolean);
      const banner = storageBanner(saved.storage);
      if (analyticsOff(saved.storage)) {
        // The answer is the envelope alone: no report to show, print or delete.
        root.replaceChildren(pageHead({ title: id, crumbs }), banner);
        return;
      }
      const data = saved.report_data && typeof saved.report_data === 'object' ? saved.report_data : {};
      data.report_id = data.report_id || saved.report_id;
      const err = h('div', {});
      const head = pageHead({
          title: saved.report_name || id,
          crumbs,
          actions: h('div', { class: 'report-actions no-print' },
            h('button', { type: 'button', class: 'primary', dataset: { testid: 'print' }, onclick: () => window.print() }, 'Print'),
            h('a', { class: 'button', href: withToken('/api/reports/' + encodeURIComponent(id) + '/html'), target: '_blank', rel: 'noopener', dataset: { testid: 'printable-html' } }, 'Standalone page'),
            deleteButton(id, async () => {
              try {
                await del('/api/reports/' + encodeURIComponent(id));
                location.hash = wfLink('reports', wf);
              } catch (e) {
                err.replaceChildren(h('div', { class: 'banner error', role: 'alert' }, h('div', {}, 'Could not delete: ' + e.message)));
              }
            })),
      });
      // The report carries its own title: the printout leaves the page's out.
      head.classList.add('no-print');
      root.replaceChildren(...[head, banner, err,
        h('section', { class: 'panel printable', id: 'saved-report' }, h('div', { class: 'panel-body' }, renderReport(data, saved.report_name)))].filter(Boolean));
    },
  };
}
