//! One `cloudnexus serve` process per embedded data folder.
//!
//! A process serving the embedded default keeps state of its own beside the SQLite file: rate
//! limits counted in its memory (a second process would give every key a second window), the
//! failed-auth gate, and the orphan sweep, which with the data folder's default grace of 0
//! would remove the bytes of another process's upload that is about to commit. So the serve
//! command claims the folder with an exclusive lock on `serve.lock` for as long as it runs, and
//! a second one refuses at once, saying which process holds it. Admin commands do not take the
//! lock: they work beside the server (SQLite's busy timeout queues their writes). Several
//! nodes are run on PostgreSQL (README, "Run as several nodes").
//!
//! The lock is the operating system's (`flock`): it is released when the process exits,
//! however it exits, so a crash never leaves a stale lock behind.

use anyhow::{Context, bail};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "serve.lock";

/// The claim on a data folder; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

/// Claims `data_dir` for this process, or explains which process serves it already.
pub fn claim(data_dir: &Path) -> anyhow::Result<ServeLock> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_owned()
            } else {
                format!("process {holder}")
            };
            bail!(
                "the data folder {} is already served by {holder}; one `cloudnexus serve` serves a data \
                 folder (stop it first, or run several nodes on PostgreSQL: see README, \"Run as several nodes\")",
                data_dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    // Who holds it, for the message above; the lock, not this text, is what counts.
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(ServeLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = claim(dir.path()).unwrap();
        let refused = claim(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("already served by process"), "{refused}");
        assert!(refused.contains(&std::process::id().to_string()), "{refused}");
        drop(first);
        claim(dir.path()).expect("free again once released");
    }
}
