// The console's entry point: the session (sign in, sign out, expiry) and the views, picked by
// the URL's fragment so that every view, filters included, can be bookmarked:
//   #/buckets?region=..&prefix=..&tag=..&deleted=1&cursor=..   the bucket list
//   #/buckets/NAME/objects?prefix=a/b/                         a bucket's objects

import { ApiError, describe, endSession, session, signIn, watchExpiry, whenSessionEnds } from './api.js';
import { banner, field, h } from './dom.js';
import { bucketsView } from './buckets.js';
import { objectsView } from './objects.js';
import { Superseded, beginView, forgetService, show, takeFlash } from './view.js';

/** A message for the sign-in page (why the user is there). */
let signInNotice = '';

function route() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(1) : '/buckets';
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  return { path, params: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)) };
}

function renderSessionNav() {
  const nav = document.getElementById('session');
  const current = session();
  if (!current) {
    nav.replaceChildren();
    return;
  }
  nav.replaceChildren(
    h('span', { className: 'who' }, `Signed in (${current.scope})`),
    h('button', { type: 'button', id: 'sign-out', onclick: () => {
      endSession();
      signInNotice = 'You are signed out.';
      render();
    } }, 'Sign out'),
  );
}

function signInView() {
  const key = h('input', { type: 'password', autocomplete: 'off', spellcheck: false, required: true,
    placeholder: 'cnx_…' });
  const submit = h('button', { type: 'submit', className: 'primary' }, 'Sign in');
  const form = h('form', { className: 'signin', 'aria-labelledby': 'signin-title', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await signIn(key.value.trim());
      key.value = '';
      signInNotice = '';
      forgetService();
      render();
    } catch (error) {
      const message = error instanceof ApiError && error.status === 401
        ? 'That API key was not accepted: check it and try again.'
        : describe(error);
      document.getElementById('api-key-error').textContent = message;
      key.setAttribute('aria-invalid', 'true');
      key.focus();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', { id: 'signin-title' }, 'Sign in'),
  signInNotice ? h('p', { className: 'notice', role: 'status', id: 'signin-notice' }, signInNotice) : null,
  field('api-key', 'API key', key,
    'Exchanged for an access token that lasts 15 minutes and is kept for this tab only; the key itself is not stored.'),
  submit);
  show(beginView(), form);
  key.focus();
}

async function render() {
  // What the last change did is said once the view it led to is on the page.
  const flash = takeFlash();
  banner(null);
  renderSessionNav();
  watchExpiry();
  if (!session()) {
    signInView();
    return;
  }
  const { path, params } = route();
  const objects = path.match(/^\/buckets\/([^/]+)\/objects$/);
  const ticket = beginView();
  try {
    if (objects) await objectsView(ticket, decodeURIComponent(objects[1]), params);
    else await bucketsView(ticket, params);
    banner(flash, 'info');
  } catch (error) {
    if (error instanceof Superseded) return; // A newer view is being shown.
    if (!session()) return; // The session ended: the sign-in page is already shown.
    try {
      show(ticket, h('div', { className: 'empty', role: 'alert' },
        h('p', {}, 'Something went wrong loading this page.'),
        h('p', {}, describe(error)),
        h('button', { type: 'button', onclick: render }, 'Try again')));
    } catch {
      // A newer view is being shown.
    }
  }
}

whenSessionEnds((reason) => {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  signInNotice = reason;
  forgetService();
  render();
});
// Only view URLs (`#/...`) are routes; the skip link's `#main` just moves the focus.
window.addEventListener('hashchange', () => {
  if (location.hash === '' || location.hash.startsWith('#/')) render();
});
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main').focus();
});
// A file dropped outside the upload box must not replace the console with the file.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());
watchExpiry();
render();
