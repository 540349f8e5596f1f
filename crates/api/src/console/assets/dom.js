// Building the page. Every value from the API goes in as text (textContent or an attribute
// the browser never runs): nothing here parses HTML, and the page's Content-Security-Policy
// (Trusted Types) would refuse it if anything tried.

/** An element: `attrs` are properties (`on*` handlers, `className`, ...) or, for names with a
 *  dash, attributes; children are nodes or strings (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name.includes('-') || name === 'role' || name === 'for') node.setAttribute(name, value);
    else node[name] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Sizes in binary units, as people read them: `0 B`, `1.5 KiB`, `45.0 GiB`. */
export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** An RFC 3339 time as `2024-08-12 14:32 UTC` (the API's times are UTC). */
export function formatTime(rfc3339) {
  if (!rfc3339) return '';
  const t = new Date(rfc3339);
  if (Number.isNaN(t.getTime())) return rfc3339;
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A `<time>` element showing [formatTime], the exact value on hover. */
export function time(rfc3339) {
  return h('time', { dateTime: rfc3339, title: rfc3339 }, formatTime(rfc3339));
}

/** A labelled form field with a slot for its error, which [showFieldError] fills. */
export function field(id, labelText, control, hint) {
  control.id = id;
  const error = h('p', { className: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { className: 'field' }, h('label', { for: id }, labelText), control,
    hint ? h('p', { className: 'hint' }, hint) : null, error);
}

export function showFieldError(id, message) {
  const slot = document.getElementById(`${id}-error`);
  const control = document.getElementById(id);
  if (slot) slot.textContent = message || '';
  if (control) control.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/** Shows `message` in the page's banner (an error unless `kind` is `info`); `null` hides it. */
export function banner(message, kind = 'error') {
  const node = document.getElementById('banner');
  node.className = kind === 'info' ? 'info' : '';
  node.textContent = message || '';
  node.hidden = !message;
}

/** Opens a modal dialog holding `content` (focus moves into it; Escape closes it). Resolves
 *  when it closes, with the value `close(value)` was called with (undefined on Escape). */
export function modal(title, build) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.append(h('h2', { id: 'dialog-title' }, title), build(close));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
