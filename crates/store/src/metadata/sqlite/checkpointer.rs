//! Checkpoints of the write-ahead log, off the writers' path.
//!
//! SQLite copies the WAL back into the database file (a checkpoint) in the connection whose
//! commit takes the WAL past `wal_autocheckpoint` pages, and that commit waits for the copy and
//! the database file's fsync, which on a busy disk take far longer than the commit itself; every
//! write queued behind it waits too. So the writer's connection checkpoints only as a last
//! resort ([`WRITER_AUTOCHECKPOINT_PAGES`], set in `open_read_write`), and this thread, on a
//! connection of its own, runs a `PASSIVE` checkpoint a short while after commits: one that
//! copies what no reader still needs and never blocks a writer or a reader. Durability does not
//! depend on it: every commit's WAL frames are fsynced before the commit returns.

use rusqlite::Connection;
use std::sync::mpsc;
use std::time::Duration;

/// How long commits gather before a checkpoint copies them (at most one per period).
const PERIOD: Duration = Duration::from_millis(100);
/// The WAL size at which the writer's own connection checkpoints, should this thread fall
/// behind: 16,384 pages, 64 MiB with 4 KiB pages.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// The handle of the checkpointer thread; it ends when the handle is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread on `connection` (read-write, to the migrated database).
    pub(super) fn start(connection: Connection) -> std::io::Result<Self> {
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&connection, &woken))?;
        Ok(Self { wake })
    }

    /// Asks for a checkpoint after a commit; never waits (requests made meanwhile merge).
    pub(super) fn after_commit(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(connection: &Connection, woken: &mpsc::Receiver<()>) {
    while woken.recv().is_ok() {
        std::thread::sleep(PERIOD);
        while woken.try_recv().is_ok() {}
        if let Err(e) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "a checkpoint of the SQLite write-ahead log failed; the next one retries");
        }
    }
}
