// Router and live loop. Pages live in pages/*.js; each exports
// mount(root, ctx) → {refresh(): Promise, live?: boolean, destroy?()}.
// The live loop calls refresh every LIVE_MS, so new events show up within
// two seconds without a reload.

import { h } from './dom.js';
import { errorBanner } from './ui.js';
import * as overview from './pages/overview.js';
import * as agents from './pages/agents.js';
import * as agent from './pages/agent.js';
import * as sessions from './pages/sessions.js';
import * as session from './pages/session.js';
import * as findings from './pages/findings.js';
import * as sql from './pages/sql.js';
import { startLive, setLiveState } from './live.js';
import { onStorage } from './api.js';

const routes = [
  { re: /^\/?$/, page: overview, nav: 'overview' },
  { re: /^\/agents$/, page: agents, nav: 'agents' },
  { re: /^\/agent\/([^/]+)$/, page: agent, nav: 'agents', params: ['id'] },
  { re: /^\/sessions$/, page: sessions, nav: 'sessions' },
  { re: /^\/session\/([^/]+)$/, page: session, nav: 'sessions', params: ['id'] },
  { re: /^\/findings$/, page: findings, nav: 'findings' },
  { re: /^\/sql$/, page: sql, nav: 'sql' },
];

const main = document.getElementById('main');
let current = null;
let busy = false;
let generation = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { path, query };
}

async function navigate() {
  const { path, query } = parseHash();
  const gen = ++generation;
  if (current && current.view && current.view.destroy) current.view.destroy();
  current = null;
  let match = null;
  let params = {};
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      match = r;
      (r.params || []).forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]); });
      break;
    }
  }
  document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', match && a.dataset.nav === match.nav));
  const root = h('div', { class: 'page' });
  main.replaceChildren(root);
  if (!match) {
    root.append(h('div', { class: 'empty' }, h('h2', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the overview'))));
    return;
  }
  root.append(h('div', { class: 'loading' }, 'Loading…'));
  const view = match.page.mount(root, { params, query });
  current = { view, gen };
  window.scrollTo(0, 0);
  await refresh(true);
}

// refresh runs the current page's refresh once at a time (a call made
// while one runs is run again right after it); a failure on the first load
// shows on the page, later ones only on the live indicator so that a blip
// does not blank the screen.
let again = false;
async function refresh(first) {
  if (!current) return;
  if (busy) { again = again || first === true || current.view.live !== false; return; }
  const { view, gen } = current;
  if (first !== true && view.live === false) return;
  const initial = !view.loaded;
  busy = true;
  try {
    await view.refresh();
    view.loaded = true;
    if (gen === generation) setLiveState(true);
  } catch (e) {
    if (!(e && e.name === 'AbortError')) {
      setLiveState(false, e);
      if (initial && gen === generation) main.firstElementChild?.replaceChildren(errorBanner(e));
      console.warn('refresh failed', e);
    }
  } finally {
    busy = false;
    if (again) { again = false; refresh(true); }
  }
}

// The sidebar names the analytics engine every answer reports.
onStorage((st) => {
  const el = document.getElementById('engine');
  if (!el) return;
  const names = { embedded: 'Embedded ClickHouse', clickhouse: 'ClickHouse server', none: 'No store' };
  const name = names[st.engine] || st.engine || 'Store';
  el.textContent = st.available === false ? `${name}: analytics off` : `${name}${st.version ? ' · ' + st.version.replace(/\s*\(.*\)$/, '') : ''}`;
  el.title = st.available === false ? [st.reason, st.fix].filter(Boolean).join(' — ') : st.version || '';
  el.classList.toggle('off', st.available === false);
});

window.addEventListener('hashchange', navigate);
navigate();
startLive(() => refresh(false));
