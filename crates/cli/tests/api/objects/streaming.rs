//! Bodies stream in and out: memory does not grow with an object's size.

use crate::helpers::TestApp;
use futures_util::StreamExt;
use md5::{Digest, Md5};

const MIB: usize = 1024 * 1024;
/// 256 MiB: a quarter of a gibibyte, 256 times the 1 MiB the server buffers per upload.
const OBJECT: usize = 256 * MIB;

/// Peak resident memory of this process since the last reset, in bytes.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

fn current_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

/// Resets the peak to the current resident size (Linux).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

fn chunk(i: usize) -> Vec<u8> {
    (0..MIB).map(|j| ((i * 7 + j * 13) % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_and_download_stream_without_buffering() {
    let app = TestApp::spawn().await;
    app.create_bucket("big-objects", "us-east-1").await;
    let mut expected = Md5::new();
    for i in 0..OBJECT / MIB {
        expected.update(chunk(i));
    }
    let expected: String = expected.finalize().iter().map(|b| format!("{b:02x}")).collect();

    // Upload: the client generates the body a mebibyte at a time; neither side holds it whole.
    reset_peak();
    let before = current_rss();
    let body = futures_util::stream::iter((0..OBJECT / MIB).map(|i| Ok::<_, std::io::Error>(chunk(i))));
    let put = TestApp::answer(
        app.request("PUT", "/v1/buckets/big-objects/objects/huge.bin")
            .body(reqwest::Body::wrap_stream(body)),
    )
    .await;
    assert_eq!(put.status, 201, "{}", put.text);
    let upload_growth = peak_rss().saturating_sub(before);
    assert_eq!(put.json()["etag"], format!("\"{expected}\""));
    assert_eq!(put.json()["size_bytes"], OBJECT);
    assert!(
        upload_growth < 64 * MIB,
        "memory grew by {} MiB for a {} MiB upload",
        upload_growth / MIB,
        OBJECT / MIB
    );

    // Download: streamed and hashed as it arrives.
    reset_peak();
    let before = current_rss();
    let response = app
        .request("GET", "/v1/buckets/big-objects/objects/huge.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-length"], OBJECT.to_string().as_str());
    let mut got = Md5::new();
    let mut received = 0;
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        received += piece.len();
        got.update(&piece);
    }
    let download_growth = peak_rss().saturating_sub(before);
    assert_eq!(received, OBJECT);
    assert_eq!(
        got.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        expected
    );
    assert!(
        download_growth < 64 * MIB,
        "memory grew by {} MiB for a {} MiB download",
        download_growth / MIB,
        OBJECT / MIB
    );
    let bucket = app.client.get_bucket("big-objects").await.unwrap();
    assert_eq!((bucket.size_bytes, bucket.object_count), (OBJECT as u64, 1));
}
