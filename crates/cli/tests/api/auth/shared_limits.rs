//! Rate limits counted in Redis hold for the whole service: one window per key across every
//! node, the failed-auth limit per address across every node, and a Redis that cannot be
//! reached refuses requests (503 with `Retry-After`) rather than letting them through
//! uncounted. These tests always use Redis (`CLOUDNEXUS_TEST_REDIS_URL`, or a private
//! `redis-server` they start), whatever `CLOUDNEXUS_TEST_LIMITER` says.

use crate::helpers::{Answer, TestApp};
use cloudnexus_store::testing::{redis_url, unique_redis_key_prefix};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

async fn on_shared_limits(redis: String) -> TestApp {
    TestApp::spawn_with(|c| {
        c.rate_limits = Default::default();
        c.rate_limits.redis_url = Some(redis);
        c.rate_limits.redis_key_prefix = unique_redis_key_prefix();
    })
    .await
}

async fn list(http: &reqwest::Client, base_url: &str, key: &str) -> Answer {
    let response = http
        .get(format!("{base_url}/v1/buckets"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

#[tokio::test]
async fn two_hundred_requests_over_two_nodes_admit_exactly_sixty() {
    let app = on_shared_limits(redis_url()).await;
    let node = app.another_node().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let http = app.http.clone();
        let base = if i % 2 == 0 {
            app.base_url.clone()
        } else {
            node.base_url.clone()
        };
        let key = app.admin_key.clone();
        tasks.push(tokio::spawn(async move { list(&http, &base, &key).await }));
    }
    let mut admitted = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status.as_u16() {
            200 => admitted += 1,
            429 => {
                // The clock stands still: the window frees its first request in 60 s.
                assert_eq!(answer.header("retry-after"), Some("60"), "{}", answer.text);
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    assert_eq!(admitted, 60, "one window for the key across both nodes");
    // The window rolls for both nodes at once.
    app.clock.advance(60);
    assert_eq!(list(&app.http, &node.base_url, &app.admin_key).await.status, 200);
}

#[tokio::test]
async fn failed_authentication_through_one_node_shuts_the_address_out_of_every_node() {
    let app = on_shared_limits(redis_url()).await;
    let node = app.another_node().await;
    for i in 0..20 {
        let bad = format!("cnx_abcdefghij_{i:032}");
        list(&app.http, &app.base_url, &bad).await.problem(401, "invalid_token");
    }
    let blocked = list(&app.http, &node.base_url, &app.admin_key).await;
    blocked.problem(429, "rate_limited");
    assert_eq!(blocked.header("retry-after"), Some("60"));
}

/// A `redis-server` of this test's own, which it can stop and start again on the same port.
pub(crate) struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub(crate) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/redis.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn an_unreachable_redis_refuses_requests_with_503_and_retry_after_then_recovers() {
    let mut redis = PrivateRedis::start();
    let app = on_shared_limits(redis.url()).await;
    assert_eq!(list(&app.http, &app.base_url, &app.admin_key).await.status, 200);

    redis.kill();
    let started = Instant::now();
    let refused = list(&app.http, &app.base_url, &app.admin_key).await;
    let body = refused.problem(503, "rate_limiter_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(body["detail"].as_str().unwrap().contains("admits no request"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the refusal took {:?}",
        started.elapsed()
    );
    // Invalid credentials are refused too, never let through to be counted later.
    list(
        &app.http,
        &app.base_url,
        "cnx_abcdefghij_00000000000000000000000000000000",
    )
    .await
    .problem(503, "rate_limiter_unavailable");

    // Back again: requests are counted and admitted once more, without a restart.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = list(&app.http, &app.base_url, &app.admin_key).await;
        if answer.status == 200 {
            break;
        }
        answer.problem(503, "rate_limiter_unavailable");
        assert!(
            Instant::now() < deadline,
            "not admitting again 15 s after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn serve_stops_with_one_line_when_redis_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .args(["--redis-url", "redis://:s3cret@127.0.0.1:1"])
        .env_remove("CLOUDNEXUS_CONFIG")
        .env_remove("CLOUDNEXUS_DATABASE_URL")
        .env_remove("CLOUDNEXUS_REDIS_URL")
        .output()
        .unwrap();
    let stderr = crate::startup::one_line_error(&output);
    assert!(
        stderr.contains("cannot reach the rate limiter at redis://:***@127.0.0.1:1") && stderr.contains("start Redis"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "the password is never printed: {stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening"));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "it gave up after {:?}",
        started.elapsed()
    );
}
