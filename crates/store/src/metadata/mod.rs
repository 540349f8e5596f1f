//! The metadata store: projects, API keys, buckets and objects behind one trait,
//! [`MetadataStore`], with one folder per backend (`sqlite/`, `postgres/`). What every SQL
//! backend needs beyond its SQL text lives here, above the backends: the sequence of every
//! change (`writes`), the count dimensions and their per-day tallies (`counts`), the choice of a
//! listing's plan by its shape (`listing`) and its statements (`listing_sql`), the roll-up of object keys under a delimiter
//! (`object_listing`), turning rows into domain values (`rows`) and driver errors into kinds
//! (`sql_errors`).

pub(crate) mod counts;
pub(crate) mod listing;
pub(crate) mod listing_sql;
pub(crate) mod object_listing;
pub(crate) mod pools;
pub mod postgres;
pub(crate) mod rows;
pub(crate) mod sql_errors;
pub mod sqlite;
pub(crate) mod writes;

use crate::StoreResult;
use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::listing::{BucketPage, ListRequest, PageSummary};
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{
    ApiKeyHash, ApiKeyId, BlobId, Bucket, BucketId, BucketName, BucketRef, Object, ObjectKey, Project, ProjectId,
    ProjectName, Region, Scopes, StorageClass, Tags, Timestamp, UploadId,
};

pub use listing::{BucketCollector, PageSink};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// An API key as stored: never the key itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub hash: ApiKeyHash,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// For an S3 credential, its secret access key sealed under the master key
    /// (`cloudnexus_core::s3_key`); `None` for an API key.
    pub s3_secret: Option<Vec<u8>>,
}

/// A number that changes with every committed change to what a project's listing shows of its
/// buckets, apart from their usage: creates, field and tag changes, soft deletes, restores and
/// purges. Object writes change a bucket's `size_bytes` and `object_count` but not the version,
/// so that uploads never contend on one row per project; listings read usage with
/// [`MetadataStore::bucket_usage`]. Two reads of the same version saw the same buckets in the
/// same order with the same fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataVersion(pub i64);

/// A stamp of a store's committed state, where a backend can name it without a round trip:
/// two reads that saw equal stamps saw the same committed state, so nothing committed between
/// them. Opaque; `None` where a backend cannot tell (then callers read again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStamp([u8; 48]);

impl StoreStamp {
    pub(crate) fn new(bytes: [u8; 48]) -> Self {
        Self(bytes)
    }
}

/// An API key found for a request, with its project's [`DataVersion`] read in the same snapshot,
/// and the stamp of that snapshot when the backend can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundApiKey {
    pub record: ApiKeyRecord,
    pub data_version: DataVersion,
    pub stamp: Option<StoreStamp>,
}

/// A bucket to create; the store assigns nothing, the caller has decided every field.
#[derive(Debug, Clone)]
pub struct NewBucket {
    pub id: BucketId,
    pub project_id: ProjectId,
    pub name: BucketName,
    pub region: Region,
    pub storage_class: StorageClass,
    pub public: bool,
    pub tags: Tags,
    pub created_at: Timestamp,
}

/// The fields a PATCH may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct BucketPatch {
    pub tags: Option<Tags>,
    pub public: Option<bool>,
    pub storage_class: Option<StorageClass>,
}

/// A bucket removed for good by the purge task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedBucket {
    pub id: BucketId,
    pub project_id: ProjectId,
    pub name: BucketName,
}

/// The largest object whose bytes the metadata store keeps itself (`put_inline_object`):
/// small enough that a row holding it costs about what the object's row does, so that a small
/// upload is one transaction instead of a file, its fsyncs and a transaction.
pub const MAX_INLINE_BLOB_BYTES: u64 = 4096;

/// What must hold for a PUT of an object to go ahead (`If-None-Match: *`, `If-Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutConditions {
    /// Only create: fail when the key exists.
    pub if_none_match_any: bool,
    /// Only replace an object whose ETag is one of these (`*` for any existing object).
    pub if_match: Option<Vec<String>>,
}

impl PutConditions {
    /// Whether there is no condition at all: then a PUT goes ahead whatever is stored.
    pub fn is_unconditional(&self) -> bool {
        !self.if_none_match_any && self.if_match.is_none()
    }

    /// Whether the conditions allow a PUT over `existing` (the ETag of the current object).
    pub fn allow(&self, existing: Option<&str>) -> bool {
        if self.if_none_match_any && existing.is_some() {
            return false;
        }
        match (&self.if_match, existing) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(tags), Some(etag)) => tags.iter().any(|t| t == "*" || t == etag),
        }
    }
}

/// Where an object listing resumes: after a key, or after every key under a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPosition {
    pub key: String,
    pub is_prefix: bool,
}

/// One request for a page of a bucket's objects, in key order (UTF-8 byte order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectListRequest {
    pub prefix: String,
    /// Keys holding this after the prefix are rolled up into a common prefix.
    pub delimiter: Option<String>,
    pub after: Option<ObjectPosition>,
    pub limit: u32,
}

/// One entry of an object listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectEntry {
    /// Boxed: an object (with its headers and metadata) is many times a prefix's size.
    Object(Box<Object>),
    CommonPrefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPage {
    pub entries: Vec<ObjectEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ObjectPosition>,
}

/// A bucket's usage: what its objects add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketUsage {
    pub size_bytes: u64,
    pub object_count: u64,
}

/// Everything the service keeps about projects, keys, buckets and objects.
///
/// Every change either happens whole or not at all, and a method that reads several things
/// (a page with its `total`) reads them from one snapshot. Bucket methods take the caller's
/// project and answer `NotFound` for another project's bucket.
#[async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the store can answer queries (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Lets calls in flight finish and releases connections; later calls fail.
    async fn close(&self);

    /// Returns the named secret, storing `candidate` as it the first time.
    async fn secret(&self, name: &str, candidate: [u8; 32], now: Timestamp) -> StoreResult<[u8; 32]>;

    async fn create_project(&self, id: ProjectId, name: ProjectName, now: Timestamp) -> StoreResult<Project>;
    /// Finds a project by id (`prj_...`) or by name.
    async fn find_project(&self, id_or_name: &str) -> StoreResult<Option<Project>>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;

    async fn create_api_key(&self, record: ApiKeyRecord) -> StoreResult<()>;
    /// The key with this id, and its project's data version. On the path of every request
    /// made with an API key, so implementations answer it without a round trip where they can.
    async fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>>;
    async fn list_api_keys(&self, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a key; revoking twice keeps the first time. `NotFound` for an unknown id.
    async fn revoke_api_key(&self, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord>;
    /// The keys revoked at or after `since` (what access tokens still in date may depend on).
    async fn revoked_api_keys_since(&self, since: Timestamp) -> StoreResult<Vec<ApiKeyId>>;

    async fn create_bucket(&self, bucket: NewBucket) -> StoreResult<Bucket>;
    /// Creates many buckets in one transaction (seeding, imports): all or none.
    async fn create_buckets(&self, buckets: Vec<NewBucket>) -> StoreResult<()>;
    /// A bucket of `project` by id or name, soft-deleted ones included.
    async fn get_bucket(&self, project: &ProjectId, bucket: &BucketRef) -> StoreResult<Option<Bucket>>;
    /// Applies a patch to a live bucket (`BucketDeleted` for a soft-deleted one).
    async fn update_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        patch: BucketPatch,
        now: Timestamp,
    ) -> StoreResult<Bucket>;
    /// Soft-deletes a live bucket (`BucketDeleted` when it already is).
    async fn soft_delete_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        now: Timestamp,
        purge_at: Timestamp,
    ) -> StoreResult<Bucket>;
    /// Brings a soft-deleted bucket back (`BucketNotDeleted` when it is live).
    async fn restore_bucket(&self, project: &ProjectId, id: &BucketId, now: Timestamp) -> StoreResult<Bucket>;
    /// Removes, for good, up to `limit` soft-deleted buckets whose `purge_at` has passed.
    async fn purge_due_buckets(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PurgedBucket>>;

    /// The current version of a project's bucket data (`NotFound` for an unknown project). On
    /// the path of every listing, so implementations answer it without a round trip where they can.
    async fn data_version(&self, project: &ProjectId) -> StoreResult<DataVersion>;

    /// One page of a project's buckets, each handed to `sink` as its row is read, with `total`,
    /// `offset` and where the next page starts, all read in one snapshot.
    async fn list_buckets_into(
        &self,
        project: &ProjectId,
        request: &ListRequest,
        sink: &mut dyn PageSink,
    ) -> StoreResult<PageSummary>;

    /// The same page with its buckets collected as domain values.
    async fn list_buckets(&self, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
        let mut buckets = BucketCollector::new(project);
        let summary = self.list_buckets_into(project, request, &mut buckets).await?;
        Ok(buckets.into_page(summary))
    }

    /// The current usage of each of `buckets` of `project`, in the same order, read in one
    /// snapshot; `None` for one that is not (or no longer) there. On the path of listings
    /// served from a cache, so implementations answer it without a round trip where they can.
    async fn bucket_usage(&self, project: &ProjectId, buckets: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>>;

    /// A bucket of any project (for anonymous reads of public buckets).
    async fn get_bucket_any_project(&self, bucket: &BucketRef) -> StoreResult<Option<Bucket>>;

    /// Records an object whose bytes are already durable in `object.blob_id`, replacing any
    /// object with its key, and adjusts the bucket's usage in the same transaction. The bucket
    /// must belong to `project` and be live (`NotFound`, `BucketDeleted`); `PreconditionFailed`
    /// when `conditions` do not hold. Returns the blob the object replaced, now queued as garbage.
    async fn put_object(
        &self,
        project: &ProjectId,
        object: Object,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>>;
    /// As [`put_object`](Self::put_object), for a small object whose bytes (`bytes`, at most
    /// [`MAX_INLINE_BLOB_BYTES`]) the metadata store keeps itself, as the blob `object.blob_id`,
    /// written in the same transaction as the object: no blob store write, no fsync of its own.
    async fn put_inline_object(
        &self,
        project: &ProjectId,
        object: Object,
        bytes: Bytes,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>>;
    /// The bytes of `blob` if the metadata store keeps them (`put_inline_object`); `None` for a
    /// blob in the blob store. Kept until the blob is collected as garbage, like a blob file.
    async fn inline_blob(&self, blob: &BlobId) -> StoreResult<Option<Bytes>>;
    async fn get_object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>>;
    /// Removes an object (if any) and adjusts usage; returns its blob, now queued as garbage.
    async fn delete_object(
        &self,
        project: &ProjectId,
        bucket: &BucketId,
        key: &ObjectKey,
        now: Timestamp,
    ) -> StoreResult<Option<BlobId>>;
    async fn list_objects(&self, bucket: &BucketId, request: &ObjectListRequest) -> StoreResult<ObjectPage>;

    /// Blobs queued for removal from disk.
    /// Starts an upload into a live bucket of `project` (`NotFound`, `BucketDeleted`).
    async fn create_upload(&self, project: &ProjectId, upload: &MultipartUpload) -> StoreResult<()>;
    /// An upload in progress.
    async fn find_upload(&self, id: &UploadId) -> StoreResult<Option<MultipartUpload>>;
    /// Records a part of an upload of a live bucket of `project` (`NotFound` once the upload is
    /// completed or aborted); returns the blob of a part it replaced, queued as garbage.
    async fn put_part(
        &self,
        project: &ProjectId,
        upload: &UploadId,
        part: &UploadedPart,
    ) -> StoreResult<Option<BlobId>>;
    /// Up to `limit` parts numbered above `after`, in number order.
    async fn list_parts(&self, upload: &UploadId, after: u32, limit: u32) -> StoreResult<Vec<UploadedPart>>;
    /// Up to `limit` uploads of a bucket whose key starts with `prefix`, in key then start order,
    /// after `after` (a key, and an upload id within that key).
    async fn list_uploads(
        &self,
        bucket: &BucketId,
        prefix: &str,
        after: Option<(&ObjectKey, Option<&UploadId>)>,
        limit: u32,
    ) -> StoreResult<Vec<MultipartUpload>>;
    /// Completes an upload (see `writes::complete_upload`); returns the blob of an object it
    /// replaced, queued as garbage.
    async fn complete_upload(
        &self,
        project: &ProjectId,
        upload: &UploadId,
        object: Object,
        used: &[(u32, BlobId)],
    ) -> StoreResult<Option<BlobId>>;
    /// Removes an upload, queueing its parts' blobs as garbage; whether there was one.
    async fn abort_upload(&self, upload: &UploadId, now: Timestamp) -> StoreResult<bool>;
    /// Up to `limit` uploads started before `before`, oldest first (to expire them).
    async fn uploads_started_before(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<UploadId>>;

    /// Up to `limit` queued blobs, oldest first; none while garbage collection is held at `now`.
    async fn garbage_blobs(&self, limit: u32, now: Timestamp) -> StoreResult<Vec<BlobId>>;
    /// Holds garbage collection until `until` (or until released): while any hold is
    /// unexpired, [`MetadataStore::garbage_blobs`] hands out nothing, so no blob is removed
    /// (an online backup holds it while it copies the blobs of its snapshot). Calling it again
    /// extends the hold.
    async fn hold_garbage(&self, holder: &str, until: Timestamp) -> StoreResult<()>;
    /// Ends `holder`'s hold on garbage collection.
    async fn release_garbage(&self, holder: &str) -> StoreResult<()>;
    /// Drops blobs from the queue once their files are gone.
    async fn forget_garbage(&self, blobs: &[BlobId]) -> StoreResult<()>;
    /// Which of `blobs` an object still references or the garbage queue holds.
    async fn known_blobs(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>>;
    /// Which of `blobs` the metadata keeps itself (small objects' bytes, `inline_blob`): the
    /// collector forgets those without asking the blob store to delete what it never had.
    async fn kept_inline(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>>;
}

#[cfg(test)]
mod tests {
    use super::PutConditions;

    #[test]
    fn only_a_put_without_conditions_is_unconditional() {
        let none = PutConditions::default();
        assert!(none.is_unconditional());
        assert!(none.allow(None) && none.allow(Some("abc")));
        let create_only = PutConditions {
            if_none_match_any: true,
            if_match: None,
        };
        assert!(!create_only.is_unconditional());
        assert!(create_only.allow(None) && !create_only.allow(Some("abc")));
        let replace_only = PutConditions {
            if_none_match_any: false,
            if_match: Some(vec!["abc".to_owned()]),
        };
        assert!(!replace_only.is_unconditional());
        assert!(!replace_only.allow(None) && replace_only.allow(Some("abc")) && !replace_only.allow(Some("abd")));
    }
}
