// Live updates. The server's event stream (/api/events/stream) says when new
// events reached the store, and the current page refetches at once; while
// the stream is down the page polls every POLL_MS instead, so new events
// show up within two seconds either way. A slow poll keeps relative times
// ("2m ago") current while nothing happens.

import { streamURL } from './api.js';
import { appSignal, every, listen, stream } from './lifecycle.js';

export const POLL_MS = 1500;
const IDLE_MS = 10000;

let lastOK = 0;
let lastError = null;
let streamUp = false;
let lastTick = 0;

export function startLive(onTick) {
  const tick = () => { lastTick = Date.now(); onTick(); };
  connect(tick);
  every(POLL_MS, () => {
    if (document.hidden) return;
    if (!streamUp || Date.now() - lastTick >= IDLE_MS) tick();
  }, appSignal);
  listen(document, 'visibilitychange', () => { if (!document.hidden) tick(); }, appSignal);
  every(1000, paint, appSignal);
}

function connect(tick) {
  if (typeof EventSource === 'undefined') return;
  let connected = false;
  stream(streamURL(), {
    // A stream that opens again (after a failure, or when the back/forward
    // cache shows the page again) may have missed changes: refetch.
    hello: () => {
      streamUp = true;
      paint();
      if (connected && !document.hidden) tick();
      connected = true;
    },
    change: () => { streamUp = true; if (!document.hidden) tick(); },
    storage: () => { if (!document.hidden) tick(); },
    // EventSource reconnects by itself; polling covers the gap.
    error: () => { streamUp = false; paint(); },
  }, appSignal);
}

export function setLiveState(ok, err) {
  if (ok) { lastOK = Date.now(); lastError = null; } else { lastError = err || new Error('refresh failed'); }
  paint();
}

function paint() {
  const el = document.getElementById('live');
  if (!el) return;
  const text = el.querySelector('.live-text');
  if (lastError) {
    el.className = 'live off';
    text.textContent = lastError.status === 0 ? 'Disconnected, retrying…' : 'Update failed, retrying…';
    el.title = lastError.message || '';
  } else if (lastOK) {
    el.className = 'live on';
    text.textContent = streamUp ? 'Live' : 'Live (polling)';
    el.title = streamUp ? 'Updates as events arrive' : 'Refreshes every ' + POLL_MS / 1000 + ' s';
  }
}
