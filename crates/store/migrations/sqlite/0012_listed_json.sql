-- Each bucket's JSON as a list page shows it, in the two pieces around its usage
-- (`cloudnexus_core::bucket_json::RenderedBucket`): written with every change of the bucket,
-- so that a page copies them instead of reading and writing every field. Rows written before
-- have none (NULL), and a page writes those from their fields, as it did before; the store
-- fills them in when it opens.
ALTER TABLE buckets ADD COLUMN listed_head TEXT;
ALTER TABLE buckets ADD COLUMN listed_tail TEXT;

-- The rows still without their JSON, for the store to find them when it opens.
CREATE INDEX buckets_unlisted ON buckets (id) WHERE listed_head IS NULL OR listed_tail IS NULL;

-- A change of a shown field by a writer that does not write the pieces (an older binary, a
-- hand-written UPDATE) clears them, so a page never shows what a bucket no longer is.
CREATE TRIGGER buckets_listed_stale
AFTER UPDATE OF id, name, region, storage_class, public, tags, created_at, deleted_at, purge_at ON buckets
WHEN NEW.listed_head IS OLD.listed_head AND NEW.listed_tail IS OLD.listed_tail
    AND (NEW.id IS NOT OLD.id OR NEW.name IS NOT OLD.name OR NEW.region IS NOT OLD.region
        OR NEW.storage_class IS NOT OLD.storage_class OR NEW.public IS NOT OLD.public
        OR NEW.tags IS NOT OLD.tags OR NEW.created_at IS NOT OLD.created_at
        OR NEW.deleted_at IS NOT OLD.deleted_at OR NEW.purge_at IS NOT OLD.purge_at)
BEGIN
    UPDATE buckets SET listed_head = NULL, listed_tail = NULL WHERE rowid = NEW.rowid;
END;
