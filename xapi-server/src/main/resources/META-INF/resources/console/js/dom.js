// Small helpers for building the page from native elements.

/**
 * An element: h('button', {class: 'primary', onclick: f}, 'Save'). Attributes starting with "on"
 * become listeners; false, null and undefined attributes are left out; children may be nested
 * arrays, strings or nodes.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k in el && typeof v !== 'string') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else {
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
}

/**
 * Replaces a container's content, keeping keyboard focus on the element with the same data-key
 * (so live updates never throw a keyboard user back to the top of the page).
 */
// A focused control that a redraw drew disabled (a button while its own action runs): focus goes
// back to it when a later redraw enables it again, unless the user has moved on meanwhile.
let lostFocus = null;

export function replace(container, ...children) {
  const active = document.activeElement;
  let key = active && container.contains(active) ? active.dataset.key : undefined;
  const idle = !active || active === document.body;
  if (!key && idle && lostFocus?.container === container) {
    key = lostFocus.key;
  }
  lostFocus = null;
  container.replaceChildren();
  append(container, children);
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) {
      again.focus({ preventScroll: true });
    } else if (again) {
      lostFocus = { container, key };
    }
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units with three significant digits: "1.50 GiB". */
export function bytes(n) {
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toPrecision(3)} ${UNITS[i]}`;
}

/** A XenAPI date ("20261122T09:05:25Z") in the browser's locale. */
export function when(xenDate) {
  if (!xenDate) {
    return '';
  }
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(String(xenDate));
  const d = m ? new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : new Date(xenDate);
  if (Number.isNaN(d.getTime()) || d.getTime() <= 0) {
    return '';
  }
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Percentage with no decimals. */
export function percent(part, whole) {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : '–';
}
