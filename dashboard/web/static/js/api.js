// The dashboard's JSON API (dashboard/API.md). Every request is same-origin.
// When the dashboard needs a token, the user opens it as /?token=…; the
// token is then sent on every call (Authorization for fetch, ?token= for
// EventSource, which cannot set headers).

export const token = new URLSearchParams(location.search).get('token') || '';

export class ApiError extends Error {
  constructor(status, body, path) {
    const msg = (body && (body.error || body.detail || body.message)) || `HTTP ${status}`;
    super(typeof msg === 'string' ? msg : JSON.stringify(msg));
    this.status = status;
    this.body = body;
    this.path = path;
  }
}

function url(path, params) {
  const u = new URL(path, location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
    }
  }
  return u.pathname + u.search;
}

const storageListeners = [];

// onStorage registers f to see the storage status of every answer.
export function onStorage(f) { storageListeners.push(f); }

async function request(method, path, params, body, signal) {
  const p = url(path, params);
  const init = { method, headers: { Accept: 'application/json' }, signal, cache: 'no-store' };
  if (token) init.headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(p, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: 'The dashboard server is not reachable (' + e.message + ')' }, p);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 300) }; }
  }
  if (!res.ok) throw new ApiError(res.status, data, p);
  if (data && data.storage) storageListeners.forEach((f) => f(data.storage));
  return data;
}

// streamURL is the live-update stream's address, with the token if any.
export function streamURL() {
  return url('/api/events/stream', token ? { token } : null);
}

// withToken is an API path for a plain link (a printable page opened in
// a new tab), with the token as ?token= since a link cannot set headers.
export function withToken(path, params) {
  return url(path, Object.assign({}, params, token ? { token } : null));
}

export const get = (path, params, signal) => request('GET', path, params, undefined, signal);
export const post = (path, body, signal, params) => request('POST', path, params, body, signal);
export const patch = (path, body) => request('PATCH', path, undefined, body);
export const del = (path, params) => request('DELETE', path, params);
