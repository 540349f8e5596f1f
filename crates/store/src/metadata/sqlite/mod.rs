//! The embedded metadata store: one SQLite file in the data folder, in WAL mode with
//! `synchronous=FULL`, so that every acknowledged write survives a crash or power loss.
//!
//! Writes go through a single-connection pool and take the write lock up front
//! (`BEGIN IMMEDIATE`); reads use a separate pool of read-only connections, which WAL lets run
//! beside the writer. Other processes (the admin commands) may open the same file at once.
//! The per-request point reads skip sqlx and remember their answers until the next commit
//! (`point_reads`, `commit_watch`): tricks that only a file-backed, single-machine database
//! allows, which is why they live here.

mod commit_watch;
mod counts;
pub(crate) mod errors;
mod listing;
mod point_reads;
mod reads;
mod statements;

use crate::StoreResult;
use crate::metadata::pools;
use crate::metadata::writes::{self, WriteTx};
use crate::metadata::{
    ApiKeyRecord, BucketPatch, BucketUsage, DataVersion, FoundApiKey, MetadataStore, NewBucket, ObjectListRequest,
    ObjectPage, PurgedBucket, PutConditions,
};
use async_trait::async_trait;
use cloudnexus_core::UploadId;
use cloudnexus_core::listing::{BucketPage, ListRequest};
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{
    ApiKeyId, BlobId, Bucket, BucketId, BucketRef, Object, ObjectKey, Project, ProjectId, ProjectName, Timestamp,
};
pub(crate) use errors::backend;
use point_reads::PointReader;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The file name of the metadata database inside the data folder.
pub const DATABASE_FILE: &str = "metadata.db";
/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The schema version this binary's migrations lead to.
pub fn latest_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
/// The file whose lock lets one process at a time migrate the database (sqlx's migrator takes
/// no lock on SQLite: two processes opening a fresh folder at once would both apply the first
/// migration, and the second would fail on a duplicate column).
const MIGRATION_LOCK_FILE: &str = "metadata.db.migration-lock";
/// How long a process waits for another one's migration before giving up.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(120);

/// The SQLite implementation of [`MetadataStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The per-request point reads, without sqlx's thread handoffs (see `point_reads`).
    point_reader: Arc<PointReader>,
}

impl SqliteStore {
    /// The pool of read-only connections (the migration's snapshot reads through it).
    pub(crate) fn reader_pool(&self) -> &SqlitePool {
        &self.reader
    }

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
        // One process at a time creates the file, switches it to WAL and migrates it: switching
        // a fresh database's journal mode takes its exclusive lock, and SQLite answers a second
        // process "database is locked" at once there, without waiting out the busy timeout.
        let writer = {
            let _migrating = lock_for_migration(data_dir).await?;
            let writer = pools::options::<Sqlite>()
                .max_connections(1)
                .connect_with(base.clone().create_if_missing(true))
                .await
                .map_err(backend)?;
            MIGRATOR.run(&writer).await.map_err(errors::migration)?;
            writer
        };
        let reader = pools::options::<Sqlite>()
            .max_connections(READ_CONNECTIONS)
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
    async fn write(&self) -> StoreResult<Box<dyn WriteTx>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        Ok(Box::new(statements::Write(tx)))
    }

    /// A read transaction: every statement in it sees the same snapshot.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.reader.begin().await.map_err(backend)
    }
}

/// Waits (at most [`MIGRATION_LOCK_WAIT`]) for the exclusive lock on the data folder's migration
/// lock file; the lock is released when the returned file is dropped, or when the process
/// exits however it exits.
async fn lock_for_migration(data_dir: &Path) -> StoreResult<std::fs::File> {
    let path = data_dir.join(MIGRATION_LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .map_err(errors::io)?;
    let deadline = tokio::time::Instant::now() + MIGRATION_LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(errors::io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("another process has been migrating {} for too long", path.display()),
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(errors::io(e)),
        }
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
        writes::secret(self.write().await?, name, candidate, now).await
    }

    async fn create_project(&self, id: ProjectId, name: ProjectName, now: Timestamp) -> StoreResult<Project> {
        let project = Project {
            id,
            name,
            created_at: now,
        };
        writes::create_project(self.write().await?, project).await
    }

    async fn find_project(&self, id_or_name: &str) -> StoreResult<Option<Project>> {
        reads::project(self, id_or_name).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        reads::projects(self).await
    }

    async fn create_api_key(&self, record: ApiKeyRecord) -> StoreResult<()> {
        writes::create_api_key(self.write().await?, record).await
    }

    async fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>> {
        self.point_reader.find_api_key(id)
    }

    async fn list_api_keys(&self, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        reads::api_keys(self, project).await
    }

    async fn revoke_api_key(&self, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord> {
        writes::revoke_api_key(self.write().await?, id, now).await
    }

    async fn revoked_api_keys_since(&self, since: Timestamp) -> StoreResult<Vec<ApiKeyId>> {
        reads::revoked_since(self, since).await
    }

    async fn create_bucket(&self, bucket: NewBucket) -> StoreResult<Bucket> {
        writes::create_bucket(self.write().await?, bucket).await
    }

    async fn create_buckets(&self, buckets: Vec<NewBucket>) -> StoreResult<()> {
        writes::create_buckets(self.write().await?, buckets).await
    }

    async fn get_bucket(&self, project: &ProjectId, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        reads::bucket(self, Some(project), bucket).await
    }

    async fn update_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        patch: BucketPatch,
        now: Timestamp,
    ) -> StoreResult<Bucket> {
        writes::update_bucket(self.write().await?, project, id, patch, now).await
    }

    async fn soft_delete_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        now: Timestamp,
        purge_at: Timestamp,
    ) -> StoreResult<Bucket> {
        writes::soft_delete_bucket(self.write().await?, project, id, now, purge_at).await
    }

    async fn restore_bucket(&self, project: &ProjectId, id: &BucketId, now: Timestamp) -> StoreResult<Bucket> {
        writes::restore_bucket(self.write().await?, project, id, now).await
    }

    async fn purge_due_buckets(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PurgedBucket>> {
        let mut purged = Vec::new();
        for candidate in reads::due_buckets(self, now, limit).await? {
            purged.extend(writes::purge_bucket(self.write().await?, candidate, now).await?);
        }
        Ok(purged)
    }

    async fn data_version(&self, project: &ProjectId) -> StoreResult<DataVersion> {
        self.point_reader.data_version(project)
    }

    async fn list_buckets(&self, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
        listing::list(&self.point_reader, project, request).await
    }

    async fn bucket_usage(&self, project: &ProjectId, buckets: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>> {
        self.point_reader.bucket_usage(project, buckets)
    }

    async fn get_bucket_any_project(&self, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        reads::bucket(self, None, bucket).await
    }

    async fn put_object(
        &self,
        project: &ProjectId,
        object: Object,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>> {
        writes::put_object(self.write().await?, project, object, conditions).await
    }

    async fn get_object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        reads::object(&self.reader, bucket, key).await
    }

    async fn delete_object(
        &self,
        project: &ProjectId,
        bucket: &BucketId,
        key: &ObjectKey,
        now: Timestamp,
    ) -> StoreResult<Option<BlobId>> {
        writes::delete_object(self.write().await?, project, bucket, key, now).await
    }

    async fn list_objects(&self, bucket: &BucketId, request: &ObjectListRequest) -> StoreResult<ObjectPage> {
        reads::objects(self, bucket, request).await
    }

    async fn create_upload(&self, project: &ProjectId, upload: &MultipartUpload) -> StoreResult<()> {
        writes::create_upload(self.write().await?, project, upload).await
    }

    async fn find_upload(&self, id: &UploadId) -> StoreResult<Option<MultipartUpload>> {
        reads::upload(self, id).await
    }

    async fn put_part(
        &self,
        project: &ProjectId,
        upload: &UploadId,
        part: &UploadedPart,
    ) -> StoreResult<Option<BlobId>> {
        writes::put_part(self.write().await?, project, upload, part).await
    }

    async fn list_parts(&self, upload: &UploadId, after: u32, limit: u32) -> StoreResult<Vec<UploadedPart>> {
        reads::parts(self, upload, after, limit).await
    }

    async fn list_uploads(
        &self,
        bucket: &BucketId,
        prefix: &str,
        after: Option<(&ObjectKey, Option<&UploadId>)>,
        limit: u32,
    ) -> StoreResult<Vec<MultipartUpload>> {
        reads::uploads(self, bucket, prefix, after, limit).await
    }

    async fn complete_upload(
        &self,
        project: &ProjectId,
        upload: &UploadId,
        object: Object,
        used: &[(u32, BlobId)],
    ) -> StoreResult<Option<BlobId>> {
        writes::complete_upload(self.write().await?, project, upload, object, used).await
    }

    async fn abort_upload(&self, upload: &UploadId, now: Timestamp) -> StoreResult<bool> {
        writes::abort_upload(self.write().await?, upload, now).await
    }

    async fn uploads_started_before(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<UploadId>> {
        reads::uploads_started_before(self, before, limit).await
    }

    async fn garbage_blobs(&self, limit: u32, now: Timestamp) -> StoreResult<Vec<BlobId>> {
        reads::garbage(self, limit, now).await
    }

    async fn hold_garbage(&self, holder: &str, until: Timestamp) -> StoreResult<()> {
        writes::hold_garbage(self.write().await?, holder, until).await
    }

    async fn release_garbage(&self, holder: &str) -> StoreResult<()> {
        writes::release_garbage(self.write().await?, holder).await
    }

    async fn forget_garbage(&self, blobs: &[BlobId]) -> StoreResult<()> {
        writes::forget_garbage(self.write().await?, blobs).await
    }

    async fn known_blobs(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
        reads::known_blobs(self, blobs).await
    }
}
