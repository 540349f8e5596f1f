//! Objects in SQLite: one row per key, the bucket's usage counters changed in the same
//! transaction, and replaced or deleted blobs queued in `blob_garbage` in that transaction too.

use super::{SqliteStore, backend};
use crate::metadata::object_listing::{self, KeyBatches, after_all_starting_with};
use crate::metadata::{ObjectListRequest, ObjectPage, PutConditions};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use cloudnexus_core::{BlobId, BucketId, Object, ObjectKey, ProjectId, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Row, Sqlite, Transaction};

const OBJECT_COLUMNS: &str = "bucket_id, object_key, blob_id, size_bytes, etag, content_type, last_modified";

fn object(row: &SqliteRow) -> StoreResult<Object> {
    let corrupt = |what: &str| StoreError::other(format!("stored object {what} does not parse"));
    let bucket: String = row.try_get("bucket_id").map_err(backend)?;
    let key: String = row.try_get("object_key").map_err(backend)?;
    let blob: String = row.try_get("blob_id").map_err(backend)?;
    let size: i64 = row.try_get("size_bytes").map_err(backend)?;
    Ok(Object {
        bucket_id: BucketId::parse(&bucket).map_err(|_| corrupt("bucket id"))?,
        key: ObjectKey::parse(&key).map_err(|_| corrupt("key"))?,
        blob_id: BlobId::parse(&blob).ok_or_else(|| corrupt("blob id"))?,
        size_bytes: u64::try_from(size).map_err(|_| corrupt("size"))?,
        etag: row.try_get("etag").map_err(backend)?,
        content_type: row.try_get("content_type").map_err(backend)?,
        last_modified: Timestamp::from_unix_seconds(row.try_get("last_modified").map_err(backend)?),
    })
}

/// Checks, inside a write transaction, that the bucket is the project's and live.
async fn live_bucket(tx: &mut Transaction<'_, Sqlite>, project: &ProjectId, bucket: &BucketId) -> StoreResult<()> {
    let deleted: Option<Option<i64>> =
        sqlx::query_scalar("SELECT deleted_at FROM buckets WHERE id = ? AND project_id = ?")
            .bind(bucket.as_str())
            .bind(project.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
    match deleted {
        None => Err(StoreError::NotFound),
        Some(Some(_)) => Err(StoreError::BucketDeleted),
        Some(None) => Ok(()),
    }
}

/// The object with `key`, read by `executor` (a write transaction or the read pool).
async fn find<'e, E>(executor: E, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(&format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = ? AND object_key = ?"
    ))
    .bind(bucket.as_str())
    .bind(key.as_str())
    .fetch_optional(executor)
    .await
    .map_err(backend)?;
    row.as_ref().map(object).transpose()
}

async fn adjust_usage(
    tx: &mut Transaction<'_, Sqlite>,
    bucket: &BucketId,
    bytes: i64,
    objects: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE buckets SET size_bytes = size_bytes + ?, object_count = object_count + ? WHERE id = ?")
        .bind(bytes)
        .bind(objects)
        .bind(bucket.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn queue_garbage(tx: &mut Transaction<'_, Sqlite>, blob: &BlobId, now: i64) -> StoreResult<()> {
    sqlx::query("INSERT INTO blob_garbage (blob_id, queued_at) VALUES (?, ?) ON CONFLICT (blob_id) DO NOTHING")
        .bind(blob.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) async fn put(
    store: &SqliteStore,
    project: &ProjectId,
    new: Object,
    conditions: &PutConditions,
) -> StoreResult<Option<BlobId>> {
    let mut tx = store.write_tx().await?;
    live_bucket(&mut tx, project, &new.bucket_id).await?;
    let existing = find(&mut *tx, &new.bucket_id, &new.key).await?;
    if !conditions.allow(existing.as_ref().map(|o| o.etag.as_str())) {
        return Err(StoreError::PreconditionFailed);
    }
    sqlx::query(&format!(
        "INSERT INTO objects ({OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (bucket_id, object_key) DO UPDATE SET blob_id = excluded.blob_id, \
         size_bytes = excluded.size_bytes, etag = excluded.etag, content_type = excluded.content_type, \
         last_modified = excluded.last_modified"
    ))
    .bind(new.bucket_id.as_str())
    .bind(new.key.as_str())
    .bind(new.blob_id.as_str())
    .bind(size_i64(new.size_bytes))
    .bind(&new.etag)
    .bind(&new.content_type)
    .bind(new.last_modified.unix_seconds())
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let (old_size, old_count) = existing.as_ref().map_or((0, 0), |o| (size_i64(o.size_bytes), 1));
    adjust_usage(
        &mut tx,
        &new.bucket_id,
        size_i64(new.size_bytes) - old_size,
        1 - old_count,
    )
    .await?;
    let replaced = existing.map(|o| o.blob_id);
    if let Some(blob) = &replaced {
        queue_garbage(&mut tx, blob, new.last_modified.unix_seconds()).await?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(replaced)
}

pub(super) async fn get(store: &SqliteStore, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
    find(&store.reader, bucket, key).await
}

pub(super) async fn delete(
    store: &SqliteStore,
    project: &ProjectId,
    bucket: &BucketId,
    key: &ObjectKey,
    now: Timestamp,
) -> StoreResult<Option<BlobId>> {
    let mut tx = store.write_tx().await?;
    live_bucket(&mut tx, project, bucket).await?;
    let Some(existing) = find(&mut *tx, bucket, key).await? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM objects WHERE bucket_id = ? AND object_key = ?")
        .bind(bucket.as_str())
        .bind(key.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    adjust_usage(&mut tx, bucket, -size_i64(existing.size_bytes), -1).await?;
    queue_garbage(&mut tx, &existing.blob_id, now.unix_seconds()).await?;
    tx.commit().await.map_err(backend)?;
    Ok(Some(existing.blob_id))
}

/// Batches of one bucket's keys, read inside one read transaction.
struct KeysOf<'a> {
    tx: Transaction<'static, Sqlite>,
    bucket: &'a BucketId,
}

#[async_trait]
impl KeyBatches for KeysOf<'_> {
    async fn batch(&mut self, prefix: &str, from: &str, inclusive: bool, n: usize) -> StoreResult<Vec<Object>> {
        let op = if inclusive { ">=" } else { ">" };
        let upper = after_all_starting_with(prefix);
        let mut sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = ? AND object_key {op} ?");
        if upper.is_some() {
            sql.push_str(" AND object_key < ?");
        }
        sql.push_str(" ORDER BY object_key LIMIT ?");
        let mut q = sqlx::query(&sql).bind(self.bucket.as_str()).bind(from);
        if let Some(u) = &upper {
            q = q.bind(u);
        }
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        let rows = q.bind(limit).fetch_all(&mut *self.tx).await.map_err(backend)?;
        rows.iter().map(object).collect()
    }
}

pub(super) async fn list(
    store: &SqliteStore,
    bucket: &BucketId,
    request: &ObjectListRequest,
) -> StoreResult<ObjectPage> {
    let mut keys = KeysOf {
        tx: store.read_tx().await?,
        bucket,
    };
    let page = object_listing::list(&mut keys, request).await?;
    keys.tx.commit().await.map_err(backend)?;
    Ok(page)
}

pub(super) async fn garbage(store: &SqliteStore, limit: u32) -> StoreResult<Vec<BlobId>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT blob_id FROM blob_garbage ORDER BY queued_at LIMIT ?")
        .bind(i64::from(limit))
        .fetch_all(&store.reader)
        .await
        .map_err(backend)?;
    Ok(ids.iter().filter_map(|id| BlobId::parse(id)).collect())
}

pub(super) async fn forget_garbage(store: &SqliteStore, blobs: &[BlobId]) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    for blob in blobs {
        sqlx::query("DELETE FROM blob_garbage WHERE blob_id = ?")
            .bind(blob.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

pub(super) async fn known(store: &SqliteStore, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
    let mut found = Vec::new();
    for blob in blobs {
        let hit: Option<i64> = sqlx::query_scalar(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM objects WHERE blob_id = ?) \
             OR EXISTS (SELECT 1 FROM blob_garbage WHERE blob_id = ?)",
        )
        .bind(blob.as_str())
        .bind(blob.as_str())
        .fetch_optional(&store.reader)
        .await
        .map_err(backend)?;
        if hit.is_some() {
            found.push(blob.clone());
        }
    }
    Ok(found)
}
