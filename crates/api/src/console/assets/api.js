// Talking to the API: the session (an access token kept for this tab only, in sessionStorage;
// never the API key, never in a URL or localStorage) and requests with their problems.

const SESSION = 'cloudnexus.console.session';
/** How long a console session lasts: the access token's lifetime, in seconds. */
export const SESSION_SECONDS = 900;

/** A problem the API answered (RFC 9457), or a failure to reach it (`status` 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The message to show, with the request id to quote to an operator. */
  describe() {
    const id = this.problem.request_id ? ` (request ${this.problem.request_id})` : '';
    return `${this.message}${id}`;
  }
}

/** Called when the session ends on its own (expired or revoked): set by the app. */
let onSessionEnded = () => {};
let expiryTimer;

export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION));
    if (saved && typeof saved.token === 'string' && saved.expiresAt > Date.now()) return saved;
  } catch {
    // A damaged entry is no session.
  }
  sessionStorage.removeItem(SESSION);
  return null;
}

/** Ends the session at once (sign out), or with `reason` when it ended on its own. */
export function endSession(reason) {
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(SESSION);
  if (reason) onSessionEnded(reason);
}

/** Starts the clock that ends the session when its token expires. */
export function watchExpiry() {
  clearTimeout(expiryTimer);
  const current = session();
  if (!current) return;
  expiryTimer = setTimeout(
    () => endSession('Your session expired. Sign in again with your API key.'),
    Math.max(0, current.expiresAt - Date.now()),
  );
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') return body;
  } catch {
    // Not a problem document: say what came back.
  }
  return { detail: `the service answered HTTP ${response.status}`, request_id: response.headers.get('x-request-id') };
}

/** What to show for a failure of any kind. */
export function describe(error) {
  return error instanceof ApiError ? error.describe() : String(error && error.message ? error.message : error);
}

/** Whether a browser can address `key` in a URL: it rewrites `.` and `..` path segments (even
 *  percent-encoded ones), so such keys are reachable only from the CLI or S3. */
export function addressable(key) {
  return !key.split('/').some((segment) => segment === '.' || segment === '..');
}

/** Exchanges an API key for an access token; the key itself is forgotten. */
export async function signIn(apiKey) {
  let response;
  try {
    response = await fetch('/v1/auth/tokens', {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ttl_seconds: SESSION_SECONDS }),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { detail: 'The service cannot be reached. Check your connection and try again.' });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const token = await response.json();
  const saved = { token: token.access_token, scope: token.scope, expiresAt: Date.now() + token.expires_in * 1000 };
  sessionStorage.setItem(SESSION, JSON.stringify(saved));
  watchExpiry();
  return saved;
}

/** The query string of `params`: arrays repeat their name; empty values are left out. */
export function queryString(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== '') query.append(name, one);
    }
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** An object key as a URL path: each `/`-separated segment percent-encoded. */
export function keyPath(key) {
  return key.split('/').map(encodeURIComponent).join('/');
}

export function authorization() {
  const current = session();
  if (!current) {
    endSession('Your session expired. Sign in again with your API key.');
    throw new ApiError(401, { detail: 'not signed in' });
  }
  return `Bearer ${current.token}`;
}

/** Sends a request with the session's token; answers the parsed JSON (or the raw response
 *  with `raw`). A 401 ends the session; every other failure is thrown as an [ApiError]. */
export async function request(method, path, { json, query, raw } = {}) {
  const sentWith = authorization();
  const headers = { Authorization: sentWith };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path + queryString(query || {}), {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { detail: 'The service cannot be reached. Check your connection and try again.' });
  }
  if (response.status === 401 && session() && `Bearer ${session().token}` === sentWith) {
    // Only the session whose token was refused ends (not one signed in meanwhile).
    endSession('Your session ended (it expired or its key was revoked). Sign in again with your API key.');
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Uploads `file` as object `key` of `bucket`, reporting progress (0..1) as it goes.
 *  (XMLHttpRequest: fetch does not report upload progress.) */
export function upload(bucket, key, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const sentWith = authorization();
    xhr.open('PUT', `/v1/buckets/${encodeURIComponent(bucket)}/objects/${keyPath(key)}`);
    xhr.setRequestHeader('Authorization', sentWith);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      if (xhr.status === 401 && session() && `Bearer ${session().token}` === sentWith) {
        endSession('Your session ended. Sign in again with your API key.');
      }
      let problem;
      try {
        problem = JSON.parse(xhr.responseText);
      } catch {
        problem = { detail: `the service answered HTTP ${xhr.status}` };
      }
      reject(new ApiError(xhr.status, problem));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, { detail: 'the upload was cut off' })));
    xhr.send(file);
  });
}
