-- A version number per project that changes with every committed change to its buckets: a
-- create, a patch (tags, public, storage class), a soft delete or restore, a purge, and every
-- object write or delete (they update the bucket's usage in the same transaction). Caches of a
-- project's listings compare it with the version they were filled at (see the API's list cache).
--
-- Triggers rather than explicit statements, so that no write path can forget to bump it, the
-- admin commands and any other process writing the file included. (PostgreSQL has the same
-- triggers, written as a function; its migrations will say so in its own dialect.)

ALTER TABLE projects ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER buckets_insert_data_version AFTER INSERT ON buckets
BEGIN
    UPDATE projects SET data_version = data_version + 1 WHERE id = NEW.project_id;
END;

CREATE TRIGGER buckets_update_data_version AFTER UPDATE ON buckets
BEGIN
    UPDATE projects SET data_version = data_version + 1 WHERE id = NEW.project_id;
END;

CREATE TRIGGER buckets_delete_data_version AFTER DELETE ON buckets
BEGIN
    UPDATE projects SET data_version = data_version + 1 WHERE id = OLD.project_id;
END;
