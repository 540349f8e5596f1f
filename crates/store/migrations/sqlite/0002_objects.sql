-- Objects: one row per (bucket, key). The bytes live in a blob named by blob_id, never by the
-- key. A bucket's size_bytes and object_count change in the same transaction as its objects.
CREATE TABLE objects (
    bucket_id     TEXT NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    object_key    TEXT NOT NULL,
    blob_id       TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    etag          TEXT NOT NULL,         -- hex MD5 of the bytes
    content_type  TEXT NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (bucket_id, object_key)
);
CREATE INDEX objects_by_blob ON objects (blob_id);

-- Blobs no longer referenced (overwritten, deleted, purged), queued in the transaction that
-- dropped them and removed from disk after it commits; whatever a crash leaves here is
-- removed at the next start.
CREATE TABLE blob_garbage (
    blob_id     TEXT PRIMARY KEY,
    queued_at   BIGINT NOT NULL
);
