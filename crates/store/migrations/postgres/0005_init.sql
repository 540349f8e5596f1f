-- The PostgreSQL schema: the same tables, indexes and triggers as SQLite's migrations 0001 to
-- 0005 leave, written once in PostgreSQL's dialect. It is numbered 5 so that both backends
-- count schema versions alike: the next change is migration 0006 in both folders.
--
-- Dialect notes:
-- - Every text column that is compared or ordered uses COLLATE "C": bucket names, object keys
--   and ids sort by their bytes (UTF-8 order), as on SQLite and in S3, whatever the database's
--   default collation; name prefixes are ranges `name >= p AND name < p || '{'`.
-- - Times are BIGINT Unix seconds (UTC by definition: no time zones to configure).
-- - The data version is moved by triggers; inserts and deletes use statement-level triggers
--   with transition tables, so a bulk insert of 10,000 buckets moves it once, not 10,000 times.

CREATE TABLE projects (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    data_version  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects (id),
    key_hash    BYTEA NOT NULL,         -- SHA-256 of the whole key; the key itself is never stored
    scopes      TEXT NOT NULL,          -- space-separated, e.g. 'storage:read storage:write'
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_project ON api_keys (project_id, created_at, id);
CREATE INDEX api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE buckets (
    id            TEXT COLLATE "C" PRIMARY KEY,
    project_id    TEXT COLLATE "C" NOT NULL REFERENCES projects (id),
    name          TEXT COLLATE "C" NOT NULL UNIQUE,  -- global across projects, also while soft-deleted
    region        TEXT COLLATE "C" NOT NULL,
    storage_class TEXT NOT NULL,
    public        BOOLEAN NOT NULL,
    tags          TEXT NOT NULL,         -- JSON object, for rendering; bucket_tags is for filtering
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT,
    purge_at      BIGINT,
    size_bytes    BIGINT NOT NULL DEFAULT 0,
    object_count  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX buckets_order ON buckets (project_id, created_at, id, deleted_at);
CREATE INDEX buckets_region_order ON buckets (project_id, region, created_at, id, deleted_at);
CREATE INDEX buckets_project_name ON buckets (project_id, name, deleted_at, created_at, id);
CREATE INDEX buckets_purge_due ON buckets (purge_at) WHERE purge_at IS NOT NULL;

CREATE TABLE bucket_tags (
    bucket_id   TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    project_id  TEXT COLLATE "C" NOT NULL,
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    live        BOOLEAN NOT NULL,
    region      TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (bucket_id, tag_key)
);
CREATE INDEX bucket_tags_key_order ON bucket_tags (project_id, tag_key, created_at, bucket_id, live);
CREATE INDEX bucket_tags_value_order ON bucket_tags (project_id, tag_key, tag_value, created_at, bucket_id, live);
CREATE INDEX bucket_tags_key_scope ON bucket_tags (project_id, tag_key, region, name, live, created_at, bucket_id);
CREATE INDEX bucket_tags_value_scope
    ON bucket_tags (project_id, tag_key, tag_value, region, name, live, created_at, bucket_id);

CREATE TABLE bucket_counts (
    project_id  TEXT COLLATE "C" NOT NULL,
    dimension   TEXT COLLATE "C" NOT NULL,
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension)
);

CREATE TABLE bucket_counts_by_day (
    project_id  TEXT COLLATE "C" NOT NULL,
    dimension   TEXT COLLATE "C" NOT NULL,
    day         BIGINT NOT NULL,
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension, day)
);

CREATE TABLE server_secrets (
    name        TEXT COLLATE "C" PRIMARY KEY,
    value       BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE objects (
    bucket_id     TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    object_key    TEXT COLLATE "C" NOT NULL,
    blob_id       TEXT COLLATE "C" NOT NULL,
    size_bytes    BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (bucket_id, object_key)
);
CREATE INDEX objects_by_blob ON objects (blob_id);

CREATE TABLE blob_garbage (
    blob_id     TEXT COLLATE "C" PRIMARY KEY,
    queued_at   BIGINT NOT NULL
);

-- The data version (see SQLite's 0004 and 0005): moved by every insert and delete of buckets,
-- and by every update of what a listing shows apart from usage.
CREATE FUNCTION buckets_inserted_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET data_version = data_version + 1
    WHERE id IN (SELECT DISTINCT project_id FROM inserted);
    RETURN NULL;
END $$;

CREATE FUNCTION buckets_deleted_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET data_version = data_version + 1
    WHERE id IN (SELECT DISTINCT project_id FROM deleted);
    RETURN NULL;
END $$;

CREATE FUNCTION buckets_updated_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET data_version = data_version + 1 WHERE id = NEW.project_id;
    RETURN NULL;
END $$;

CREATE TRIGGER buckets_insert_data_version AFTER INSERT ON buckets
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION buckets_inserted_data_version();

CREATE TRIGGER buckets_delete_data_version AFTER DELETE ON buckets
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION buckets_deleted_data_version();

CREATE TRIGGER buckets_update_data_version
    AFTER UPDATE OF name, region, storage_class, public, tags, created_at, deleted_at, purge_at ON buckets
    FOR EACH ROW EXECUTE FUNCTION buckets_updated_data_version();
