// Router and live loop. Pages live in pages/*.js; each exports
// mount(root, ctx) → {refresh(): Promise, live?: boolean, destroy?()},
// with ctx {params, query, signal}. Pages import shared widgets from
// components/ (and ui.js), never from another page. The signal aborts when
// the page goes away, releasing the timers, observers and listeners the
// page made through lifecycle.js; destroy, when a page has one, runs
// first. The live loop calls refresh when the store changes (or polls),
// so new events show up within two seconds without a reload.

import { h } from './dom.js';
import { errorBanner } from './ui.js';
import * as overview from './pages/overview.js';
import * as agents from './pages/agents.js';
import * as agent from './pages/agent.js';
import * as sessions from './pages/sessions.js';
import * as session from './pages/session.js';
import * as findings from './pages/findings.js';
import * as sql from './pages/sql.js';
import * as workflows from './pages/workflows.js';
import * as connect from './pages/connect.js';
import * as recommendations from './pages/recommendations.js';
import * as recommendation from './pages/recommendation.js';
import * as reports from './pages/reports.js';
import * as report from './pages/report.js';
import * as staticAnalysis from './pages/static.js';
import * as dynamicAnalysis from './pages/dynamic.js';
import * as dev from './pages/dev.js';
import * as policies from './pages/policies.js';
import { startLive, setLiveState } from './live.js';
import { onStorage } from './api.js';
import { appSignal, listen, mark, startPage, sweep } from './lifecycle.js';
import { setSticky, currentWorkflow, loadWorkflows, wfLink } from './workflow.js';

// scoped: the page reads the workflow from its URL, so the sidebar's
// picker follows the URL there.
const routes = [
  { re: /^\/?$/, page: overview, nav: 'overview', scoped: true },
  { re: /^\/agents$/, page: agents, nav: 'agents', scoped: true },
  { re: /^\/agent\/([^/]+)$/, page: agent, nav: 'agents', params: ['id'] },
  { re: /^\/sessions$/, page: sessions, nav: 'sessions', scoped: true },
  { re: /^\/session\/([^/]+)$/, page: session, nav: 'sessions', params: ['id'] },
  { re: /^\/findings$/, page: findings, nav: 'findings', scoped: true },
  { re: /^\/sql$/, page: sql, nav: 'sql' },
  { re: /^\/workflows$/, page: workflows, nav: 'workflows' },
  { re: /^\/connect$/, page: connect, nav: 'connect' },
  { re: /^\/recommendations$/, page: recommendations, nav: 'recommendations', scoped: true },
  { re: /^\/recommendation\/([^/]+)$/, page: recommendation, nav: 'recommendations', params: ['id'] },
  { re: /^\/static-analysis$/, page: staticAnalysis, nav: 'static', scoped: true },
  { re: /^\/dynamic-analysis$/, page: dynamicAnalysis, nav: 'dynamic', scoped: true },
  { re: /^\/reports$/, page: reports, nav: 'reports', scoped: true },
  { re: /^\/report\/([^/]+)$/, page: report, nav: 'reports', params: ['id'] },
  { re: /^\/dev-connection$/, page: dev, nav: 'dev', scoped: true },
  { re: /^\/policies$/, page: policies, nav: 'policies' },
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
  const signal = startPage();
  let match = null;
  let params = {};
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      match = r;
      // A malformed escape (#/agent/100%) names no page: decoding it
      // throws, and the page is "not found" rather than blank.
      try {
        (r.params || []).forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]); });
      } catch (e) {
        if (!(e instanceof URIError)) throw e;
        match = null;
        params = {};
      }
      break;
    }
  }
  document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', match && a.dataset.nav === match.nav));
  if (match && match.scoped) setSticky(query.get('workflow') || '');
  paintNav();
  const root = h('div', { class: 'page' });
  main.replaceChildren(root);
  if (!match) {
    root.append(h('div', { class: 'empty' }, h('h2', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the overview'))));
    return;
  }
  root.append(h('div', { class: 'loading' }, 'Loading…'));
  const view = match.page.mount(root, { params, query, signal });
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
  const before = mark();
  try {
    await view.refresh();
    sweep(before);
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

// The sidebar names the analytics engine every answer reports, and with
// several proxies the cluster and the instance serving this page.
onStorage((st) => {
  const el = document.getElementById('engine');
  if (!el) return;
  const names = { embedded: 'Embedded ClickHouse', clickhouse: 'ClickHouse server', none: 'No store' };
  const name = names[st.engine] || st.engine || 'Store';
  el.textContent = st.available === false ? `${name}: analytics off` : `${name}${st.ephemeral ? ' (in memory)' : ''}${st.content && st.content !== 'full' ? ' · ' + st.content + ' text' : ''}${st.version ? ' · ' + st.version.replace(/\s*\(.*\)$/, '') : ''}${st.cluster ? ' · cluster ' + st.cluster : ''}${st.instance ? ' · via ' + st.instance : ''}`;
  el.title = st.available === false ? [st.reason, st.fix].filter(Boolean).join(' — ') : st.version || '';
  el.classList.toggle('off', st.available === false);
});

// The scoped pages' links carry the current workflow.
function paintNav() {
  const wf = currentWorkflow();
  document.querySelectorAll('a[data-page]').forEach((a) => { a.setAttribute('href', wfLink(a.dataset.page, wf)); });
}

// Picking a workflow rescopes the current page when it is scoped, and
// opens the overview otherwise.
document.getElementById('workflow-picker')?.addEventListener('change', (e) => {
  const wf = e.target.value;
  setSticky(wf);
  paintNav();
  const { path, query } = parseHash();
  const m = routes.find((r) => r.re.test(path));
  if (m && m.scoped) {
    if (wf) query.set('workflow', wf); else query.delete('workflow');
    query.delete('page');
    const qs = query.toString();
    location.hash = path + (qs ? '?' + qs : '');
  } else {
    location.hash = wfLink('', wf);
  }
});

listen(window, 'hashchange', navigate, appSignal);
listen(window, 'hashchange', loadWorkflows, appSignal);
loadWorkflows();
navigate();
startLive(() => refresh(false));
