//! The behaviour every [`BlobStore`](cloudnexus_store::BlobStore) promises: a write is whole or
//! absent, reads take ranges, deletes are idempotent, and blobs are listed by age for the sweep.

use crate::fixtures::BlobFixture;
use bytes::Bytes;
use cloudnexus_store::{BlobWriteError, ByteStream};
use futures_util::StreamExt;
use md5::{Digest, Md5};
use std::time::{Duration, SystemTime};

fn body(chunks: Vec<&'static [u8]>) -> ByteStream {
    futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
}

async fn collect(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

fn an_hour_from_now() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

pub async fn writes_read_back_whole_and_by_range(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    let blob = blobs.write(body(vec![b"hello ", b"world"]), 100).await.unwrap();
    assert_eq!(blob.size, 11);
    assert_eq!(blob.md5, <[u8; 16]>::from(Md5::digest(b"hello world")));
    assert_eq!(collect(blobs.read(&blob.id, None).await.unwrap()).await, b"hello world");
    assert_eq!(
        collect(blobs.read(&blob.id, Some((6, 10))).await.unwrap()).await,
        b"world"
    );
    assert_eq!(collect(blobs.read(&blob.id, Some((0, 0))).await.unwrap()).await, b"h");
    let empty = blobs.write(body(vec![]), 100).await.unwrap();
    assert_eq!((empty.size, empty.md5), (0, <[u8; 16]>::from(Md5::digest(b""))));
    let another = blobs.write(body(vec![b"hello world"]), 100).await.unwrap();
    assert_ne!(another.id, blob.id, "every write makes its own blob");
}

pub async fn deletes_are_idempotent(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    let blob = blobs.write(body(vec![b"bytes"]), 100).await.unwrap();
    blobs.delete(&blob.id).await.unwrap();
    blobs.delete(&blob.id).await.unwrap();
    assert!(blobs.read(&blob.id, None).await.is_err());
    assert!(
        !blobs
            .blobs_written_before(an_hour_from_now())
            .await
            .unwrap()
            .contains(&blob.id)
    );
}

pub async fn a_body_over_the_limit_or_broken_leaves_nothing(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    assert!(matches!(
        blobs.write(body(vec![b"12345", b"6"]), 5).await,
        Err(BlobWriteError::TooLarge(5))
    ));
    let broken: ByteStream = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(std::io::Error::other("the client went away")),
    ])
    .boxed();
    assert!(matches!(blobs.write(broken, 100).await, Err(BlobWriteError::Body(_))));
    assert!(blobs.blobs_written_before(an_hour_from_now()).await.unwrap().is_empty());
}

pub async fn blobs_are_listed_by_when_they_were_written(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    let before = SystemTime::now() - Duration::from_secs(3600);
    let blob = blobs.write(body(vec![b"old enough"]), 100).await.unwrap();
    assert!(blobs.blobs_written_before(before).await.unwrap().is_empty());
    assert_eq!(blobs.blobs_written_before(an_hour_from_now()).await.unwrap(), [blob.id]);
}

/// `len` pseudo-random bytes (so that parts differ), in 64 KiB chunks.
fn large(len: usize) -> (Vec<u8>, Vec<Bytes>) {
    let mut state: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    let chunks = bytes.chunks(64 * 1024).map(Bytes::copy_from_slice).collect();
    (bytes, chunks)
}

fn stream_of(chunks: Vec<Bytes>) -> ByteStream {
    futures_util::stream::iter(chunks.into_iter().map(Ok)).boxed()
}

/// A body of several multipart parts (the S3 store cuts them at 8 MiB) is stored whole and
/// reads back byte-exact, whole and across a part boundary.
pub async fn a_large_body_is_stored_whole(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    let (bytes, chunks) = large(20 * 1024 * 1024 + 123);
    let blob = blobs.write(stream_of(chunks), 1 << 30).await.unwrap();
    assert_eq!(blob.size, bytes.len() as u64);
    assert_eq!(blob.md5, <[u8; 16]>::from(Md5::digest(&bytes)));
    let read = collect(blobs.read(&blob.id, None).await.unwrap()).await;
    assert!(read == bytes, "the blob read back differs ({} bytes read)", read.len());
    let boundary: usize = 8 * 1024 * 1024;
    let range = ((boundary - 10) as u64, (boundary + 9) as u64);
    let around = collect(blobs.read(&blob.id, Some(range)).await.unwrap()).await;
    assert_eq!(around, &bytes[boundary - 10..boundary + 10]);
}

/// Bodies on either side of 1 MiB (the folder store writes a body up to that size in one call
/// and streams a larger one) are stored whole; one over the limit there leaves nothing.
pub async fn bodies_around_a_mebibyte_are_stored_whole(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    for len in [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, (1 << 20) + 64 * 1024 + 7] {
        let (bytes, chunks) = large(len);
        let blob = blobs.write(stream_of(chunks), 1 << 30).await.unwrap();
        assert_eq!(blob.size, len as u64);
        assert_eq!(blob.md5, <[u8; 16]>::from(Md5::digest(&bytes)));
        let read = collect(blobs.read(&blob.id, None).await.unwrap()).await;
        assert!(read == bytes, "a body of {len} bytes read back differs");
        blobs.delete(&blob.id).await.unwrap();
    }
    let (_, chunks) = large((1 << 20) - 1);
    assert!(matches!(
        blobs.write(stream_of(chunks), 1 << 19).await,
        Err(BlobWriteError::TooLarge(_))
    ));
    assert!(blobs.blobs_written_before(an_hour_from_now()).await.unwrap().is_empty());
}

/// A large body that breaks, or grows over the limit, after some parts were sent leaves
/// nothing behind.
pub async fn a_large_body_that_fails_halfway_leaves_nothing(f: BlobFixture) {
    let blobs = f.blobs.as_ref();
    let (_, chunks) = large(20 * 1024 * 1024);
    let broken: ByteStream = futures_util::stream::iter(chunks.into_iter().map(Ok))
        .chain(futures_util::stream::once(async {
            Err(std::io::Error::other("the client went away"))
        }))
        .boxed();
    assert!(matches!(
        blobs.write(broken, 1 << 30).await,
        Err(BlobWriteError::Body(_))
    ));
    let (_, chunks) = large(20 * 1024 * 1024);
    assert!(matches!(
        blobs.write(stream_of(chunks), 18 * 1024 * 1024).await,
        Err(BlobWriteError::TooLarge(_))
    ));
    assert!(blobs.blobs_written_before(an_hour_from_now()).await.unwrap().is_empty());
}

macro_rules! suite_tests {
    ($fixture:path) => {
        $crate::blobs::suite_tests!(@tests $fixture;
            writes_read_back_whole_and_by_range,
            deletes_are_idempotent,
            a_body_over_the_limit_or_broken_leaves_nothing,
            blobs_are_listed_by_when_they_were_written,
            a_large_body_is_stored_whole,
            bodies_around_a_mebibyte_are_stored_whole,
            a_large_body_that_fails_halfway_leaves_nothing,
        );
    };
    (@tests $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                blobs::$test($fixture().await).await;
            }
        )*
    };
}
pub(crate) use suite_tests;
