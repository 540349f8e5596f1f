-- Each bucket's JSON as a list page shows it, in the two pieces around its usage
-- (`cloudnexus_core::bucket_json::RenderedBucket`): written with every change of the bucket,
-- so that a page copies them instead of reading and writing every field. Rows written before
-- have none (NULL), and a page writes those from their fields, as it did before; the store
-- fills them in when it opens. Adding a column without a default rewrites no row.
ALTER TABLE buckets ADD COLUMN listed_head TEXT, ADD COLUMN listed_tail TEXT;

-- The rows still without their JSON, for the store to find them when it opens.
CREATE INDEX buckets_unlisted ON buckets (id) WHERE listed_head IS NULL OR listed_tail IS NULL;

-- A change of a shown field by a writer that does not write the pieces (an older binary, a
-- hand-written UPDATE) clears them, so a page never shows what a bucket no longer is.
CREATE FUNCTION buckets_listed_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.listed_head IS NOT DISTINCT FROM OLD.listed_head
        AND NEW.listed_tail IS NOT DISTINCT FROM OLD.listed_tail
        AND (NEW.id, NEW.name, NEW.region, NEW.storage_class, NEW.public, NEW.tags, NEW.created_at,
             NEW.deleted_at, NEW.purge_at)
            IS DISTINCT FROM (OLD.id, OLD.name, OLD.region, OLD.storage_class, OLD.public, OLD.tags,
                              OLD.created_at, OLD.deleted_at, OLD.purge_at)
    THEN
        NEW.listed_head := NULL;
        NEW.listed_tail := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER buckets_listed_stale
BEFORE UPDATE OF id, name, region, storage_class, public, tags, created_at, deleted_at, purge_at ON buckets
FOR EACH ROW EXECUTE FUNCTION buckets_listed_stale();
