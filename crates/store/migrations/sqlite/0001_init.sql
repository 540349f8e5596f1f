-- The first schema. Plain SQL that PostgreSQL also accepts: TEXT ids, BIGINT Unix seconds,
-- BOOLEAN flags, row-value comparisons and ON CONFLICT upserts; no AUTOINCREMENT, no rowid.

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    key_hash    BLOB NOT NULL,          -- SHA-256 of the whole key; the key itself is never stored
    scopes      TEXT NOT NULL,          -- space-separated, e.g. 'storage:read storage:write'
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_project ON api_keys (project_id, created_at, id);
CREATE INDEX api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE buckets (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    name          TEXT NOT NULL UNIQUE,  -- global uniqueness across projects, also while soft-deleted
    region        TEXT NOT NULL,
    storage_class TEXT NOT NULL,
    public        BOOLEAN NOT NULL,
    tags          TEXT NOT NULL,         -- JSON object, for rendering; bucket_tags is for filtering
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT,                -- set while soft-deleted
    purge_at      BIGINT,                -- when a soft-deleted bucket is purged
    size_bytes    BIGINT NOT NULL DEFAULT 0,
    object_count  BIGINT NOT NULL DEFAULT 0
);
-- Listing order, per filter shape. deleted_at is the last column so that counting live
-- buckets before a position reads the index only.
CREATE INDEX buckets_order ON buckets (project_id, created_at, id, deleted_at);
CREATE INDEX buckets_region_order ON buckets (project_id, region, created_at, id, deleted_at);
-- Prefix filters: a name range, with the columns that make its counts index-only.
CREATE INDEX buckets_project_name ON buckets (project_id, name, deleted_at, created_at, id);
CREATE INDEX buckets_purge_due ON buckets (purge_at) WHERE purge_at IS NOT NULL;

-- One row per tag, carrying the bucket's created_at and liveness so that a tag filter walks
-- its own index in listing order.
CREATE TABLE bucket_tags (
    bucket_id   TEXT NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    project_id  TEXT NOT NULL,
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    live        BOOLEAN NOT NULL,
    PRIMARY KEY (bucket_id, tag_key)
);
CREATE INDEX bucket_tags_key_order ON bucket_tags (project_id, tag_key, created_at, bucket_id, live);
CREATE INDEX bucket_tags_value_order ON bucket_tags (project_id, tag_key, tag_value, created_at, bucket_id, live);

-- Bucket counts per project and filter dimension ('all', 'region:<r>', 'tag:<k>',
-- 'tagv:<k>=<v>'), kept in the same transaction as every change, so `total` never scans.
CREATE TABLE bucket_counts (
    project_id  TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension)
);

-- The same counts per UTC day of the buckets' created_at. A cursor page's `offset` is the sum
-- of the days before the cursor's day plus an index count inside that day, and a deep `offset`
-- seeks to its day instead of skipping every bucket before it.
CREATE TABLE bucket_counts_by_day (
    project_id  TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    day         BIGINT NOT NULL,        -- created_at / 86400, rounded down
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension, day)
);

-- Secrets the server generates once and keeps (the cursor-signing key).
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
