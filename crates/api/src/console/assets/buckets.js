// The bucket list (the list endpoint as a table, with its filters and cursor paging) and the
// bucket's changes: create, edit (tags, public, storage class), delete and restore.

import { describe, queryString, request } from './api.js';
import { banner, field, formatBytes, formatTime, h, modal, showFieldError, time } from './dom.js';
import { navigate, service, show } from './view.js';

const PAGE_SIZE = 25;

/** The filters of a bucket-list URL, as the list endpoint takes them. */
function filtersOf(params) {
  return {
    region: params.get('region') || '',
    prefix: params.get('prefix') || '',
    tag: params.getAll('tag').filter(Boolean),
    deleted: params.get('deleted') === '1',
  };
}

/** The URL of a page of the list: the first (no position), one after a `cursor`, or one at an
 *  `offset` (where "Previous" goes, so it works after the browser's Back and from bookmarks). */
function listHash(filters, { cursor = '', offset = 0 } = {}) {
  return `#/buckets${queryString({
    region: filters.region,
    prefix: filters.prefix,
    tag: filters.tag,
    deleted: filters.deleted ? '1' : '',
    cursor,
    offset: offset > 0 ? String(offset) : '',
  })}`;
}

/** The bucket list for the URL's `params` (`ticket`: see `beginView`). */
export async function bucketsView(ticket, params) {
  const filters = filtersOf(params);
  const cursor = params.get('cursor') || '';
  const offset = cursor ? 0 : Number.parseInt(params.get('offset') || '0', 10) || 0;
  const info = await service();
  let page;
  let failure;
  try {
    page = await request('GET', '/v1/buckets', {
      query: {
        limit: PAGE_SIZE,
        region: filters.region,
        prefix: filters.prefix,
        tag: filters.tag,
        include: filters.deleted ? 'deleted' : '',
        cursor,
        offset: offset > 0 ? offset : '',
      },
    });
  } catch (error) {
    if (error.status !== 400) throw error;
    failure = error;
  }
  show(
    ticket,
    h('h1', {}, 'Buckets'),
    toolbar(info, filters),
    failure ? filterFailure(failure) : table(page, filters, info),
    failure ? null : pager(page, filters),
  );
  if (failure) {
    for (const problem of failure.problem.errors || []) {
      const id = { region: 'filter-region', prefix: 'filter-prefix', tag: 'filter-tags' }[problem.param];
      if (id) showFieldError(id, problem.detail);
    }
  }
}

function toolbar(info, filters) {
  const region = h('select', {}, h('option', { value: '' }, 'All regions'),
    info.regions.map((name) => h('option', { value: name, selected: name === filters.region }, name)));
  const prefix = h('input', { type: 'search', value: filters.prefix, placeholder: 'e.g. prod-', spellcheck: false });
  const tags = h('input', { type: 'search', value: filters.tag.join(', '), placeholder: 'env:production, team',
    spellcheck: false });
  const deleted = h('input', { type: 'checkbox', id: 'filter-deleted', checked: filters.deleted });
  const apply = () => navigate(listHash({
    region: region.value,
    prefix: prefix.value.trim(),
    tag: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
    deleted: deleted.checked,
  }));
  // The region applies with the form (arrow keys on a closed select would fire `change` on
  // every step); the checkbox applies at once, like a toggle.
  deleted.addEventListener('change', apply);
  return h('form', { className: 'toolbar', role: 'search', 'aria-label': 'Filter buckets', onsubmit: (event) => {
    event.preventDefault();
    apply();
  } },
  field('filter-region', 'Region', region),
  field('filter-prefix', 'Name prefix', prefix),
  field('filter-tags', 'Tags', tags, 'key or key:value, comma-separated, all must match'),
  h('div', { className: 'field' }, h('label', { className: 'inline', for: 'filter-deleted' }, deleted, 'Show deleted')),
  h('div', { className: 'field' }, h('button', { type: 'submit' }, 'Apply filters')),
  h('div', { className: 'spacer' }),
  h('div', { className: 'field' }, h('button', { type: 'button', className: 'primary', id: 'create-bucket',
    onclick: () => createBucket(info) }, 'Create bucket')));
}

function filterFailure(error) {
  return h('div', { className: 'empty', role: 'alert' }, h('p', {}, 'These filters cannot be applied.'),
    h('p', {}, describe(error)));
}

function table(page, filters, info) {
  const filtered = filters.region || filters.prefix || filters.tag.length;
  if (page.data.length === 0) {
    if (page.pagination.total > 0) {
      return h('div', { className: 'empty', id: 'buckets-empty' },
        h('p', {}, 'No buckets on this page. ', h('a', { href: listHash(filters) }, 'Go to the first page')));
    }
    return h('div', { className: 'empty', id: 'buckets-empty' },
      filtered
        ? h('p', {}, 'No buckets match these filters. ', h('a', { href: '#/buckets' }, 'Clear the filters'))
        : h('p', {}, 'No buckets yet. Create one to start storing objects.'));
  }
  const head = ['Name', 'Region', 'Storage class', 'Created', 'Size', 'Objects', 'Public', 'Tags', 'Actions'];
  const numeric = new Set(['Size', 'Objects']);
  return h('div', { className: 'table-wrap' }, h('table', { id: 'buckets' },
    h('caption', { className: 'sr-only' }, 'Buckets'),
    h('thead', {}, h('tr', {}, head.map((name) => h('th', { scope: 'col', className: numeric.has(name) ? 'num' : '' }, name)))),
    h('tbody', {}, page.data.map((bucket) => row(bucket, info)))));
}

function row(bucket, info) {
  const deleted = Boolean(bucket.deleted_at);
  const name = deleted
    ? [h('span', {}, bucket.name), ' ', h('span', { className: 'badge deleted' }, `deleted · purged ${formatTime(bucket.purge_at)}`)]
    : h('a', { href: `#/buckets/${encodeURIComponent(bucket.name)}/objects` }, bucket.name);
  const tags = Object.entries(bucket.tags).map(([key, value]) => h('span', { className: 'tag' }, value === '' ? key : `${key}: ${value}`));
  const actions = deleted
    ? h('button', { type: 'button', onclick: () => restoreBucket(bucket), 'aria-label': `Restore ${bucket.name}` }, 'Restore')
    : [
      h('button', { type: 'button', onclick: () => editBucket(bucket, info), 'aria-label': `Edit ${bucket.name}` }, 'Edit'),
      h('button', { type: 'button', onclick: () => deleteBucket(bucket, info), 'aria-label': `Delete ${bucket.name}` }, 'Delete'),
    ];
  return h('tr', { className: deleted ? 'deleted' : '', 'data-bucket': bucket.name },
    h('td', { className: 'name' }, name),
    h('td', { className: 'nowrap' }, bucket.region),
    h('td', {}, bucket.storage_class),
    h('td', { className: 'nowrap' }, time(bucket.created_at)),
    h('td', { className: 'num', title: `${bucket.size_bytes} bytes` }, formatBytes(bucket.size_bytes)),
    h('td', { className: 'num' }, bucket.object_count.toLocaleString('en')),
    h('td', {}, bucket.public ? 'Yes' : 'No'),
    h('td', { className: 'tags' }, tags.length ? tags : h('span', { className: 'hint' }, 'none')),
    h('td', { className: 'actions' }, actions));
}

function pager(page, filters) {
  const { total, offset, limit } = page.pagination;
  const shown = page.data.length;
  const summary = shown === 0
    ? `0 of ${total.toLocaleString('en')} buckets`
    : `${(offset + 1).toLocaleString('en')}–${(offset + shown).toLocaleString('en')} of ${total.toLocaleString('en')} buckets`;
  const previous = h('button', { type: 'button', id: 'page-previous', disabled: offset === 0,
    onclick: () => navigate(listHash(filters, { offset: Math.max(0, offset - limit) })) }, '← Previous');
  const next = h('button', { type: 'button', id: 'page-next', disabled: !page.pagination.next_cursor,
    onclick: () => navigate(listHash(filters, { cursor: page.pagination.next_cursor })) }, 'Next →');
  return h('nav', { className: 'pager', 'aria-label': 'Pages' }, previous, next,
    h('span', { id: 'page-summary', role: 'status' }, summary));
}

/** `key=value` lines as a tag map; throws a message naming the line that is not one. */
export function parseTags(text) {
  const tags = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`line ${index + 1}: write each tag as key=value`);
    tags[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return tags;
}

function tagsText(tags) {
  return Object.entries(tags).map(([key, value]) => `${key}=${value}`).join('\n');
}

/** Shows a failed change's problem next to the fields it names (`prefix` + param), and the
 *  rest in `general`. */
function showProblem(error, prefix, fields, general) {
  const named = (error.problem && error.problem.errors) || [];
  let placed = false;
  for (const problem of named) {
    const param = String(problem.param || '');
    const name = fields.find((f) => param === f || param.startsWith(`${f}.`) || param.startsWith(`${f}[`));
    if (name) {
      showFieldError(`${prefix}-${name}`, problem.detail);
      placed = true;
    }
  }
  if (!placed && error.problem && error.problem.code === 'bucket_name_taken' && fields.includes('name')) {
    showFieldError(`${prefix}-name`, error.message);
    placed = true;
  }
  general.textContent = placed ? '' : describe(error);
}

function createBucket(info) {
  return modal('Create bucket', (close) => {
    const name = h('input', { type: 'text', required: true, spellcheck: false, autocomplete: 'off' });
    const region = h('select', {}, info.regions.map((r) => h('option', { value: r }, r)));
    const storageClass = h('select', {}, info.storage_classes.map((c) => h('option', { value: c }, c)));
    const isPublic = h('input', { type: 'checkbox', id: 'create-public' });
    const tags = h('textarea', { spellcheck: false, placeholder: 'env=production\nteam=frontend' });
    const general = h('p', { className: 'field-error', id: 'create-general', role: 'alert' });
    const fields = ['name', 'region', 'storage_class', 'public', 'tags'];
    return h('form', { id: 'create-form', onsubmit: async (event) => {
      event.preventDefault();
      fields.forEach((f) => showFieldError(`create-${f}`, ''));
      general.textContent = '';
      let body;
      try {
        body = { name: name.value.trim(), region: region.value, storage_class: storageClass.value,
          public: isPublic.checked, tags: parseTags(tags.value) };
      } catch (error) {
        showFieldError('create-tags', error.message);
        return;
      }
      try {
        const bucket = await request('POST', '/v1/buckets', { json: body });
        close(bucket);
        navigate('#/buckets', `Created bucket ${bucket.name}.`);
      } catch (error) {
        showProblem(error, 'create', fields, general);
      }
    } },
    field('create-name', 'Name', name, '3-63 characters: lowercase letters, digits, dots and hyphens; unique across the service'),
    field('create-region', 'Region', region),
    field('create-storage_class', 'Storage class', storageClass),
    h('div', { className: 'field' }, h('label', { className: 'inline', for: 'create-public' }, isPublic, 'Public (objects readable without credentials)'),
      h('p', { className: 'field-error', id: 'create-public-error' })),
    field('create-tags', 'Tags', tags, 'One key=value per line'),
    general,
    h('div', { className: 'buttons' },
      h('button', { type: 'button', onclick: () => close() }, 'Cancel'),
      h('button', { type: 'submit', className: 'primary' }, 'Create bucket')));
  });
}

function editBucket(bucket, info) {
  return modal(`Edit ${bucket.name}`, (close) => {
    const storageClass = h('select', {}, info.storage_classes.map((c) => h('option', { value: c, selected: c === bucket.storage_class }, c)));
    const isPublic = h('input', { type: 'checkbox', id: 'edit-public', checked: bucket.public });
    const tags = h('textarea', { spellcheck: false, value: tagsText(bucket.tags) });
    const general = h('p', { className: 'field-error', id: 'edit-general', role: 'alert' });
    const fields = ['storage_class', 'public', 'tags'];
    return h('form', { id: 'edit-form', onsubmit: async (event) => {
      event.preventDefault();
      fields.forEach((f) => showFieldError(`edit-${f}`, ''));
      general.textContent = '';
      let body;
      try {
        body = { storage_class: storageClass.value, public: isPublic.checked, tags: parseTags(tags.value) };
      } catch (error) {
        showFieldError('edit-tags', error.message);
        return;
      }
      try {
        await request('PATCH', `/v1/buckets/${encodeURIComponent(bucket.id)}`, { json: body });
        close(true);
        navigate(location.hash || '#/buckets', `Saved ${bucket.name}.`);
      } catch (error) {
        showProblem(error, 'edit', fields, general);
      }
    } },
    field('edit-storage_class', 'Storage class', storageClass),
    h('div', { className: 'field' }, h('label', { className: 'inline', for: 'edit-public' }, isPublic, 'Public (objects readable without credentials)'),
      h('p', { className: 'field-error', id: 'edit-public-error' })),
    field('edit-tags', 'Tags', tags, 'One key=value per line; this list replaces the bucket\'s tags'),
    general,
    h('div', { className: 'buttons' },
      h('button', { type: 'button', onclick: () => close() }, 'Cancel'),
      h('button', { type: 'submit', className: 'primary' }, 'Save')));
  });
}

function deleteBucket(bucket, info) {
  const retention = info.soft_delete_retention_seconds;
  const span = retention >= 86400
    ? `${Math.round(retention / 86400)} days`
    : retention >= 3600 ? `${Math.round(retention / 3600)} hours` : `${Math.max(1, Math.round(retention / 60))} minutes`;
  const purgeAt = new Date(Date.now() + info.soft_delete_retention_seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return modal(`Delete ${bucket.name}?`, (close) => {
    const general = h('p', { className: 'field-error', role: 'alert' });
    const confirm = h('button', { type: 'button', className: 'danger', id: 'confirm-delete', onclick: async () => {
      confirm.disabled = true;
      try {
        const deleted = await request('DELETE', `/v1/buckets/${encodeURIComponent(bucket.id)}`);
        close(true);
        navigate(location.hash || '#/buckets', `Deleted ${bucket.name}. It can be restored until ${formatTime(deleted.purge_at)} (Show deleted).`);
      } catch (error) {
        general.textContent = describe(error);
        confirm.disabled = false;
      }
    } }, 'Delete bucket');
    return h('div', {},
      h('p', { id: 'delete-summary' }, `The bucket leaves the list at once. It can be restored until `,
        h('strong', { id: 'purge-date' }, formatTime(purgeAt)), ` (${span}); then it is purged with its `,
        `${bucket.object_count.toLocaleString('en')} objects (${formatBytes(bucket.size_bytes)}) and its name is freed.`),
      general,
      h('div', { className: 'buttons' },
        h('button', { type: 'button', onclick: () => close(), autofocus: true }, 'Cancel'),
        confirm));
  });
}

async function restoreBucket(bucket) {
  try {
    await request('POST', `/v1/buckets/${encodeURIComponent(bucket.id)}/restore`);
    navigate(location.hash || '#/buckets', `Restored ${bucket.name}.`);
  } catch (error) {
    banner(describe(error));
  }
}
