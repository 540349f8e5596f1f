//! Every change to the metadata, as a sequence of statements inside one write transaction, the
//! same on every backend: which rows are locked and read, what is checked, what is written, and
//! how the counts follow. A backend supplies the statements ([`WriteTx`]) in its own SQL; a
//! sequence that returns an error drops its transaction, which rolls back, so a failed change
//! changes nothing.

use super::counts::{Delta, Tally};
use super::{ApiKeyRecord, BucketPatch, NewBucket, PurgedBucket, PutConditions};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{
    ApiKeyId, BlobId, Bucket, BucketId, Object, ObjectKey, Project, ProjectId, Tags, Timestamp, UploadId,
};

/// The statements of one write transaction, in a backend's SQL. Reads here lock what they read
/// until the transaction ends (SQLite's transaction holds the write lock from its start;
/// PostgreSQL's reads say `FOR UPDATE`), so what a sequence checks still holds when it writes.
///
/// Rows are locked in one order by every sequence: the bucket, then the project's row (moved
/// by the data version's triggers when a bucket's listed fields change), then the count rows
/// (in the tally's sorted order); so writers that meet never wait for each other in a cycle.
#[async_trait]
pub(crate) trait WriteTx: Send {
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Inserts buckets (with no usage, not deleted), skipping any whose name is taken; returns
    /// how many were inserted. (A backend may keep more derived from a bucket's fields in its
    /// row, as SQLite keeps its JSON for list pages; every write of the fields writes it too.)
    async fn insert_buckets(&mut self, buckets: &[Bucket]) -> StoreResult<u64>;
    /// Inserts the tag rows of `buckets`.
    async fn insert_tags(&mut self, buckets: &[Bucket]) -> StoreResult<()>;
    async fn delete_tags(&mut self, bucket: &BucketId) -> StoreResult<()>;
    /// A bucket of `project`, locked until the end of the transaction.
    async fn lock_bucket(&mut self, project: &ProjectId, bucket: &BucketId) -> StoreResult<Option<Bucket>>;
    /// Writes a bucket's tags (as JSON), `public` and storage class.
    async fn update_bucket_fields(&mut self, bucket: &Bucket, now: Timestamp) -> StoreResult<()>;
    /// Writes a bucket's `deleted_at` and `purge_at` (set or cleared, as `bucket` has them) and
    /// the liveness of its tag rows.
    async fn set_bucket_deleted(&mut self, bucket: &Bucket, now: Timestamp) -> StoreResult<()>;
    async fn write_counts(&mut self, tally: &Tally) -> StoreResult<()>;
    /// Queues the blobs of a bucket's objects as garbage and deletes the bucket (its tags and
    /// objects go with it), if its `purge_at` is still at or before `now`; whether it did.
    async fn purge_bucket(&mut self, bucket: &BucketId, now: Timestamp) -> StoreResult<bool>;

    /// The object at `key`, locked until the end of the transaction.
    async fn lock_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>>;
    /// Inserts the object, or replaces the one at its key.
    async fn upsert_object(&mut self, object: &Object) -> StoreResult<()>;
    async fn delete_object(&mut self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<()>;
    /// Adds to a bucket's `size_bytes` and `object_count` (either may be negative).
    async fn adjust_usage(&mut self, bucket: &BucketId, bytes: i64, objects: i64) -> StoreResult<()>;
    /// Keeps a blob's bytes in the metadata (a small object's).
    async fn insert_inline_blob(&mut self, blob: &BlobId, bytes: &[u8]) -> StoreResult<()>;
    /// Queues a blob for removal (once; queuing it again keeps the first time).
    async fn queue_garbage(&mut self, blob: &BlobId, now: Timestamp) -> StoreResult<()>;
    /// Drops collected blobs from the queue, and the bytes of those the metadata kept.
    async fn forget_garbage(&mut self, blobs: &[BlobId]) -> StoreResult<()>;
    /// Records (or extends) `holder`'s hold on garbage collection until `until`.
    async fn upsert_garbage_hold(&mut self, holder: &str, until: Timestamp) -> StoreResult<()>;
    /// Ends `holder`'s hold, if it has one.
    async fn delete_garbage_hold(&mut self, holder: &str) -> StoreResult<()>;

    /// Inserts an upload (its bucket was checked, locked, by the sequence).
    async fn insert_upload(&mut self, upload: &MultipartUpload) -> StoreResult<()>;
    /// An upload, locked until the end of the transaction.
    async fn lock_upload(&mut self, id: &UploadId) -> StoreResult<Option<MultipartUpload>>;
    /// The upload's parts in number order, as the transaction sees them.
    async fn upload_parts(&mut self, id: &UploadId) -> StoreResult<Vec<UploadedPart>>;
    /// Inserts a part, or replaces the part with its number.
    async fn upsert_part(&mut self, upload: &UploadId, part: &UploadedPart) -> StoreResult<()>;
    /// Queues the blobs of every part of the upload as garbage and deletes the upload and its
    /// parts.
    async fn remove_upload(&mut self, id: &UploadId, now: Timestamp) -> StoreResult<()>;

    /// Inserts a project unless its name is taken; whether it did.
    async fn insert_project(&mut self, project: &Project) -> StoreResult<bool>;
    /// Inserts a key for an existing project; whether the project exists.
    async fn insert_api_key(&mut self, record: &ApiKeyRecord) -> StoreResult<bool>;
    /// Sets `revoked_at` unless already set, and returns the key as it is then.
    async fn revoke_api_key(&mut self, id: &ApiKeyId, now: Timestamp) -> StoreResult<Option<ApiKeyRecord>>;
    /// Keeps `candidate` under `name` unless a value is kept there, and returns the kept value.
    async fn keep_secret(&mut self, name: &str, candidate: &[u8; 32], now: Timestamp) -> StoreResult<Vec<u8>>;
}

type Tx = Box<dyn WriteTx>;

/// A live bucket, counted once.
const ONE_LIVE: Delta = Delta { live: 1, deleted: 0 };

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

/// The tags of a bucket as stored for rendering.
pub(crate) fn tags_json(tags: &Tags) -> String {
    serde_json::to_string(tags).expect("tags serialize")
}

fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) async fn create_bucket(mut tx: Tx, new: NewBucket) -> StoreResult<Bucket> {
    let bucket = new_bucket(new);
    let buckets = std::slice::from_ref(&bucket);
    if tx.insert_buckets(buckets).await? == 0 {
        return Err(StoreError::BucketNameTaken);
    }
    tx.insert_tags(buckets).await?;
    tx.write_counts(&Tally::of(&bucket, ONE_LIVE)).await?;
    tx.commit().await?;
    Ok(bucket)
}

/// Creates many buckets in one transaction: a taken (or repeated) name keeps none of them.
pub(crate) async fn create_buckets(mut tx: Tx, news: Vec<NewBucket>) -> StoreResult<()> {
    let buckets: Vec<Bucket> = news.into_iter().map(new_bucket).collect();
    if tx.insert_buckets(&buckets).await? < buckets.len() as u64 {
        return Err(StoreError::BucketNameTaken);
    }
    tx.insert_tags(&buckets).await?;
    let mut tally = Tally::default();
    for b in &buckets {
        tally.add(b, ONE_LIVE);
    }
    tx.write_counts(&tally).await?;
    tx.commit().await
}

async fn locked(tx: &mut Tx, project: &ProjectId, id: &BucketId) -> StoreResult<Bucket> {
    tx.lock_bucket(project, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn update_bucket(
    mut tx: Tx,
    project: &ProjectId,
    id: &BucketId,
    patch: BucketPatch,
    now: Timestamp,
) -> StoreResult<Bucket> {
    let mut bucket = locked(&mut tx, project, id).await?;
    if bucket.is_deleted() {
        return Err(StoreError::BucketDeleted);
    }
    let mut tally = None;
    if let Some(tags) = patch.tags {
        let mut change = Tally::of(&bucket, Delta { live: -1, deleted: 0 });
        bucket.tags = tags;
        change.add(&bucket, ONE_LIVE);
        tx.delete_tags(id).await?;
        tx.insert_tags(std::slice::from_ref(&bucket)).await?;
        tally = Some(change);
    }
    if let Some(public) = patch.public {
        bucket.public = public;
    }
    if let Some(class) = patch.storage_class {
        bucket.storage_class = class;
    }
    // The fields first: their change moves the project's data version, and every sequence
    // takes the project's row before the count rows, so concurrent writers never wait on each
    // other in opposite orders.
    tx.update_bucket_fields(&bucket, now).await?;
    if let Some(tally) = &tally {
        tx.write_counts(tally).await?;
    }
    tx.commit().await?;
    Ok(bucket)
}

/// Flips a bucket between live and soft-deleted, with its tag rows and counts.
async fn set_deleted(
    mut tx: Tx,
    mut bucket: Bucket,
    deleted: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
) -> StoreResult<Bucket> {
    bucket.deleted_at = deleted.map(|(at, _)| at);
    bucket.purge_at = deleted.map(|(_, purge)| purge);
    tx.set_bucket_deleted(&bucket, now).await?;
    let moved = if deleted.is_some() { -1 } else { 1 };
    let delta = Delta {
        live: moved,
        deleted: -moved,
    };
    tx.write_counts(&Tally::of(&bucket, delta)).await?;
    tx.commit().await?;
    Ok(bucket)
}

pub(crate) async fn soft_delete_bucket(
    mut tx: Tx,
    project: &ProjectId,
    id: &BucketId,
    now: Timestamp,
    purge_at: Timestamp,
) -> StoreResult<Bucket> {
    let bucket = locked(&mut tx, project, id).await?;
    if bucket.is_deleted() {
        return Err(StoreError::BucketDeleted);
    }
    set_deleted(tx, bucket, Some((now, purge_at)), now).await
}

pub(crate) async fn restore_bucket(
    mut tx: Tx,
    project: &ProjectId,
    id: &BucketId,
    now: Timestamp,
) -> StoreResult<Bucket> {
    let bucket = locked(&mut tx, project, id).await?;
    if !bucket.is_deleted() {
        return Err(StoreError::BucketNotDeleted);
    }
    set_deleted(tx, bucket, None, now).await
}

/// Purges `candidate` (read as due before the transaction) if it is still due: a restore may
/// have come in between. Its objects' blobs are queued as garbage in the same transaction.
pub(crate) async fn purge_bucket(mut tx: Tx, candidate: Bucket, now: Timestamp) -> StoreResult<Option<PurgedBucket>> {
    if !tx.purge_bucket(&candidate.id, now).await? {
        return Ok(None);
    }
    let gone = Delta { live: 0, deleted: -1 };
    tx.write_counts(&Tally::of(&candidate, gone)).await?;
    tx.commit().await?;
    Ok(Some(PurgedBucket {
        id: candidate.id,
        project_id: candidate.project_id,
        name: candidate.name,
    }))
}

/// The bucket an object write is in: `project`'s and live, locked.
async fn writable(tx: &mut Tx, project: &ProjectId, bucket: &BucketId) -> StoreResult<()> {
    if locked(tx, project, bucket).await?.is_deleted() {
        return Err(StoreError::BucketDeleted);
    }
    Ok(())
}

/// Records `object`; with `inline`, its bytes too, as a blob the metadata keeps.
pub(crate) async fn put_object(
    mut tx: Tx,
    project: &ProjectId,
    object: Object,
    inline: Option<&[u8]>,
    conditions: &PutConditions,
) -> StoreResult<Option<BlobId>> {
    writable(&mut tx, project, &object.bucket_id).await?;
    let existing = tx.lock_object(&object.bucket_id, &object.key).await?;
    if !conditions.allow(existing.as_ref().map(|o| o.etag.as_str())) {
        return Err(StoreError::PreconditionFailed);
    }
    if let Some(bytes) = inline {
        tx.insert_inline_blob(&object.blob_id, bytes).await?;
    }
    tx.upsert_object(&object).await?;
    let (old_size, old_count) = existing.as_ref().map_or((0, 0), |o| (size_i64(o.size_bytes), 1));
    tx.adjust_usage(&object.bucket_id, size_i64(object.size_bytes) - old_size, 1 - old_count)
        .await?;
    let replaced = existing.map(|o| o.blob_id);
    if let Some(blob) = &replaced {
        tx.queue_garbage(blob, object.last_modified).await?;
    }
    tx.commit().await?;
    Ok(replaced)
}

pub(crate) async fn delete_object(
    mut tx: Tx,
    project: &ProjectId,
    bucket: &BucketId,
    key: &ObjectKey,
    now: Timestamp,
) -> StoreResult<Option<BlobId>> {
    writable(&mut tx, project, bucket).await?;
    let Some(existing) = tx.lock_object(bucket, key).await? else {
        return Ok(None);
    };
    tx.delete_object(bucket, key).await?;
    tx.adjust_usage(bucket, -size_i64(existing.size_bytes), -1).await?;
    tx.queue_garbage(&existing.blob_id, now).await?;
    tx.commit().await?;
    Ok(Some(existing.blob_id))
}

pub(crate) async fn create_upload(mut tx: Tx, project: &ProjectId, upload: &MultipartUpload) -> StoreResult<()> {
    writable(&mut tx, project, &upload.bucket_id).await?;
    tx.insert_upload(upload).await?;
    tx.commit().await
}

/// The upload `id`, locked, if it belongs to a live bucket of `project`.
async fn open_upload(tx: &mut Tx, project: &ProjectId, id: &UploadId) -> StoreResult<MultipartUpload> {
    let upload = tx.lock_upload(id).await?.ok_or(StoreError::NotFound)?;
    writable(tx, project, &upload.bucket_id).await?;
    Ok(upload)
}

/// Records a part; a part it replaces has its blob queued as garbage, which is returned.
pub(crate) async fn put_part(
    mut tx: Tx,
    project: &ProjectId,
    upload: &UploadId,
    part: &UploadedPart,
) -> StoreResult<Option<BlobId>> {
    open_upload(&mut tx, project, upload).await?;
    let replaced = tx
        .upload_parts(upload)
        .await?
        .into_iter()
        .find(|p| p.number == part.number)
        .map(|p| p.blob_id);
    tx.upsert_part(upload, part).await?;
    if let Some(blob) = &replaced {
        tx.queue_garbage(blob, part.last_modified).await?;
    }
    tx.commit().await?;
    Ok(replaced)
}

/// Completes an upload whose parts `used` (number and blob) were composed into `object`'s
/// blob: the object is stored (replacing any at its key, whose blob is queued as garbage, as
/// returned), the upload and its parts are removed and their blobs queued, all at once. A part
/// replaced since it was composed fails the completion with `PreconditionFailed`.
pub(crate) async fn complete_upload(
    mut tx: Tx,
    project: &ProjectId,
    upload: &UploadId,
    object: Object,
    used: &[(u32, BlobId)],
) -> StoreResult<Option<BlobId>> {
    let found = open_upload(&mut tx, project, upload).await?;
    if found.bucket_id != object.bucket_id || found.key != object.key {
        return Err(StoreError::NotFound);
    }
    let parts = tx.upload_parts(upload).await?;
    let unchanged = used
        .iter()
        .all(|(number, blob)| parts.iter().any(|p| p.number == *number && p.blob_id == *blob));
    if !unchanged {
        return Err(StoreError::PreconditionFailed);
    }
    let existing = tx.lock_object(&object.bucket_id, &object.key).await?;
    tx.upsert_object(&object).await?;
    let (old_size, old_count) = existing.as_ref().map_or((0, 0), |o| (size_i64(o.size_bytes), 1));
    tx.adjust_usage(&object.bucket_id, size_i64(object.size_bytes) - old_size, 1 - old_count)
        .await?;
    let replaced = existing.map(|o| o.blob_id);
    if let Some(blob) = &replaced {
        tx.queue_garbage(blob, object.last_modified).await?;
    }
    tx.remove_upload(upload, object.last_modified).await?;
    tx.commit().await?;
    Ok(replaced)
}

/// Removes an upload and queues its parts' blobs; whether there was one.
pub(crate) async fn abort_upload(mut tx: Tx, upload: &UploadId, now: Timestamp) -> StoreResult<bool> {
    if tx.lock_upload(upload).await?.is_none() {
        return Ok(false);
    }
    tx.remove_upload(upload, now).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn forget_garbage(mut tx: Tx, blobs: &[BlobId]) -> StoreResult<()> {
    tx.forget_garbage(blobs).await?;
    tx.commit().await
}

pub(crate) async fn hold_garbage(mut tx: Tx, holder: &str, until: Timestamp) -> StoreResult<()> {
    tx.upsert_garbage_hold(holder, until).await?;
    tx.commit().await
}

pub(crate) async fn release_garbage(mut tx: Tx, holder: &str) -> StoreResult<()> {
    tx.delete_garbage_hold(holder).await?;
    tx.commit().await
}

pub(crate) async fn create_project(mut tx: Tx, project: Project) -> StoreResult<Project> {
    if !tx.insert_project(&project).await? {
        return Err(StoreError::ProjectNameTaken);
    }
    tx.commit().await?;
    Ok(project)
}

pub(crate) async fn create_api_key(mut tx: Tx, record: ApiKeyRecord) -> StoreResult<()> {
    if !tx.insert_api_key(&record).await? {
        return Err(StoreError::NotFound);
    }
    tx.commit().await
}

pub(crate) async fn revoke_api_key(mut tx: Tx, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord> {
    let record = tx.revoke_api_key(id, now).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(record)
}

pub(crate) async fn secret(mut tx: Tx, name: &str, candidate: [u8; 32], now: Timestamp) -> StoreResult<[u8; 32]> {
    let kept = tx.keep_secret(name, &candidate, now).await?;
    tx.commit().await?;
    kept.try_into()
        .map_err(|_| StoreError::other(format!("secret {name} is not 32 bytes")))
}
