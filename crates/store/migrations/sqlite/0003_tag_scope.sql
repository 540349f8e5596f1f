-- Combined filters (a tag with a region and/or a name prefix) are counted through one covering
-- index, without a join per row: each tag row carries its bucket's region and name, which never
-- change after creation.
ALTER TABLE bucket_tags ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE bucket_tags ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE bucket_tags SET
    region = (SELECT b.region FROM buckets b WHERE b.id = bucket_tags.bucket_id),
    name = (SELECT b.name FROM buckets b WHERE b.id = bucket_tags.bucket_id);
CREATE INDEX bucket_tags_key_scope ON bucket_tags (project_id, tag_key, region, name, live, created_at, bucket_id);
CREATE INDEX bucket_tags_value_scope
    ON bucket_tags (project_id, tag_key, tag_value, region, name, live, created_at, bucket_id);
