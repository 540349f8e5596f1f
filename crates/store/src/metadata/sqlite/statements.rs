//! The statements of a write transaction in SQLite ([`WriteTx`]); the sequences that use them
//! are `metadata::writes`. They run on the writer thread (`writer`), on its connection, inside
//! the batch's `BEGIN IMMEDIATE` transaction, which holds SQLite's write lock from its start, so
//! every read in them is as good as locked. Each sequence is a savepoint of its own: committing
//! it releases the savepoint; dropping it uncommitted rolls back to it.
//!
//! rusqlite runs a statement on the calling thread and is done when it returns, so these
//! `async` methods never wait: the writer completes a whole sequence in one poll.

use super::columns;
use super::errors::rusqlite_failure as failed;
use super::writer::Shared;
use crate::StoreResult;
use crate::metadata::ApiKeyRecord;
use crate::metadata::counts::{PREFIX_COUNTS_ON_CONFLICT, Tally};
use crate::metadata::rows::{self, BUCKET_COLUMNS, KEY_COLUMNS, OBJECT_COLUMNS, PART_COLUMNS, UPLOAD_COLUMNS};
use crate::metadata::writes::{WriteTx, tags_json};
use async_trait::async_trait;
use cloudnexus_core::bucket_json::RenderedBucket;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{ApiKeyId, BlobId, Bucket, BucketId, Object, ObjectKey, Project, ProjectId, Timestamp, UploadId};
use rusqlite::{Connection, OptionalExtension, Params, Row, params};
use std::sync::{MutexGuard, PoisonError};

/// One sequence's transaction: a savepoint inside the writer's batch.
pub(super) struct Write {
    connection: Shared,
    open: bool,
}

fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Write {
    /// Opens the sequence's savepoint (the batch's transaction is open).
    pub(super) fn begin(connection: &Shared) -> StoreResult<Self> {
        connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .execute_batch("SAVEPOINT write")
            .map_err(failed)?;
        Ok(Self {
            connection: connection.clone(),
            open: true,
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one statement (prepared once per connection); how many rows it changed.
    fn execute(&self, sql: &str, params: impl Params) -> StoreResult<usize> {
        let connection = self.connection();
        let mut statement = connection.prepare_cached(sql).map_err(failed)?;
        statement.execute(params).map_err(failed)
    }

    /// The first row of a query, if any, read by `read`.
    fn optional<C>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnOnce(&Row<'_>) -> rusqlite::Result<C>,
    ) -> StoreResult<Option<C>> {
        let connection = self.connection();
        let mut statement = connection.prepare_cached(sql).map_err(failed)?;
        statement.query_row(params, read).optional().map_err(failed)
    }
}

impl Drop for Write {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let connection = self.connection();
        // SQLite may already have given up the whole transaction (the writer then fails the
        // batch); otherwise undo this sequence alone, or everything if even that fails.
        if !connection.is_autocommit() && connection.execute_batch("ROLLBACK TO write; RELEASE write").is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl WriteTx for Write {
    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        self.connection().execute_batch("RELEASE write").map_err(failed)?;
        self.open = false;
        Ok(())
    }

    async fn insert_buckets(&mut self, buckets: &[Bucket]) -> StoreResult<u64> {
        let mut inserted = 0;
        for b in buckets {
            let rendered = RenderedBucket::of(b);
            inserted += self.execute(
                "INSERT INTO buckets (id, project_id, name, region, storage_class, public, tags, created_at, updated_at, \
                 listed_head, listed_tail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10) ON CONFLICT (name) DO NOTHING",
                params![
                    b.id.as_str(),
                    b.project_id.as_str(),
                    b.name.as_str(),
                    b.region.as_str(),
                    b.storage_class.as_str(),
                    b.public,
                    tags_json(&b.tags),
                    b.created_at.unix_seconds(),
                    rendered.head,
                    rendered.tail,
                ],
            )?;
        }
        Ok(inserted as u64)
    }

    async fn insert_tags(&mut self, buckets: &[Bucket]) -> StoreResult<()> {
        for b in buckets {
            for (k, v) in b.tags.iter() {
                self.execute(
                    "INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live, region, name) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        b.id.as_str(),
                        b.project_id.as_str(),
                        k.as_str(),
                        v.as_str(),
                        b.created_at.unix_seconds(),
                        !b.is_deleted(),
                        b.region.as_str(),
                        b.name.as_str(),
                    ],
                )?;
            }
        }
        Ok(())
    }

    async fn delete_tags(&mut self, bucket: &BucketId) -> StoreResult<()> {
        self.execute("DELETE FROM bucket_tags WHERE bucket_id = ?1", [bucket.as_str()])?;
        Ok(())
    }

    async fn lock_bucket(&mut self, project: &ProjectId, bucket: &BucketId) -> StoreResult<Option<Bucket>> {
        self.optional(
            &format!("SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.id = ?1 AND b.project_id = ?2"),
            [bucket.as_str(), project.as_str()],
            columns::bucket,
        )?
        .transpose()
    }

    async fn update_bucket_fields(&mut self, b: &Bucket, now: Timestamp) -> StoreResult<()> {
        let rendered = RenderedBucket::of(b);
        self.execute(
            "UPDATE buckets SET tags = ?1, public = ?2, storage_class = ?3, updated_at = ?4, listed_head = ?5, \
             listed_tail = ?6 WHERE id = ?7",
            params![
                tags_json(&b.tags),
                b.public,
                b.storage_class.as_str(),
                now.unix_seconds(),
                rendered.head,
                rendered.tail,
                b.id.as_str()
            ],
        )?;
        Ok(())
    }

    async fn set_bucket_deleted(&mut self, b: &Bucket, now: Timestamp) -> StoreResult<()> {
        let rendered = RenderedBucket::of(b);
        self.execute(
            "UPDATE buckets SET deleted_at = ?1, purge_at = ?2, updated_at = ?3, listed_head = ?4, listed_tail = ?5 \
             WHERE id = ?6",
            params![
                b.deleted_at.map(Timestamp::unix_seconds),
                b.purge_at.map(Timestamp::unix_seconds),
                now.unix_seconds(),
                rendered.head,
                rendered.tail,
                b.id.as_str(),
            ],
        )?;
        self.execute(
            "UPDATE bucket_tags SET live = ?1 WHERE bucket_id = ?2",
            params![!b.is_deleted(), b.id.as_str()],
        )?;
        Ok(())
    }

    async fn write_counts(&mut self, tally: &Tally) -> StoreResult<()> {
        for (project, dimension, delta) in tally.totals() {
            self.execute(
                "INSERT INTO bucket_counts (project_id, dimension, live, deleted) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (project_id, dimension) DO UPDATE \
                 SET live = bucket_counts.live + excluded.live, deleted = bucket_counts.deleted + excluded.deleted",
                params![project, dimension, delta.live, delta.deleted],
            )?;
        }
        for (project, dimension, day, delta) in tally.days() {
            self.execute(
                "INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (project_id, dimension, day) DO UPDATE \
                 SET live = bucket_counts_by_day.live + excluded.live, \
                     deleted = bucket_counts_by_day.deleted + excluded.deleted",
                params![project, dimension, day, delta.live, delta.deleted],
            )?;
        }
        // One prepared statement run per row: on this connection a run costs microseconds, so
        // there is nothing to gain from multi-row statements.
        let upsert = format!(
            "INSERT INTO bucket_counts_by_prefix (project_id, dimension, level, prefix, live, deleted) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) {PREFIX_COUNTS_ON_CONFLICT}"
        );
        for (project, dimension, level, prefix, delta) in tally.prefixes() {
            self.execute(
                &upsert,
                params![project, dimension, level, prefix, delta.live, delta.deleted],
            )?;
        }
        Ok(())
    }

    async fn purge_bucket(&mut self, bucket: &BucketId, now: Timestamp) -> StoreResult<bool> {
        let now = now.unix_seconds();
        self.execute(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT o.blob_id, ?1 FROM objects o \
             JOIN buckets b ON b.id = o.bucket_id \
             WHERE o.bucket_id = ?2 AND b.purge_at IS NOT NULL AND b.purge_at <= ?1 ON CONFLICT (blob_id) DO NOTHING",
            params![now, bucket.as_str()],
        )?;
        self.execute(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT p.blob_id, ?1 FROM multipart_parts p \
             JOIN multipart_uploads u ON u.id = p.upload_id JOIN buckets b ON b.id = u.bucket_id \
             WHERE u.bucket_id = ?2 AND b.purge_at IS NOT NULL AND b.purge_at <= ?1 ON CONFLICT (blob_id) DO NOTHING",
            params![now, bucket.as_str()],
        )?;
        let done = self.execute(
            "DELETE FROM buckets WHERE id = ?1 AND purge_at IS NOT NULL AND purge_at <= ?2",
            params![bucket.as_str(), now],
        )?;
        Ok(done > 0)
    }

    async fn lock_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        self.optional(
            &format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = ?1 AND object_key = ?2"),
            [bucket.as_str(), key.as_str()],
            columns::object,
        )?
        .map(rows::object_from_columns)
        .transpose()
    }

    async fn upsert_object(&mut self, o: &Object) -> StoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO objects ({OBJECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (bucket_id, object_key) DO UPDATE SET blob_id = excluded.blob_id, \
                 size_bytes = excluded.size_bytes, etag = excluded.etag, content_type = excluded.content_type, \
                 last_modified = excluded.last_modified, user_metadata = excluded.user_metadata, \
                 content_headers = excluded.content_headers"
            ),
            params![
                o.bucket_id.as_str(),
                o.key.as_str(),
                o.blob_id.as_str(),
                size_i64(o.size_bytes),
                o.etag,
                o.content_type,
                o.last_modified.unix_seconds(),
                o.user_metadata.to_stored_json(),
                o.content_headers.to_stored_json(),
            ],
        )?;
        Ok(())
    }

    async fn delete_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<()> {
        self.execute(
            "DELETE FROM objects WHERE bucket_id = ?1 AND object_key = ?2",
            [bucket.as_str(), key.as_str()],
        )?;
        Ok(())
    }

    async fn adjust_usage(&mut self, bucket: &BucketId, bytes: i64, objects: i64) -> StoreResult<()> {
        self.execute(
            "UPDATE buckets SET size_bytes = size_bytes + ?1, object_count = object_count + ?2 WHERE id = ?3",
            params![bytes, objects, bucket.as_str()],
        )?;
        Ok(())
    }

    async fn queue_garbage(&mut self, blob: &BlobId, now: Timestamp) -> StoreResult<()> {
        self.execute(
            "INSERT INTO blob_garbage (blob_id, queued_at) VALUES (?1, ?2) ON CONFLICT (blob_id) DO NOTHING",
            params![blob.as_str(), now.unix_seconds()],
        )?;
        Ok(())
    }

    async fn insert_inline_blob(&mut self, blob: &BlobId, bytes: &[u8]) -> StoreResult<()> {
        self.execute(
            "INSERT INTO inline_blobs (blob_id, bytes) VALUES (?1, ?2)",
            params![blob.as_str(), bytes],
        )?;
        Ok(())
    }

    async fn forget_garbage(&mut self, blobs: &[BlobId]) -> StoreResult<()> {
        for blob in blobs {
            self.execute("DELETE FROM inline_blobs WHERE blob_id = ?1", [blob.as_str()])?;
            self.execute("DELETE FROM blob_garbage WHERE blob_id = ?1", [blob.as_str()])?;
        }
        Ok(())
    }

    async fn upsert_garbage_hold(&mut self, holder: &str, until: Timestamp) -> StoreResult<()> {
        self.execute(
            "INSERT INTO garbage_holds (holder, until) VALUES (?1, ?2) ON CONFLICT (holder) DO UPDATE SET until = excluded.until",
            params![holder, until.unix_seconds()],
        )?;
        Ok(())
    }

    async fn delete_garbage_hold(&mut self, holder: &str) -> StoreResult<()> {
        self.execute("DELETE FROM garbage_holds WHERE holder = ?1", [holder])?;
        Ok(())
    }

    async fn insert_upload(&mut self, u: &MultipartUpload) -> StoreResult<()> {
        self.execute(
            &format!("INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                u.id.as_str(),
                u.bucket_id.as_str(),
                u.key.as_str(),
                u.content_type,
                u.initiated.unix_seconds(),
                u.user_metadata.to_stored_json(),
                u.content_headers.to_stored_json(),
            ],
        )?;
        Ok(())
    }

    async fn lock_upload(&mut self, id: &UploadId) -> StoreResult<Option<MultipartUpload>> {
        self.optional(
            &format!("SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE id = ?1"),
            [id.as_str()],
            columns::upload,
        )?
        .map(rows::upload_from_columns)
        .transpose()
    }

    async fn upload_parts(&mut self, id: &UploadId) -> StoreResult<Vec<UploadedPart>> {
        let found = {
            let connection = self.connection();
            let mut statement = connection
                .prepare_cached(&format!(
                    "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = ?1 ORDER BY part_number"
                ))
                .map_err(failed)?;
            statement
                .query_map([id.as_str()], columns::part)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(failed)?
        };
        found.into_iter().map(rows::part_from_columns).collect()
    }

    async fn upsert_part(&mut self, upload: &UploadId, p: &UploadedPart) -> StoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO multipart_parts (upload_id, {PART_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id, \
                 size_bytes = excluded.size_bytes, etag = excluded.etag, created_at = excluded.created_at"
            ),
            params![
                upload.as_str(),
                i32::try_from(p.number).unwrap_or(i32::MAX),
                p.blob_id.as_str(),
                size_i64(p.size_bytes),
                p.etag,
                p.last_modified.unix_seconds(),
            ],
        )?;
        Ok(())
    }

    async fn remove_upload(&mut self, id: &UploadId, now: Timestamp) -> StoreResult<()> {
        self.execute(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT blob_id, ?1 FROM multipart_parts \
             WHERE upload_id = ?2 ON CONFLICT (blob_id) DO NOTHING",
            params![now.unix_seconds(), id.as_str()],
        )?;
        self.execute("DELETE FROM multipart_uploads WHERE id = ?1", [id.as_str()])?;
        Ok(())
    }

    async fn insert_project(&mut self, p: &Project) -> StoreResult<bool> {
        let done = self.execute(
            "INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            params![p.id.as_str(), p.name.as_str(), p.created_at.unix_seconds()],
        )?;
        Ok(done > 0)
    }

    async fn insert_api_key(&mut self, record: &ApiKeyRecord) -> StoreResult<bool> {
        let done = self.execute(
            "INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at, s3_secret) \
             SELECT ?1, id, ?2, ?3, ?4, NULL, ?5 FROM projects WHERE id = ?6",
            params![
                record.id.as_str(),
                record.hash.0.as_slice(),
                record.scopes.to_string(),
                record.created_at.unix_seconds(),
                record.s3_secret.as_deref(),
                record.project_id.as_str(),
            ],
        )?;
        Ok(done > 0)
    }

    async fn revoke_api_key(&mut self, id: &ApiKeyId, now: Timestamp) -> StoreResult<Option<ApiKeyRecord>> {
        self.execute(
            "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![now.unix_seconds(), id.as_str()],
        )?;
        self.optional(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"),
            [id.as_str()],
            columns::api_key,
        )?
        .map(rows::api_key_from_columns)
        .transpose()
    }

    async fn keep_secret(&mut self, name: &str, candidate: &[u8; 32], now: Timestamp) -> StoreResult<Vec<u8>> {
        self.execute(
            "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            params![name, candidate.as_slice(), now.unix_seconds()],
        )?;
        self.optional("SELECT value FROM server_secrets WHERE name = ?1", [name], |row| {
            row.get(0)
        })?
        .ok_or(crate::StoreError::NotFound)
    }
}
