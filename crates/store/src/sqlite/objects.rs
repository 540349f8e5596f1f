//! Objects in SQLite: one row per key, the bucket's usage counters changed in the same
//! transaction, and replaced or deleted blobs queued in `blob_garbage` in that transaction too.

use super::{SqliteStore, backend};
use crate::{ObjectEntry, ObjectListRequest, ObjectPage, ObjectPosition, PutConditions, StoreError, StoreResult};
use cloudnexus_core::{BlobId, BucketId, Object, ObjectKey, ProjectId, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Row, Sqlite, Transaction};

const OBJECT_COLUMNS: &str = "bucket_id, object_key, blob_id, size_bytes, etag, content_type, last_modified";

fn object(row: &SqliteRow) -> StoreResult<Object> {
    let corrupt = |what: &str| StoreError::Backend(format!("stored object {what} does not parse"));
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

/// The smallest string greater than every string starting with `prefix` (UTF-8 byte order is
/// code point order), or `None` when no such string exists.
pub(crate) fn after_all_starting_with(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Reads up to `n` keys from `from` (inclusive or not) within the prefix, in key order.
async fn batch(
    store: &SqliteStore,
    bucket: &BucketId,
    prefix: &str,
    from: &str,
    inclusive: bool,
    n: i64,
) -> StoreResult<Vec<Object>> {
    // Never read before the prefix itself.
    let (start, op) = if from < prefix {
        (prefix, ">=")
    } else {
        (from, if inclusive { ">=" } else { ">" })
    };
    let upper = after_all_starting_with(prefix);
    let mut sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = ? AND object_key {op} ?");
    if upper.is_some() {
        sql.push_str(" AND object_key < ?");
    }
    sql.push_str(" ORDER BY object_key LIMIT ?");
    let mut q = sqlx::query(&sql).bind(bucket.as_str()).bind(start);
    if let Some(u) = &upper {
        q = q.bind(u);
    }
    let rows = q.bind(n).fetch_all(&store.reader).await.map_err(backend)?;
    rows.iter().map(object).collect()
}

pub(super) async fn list(
    store: &SqliteStore,
    bucket: &BucketId,
    request: &ObjectListRequest,
) -> StoreResult<ObjectPage> {
    let limit = request.limit as usize;
    let prefix = request.prefix.as_str();
    // Where to read from: after the last key, or past every key under the last common prefix.
    let (mut from, mut inclusive) = match &request.after {
        None => (prefix.to_owned(), true),
        Some(ObjectPosition { key, is_prefix: false }) => (key.clone(), false),
        Some(ObjectPosition { key, is_prefix: true }) => match after_all_starting_with(key) {
            Some(next) => (next, true),
            None => {
                return Ok(ObjectPage {
                    entries: Vec::new(),
                    next: None,
                });
            }
        },
    };
    let mut entries: Vec<ObjectEntry> = Vec::new();
    'pages: while entries.len() <= limit {
        let rows = batch(
            store,
            bucket,
            prefix,
            &from,
            inclusive,
            (limit + 1 - entries.len()) as i64,
        )
        .await?;
        if rows.is_empty() {
            break;
        }
        for o in rows {
            let rest = &o.key.as_str()[prefix.len()..];
            let rolled = request.delimiter.as_deref().filter(|d| !d.is_empty()).and_then(|d| {
                rest.find(d)
                    .map(|i| o.key.as_str()[..prefix.len() + i + d.len()].to_owned())
            });
            match rolled {
                Some(common) => {
                    // Skip every other key under this common prefix.
                    let next = after_all_starting_with(&common);
                    entries.push(ObjectEntry::CommonPrefix(common));
                    match next {
                        Some(n) => {
                            from = n;
                            inclusive = true;
                            continue 'pages;
                        }
                        None => break 'pages,
                    }
                }
                None => {
                    from = o.key.as_str().to_owned();
                    inclusive = false;
                    entries.push(ObjectEntry::Object(o));
                    if entries.len() > limit {
                        break 'pages;
                    }
                }
            }
        }
    }
    let has_more = entries.len() > limit;
    entries.truncate(limit);
    let next = if has_more {
        entries.last().map(|e| match e {
            ObjectEntry::Object(o) => ObjectPosition {
                key: o.key.as_str().to_owned(),
                is_prefix: false,
            },
            ObjectEntry::CommonPrefix(p) => ObjectPosition {
                key: p.clone(),
                is_prefix: true,
            },
        })
    } else {
        None
    };
    Ok(ObjectPage { entries, next })
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

#[cfg(test)]
mod tests {
    use super::after_all_starting_with as after;

    #[test]
    fn the_bound_after_a_prefix() {
        assert_eq!(after("abc").as_deref(), Some("abd"));
        assert_eq!(after("a/").as_deref(), Some("a0"));
        assert_eq!(after("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(after("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(after(""), None);
        assert_eq!(after("\u{10FFFF}"), None);
    }
}
