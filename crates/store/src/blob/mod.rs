//! The blob store: object bytes, named by internal [`BlobId`]s (never by object keys, so no key
//! can reach a file path), behind one trait: the data folder (`local`) or any S3-compatible
//! store (`s3`).
//!
//! A write streams the body to durable storage and returns only once the blob is complete and
//! on stable storage; the metadata that makes it visible is committed after that, by the caller.

mod local;
mod s3;

pub use local::LocalBlobStore;
pub use s3::{PART_BYTES, PARTS_IN_FLIGHT, S3BlobStore, S3OpenError};

use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::BlobId;
use futures_util::stream::BoxStream;
use std::io;
use std::time::SystemTime;

/// A stream of body bytes.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A blob that is complete and durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBlob {
    pub id: BlobId,
    pub size: u64,
    /// MD5 of the bytes.
    pub md5: [u8; 16],
}

#[derive(Debug, thiserror::Error)]
pub enum BlobWriteError {
    /// The body is longer than the largest object allowed; nothing was kept.
    #[error("the body is larger than {0} bytes")]
    TooLarge(u64),
    /// Reading the body failed (the client went away); nothing was kept.
    #[error("the request body could not be read: {0}")]
    Body(io::Error),
    /// Writing failed on the server's side; nothing was kept.
    #[error("storage failure: {0}")]
    Storage(io::Error),
}

#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug + 'static {
    /// Streams `body` into a new blob of at most `max_bytes`, durably. On any error nothing is
    /// left behind.
    async fn write(&self, body: ByteStream, max_bytes: u64) -> Result<WrittenBlob, BlobWriteError>;

    /// The bytes `first..=last` of a blob (the whole blob when `range` is `None`).
    async fn read(&self, id: &BlobId, range: Option<(u64, u64)>) -> io::Result<ByteStream>;

    /// Removes a blob; removing one that is not there is not an error.
    async fn delete(&self, id: &BlobId) -> io::Result<()>;

    /// Blobs last written before `before` (for the sweep of blobs no object references).
    async fn blobs_written_before(&self, before: SystemTime) -> io::Result<Vec<BlobId>>;
}
