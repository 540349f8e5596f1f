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

macro_rules! suite_tests {
    ($fixture:path) => {
        $crate::blobs::suite_tests!(@tests $fixture;
            writes_read_back_whole_and_by_range,
            deletes_are_idempotent,
            a_body_over_the_limit_or_broken_leaves_nothing,
            blobs_are_listed_by_when_they_were_written,
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
