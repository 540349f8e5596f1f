// What every view shares: the main region, navigation between views, and what the service
// offers (regions, storage classes, retention), read once per session.

import { request } from './api.js';

/** What the service offers (`GET /v1/service`). */
let serviceInfo;

export async function service() {
  if (!serviceInfo) serviceInfo = await request('GET', '/v1/service');
  return serviceInfo;
}

/** Forgets what [service] read (a new session may be on another project or server). */
export function forgetService() {
  serviceInfo = undefined;
}

/** The number of the latest view started: a slower, older one must not overwrite it. */
let latest = 0;

/** Thrown by [show] to the view that was overtaken by a newer one (the app ignores it). */
export class Superseded extends Error {}

/** Starts a view; pass what it returns to [show]. */
export function beginView() {
  latest += 1;
  return latest;
}

/** Puts `nodes` in the page's main region, unless a newer view started meanwhile (`ticket`
 *  is what [beginView] gave this one). Keyboard focus stays on the control of the same id if
 *  the new view has one, else moves to the view's heading, so it is never lost to the page. */
export function show(ticket, ...nodes) {
  if (ticket !== latest) throw new Superseded();
  const focused = document.activeElement && document.activeElement.id;
  const inMain = document.activeElement && document.getElementById('main').contains(document.activeElement);
  document.getElementById('main').replaceChildren(...nodes.filter(Boolean));
  if (document.querySelector('dialog[open]')) return;
  const again = focused && document.getElementById(focused);
  if (again && inMain) again.focus();
  else if (inMain || document.activeElement === document.body) {
    const heading = document.querySelector('main h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }
}

/** A message for the next view rendered (what the last change did). */
let flash = null;

/** Takes the message [navigate] left for the view being rendered, if any. */
export function takeFlash() {
  const message = flash;
  flash = null;
  return message;
}

/** Goes to the view at `hash` (rendering it again when the page is already there), showing
 *  `message` above it once it is rendered. */
export function navigate(hash, message = null) {
  flash = message;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
