// A bucket's objects as folders (`delimiter=/`): breadcrumbs, sizes and times, upload by file
// picker or drag and drop with a progress bar per file, download and delete.

import { addressable, describe, keyPath, queryString, request, upload } from './api.js';
import { banner, formatBytes, h, modal, time } from './dom.js';
import { navigate, service, show } from './view.js';

const PAGE_SIZE = 100;
/** Files uploaded at once (a browser opens only a few connections to one server anyway). */
const PARALLEL_UPLOADS = 3;
const UNADDRESSABLE = 'Browsers rewrite "." and ".." in paths, so this key can be reached only with the command line or S3.';

/** For each page's cursor, the cursor of the page before it, kept while the folder stays. */
const trail = { folder: '', before: new Map() };

function folderHash(bucket, prefix, cursor) {
  return `#/buckets/${encodeURIComponent(bucket)}/objects${queryString({ prefix, cursor })}`;
}

function objectPath(bucket, key) {
  return `/v1/buckets/${encodeURIComponent(bucket)}/objects/${keyPath(key)}`;
}

/** The objects of `bucket` in the folder the URL's `params` name (`ticket`: see `beginView`). */
export async function objectsView(ticket, bucket, params) {
  const prefix = params.get('prefix') || '';
  const cursor = params.get('cursor') || '';
  const folder = folderHash(bucket, prefix, '');
  if (trail.folder !== folder) {
    trail.folder = folder;
    trail.before = new Map();
  }
  const [info, limits] = await Promise.all([request('GET', `/v1/buckets/${encodeURIComponent(bucket)}`), service()]);
  const listing = h('div', { id: 'listing' });
  const refresh = async () => {
    const page = await request('GET', `/v1/buckets/${encodeURIComponent(bucket)}/objects`, {
      query: { prefix, delimiter: '/', limit: PAGE_SIZE, cursor },
    });
    listing.replaceChildren(...[table(bucket, prefix, page, refresh), pager(bucket, prefix, cursor, page)].filter(Boolean));
  };
  show(
    ticket,
    crumbs(bucket, prefix),
    h('h1', {}, prefix ? `${bucket} / ${prefix}` : bucket),
    h('p', { className: 'hint' }, `${info.region} · ${info.storage_class} · ${formatBytes(info.size_bytes)} in `
      + `${info.object_count.toLocaleString('en')} objects${info.public ? ' · public' : ''}`),
    uploader(bucket, prefix, refresh, limits.max_object_bytes),
    listing,
  );
  await refresh();
}

function crumbs(bucket, prefix) {
  const parts = [h('a', { href: '#/buckets' }, 'Buckets'), h('span', { className: 'sep', 'aria-hidden': 'true' }, '/'),
    h('a', { href: folderHash(bucket, '', '') }, bucket)];
  let path = '';
  for (const segment of prefix.split('/').filter((s, i, all) => i < all.length - 1 || s)) {
    path += `${segment}/`;
    if (!segment) continue; // `//` in a key: an empty folder name has no crumb of its own.
    parts.push(h('span', { className: 'sep', 'aria-hidden': 'true' }, '/'), h('a', { href: folderHash(bucket, path, '') }, segment));
  }
  const last = parts[parts.length - 1];
  last.setAttribute('aria-current', 'page');
  return h('nav', { className: 'crumbs', 'aria-label': 'Breadcrumbs' }, parts);
}

function table(bucket, prefix, page, refresh) {
  if (page.data.length === 0 && page.common_prefixes.length === 0) {
    return h('div', { className: 'empty', id: 'objects-empty' },
      h('p', {}, prefix ? 'This folder is empty.' : 'This bucket is empty.'),
      h('p', {}, 'Drop files on the box above or choose them to upload.'));
  }
  const folders = page.common_prefixes.map((folder) => h('tr', { 'data-folder': folder },
    h('td', { className: 'name' }, h('a', { href: folderHash(bucket, folder, '') }, `${folder.slice(prefix.length)}`)),
    h('td', { className: 'num' }, '—'), h('td', {}, h('span', { className: 'hint' }, 'folder')), h('td', {})));
  const objects = page.data.map((object) => {
    const reachable = addressable(object.key);
    return h('tr', { 'data-key': object.key },
      h('td', { className: 'name' }, object.key.slice(prefix.length) || '(this folder\'s marker)'),
      h('td', { className: 'num', title: `${object.size_bytes} bytes` }, formatBytes(object.size_bytes)),
      h('td', {}, time(object.last_modified)),
      h('td', { className: 'actions', title: reachable ? '' : UNADDRESSABLE },
        h('button', { type: 'button', 'aria-label': `Download ${object.key}`, disabled: !reachable, onclick: () => download(bucket, object.key) }, 'Download'),
        h('button', { type: 'button', 'aria-label': `Delete ${object.key}`, disabled: !reachable, onclick: () => remove(bucket, object.key, refresh) }, 'Delete')));
  });
  return h('div', { className: 'table-wrap' }, h('table', { id: 'objects' },
    h('caption', { className: 'sr-only' }, 'Objects'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', className: 'num' }, 'Size'),
      h('th', { scope: 'col' }, 'Modified'), h('th', { scope: 'col' }, 'Actions'))),
    h('tbody', {}, folders, objects)));
}

function pager(bucket, prefix, cursor, page) {
  if (!cursor && !page.pagination.next_cursor) return null;
  // Object listings page by cursor only: "Previous" uses the cursor each page was reached
  // from, remembered per cursor (so it holds after the browser's Back and Forward too).
  return h('nav', { className: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: !cursor, onclick: () => navigate(folderHash(bucket, prefix, trail.before.get(cursor) || '')) }, '← Previous'),
    h('button', { type: 'button', disabled: !page.pagination.next_cursor, onclick: () => {
      trail.before.set(page.pagination.next_cursor, cursor);
      navigate(folderHash(bucket, prefix, page.pagination.next_cursor));
    } }, 'Next →'));
}

function uploader(bucket, prefix, refresh, maxObjectBytes) {
  if (!addressable(prefix)) {
    return h('section', { className: 'dropzone', id: 'dropzone' }, h('p', {}, UNADDRESSABLE));
  }
  const list = h('ul', { className: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
  const input = h('input', { type: 'file', multiple: true, id: 'file-input', className: 'sr-only', tabIndex: -1 });
  const start = async (files) => {
    const queue = [...files].map((file) => () => send(bucket, prefix + file.name, file, list, maxObjectBytes));
    // A few files go up at a time; each shows its row and takes the session's token when it
    // starts.
    const rows = queue.length;
    let next = 0;
    const worker = async () => {
      while (next < rows) {
        const job = queue[next];
        next += 1;
        await job().catch(() => {});
      }
    };
    await Promise.allSettled(Array.from({ length: Math.min(PARALLEL_UPLOADS, rows) }, worker));
    try {
      await refresh();
    } catch {
      // The listing shows its own state on the next render.
    }
  };
  input.addEventListener('change', () => {
    start(input.files);
    input.value = '';
  });
  const zone = h('section', { className: 'dropzone', id: 'dropzone', 'aria-label': 'Upload files' },
    h('p', {}, `Drop files here to upload them to ${prefix || 'the top of the bucket'}, or `,
      h('label', { className: 'button', for: 'file-input', tabIndex: 0, role: 'button', onkeydown: (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          input.click();
        }
      } }, 'choose files'), input),
    list);
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer && event.dataTransfer.files.length) start(event.dataTransfer.files);
  });
  return zone;
}

async function send(bucket, key, file, list, maxObjectBytes) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `Uploading ${key}` });
  const state = h('span', { className: 'state' }, '0 %');
  const item = h('li', { 'data-upload': key }, h('span', { className: 'file' }, key), bar, state);
  list.append(item);
  try {
    if (file.size > maxObjectBytes) {
      throw new Error(`larger than the service's limit of ${formatBytes(maxObjectBytes)}`);
    }
    await upload(bucket, key, file, (fraction) => {
      bar.value = fraction;
      state.textContent = `${Math.round(fraction * 100)} %`;
    });
    state.textContent = 'done';
    item.classList.add('done');
  } catch (error) {
    item.classList.add('failed');
    state.textContent = 'failed';
    item.title = describe(error);
    item.append(h('span', { className: 'field-error' }, item.title));
    throw error;
  }
}

async function download(bucket, key) {
  try {
    const response = await request('GET', objectPath(bucket, key), { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: key.split('/').pop() || 'download' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    banner(describe(error));
  }
}

function remove(bucket, key, refresh) {
  return modal('Delete object?', (close) => {
    const general = h('p', { className: 'field-error', role: 'alert' });
    const confirm = h('button', { type: 'button', className: 'danger', id: 'confirm-delete-object', onclick: async () => {
      confirm.disabled = true;
      try {
        await request('DELETE', objectPath(bucket, key));
        close(true);
        await refresh();
      } catch (error) {
        general.textContent = describe(error);
        confirm.disabled = false;
      }
    } }, 'Delete object');
    return h('div', {},
      h('p', {}, 'This deletes ', h('strong', {}, key), ' for good: objects have no soft delete.'),
      general,
      h('div', { className: 'buttons' }, h('button', { type: 'button', onclick: () => close(), autofocus: true }, 'Cancel'), confirm));
  });
}
