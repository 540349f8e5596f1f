//! The embedded metadata store: one SQLite file in the data folder, in WAL mode with
//! `synchronous=FULL`, so that every acknowledged write survives a crash or power loss.
//!
//! Writes run on one thread that owns the one read-write connection (`writer`), several at a
//! time in one transaction that takes the write lock up front (`BEGIN IMMEDIATE`) and commits
//! with one fsync (group commit); reads use read-only connections, which WAL lets run beside
//! the writer. Other processes (the admin commands) may open the same file at once. The
//! per-request point reads and the listing skip sqlx and remember answers until the next
//! commit (`point_reads`, `commit_watch`): tricks that only a file-backed, single-machine
//! database allows, which is why they live here. sqlx remains for the migrations and the
//! reads that are not on a request's hot path (`reads`).

mod checkpointer;
mod columns;
mod commit_watch;
mod counts;
pub(crate) mod errors;
mod listed_json;
mod listing;
mod point_reads;
mod reads;
mod statements;
mod writer;

use crate::StoreResult;
use crate::metadata::PageSink;
use crate::metadata::pools;
use crate::metadata::writes::{self, WriteTx};
use crate::metadata::{
    ApiKeyRecord, BucketPatch, BucketUsage, DataVersion, FoundApiKey, MetadataStore, NewBucket, ObjectListRequest,
    ObjectPage, PurgedBucket, PutConditions,
};
use async_trait::async_trait;
use bytes::Bytes;
use checkpointer::Checkpointer;
use cloudnexus_core::UploadId;
use cloudnexus_core::listing::{ListRequest, PageSummary};
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
use writer::Writer;

/// The file name of the metadata database inside the data folder.
pub const DATABASE_FILE: &str = "metadata.db";
/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READ_CONNECTIONS: u32 = 4;
/// Statements the writer's connection keeps prepared (every write statement fits).
const WRITE_STATEMENTS: usize = 64;

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
    /// The writer thread, which runs every write sequence (see `writer`).
    writer: Arc<Writer>,
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
        {
            let _migrating = lock_for_migration(data_dir).await?;
            let migrator = pools::options::<Sqlite>()
                .max_connections(1)
                .connect_with(base.clone().create_if_missing(true))
                .await
                .map_err(backend)?;
            MIGRATOR.run(&migrator).await.map_err(errors::migration)?;
            migrator.close().await;
            // A row without its JSON for list pages is still listed (from its fields), so a
            // failure to fill them in is reported, not fatal.
            let filled = open_read_write(&path)
                .map_err(errors::rusqlite_failure)
                .and_then(|mut connection| listed_json::fill_in(&mut connection));
            match filled {
                Ok(0) => {}
                Ok(rows) => tracing::info!(rows, "wrote the list-page JSON of buckets that had none"),
                Err(e) => tracing::warn!(error = %e, "could not write every bucket's list-page JSON"),
            }
        }
        let checkpointer =
            Checkpointer::start(open_read_write(&path).map_err(errors::rusqlite_failure)?).map_err(errors::io)?;
        let writer = open_read_write(&path).map_err(errors::rusqlite_failure)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", checkpointer::WRITER_AUTOCHECKPOINT_PAGES)
            .map_err(errors::rusqlite_failure)?;
        let writer = Arc::new(Writer::start(writer, checkpointer).map_err(errors::io)?);
        let reader = pools::options::<Sqlite>()
            .max_connections(READ_CONNECTIONS)
            .connect_with(base.read_only(true))
            .await
            .map_err(backend)?;
        let point_reader = Arc::new(PointReader::open(&path)?);
        let store = Self {
            writer,
            reader,
            point_reader,
        };
        Ok(store)
    }

    /// Runs a write sequence of `metadata::writes` on the writer thread, in the next batch
    /// (`writer`); its outcome once the batch has committed.
    async fn write<T, F, Fut>(&self, sequence: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn WriteTx>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        self.writer.run(sequence).await
    }

    /// A read transaction: every statement in it sees the same snapshot.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.reader.begin().await.map_err(backend)
    }
}

/// A read-write connection to the migrated database at `path` (the writer's, the
/// checkpointer's). Durability and foreign keys are settings of each connection, not of the
/// file.
fn open_read_write(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let connection = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(WRITE_STATEMENTS);
    Ok(connection)
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

    /// Closes the read pool, waiting for connections in use to come back, and the writer once
    /// the writes already sent are done.
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn secret(&self, name: &str, candidate: [u8; 32], now: Timestamp) -> StoreResult<[u8; 32]> {
        let name = name.to_owned();
        self.write(move |tx| async move { writes::secret(tx, &name, candidate, now).await })
            .await
    }

    async fn create_project(&self, id: ProjectId, name: ProjectName, now: Timestamp) -> StoreResult<Project> {
        let project = Project {
            id,
            name,
            created_at: now,
        };
        self.write(move |tx| async move { writes::create_project(tx, project).await })
            .await
    }

    async fn find_project(&self, id_or_name: &str) -> StoreResult<Option<Project>> {
        reads::project(self, id_or_name).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        reads::projects(self).await
    }

    async fn create_api_key(&self, record: ApiKeyRecord) -> StoreResult<()> {
        self.write(move |tx| async move { writes::create_api_key(tx, record).await })
            .await
    }

    async fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>> {
        self.point_reader.find_api_key(id)
    }

    async fn list_api_keys(&self, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        reads::api_keys(self, project).await
    }

    async fn revoke_api_key(&self, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord> {
        let id = id.to_owned();
        self.write(move |tx| async move { writes::revoke_api_key(tx, &id, now).await })
            .await
    }

    async fn revoked_api_keys_since(&self, since: Timestamp) -> StoreResult<Vec<ApiKeyId>> {
        reads::revoked_since(self, since).await
    }

    async fn create_bucket(&self, bucket: NewBucket) -> StoreResult<Bucket> {
        self.write(move |tx| async move { writes::create_bucket(tx, bucket).await })
            .await
    }

    async fn create_buckets(&self, buckets: Vec<NewBucket>) -> StoreResult<()> {
        self.write(move |tx| async move { writes::create_buckets(tx, buckets).await })
            .await
    }

    async fn get_bucket(&self, project: &ProjectId, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        self.point_reader.bucket(Some(project), bucket)
    }

    async fn update_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        patch: BucketPatch,
        now: Timestamp,
    ) -> StoreResult<Bucket> {
        let (project, id) = (project.to_owned(), id.to_owned());
        self.write(move |tx| async move { writes::update_bucket(tx, &project, &id, patch, now).await })
            .await
    }

    async fn soft_delete_bucket(
        &self,
        project: &ProjectId,
        id: &BucketId,
        now: Timestamp,
        purge_at: Timestamp,
    ) -> StoreResult<Bucket> {
        let (project, id) = (project.to_owned(), id.to_owned());
        self.write(move |tx| async move { writes::soft_delete_bucket(tx, &project, &id, now, purge_at).await })
            .await
    }

    async fn restore_bucket(&self, project: &ProjectId, id: &BucketId, now: Timestamp) -> StoreResult<Bucket> {
        let (project, id) = (project.to_owned(), id.to_owned());
        self.write(move |tx| async move { writes::restore_bucket(tx, &project, &id, now).await })
            .await
    }

    async fn purge_due_buckets(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PurgedBucket>> {
        let mut purged = Vec::new();
        for candidate in reads::due_buckets(self, now, limit).await? {
            purged.extend(
                self.write(move |tx| async move { writes::purge_bucket(tx, candidate, now).await })
                    .await?,
            );
        }
        Ok(purged)
    }

    async fn data_version(&self, project: &ProjectId) -> StoreResult<DataVersion> {
        self.point_reader.data_version(project)
    }

    async fn list_buckets_into(
        &self,
        project: &ProjectId,
        request: &ListRequest,
        sink: &mut dyn PageSink,
    ) -> StoreResult<PageSummary> {
        listing::list(&self.point_reader, project, request, sink).await
    }

    async fn bucket_usage(&self, project: &ProjectId, buckets: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>> {
        self.point_reader.bucket_usage(project, buckets)
    }

    async fn get_bucket_any_project(&self, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        self.point_reader.bucket(None, bucket)
    }

    async fn put_object(
        &self,
        project: &ProjectId,
        object: Object,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>> {
        let (project, conditions) = (project.to_owned(), conditions.to_owned());
        self.write(move |tx| async move { writes::put_object(tx, &project, object, None, &conditions).await })
            .await
    }

    async fn put_inline_object(
        &self,
        project: &ProjectId,
        object: Object,
        bytes: Bytes,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>> {
        let (project, conditions) = (project.clone(), conditions.clone());
        self.write(move |tx| async move { writes::put_object(tx, &project, object, Some(&bytes), &conditions).await })
            .await
    }

    async fn inline_blob(&self, blob: &BlobId) -> StoreResult<Option<Bytes>> {
        self.point_reader.inline_blob(blob)
    }

    async fn get_object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        self.point_reader.object(bucket, key)
    }

    async fn delete_object(
        &self,
        project: &ProjectId,
        bucket: &BucketId,
        key: &ObjectKey,
        now: Timestamp,
    ) -> StoreResult<Option<BlobId>> {
        let (project, bucket, key) = (project.to_owned(), bucket.to_owned(), key.to_owned());
        self.write(move |tx| async move { writes::delete_object(tx, &project, &bucket, &key, now).await })
            .await
    }

    async fn list_objects(&self, bucket: &BucketId, request: &ObjectListRequest) -> StoreResult<ObjectPage> {
        reads::objects(self, bucket, request).await
    }

    async fn create_upload(&self, project: &ProjectId, upload: &MultipartUpload) -> StoreResult<()> {
        let (project, upload) = (project.to_owned(), upload.to_owned());
        self.write(move |tx| async move { writes::create_upload(tx, &project, &upload).await })
            .await
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
        let (project, upload, part) = (project.to_owned(), upload.to_owned(), part.to_owned());
        self.write(move |tx| async move { writes::put_part(tx, &project, &upload, &part).await })
            .await
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
        let (project, upload, used) = (project.to_owned(), upload.to_owned(), used.to_owned());
        self.write(move |tx| async move { writes::complete_upload(tx, &project, &upload, object, &used).await })
            .await
    }

    async fn abort_upload(&self, upload: &UploadId, now: Timestamp) -> StoreResult<bool> {
        let upload = upload.to_owned();
        self.write(move |tx| async move { writes::abort_upload(tx, &upload, now).await })
            .await
    }

    async fn uploads_started_before(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<UploadId>> {
        reads::uploads_started_before(self, before, limit).await
    }

    async fn garbage_blobs(&self, limit: u32, now: Timestamp) -> StoreResult<Vec<BlobId>> {
        reads::garbage(self, limit, now).await
    }

    async fn hold_garbage(&self, holder: &str, until: Timestamp) -> StoreResult<()> {
        let holder = holder.to_owned();
        self.write(move |tx| async move { writes::hold_garbage(tx, &holder, until).await })
            .await
    }

    async fn release_garbage(&self, holder: &str) -> StoreResult<()> {
        let holder = holder.to_owned();
        self.write(move |tx| async move { writes::release_garbage(tx, &holder).await })
            .await
    }

    async fn forget_garbage(&self, blobs: &[BlobId]) -> StoreResult<()> {
        let blobs = blobs.to_owned();
        self.write(move |tx| async move { writes::forget_garbage(tx, &blobs).await })
            .await
    }

    async fn known_blobs(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
        reads::known_blobs(self, blobs).await
    }

    async fn kept_inline(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
        reads::kept_inline(self, blobs).await
    }
}
