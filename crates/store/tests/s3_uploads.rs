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
