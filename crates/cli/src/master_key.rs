//! The master key that seals S3 secret keys, kept in a file apart from the metadata: a copy of
//! the database alone (a backup, a dump) opens no secret.
//!
//! The file holds 64 hexadecimal characters (32 bytes), e.g. from `openssl rand -hex 32`. On the
//! embedded default it is `DATA_DIR/s3-master.key`, created (mode 0600) the first time an S3
//! credential is made or the S3 listener starts. With a metadata URL (several nodes), it must be
//! named by `[s3] master_key_file` / `CLOUDNEXUS_S3_MASTER_KEY_FILE`, the same file on every
//! node, and is never created: a node with a key of its own would refuse every credential.

use crate::config::Config;
use anyhow::{Context, bail};
use cloudnexus_core::s3_key::{MASTER_KEY_LEN, MasterKey};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The key file's name in the data folder.
pub const DEFAULT_FILE: &str = "s3-master.key";

/// Where the master key is, and whether it may be created there.
fn location(config: &Config) -> anyhow::Result<(PathBuf, bool)> {
    match (&config.s3.master_key_file, &config.metadata.url) {
        (Some(path), _) => Ok((path.clone(), false)),
        (None, None) => Ok((config.data_dir.join(DEFAULT_FILE), true)),
        (None, Some(_)) => bail!(
            "S3 credentials need a master key shared by every node: write one with \
             `openssl rand -hex 32 > FILE` (mode 0600), and name it with --s3-master-key-file, \
             CLOUDNEXUS_S3_MASTER_KEY_FILE or [s3] master_key_file"
        ),
    }
}

/// The master key, created on the embedded default when there is none yet.
pub fn load_or_create(config: &Config) -> anyhow::Result<MasterKey> {
    let (path, may_create) = location(config)?;
    match read(&path)? {
        Some(key) => Ok(key),
        None if may_create => create(&path),
        None => bail!(
            "the S3 master key file {} does not exist; write one with `openssl rand -hex 32 > {}`",
            path.display(),
            path.display()
        ),
    }
}

/// The master key when one is configured or exists in the data folder; `None` otherwise (the
/// server then accepts no S3 credential).
pub fn load_if_present(config: &Config) -> anyhow::Result<Option<MasterKey>> {
    match location(config) {
        Ok((path, _)) => read(&path),
        Err(_) => Ok(None),
    }
}

fn read(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read the S3 master key file {}", path.display())),
    };
    parse(text.trim()).map(Some).with_context(|| {
        format!(
            "the S3 master key file {} must hold 64 hexadecimal characters",
            path.display()
        )
    })
}

fn parse(hex: &str) -> anyhow::Result<MasterKey> {
    if hex.len() != 2 * MASTER_KEY_LEN {
        bail!("it holds {} characters", hex.len());
    }
    let mut bytes = [0u8; MASTER_KEY_LEN];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).context("not hexadecimal")?;
    }
    Ok(MasterKey::from_bytes(bytes))
}

/// Writes a new key, readable by its owner only; if another process wrote one first, that one.
fn create(path: &Path) -> anyhow::Result<MasterKey> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = MasterKey::generate();
    let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{hex}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the S3 master key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the S3 master key");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.with_context(|| format!("the S3 master key file {} vanished", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the S3 master key file {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        assert!(load_if_present(&config).unwrap().is_none());
        let key = load_or_create(&config).unwrap();
        let again = load_or_create(&config).unwrap();
        assert_eq!(key.to_bytes(), again.to_bytes());
        let path = dir.path().join(DEFAULT_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "abc").unwrap();
        assert!(load_or_create(&config).is_err());
    }

    #[test]
    fn with_a_database_url_the_key_file_must_be_named_and_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.metadata.url = Some("postgres://db/x".to_owned());
        assert!(load_or_create(&config).is_err());
        assert!(load_if_present(&config).unwrap().is_none());
        let path = dir.path().join("key");
        config.s3.master_key_file = Some(path.clone());
        assert!(load_or_create(&config).is_err(), "a named file is never created");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(load_or_create(&config).unwrap().to_bytes(), [0xab; 32]);
    }
}
