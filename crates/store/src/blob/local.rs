//! Blobs as files in the data folder: `blobs/<first two characters>/<blob id>`.
//!
//! A write goes to `blobs/tmp/<blob id>.part`, is flushed and fsynced, renamed into place, and
//! the folder fsynced, so a blob either exists whole on stable storage or not at all. A body
//! of up to 1 MiB is read whole first and written in one blocking call; a larger one streams
//! through a buffer of that size. Temp
//! files left by a crash are removed when the store opens; a temp file of a request that is
//! dropped halfway (the client went away) is removed at once.

use super::{BlobStore, BlobWriteError, BodyStart, ByteStream, WrittenBlob, read_start};
use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::BlobId;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use std::io;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

/// Bytes buffered before a write to the file: bounds a request's memory whatever its size.
const WRITE_BUFFER: usize = 1 << 20;
const READ_CHUNK: usize = 64 * 1024;
const TMP: &str = "tmp";

#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

/// Removes a temp file when dropped, unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

impl LocalBlobStore {
    /// Opens (creating) `<data_dir>/blobs` and removes the temp files a crash left behind.
    pub async fn open(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("blobs");
        tokio::fs::create_dir_all(root.join(TMP)).await?;
        let mut stale = tokio::fs::read_dir(root.join(TMP)).await?;
        let mut removed = 0;
        while let Some(entry) = stale.next_entry().await? {
            tokio::fs::remove_file(entry.path()).await?;
            removed += 1;
        }
        if removed > 0 {
            tracing::info!(removed, "removed temp files of interrupted uploads");
            sync_dir(&root.join(TMP)).await?;
        }
        Ok(Self { root })
    }

    fn path_of(&self, id: &BlobId) -> PathBuf {
        self.root.join(&id.as_str()[..2]).join(id.as_str())
    }

    /// Where a blob's file is, relative to the data folder: `blobs/<first two>/<id>` (a
    /// backup keeps the same layout).
    pub fn relative_path(id: &BlobId) -> PathBuf {
        Path::new("blobs").join(&id.as_str()[..2]).join(id.as_str())
    }

    /// The folder of temp files (for tests that check it is left empty).
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join(TMP)
    }

    /// Writes a body that was read whole (`chunks`) in one blocking call: create the temp file,
    /// write, fsync, rename into place, fsync the folder. One handoff to the blocking pool
    /// instead of one per file operation. The temp file is removed if any step fails.
    async fn write_whole(&self, id: BlobId, chunks: Vec<Bytes>) -> io::Result<()> {
        let temp = self.root.join(TMP).join(format!("{id}.part"));
        let target = self.path_of(&id);
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut temp = TempFile {
                path: temp,
                keep: false,
            };
            let mut file = std::fs::File::create(&temp.path)?;
            for chunk in &chunks {
                file.write_all(chunk)?;
            }
            file.sync_all()?;
            drop(file);
            let dir = target.parent().expect("blob paths have a folder");
            if !dir.exists() {
                std::fs::create_dir_all(dir)?;
                std::fs::File::open(&root)?.sync_all()?;
            }
            std::fs::rename(&temp.path, &target)?;
            temp.keep = true;
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Writes a body too large to hold whole: `read` (its first bytes, already counted in
    /// `size` and `md5`) and then the rest of `body`, through a buffer of [`WRITE_BUFFER`].
    async fn write_streaming(
        &self,
        id: &BlobId,
        read: Vec<Bytes>,
        mut body: ByteStream,
        mut size: u64,
        mut md5: Md5,
        max_bytes: u64,
    ) -> Result<(u64, [u8; 16]), BlobWriteError> {
        let mut temp = TempFile {
            path: self.root.join(TMP).join(format!("{id}.part")),
            keep: false,
        };
        let file = tokio::fs::File::create(&temp.path)
            .await
            .map_err(BlobWriteError::Storage)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        for chunk in &read {
            out.write_all(chunk).await.map_err(BlobWriteError::Storage)?;
        }
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobWriteError::Body)?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(BlobWriteError::TooLarge(max_bytes));
            }
            md5.update(&chunk);
            out.write_all(&chunk).await.map_err(BlobWriteError::Storage)?;
        }
        out.flush().await.map_err(BlobWriteError::Storage)?;
        out.into_inner().sync_all().await.map_err(BlobWriteError::Storage)?;
        let target = self.path_of(id);
        let dir = target.parent().expect("blob paths have a folder").to_owned();
        if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            tokio::fs::create_dir_all(&dir).await.map_err(BlobWriteError::Storage)?;
            sync_dir(&self.root).await.map_err(BlobWriteError::Storage)?;
        }
        tokio::fs::rename(&temp.path, &target)
            .await
            .map_err(BlobWriteError::Storage)?;
        temp.keep = true;
        sync_dir(&dir).await.map_err(BlobWriteError::Storage)?;
        Ok((size, md5.finalize().into()))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn write(&self, mut body: ByteStream, max_bytes: u64) -> Result<WrittenBlob, BlobWriteError> {
        let id = BlobId::generate();
        // Read up to one buffer's worth before touching the disk: most bodies end within it,
        // and are then written in one blocking call.
        let start = read_start(&mut body, WRITE_BUFFER as u64, max_bytes).await?;
        if start.ended {
            self.write_whole(id.clone(), start.chunks)
                .await
                .map_err(BlobWriteError::Storage)?;
            return Ok(WrittenBlob {
                id,
                size: start.size,
                md5: start.md5.finalize().into(),
            });
        }
        let BodyStart {
            chunks: read,
            size,
            md5,
            ..
        } = start;
        let (size, md5) = self.write_streaming(&id, read, body, size, md5, max_bytes).await?;
        Ok(WrittenBlob { id, size, md5 })
    }

    async fn read(&self, id: &BlobId, range: Option<(u64, u64)>) -> io::Result<ByteStream> {
        let mut file = tokio::fs::File::open(self.path_of(id)).await?;
        let stream = match range {
            None => ReaderStream::with_capacity(file, READ_CHUNK).boxed(),
            Some((first, last)) => {
                file.seek(io::SeekFrom::Start(first)).await?;
                let limited = tokio::io::AsyncReadExt::take(file, last - first + 1);
                ReaderStream::with_capacity(limited, READ_CHUNK).boxed()
            }
        };
        Ok(stream)
    }

    async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(id)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn blobs_written_before(&self, before: SystemTime) -> io::Result<Vec<BlobId>> {
        let mut found = Vec::new();
        let mut shards = tokio::fs::read_dir(&self.root).await?;
        while let Some(shard) = shards.next_entry().await? {
            if shard.file_name() == TMP || !shard.file_type().await?.is_dir() {
                continue;
            }
            let mut blobs = tokio::fs::read_dir(shard.path()).await?;
            while let Some(blob) = blobs.next_entry().await? {
                let Some(id) = blob.file_name().to_str().and_then(BlobId::parse) else {
                    continue;
                };
                // A blob deleted since the folder was read (a collection, a sweep on another
                // task) is simply no longer there.
                if modified_if_present(&blob)
                    .await?
                    .is_some_and(|modified| modified < before)
                {
                    found.push(id);
                }
            }
        }
        Ok(found)
    }
}

/// When the file of `entry` was last written, or `None` when it is gone.
async fn modified_if_present(entry: &tokio::fs::DirEntry) -> io::Result<Option<SystemTime>> {
    match entry.metadata().await {
        Ok(metadata) => metadata.modified().map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn body(chunks: Vec<&'static [u8]>) -> ByteStream {
        futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
    }

    #[tokio::test]
    async fn no_temp_file_outlives_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).await.unwrap();
        store.write(body(vec![b"kept"]), 100).await.unwrap();
        assert!(store.write(body(vec![b"too long"]), 3).await.is_err());
        assert_eq!(std::fs::read_dir(store.temp_dir()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_blob_deleted_while_the_folder_is_listed_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kept"), b"x").unwrap();
        std::fs::write(dir.path().join("gone"), b"x").unwrap();
        let mut listing = tokio::fs::read_dir(dir.path()).await.unwrap();
        let mut entries = Vec::new();
        while let Some(entry) = listing.next_entry().await.unwrap() {
            entries.push(entry);
        }
        // Listed, then deleted before its time is read.
        std::fs::remove_file(dir.path().join("gone")).unwrap();
        let mut seen = Vec::new();
        for entry in &entries {
            let name = entry.file_name().into_string().unwrap();
            seen.push((name, modified_if_present(entry).await.unwrap().is_some()));
        }
        seen.sort();
        assert_eq!(seen, [("gone".to_owned(), false), ("kept".to_owned(), true)]);
    }

    #[tokio::test]
    async fn stale_temp_files_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).await.unwrap();
        std::fs::write(store.temp_dir().join("abc.part"), b"partial").unwrap();
        let store = LocalBlobStore::open(dir.path()).await.unwrap();
        assert_eq!(std::fs::read_dir(store.temp_dir()).unwrap().count(), 0);
    }
}
