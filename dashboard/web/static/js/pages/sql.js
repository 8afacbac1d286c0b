// SQL explorer: read-only SELECTs over the events table (the server runs
// them with readonly, a time limit and a row limit; see API.md).

import { h } from '../dom.js';
import { get, post } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, storageBanner, empty } from '../ui.js';

const DEFAULT_QUERY = `SELECT name, count() AS events, sum(total_tokens) AS tokens
FROM perimeter.events FINAL
GROUP BY name
ORDER BY events DESC`;

let lastQuery = null; // kept across visits while the page is open

export function mount(root) {
  const editor = h('textarea', { name: 'query', spellcheck: false, rows: 7, attrs: { 'aria-label': 'SQL query' } });
  editor.value = lastQuery ?? DEFAULT_QUERY;
  const limitSel = h('select', { name: 'limit', attrs: { 'aria-label': 'Row limit' } }, [100, 1000, 10000].map((n) => h('option', { value: String(n), selected: n === 1000 }, `${f.int(n)} rows max`)));
  const runBtn = h('button', { type: 'submit', class: 'primary' }, 'Run query');
  const status = h('span', { class: 'sql-status' }, 'Ctrl+Enter runs the query');
  const examples = h('div', { class: 'examples' });
  const schema = h('div', { class: 'facts' }, h('div', { class: 'muted' }, 'Loading schema…'));
  const result = h('div', { dataset: { testid: 'sql-result' } });
  const bannerSlot = h('div', {});

  const run = async () => {
    lastQuery = editor.value;
    runBtn.disabled = true;
    status.textContent = 'Running…';
    try {
      const res = await post('/api/sql', { query: editor.value, limit: Number(limitSel.value) });
      // A result cut by size says why and what to do (truncated_reason);
      // one cut by the row limit needs no more than the status line.
      const reason = res.truncated ? String(res.truncated_reason || '').trim() : '';
      status.textContent = `${f.plural(res.row_count, 'row')}${res.truncated ? (reason ? ' (truncated)' : ' (truncated at the limit)') : ''} in ${f.ms(res.elapsed_ms)}`;
      const banner = storageBanner(res.storage);
      bannerSlot.replaceChildren(...(banner ? [banner] : []));
      result.replaceChildren(...[
        reason ? h('div', { class: 'banner sql-truncated', role: 'status', dataset: { testid: 'sql-truncated' } }, h('div', {}, h('strong', {}, 'Truncated'), h('p', {}, reason))) : null,
        resultTable(res)].filter(Boolean));
    } catch (e) {
      status.textContent = 'Failed';
      result.replaceChildren(h('div', { class: 'banner error', role: 'alert' }, h('div', {}, h('strong', {}, 'The query failed'), h('pre', { class: 'sql-error' }, e.message))));
    } finally {
      runBtn.disabled = false;
    }
  };
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
  });
  const form = h('form', { class: 'panel-body sql-editor', onsubmit: (e) => { e.preventDefault(); run(); } },
    editor,
    h('div', { class: 'sql-bar' }, runBtn, limitSel, status, h('span', { class: 'spacer' }), h('span', {}, 'Read-only · 10 s limit')),
    examples);

  root.replaceChildren(
    pageHead({ title: 'SQL explorer', sub: 'Ask the analytics store anything: one read-only SELECT over perimeter.events.' }),
    bannerSlot,
    h('div', { class: 'grid side-right' },
      h('div', { class: 'stack' }, panel('Query', form), panel('Result', result, { id: 'sql-result' })),
      panel('Schema', schema)));
  result.append(h('div', { class: 'empty small' }, h('h2', {}, 'Run a query to see rows here')));
  let ran = false;

  return {
    live: false,
    async refresh() {
      const sc = await get('/api/sql/schema');
      const banner = storageBanner(sc.storage);
      bannerSlot.replaceChildren(...(banner ? [banner] : []));
      examples.replaceChildren(...(sc.examples || []).map((ex) => h('button', {
        type: 'button', title: ex.query, onclick: () => { editor.value = ex.query; run(); },
      }, ex.title)));
      schema.replaceChildren(...(sc.tables || []).map((t) => [
        h('h3', { class: 'mono' }, t.name),
        h('dl', { class: 'kv schema' }, (t.columns || []).map((c) => [h('dt', { class: 'mono' }, c.name), h('dd', { class: 'mono muted' }, c.type)])),
      ]).flat());
      if (!(sc.tables || []).length) schema.replaceChildren(h('div', { class: 'muted' }, 'No tables: the store is not available.'));
      // Show something at once: the default query's answer.
      if (!ran && !(sc.storage && sc.storage.available === false)) { ran = true; run(); }
    },
  };
}

function resultTable(res) {
  const cols = res.columns || [];
  const rows = res.rows || [];
  if (!cols.length) return empty('The query returned no columns');
  if (!rows.length) return empty('No rows');
  return h('div', { class: 'table-wrap result' }, h('table', {},
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { class: numeric(res, i) && 'num' }, c, h('span', { class: 'coltype' }, (res.types || [])[i] || ''))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v, i) => cell(v, numeric(res, i))))))));
}

// numeric columns are right-aligned, like numbers in every other table.
function numeric(res, i) {
  return /^(Nullable\()?(U?Int|Float|Decimal)/.test((res.types || [])[i] || '');
}

// cell shows a value as the API sent it. Only a JSON null is NULL: integers
// past ±2^53 and NaN or ±Infinity come as strings ("9007199254740993",
// "NaN") to stay exact, and are shown as their text, never reformatted.
function cell(v, num) {
  if (v === null || v === undefined) return h('td', { class: ['null', num && 'num'] }, 'NULL');
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return h('td', { class: num && 'num', title: text.length > 60 ? text.slice(0, 2000) : null }, text);
}
