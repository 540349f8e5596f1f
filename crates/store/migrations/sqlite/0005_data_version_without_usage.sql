-- The data version no longer moves when only a bucket's usage changes. Object writes update
-- `buckets.size_bytes` and `object_count` all day; bumping one row per project for each would
-- serialise a project's uploads on a shared database, and would invalidate every cached page
-- of the project at each upload. Listings now read usage live (`MetadataStore::bucket_usage`);
-- the version tracks the rest: creates, field and tag changes, soft deletes, restores, purges.

DROP TRIGGER buckets_update_data_version;

CREATE TRIGGER buckets_update_data_version
AFTER UPDATE OF name, region, storage_class, public, tags, created_at, deleted_at, purge_at ON buckets
BEGIN
    UPDATE projects SET data_version = data_version + 1 WHERE id = NEW.project_id;
END;
