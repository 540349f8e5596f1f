-- Multipart uploads (the S3 protocol): an upload in progress and its parts, each part's bytes
-- in a durable blob. Completing an upload writes the object and deletes these rows in one
-- transaction, queueing the parts' blobs as garbage; so does aborting, or expiring, one.
CREATE TABLE multipart_uploads (
    id            TEXT COLLATE "C" PRIMARY KEY,
    bucket_id     TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    object_key    TEXT COLLATE "C" NOT NULL,
    content_type  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
-- ListMultipartUploads: a bucket's uploads by key, then by age.
CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket_id, object_key, created_at, id);
-- Expiry of abandoned uploads.
CREATE INDEX multipart_uploads_by_age ON multipart_uploads (created_at);

CREATE TABLE multipart_parts (
    upload_id     TEXT COLLATE "C" NOT NULL REFERENCES multipart_uploads (id) ON DELETE CASCADE,
    part_number   INTEGER NOT NULL,
    blob_id       TEXT COLLATE "C" NOT NULL,
    size_bytes    BIGINT NOT NULL,
    etag          TEXT NOT NULL,          -- hex MD5 of the part
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
-- The orphan sweep asks whether a blob is a part's.
CREATE INDEX multipart_parts_by_blob ON multipart_parts (blob_id);
