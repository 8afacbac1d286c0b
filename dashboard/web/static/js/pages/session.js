// Session: the conversation as a timeline — messages sent, answers with
// usage, tool calls with their arguments and results, errors, and security
// findings, each finding highlighted on the event it was found in, the cost
// of each call, and a replay of any request.
// Everything here is captured traffic: text only, never markup.

import { h, route } from '../dom.js';
import { get } from '../api.js';
import * as f from '../format.js';
import { pageHead, panel, storageBanner, analyticsOff, empty, changed, riskScore, severityBadge, severityClass, badge, cost, levelClass } from '../ui.js';
import { statusBadge } from '../components/sessions.js';
import { replayPanel } from '../components/replay.js';

const LIMIT = 500;

export function mount(root, { params, query }) {
  const id = params.id;
  const focus = query.get('event') || '';
  const state = {};
  const open = new Set(); // raw-attribute panels the user opened
  let seen = null; // event ids already shown, to mark new ones
  let page = 0;
  let focused = false;
  const replay = replayPanel(); // outlives live re-renders
  const view = {
    async refresh() {
      let data;
      try {
        data = await get('/api/session/' + encodeURIComponent(id), { limit: LIMIT, offset: page * LIMIT });
      } catch (e) {
        if (e.status === 404) {
          if (changed(state, 404)) root.replaceChildren(notFound(id));
          return;
        }
        throw e;
      }
      if (!changed(state, data)) return;
      const ids = (data.events || []).map(eventKey);
      const fresh = seen ? new Set(ids.filter((x) => !seen.has(x))) : new Set();
      seen = new Set(ids);
      if (analyticsOff(data.storage)) {
        // The answer is an empty session: no status, agent or counts to show.
        root.replaceChildren(pageHead({ title: f.short(id, 48), crumbs: [{ text: 'Sessions', href: '#/sessions' }] }), storageBanner(data.storage));
        return;
      }
      root.replaceChildren(...render(data, { open, fresh, focus, replay, onPage: (p) => { page = p; state.key = null; view.refresh(); } }));
      if (focus && !focused) {
        const el = root.querySelector(`[data-event-id="${CSS.escape(focus)}"]`);
        if (el) { el.scrollIntoView({ block: 'center' }); focused = true; }
      }
    },
  };
  return view;
}

function eventKey(e) {
  return e.event_id || e.id + '@' + e.timestamp + '@' + e.name;
}

function notFound(id) {
  return h('div', {}, pageHead({ title: 'Session not found', crumbs: [{ text: 'Sessions', href: '#/sessions' }] }),
    panel(null, empty('No events for this session', `Nothing stored for session ${id}.`, h('a', { href: '#/sessions' }, 'See all sessions'))));
}

function render(data, ctx) {
  const s = data.session || {};
  const events = data.events || [];
  const findings = data.findings || [];
  // Findings by the event they were found in.
  const bySource = new Map();
  for (const fd of findings) {
    if (!fd.source_event_id) continue;
    if (!bySource.has(fd.source_event_id)) bySource.set(fd.source_event_id, []);
    bySource.get(fd.source_event_id).push(fd);
  }
  const out = [pageHead({
    title: f.short(s.id, 48),
    crumbs: [{ text: 'Sessions', href: '#/sessions' }, { text: s.agent_id || 'agent', href: route('agent', s.agent_id || '') }],
    sub: [`${f.plural(s.message_count, 'call')}`, `${f.plural(s.tool_uses, 'tool call')}`, `${f.compact(s.total_tokens)} tokens`, `started ${f.dateTime(s.created_at)}`].join(' · '),
    actions: statusBadge(s),
  })];
  const banner = storageBanner(data.storage);
  if (banner) out.push(banner);

  ctx.shown = new Set(events.map((e) => e.event_id).filter(Boolean));
  ctx.answers = answers(events);
  const list = h('ol', { class: 'timeline', dataset: { testid: 'timeline' } },
    events.map((ev) => timelineItem(ev, bySource.get(ev.event_id) || [], ctx)));
  const tlPanel = panel('Timeline', [
    events.length ? list : empty('No events on this page'),
    pager(data, ctx),
  ], { hint: `${f.plural(data.events_total ?? events.length, 'event')}${findings.length ? ' · ' + f.plural(findings.length, 'finding') : ''}`, id: 'timeline' });
  out.push(h('div', { class: 'grid side-right' }, tlPanel, facts(s, findings)), ctx.replay.el);
  return out;
}

// answers pairs each request with the answer that followed it (calls of a
// session are sequential).
function answers(events) {
  const out = new Map();
  const pending = [];
  for (const ev of events) {
    if (ev.name === 'llm.call.start') pending.push(ev);
    else if ((ev.name === 'llm.call.finish' || ev.name === 'llm.call.error') && pending.length) out.set(eventKey(pending.shift()), ev);
  }
  return out;
}

function pager(data, ctx) {
  const total = Number(data.events_total) || 0;
  const limit = Number(data.limit) || LIMIT;
  if (total <= limit) return null;
  const page = Math.floor((Number(data.offset) || 0) / limit);
  return h('div', { class: 'pager' },
    h('span', {}, `Events ${f.int(page * limit + 1)}–${f.int(Math.min(total, (page + 1) * limit))} of ${f.int(total)}`),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', disabled: page === 0, onclick: () => ctx.onPage(page - 1) }, '← Earlier'),
      h('button', { type: 'button', disabled: !data.has_more, onclick: () => ctx.onPage(page + 1) }, 'Later →')));
}

const KIND = {
  'session.start': 'session', 'session.end': 'session',
  'llm.call.start': 'llm', 'llm.call.finish': 'llm', 'llm.call.error': 'error',
  'tool.execution': 'tool', 'tool.result': 'tool', 'security.finding': 'finding',
};

function timelineItem(ev, found, ctx) {
  const a = attrs(ev);
  const kind = KIND[ev.name] || (String(ev.name).endsWith('.error') ? 'error' : 'other');
  const key = eventKey(ev);
  const li = h('li', {
    class: ['tl-item', 'k-' + kind, found.length && 'flagged', ctx.fresh.has(key) && 'fresh', ctx.focus && ctx.focus === ev.event_id && 'focus'],
    dataset: { eventId: ev.event_id || '', name: ev.name },
  });
  const head = h('div', { class: 'tl-head' }, h('span', { class: 'tl-name' }, title(ev, a)));
  const body = h('div', { class: 'tl-body' }, head);
  // Evidence of the findings in this event, marked where it appears.
  const marks = found.map((fd) => fd.evidence).filter((x) => typeof x === 'string' && x.trim().length >= 3);
  const card = (m) => messageCard(m, marks);
  switch (ev.name) {
    case 'session.start':
      head.append(h('span', { class: 'tl-desc' }, [a['llm.vendor'], a['llm.model']].filter(Boolean).join(' · ')));
      break;
    case 'llm.call.start': {
      const data = a['llm.request.data'] || {};
      head.append(h('span', { class: 'tl-desc mono' }, ev.model || a['llm.model'] || ''),
        h('button', { type: 'button', class: 'tl-replay', dataset: { testid: 'replay-open' }, title: 'Edit this request and send it again',
          style: { height: '24px', padding: '0 8px', 'font-size': '12px', 'margin-left': 'auto' },
          onclick: () => ctx.replay.open(ev, ctx.answers.get(key) || null) }, 'Replay'));
      // A request repeats the model's previous turn (it is history now):
      // that part is shown folded, the new input in full.
      const msgs = requestMessages(data).map((m) => (m.role === 'assistant' ? { ...m, echo: true } : m));
      if (msgs.length) body.append(h('div', { class: 'tl-cards' }, msgs.map(card)));
      break;
    }
    case 'llm.call.finish': {
      head.append(h('span', { class: 'tl-desc mono' }, ev.model || a['llm.model'] || ''));
      body.append(usage(ev, a));
      const parts = responseParts(a['llm.response.content']);
      // Tool calls get their own timeline entry with the arguments; here
      // they are only named.
      const texts = parts.filter((p) => !p.tool);
      const calls = parts.filter((p) => p.tool);
      if (texts.length) body.append(h('div', { class: 'tl-cards' }, texts.map(card)));
      if (calls.length) body.append(h('div', { class: 'tl-calls' }, 'Asks to call', calls.map((p) => h('span', { class: 'chip used' }, p.tool.name || 'a tool'))));
      break;
    }
    case 'llm.call.error':
      body.append(h('div', { class: 'tl-card' },
        h('div', { class: 'tl-card-head' }, badge(`HTTP ${ev.status || a['http.status_code'] || '?'}`, 'error'), h('b', {}, ev.error_type || a['error.type'] || 'error'), h('span', {}, f.ms(ev.duration_ms || a['llm.response.duration_ms']))),
        h('pre', { class: 'tl-text' }, ev.error_message || a['error.message'] || '')));
      break;
    case 'tool.execution': {
      const m = marked(f.pretty(a['tool.params'] ?? {}), marks);
      body.append(h('div', { class: ['tl-card', m.hit && 'hit'], dataset: { testid: 'tool-call' } },
        h('div', { class: 'tl-card-head' }, 'Arguments'),
        h('pre', { class: 'tl-pre mono' }, m.nodes)));
      break;
    }
    case 'tool.result':
      head.append(h('span', { class: 'tl-desc' }, a['tool.status'] || ''));
      if (a['tool.result'] !== undefined) {
        const m = marked(f.pretty(textOf(a['tool.result'])), marks);
        body.append(h('div', { class: ['tl-card', m.hit && 'hit'] },
          h('div', { class: 'tl-card-head' }, 'Result'),
          h('pre', { class: 'tl-pre mono' }, m.nodes)));
      }
      break;
    case 'security.finding': {
      const fd = ev.finding || findingFromAttrs(ev, a);
      if (fd.source_event_id && ctx.shown.has(fd.source_event_id)) {
        // Shown in full on the event it was found in.
        head.firstChild.textContent = 'Finding';
        head.append(severityBadge(fd.severity), h('span', { class: 'mono' }, fd.rule || ''), h('span', { class: 'tl-desc' }, `in the ${eventLabel(fd.source_event_name)} above`));
      } else {
        body.append(findingBox(fd));
      }
      break;
    }
    default:
      break;
  }
  if (found.length) head.append(h('span', { class: 'flag' }, `⚑ ${f.plural(found.length, 'finding')}`));
  for (const fd of [...found].sort(bySeverity)) body.append(findingBox(fd, true));
  body.append(raw(ev, key, ctx.open));
  li.append(h('div', { class: 'tl-time', title: f.dateTime(ev.timestamp) }, f.time(ev.timestamp)), h('div', { class: 'tl-rail' }, h('span', { class: 'tl-dot' })), body);
  return li;
}

// attrs returns the event's attributes with JSON-in-a-string values the
// timeline reads (request data, response content, tool params) decoded.
function attrs(ev) {
  let a = ev.attributes || {};
  if (typeof a === 'string') a = parseJSON(a) || {};
  const out = { ...a };
  for (const k of ['llm.request.data', 'llm.response.content', 'tool.params']) {
    if (typeof out[k] === 'string') {
      const v = parseJSON(out[k]);
      if (v !== undefined) out[k] = v;
    }
  }
  return out;
}

function parseJSON(s) {
  try { return JSON.parse(s); } catch { return undefined; }
}

function title(ev, a) {
  switch (ev.name) {
    case 'session.start': return 'Session started';
    case 'llm.call.start': return 'Request';
    case 'llm.call.finish': return 'Response';
    case 'llm.call.error': return 'Call failed';
    case 'tool.execution': return `Tool call: ${ev.tool_name || a['tool.name'] || 'unknown'}`;
    case 'tool.result': return `Tool result: ${ev.tool_name || a['tool.name'] || 'unknown'}`;
    case 'security.finding': return 'Security finding';
    default: return ev.name;
  }
}

function usage(ev, a) {
  const inT = ev.input_tokens ?? a['llm.usage.input_tokens'];
  const outT = ev.output_tokens ?? a['llm.usage.output_tokens'];
  const tot = ev.total_tokens ?? a['llm.usage.total_tokens'];
  const reason = ev.finish_reason || a.finish_reason || a.stop_reason;
  return h('div', { class: 'tl-usage' },
    h('span', {}, h('b', {}, f.ms(ev.duration_ms ?? a['llm.response.duration_ms'])), ' latency'),
    h('span', {}, h('b', {}, f.int(inT)), ' in'),
    h('span', {}, h('b', {}, f.int(outT)), ' out'),
    h('span', {}, h('b', {}, f.int(tot)), ' total tokens'),
    Number(ev.cached_tokens) ? h('span', {}, h('b', {}, f.int(ev.cached_tokens)), ' cached') : null,
    ev.cost_status ? h('span', { dataset: { testid: 'call-cost' } }, h('b', {}, cost(ev)), ' cost') : null,
    reason ? h('span', {}, 'finish: ', h('b', {}, reason)) : null);
}

// requestMessages lists the new messages a request carried: Chat and
// Anthropic "messages", Responses "input" (a string or a list of items).
function requestMessages(data) {
  let list = data.messages ?? data.input;
  if (typeof list === 'string') list = [{ role: 'user', content: list }];
  if (!Array.isArray(list)) return [];
  const out = [];
  for (const m of list) {
    if (!m || typeof m !== 'object') continue;
    if (m.type === 'function_call_output') { out.push({ role: 'tool result', text: textOf(m.output), note: m.call_id }); continue; }
    if (m.type === 'function_call') { out.push({ role: 'assistant', tool: { name: m.name, args: m.arguments } }); continue; }
    const role = m.role || m.type || 'message';
    if (Array.isArray(m.content)) {
      // Anthropic blocks (text, tool_use, tool_result), in their order.
      let texts = [];
      const flush = () => { if (texts.length) out.push({ role, text: texts.join('\n') }); texts = []; };
      for (const b of m.content) {
        if (!b || typeof b !== 'object') { if (typeof b === 'string') texts.push(b); continue; }
        if (b.type === 'tool_result') { flush(); out.push({ role: 'tool result', text: textOf(b.content), note: b.tool_use_id, error: b.is_error }); }
        else if (b.type === 'tool_use') { flush(); out.push({ role, tool: { name: b.name, args: b.input } }); }
        else if (b.text !== undefined) texts.push(String(b.text));
      }
      flush();
    } else {
      if (m.content !== undefined && m.content !== null && m.content !== '') out.push({ role: m.role === 'tool' ? 'tool result' : role, text: textOf(m.content), note: m.tool_call_id });
      for (const tc of m.tool_calls || []) out.push({ role, tool: { name: tc.function?.name || tc.name, args: tc.function?.arguments ?? tc.arguments } });
    }
  }
  return out;
}

// responseParts reads llm.response.content: Chat message objects, Anthropic
// blocks or Responses output items.
function responseParts(content) {
  if (!content) return [];
  if (typeof content === 'string') return [{ role: 'assistant', text: content }];
  if (!Array.isArray(content)) content = [content];
  const out = [];
  for (const c of content) {
    if (!c || typeof c !== 'object') { if (typeof c === 'string') out.push({ role: 'assistant', text: c }); continue; }
    if (c.type === 'tool_use') { out.push({ role: 'assistant', tool: { name: c.name, args: c.input } }); continue; }
    if (c.type === 'function_call') { out.push({ role: 'assistant', tool: { name: c.name, args: c.arguments } }); continue; }
    if (c.type === 'text' || (c.text !== undefined && !c.role)) { out.push({ role: 'assistant', text: String(c.text ?? '') }); continue; }
    const msg = c.message && typeof c.message === 'object' ? c.message : c;
    const text = textOf(msg.content);
    if (text) out.push({ role: msg.role || 'assistant', text });
    for (const tc of msg.tool_calls || []) out.push({ role: msg.role || 'assistant', tool: { name: tc.function?.name || tc.name, args: tc.function?.arguments ?? tc.arguments } });
    if (msg.refusal) out.push({ role: 'refusal', text: String(msg.refusal) });
  }
  return out;
}

// textOf flattens message content (string, list of parts) into text.
function textOf(c) {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : p && typeof p === 'object' ? (p.text ?? textOf(p.content) ?? '') : '')).filter(Boolean).join('\n');
  if (typeof c === 'object') return c.text !== undefined ? String(c.text) : JSON.stringify(c);
  return String(c);
}

function messageCard(m, marks) {
  if (m.echo) {
    const what = m.tool ? `called ${m.tool.name || 'a tool'}` : f.truncate(m.text, 140);
    return h('div', { class: 'tl-echo', dataset: { testid: 'history' } }, h('span', { class: 'role' }, 'Assistant (earlier)'), ' ', what);
  }
  if (m.tool) {
    const x = marked(f.pretty(m.tool.args ?? {}), marks);
    return h('div', { class: ['tl-card', x.hit && 'hit'], dataset: { testid: 'tool-request' } },
      h('div', { class: 'tl-card-head' }, h('b', {}, 'Tool call'), h('span', { class: 'mono' }, m.tool.name || 'unknown')),
      h('pre', { class: 'tl-pre mono' }, x.nodes));
  }
  const x = marked(m.text || '', marks);
  return h('div', { class: ['tl-card', m.error && 'is-error', x.hit && 'hit'], dataset: { testid: 'message' } },
    h('div', { class: 'tl-card-head' }, h('span', { class: 'role' }, m.role), m.note ? h('span', { class: 'mono' }, f.short(m.note, 28)) : null, m.error ? badge('error', 'error') : null),
    h('pre', { class: 'tl-text' }, x.nodes));
}

// marked splits text into text nodes and <mark> elements around every
// case-insensitive occurrence of a finding's evidence.
function marked(text, marks) {
  if (!marks || !marks.length || !text) return { nodes: [text], hit: false };
  const lower = text.toLowerCase();
  const spans = [];
  for (const ev of marks) {
    // Detection quotes its evidence ("…"); the match is what is inside.
    const needle = ev.trim().replace(/^["'“«]+|["'”»]+$/g, '').toLowerCase();
    if (needle.length < 3) continue;
    for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) spans.push([i, i + needle.length]);
  }
  if (!spans.length) return { nodes: [text], hit: false };
  spans.sort((p, q) => p[0] - q[0]);
  const nodes = [];
  let at = 0;
  for (const [s0, e0] of spans) {
    if (s0 < at) continue;
    if (s0 > at) nodes.push(text.slice(at, s0));
    nodes.push(h('mark', {}, text.slice(s0, e0)));
    at = e0;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return { nodes, hit: true };
}

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

function bySeverity(a, b) {
  return (SEVERITY_RANK[severityClass(a.severity)] ?? 5) - (SEVERITY_RANK[severityClass(b.severity)] ?? 5);
}

function eventLabel(name) {
  return { 'llm.call.start': 'request', 'llm.call.finish': 'response', 'tool.execution': 'tool call', 'tool.result': 'tool result' }[name] || name || 'event';
}

function findingFromAttrs(ev, a) {
  return {
    severity: a['finding.severity'], rule: a['finding.rule'], category: a['finding.category'], evidence: a['finding.evidence'],
    owasp: a['finding.owasp'], confidence: a['finding.confidence'], source_event_name: a['finding.event_name'], source_event_id: a['finding.event_id'],
  };
}

function findingBox(fd, onSource) {
  const sev = severityClass(fd.severity);
  return h('div', { class: ['finding-box', sev], dataset: { testid: 'finding', severity: sev } },
    h('div', { class: 'tl-head' }, severityBadge(sev), h('b', { class: 'mono' }, fd.rule || 'finding'),
      h('span', { class: 'muted' }, [String(fd.category || '').replace(/_/g, ' '), fd.owasp, fd.confidence !== undefined ? `confidence ${Math.round(Number(fd.confidence) * 100)}%` : null].filter(Boolean).join(' · '))),
    fd.evidence ? h('div', { class: 'evidence' }, fd.evidence) : null,
    !onSource && fd.source_event_name ? h('div', { class: 'muted small' }, `found in ${fd.source_event_name}`) : null);
}

function raw(ev, key, open) {
  const d = h('details', { class: 'raw', open: open.has(key) },
    h('summary', { title: 'Show the stored event' }, 'raw'),
    h('pre', { class: 'mono' }, f.pretty(ev)));
  d.addEventListener('toggle', () => { if (d.open) open.add(key); else open.delete(key); });
  return d;
}

function facts(s, findings) {
  const sev = s.findings_by_severity || {};
  const tools = Object.entries(s.tool_usage_details || {});
  const tags = Object.entries(s.tags || {});
  return panel('Details', h('div', { class: 'facts' },
    h('h3', {}, 'Session'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Status'), h('dd', {}, s.is_active ? 'Active' : 'Completed'),
      h('dt', {}, 'Agent'), h('dd', {}, h('a', { href: route('agent', s.agent_id || ''), class: 'mono' }, f.short(s.agent_id, 26))),
      h('dt', {}, 'Model'), h('dd', { class: 'mono' }, (s.models && s.models.length ? s.models.join(', ') : s.model) || '—'),
      h('dt', {}, 'Provider'), h('dd', {}, s.provider || '—'),
      h('dt', {}, 'Started'), h('dd', {}, f.dateTime(s.created_at)),
      h('dt', {}, 'Last activity'), h('dd', {}, s.last_activity_relative || f.relative(s.last_activity)),
      h('dt', {}, 'Duration'), h('dd', {}, f.minutes(s.duration_minutes))),
    h('h3', {}, 'Usage'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Calls'), h('dd', {}, `${f.int(s.message_count)} sent · ${f.int(s.response_count)} answered`),
      h('dt', {}, 'Tokens'), h('dd', {}, `${f.int(s.total_tokens)} (${f.int(s.input_tokens)} in · ${f.int(s.output_tokens)} out)`),
      h('dt', {}, 'Cost'), h('dd', { dataset: { testid: 'session-cost' } }, cost(s),
        Number(s.unpriced_calls) ? h('span', { class: 'muted small' }, ` · ${f.int(s.unpriced_calls)} unpriced`) : null),
      h('dt', {}, 'Avg latency'), h('dd', {}, f.ms(s.avg_response_time_ms)),
      h('dt', {}, 'Errors'), h('dd', {}, Number(s.errors) ? badge(`${f.int(s.errors)} · ${f.pct(s.error_rate)}`, 'error') : '0')),
    h('h3', {}, 'Risk'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Score'), h('dd', {}, riskScore(s.risk_score), ' ', s.risk_level && s.risk_level !== 'none' ? badge(s.risk_level, levelClass(s.risk_level)) : null),
      h('dt', {}, 'Findings'), h('dd', {}, findings.length ? h('span', { class: 'chips' }, ['critical', 'high', 'medium', 'low', 'info'].filter((x) => Number(sev[x])).map((x) => h('span', {}, severityBadge(x), ' ', f.int(sev[x])))) : 'none')),
    tools.length || (s.available_tools || []).length ? [
      h('h3', {}, 'Tools'),
      h('div', { class: 'chips' },
        tools.map(([n, c]) => h('span', { class: 'chip used' }, `${n} ×${c}`)),
        (s.available_tools || []).filter((n) => !(s.tool_usage_details || {})[n]).map((n) => h('span', { class: 'chip' }, n))),
    ] : null,
    tags.length ? [h('h3', {}, 'Tags'), h('div', { class: 'chips' }, tags.map(([k, v]) => h('span', { class: 'chip' }, v === '' || v === true ? k : `${k}:${v}`)))] : null,
    s.system_prompt ? [h('h3', {}, 'System prompt'), h('pre', { class: 'prompt' }, s.system_prompt)] : null,
  ), { id: 'session-facts' });
}
