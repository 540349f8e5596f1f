//! What only the S3 blob store can get wrong: the parts of a multipart upload that fails, or
//! whose request goes away halfway, must not stay in the bucket (S3 keeps unfinished uploads,
//! invisible and billed, until they are aborted). Checked by asking the S3 server itself for
//! the bucket's unfinished uploads.

use bytes::Bytes;
use cloudnexus_store::blob::PART_BYTES;
use cloudnexus_store::testing::{new_s3_bucket, s3_builder, s3_endpoint};
use cloudnexus_store::{BlobStore, ByteStream, S3BlobStore};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// The bucket's unfinished multipart uploads, as the server lists them (`GET /BUCKET?uploads`).
async fn unfinished_uploads(bucket_url: &str) -> usize {
    let bucket = bucket_url.strip_prefix("s3://").unwrap();
    let listing = reqwest::get(format!("{}/{bucket}?uploads", s3_endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("ListMultipartUploadsResult"), "{listing}");
    listing.matches("<Upload>").count()
}

async fn eventually_no_unfinished_uploads(bucket_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = unfinished_uploads(bucket_url).await;
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{left} unfinished upload(s) still in the bucket after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Three parts' worth of bytes, then whatever `tail` yields.
fn three_parts_then(tail: ByteStream) -> ByteStream {
    let part = Bytes::from(vec![7u8; PART_BYTES]);
    futures_util::stream::iter((0..3).map(move |_| Ok(part.clone())))
        .chain(tail)
        .boxed()
}

#[tokio::test]
async fn a_failed_upload_leaves_no_parts_in_the_bucket() {
    let bucket = new_s3_bucket().await;
    let blobs = S3BlobStore::open(&bucket, s3_builder()).await.unwrap();
    let broken = three_parts_then(
        futures_util::stream::once(async { Err(std::io::Error::other("the client went away")) }).boxed(),
    );
    assert!(blobs.write(broken, u64::MAX).await.is_err());
    eventually_no_unfinished_uploads(&bucket).await;
    let too_large = three_parts_then(futures_util::stream::empty().boxed());
    assert!(blobs.write(too_large, 2 * PART_BYTES as u64 + 1).await.is_err());
    eventually_no_unfinished_uploads(&bucket).await;
}

#[tokio::test]
async fn an_upload_whose_request_goes_away_is_aborted() {
    let bucket = new_s3_bucket().await;
    let blobs = S3BlobStore::open(&bucket, s3_builder()).await.unwrap();
    // The body stalls after three parts, as when a client stops sending; the request is then
    // dropped, as the server drops it when the connection closes.
    let stalled = three_parts_then(futures_util::stream::pending().boxed());
    let write = tokio::time::timeout(Duration::from_secs(2), blobs.write(stalled, u64::MAX)).await;
    assert!(write.is_err(), "the stalled write should still have been waiting");
    eventually_no_unfinished_uploads(&bucket).await;
}

#[tokio::test]
async fn an_unusable_bucket_is_refused_at_open() {
    let missing = format!("{}-missing", new_s3_bucket().await);
    let error = S3BlobStore::open(&missing, s3_builder()).await.unwrap_err();
    assert!(error.to_string().to_lowercase().contains("bucket"), "{error}");
    let error = S3BlobStore::open("s3:///prefix", s3_builder()).await.unwrap_err();
    assert!(error.to_string().contains("s3://BUCKET"), "{error}");
}

/// A moto server of this test's own, which it can stop.
struct PrivateMoto {
    child: std::process::Child,
    endpoint: String,
}

impl PrivateMoto {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server runs (scripts/s3.sh installs it)");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(&endpoint).await.is_err() {
            assert!(Instant::now() < deadline, "moto_server did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, endpoint }
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_store_that_goes_away_fails_requests_within_seconds_as_timed_out() {
    let mut moto = PrivateMoto::start().await;
    let created = reqwest::Client::new()
        .put(format!("{}/gone", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let builder = s3_builder().with_endpoint(&moto.endpoint);
    let blobs = S3BlobStore::open("s3://gone", builder).await.unwrap();
    let one = || futures_util::stream::iter([Ok(Bytes::from_static(b"bytes"))]).boxed();
    let written = blobs.write(one(), 100).await.unwrap();

    moto.child.kill().unwrap();
    moto.child.wait().unwrap();
    let started = Instant::now();
    let Err(cloudnexus_store::BlobWriteError::Storage(write)) = blobs.write(one(), 100).await else {
        panic!("a write to a store that is gone succeeded, or failed otherwise");
    };
    assert_eq!(write.kind(), std::io::ErrorKind::TimedOut, "{write}");
    let read = blobs
        .read(&written.id, None)
        .await
        .err()
        .expect("a read from a store that is gone");
    assert_eq!(read.kind(), std::io::ErrorKind::TimedOut, "{read}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "two requests gave up after {:?}",
        started.elapsed()
    );
}
