//! Limits under abuse: headers or bodies trickled in are cut off by timeouts, open connections
//! and requests in flight are bounded (one more request is answered 503 at once, on both
//! protocols), each from configuration (`[limits]`). The flood of failed sign-ins from many
//! addresses is bounded in the limiter (`cloudnexus-store`'s memory limiter tests).

use crate::helpers::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn address(base_url: &str) -> String {
    base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into_owned()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn headers_trickled_in_are_cut_off() {
    let app = TestApp::spawn_with(|c| c.limits.header_read_timeout_seconds = 1).await;
    let mut stream = TcpStream::connect(address(&app.base_url)).await.unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // One byte of a header every 200 ms: never a whole request.
    let trickle = async {
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), trickle).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.is_some(), "the connection is still open");
    assert!(!answer.unwrap().contains("200 OK"), "the trickled request was served");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "cut off after {:?}",
        started.elapsed()
    );
    // Whole requests are still served.
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.base_url))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_fails_the_request_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.body_idle_timeout_seconds = 1).await;
    app.create_bucket("trickled", "us-east-1").await;
    let mut stream = TcpStream::connect(address(&app.base_url)).await.unwrap();
    let head = format!(
        "PUT /v1/buckets/trickled/objects/half.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 1000\r\n\r\n",
        app.admin_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[7u8; 100]).await.unwrap();
    let started = Instant::now();
    // Then nothing: the request fails within the idle timeout (plus scheduling).
    let answer = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("the stalled request was not ended");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        !answer.starts_with("HTTP/1.1 2"),
        "a stalled upload was acknowledged: {answer}"
    );
    let missing = app
        .call(
            "GET",
            "/v1/buckets/trickled/objects/half.bin",
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
    let bucket = app
        .call("GET", "/v1/buckets/trickled", Some(&app.admin_key), None)
        .await
        .json();
    assert_eq!(
        (bucket["size_bytes"].as_u64(), bucket["object_count"].as_u64()),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let app = TestApp::spawn_with(|c| {
        c.limits.max_connections = 2;
        c.limits.header_read_timeout_seconds = 60;
    })
    .await;
    let idle_one = TcpStream::connect(address(&app.base_url)).await.unwrap();
    let _idle_two = TcpStream::connect(address(&app.base_url)).await.unwrap();
    // Give the server a moment to accept both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let third = client.get(format!("{}/healthz", app.base_url)).send().await;
    assert!(third.is_err(), "a third connection was served beyond the limit of two");
    drop(idle_one);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let served = client.get(format!("{}/healthz", app.base_url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
}

/// Starts a request whose body stalls, holding its place in flight; returns its connection.
async fn stalled_upload(base_url: &str, path: &str, key: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address(base_url)).await.unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 1000\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[1u8; 10]).await.unwrap();
    // The handler is now waiting for the rest.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
}

#[tokio::test]
async fn a_request_beyond_the_in_flight_limit_is_answered_503_at_once_on_both_protocols() {
    let app = crate::s3::s3_app_with(|c| {
        c.limits.max_in_flight_requests = 1;
        c.limits.body_idle_timeout_seconds = 30;
    })
    .await;
    app.create_bucket("busy", "us-east-1").await;
    let held = stalled_upload(&app.base_url, "/v1/buckets/busy/objects/slow.bin", &app.admin_key).await;

    let started = Instant::now();
    let refused = app.call("GET", "/v1/buckets/busy", Some(&app.admin_key), None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it waited instead of refusing"
    );
    let problem = refused.problem(503, "overloaded");
    assert!(problem["detail"].as_str().unwrap().contains("retry"));
    assert_eq!(refused.header("retry-after"), Some("1"));

    let s3 = reqwest::get(format!("{}/busy", app.s3_url())).await.unwrap();
    assert_eq!(s3.status(), 503);
    assert_eq!(s3.headers()["retry-after"], "1");
    assert!(s3.text().await.unwrap().contains("<Code>SlowDown</Code>"));

    // Once the stalled request ends, requests are served again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = app.call("GET", "/v1/buckets/busy", Some(&app.admin_key), None).await;
        if answer.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {}", answer.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clients that hang up while their write is in flight (a timeout, a closed tab) cancel the
/// request's work at any await point, the start of its transaction included. That must never
/// leave a transaction open on a pooled connection: every write after them must work. (Found by
/// the benchmark's mixed workload: after wrk hung up on uploads in flight, every write answered
/// 500 "begin_with at non-zero transaction depth" until a restart.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_abandoned_mid_flight_leave_the_store_writable() {
    let app = TestApp::spawn().await;
    app.create_bucket("abandoned-writes", "us-east-1").await;
    let mut abandoned = tokio::task::JoinSet::new();
    for i in 0..600u64 {
        // Timeouts from 0.1 ms to 3 ms land on every step of a write.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_micros(100 + (i * 397) % 2900))
            .build()
            .unwrap();
        let (base, key) = (app.base_url.clone(), app.admin_key.clone());
        abandoned.spawn(async move {
            let request = if i % 2 == 0 {
                http.put(format!("{base}/v1/buckets/abandoned-writes/objects/key-{}", i % 25))
                    .body(vec![b'x'; 64])
            } else {
                http.patch(format!("{base}/v1/buckets/abandoned-writes"))
                    .json(&serde_json::json!({"public": i % 4 == 1}))
            };
            let _ = request.bearer_auth(key).send().await;
        });
    }
    while abandoned.join_next().await.is_some() {}

    for i in 0..25 {
        let answer = app
            .http
            .put(format!(
                "{}/v1/buckets/abandoned-writes/objects/after-{i}",
                app.base_url
            ))
            .bearer_auth(&app.admin_key)
            .body("kept")
            .send()
            .await
            .unwrap();
        let status = answer.status();
        assert!(
            status.is_success(),
            "write {i} after the abandoned ones: {status} {}",
            answer.text().await.unwrap()
        );
    }
    let bucket = app.client.get_bucket("abandoned-writes").await.unwrap();
    assert!(bucket.object_count >= 25, "{bucket:?}");
}
