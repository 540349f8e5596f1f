//! The blob store: object bytes, named by internal [`BlobId`]s (never by object keys, so no key
//! can reach a file path), behind one trait: the data folder (`local`) or any S3-compatible
//! store (`s3`).
//!
//! A write streams the body to durable storage and returns only once the blob is complete and
//! on stable storage; the metadata that makes it visible is committed after that, by the caller.

mod local;
mod s3;

pub use local::LocalBlobStore;
pub use s3::{CA_BUNDLE_VARIABLE, PART_BYTES, PARTS_IN_FLIGHT, S3BlobStore, S3OpenError, trusting_authorities};

use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::BlobId;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use md5::{Digest, Md5};
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

/// The first bytes of a body, read by [`read_start`].
#[derive(Debug)]
pub struct BodyStart {
    /// The chunks read, in order.
    pub chunks: Vec<Bytes>,
    /// Their total length.
    pub size: u64,
    /// The MD5 of those bytes, to be continued with the rest of the body.
    pub md5: Md5,
    /// Whether the body ended within them (they are then the whole body).
    pub ended: bool,
}

impl BodyStart {
    /// Takes the bytes read, as one buffer (copied only when they came in several chunks).
    pub fn take_bytes(&mut self) -> Bytes {
        let mut chunks = std::mem::take(&mut self.chunks);
        match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.remove(0),
            _ => chunks.concat().into(),
        }
    }
}

/// Reads `body` until it ends or more than `threshold` bytes have come, so that a writer can
/// treat a body that fits in one buffer differently from one that streams on. Fails with
/// [`BlobWriteError::TooLarge`] as soon as more than `max_bytes` have come, and with
/// [`BlobWriteError::Body`] when the body cannot be read.
pub async fn read_start(body: &mut ByteStream, threshold: u64, max_bytes: u64) -> Result<BodyStart, BlobWriteError> {
    let mut start = BodyStart {
        chunks: Vec::new(),
        size: 0,
        md5: Md5::new(),
        ended: false,
    };
    while start.size <= threshold {
        let Some(chunk) = body.next().await else {
            start.ended = true;
            break;
        };
        let chunk = chunk.map_err(BlobWriteError::Body)?;
        start.size += chunk.len() as u64;
        if start.size > max_bytes {
            return Err(BlobWriteError::TooLarge(max_bytes));
        }
        start.md5.update(&chunk);
        start.chunks.push(chunk);
    }
    Ok(start)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static [u8]]) -> ByteStream {
        let chunks: Vec<io::Result<Bytes>> = chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        futures_util::stream::iter(chunks).boxed()
    }

    #[tokio::test]
    async fn a_body_of_exactly_the_threshold_is_read_whole() {
        let mut b = body(&[b"abc", b"d"]);
        let mut start = read_start(&mut b, 4, 100).await.unwrap();
        assert!(start.ended);
        assert_eq!(start.size, 4);
        assert_eq!(
            <[u8; 16]>::from(start.md5.clone().finalize()),
            <[u8; 16]>::from(Md5::digest(b"abcd"))
        );
        assert_eq!(start.take_bytes(), Bytes::from_static(b"abcd"));
    }

    #[tokio::test]
    async fn a_longer_body_stops_past_the_threshold_and_leaves_the_rest() {
        let mut b = body(&[b"abc", b"de", b"fg"]);
        let start = read_start(&mut b, 4, 100).await.unwrap();
        assert!(!start.ended);
        assert_eq!(start.size, 5);
        assert_eq!(
            start.chunks,
            vec![Bytes::from_static(b"abc"), Bytes::from_static(b"de")]
        );
        let rest: Vec<Bytes> = b.map(Result::unwrap).collect().await;
        assert_eq!(rest, vec![Bytes::from_static(b"fg")]);
    }

    #[tokio::test]
    async fn more_than_the_largest_body_allowed_fails_at_once() {
        let mut b = body(&[b"abc", b"de"]);
        let failed = read_start(&mut b, 100, 4).await.unwrap_err();
        assert!(matches!(failed, BlobWriteError::TooLarge(4)), "{failed:?}");
    }

    #[tokio::test]
    async fn a_body_that_fails_to_arrive_is_unreadable() {
        let mut b: ByteStream = futures_util::stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone")),
        ])
        .boxed();
        let failed = read_start(&mut b, 100, 100).await.unwrap_err();
        assert!(matches!(failed, BlobWriteError::Body(_)), "{failed:?}");
    }

    #[tokio::test]
    async fn an_empty_body_is_read_whole() {
        let mut b = body(&[]);
        let mut start = read_start(&mut b, 4, 100).await.unwrap();
        assert!(start.ended && start.size == 0);
        assert!(start.take_bytes().is_empty());
    }
}
