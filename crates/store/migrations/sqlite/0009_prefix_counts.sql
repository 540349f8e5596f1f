-- Bucket counts per dimension and name prefix, so that the total of a prefix filter (alone or
-- with a region, a tag, or both) adds up a short range of rows instead of counting every match
-- (`metadata::counts`). At `level` L a bucket is counted under the first L characters of its
-- name (all of it when shorter), at levels 4, 8 and 16; its dimensions are those of
-- `bucket_counts` plus each tag's with the region (`region:R&tag:K`, `region:R&tagv:K=V`).
CREATE TABLE bucket_counts_by_prefix (
    project_id  TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    level       BIGINT NOT NULL,
    prefix      TEXT NOT NULL,
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension, level, prefix)
) WITHOUT ROWID;

-- The counts of the buckets already there (purged buckets have no rows left to count).
INSERT INTO bucket_counts_by_prefix (project_id, dimension, level, prefix, live, deleted)
WITH levels (level) AS (VALUES (4), (8), (16)),
counted (project_id, dimension, name, live) AS (
    SELECT project_id, 'all', name, deleted_at IS NULL FROM buckets
    UNION ALL
    SELECT project_id, 'region:' || region, name, deleted_at IS NULL FROM buckets
    UNION ALL
    SELECT project_id, 'tag:' || tag_key, name, live FROM bucket_tags
    UNION ALL
    SELECT project_id, 'tagv:' || tag_key || '=' || tag_value, name, live FROM bucket_tags
    UNION ALL
    SELECT project_id, 'region:' || region || '&tag:' || tag_key, name, live FROM bucket_tags
    UNION ALL
    SELECT project_id, 'region:' || region || '&tagv:' || tag_key || '=' || tag_value, name, live
    FROM bucket_tags
)
SELECT c.project_id, c.dimension, l.level, substr(c.name, 1, l.level), SUM(c.live), SUM(NOT c.live)
FROM counted c CROSS JOIN levels l
GROUP BY c.project_id, c.dimension, l.level, substr(c.name, 1, l.level);
