//! The embedded metadata store: one SQLite file in the data folder, in WAL mode with
//! `synchronous=FULL`, so that every acknowledged write survives a crash or power loss.
//!
//! Writes go through a single-connection pool and take the write lock up front
//! (`BEGIN IMMEDIATE`); reads use a separate pool of read-only connections, which WAL lets run
//! beside the writer. Other processes (the admin commands) may open the same file at once.
//! The per-request point reads skip sqlx and remember their answers until the next commit
//! (`point_reads`, `commit_watch`): tricks that only a file-backed, single-machine database
//! allows, which is why they live here.

mod buckets;
mod commit_watch;
mod counts;
mod errors;
mod listing;
mod objects;
mod point_reads;
mod rows;
mod tenancy;

use crate::StoreResult;
use crate::metadata::{
    ApiKeyRecord, BucketPatch, BucketUsage, DataVersion, FoundApiKey, MetadataStore, NewBucket, ObjectListRequest,
    ObjectPage, PurgedBucket, PutConditions,
};
use async_trait::async_trait;
use cloudnexus_core::listing::{BucketPage, ListRequest};
use cloudnexus_core::{
    ApiKeyId, BlobId, Bucket, BucketId, BucketRef, Object, ObjectKey, Project, ProjectId, ProjectName, Timestamp,
};
pub(crate) use errors::backend;
use point_reads::PointReader;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The file name of the metadata database inside the data folder.
pub const DATABASE_FILE: &str = "metadata.db";
/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The SQLite implementation of [`MetadataStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The per-request point reads, without sqlx's thread handoffs (see `point_reads`).
    point_reader: Arc<PointReader>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database in `data_dir` and applies pending migrations.
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(errors::io)?;
        let path = data_dir.join(DATABASE_FILE);
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // Connections are local files: a ping before every use would only add a round trip.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(backend)?;
        MIGRATOR.run(&writer).await.map_err(errors::migration)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .map_err(backend)?;
        let point_reader = Arc::new(PointReader::open(&path)?);
        Ok(Self {
            writer,
            reader,
            point_reader,
        })
    }

    /// A write transaction holding SQLite's write lock from its first statement, so that it can
    /// read and then write without ever failing to upgrade its lock.
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
    }

    /// A read transaction: every statement in it sees the same snapshot.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.reader.begin().await.map_err(backend)
    }
}

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(backend)?;
        Ok(())
    }

    /// Closes both pools, waiting for connections in use to come back.
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn secret(&self, name: &str, candidate: [u8; 32], now: Timestamp) -> StoreResult<[u8; 32]> {
        tenancy::secret(self, name, candidate, now).await
    }

    async fn create_project(&self, id: ProjectId, name: ProjectName, now: Timestamp) -> StoreResult<Project> {
        tenancy::create_project(self, id, name, now).await
    }

    async fn find_project(&self, id_or_name: &str) -> StoreResult<Option<Project>> {
        tenancy::find_project(self, id_or_name).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        tenancy::list_projects(self).await
    }

    async fn create_api_key(&self, record: ApiKeyRecord) -> StoreResult<()> {
        tenancy::create_api_key(self, record).await
    }

    async fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>> {
        self.point_reader.find_api_key(id)
    }

    async fn list_api_keys(&self, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        tenancy::list_api_keys(self, project).await
    }

    async fn revoke_api_key(&self, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord> {
        tenancy::revoke_api_key(self, id, now).await
    }

    async fn revoked_api_keys_since(&self, since: Timestamp) -> StoreResult<Vec<ApiKeyId>> {
        tenancy::revoked_api_keys_since(self, since).await
    }

    async fn create_bucket(&self, bucket: NewBucket) -> StoreResult<Bucket> {
        buckets::create(self, bucket).await
    }

    async fn create_buckets(&self, buckets: Vec<NewBucket>) -> StoreResult<()> {
        buckets::create_many(self, buckets).await
    }

    async fn get_bucket(&self, project: &ProjectId, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        buckets::get(&self.reader, project, bucket).await
    }

    async fn update_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        patch: BucketPatch,
        now: Timestamp,
    ) -> StoreResult<Bucket> {
        buckets::update(self, project, id, patch, now).await
    }

    async fn soft_delete_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        now: Timestamp,
        purge_at: Timestamp,
    ) -> StoreResult<Bucket> {
        buckets::soft_delete(self, project, id, now, purge_at).await
    }

    async fn restore_bucket(&self, project: &ProjectId, id: &BucketId, now: Timestamp) -> StoreResult<Bucket> {
        buckets::restore(self, project, id, now).await
    }

    async fn purge_due_buckets(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PurgedBucket>> {
        buckets::purge_due(self, now, limit).await
    }

    async fn data_version(&self, project: &ProjectId) -> StoreResult<DataVersion> {
        self.point_reader.data_version(project)
    }

    async fn list_buckets(&self, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
        listing::list(self, project, request).await
    }

    async fn bucket_usage(&self, project: &ProjectId, buckets: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>> {
        self.point_reader.bucket_usage(project, buckets)
    }

    async fn get_bucket_any_project(&self, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        buckets::get_any_project(&self.reader, bucket).await
    }

    async fn put_object(
        &self,
        project: &ProjectId,
        object: Object,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>> {
        objects::put(self, project, object, conditions).await
    }

    async fn get_object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        objects::get(self, bucket, key).await
    }

    async fn delete_object(
        &self,
        project: &ProjectId,
        bucket: &BucketId,
        key: &ObjectKey,
        now: Timestamp,
    ) -> StoreResult<Option<BlobId>> {
        objects::delete(self, project, bucket, key, now).await
    }

    async fn list_objects(&self, bucket: &BucketId, request: &ObjectListRequest) -> StoreResult<ObjectPage> {
        objects::list(self, bucket, request).await
    }

    async fn garbage_blobs(&self, limit: u32) -> StoreResult<Vec<BlobId>> {
        objects::garbage(self, limit).await
    }

    async fn forget_garbage(&self, blobs: &[BlobId]) -> StoreResult<()> {
        objects::forget_garbage(self, blobs).await
    }

    async fn known_blobs(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
        objects::known(self, blobs).await
    }
}
