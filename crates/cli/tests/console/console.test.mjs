// The web console end to end in Debian's Chromium, driven by playwright-core (no browser
// download). Run by the Rust test `console::the_console_works_in_a_real_browser`, which starts
// a fresh server and passes:
//   CONSOLE_BASE_URL  the server (http://127.0.0.1:PORT)
//   CONSOLE_API_KEY   a key with every scope on the server's first project
//   CONSOLE_SCREENSHOTS  where to write the screenshots of the main views
//   CHROMIUM          the browser (default /usr/bin/chromium)
// The tests run in order and share one browser tab, as a user's session would.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.CONSOLE_BASE_URL;
const apiKey = process.env.CONSOLE_API_KEY;
const shots = process.env.CONSOLE_SCREENSHOTS;
assert.ok(base && apiKey && shots, 'CONSOLE_BASE_URL, CONSOLE_API_KEY and CONSOLE_SCREENSHOTS must be set');
mkdirSync(shots, { recursive: true });

let browser;
let page;
let regions;
/** Every URL the page requested, and every problem it reported. */
const requested = [];
const pageErrors = [];
/** Every access token the console held (none may appear in a URL). */
const tokens = [];

async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function putObject(bucket, key, text) {
  const path = `/v1/buckets/${bucket}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
  const response = await fetch(base + path, { method: 'PUT', headers: { Authorization: `Bearer ${apiKey}` }, body: text });
  assert.ok(response.ok, `PUT ${path}: ${response.status}`);
}

const XSS_TAG = '<script>window.__xss = 1</script>';
const XSS_ATTR = '"><img src=x onerror="window.__xss = 2">';
const XSS_KEY = '"><img src=x onerror="window.__xss = 3">.txt';
const XSS_KEY_SCRIPT = '<svg onload="window.__xss = 4">';
/** A key whose `/` makes the folder `<script>window.__xss = 5</`. */
const XSS_FOLDER_KEY = '<script>window.__xss = 5</script>';

before(async () => {
  regions = (await api('GET', '/v1/service')).regions;
  assert.ok(regions.length >= 2, 'the server has at least two regions');
  for (let i = 0; i < 30; i += 1) {
    const n = String(i).padStart(2, '0');
    await api('POST', '/v1/buckets', {
      name: `console-a-${n}`,
      region: regions[i % 2],
      tags: i % 2 === 0 ? { env: 'production', team: 'web' } : { env: 'staging' },
    });
  }
  await api('POST', '/v1/buckets', { name: 'xss-tags', region: regions[0], tags: { html: XSS_TAG, attr: XSS_ATTR } });
  await api('POST', '/v1/buckets', { name: 'console-files', region: regions[0] });
  await putObject('console-files', 'top.txt', 'the top file\n');
  await putObject('console-files', 'docs/readme.txt', 'read me\n');
  await putObject('console-files', 'docs/guide/intro.txt', 'intro\n');
  await putObject('console-files', XSS_KEY, 'xss key\n');
  await putObject('console-files', XSS_KEY_SCRIPT, 'xss key 2\n');
  await putObject('console-files', XSS_FOLDER_KEY, 'xss key 3\n');

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('request', (request) => requested.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) pageErrors.push(`console: ${message.text()}`);
  });
  // No value from the API may ever open a dialog (an XSS payload's usual first move).
  page.on('dialog', (dialog) => {
    pageErrors.push(`unexpected dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
});

after(async () => {
  await browser?.close();
});

async function signIn() {
  await page.goto(`${base}/console`);
  await page.locator('#api-key').fill(apiKey);
  await page.keyboard.press('Enter');
  await page.locator('#buckets').waitFor();
}

const rows = () => page.locator('#buckets tbody tr');
const summary = () => page.locator('#page-summary').textContent();

test('the page and its files carry a strict Content-Security-Policy', async () => {
  for (const path of ['/console', '/console/assets/app.js', '/console/assets/console.css']) {
    const response = await fetch(base + path);
    assert.equal(response.status, 200, path);
    const csp = response.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /require-trusted-types-for 'script'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  }
});

test('signing in: a wrong key is refused with a message; the right one opens the bucket list', async () => {
  await page.goto(`${base}/console`);
  await page.locator('#api-key').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'api-key', 'the key field has the focus');
  await page.screenshot({ path: join(shots, 'sign-in.png') });
  await page.locator('#api-key').fill('cnx_wrong0000_notarealkeyatallnotarealkeyatall000');
  await page.keyboard.press('Enter');
  await page.locator('#api-key-error').filter({ hasText: 'not accepted' }).waitFor();

  await page.locator('#api-key').fill(apiKey);
  await page.keyboard.press('Enter');
  await page.locator('#buckets').waitFor();
  assert.ok(!page.url().includes(apiKey), 'the key is not in the URL');
  const storage = await page.evaluate(() => ({
    local: localStorage.length,
    session: JSON.stringify(Object.entries(sessionStorage)),
  }));
  assert.equal(storage.local, 0, 'nothing in localStorage');
  assert.ok(!storage.session.includes(apiKey), 'the key itself is not kept');
  assert.match(storage.session, /token/, 'the access token is kept for the tab');
  tokens.push(JSON.parse(await page.evaluate(() => sessionStorage.getItem('cloudnexus.console.session'))).token);
});

test('the bucket table has the reference page columns and pages by cursor with the total', async () => {
  const headers = await page.locator('#buckets thead th').allTextContents();
  assert.deepEqual(headers, ['Name', 'Region', 'Storage class', 'Created', 'Size', 'Objects', 'Public', 'Tags', 'Actions']);
  assert.equal(await rows().count(), 25);
  assert.equal(await summary(), '1–25 of 32 buckets');
  const firstPage = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.bucket));
  await page.screenshot({ path: join(shots, 'buckets.png'), fullPage: true });
  await page.locator('#page-next').click();
  await page.locator('#page-summary').filter({ hasText: '26–32 of 32' }).waitFor();
  assert.match(page.url(), /cursor=/);
  const secondPage = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.bucket));
  assert.equal(secondPage.length, 7);
  assert.equal(new Set([...firstPage, ...secondPage]).size, 32, 'every bucket once across the pages');
  assert.ok(await page.locator('#page-next').isDisabled(), 'the last page has no next');
  await page.locator('#page-previous').click();
  await page.locator('#page-summary').filter({ hasText: '1–25 of 32' }).waitFor();
  assert.deepEqual(await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.bucket)), firstPage);
  // The browser's Back and Forward move between the same pages, and Previous still works.
  await page.locator('#page-next').click();
  await page.locator('#page-summary').filter({ hasText: '26–32 of 32' }).waitFor();
  await page.goBack();
  await page.locator('#page-summary').filter({ hasText: '1–25 of 32' }).waitFor();
  await page.goForward();
  await page.locator('#page-summary').filter({ hasText: '26–32 of 32' }).waitFor();
  await page.locator('#page-previous').click();
  await page.locator('#page-summary').filter({ hasText: '1–25 of 32' }).waitFor();
});

test('filters by region, prefix and tags are reflected in the URL, which reopens the same view', async () => {
  const apply = () => page.getByRole('button', { name: 'Apply filters' }).click();
  await page.locator('#filter-region').selectOption(regions[1]);
  await apply();
  await page.locator('#page-summary').filter({ hasText: 'of 15 buckets' }).waitFor();
  assert.match(page.url(), new RegExp(`region=${regions[1]}`));
  for (const region of await page.locator('#buckets tbody tr td:nth-child(2)').allTextContents()) {
    assert.equal(region, regions[1]);
  }
  await page.locator('#filter-region').selectOption('');
  await apply();
  await page.locator('#page-summary').filter({ hasText: 'of 32 buckets' }).waitFor();

  await page.locator('#filter-prefix').fill('console-a-1');
  await page.locator('#filter-tags').fill('env:production, team');
  await page.locator('#filter-tags').press('Enter');
  await page.locator('#page-summary').filter({ hasText: '1–5 of 5 buckets' }).waitFor();
  const names = await page.locator('#buckets tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.bucket));
  assert.deepEqual(names.sort(), ['console-a-10', 'console-a-12', 'console-a-14', 'console-a-16', 'console-a-18']);
  const bookmarked = page.url();
  assert.match(bookmarked, /prefix=console-a-1/);
  assert.match(bookmarked, /tag=env%3Aproduction&tag=team/);

  await page.goto('about:blank');
  await page.goto(bookmarked);
  await page.locator('#page-summary').filter({ hasText: '1–5 of 5 buckets' }).waitFor();
  assert.equal(await page.locator('#filter-prefix').inputValue(), 'console-a-1');
  assert.equal(await page.locator('#filter-tags').inputValue(), 'env:production, team');
  // A bookmark with a region and deleted buckets shown opens with both set.
  await page.goto('about:blank');
  await page.goto(`${base}/console#/buckets?region=${regions[1]}&deleted=1&prefix=console-a-1`);
  await page.locator('#page-summary').filter({ hasText: '1–5 of 5 buckets' }).waitFor();
  assert.equal(await page.locator('#filter-region').inputValue(), regions[1]);
  assert.ok(await page.locator('#filter-deleted').isChecked());
  // The view is drawn again for the new URL with the same summary: wait until the old form is
  // gone, or the next steps could type into it (and press Enter in the new one).
  const oldForm = await page.locator('#filter-tags').elementHandle();
  await page.locator('#filter-deleted').uncheck();
  await oldForm.waitForElementState('hidden');
  await page.locator('#page-summary').filter({ hasText: '1–5 of 5 buckets' }).waitFor();
  assert.doesNotMatch(page.url(), /deleted=1/);

  // A filter the API refuses: its detail shows next to the field.
  await page.locator('#filter-tags').fill('Env');
  await page.locator('#filter-tags').press('Enter');
  await page.locator('#filter-tags-error').filter({ hasText: /\S/ }).waitFor();
  // One that matches nothing: a readable empty state.
  await page.locator('#filter-tags').fill('');
  await page.locator('#filter-prefix').fill('zzz');
  await page.locator('#filter-prefix').press('Enter');
  await page.locator('#buckets-empty').filter({ hasText: 'No buckets match these filters' }).waitFor();
  await page.locator('#buckets-empty a').click();
  await page.locator('#page-summary').filter({ hasText: 'of 32 buckets' }).waitFor();
});

test('creating a bucket: a bad name shows the API detail next to the field, a good one is created', async () => {
  await page.locator('#create-bucket').click();
  await page.locator('#create-name').fill('Bad_Name');
  await page.locator('#create-tags').fill('purpose=console test');
  await page.locator('#create-form button[type=submit]').click();
  const error = page.locator('#create-name-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  assert.match(await error.textContent(), /Bad_Name/);
  await page.screenshot({ path: join(shots, 'create-bucket-error.png') });

  await page.locator('#create-name').fill('console-created');
  await page.locator('#create-region').selectOption(regions[1]);
  await page.locator('#create-storage_class').selectOption('INFREQUENT');
  await page.locator('#create-form button[type=submit]').click();
  await page.locator('#banner').filter({ hasText: 'Created bucket console-created' }).waitFor();
  const created = await api('GET', '/v1/buckets/console-created');
  assert.equal(created.region, regions[1]);
  assert.equal(created.storage_class, 'INFREQUENT');
  assert.deepEqual(created.tags, { purpose: 'console test' });
});

test('editing tags, public and storage class', async () => {
  await page.goto(`${base}/console#/buckets?prefix=console-created`);
  await page.locator('#page-summary').filter({ hasText: '1–1 of 1' }).waitFor();
  await page.getByRole('button', { name: 'Edit console-created' }).click();
  await page.locator('#edit-tags').fill('owner=qa\nenv=test');
  await page.locator('#edit-public').check();
  await page.locator('#edit-storage_class').selectOption('GLACIER');
  await page.locator('#edit-form button[type=submit]').click();
  await page.locator('#banner').filter({ hasText: 'Saved console-created' }).waitFor();
  const row = page.locator('tr[data-bucket="console-created"]');
  assert.equal(await row.locator('td:nth-child(7)').textContent(), 'Yes');
  assert.deepEqual(await row.locator('.tag').allTextContents(), ['env: test', 'owner: qa']);
  const changed = await api('GET', '/v1/buckets/console-created');
  assert.equal(changed.public, true);
  assert.equal(changed.storage_class, 'GLACIER');
  assert.deepEqual(changed.tags, { env: 'test', owner: 'qa' });
});

test('deleting asks first, showing the purge date; a deleted bucket can be restored', async () => {
  await page.getByRole('button', { name: 'Delete console-created' }).click();
  const purge = new Date(Date.now() + (await api('GET', '/v1/service')).soft_delete_retention_seconds * 1000);
  const day = purge.toISOString().slice(0, 10);
  assert.match(await page.locator('#purge-date').textContent(), new RegExp(day));
  await page.screenshot({ path: join(shots, 'delete-confirmation.png') });
  await page.locator('#confirm-delete').click();
  await page.locator('#buckets-empty').waitFor();
  const withDeleted = await api('GET', '/v1/buckets?include=deleted&prefix=console-created');
  assert.ok(withDeleted.data.find((b) => b.name === 'console-created').deleted_at, 'soft-deleted');

  await page.locator('#filter-deleted').check();
  const row = page.locator('tr[data-bucket="console-created"]');
  await row.locator('.badge.deleted').waitFor();
  await row.getByRole('button', { name: 'Restore' }).click();
  await page.locator('#banner').filter({ hasText: 'Restored console-created' }).waitFor();
  assert.equal((await api('GET', '/v1/buckets/console-created')).deleted_at, undefined);
  assert.equal(await page.locator('tr[data-bucket="console-created"] .badge.deleted').count(), 0);
});

test('values from the API are shown as text, never run', async () => {
  await page.goto(`${base}/console#/buckets?prefix=xss`);
  const row = page.locator('tr[data-bucket="xss-tags"]');
  await row.waitFor();
  const tags = await row.locator('.tag').allTextContents();
  assert.deepEqual(tags.sort(), [`attr: ${XSS_ATTR}`, `html: ${XSS_TAG}`].sort());
  assert.equal(await page.locator('main img, main script').count(), 0);

  await page.goto(`${base}/console#/buckets/console-files/objects`);
  await page.locator(`tr[data-key="${XSS_KEY.replaceAll('"', '\\"')}"]`).waitFor();
  const keys = await page.locator('#objects tbody td.name').allTextContents();
  assert.ok(keys.includes(XSS_KEY) && keys.includes(XSS_KEY_SCRIPT), `keys shown: ${keys}`);
  assert.ok(keys.includes('<script>window.__xss = 5</'), `folders shown: ${keys}`);
  assert.equal(await page.locator('main img, main script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no payload ran');
  assert.doesNotMatch(await page.locator('main').textContent(), /\b(null|undefined)\b/, 'no stray values');
  // The delete confirmation shows such a key as text too.
  await page.getByRole('button', { name: `Delete ${XSS_KEY}` }).click();
  assert.match(await page.locator('dialog').textContent(), /onerror="window.__xss = 3"/);
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  // A folder named by a payload: heading, breadcrumbs and upload box show it as text.
  await page.locator('tr[data-folder^="<script>"] a').click();
  await page.locator('h1').filter({ hasText: 'console-files / <script>window.__xss = 5</' }).waitFor();
  assert.ok((await page.locator('.crumbs').textContent()).includes('<script>window.__xss = 5<'));
  assert.equal(await page.locator('main img, main script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no payload ran');
});

test('objects: folders, breadcrumbs, upload by picker and by drop with progress, download, delete', async () => {
  await page.goto(`${base}/console#/buckets/console-files/objects`);
  await page.locator('tr[data-folder="docs/"]').waitFor();
  await page.screenshot({ path: join(shots, 'objects.png'), fullPage: true });
  await page.locator('tr[data-folder="docs/"] a').click();
  await page.locator('tr[data-folder="docs/guide/"]').waitFor();
  assert.deepEqual(await page.locator('.crumbs a').allTextContents(), ['Buckets', 'console-files', 'docs']);
  assert.equal(await page.locator('tr[data-key="docs/readme.txt"] td.name').textContent(), 'readme.txt');

  // Upload with the file picker: 3 MiB, so the bar has something to show.
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  await page.locator('#file-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big });
  const item = page.locator('li[data-upload="docs/big.bin"]');
  await item.locator('.state').filter({ hasText: 'done' }).waitFor();
  assert.equal(await item.locator('progress').evaluate((bar) => bar.value), 1);
  await page.locator('tr[data-key="docs/big.bin"]').waitFor();

  // Upload by drag and drop.
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['dropped by the test\n'], 'dropped.txt', { type: 'text/plain' }));
    return transfer;
  });
  await page.locator('#dropzone').dispatchEvent('drop', { dataTransfer: dropped });
  await page.locator('li[data-upload="docs/dropped.txt"] .state').filter({ hasText: 'done' }).waitFor();
  await page.locator('tr[data-key="docs/dropped.txt"]').waitFor();
  const stored = await fetch(`${base}/v1/buckets/console-files/objects/docs/dropped.txt`, { headers: { Authorization: `Bearer ${apiKey}` } });
  assert.equal(await stored.text(), 'dropped by the test\n');
  const storedBig = Buffer.from(await (await fetch(`${base}/v1/buckets/console-files/objects/docs/big.bin`, { headers: { Authorization: `Bearer ${apiKey}` } })).arrayBuffer());
  assert.ok(storedBig.equals(big), 'the picked file arrived byte-exact');

  // Download.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download docs/dropped.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'dropped.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'dropped by the test\n');

  // Delete, after confirming.
  await page.getByRole('button', { name: 'Delete docs/dropped.txt' }).click();
  await page.locator('#confirm-delete-object').click();
  await page.locator('tr[data-key="docs/dropped.txt"]').waitFor({ state: 'detached' });
  const gone = await fetch(`${base}/v1/buckets/console-files/objects/docs/dropped.txt`, { headers: { Authorization: `Bearer ${apiKey}` } });
  assert.equal(gone.status, 404);

  // Breadcrumb back to the bucket.
  await page.locator('.crumbs a', { hasText: 'console-files' }).click();
  await page.locator('tr[data-key="top.txt"]').waitFor();
});

test('a bucket that is not there shows a readable error state', async () => {
  await page.goto(`${base}/console#/buckets/not-there-at-all/objects`);
  const failure = page.locator('main [role=alert]');
  await failure.filter({ hasText: 'Something went wrong' }).waitFor();
  assert.match(await failure.textContent(), /request/);
  await page.screenshot({ path: join(shots, 'error-state.png') });
});

test('keyboard: focus is visible and the list can be driven without a mouse', async () => {
  await page.goto(`${base}/console#/buckets`);
  await page.locator('#buckets').waitFor();
  await page.locator('#filter-prefix').focus();
  await page.keyboard.type('console-a-2');
  await page.keyboard.press('Enter');
  await page.locator('#page-summary').filter({ hasText: 'of 10 buckets' }).waitFor();
  await page.locator('#create-bucket').focus();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return { tag: element.tagName, outline: style.outlineStyle, width: style.outlineWidth };
  });
  assert.equal(focused.tag, 'A', 'Tab moves from "Create bucket" to the first bucket');
  assert.notEqual(focused.outline, 'none', 'the focused element shows an outline');
  assert.notEqual(focused.width, '0px');
  // Open the dialog from the keyboard; Escape closes it and focus comes back.
  await page.locator('#create-bucket').focus();
  await page.keyboard.press('Enter');
  await page.locator('dialog #create-name').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'create-name');
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'create-bucket', 'focus is back where it was');
  // Arrow keys on the region filter choose a region without leaving the control.
  const before = page.url();
  await page.locator('#filter-region').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(page.url(), before, 'choosing is not applying');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-region');
  // The skip link moves focus to the content without leaving the view.
  await page.goto(`${base}/console#/buckets?prefix=console-a-2`);
  await page.locator('#buckets').waitFor();
  await page.locator('.skip-link').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  assert.match(page.url(), /prefix=console-a-2/);
  assert.equal(await page.locator('#filter-prefix').inputValue(), 'console-a-2');
});

test('at 390 px wide nothing overflows the page', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/console#/buckets`);
  await page.locator('#buckets').waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide`);
  await page.screenshot({ path: join(shots, 'buckets-390.png'), fullPage: false });
  await page.goto(`${base}/console#/buckets/console-files/objects`);
  await page.locator('#objects').waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390);
  await page.screenshot({ path: join(shots, 'objects-390.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('an expired or refused token sends the user back to sign in with a message', async () => {
  // A token that expires in a second: the console's own clock ends the session.
  const minted = await api('POST', '/v1/auth/tokens', { ttl_seconds: 1 });
  await page.goto(`${base}/console#/buckets`);
  await page.evaluate((token) => sessionStorage.setItem('cloudnexus.console.session',
    JSON.stringify({ token, scope: 'storage:read', expiresAt: Date.now() + 1000 })), minted.access_token);
  await page.reload();
  await page.locator('#signin-notice').filter({ hasText: 'expired' }).waitFor({ timeout: 10_000 });
  // A token the server refuses (here: not a token at all): the first 401 ends the session.
  await page.evaluate(() => sessionStorage.setItem('cloudnexus.console.session',
    JSON.stringify({ token: 'not-a-token', scope: 'storage:read', expiresAt: Date.now() + 600_000 })));
  await page.reload();
  await page.locator('#signin-notice').filter({ hasText: 'Sign in again' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('signing out forgets the token', async () => {
  await signIn();
  await page.locator('#sign-out').click();
  await page.locator('#signin-notice').filter({ hasText: 'signed out' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
  await page.goto(`${base}/console#/buckets`);
  await page.locator('#api-key').waitFor();
});

test('the page never broke its policy or threw, and no credential was ever in a URL', () => {
  assert.deepEqual(pageErrors, []);
  assert.ok(tokens.length > 0 && requested.length > 50, `${requested.length} requests seen`);
  for (const url of requested) {
    assert.ok(!url.includes(apiKey), `the key in a URL: ${url}`);
    for (const token of tokens) assert.ok(!url.includes(token), `a token in a URL: ${url}`);
  }
});
