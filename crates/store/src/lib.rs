//! The metadata store: projects, API keys and buckets behind one trait, [`MetadataStore`],
//! so the embedded SQLite implementation and a later PostgreSQL one are interchangeable.
//! Only this crate knows SQL.

pub mod sqlite;

use async_trait::async_trait;
use cloudnexus_core::listing::{BucketPage, ListRequest};
use cloudnexus_core::{
    ApiKeyHash, ApiKeyId, Bucket, BucketId, BucketName, BucketRef, Project, ProjectId, ProjectName, Region, Scopes,
    StorageClass, Tags, Timestamp,
};

pub use sqlite::SqliteStore;

/// What can go wrong in the store. Variants other than `Backend` are expected outcomes that
/// the API turns into 4xx answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("bucket name is already taken")]
    BucketNameTaken,
    #[error("project name is already taken")]
    ProjectNameTaken,
    #[error("bucket is soft-deleted")]
    BucketDeleted,
    #[error("bucket is not deleted")]
    BucketNotDeleted,
    #[error("metadata store failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An API key as stored: never the key itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub hash: ApiKeyHash,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
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

/// Everything the service keeps about projects, keys and buckets.
///
/// Every method is one transaction: it either happens whole or not at all. Bucket methods take
/// the caller's project and answer `NotFound` for another project's bucket.
#[async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the store can answer queries (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Returns the named secret, creating it with `generate` the first time.
    async fn secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> [u8; 32] + Send + Sync),
        now: Timestamp,
    ) -> StoreResult<[u8; 32]>;

    async fn create_project(&self, id: ProjectId, name: ProjectName, now: Timestamp) -> StoreResult<Project>;
    /// Finds a project by id (`prj_...`) or by name.
    async fn find_project(&self, id_or_name: &str) -> StoreResult<Option<Project>>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;

    async fn create_api_key(&self, record: ApiKeyRecord) -> StoreResult<()>;
    async fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<ApiKeyRecord>>;
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

    /// One page of a project's buckets, with `total` and `offset`, read in one snapshot.
    async fn list_buckets(&self, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage>;
}
