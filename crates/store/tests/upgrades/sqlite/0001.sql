-- Records of schema version 1, written right after migration 0001 by tests/upgrades.rs: two
-- projects, a live and a revoked key, buckets live and soft-deleted with tags, and their counts
-- (as the code of that version kept them).
INSERT INTO projects (id, name, created_at) VALUES
    ('prj_upgrade001', 'upgraded', 1700000000),
    ('prj_upgrade002', 'neighbour', 1700000001);
INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at) VALUES
    ('key_upgrade001', 'prj_upgrade001', X'0101010101010101010101010101010101010101010101010101010101010101', 'storage:read storage:write', 1700000010, NULL),
    ('key_upgrade002', 'prj_upgrade001', X'0202020202020202020202020202020202020202020202020202020202020202', 'storage:admin', 1700000011, 1700000500);
INSERT INTO buckets (id, project_id, name, region, storage_class, public, tags, created_at, updated_at, deleted_at, purge_at) VALUES
    ('bkt_upgrade001', 'prj_upgrade001', 'logs-eu', 'eu-west-1', 'STANDARD', 0, '{"env":"prod","team":"data"}', 1700000100, 1700000150, NULL, NULL),
    ('bkt_upgrade002', 'prj_upgrade001', 'assets-us', 'us-east-1', 'INFREQUENT', 1, '{}', 1700086500, 1700086500, NULL, NULL),
    ('bkt_upgrade003', 'prj_upgrade001', 'old-stuff', 'us-east-1', 'GLACIER', 0, '{"env":"dev"}', 1700000200, 1700000300, 1700000300, 1702592300),
    ('bkt_upgrade004', 'prj_upgrade002', 'next-door', 'us-east-1', 'STANDARD', 0, '{"env":"prod"}', 1700000400, 1700000400, NULL, NULL);
INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live) VALUES
    ('bkt_upgrade001', 'prj_upgrade001', 'env', 'prod', 1700000100, 1),
    ('bkt_upgrade001', 'prj_upgrade001', 'team', 'data', 1700000100, 1),
    ('bkt_upgrade003', 'prj_upgrade001', 'env', 'dev', 1700000200, 0),
    ('bkt_upgrade004', 'prj_upgrade002', 'env', 'prod', 1700000400, 1);
-- Every bucket counts in `all` and its region; each tag in `tag:K` and `tagv:K=V`.
CREATE TEMP VIEW fixture_dimensions AS
    SELECT project_id, 'all' AS dimension, created_at, deleted_at FROM buckets
    UNION ALL SELECT project_id, 'region:' || region, created_at, deleted_at FROM buckets
    UNION ALL SELECT b.project_id, 'tag:' || t.tag_key, b.created_at, b.deleted_at
        FROM bucket_tags t JOIN buckets b ON b.id = t.bucket_id
    UNION ALL SELECT b.project_id, 'tagv:' || t.tag_key || '=' || t.tag_value, b.created_at, b.deleted_at
        FROM bucket_tags t JOIN buckets b ON b.id = t.bucket_id;
INSERT INTO bucket_counts (project_id, dimension, live, deleted)
    SELECT project_id, dimension, SUM(deleted_at IS NULL), SUM(deleted_at IS NOT NULL)
    FROM fixture_dimensions GROUP BY project_id, dimension;
INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted)
    SELECT project_id, dimension, created_at / 86400, SUM(deleted_at IS NULL), SUM(deleted_at IS NOT NULL)
    FROM fixture_dimensions GROUP BY project_id, dimension, created_at / 86400;
DROP VIEW fixture_dimensions;
INSERT INTO server_secrets (name, value, created_at) VALUES
    ('fixture-secret', X'0303030303030303030303030303030303030303030303030303030303030303', 1700000000);
