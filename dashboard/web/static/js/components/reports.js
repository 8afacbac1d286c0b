// Report actions shared by the reports list and a report's page.

import { h } from '../dom.js';
import { after } from '../lifecycle.js';

// deleteButton asks once more before deleting (a second click confirms).
export function deleteButton(id, onDelete) {
  const btn = h('button', { type: 'button', class: 'small-btn danger', dataset: { testid: 'delete-report' }, onclick: (e) => {
    e.stopPropagation();
    if (btn.dataset.armed !== '1') {
      btn.dataset.armed = '1';
      btn.textContent = 'Confirm delete';
      after(4000, () => { btn.dataset.armed = ''; btn.textContent = 'Delete'; });
      return;
    }
    btn.disabled = true;
    onDelete(id);
  } }, 'Delete');
  return btn;
}
