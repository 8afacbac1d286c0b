// Replay: re-send a captured request, edited or not, to the proxy's
// upstream or another one given here (POST /api/replay) and compare the answer, its latency, tokens
// and cost with the original call's. The dashboard sends it itself: a
// replay is never recorded as agent traffic. The configured key stays on
// the server; a key typed here is sent with this replay only.

import { h } from '../dom.js';
import { get, post } from '../api.js';
import * as f from '../format.js';
import { panel, cost, badge } from '../ui.js';

// replayPanel is one panel per session page, kept across live re-renders
// so that an edit in progress survives them; open() fills it with a call.
export function replayPanel() {
  let config = null;
  let path = '';
  let original = null;
  const where = h('p', { class: 'muted' });
  const body = h('textarea', { rows: 14, spellcheck: false, attrs: { 'aria-label': 'Request to replay (JSON)' }, dataset: { testid: 'replay-body' } });
  const key = h('input', { type: 'password', autocomplete: 'off', attrs: { 'aria-label': 'API key for this replay' }, dataset: { testid: 'replay-key' },
    style: { height: '32px', padding: '0 10px', border: '1px solid var(--border-strong)', 'border-radius': '6px', 'min-width': '260px' } });
  const fieldStyle = { height: '32px', padding: '0 10px', border: '1px solid var(--border-strong)', 'border-radius': '6px' };
  // Another upstream for this replay only: the configured key never goes
  // there, only a key typed for it.
  const baseURL = h('input', { type: 'url', autocomplete: 'off', placeholder: 'another base URL (optional), e.g. http://127.0.0.1:8080',
    attrs: { 'aria-label': 'Base URL for this replay' }, dataset: { testid: 'replay-base-url' }, style: { ...fieldStyle, 'min-width': '320px' } });
  const provider = h('select', { attrs: { 'aria-label': 'Provider for this replay' }, dataset: { testid: 'replay-provider' }, style: fieldStyle },
    h('option', { value: '' }, 'configured provider'), h('option', { value: 'openai' }, 'OpenAI'), h('option', { value: 'anthropic' }, 'Anthropic'));
  const send = h('button', { type: 'button', class: 'primary', dataset: { testid: 'replay-send' }, onclick: () => run() }, 'Send');
  const close = h('button', { type: 'button', onclick: () => { el.hidden = true; } }, 'Close');
  const result = h('div', { dataset: { testid: 'replay-result' } });
  const el = panel('Replay', h('div', { class: 'panel-body' },
    where,
    h('p', { class: 'muted small' }, 'The request as captured: the messages new in this call (earlier turns of the session are not stored with it). Edit the model, messages or parameters; the answer comes back whole (stream off).'),
    body,
    h('div', { style: { display: 'flex', gap: '8px', 'align-items': 'center', margin: '8px 0', 'flex-wrap': 'wrap' } }, baseURL, provider),
    h('div', { style: { display: 'flex', gap: '8px', 'align-items': 'center', margin: '8px 0' } }, key, send, close),
    result), { id: 'replay', hint: 'sent to the configured upstream unless another is given · not recorded as agent traffic' });
  el.hidden = true;

  async function open(start, finish) {
    if (!config) config = await get('/api/replay/config').catch((e) => ({ enabled: false, reason: e.message }));
    const a = start.attributes || {};
    let data = a['llm.request.data'];
    if (typeof data === 'string') { try { data = JSON.parse(data); } catch { data = {}; } }
    data = { ...(data || {}) };
    delete data._cylestio_metadata;
    body.value = JSON.stringify(data, null, 2);
    path = a['http.path'] || '';
    original = finish;
    key.value = '';
    key.placeholder = config.api_key_available ? `key: ${config.api_key_masked || 'configured'} (or type one for this replay)` : 'API key (required: none is configured)';
    where.replaceChildren(config.enabled
      ? h('span', {}, 'Sends to ', h('code', {}, (config.base_url || '') + (path || '')), ` (${config.provider_type || 'openai'})`,
        config.api_key_source ? ` with the key from ${config.api_key_source}` : null, '.')
      : h('span', {}, 'Replay is off: ', config.reason || 'the proxy has no upstream', '.'));
    send.disabled = !config.enabled;
    result.replaceChildren(...(original ? [compare(original, null)] : []));
    el.hidden = false;
    el.scrollIntoView({ block: 'start' });
  }

  async function run() {
    let data;
    try {
      data = JSON.parse(body.value);
    } catch (e) {
      result.replaceChildren(h('div', { class: 'banner error', role: 'alert' }, 'The request is not valid JSON: ' + e.message));
      return;
    }
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      const req = { request_data: data };
      // The captured path belongs to the configured provider.
      if (path && (!provider.value || provider.value === (config.provider_type || 'openai'))) req.path = path;
      if (key.value) req.api_key = key.value;
      if (baseURL.value.trim()) req.base_url = baseURL.value.trim();
      if (provider.value) req.provider = provider.value;
      const ans = await post('/api/replay', req);
      result.replaceChildren(compare(original, ans));
    } catch (e) {
      const b = e.body || {};
      result.replaceChildren(...(original ? [compare(original, null)] : []), h('div', { class: 'banner error', role: 'alert', dataset: { testid: 'replay-error' } },
        h('div', {}, h('strong', {}, e.message), b.details ? h('pre', { class: 'tl-text' }, f.truncate(b.details, 2000)) : null)));
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
    }
  }

  return { el, open };
}

// compare shows the original call and the replay side by side.
function compare(orig, ans) {
  const cols = [];
  if (orig) {
    cols.push(side('Original call', {
      latency: orig.duration_ms, input: orig.input_tokens, output: orig.output_tokens, total: orig.total_tokens,
      cost: cost(orig), text: answerText(orig.attributes && orig.attributes['llm.response.content']), finish: orig.finish_reason,
    }, 'replay-original'));
  }
  if (ans) {
    const u = ans.usage || {};
    const p = ans.parsed || {};
    cols.push(side(h('span', {}, 'Replay ', badge('replay', 'outline')), {
      latency: ans.elapsed_ms, input: u.input_tokens, output: u.output_tokens, total: u.total_tokens,
      cost: cost(ans), model: p.model,
      text: (p.content || []).map((c) => (c.type === 'text' ? c.text : `[tool call ${c.name}] ${JSON.stringify(c.input)}`)).join('\n'),
      finish: p.finish_reason,
    }, 'replay-answer'));
  }
  return h('div', { class: 'grid two' }, cols);
}

function side(title, v, testid) {
  return h('div', { dataset: { testid } },
    h('h3', { class: 'subhead first' }, title),
    h('dl', { class: 'kv' },
      v.model ? [h('dt', {}, 'Model'), h('dd', { class: 'mono' }, v.model)] : null,
      h('dt', {}, 'Latency'), h('dd', {}, f.ms(v.latency)),
      h('dt', {}, 'Tokens'), h('dd', {}, `${f.int(v.total)} (${f.int(v.input)} in · ${f.int(v.output)} out)`),
      h('dt', {}, 'Cost'), h('dd', { dataset: { testid: testid + '-cost' } }, v.cost),
      v.finish ? [h('dt', {}, 'Finish'), h('dd', {}, v.finish)] : null),
    h('pre', { class: 'tl-text' }, v.text || '—'));
}

// answerText flattens a captured answer (Chat messages, Anthropic blocks,
// Responses items) to text.
function answerText(content) {
  if (typeof content === 'string') { try { content = JSON.parse(content); } catch { return content; } }
  if (!content) return '';
  const list = Array.isArray(content) ? content : [content];
  return list.map((c) => {
    if (!c || typeof c !== 'object') return String(c ?? '');
    if (c.type === 'tool_use' || c.type === 'function_call') return `[tool call ${c.name}]`;
    if (typeof c.text === 'string') return c.text;
    const m = c.message && typeof c.message === 'object' ? c.message : c;
    const parts = [];
    if (typeof m.content === 'string') parts.push(m.content);
    else if (Array.isArray(m.content)) parts.push(m.content.map((p) => (p && p.text) || '').join(''));
    for (const tc of m.tool_calls || []) parts.push(`[tool call ${tc.function?.name || tc.name}] ${tc.function?.arguments ?? ''}`);
    return parts.filter(Boolean).join('\n');
  }).filter(Boolean).join('\n');
}
