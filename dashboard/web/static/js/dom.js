// DOM building without HTML parsing. Everything the proxy captured is
// attacker-controlled (prompts, tool arguments, model answers), so strings
// only ever become text nodes: no innerHTML, no insertAdjacentHTML, no
// attribute that a browser would execute.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h builds an element. props: class, text, title, href (fragment links
// only), on* (functions), dataset {…}, style {prop: value}, attrs {…}
// (plain attributes), any
// other key is set as an attribute. Children: nodes, strings (text nodes),
// numbers, arrays, null/false (skipped).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

// s builds an SVG element (attributes only; children like h).
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    switch (k) {
      case 'class': el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v; break;
      case 'text': el.textContent = String(v); break;
      case 'href': el.setAttribute('href', safeHref(v)); break;
      case 'dataset': Object.assign(el.dataset, v); break;
      // Styles go through CSSOM: the CSP forbids style attributes.
      case 'style': for (const [sk, sv] of Object.entries(v)) el.style.setProperty(sk, String(sv)); break;
      case 'attrs': for (const [a, av] of Object.entries(v)) if (av !== undefined && av !== null && av !== false) el.setAttribute(a, String(av)); break;
      default:
        if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k in el && typeof v !== 'string') el[k] = v;
        else el.setAttribute(k, String(v));
    }
  }
}

// safeHref keeps only in-app fragment links and same-origin API paths.
function safeHref(v) {
  const str = String(v);
  return str.startsWith('#') || str.startsWith('/api/') ? str : '#';
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// link is an in-app link to a route built from path segments, each
// encoded, so an id can never escape its segment.
export function route(...segments) {
  return '#/' + segments.map((x) => encodeURIComponent(String(x))).join('/');
}

export function clear(el) {
  el.replaceChildren();
  return el;
}
