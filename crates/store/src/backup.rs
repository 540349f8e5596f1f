//! Online backup and restore of an embedded data folder (SQLite metadata and `blobs/`), safe
//! while a server serves the folder.
//!
//! A backup:
//! 1. holds garbage collection ([`MetadataStore::hold_garbage`], renewed while it runs, expiring
//!    by itself if the backup dies), so no blob its snapshot references is removed under it;
//! 2. takes a consistent snapshot of the metadata with `VACUUM INTO` (one read transaction:
//!    writers go on meanwhile);
//! 3. copies every blob the snapshot references (objects and multipart parts), checking each
//!    one's size and MD5 against the snapshot, each file fsynced;
//! 4. drops the snapshot's garbage queue (those bytes are not copied) and holds;
//! 5. writes `backup.json` last: a folder without it is an unfinished backup, which restore
//!    refuses.
//!
//! A restore checks the manifest, copies and checks every referenced blob again, puts the
//! metadata in place last (a restore that fails leaves the target without metadata, so it can
//! be run again), and then opens the store, which applies the migrations of a newer binary.
//!
//! The layout of a backup is the layout of a data folder, so a backup can also be served as it
//! is (read it, never write it: that would make it a different copy).

use crate::metadata::SqliteStore;
use crate::metadata::sqlite::errors::backend as sqlite_error;
use crate::metadata::sqlite::{DATABASE_FILE, latest_schema_version};
use crate::{LocalBlobStore, MetadataStore, StoreError};
use cloudnexus_core::{BlobId, Clock, SystemClock};
use md5::{Digest, Md5};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The manifest's file name; written last.
pub const MANIFEST_FILE: &str = "backup.json";
/// The manifest format this binary writes and reads.
const FORMAT: u32 = 1;
/// How long a hold lasts unless renewed: long enough to survive a stall, short enough that the
/// garbage of a dead backup is collected soon after.
const HOLD_SECONDS: i64 = 120;
/// How often a running backup renews its hold.
const RENEW_EVERY: Duration = Duration::from_secs(30);
const COPY_BUFFER: usize = 1 << 20;

/// What a backup holds; written to `backup.json`, and returned by backup and restore.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupManifest {
    pub format: u32,
    /// When the snapshot was taken (RFC 3339).
    pub created_at: String,
    /// The schema version (the last migration) of the snapshot.
    pub schema_version: i64,
    pub projects: u64,
    pub api_keys: u64,
    pub buckets: u64,
    pub objects: u64,
    /// Parts of multipart uploads in progress.
    pub parts: u64,
    /// Blob files copied, and their bytes.
    pub blobs: u64,
    pub bytes: u64,
    /// Other files of the data folder copied beside the metadata (the S3 master key).
    pub files: Vec<String>,
}

/// Why a backup or restore did not complete.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} holds no metadata ({DATABASE_FILE}); is it the data folder?")]
    NoMetadata(PathBuf),
    #[error("{0} is not empty; back up into a new or empty folder")]
    TargetNotEmpty(PathBuf),
    #[error("{0} already holds metadata ({DATABASE_FILE}); restore into a new or empty data folder")]
    DataFolderInUse(PathBuf),
    #[error(
        "the data folder is at schema version {found} and this binary's is {expected}: back it up with the binary that serves it"
    )]
    OtherSchemaVersion { found: i64, expected: i64 },
    #[error(
        "the backup is at schema version {found}, newer than this binary's ({expected}): restore it with a newer binary"
    )]
    NewerBackup { found: i64, expected: i64 },
    #[error("{MANIFEST_FILE} names {0:?}, which is not a file of a data folder")]
    BadFileName(String),
    #[error("{0} has no {MANIFEST_FILE}: it is not a backup, or one that did not finish")]
    NoManifest(PathBuf),
    #[error("{MANIFEST_FILE} is format {0}; this binary reads format {FORMAT}")]
    UnknownFormat(u32),
    #[error("blob {blob}: {problem}")]
    Blob { blob: String, problem: String },
    #[error("the restored metadata holds {found} {what}, the manifest says {expected}")]
    Mismatch {
        what: &'static str,
        found: u64,
        expected: u64,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// A blob the metadata references, with what its bytes must be.
#[derive(Debug, Clone)]
struct Referenced {
    id: BlobId,
    size: u64,
    /// The MD5 of its bytes, when the metadata knows it (not for a multipart object's ETag).
    md5: Option<[u8; 16]>,
}

/// Copies the data folder `data_dir` (served or not) into the new or empty folder `to`,
/// with `extra_files` of the data folder (names relative to it) when they exist.
pub async fn backup_embedded(data_dir: &Path, to: &Path, extra_files: &[&str]) -> Result<BackupManifest, BackupError> {
    if !data_dir.join(DATABASE_FILE).exists() {
        return Err(BackupError::NoMetadata(data_dir.to_owned()));
    }
    // Opening the store migrates: never let a newer binary change a folder an older one serves.
    let mut live = open_file(&data_dir.join(DATABASE_FILE), true).await?;
    let found = schema_version(&mut live).await?;
    live.close().await.map_err(sqlite_error)?;
    let expected = latest_schema_version();
    if found != expected {
        return Err(BackupError::OtherSchemaVersion { found, expected });
    }
    ensure_empty(to)?;
    let store = Arc::new(SqliteStore::open(data_dir).await?);
    let holder = format!("backup-{}-{}", std::process::id(), BlobId::generate().as_str());
    let hold_until = || SystemClock.now().plus_seconds(HOLD_SECONDS);
    store.hold_garbage(&holder, hold_until()).await?;
    let renewal = {
        let (store, holder) = (store.clone(), holder.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if let Err(e) = store.hold_garbage(&holder, hold_until()).await {
                    tracing::warn!(error = %e, "renewing the backup's hold on garbage collection failed");
                }
            }
        })
    };
    let result = copy_folder(&store, data_dir, to, extra_files).await;
    renewal.abort();
    let released = store.release_garbage(&holder).await;
    store.close().await;
    let manifest = result?;
    released?;
    Ok(manifest)
}

async fn copy_folder(
    store: &SqliteStore,
    data_dir: &Path,
    to: &Path,
    extra_files: &[&str],
) -> Result<BackupManifest, BackupError> {
    let created_at = SystemClock.now();
    let snapshot = to.join(DATABASE_FILE);
    sqlx::query("VACUUM INTO ?")
        .bind(snapshot.to_string_lossy().into_owned())
        .execute(store.reader_pool())
        .await
        .map_err(sqlite_error)?;
    let mut connection = open_file(&snapshot, false).await?;
    // Its queued garbage is not copied, and nothing holds the copy's collection.
    sqlx::query("DELETE FROM blob_garbage")
        .execute(&mut connection)
        .await
        .map_err(sqlite_error)?;
    sqlx::query("DELETE FROM garbage_holds")
        .execute(&mut connection)
        .await
        .map_err(sqlite_error)?;
    let mut manifest = summarize(&mut connection, created_at.to_rfc3339()).await?;
    let blobs = referenced_blobs(&mut connection).await?;
    connection.close().await.map_err(sqlite_error)?;
    sync_file(&snapshot)?;

    let (count, bytes) = copy_blobs(data_dir, to, blobs).await?;
    manifest.blobs = count;
    manifest.bytes = bytes;
    for name in extra_files {
        let source = data_dir.join(name);
        if source.exists() {
            copy_file(&source, &to.join(name))?;
            manifest.files.push((*name).to_owned());
        }
    }
    write_manifest(to, &manifest)?;
    Ok(manifest)
}

/// Brings the backup in `from` back as the data folder `data_dir`, which must hold no metadata.
pub async fn restore_embedded(from: &Path, data_dir: &Path) -> Result<BackupManifest, BackupError> {
    let manifest_path = from.join(MANIFEST_FILE);
    let manifest: BackupManifest = match std::fs::read(&manifest_path) {
        Ok(text) => serde_json::from_slice(&text).map_err(|e| BackupError::Io {
            what: format!("cannot read {}", manifest_path.display()),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BackupError::NoManifest(from.to_owned())),
        Err(e) => return Err(io_error(format!("cannot read {}", manifest_path.display()))(e)),
    };
    if manifest.format != FORMAT {
        return Err(BackupError::UnknownFormat(manifest.format));
    }
    let expected = latest_schema_version();
    if manifest.schema_version > expected {
        return Err(BackupError::NewerBackup {
            found: manifest.schema_version,
            expected,
        });
    }
    // Only plain file names, so a manifest cannot write outside the data folder.
    if let Some(bad) = manifest
        .files
        .iter()
        .find(|name| name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.'))
    {
        return Err(BackupError::BadFileName(bad.clone()));
    }
    // A leftover WAL would be replayed into the restored database.
    for leftover in ["", "-wal", "-shm"] {
        if data_dir.join(format!("{DATABASE_FILE}{leftover}")).exists() {
            return Err(BackupError::DataFolderInUse(data_dir.to_owned()));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io_error(format!("cannot create {}", data_dir.display())))?;

    let mut connection = open_file(&from.join(DATABASE_FILE), true).await?;
    let blobs = referenced_blobs(&mut connection).await?;
    connection.close().await.map_err(sqlite_error)?;
    copy_blobs(from, data_dir, blobs).await?;
    for name in &manifest.files {
        copy_file(&from.join(name), &data_dir.join(name))?;
    }
    // The metadata last, under a temporary name until it is whole.
    let restoring = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    copy_file(&from.join(DATABASE_FILE), &restoring)?;
    std::fs::rename(&restoring, data_dir.join(DATABASE_FILE)).map_err(io_error(format!(
        "cannot move the metadata into {}",
        data_dir.display()
    )))?;
    sync_dir(data_dir)?;
    let checked = open_and_check(data_dir, &manifest).await;
    if checked.is_err() {
        // Leave no metadata behind, so the restore can be run again.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(data_dir.join(format!("{DATABASE_FILE}{suffix}")));
        }
    }
    checked?;
    Ok(manifest)
}

/// Opens the restored folder (which applies the migrations this binary has beyond the
/// backup's) and checks its counts against the manifest.
async fn open_and_check(data_dir: &Path, manifest: &BackupManifest) -> Result<(), BackupError> {
    let store = SqliteStore::open(data_dir).await?;
    let mut check = store.reader_pool().acquire().await.map_err(sqlite_error)?;
    let restored = summarize(&mut check, manifest.created_at.clone()).await;
    drop(check);
    store.close().await;
    let restored = restored?;
    for (what, found, expected) in [
        ("projects", restored.projects, manifest.projects),
        ("API keys", restored.api_keys, manifest.api_keys),
        ("buckets", restored.buckets, manifest.buckets),
        ("objects", restored.objects, manifest.objects),
        ("parts", restored.parts, manifest.parts),
    ] {
        if found != expected {
            return Err(BackupError::Mismatch { what, found, expected });
        }
    }
    Ok(())
}

/// Checks that `dir` is empty, creating it (readable by its owner only: a backup holds
/// secrets) when it does not exist.
fn ensure_empty(dir: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::TargetNotEmpty(dir.to_owned()));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_error(format!("cannot create {}", dir.display())))
        }
        Err(e) => Err(io_error(format!("cannot read {}", dir.display()))(e)),
    }
}

async fn open_file(path: &Path, read_only: bool) -> Result<SqliteConnection, BackupError> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .connect()
        .await
        .map_err(|e| sqlite_error(e).into())
}

/// The snapshot's counts and schema version (blob figures are filled in by the copy).
async fn summarize(connection: &mut SqliteConnection, created_at: String) -> Result<BackupManifest, BackupError> {
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let mut counts = Vec::new();
    for table in ["projects", "api_keys", "buckets", "objects", "multipart_parts"] {
        let n: i64 = sqlx::query_scalar(&count(table))
            .fetch_one(&mut *connection)
            .await
            .map_err(sqlite_error)?;
        counts.push(u64::try_from(n).unwrap_or(0));
    }
    let schema_version = schema_version(connection).await?;
    Ok(BackupManifest {
        format: FORMAT,
        created_at,
        schema_version,
        projects: counts[0],
        api_keys: counts[1],
        buckets: counts[2],
        objects: counts[3],
        parts: counts[4],
        blobs: 0,
        bytes: 0,
        files: Vec::new(),
    })
}

/// The last migration applied to a database.
async fn schema_version(connection: &mut SqliteConnection) -> Result<i64, BackupError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(connection)
        .await
        .map_err(|e| sqlite_error(e).into())
}

/// Every blob file the metadata references, once each (blobs the metadata keeps itself are
/// in the snapshot already).
async fn referenced_blobs(connection: &mut SqliteConnection) -> Result<Vec<Referenced>, BackupError> {
    let rows = sqlx::query(
        "SELECT blob_id, size_bytes, etag FROM objects \
         WHERE NOT EXISTS (SELECT 1 FROM inline_blobs i WHERE i.blob_id = objects.blob_id) \
         UNION ALL SELECT blob_id, size_bytes, etag FROM multipart_parts",
    )
    .fetch_all(connection)
    .await
    .map_err(sqlite_error)?;
    let mut blobs = BTreeMap::new();
    for row in rows {
        let id: String = row.get(0);
        let size: i64 = row.get(1);
        let etag: String = row.get(2);
        let parsed = BlobId::parse(&id).ok_or_else(|| BackupError::Blob {
            blob: id.clone(),
            problem: "not a blob id".to_owned(),
        })?;
        blobs.insert(
            id,
            Referenced {
                id: parsed,
                size: u64::try_from(size).unwrap_or(u64::MAX),
                md5: md5_of_etag(&etag),
            },
        );
    }
    Ok(blobs.into_values().collect())
}

/// The MD5 an ETag states: its hex digits, unless it is a multipart ETag (`<hex>-<parts>`).
fn md5_of_etag(etag: &str) -> Option<[u8; 16]> {
    let hex = etag.trim_matches('"');
    if hex.len() != 32 {
        return None;
    }
    let mut md5 = [0u8; 16];
    for (i, byte) in md5.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(md5)
}

/// Copies the blobs from the folder `from` to the folder `to` (both data-folder layouts),
/// checking each; returns how many and their bytes.
async fn copy_blobs(from: &Path, to: &Path, blobs: Vec<Referenced>) -> Result<(u64, u64), BackupError> {
    let (from, to) = (from.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut bytes = 0;
        let mut folders = BTreeSet::new();
        std::fs::create_dir_all(to.join("blobs")).map_err(io_error(format!("cannot create {}", to.display())))?;
        for blob in &blobs {
            let relative = LocalBlobStore::relative_path(&blob.id);
            let target = to.join(&relative);
            let folder = target.parent().expect("a blob is in a folder").to_owned();
            if folders.insert(folder.clone()) {
                std::fs::create_dir_all(&folder).map_err(io_error(format!("cannot create {}", folder.display())))?;
            }
            let problem = |problem: String| BackupError::Blob {
                blob: blob.id.as_str().to_owned(),
                problem,
            };
            let (size, md5) =
                copy_and_digest(&from.join(&relative), &target).map_err(|e| problem(format!("cannot copy it: {e}")))?;
            if size != blob.size || blob.md5.is_some_and(|expected| expected != md5) {
                return Err(problem(format!(
                    "its bytes ({size} bytes) do not match the metadata ({} bytes{})",
                    blob.size,
                    if blob.md5.is_some() { ", with its MD5" } else { "" }
                )));
            }
            bytes += size;
        }
        for folder in folders.iter().chain([to.join("blobs")].iter()) {
            sync_dir(folder)?;
        }
        Ok((blobs.len() as u64, bytes))
    })
    .await
    .map_err(|e| io_error("the copy stopped")(io::Error::other(e)))?
}

/// Copies `source` to `target` (through a temporary file readable by its owner only, fsynced,
/// renamed into place; removed if the copy fails); returns the size and MD5 of what it copied.
fn copy_and_digest(source: &Path, target: &Path) -> io::Result<(u64, [u8; 16])> {
    let temporary = target.with_extension("copying");
    let copied = copy_through(source, &temporary, target);
    if copied.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    copied
}

fn copy_through(source: &Path, temporary: &Path, target: &Path) -> io::Result<(u64, [u8; 16])> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut input = std::fs::File::open(source)?;
    let mut output = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(temporary)?;
    let mut md5 = Md5::new();
    let mut buffer = vec![0u8; COPY_BUFFER];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        md5.update(&buffer[..n]);
        output.write_all(&buffer[..n])?;
        size += n as u64;
    }
    output.sync_all()?;
    std::fs::rename(temporary, target)?;
    Ok((size, md5.finalize().into()))
}

fn copy_file(source: &Path, target: &Path) -> Result<(), BackupError> {
    copy_and_digest(source, target).map(|_| ()).map_err(io_error(format!(
        "cannot copy {} to {}",
        source.display(),
        target.display()
    )))
}

fn write_manifest(to: &Path, manifest: &BackupManifest) -> Result<(), BackupError> {
    let path = to.join(MANIFEST_FILE);
    let text = serde_json::to_vec_pretty(manifest).expect("the manifest serializes");
    let temporary = to.join(format!("{MANIFEST_FILE}.writing"));
    let write = || -> io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    };
    write().map_err(io_error(format!("cannot write {}", path.display())))?;
    sync_dir(to)
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_error(format!("cannot sync {}", path.display())))
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    sync_file(dir)
}

#[cfg(test)]
mod tests {
    use super::md5_of_etag;

    #[test]
    fn an_etag_states_an_md5_unless_it_is_a_multipart_one() {
        let md5 = md5_of_etag("5d41402abc4b2a76b9719d911017c592").unwrap();
        assert_eq!(md5[0], 0x5d);
        assert_eq!(md5[15], 0x92);
        assert_eq!(md5_of_etag("\"5d41402abc4b2a76b9719d911017c592\""), Some(md5));
        assert_eq!(md5_of_etag("5d41402abc4b2a76b9719d911017c592-3"), None);
        assert_eq!(md5_of_etag("zz41402abc4b2a76b9719d911017c592"), None);
        assert_eq!(md5_of_etag(""), None);
    }
}
