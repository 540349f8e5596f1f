//! The statements of a write transaction in SQLite ([`WriteTx`]); the sequences that use them
//! are `metadata::writes`. A write transaction holds SQLite's write lock from its first
//! statement (`BEGIN IMMEDIATE`), so every read in it is as good as locked.

use super::backend;
use crate::StoreResult;
use crate::metadata::ApiKeyRecord;
use crate::metadata::counts::{self, Tally};
use crate::metadata::rows::{self, BUCKET_COLUMNS, KEY_COLUMNS, OBJECT_COLUMNS, PART_COLUMNS, UPLOAD_COLUMNS};
use crate::metadata::writes::{WriteTx, tags_json};
use async_trait::async_trait;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{ApiKeyId, BlobId, Bucket, BucketId, Object, ObjectKey, Project, ProjectId, Timestamp, UploadId};
use sqlx::{QueryBuilder, Sqlite, Transaction};

/// Rows per multi-row INSERT: 500 buckets of 9 values stay far below SQLite's limit of 32,766
/// bound values.
const ROWS_PER_INSERT: usize = 500;

/// One write transaction.
pub(super) struct Write(pub(super) Transaction<'static, Sqlite>);

fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl WriteTx for Write {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.0.commit().await.map_err(backend)
    }

    async fn insert_buckets(&mut self, buckets: &[Bucket]) -> StoreResult<u64> {
        let mut inserted = 0;
        for chunk in buckets.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO buckets (id, project_id, name, region, storage_class, public, tags, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, b| {
                row.push_bind(b.id.as_str())
                    .push_bind(b.project_id.as_str())
                    .push_bind(b.name.as_str())
                    .push_bind(b.region.as_str())
                    .push_bind(b.storage_class.as_str())
                    .push_bind(b.public)
                    .push_bind(tags_json(&b.tags))
                    .push_bind(b.created_at.unix_seconds())
                    .push_bind(b.created_at.unix_seconds());
            });
            insert.push(" ON CONFLICT (name) DO NOTHING");
            inserted += insert
                .build()
                .execute(&mut *self.0)
                .await
                .map_err(backend)?
                .rows_affected();
        }
        Ok(inserted)
    }

    async fn insert_tags(&mut self, buckets: &[Bucket]) -> StoreResult<()> {
        let tags: Vec<_> = buckets
            .iter()
            .flat_map(|b| b.tags.iter().map(move |(k, v)| (b, k, v)))
            .collect();
        for chunk in tags.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live, region, name) ",
            );
            insert.push_values(chunk, |mut row, (b, k, v)| {
                row.push_bind(b.id.as_str())
                    .push_bind(b.project_id.as_str())
                    .push_bind(k.as_str())
                    .push_bind(v.as_str())
                    .push_bind(b.created_at.unix_seconds())
                    .push_bind(!b.is_deleted())
                    .push_bind(b.region.as_str())
                    .push_bind(b.name.as_str());
            });
            insert.build().execute(&mut *self.0).await.map_err(backend)?;
        }
        Ok(())
    }

    async fn delete_tags(&mut self, bucket: &BucketId) -> StoreResult<()> {
        sqlx::query("DELETE FROM bucket_tags WHERE bucket_id = ?")
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn lock_bucket(&mut self, project: &ProjectId, bucket: &BucketId) -> StoreResult<Option<Bucket>> {
        let row = sqlx::query(&format!(
            "SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.id = ? AND b.project_id = ?"
        ))
        .bind(bucket.as_str())
        .bind(project.as_str())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::bucket).transpose()
    }

    async fn update_bucket_fields(&mut self, b: &Bucket, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET tags = ?, public = ?, storage_class = ?, updated_at = ? WHERE id = ?")
            .bind(tags_json(&b.tags))
            .bind(b.public)
            .bind(b.storage_class.as_str())
            .bind(now.unix_seconds())
            .bind(b.id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn set_bucket_deleted(
        &mut self,
        bucket: &BucketId,
        deleted: Option<(Timestamp, Timestamp)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET deleted_at = ?, purge_at = ?, updated_at = ? WHERE id = ?")
            .bind(deleted.map(|(at, _)| at.unix_seconds()))
            .bind(deleted.map(|(_, purge)| purge.unix_seconds()))
            .bind(now.unix_seconds())
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE bucket_tags SET live = ? WHERE bucket_id = ?")
            .bind(deleted.is_none())
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn write_counts(&mut self, tally: &Tally) -> StoreResult<()> {
        for (project, dimension, delta) in tally.totals() {
            sqlx::query(
                "INSERT INTO bucket_counts (project_id, dimension, live, deleted) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (project_id, dimension) DO UPDATE \
                 SET live = bucket_counts.live + excluded.live, deleted = bucket_counts.deleted + excluded.deleted",
            )
            .bind(project)
            .bind(dimension)
            .bind(delta.live)
            .bind(delta.deleted)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        }
        for (project, dimension, day, delta) in tally.days() {
            sqlx::query(
                "INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (project_id, dimension, day) DO UPDATE \
                 SET live = bucket_counts_by_day.live + excluded.live, \
                     deleted = bucket_counts_by_day.deleted + excluded.deleted",
            )
            .bind(project)
            .bind(dimension)
            .bind(day)
            .bind(delta.live)
            .bind(delta.deleted)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        }
        // The counts by prefix are many rows per bucket: one statement per chunk of them.
        let prefixes: Vec<_> = tally.prefixes().collect();
        for chunk in prefixes.chunks(ROWS_PER_INSERT) {
            counts::prefix_counts_upsert::<Sqlite>(chunk)
                .build()
                .execute(&mut *self.0)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn purge_bucket(&mut self, bucket: &BucketId, now: Timestamp) -> StoreResult<bool> {
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT o.blob_id, ? FROM objects o \
             JOIN buckets b ON b.id = o.bucket_id \
             WHERE o.bucket_id = ? AND b.purge_at IS NOT NULL AND b.purge_at <= ? ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(bucket.as_str())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT p.blob_id, ? FROM multipart_parts p \
             JOIN multipart_uploads u ON u.id = p.upload_id JOIN buckets b ON b.id = u.bucket_id \
             WHERE u.bucket_id = ? AND b.purge_at IS NOT NULL AND b.purge_at <= ? ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(bucket.as_str())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        let done = sqlx::query("DELETE FROM buckets WHERE id = ? AND purge_at IS NOT NULL AND purge_at <= ?")
            .bind(bucket.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn lock_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        super::reads::object(&mut *self.0, bucket, key).await
    }

    async fn upsert_object(&mut self, o: &Object) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO objects ({OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (bucket_id, object_key) DO UPDATE SET blob_id = excluded.blob_id, \
             size_bytes = excluded.size_bytes, etag = excluded.etag, content_type = excluded.content_type, \
             last_modified = excluded.last_modified"
        ))
        .bind(o.bucket_id.as_str())
        .bind(o.key.as_str())
        .bind(o.blob_id.as_str())
        .bind(size_i64(o.size_bytes))
        .bind(&o.etag)
        .bind(&o.content_type)
        .bind(o.last_modified.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn delete_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<()> {
        sqlx::query("DELETE FROM objects WHERE bucket_id = ? AND object_key = ?")
            .bind(bucket.as_str())
            .bind(key.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn adjust_usage(&mut self, bucket: &BucketId, bytes: i64, objects: i64) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET size_bytes = size_bytes + ?, object_count = object_count + ? WHERE id = ?")
            .bind(bytes)
            .bind(objects)
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn queue_garbage(&mut self, blob: &BlobId, now: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO blob_garbage (blob_id, queued_at) VALUES (?, ?) ON CONFLICT (blob_id) DO NOTHING")
            .bind(blob.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn forget_garbage(&mut self, blobs: &[BlobId]) -> StoreResult<()> {
        for blob in blobs {
            sqlx::query("DELETE FROM blob_garbage WHERE blob_id = ?")
                .bind(blob.as_str())
                .execute(&mut *self.0)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn upsert_garbage_hold(&mut self, holder: &str, until: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO garbage_holds (holder, until) VALUES (?, ?) ON CONFLICT (holder) DO UPDATE SET until = excluded.until")
            .bind(holder)
            .bind(until.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete_garbage_hold(&mut self, holder: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM garbage_holds WHERE holder = ?")
            .bind(holder)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_upload(&mut self, u: &MultipartUpload) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
        ))
        .bind(u.id.as_str())
        .bind(u.bucket_id.as_str())
        .bind(u.key.as_str())
        .bind(&u.content_type)
        .bind(u.initiated.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn lock_upload(&mut self, id: &UploadId) -> StoreResult<Option<MultipartUpload>> {
        let row = sqlx::query(&format!("SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::upload).transpose()
    }

    async fn upload_parts(&mut self, id: &UploadId) -> StoreResult<Vec<UploadedPart>> {
        let found = sqlx::query(&format!(
            "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = ? ORDER BY part_number"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *self.0)
        .await
        .map_err(backend)?;
        found.iter().map(rows::part).collect()
    }

    async fn upsert_part(&mut self, upload: &UploadId, p: &UploadedPart) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO multipart_parts (upload_id, {PART_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id, \
             size_bytes = excluded.size_bytes, etag = excluded.etag, created_at = excluded.created_at"
        ))
        .bind(upload.as_str())
        .bind(i32::try_from(p.number).unwrap_or(i32::MAX))
        .bind(p.blob_id.as_str())
        .bind(size_i64(p.size_bytes))
        .bind(&p.etag)
        .bind(p.last_modified.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn remove_upload(&mut self, id: &UploadId, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT blob_id, ? FROM multipart_parts \
             WHERE upload_id = ? ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(id.as_str())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query("DELETE FROM multipart_uploads WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_project(&mut self, p: &Project) -> StoreResult<bool> {
        let done =
            sqlx::query("INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
                .bind(p.id.as_str())
                .bind(p.name.as_str())
                .bind(p.created_at.unix_seconds())
                .execute(&mut *self.0)
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_api_key(&mut self, record: &ApiKeyRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at, s3_secret) \
             SELECT ?, id, ?, ?, ?, NULL, ? FROM projects WHERE id = ?",
        )
        .bind(record.id.as_str())
        .bind(record.hash.0.to_vec())
        .bind(record.scopes.to_string())
        .bind(record.created_at.unix_seconds())
        .bind(record.s3_secret.as_deref())
        .bind(record.project_id.as_str())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_api_key(&mut self, id: &ApiKeyId, now: Timestamp) -> StoreResult<Option<ApiKeyRecord>> {
        sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now.unix_seconds())
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::api_key).transpose()
    }

    async fn keep_secret(&mut self, name: &str, candidate: &[u8; 32], now: Timestamp) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate.to_vec())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&mut *self.0)
            .await
            .map_err(backend)
    }
}
