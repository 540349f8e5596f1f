-- Objects of schema version 2, their buckets' usage, and a blob queued as garbage.
INSERT INTO objects (bucket_id, object_key, blob_id, size_bytes, etag, content_type, last_modified) VALUES
    ('bkt_upgrade001', 'reports/2023.csv', 'upgradeblob000000000000001', 11, '5eb63bbbe01eeed093cb22bb8f5acdc3', 'text/csv', 1700000600),
    ('bkt_upgrade001', 'reports/2024.csv', 'upgradeblob000000000000002', 2048, '0f343b0931126a20f133d67c2b018a3b', 'text/csv', 1700000700),
    ('bkt_upgrade002', 'logo.png', 'upgradeblob000000000000003', 5, '5d41402abc4b2a76b9719d911017c592', 'image/png', 1700086600);
UPDATE buckets SET size_bytes = 2059, object_count = 2 WHERE id = 'bkt_upgrade001';
UPDATE buckets SET size_bytes = 5, object_count = 1 WHERE id = 'bkt_upgrade002';
INSERT INTO blob_garbage (blob_id, queued_at) VALUES ('upgradeblob000000000000g01', 1700000650);
