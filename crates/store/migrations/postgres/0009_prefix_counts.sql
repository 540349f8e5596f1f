-- Bucket counts per dimension and name prefix, so that the total of a prefix filter (alone or
-- with a region, a tag, or both) adds up a short range of rows instead of counting every match
-- (`metadata::counts`). At `level` L a bucket is counted under the first L characters of its
-- name (all of it when shorter), at levels 4, 8 and 16; its dimensions are those of
-- `bucket_counts` plus each tag's with the region (`region:R&tag:K`, `region:R&tagv:K=V`).
CREATE TABLE bucket_counts_by_prefix (
    project_id  TEXT COLLATE "C" NOT NULL,
    dimension   TEXT COLLATE "C" NOT NULL,
    level       BIGINT NOT NULL,
    prefix      TEXT COLLATE "C" NOT NULL,
    live        BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (project_id, dimension, level, prefix)
);

-- The counts of the buckets already there (purged buckets have no rows left to count).
INSERT INTO bucket_counts_by_prefix (project_id, dimension, level, prefix, live, deleted)
WITH levels (level) AS (VALUES (4), (8), (16)),
counted (project_id, dimension, name, live) AS (
    SELECT project_id, 'all', name, CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END FROM buckets
    UNION ALL
    SELECT project_id, 'region:' || region, name, CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END FROM buckets
    UNION ALL
    SELECT project_id, 'tag:' || tag_key, name, CASE WHEN live THEN 1 ELSE 0 END FROM bucket_tags
    UNION ALL
    SELECT project_id, 'tagv:' || tag_key || '=' || tag_value, name, CASE WHEN live THEN 1 ELSE 0 END FROM bucket_tags
    UNION ALL
    SELECT project_id, 'region:' || region || '&tag:' || tag_key, name, CASE WHEN live THEN 1 ELSE 0 END FROM bucket_tags
    UNION ALL
    SELECT project_id, 'region:' || region || '&tagv:' || tag_key || '=' || tag_value, name,
        CASE WHEN live THEN 1 ELSE 0 END
    FROM bucket_tags
)
SELECT c.project_id, c.dimension, l.level, substr(c.name, 1, l.level), SUM(c.live), SUM(1 - c.live)
FROM counted c CROSS JOIN levels l
GROUP BY c.project_id, c.dimension, l.level, substr(c.name, 1, l.level);
