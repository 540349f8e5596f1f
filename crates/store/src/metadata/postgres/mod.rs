//! The metadata store on PostgreSQL, for several API nodes sharing one database: the same
//! tables, indexes and triggers as SQLite's (`migrations/postgres`) but for SQLite's own
//! list-page JSON in bucket rows (`sqlite::listed_json`, which measured slower here), the same
//! sequences of statements (`metadata::writes`), in PostgreSQL's dialect.
//!
//! Writes run at READ COMMITTED and lock the rows they depend on (`FOR UPDATE`); a listing
//! reads its page, `total` and `offset` in one REPEATABLE READ, READ ONLY transaction (one
//! snapshot). The per-request reads (an API key with its project's data version, a data
//! version, the usage of a page's buckets) are one indexed statement each, with no memory of
//! earlier answers: every node sees every other node's commits on its next request.
//! Migrations run at start-up under PostgreSQL's advisory lock (sqlx takes it), so nodes that
//! start together migrate once.

mod counts;
pub(crate) mod errors;
mod listing;
mod reads;
mod statements;

use crate::metadata::PageSink;
use crate::metadata::pools;
use crate::metadata::rows::{self, KEY_COLUMNS};
use crate::metadata::writes::{self, WriteTx};
use crate::metadata::{
    ApiKeyRecord, BucketPatch, BucketUsage, DataVersion, FoundApiKey, MetadataStore, NewBucket, ObjectListRequest,
    ObjectPage, PurgedBucket, PutConditions,
};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::UploadId;
use cloudnexus_core::listing::{ListRequest, PageSummary};
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{
    ApiKeyId, BlobId, Bucket, BucketId, BucketRef, Object, ObjectKey, Project, ProjectId, ProjectName, Timestamp,
};
pub(crate) use errors::backend;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Postgres, Row, Transaction};
use std::collections::HashMap;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections each node keeps at most. Requests hold one for a statement or a short
/// transaction; 16 per node serve thousands of requests a second and leave a server with the
/// default `max_connections` (100) room for several nodes and the admin commands.
const POOL_SIZE: u32 = 16;
/// How long a request waits for a connection (or the first connect for one) before it answers
/// 503: past it, the database is unreachable or saturated.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL implementation of [`MetadataStore`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// The connection pool (the migration inserts through it).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST:PORT/DB`) and applies
    /// pending migrations. Fails at once when the database cannot be reached within a few
    /// seconds, or when its schema is newer than this binary's.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse().map_err(backend)?;
        let options = options.application_name("cloudnexus");
        let pool = pools::options::<Postgres>()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(backend)?;
        MIGRATOR.run(&pool).await.map_err(errors::migration)?;
        Ok(Self { pool })
    }

    /// A write transaction (READ COMMITTED; the sequences lock what they read).
    async fn write(&self) -> StoreResult<Box<dyn WriteTx>> {
        let tx = begin(&self.pool, "BEGIN").await?;
        Ok(Box::new(statements::Write(tx)))
    }

    /// A read transaction: every statement in it sees the same snapshot.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        begin(&self.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
    }
}

/// Begins a transaction with `statement`, in a task of its own so that the caller's
/// cancellation cannot cut it short. sqlx (0.8.6) counts a transaction as open only once the
/// answer to its `BEGIN` has arrived; a future dropped between sending `BEGIN` and reading the
/// answer (a client that hangs up) leaves the database inside a transaction that sqlx does not
/// know of, which neither its rollback on drop nor the pool's release check
/// (`pools::options`) sees, so the next borrower's statements run inside it: a read-only one
/// fails their writes, a repeatable-read one hands them its old snapshot. In a task, the
/// `BEGIN` completes; a transaction its caller no longer waits for is dropped there and rolls
/// back as any dropped transaction does.
async fn begin(pool: &PgPool, statement: &'static str) -> StoreResult<Transaction<'static, Postgres>> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        .map_err(|e| StoreError::other(format!("beginning a transaction: {e}")))?
        .map_err(backend)
}

/// A count or size as stored (BIGINT) as the `u64` the domain uses; never negative in practice.
fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl MetadataStore for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
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
        let columns = KEY_COLUMNS
            .split(", ")
            .map(|c| format!("k.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "SELECT {columns}, p.data_version FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|row| {
            Ok(FoundApiKey {
                record: rows::api_key(&row)?,
                data_version: DataVersion(row.try_get("data_version").map_err(backend)?),
                stamp: None,
            })
        })
        .transpose()
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
        let version: Option<i64> = sqlx::query_scalar("SELECT data_version FROM projects WHERE id = $1")
            .bind(project.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        version.map(DataVersion).ok_or(StoreError::NotFound)
    }

    async fn list_buckets_into(
        &self,
        project: &ProjectId,
        request: &ListRequest,
        sink: &mut dyn PageSink,
    ) -> StoreResult<PageSummary> {
        listing::list(self, project, request, sink).await
    }

    async fn bucket_usage(&self, project: &ProjectId, buckets: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>> {
        let ids: Vec<&str> = buckets.iter().map(BucketId::as_str).collect();
        let found: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT id, size_bytes, object_count FROM buckets WHERE project_id = $1 AND id = ANY($2)")
                .bind(project.as_str())
                .bind(ids)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        let by_id: HashMap<String, BucketUsage> = found
            .into_iter()
            .map(|(id, size, count)| {
                let usage = BucketUsage {
                    size_bytes: non_negative(size),
                    object_count: non_negative(count),
                };
                (id, usage)
            })
            .collect();
        Ok(buckets.iter().map(|id| by_id.get(id.as_str()).copied()).collect())
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
        writes::put_object(self.write().await?, project, object, None, conditions).await
    }

    async fn put_inline_object(
        &self,
        project: &ProjectId,
        object: Object,
        bytes: Bytes,
        conditions: &PutConditions,
    ) -> StoreResult<Option<BlobId>> {
        writes::put_object(self.write().await?, project, object, Some(&bytes), conditions).await
    }

    async fn inline_blob(&self, blob: &BlobId) -> StoreResult<Option<Bytes>> {
        let bytes: Option<Vec<u8>> = sqlx::query_scalar("SELECT bytes FROM inline_blobs WHERE blob_id = $1")
            .bind(blob.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(bytes.map(Bytes::from))
    }

    async fn get_object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        reads::object(&self.pool, bucket, key).await
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

    async fn kept_inline(&self, blobs: &[BlobId]) -> StoreResult<Vec<BlobId>> {
        reads::kept_inline(self, blobs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction whose caller goes away after its `BEGIN` was sent and before the answer
    /// (polled once, then dropped) leaves no transaction open on the connection the pool hands
    /// out next, whichever kind it was.
    #[tokio::test]
    async fn a_begin_cut_short_leaves_no_transaction_behind() {
        let url = crate::testing::new_postgres_database().await;
        let pool = pools::options::<Postgres>()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        for statement in ["BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"] {
            // Cut short after more and more polls, some of them while the BEGIN is answered.
            for round in 0..100 {
                sqlx::query("SELECT 1").execute(&pool).await.unwrap();
                let mut beginning = Box::pin(begin(&pool, statement));
                for _ in 0..round {
                    if futures_util::poll!(beginning.as_mut()).is_ready() {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                drop(beginning);
                // Outside a transaction a query is its own, which starts as the query does (sent
                // as a simple query: one message, so both times are its receipt).
                let outside: bool = sqlx::raw_sql("SELECT now() = statement_timestamp()")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
                assert!(
                    outside,
                    "round {round} of {statement}: the next statement ran in a leftover transaction"
                );
            }
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn nodes_that_start_together_on_a_new_database_migrate_it_once() {
        let url = crate::testing::new_postgres_database().await;
        let opening = (0..3).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::open(&url).await })
        });
        let mut stores = Vec::new();
        for task in opening {
            stores.push(task.await.unwrap().expect("every node opens the store"));
        }
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&stores[0].pool)
                .await
                .unwrap();
        let expected: Vec<(i64, bool)> = MIGRATOR.iter().map(|m| (m.version, true)).collect();
        assert_eq!(applied, expected, "each migration applied once");
        for store in &stores {
            store.ping().await.unwrap();
            store.close().await;
        }
    }
}
