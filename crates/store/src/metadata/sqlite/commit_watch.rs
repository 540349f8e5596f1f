//! Noticing that no transaction has committed, without starting a read transaction.
//!
//! In WAL mode every connection to the database, in any process, shares the WAL index: the
//! `-shm` file next to the database. It begins with a 48-byte header, stored twice, that every
//! commit rewrites: its `iChange` field is "incremented with each transaction", and `mxFrame`
//! and the checksums move with every frame appended (https://sqlite.org/walformat.html, the
//! documented format that lets different SQLite versions share one database). A writer updates
//! the second copy, then the first.
//!
//! So a [`CommitMark`] (the header, when both copies agree) taken before a read, and found
//! unchanged later, proves that no transaction committed in between: what the read returned is
//! still the committed state. Reading the header is one `pread` of 96 bytes, against a read
//! transaction's locks and statement for the read itself. A header caught mid-update (copies
//! differ) yields no mark, and a mark that no longer matches only means "read again": the watch
//! can make a reader read more often than needed, never serve a change late.
//!
//! The `-shm` file is opened once per process and path and never closed: closing any
//! descriptor of a file drops every POSIX lock the process holds on it, and SQLite's own
//! connections hold their WAL-index locks on this file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

const HEADER_BYTES: usize = 48;

/// A file's device and inode numbers.
type Inode = (u64, u64);
/// Offset of `isInit` in the header: 0 until a connection has built the index.
const IS_INIT: usize = 12;

/// The WAL-index header at one moment: equal marks mean no commit happened between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CommitMark(pub(super) [u8; HEADER_BYTES]);

#[derive(Debug)]
pub(super) struct CommitWatch {
    shm: Arc<File>,
}

impl CommitWatch {
    /// Watches the database at `database`, whose WAL index must exist: open a connection and
    /// read through it first. `None` when there is no WAL index to watch.
    pub(super) fn open(database: &Path) -> Option<Self> {
        let mut shm_path = database.as_os_str().to_owned();
        shm_path.push("-shm");
        // Files are told apart by inode, found without opening them: a descriptor opened only to
        // be closed again would drop SQLite's locks. When the last connection to a database
        // closes, SQLite removes its `-shm`; a later open finds a new inode, never the old file.
        let identity = std::fs::metadata(&shm_path).ok().map(|m| (m.dev(), m.ino()))?;
        static OPENED: OnceLock<Mutex<HashMap<Inode, Arc<File>>>> = OnceLock::new();
        let mut opened = OPENED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(shm) = opened.get(&identity) {
            return Some(Self { shm: shm.clone() });
        }
        let shm = Arc::new(File::open(&shm_path).ok()?);
        let actual = shm.metadata().map_or(identity, |m| (m.dev(), m.ino()));
        let shm = match opened.entry(actual) {
            Entry::Vacant(slot) => slot.insert(shm).clone(),
            Entry::Occupied(slot) => {
                // Replaced between the two looks: keep the one already held, and never close this one.
                std::mem::forget(shm);
                slot.get().clone()
            }
        };
        Some(Self { shm })
    }

    /// The header now, or `None` when it cannot be read whole or is being rewritten.
    pub(super) fn mark(&self) -> Option<CommitMark> {
        let mut both = [0u8; 2 * HEADER_BYTES];
        self.shm.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(HEADER_BYTES);
        if first != second || first[IS_INIT] == 0 {
            return None;
        }
        Some(CommitMark(first.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::path::PathBuf;

    fn database() -> (tempfile::TempDir, PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watched.db");
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        (dir, path, connection)
    }

    #[test]
    fn every_commit_changes_the_mark_and_reads_do_not() {
        let (_dir, path, writer) = database();
        let watch = CommitWatch::open(&path).expect("a WAL index to watch");
        let before = watch.mark().expect("a settled header");
        let reader = Connection::open(&path).unwrap();
        let _: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(watch.mark(), Some(before), "a read changed the mark");
        let mut seen = vec![before];
        for v in 2..20 {
            writer.execute("UPDATE t SET v = ?1", [v]).unwrap();
            let now = watch.mark().expect("a settled header");
            assert!(!seen.contains(&now), "commit {v} left a mark seen before");
            seen.push(now);
        }
    }

    #[test]
    fn a_commit_from_another_connection_after_a_checkpoint_changes_the_mark() {
        let (_dir, path, writer) = database();
        let watch = CommitWatch::open(&path).unwrap();
        writer.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
        let before = watch.mark().unwrap();
        // The WAL restarts from its first frame: the mark must still move.
        let other = Connection::open(&path).unwrap();
        other.execute("INSERT INTO t VALUES (3)", []).unwrap();
        assert_ne!(watch.mark().unwrap(), before);
    }

    #[test]
    fn a_database_without_a_wal_index_has_no_watch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (v INTEGER);")
            .unwrap();
        assert!(CommitWatch::open(&path).is_none());
    }
}
