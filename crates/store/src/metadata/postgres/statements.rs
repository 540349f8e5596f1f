//! The statements of a write transaction in PostgreSQL ([`WriteTx`]); the sequences that use
//! them are `metadata::writes`. Transactions run at READ COMMITTED: the reads that a sequence
//! relies on lock their rows (`FOR UPDATE`), so concurrent writes to one bucket take turns on
//! its row, and writes to different buckets run side by side.

use super::backend;
use crate::StoreResult;
use crate::metadata::ApiKeyRecord;
use crate::metadata::counts::{self, Tally};
use crate::metadata::rows::{self, BUCKET_COLUMNS, KEY_COLUMNS, OBJECT_COLUMNS, PART_COLUMNS, UPLOAD_COLUMNS};
use crate::metadata::writes::{WriteTx, tags_json};
use async_trait::async_trait;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{ApiKeyId, BlobId, Bucket, BucketId, Object, ObjectKey, Project, ProjectId, Timestamp, UploadId};
use sqlx::{Postgres, QueryBuilder, Transaction};

/// Rows per multi-row INSERT: 500 buckets of 9 values stay far below PostgreSQL's limit of
/// 65,535 bound values.
const ROWS_PER_INSERT: usize = 500;

/// One write transaction.
pub(super) struct Write(pub(super) Transaction<'static, Postgres>);

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
            let mut insert = QueryBuilder::<Postgres>::new(
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
            let mut insert = QueryBuilder::<Postgres>::new(
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
        sqlx::query("DELETE FROM bucket_tags WHERE bucket_id = $1")
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn lock_bucket(&mut self, project: &ProjectId, bucket: &BucketId) -> StoreResult<Option<Bucket>> {
        let row = sqlx::query(&format!(
            "SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.id = $1 AND b.project_id = $2 FOR UPDATE"
        ))
        .bind(bucket.as_str())
        .bind(project.as_str())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::bucket).transpose()
    }

    async fn update_bucket_fields(&mut self, b: &Bucket, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET tags = $1, public = $2, storage_class = $3, updated_at = $4 WHERE id = $5")
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

    async fn set_bucket_deleted(&mut self, b: &Bucket, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET deleted_at = $1, purge_at = $2, updated_at = $3 WHERE id = $4")
            .bind(b.deleted_at.map(Timestamp::unix_seconds))
            .bind(b.purge_at.map(Timestamp::unix_seconds))
            .bind(now.unix_seconds())
            .bind(b.id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE bucket_tags SET live = $1 WHERE bucket_id = $2")
            .bind(!b.is_deleted())
            .bind(b.id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn write_counts(&mut self, tally: &Tally) -> StoreResult<()> {
        for (project, dimension, delta) in tally.totals() {
            sqlx::query(
                "INSERT INTO bucket_counts (project_id, dimension, live, deleted) VALUES ($1, $2, $3, $4) \
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
                "INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted) VALUES ($1, $2, $3, $4, $5) \
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
            counts::prefix_counts_upsert::<Postgres>(chunk)
                .build()
                .execute(&mut *self.0)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn purge_bucket(&mut self, bucket: &BucketId, now: Timestamp) -> StoreResult<bool> {
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT o.blob_id, $1 FROM objects o \
             JOIN buckets b ON b.id = o.bucket_id \
             WHERE o.bucket_id = $2 AND b.purge_at IS NOT NULL AND b.purge_at <= $3 ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(bucket.as_str())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT p.blob_id, $1 FROM multipart_parts p \
             JOIN multipart_uploads u ON u.id = p.upload_id JOIN buckets b ON b.id = u.bucket_id \
             WHERE u.bucket_id = $2 AND b.purge_at IS NOT NULL AND b.purge_at <= $3 ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(bucket.as_str())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        let done = sqlx::query("DELETE FROM buckets WHERE id = $1 AND purge_at IS NOT NULL AND purge_at <= $2")
            .bind(bucket.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn lock_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        let row = sqlx::query(&format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = $1 AND object_key = $2 FOR UPDATE"
        ))
        .bind(bucket.as_str())
        .bind(key.as_str())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::object).transpose()
    }

    async fn upsert_object(&mut self, o: &Object) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO objects ({OBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (bucket_id, object_key) DO UPDATE SET blob_id = excluded.blob_id, \
             size_bytes = excluded.size_bytes, etag = excluded.etag, content_type = excluded.content_type, \
             last_modified = excluded.last_modified, user_metadata = excluded.user_metadata, \
             content_headers = excluded.content_headers"
        ))
        .bind(o.bucket_id.as_str())
        .bind(o.key.as_str())
        .bind(o.blob_id.as_str())
        .bind(size_i64(o.size_bytes))
        .bind(&o.etag)
        .bind(&o.content_type)
        .bind(o.last_modified.unix_seconds())
        .bind(o.user_metadata.to_stored_json())
        .bind(o.content_headers.to_stored_json())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn delete_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<()> {
        sqlx::query("DELETE FROM objects WHERE bucket_id = $1 AND object_key = $2")
            .bind(bucket.as_str())
            .bind(key.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn adjust_usage(&mut self, bucket: &BucketId, bytes: i64, objects: i64) -> StoreResult<()> {
        sqlx::query("UPDATE buckets SET size_bytes = size_bytes + $1, object_count = object_count + $2 WHERE id = $3")
            .bind(bytes)
            .bind(objects)
            .bind(bucket.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn queue_garbage(&mut self, blob: &BlobId, now: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO blob_garbage (blob_id, queued_at) VALUES ($1, $2) ON CONFLICT (blob_id) DO NOTHING")
            .bind(blob.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_inline_blob(&mut self, blob: &BlobId, bytes: &[u8]) -> StoreResult<()> {
        sqlx::query("INSERT INTO inline_blobs (blob_id, bytes) VALUES ($1, $2)")
            .bind(blob.as_str())
            .bind(bytes)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn forget_garbage(&mut self, blobs: &[BlobId]) -> StoreResult<()> {
        let ids: Vec<&str> = blobs.iter().map(BlobId::as_str).collect();
        sqlx::query("DELETE FROM inline_blobs WHERE blob_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        sqlx::query("DELETE FROM blob_garbage WHERE blob_id = ANY($1)")
            .bind(ids)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn upsert_garbage_hold(&mut self, holder: &str, until: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO garbage_holds (holder, until) VALUES ($1, $2) ON CONFLICT (holder) DO UPDATE SET until = excluded.until")
            .bind(holder)
            .bind(until.unix_seconds())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete_garbage_hold(&mut self, holder: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM garbage_holds WHERE holder = $1")
            .bind(holder)
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_upload(&mut self, u: &MultipartUpload) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(u.id.as_str())
        .bind(u.bucket_id.as_str())
        .bind(u.key.as_str())
        .bind(&u.content_type)
        .bind(u.initiated.unix_seconds())
        .bind(u.user_metadata.to_stored_json())
        .bind(u.content_headers.to_stored_json())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn lock_upload(&mut self, id: &UploadId) -> StoreResult<Option<MultipartUpload>> {
        let row = sqlx::query(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE id = $1 FOR UPDATE"
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::upload).transpose()
    }

    async fn upload_parts(&mut self, id: &UploadId) -> StoreResult<Vec<UploadedPart>> {
        let found = sqlx::query(&format!(
            "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = $1 ORDER BY part_number"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *self.0)
        .await
        .map_err(backend)?;
        found.iter().map(rows::part).collect()
    }

    async fn upsert_part(&mut self, upload: &UploadId, p: &UploadedPart) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO multipart_parts (upload_id, {PART_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
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
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT blob_id, $1 FROM multipart_parts \
             WHERE upload_id = $2 ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(id.as_str())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query("DELETE FROM multipart_uploads WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_project(&mut self, p: &Project) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
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
             SELECT $1, id, $2, $3, $4, NULL, $5 FROM projects WHERE id = $6",
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
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.unix_seconds())
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(backend)?;
        let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::api_key).transpose()
    }

    async fn keep_secret(&mut self, name: &str, candidate: &[u8; 32], now: Timestamp) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate.to_vec())
        .bind(now.unix_seconds())
        .execute(&mut *self.0)
        .await
        .map_err(backend)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *self.0)
            .await
            .map_err(backend)
    }
}
