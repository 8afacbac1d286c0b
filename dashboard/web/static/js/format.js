// Number, time and text formatting shared by the pages.

const nf = new Intl.NumberFormat('en-US');

export function int(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return nf.format(Math.round(Number(n)));
}

// compact: 950, 1.2k, 34k, 1.5M.
export function compact(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  const a = Math.abs(v);
  if (a < 1000) return nf.format(Math.round(v * 10) / 10);
  const units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [d, u] of units) {
    if (a >= d) {
      const x = v / d;
      return (Math.abs(x) < 10 ? x.toFixed(1).replace(/\.0$/, '') : Math.round(x)) + u;
    }
  }
  return String(v);
}

// ms: "840 ms", "1.2 s", "2m 5s".
export function ms(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  if (v < 1) return v === 0 ? '0 ms' : v.toFixed(2) + ' ms';
  if (v < 1000) return Math.round(v) + ' ms';
  if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1).replace(/\.?0+$/, '') + ' s';
  const m = Math.floor(v / 60000);
  return m + 'm ' + Math.round((v % 60000) / 1000) + 's';
}

// usd formats a cost (API.md "Cost"). A null cost is never $0: it says
// why there is none. A partial cost is a lower bound.
export function usd(v, status) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) {
    return { unpriced: 'unpriced', no_usage: 'no usage' }[status] || '—';
  }
  const n = Number(v);
  const a = Math.abs(n);
  let s;
  if (a === 0) s = '$0';
  else if (a >= 1) s = '$' + n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  else {
    // Enough decimals for two significant digits: $0.0012, $0.0000045.
    const d = Math.min(10, Math.max(4, 1 - Math.floor(Math.log10(a))));
    s = '$' + n.toFixed(d).replace(/(\.\d\d\d*?)0+$/, '$1');
  }
  return status === 'partial' ? '≥ ' + s : s;
}

export function minutes(n) {
  if (n === null || n === undefined) return '—';
  const v = Number(n);
  if (v < 1) return Math.round(v * 60) + ' s';
  if (v < 60) return v.toFixed(1).replace(/\.0$/, '') + ' min';
  return (v / 60).toFixed(1) + ' h';
}

export function pct(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return Number(n).toFixed(digits).replace(/\.0+$/, '') + '%';
}

// toDate accepts ISO strings, unix seconds and unix milliseconds.
export function toDate(t) {
  if (t === null || t === undefined || t === '') return null;
  if (t instanceof Date) return t;
  if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function relative(t) {
  const d = toDate(t);
  if (!d) return '—';
  const s = Math.max(0, (Date.now() - d.getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  if (s < 86400) return Math.floor(s / 3600) + 'h ago';
  return Math.floor(s / 86400) + 'd ago';
}

const dtf = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const tf = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const hmf = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
const dayf = new Intl.DateTimeFormat('en-GB', { month: 'short', day: '2-digit' });

export function dateTime(t) { const d = toDate(t); return d ? dtf.format(d) : '—'; }
export function time(t) {
  const d = toDate(t);
  if (!d) return '—';
  const base = tf.format(d);
  const msPart = d.getMilliseconds();
  return base + '.' + String(msPart).padStart(3, '0');
}
export function hm(t) { const d = toDate(t); return d ? hmf.format(d) : ''; }
export function day(t) { const d = toDate(t); return d ? dayf.format(d) : ''; }

export function short(id, n = 12) {
  const str = String(id ?? '');
  return str.length > n ? str.slice(0, n) + '…' : str;
}

export function truncate(str, n) {
  const v = String(str ?? '');
  return v.length > n ? v.slice(0, n - 1) + '…' : v;
}

// plural is n with the noun that fits the number shown: an average of
// 1.2 calls is shown as "1 call".
export function plural(n, one, many) {
  const shown = int(n);
  return shown + ' ' + (shown === '1' ? one : (many || one + 's'));
}

// pretty renders a JSON value for a <pre>: strings that hold JSON are
// unpacked, everything else indented.
export function pretty(v) {
  if (typeof v === 'string') {
    const t = v.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try { return JSON.stringify(JSON.parse(t), null, 2); } catch { /* not JSON: show as is */ }
    }
    return v;
  }
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

// bucketLabel names a time-series bucket ("5 min").
export function bucketLabel(sec) {
  const v = Number(sec) || 60;
  if (v < 60) return v + ' s';
  if (v < 3600) return v / 60 + ' min';
  if (v < 86400) return v / 3600 + ' h';
  return v / 86400 + ' d';
}
