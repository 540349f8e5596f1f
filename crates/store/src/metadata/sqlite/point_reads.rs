//! The reads on the path of every request, answered on the calling thread: an API key by id,
//! a project's data version, the usage of the buckets on a cached list page, and the bucket and
//! object lookups of object requests.
//!
//! sqlx runs each SQLite connection on a worker thread of its own, so every statement through
//! it costs several handoffs between threads, tens of microseconds in all. These reads are
//! primary-key lookups that SQLite answers in a few microseconds, so they go through plain
//! `rusqlite` connections instead, read-only and guarded by a mutex. In WAL mode a reader never
//! waits for the writer, so holding an async worker for one of them is as short as a lock.
//! Each statement runs in its own read transaction: what it returns is one committed snapshot.
//!
//! The listing (`listing`) runs its few statements on connections of this reader too, taken
//! for the whole listing from a small set of spare ones ([`PointReader::take_connection`]).
//!
//! Answers are also remembered with the [`CommitMark`] taken just before they were read, and
//! served again while the mark is unchanged: no transaction, from any process, has committed
//! since, so they are still the committed state. Then a request costs one `pread` of the WAL
//! index instead of a read transaction.

use super::columns;
use super::commit_watch::{CommitMark, CommitWatch};
use super::errors::rusqlite_failure as failed;
use crate::metadata::rows::{self, BUCKET_COLUMNS, OBJECT_COLUMNS, api_key_from_columns};
use crate::metadata::{BucketUsage, DataVersion, FoundApiKey, StoreStamp};
use crate::{StoreError, StoreResult};
use bytes::Bytes;
use cloudnexus_core::{ApiKeyId, BlobId, Bucket, BucketId, BucketRef, Object, ObjectKey, ProjectId};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// One connection per core is enough: a read holds its connection for microseconds.
const CONNECTIONS: usize = 2;
/// Spare connections kept for listings; more are opened when all are taken at once, and closed
/// when given back to a full set.
const SPARE_CONNECTIONS: usize = 4;
/// Statements kept prepared per connection: a listing's text differs per filter shape.
const PREPARED_STATEMENTS: usize = 64;
/// A reader waits only in rare cases (another process recovering the WAL index); it gives up
/// sooner than the pools do, since it holds an async worker meanwhile.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

const FIND_API_KEY: &str = "SELECT k.id, k.project_id, k.key_hash, k.scopes, k.created_at, k.revoked_at, \
     k.s3_secret, p.data_version FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.id = ?1";
const DATA_VERSION: &str = "SELECT data_version FROM projects WHERE id = ?1";
const BUCKET_USAGE: &str = "SELECT size_bytes, object_count FROM buckets WHERE id = ?1 AND project_id = ?2";
/// At most this many answers of each kind are remembered (one per key or project in use); when
/// full, all are forgotten at once and read again as they are asked for.
const REMEMBERED: usize = 10_000;

#[derive(Debug)]
pub(super) struct PointReader {
    path: std::path::PathBuf,
    connections: Vec<Mutex<Connection>>,
    /// Connections for listings, taken whole and given back.
    spare: Mutex<Vec<Connection>>,
    /// `None` when the database has no WAL index to watch: then nothing is remembered.
    watch: Option<CommitWatch>,
    keys: Remembered<ApiKeyId, FoundApiKey>,
    versions: Remembered<ProjectId, DataVersion>,
    /// The usage of a page's buckets, by a digest of the question (project and ids) it answers.
    usage: Remembered<u64, UsageAnswer>,
}

/// An answer of `bucket_usage`, with its question, so that a digest that collides is never
/// taken for another question's.
#[derive(Debug, Clone)]
struct UsageAnswer {
    project: ProjectId,
    buckets: Vec<BucketId>,
    usage: Vec<Option<BucketUsage>>,
}

/// The digest of a question to `bucket_usage`: its first and last buckets and its length tell
/// one page from another; a hit is checked against the whole question anyway.
fn digest(buckets: &[BucketId]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (buckets.first(), buckets.last(), buckets.len()).hash(&mut hasher);
    hasher.finish()
}

/// Answers of one kind of read, each with the mark taken before it was read.
#[derive(Debug)]
struct Remembered<K, V> {
    answers: Mutex<HashMap<K, (CommitMark, V)>>,
}

impl<K: Hash + Eq, V: Clone> Remembered<K, V> {
    fn new() -> Self {
        Self {
            answers: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K, now: Option<CommitMark>) -> Option<V> {
        self.read(key, now, |value| Some(value.clone()))
    }

    /// What `answer` makes of the remembered value, if it is still current.
    fn read<R>(&self, key: &K, now: Option<CommitMark>, answer: impl FnOnce(&V) -> Option<R>) -> Option<R> {
        let now = now?;
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        let (mark, value) = answers.get(key)?;
        if *mark == now { answer(value) } else { None }
    }

    fn keep(&self, key: K, read_after: Option<CommitMark>, value: V) {
        let Some(mark) = read_after else { return };
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= REMEMBERED && !answers.contains_key(&key) {
            answers.clear();
        }
        answers.insert(key, (mark, value));
    }
}

impl PointReader {
    /// Opens read-only connections to the database at `path`, which must exist and be migrated.
    pub(super) fn open(path: &Path) -> StoreResult<Self> {
        let connections = (0..CONNECTIONS)
            .map(|_| open_read_only(path).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(failed)?;
        // A first read maps the WAL index (creating it if need be) before it is watched.
        connections[0]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .query_row("SELECT count(*) FROM projects", [], |_| Ok(()))
            .map_err(failed)?;
        Ok(Self {
            path: path.to_owned(),
            connections,
            spare: Mutex::new(Vec::new()),
            watch: CommitWatch::open(path),
            keys: Remembered::new(),
            versions: Remembered::new(),
            usage: Remembered::new(),
        })
    }

    fn mark(&self) -> Option<CommitMark> {
        self.watch.as_ref().and_then(CommitWatch::mark)
    }

    pub(super) fn find_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>> {
        let mark = self.mark();
        if let Some(found) = self.keys.get(id, mark) {
            return Ok(Some(found));
        }
        let mut found = self.read_api_key(id)?;
        // The mark was taken before the read: the answer is the committed state as of it or later.
        if let Some(found) = &mut found {
            found.stamp = mark.map(|m| StoreStamp::new(m.0));
        }
        // Unknown ids are not remembered: guesses must not crowd out real keys.
        if let Some(found) = &found {
            self.keys.keep(id.clone(), mark, found.clone());
        }
        Ok(found)
    }

    pub(super) fn data_version(&self, project: &ProjectId) -> StoreResult<DataVersion> {
        let mark = self.mark();
        if let Some(version) = self.versions.get(project, mark) {
            return Ok(version);
        }
        let version = self.read_data_version(project)?;
        self.versions.keep(project.clone(), mark, version);
        Ok(version)
    }

    pub(super) fn bucket_usage(&self, project: &ProjectId, ids: &[BucketId]) -> StoreResult<Vec<Option<BucketUsage>>> {
        let mark = self.mark();
        let digest = digest(ids);
        let same_question = |a: &UsageAnswer| a.project == *project && a.buckets == ids;
        if let Some(usage) = self
            .usage
            .read(&digest, mark, |a| same_question(a).then(|| a.usage.clone()))
        {
            return Ok(usage);
        }
        // Read them all, in one snapshot.
        let read = self.with_connection(|c| {
            let tx = c.unchecked_transaction()?;
            let mut statement = tx.prepare_cached(BUCKET_USAGE)?;
            let read = ids
                .iter()
                .map(|id| {
                    statement
                        .query_row([id.as_str(), project.as_str()], |row| {
                            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                        })
                        .optional()
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(statement);
            tx.commit()?;
            Ok(read)
        })?;
        let usage: Vec<Option<BucketUsage>> = read
            .into_iter()
            .map(|found| {
                found.map(|(size, count)| BucketUsage {
                    size_bytes: u64::try_from(size).unwrap_or(0),
                    object_count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect();
        let answer = UsageAnswer {
            project: project.clone(),
            buckets: ids.to_vec(),
            usage: usage.clone(),
        };
        self.usage.keep(digest, mark, answer);
        Ok(usage)
    }

    /// A bucket by id or name, of `project` only (of any project when `None`): one read of a
    /// unique index, not remembered (a write's lookups are followed by the write's commit).
    pub(super) fn bucket(&self, project: Option<&ProjectId>, bucket: &BucketRef) -> StoreResult<Option<Bucket>> {
        let (column, value) = match bucket {
            BucketRef::Id(id) => ("id", id.as_str()),
            BucketRef::Name(name) => ("name", name.as_str()),
        };
        let found = self.with_connection(|c| match project {
            Some(project) => c
                .prepare_cached(&format!(
                    "SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.{column} = ?1 AND b.project_id = ?2"
                ))?
                .query_row([value, project.as_str()], columns::bucket)
                .optional(),
            None => c
                .prepare_cached(&format!("SELECT {BUCKET_COLUMNS} FROM buckets b WHERE b.{column} = ?1"))?
                .query_row([value], columns::bucket)
                .optional(),
        })?;
        found.transpose()
    }

    /// The object at `key` in `bucket`: one read of the primary key, not remembered.
    pub(super) fn object(&self, bucket: &BucketId, key: &ObjectKey) -> StoreResult<Option<Object>> {
        let found = self.with_connection(|c| {
            c.prepare_cached(&format!(
                "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket_id = ?1 AND object_key = ?2"
            ))?
            .query_row([bucket.as_str(), key.as_str()], columns::object)
            .optional()
        })?;
        found.map(rows::object_from_columns).transpose()
    }

    /// The bytes of a blob the metadata keeps: one read of the primary key, not remembered.
    pub(super) fn inline_blob(&self, blob: &BlobId) -> StoreResult<Option<Bytes>> {
        let found = self.with_connection(|c| {
            c.prepare_cached("SELECT bytes FROM inline_blobs WHERE blob_id = ?1")?
                .query_row([blob.as_str()], |row| row.get::<_, Vec<u8>>(0))
                .optional()
        })?;
        Ok(found.map(Bytes::from))
    }

    fn read_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<FoundApiKey>> {
        let found = self.with_connection(|c| {
            c.prepare_cached(FIND_API_KEY)?
                .query_row([id.as_str()], |row| Ok((columns::api_key(row)?, row.get::<_, i64>(7)?)))
                .optional()
        })?;
        found
            .map(|(columns, version)| {
                Ok(FoundApiKey {
                    record: api_key_from_columns(columns)?,
                    data_version: DataVersion(version),
                    stamp: None,
                })
            })
            .transpose()
    }

    fn read_data_version(&self, project: &ProjectId) -> StoreResult<DataVersion> {
        self.with_connection(|c| {
            c.prepare_cached(DATA_VERSION)?
                .query_row([project.as_str()], |row| row.get::<_, i64>(0))
                .optional()
        })?
        .map(DataVersion)
        .ok_or(StoreError::NotFound)
    }

    /// A connection for the caller alone (a listing's read transaction): a spare one, or a new
    /// one when none is spare. Give it back with [`PointReader::give_back`] when its
    /// transaction has ended.
    pub(super) fn take_connection(&self) -> StoreResult<Connection> {
        let spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match spare {
            Some(connection) => Ok(connection),
            None => open_read_only(&self.path).map_err(failed),
        }
    }

    /// Keeps `connection` for the next listing, or closes it when enough are spare.
    pub(super) fn give_back(&self, connection: Connection) {
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < SPARE_CONNECTIONS {
            spare.push(connection);
        }
    }

    /// Runs `read` on a free connection, or waits for the first one when all are busy.
    fn with_connection<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let free = self.connections.iter().find_map(|c| c.try_lock().ok());
        let connection = match free {
            Some(guard) => guard,
            None => self.connections[0].lock().unwrap_or_else(PoisonError::into_inner),
        };
        read(&connection).map_err(failed)
    }
}

/// A read-only connection to the database at `path`, which must exist and be migrated.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    Ok(connection)
}
