-- Records of PostgreSQL's first schema version (5), written right after migration 0005 by
-- tests/upgrades.rs, the same as SQLite's fixtures 0001 and 0002: two
-- projects, a live and a revoked key, buckets live and soft-deleted with tags, and their counts
-- (as the code of that version kept them).
INSERT INTO projects (id, name, created_at) VALUES
    ('prj_upgrade001', 'upgraded', 1700000000),
    ('prj_upgrade002', 'neighbour', 1700000001);
INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at) VALUES
    ('key_upgrade001', 'prj_upgrade001', '\x0101010101010101010101010101010101010101010101010101010101010101'::bytea, 'storage:read storage:write', 1700000010, NULL),
    ('key_upgrade002', 'prj_upgrade001', '\x0202020202020202020202020202020202020202020202020202020202020202'::bytea, 'storage:admin', 1700000011, 1700000500);
INSERT INTO buckets (id, project_id, name, region, storage_class, public, tags, created_at, updated_at, deleted_at, purge_at) VALUES
    ('bkt_upgrade001', 'prj_upgrade001', 'logs-eu', 'eu-west-1', 'STANDARD', false, '{"env":"prod","team":"data"}', 1700000100, 1700000150, NULL, NULL),
    ('bkt_upgrade002', 'prj_upgrade001', 'assets-us', 'us-east-1', 'INFREQUENT', true, '{}', 1700086500, 1700086500, NULL, NULL),
    ('bkt_upgrade003', 'prj_upgrade001', 'old-stuff', 'us-east-1', 'GLACIER', false, '{"env":"dev"}', 1700000200, 1700000300, 1700000300, 1702592300),
    ('bkt_upgrade004', 'prj_upgrade002', 'next-door', 'us-east-1', 'STANDARD', false, '{"env":"prod"}', 1700000400, 1700000400, NULL, NULL);
INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live, region, name) VALUES
    ('bkt_upgrade001', 'prj_upgrade001', 'env', 'prod', 1700000100, true, 'eu-west-1', 'logs-eu'),
    ('bkt_upgrade001', 'prj_upgrade001', 'team', 'data', 1700000100, true, 'eu-west-1', 'logs-eu'),
    ('bkt_upgrade003', 'prj_upgrade001', 'env', 'dev', 1700000200, false, 'us-east-1', 'old-stuff'),
    ('bkt_upgrade004', 'prj_upgrade002', 'env', 'prod', 1700000400, true, 'us-east-1', 'next-door');
-- Every bucket counts in `all` and its region; each tag in `tag:K` and `tagv:K=V`.
CREATE TEMPORARY VIEW fixture_dimensions AS
    SELECT project_id, 'all' AS dimension, created_at, deleted_at FROM buckets
    UNION ALL SELECT project_id, 'region:' || region, created_at, deleted_at FROM buckets
    UNION ALL SELECT b.project_id, 'tag:' || t.tag_key, b.created_at, b.deleted_at
        FROM bucket_tags t JOIN buckets b ON b.id = t.bucket_id
    UNION ALL SELECT b.project_id, 'tagv:' || t.tag_key || '=' || t.tag_value, b.created_at, b.deleted_at
        FROM bucket_tags t JOIN buckets b ON b.id = t.bucket_id;
INSERT INTO bucket_counts (project_id, dimension, live, deleted)
    SELECT project_id, dimension, COUNT(*) FILTER (WHERE deleted_at IS NULL), COUNT(*) FILTER (WHERE deleted_at IS NOT NULL)
    FROM fixture_dimensions GROUP BY project_id, dimension;
INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted)
    SELECT project_id, dimension, created_at / 86400, COUNT(*) FILTER (WHERE deleted_at IS NULL), COUNT(*) FILTER (WHERE deleted_at IS NOT NULL)
    FROM fixture_dimensions GROUP BY project_id, dimension, created_at / 86400;
DROP VIEW fixture_dimensions;
INSERT INTO server_secrets (name, value, created_at) VALUES
    ('fixture-secret', '\x0303030303030303030303030303030303030303030303030303030303030303'::bytea, 1700000000);

-- Objects of schema version 2, their buckets' usage, and a blob queued as garbage.
INSERT INTO objects (bucket_id, object_key, blob_id, size_bytes, etag, content_type, last_modified) VALUES
    ('bkt_upgrade001', 'reports/2023.csv', 'upgradeblob000000000000001', 11, '5eb63bbbe01eeed093cb22bb8f5acdc3', 'text/csv', 1700000600),
    ('bkt_upgrade001', 'reports/2024.csv', 'upgradeblob000000000000002', 2048, '0f343b0931126a20f133d67c2b018a3b', 'text/csv', 1700000700),
    ('bkt_upgrade002', 'logo.png', 'upgradeblob000000000000003', 5, '5d41402abc4b2a76b9719d911017c592', 'image/png', 1700086600);
UPDATE buckets SET size_bytes = 2059, object_count = 2 WHERE id = 'bkt_upgrade001';
UPDATE buckets SET size_bytes = 5, object_count = 1 WHERE id = 'bkt_upgrade002';
INSERT INTO blob_garbage (blob_id, queued_at) VALUES ('upgradeblob000000000000g01', 1700000650);
