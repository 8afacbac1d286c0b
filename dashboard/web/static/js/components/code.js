// Copyable code snippets (connect and dev connection pages).

import { h } from '../dom.js';
import { after } from '../lifecycle.js';

// codeBlock is a copyable snippet.
export function codeBlock(testid, text, label) {
  const pre = h('pre', { class: 'code', dataset: { testid } }, text);
  const btn = h('button', { type: 'button', class: 'copy', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      btn.textContent = 'Copied';
    } catch {
      // Without clipboard access, select the text for a manual copy.
      const r = document.createRange();
      r.selectNodeContents(pre);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
      btn.textContent = 'Selected';
    }
    after(1500, () => { btn.textContent = 'Copy'; });
  } }, 'Copy');
  return h('div', { class: 'code-block' }, label ? h('div', { class: 'subhead' }, label) : null, h('div', { class: 'code-wrap' }, pre, btn));
}
