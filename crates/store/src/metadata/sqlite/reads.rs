//! The reads of the SQLite store that are one statement each (the listing's are in `listing`,
//! the per-request point reads in `point_reads`), on the read-only pool.

use super::{SqliteStore, backend};
use crate::StoreResult;
use crate::metadata::object_listing::{self, KeyBatches, after_all_starting_with};
use crate::metadata::rows::{self, BUCKET_COLUMNS, KEY_COLUMNS, OBJECT_COLUMNS, PART_COLUMNS, UPLOAD_COLUMNS};
use crate::metadata::{ApiKeyRecord, ObjectListRequest, ObjectPage};
use async_trait::async_trait;
use cloudnexus_core::UploadId;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{ApiKeyId, BlobId, Bucket, BucketId, Object, ObjectKey, Project, ProjectId, Timestamp};
use sqlx::{Sqlite, Transaction};

/// Up to `limit` soft-deleted buckets whose `purge_at` has passed, soonest first.
pub(super) async fn due_buckets(store: &SqliteStore, now: Timestamp, limit: u32) -> StoreResult<Vec<Bucket>> {
    let due = sqlx::query(&format!(
        "SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.purge_at IS NOT NULL AND b.purge_at <= ? ORDER BY b.purge_at LIMIT ?"
    ))
    .bind(now.unix_seconds())
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    due.iter().map(rows::bucket).collect()
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
        let found = q.bind(limit).fetch_all(&mut *self.tx).await.map_err(backend)?;
        found.iter().map(rows::object).collect()
    }
}

pub(super) async fn objects(
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

pub(super) async fn garbage(store: &SqliteStore, limit: u32, now: Timestamp) -> StoreResult<Vec<BlobId>> {
    // One statement reads the holds and the queue, so a hold committed before it hides
    // everything queued after the holder's snapshot.
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT blob_id FROM blob_garbage WHERE NOT EXISTS (SELECT 1 FROM garbage_holds WHERE until > ?) \
         ORDER BY queued_at LIMIT ?",
    )
    .bind(now.unix_seconds())
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    Ok(rows::blob_ids(&ids))
}

pub(super) async fn known_blobs(store: &SqliteStore, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
    let known: Vec<String> = sqlx::query_scalar(
        "SELECT c.value FROM json_each(?1) AS c \
         WHERE EXISTS (SELECT 1 FROM objects WHERE blob_id = c.value) \
            OR EXISTS (SELECT 1 FROM multipart_parts WHERE blob_id = c.value) \
            OR EXISTS (SELECT 1 FROM blob_garbage WHERE blob_id = c.value) \
         ORDER BY c.key",
    )
    .bind(json_array(blobs))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    Ok(rows::blob_ids(&known))
}

pub(super) async fn kept_inline(store: &SqliteStore, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
    let kept: Vec<String> = sqlx::query_scalar(
        "SELECT c.value FROM json_each(?1) AS c \
         WHERE EXISTS (SELECT 1 FROM inline_blobs WHERE blob_id = c.value) ORDER BY c.key",
    )
    .bind(json_array(blobs))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    Ok(rows::blob_ids(&kept))
}

/// Blob ids as one JSON array, which `json_each` turns back into rows (`key` is the index,
/// which keeps the answer in the order asked): a batch is one statement, as PostgreSQL's
/// `unnest` makes it there.
fn json_array(blobs: &[BlobId]) -> String {
    serde_json::to_string(&blobs.iter().map(BlobId::as_str).collect::<Vec<_>>()).expect("strings serialize")
}

pub(super) async fn project(store: &SqliteStore, id_or_name: &str) -> StoreResult<Option<Project>> {
    let column = if id_or_name.starts_with(ProjectId::PREFIX) {
        "id"
    } else {
        "name"
    };
    let row = sqlx::query(&format!("SELECT id, name, created_at FROM projects WHERE {column} = ?"))
        .bind(id_or_name)
        .fetch_optional(&store.reader)
        .await
        .map_err(backend)?;
    row.as_ref().map(rows::project).transpose()
}

pub(super) async fn projects(store: &SqliteStore) -> StoreResult<Vec<Project>> {
    let found = sqlx::query("SELECT id, name, created_at FROM projects ORDER BY created_at, id")
        .fetch_all(&store.reader)
        .await
        .map_err(backend)?;
    found.iter().map(rows::project).collect()
}

pub(super) async fn api_keys(store: &SqliteStore, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
    let found = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE project_id = ? ORDER BY created_at, id"
    ))
    .bind(project.as_str())
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    found.iter().map(rows::api_key).collect()
}

pub(super) async fn revoked_since(store: &SqliteStore, since: Timestamp) -> StoreResult<Vec<ApiKeyId>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM api_keys WHERE revoked_at IS NOT NULL AND revoked_at >= ?")
            .bind(since.unix_seconds())
            .fetch_all(&store.reader)
            .await
            .map_err(backend)?;
    rows::key_ids(&ids)
}

pub(super) async fn upload(store: &SqliteStore, id: &UploadId) -> StoreResult<Option<MultipartUpload>> {
    let row = sqlx::query(&format!("SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE id = ?"))
        .bind(id.as_str())
        .fetch_optional(&store.reader)
        .await
        .map_err(backend)?;
    row.as_ref().map(rows::upload).transpose()
}

pub(super) async fn parts(
    store: &SqliteStore,
    id: &UploadId,
    after: u32,
    limit: u32,
) -> StoreResult<Vec<UploadedPart>> {
    let found = sqlx::query(&format!(
        "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = ? AND part_number > ? \
         ORDER BY part_number LIMIT ?"
    ))
    .bind(id.as_str())
    .bind(i64::from(after))
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    found.iter().map(rows::part).collect()
}

/// A bucket's uploads under `prefix` in (key, start, id) order, after a key, or after an upload
/// of that key.
pub(super) async fn uploads(
    store: &SqliteStore,
    bucket: &BucketId,
    prefix: &str,
    after: Option<(&ObjectKey, Option<&UploadId>)>,
    limit: u32,
) -> StoreResult<Vec<MultipartUpload>> {
    let (after_key, after_upload) = match after {
        Some((key, upload)) => (Some(key.as_str()), upload.map(UploadId::as_str)),
        None => (None, None),
    };
    // Uploads of one key are ordered by start then id; "after an upload" is after its row.
    let found = sqlx::query(&format!(
        "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads u WHERE bucket_id = ?1 \
         AND substr(object_key, 1, ?2) = ?3 \
         AND (?4 IS NULL OR object_key > ?4 OR (object_key = ?4 AND ?5 IS NOT NULL AND \
              (created_at, id) > (SELECT created_at, id FROM multipart_uploads WHERE id = ?5))) \
         ORDER BY object_key, created_at, id LIMIT ?6"
    ))
    .bind(bucket.as_str())
    .bind(i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX))
    .bind(prefix)
    .bind(after_key)
    .bind(after_upload)
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    found.iter().map(rows::upload).collect()
}

pub(super) async fn uploads_started_before(
    store: &SqliteStore,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<UploadId>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM multipart_uploads WHERE created_at < ? ORDER BY created_at LIMIT ?")
            .bind(before.unix_seconds())
            .bind(i64::from(limit))
            .fetch_all(&store.reader)
            .await
            .map_err(backend)?;
    ids.iter()
        .map(|id| UploadId::parse(id).map_err(|e| crate::StoreError::other(format!("upload id {id:?}: {e}"))))
        .collect()
}
