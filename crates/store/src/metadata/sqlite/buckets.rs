//! The bucket lifecycle in SQLite: create, read, patch, soft delete, restore and purge. Each
//! is one write transaction that also keeps `bucket_tags` and `bucket_counts` in step.

use super::rows::{self, BUCKET_COLUMNS};
use super::{SqliteStore, backend, counts};
use crate::metadata::counts::{Delta, Tally};
use crate::metadata::{BucketPatch, NewBucket, PurgedBucket};
use crate::{StoreError, StoreResult};
use cloudnexus_core::{Bucket, BucketId, BucketRef, ProjectId, Tags, Timestamp};
use sqlx::{Executor, Sqlite, Transaction};

/// A live bucket, counted once.
const ONE_LIVE: Delta = Delta { live: 1, deleted: 0 };

fn tags_json(tags: &Tags) -> String {
    serde_json::to_string(tags).expect("tags serialize")
}

async fn insert_tags(tx: &mut Transaction<'_, Sqlite>, b: &Bucket) -> StoreResult<()> {
    for (k, v) in b.tags.iter() {
        sqlx::query(
            "INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live, region, name) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(b.id.as_str())
        .bind(b.project_id.as_str())
        .bind(k.as_str())
        .bind(v.as_str())
        .bind(b.created_at.unix_seconds())
        .bind(!b.is_deleted())
        .bind(b.region.as_str())
        .bind(b.name.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

fn new_bucket(new: NewBucket) -> Bucket {
    Bucket {
        id: new.id,
        project_id: new.project_id,
        name: new.name,
        region: new.region,
        storage_class: new.storage_class,
        public: new.public,
        tags: new.tags,
        created_at: new.created_at,
        size_bytes: 0,
        object_count: 0,
        deleted_at: None,
        purge_at: None,
    }
}

/// Inserts one bucket with its tags and counts, inside `tx`. A taken name inserts nothing
/// (`ON CONFLICT ... DO NOTHING`), which is how it is told apart from any other failure.
async fn insert(tx: &mut Transaction<'_, Sqlite>, bucket: &Bucket) -> StoreResult<()> {
    let inserted = sqlx::query(
        "INSERT INTO buckets (id, project_id, name, region, storage_class, public, tags, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
    )
    .bind(bucket.id.as_str())
    .bind(bucket.project_id.as_str())
    .bind(bucket.name.as_str())
    .bind(bucket.region.as_str())
    .bind(bucket.storage_class.as_str())
    .bind(bucket.public)
    .bind(tags_json(&bucket.tags))
    .bind(bucket.created_at.unix_seconds())
    .bind(bucket.created_at.unix_seconds())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::BucketNameTaken);
    }
    insert_tags(tx, bucket).await?;
    let tally = Tally::of(
        &bucket.project_id,
        &bucket.region,
        &bucket.tags,
        bucket.created_at,
        ONE_LIVE,
    );
    counts::write(tx, &tally).await
}

pub(super) async fn create(store: &SqliteStore, new: NewBucket) -> StoreResult<Bucket> {
    let bucket = new_bucket(new);
    let mut tx = store.write_tx().await?;
    insert(&mut tx, &bucket).await?;
    tx.commit().await.map_err(backend)?;
    Ok(bucket)
}

pub(super) async fn create_many(store: &SqliteStore, buckets: Vec<NewBucket>) -> StoreResult<()> {
    // The bulk path: the same rows as `insert` per bucket, written with multi-row INSERTs of up
    // to ROWS rows, and the counts summed in memory and written once per counts row.
    const ROWS: usize = 500;
    let buckets: Vec<Bucket> = buckets.into_iter().map(new_bucket).collect();
    let mut tally = Tally::default();
    let mut tx = store.write_tx().await?;
    for chunk in buckets.chunks(ROWS) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
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
        let inserted = insert.build().execute(&mut *tx).await.map_err(backend)?;
        if inserted.rows_affected() < chunk.len() as u64 {
            // A name was taken (or given twice): nothing of the batch is kept.
            return Err(StoreError::BucketNameTaken);
        }
        let tags: Vec<_> = chunk
            .iter()
            .flat_map(|b| b.tags.iter().map(move |(k, v)| (b, k, v)))
            .collect();
        for tags in tags.chunks(ROWS) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO bucket_tags (bucket_id, project_id, tag_key, tag_value, created_at, live, region, name) ",
            );
            insert.push_values(tags, |mut row, (b, k, v)| {
                row.push_bind(b.id.as_str())
                    .push_bind(b.project_id.as_str())
                    .push_bind(k.as_str())
                    .push_bind(v.as_str())
                    .push_bind(b.created_at.unix_seconds())
                    .push_bind(!b.is_deleted())
                    .push_bind(b.region.as_str())
                    .push_bind(b.name.as_str());
            });
            insert.build().execute(&mut *tx).await.map_err(backend)?;
        }
        for b in chunk {
            tally.add(&b.project_id, &b.region, &b.tags, b.created_at, ONE_LIVE);
        }
    }
    counts::write(&mut tx, &tally).await?;
    tx.commit().await.map_err(backend)
}

/// A bucket by id or name, of `project` only, or of any project when `project` is `None`.
async fn select<'e, E>(executor: E, project: Option<&ProjectId>, bucket: &BucketRef) -> StoreResult<Option<Bucket>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let (column, value) = match bucket {
        BucketRef::Id(id) => ("id", id.as_str()),
        BucketRef::Name(name) => ("name", name.as_str()),
    };
    let scope = if project.is_some() { " AND b.project_id = ?" } else { "" };
    let sql = format!("SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.{column} = ?{scope}");
    let mut query = sqlx::query(&sql).bind(value);
    if let Some(p) = project {
        query = query.bind(p.as_str());
    }
    let row = query.fetch_optional(executor).await.map_err(backend)?;
    row.as_ref().map(rows::bucket).transpose()
}

pub(super) async fn get<'e, E>(executor: E, project: &ProjectId, bucket: &BucketRef) -> StoreResult<Option<Bucket>>
where
    E: Executor<'e, Database = Sqlite>,
{
    select(executor, Some(project), bucket).await
}

/// A bucket of any project, by id or name (anonymous reads of public buckets).
pub(super) async fn get_any_project<'e, E>(executor: E, bucket: &BucketRef) -> StoreResult<Option<Bucket>>
where
    E: Executor<'e, Database = Sqlite>,
{
    select(executor, None, bucket).await
}

/// Reads the bucket inside a write transaction, so the change that follows sees it unchanged.
async fn get_for_update(tx: &mut Transaction<'_, Sqlite>, project: &ProjectId, id: &BucketId) -> StoreResult<Bucket> {
    get(&mut **tx, project, &BucketRef::Id(id.clone()))
        .await?
        .ok_or(StoreError::NotFound)
}

pub(super) async fn update(
    store: &SqliteStore,
    project: &ProjectId,
    id: &BucketId,
    patch: BucketPatch,
    now: Timestamp,
) -> StoreResult<Bucket> {
    let mut tx = store.write_tx().await?;
    let mut bucket = get_for_update(&mut tx, project, id).await?;
    if bucket.is_deleted() {
        return Err(StoreError::BucketDeleted);
    }
    if let Some(tags) = patch.tags {
        let (created_at, region) = (bucket.created_at, &bucket.region);
        let mut tally = Tally::of(
            project,
            region,
            &bucket.tags,
            created_at,
            Delta { live: -1, deleted: 0 },
        );
        tally.add(project, region, &tags, created_at, ONE_LIVE);
        sqlx::query("DELETE FROM bucket_tags WHERE bucket_id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        bucket.tags = tags;
        insert_tags(&mut tx, &bucket).await?;
        counts::write(&mut tx, &tally).await?;
    }
    if let Some(public) = patch.public {
        bucket.public = public;
    }
    if let Some(class) = patch.storage_class {
        bucket.storage_class = class;
    }
    sqlx::query("UPDATE buckets SET tags = ?, public = ?, storage_class = ?, updated_at = ? WHERE id = ?")
        .bind(tags_json(&bucket.tags))
        .bind(bucket.public)
        .bind(bucket.storage_class.as_str())
        .bind(now.unix_seconds())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(bucket)
}

/// Flips a bucket between live and soft-deleted, with its tag rows and counts.
async fn set_deleted(
    tx: &mut Transaction<'_, Sqlite>,
    bucket: &Bucket,
    deleted: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE buckets SET deleted_at = ?, purge_at = ?, updated_at = ? WHERE id = ?")
        .bind(deleted.map(|(at, _)| at.unix_seconds()))
        .bind(deleted.map(|(_, purge)| purge.unix_seconds()))
        .bind(now.unix_seconds())
        .bind(bucket.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("UPDATE bucket_tags SET live = ? WHERE bucket_id = ?")
        .bind(deleted.is_none())
        .bind(bucket.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    let moved = if deleted.is_some() { -1 } else { 1 };
    let delta = Delta {
        live: moved,
        deleted: -moved,
    };
    let tally = Tally::of(
        &bucket.project_id,
        &bucket.region,
        &bucket.tags,
        bucket.created_at,
        delta,
    );
    counts::write(tx, &tally).await
}

pub(super) async fn soft_delete(
    store: &SqliteStore,
    project: &ProjectId,
    id: &BucketId,
    now: Timestamp,
    purge_at: Timestamp,
) -> StoreResult<Bucket> {
    let mut tx = store.write_tx().await?;
    let mut bucket = get_for_update(&mut tx, project, id).await?;
    if bucket.is_deleted() {
        return Err(StoreError::BucketDeleted);
    }
    set_deleted(&mut tx, &bucket, Some((now, purge_at)), now).await?;
    tx.commit().await.map_err(backend)?;
    bucket.deleted_at = Some(now);
    bucket.purge_at = Some(purge_at);
    Ok(bucket)
}

pub(super) async fn restore(
    store: &SqliteStore,
    project: &ProjectId,
    id: &BucketId,
    now: Timestamp,
) -> StoreResult<Bucket> {
    let mut tx = store.write_tx().await?;
    let mut bucket = get_for_update(&mut tx, project, id).await?;
    if !bucket.is_deleted() {
        return Err(StoreError::BucketNotDeleted);
    }
    set_deleted(&mut tx, &bucket, None, now).await?;
    tx.commit().await.map_err(backend)?;
    bucket.deleted_at = None;
    bucket.purge_at = None;
    Ok(bucket)
}

pub(super) async fn purge_due(store: &SqliteStore, now: Timestamp, limit: u32) -> StoreResult<Vec<PurgedBucket>> {
    let due = sqlx::query(&format!(
        "SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.purge_at IS NOT NULL AND b.purge_at <= ? ORDER BY b.purge_at LIMIT ?"
    ))
    .bind(now.unix_seconds())
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    let mut purged = Vec::with_capacity(due.len());
    for row in &due {
        let candidate = rows::bucket(row)?;
        let mut tx = store.write_tx().await?;
        // Its objects' blobs are queued for removal from disk in the same transaction.
        sqlx::query(
            "INSERT INTO blob_garbage (blob_id, queued_at) SELECT o.blob_id, ? FROM objects o \
             JOIN buckets b ON b.id = o.bucket_id \
             WHERE o.bucket_id = ? AND b.purge_at IS NOT NULL AND b.purge_at <= ? ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(now.unix_seconds())
        .bind(candidate.id.as_str())
        .bind(now.unix_seconds())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // Checked again under the write lock: the bucket may have been restored meanwhile.
        let done = sqlx::query("DELETE FROM buckets WHERE id = ? AND purge_at IS NOT NULL AND purge_at <= ?")
            .bind(candidate.id.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            continue;
        }
        let gone = Delta { live: 0, deleted: -1 };
        let tally = Tally::of(
            &candidate.project_id,
            &candidate.region,
            &candidate.tags,
            candidate.created_at,
            gone,
        );
        counts::write(&mut tx, &tally).await?;
        tx.commit().await.map_err(backend)?;
        purged.push(PurgedBucket {
            id: candidate.id,
            project_id: candidate.project_id,
            name: candidate.name,
        });
    }
    Ok(purged)
}
