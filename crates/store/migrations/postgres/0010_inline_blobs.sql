-- Blobs kept in the metadata database instead of the blob store: the bytes of small objects
-- (up to `MAX_INLINE_BLOB_BYTES`, 4 KiB), written in the same transaction as the object's row,
-- so that a small upload costs no file (or S3 object) of its own and no fsync beyond the
-- commit's. An object names its blob by id either way; a blob id found here is read from here.
-- Such a blob goes the way of every blob: queued as garbage when its object is replaced,
-- deleted or purged, and removed with the queue entry by the garbage collector.
CREATE TABLE inline_blobs (
    blob_id     TEXT PRIMARY KEY,
    bytes       BYTEA NOT NULL
);
