// Lifecycles. Everything that outlives the call that made it — timers,
// observers, event streams, listeners on window or document — is made
// here, held against an AbortSignal and released when that signal aborts.
// The app's own loops hold appSignal, which never aborts; a page holds the
// signal the router gives it (startPage), which aborts when the page goes
// away. A chart's resize observer is also released once its element has
// left the document, since a page replaces its charts when it re-renders
// (sweep). No other module calls setInterval, setTimeout, new *Observer,
// new EventSource or addEventListener on window or document (a test in
// dashboard/web checks the sources).
//
// window.__perimeterLive() counts what is held, by kind; the browser tests
// navigate through the pages and check that the counts stay bounded.

const counts = { resize: 0, interval: 0, timeout: 0, listener: 0, stream: 0 };

export const appSignal = new AbortController().signal;

let page = null;

// startPage aborts the signal of the page on screen, releasing all it
// holds, and returns the next page's signal.
export function startPage() {
  if (page) page.abort();
  page = new AbortController();
  return page.signal;
}

// pageSignal is the signal of the page on screen (appSignal before the
// first page).
export function pageSignal() {
  return page ? page.signal : appSignal;
}

// hold counts one registration of kind until signal aborts or the
// returned function is called, whichever comes first, then runs release.
function hold(kind, signal, release) {
  let held = true;
  counts[kind]++;
  const drop = () => {
    if (!held) return;
    held = false;
    counts[kind]--;
    signal.removeEventListener('abort', drop);
    release();
  };
  if (signal.aborted) drop();
  else signal.addEventListener('abort', drop);
  return drop;
}

// every runs fn every ms milliseconds.
export function every(ms, fn, signal = pageSignal()) {
  const id = setInterval(fn, ms);
  return hold('interval', signal, () => clearInterval(id));
}

// after runs fn once, ms milliseconds from now.
export function after(ms, fn, signal = pageSignal()) {
  let drop = null;
  const id = setTimeout(() => { drop(); fn(); }, ms);
  drop = hold('timeout', signal, () => clearTimeout(id));
  return drop;
}

// listen adds fn as target's listener for type.
export function listen(target, type, fn, signal = pageSignal()) {
  target.addEventListener(type, fn);
  return hold('listener', signal, () => target.removeEventListener(type, fn));
}

// stream opens an EventSource with handlers by event type ('error' for
// its failures). It is closed when the page is hidden (pagehide) and
// opened again when the back/forward cache shows the page again (pageshow,
// persisted): a cached page that kept its stream would hold one of the
// browser's six connections to the server, and after six such pages the
// next page load would wait for a free one.
export function stream(url, handlers, signal = appSignal) {
  let es = null;
  const open = () => {
    es = new EventSource(url);
    for (const [type, fn] of Object.entries(handlers)) es.addEventListener(type, fn);
  };
  const close = () => {
    if (es) es.close();
    es = null;
  };
  const show = (e) => { if (e.persisted && !es) open(); };
  open();
  window.addEventListener('pagehide', close);
  window.addEventListener('pageshow', show);
  hold('stream', signal, () => {
    close();
    window.removeEventListener('pagehide', close);
    window.removeEventListener('pageshow', show);
  });
}

// Resize observers, with the order they were made in, so that sweep can
// tell a chart that was replaced from one not yet attached.
const sized = new Set();
let made = 0;

// resized calls fn when el's size changes (and once when it is first laid
// out), until signal aborts or el has left the document.
export function resized(el, fn, signal = pageSignal()) {
  const ro = new ResizeObserver(() => {
    if (el.isConnected) fn();
    else drop();
  });
  const entry = { el, seq: ++made, drop: null };
  const drop = hold('resize', signal, () => { ro.disconnect(); sized.delete(entry); });
  entry.drop = drop;
  if (!signal.aborted) {
    sized.add(entry);
    ro.observe(el);
  }
  return drop;
}

// mark is a point to sweep back to.
export function mark() {
  return made;
}

// sweep releases the resize observers made before mark whose element is
// no longer in the document: the router runs it after each refresh of a
// page, which may have replaced its charts.
export function sweep(before) {
  for (const e of [...sized]) {
    if (e.seq <= before && !e.el.isConnected) e.drop();
  }
}

// live counts what is held, by kind.
export function live() {
  return { ...counts };
}

window.__perimeterLive = live;
