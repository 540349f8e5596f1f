-- User metadata and content headers (schema version 11) on an object and on the upload in
-- progress.
UPDATE objects SET user_metadata = '{"source":"upgrade-fixture"}',
    content_headers = '{"cache_control":"max-age=60","content_language":"fr"}'
    WHERE bucket_id = 'bkt_upgrade001' AND object_key = 'reports/2024.csv';
UPDATE multipart_uploads SET user_metadata = '{"mtime":"1700002000"}',
    content_headers = '{"content_disposition":"attachment"}' WHERE id = 'upl_upgrade001';
