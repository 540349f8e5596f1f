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
//! still the committed state. A header caught mid-update (copies differ) yields no mark, and a
//! mark that no longer matches only means "read again": the watch can make a reader read more
//! often than needed, never serve a change late.
//!
//! The header is read through a shared, read-only mapping of the file's first bytes, as SQLite's
//! own connections read it: 24 atomic loads of 4-byte words, the first copy before the second
//! (the reverse of the order a writer stores them, so a copy read whole and equal to the other
//! is one a writer finished). That costs no system call; a `pread` of the same bytes was about
//! 5 % of a cached list request's server time (`docs/benchmarks.md`, "The commit mark without a
//! system call"). `vm-memory` makes the mapping and the atomic loads, so this crate keeps no
//! `unsafe` code of its own. The mapping covers part of the file's first page, which exists
//! for as long as the file does: SQLite shrinks a `-shm` it resets to 3 bytes, never to none, and
//! resets it only when no connection is attached, while the watch lives with connections of its
//! own (`PointReader`). A header read past a shrink is zeros, so not initialised: no mark.
//!
//! The `-shm` file is opened once per process and path and never closed: closing any
//! descriptor of a file drops every POSIX lock the process holds on it, and SQLite's own
//! connections hold their WAL-index locks on this file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use vm_memory::mmap::MmapRegionBuilder;
use vm_memory::{FileOffset, MmapRegion, VolatileMemory};

const HEADER_BYTES: usize = 48;
const WORD_BYTES: usize = size_of::<u32>();

/// A file's device and inode numbers.
type Inode = (u64, u64);
/// Offset of `isInit` in the header: 0 until a connection has built the index.
const IS_INIT: usize = 12;

/// The WAL-index header at one moment: equal marks mean no commit happened between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CommitMark(pub(super) [u8; HEADER_BYTES]);

#[derive(Debug)]
pub(super) struct CommitWatch {
    /// The header's two copies, mapped read-only and shared with every connection's writes.
    header: MmapRegion,
}

impl CommitWatch {
    /// Watches the database at `database`, whose WAL index must exist: open a connection and
    /// read through it first, and keep one open while the watch is used. `None` when there is
    /// no WAL index to watch, or it cannot be mapped.
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
            return Self::map(shm.clone());
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
        Self::map(shm)
    }

    fn map(shm: Arc<File>) -> Option<Self> {
        let header = MmapRegionBuilder::<()>::new(2 * HEADER_BYTES)
            .with_file_offset(FileOffset::from_arc(shm, 0))
            .with_mmap_prot(libc::PROT_READ)
            .with_mmap_flags(libc::MAP_SHARED)
            .build();
        match header {
            Ok(header) => Some(Self { header }),
            Err(error) => {
                tracing::warn!(%error, "cannot map the WAL index; every point read will go to SQLite");
                None
            }
        }
    }

    /// The header now, or `None` when it is being rewritten (or was never written).
    pub(super) fn mark(&self) -> Option<CommitMark> {
        let first = self.copy(0)?;
        let second = self.copy(HEADER_BYTES)?;
        if first != second || first[IS_INIT] == 0 {
            return None;
        }
        Some(CommitMark(first))
    }

    /// One copy of the header, a word at a time; every later load stays after each of these.
    fn copy(&self, at: usize) -> Option<[u8; HEADER_BYTES]> {
        let mut copy = [0u8; HEADER_BYTES];
        for (offset, bytes) in (at..).step_by(WORD_BYTES).zip(copy.chunks_exact_mut(WORD_BYTES)) {
            let word = self.header.get_atomic_ref::<AtomicU32>(offset).ok()?;
            bytes.copy_from_slice(&word.load(Ordering::Acquire).to_ne_bytes());
        }
        Some(copy)
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

    fn shm_for_writing(database: &std::path::Path) -> File {
        let mut path = database.as_os_str().to_owned();
        path.push("-shm");
        std::fs::OpenOptions::new().write(true).open(path).unwrap()
    }

    #[test]
    fn a_header_whose_copies_differ_gives_no_mark_and_writes_through_any_descriptor_show() {
        use std::os::unix::fs::FileExt;
        let (_dir, path, _writer) = database();
        let watch = CommitWatch::open(&path).unwrap();
        let before = watch.mark().unwrap();
        // A writer caught between its two stores: the first copy still old, the second new.
        let shm = shm_for_writing(&path);
        let mut changed = before.0;
        changed[8] = changed[8].wrapping_add(1);
        shm.write_all_at(&changed, HEADER_BYTES as u64).unwrap();
        assert_eq!(watch.mark(), None, "a mark from a header being rewritten");
        shm.write_all_at(&changed, 0).unwrap();
        assert_eq!(
            watch.mark().map(|m| m.0),
            Some(changed),
            "the mapping missed a finished write"
        );
        shm.write_all_at(&before.0, 0).unwrap();
        shm.write_all_at(&before.0, HEADER_BYTES as u64).unwrap();
        assert_eq!(watch.mark(), Some(before));
    }

    #[test]
    fn a_wal_index_shrunk_as_sqlite_resets_it_gives_no_mark() {
        let (_dir, path, writer) = database();
        let watch = CommitWatch::open(&path).unwrap();
        assert!(watch.mark().is_some());
        // SQLite's own mapping of the file would fault past its new end: never touch it again.
        std::mem::forget(writer);
        shm_for_writing(&path).set_len(3).unwrap();
        assert_eq!(watch.mark(), None);
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
