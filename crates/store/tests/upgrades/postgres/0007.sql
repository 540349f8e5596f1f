-- A multipart upload in progress (schema version 7) with two parts.
INSERT INTO multipart_uploads (id, bucket_id, object_key, content_type, created_at) VALUES
    ('upl_upgrade001', 'bkt_upgrade001', 'big/archive.tar', 'application/x-tar', 1700002000);
INSERT INTO multipart_parts (upload_id, part_number, blob_id, size_bytes, etag, created_at) VALUES
    ('upl_upgrade001', 1, 'upgradeblob000000000000p01', 5242880, '11111111111111111111111111111111', 1700002010),
    ('upl_upgrade001', 2, 'upgradeblob000000000000p02', 1024, '22222222222222222222222222222222', 1700002020);
