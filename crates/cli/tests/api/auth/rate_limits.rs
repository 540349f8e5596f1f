//! The exact promise: at most 60 list requests per API key in any rolling 60-second window,
//! with the clock moved by hand.

use crate::helpers::{Answer, TestApp};
use serde_json::json;

async fn list(app: &TestApp, key: &str) -> Answer {
    app.call("GET", "/v1/buckets", Some(key), None).await
}

async fn use_up(app: &TestApp, key: &str, n: usize) {
    for i in 0..n {
        let a = list(app, key).await;
        assert_eq!(a.status, 200, "request {i}: {}", a.text);
    }
}

#[tokio::test]
async fn the_61st_request_in_a_window_is_429_until_the_first_leaves_it() {
    let app = TestApp::spawn_with_default_limits().await;
    let first = list(&app, &app.admin_key).await;
    assert_eq!(first.header("ratelimit-policy"), Some(r#""list-buckets";q=60;w=60"#));
    assert_eq!(first.header("ratelimit"), Some(r#""list-buckets";r=59;t=60"#));
    use_up(&app, &app.admin_key, 59).await;

    let refused = list(&app, &app.admin_key).await;
    let p = refused.problem(429, "rate_limited");
    assert!(p["detail"].as_str().unwrap().contains("Retry-After"));
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.header("ratelimit"), Some(r#""list-buckets";r=0;t=60"#));

    app.clock.advance_millis(59_500);
    let still = list(&app, &app.admin_key).await;
    assert_eq!(still.status, 429);
    assert_eq!(still.header("retry-after"), Some("1"));
    app.clock.advance_millis(500);
    let admitted = list(&app, &app.admin_key).await;
    assert_eq!(admitted.status, 200, "{}", admitted.text);
    // All sixty were made at the same instant, so all of them left the window together.
    assert_eq!(admitted.header("ratelimit"), Some(r#""list-buckets";r=59;t=60"#));
}

#[tokio::test]
async fn the_window_rolls_rather_than_resetting() {
    let app = TestApp::spawn_with_default_limits().await;
    use_up(&app, &app.admin_key, 30).await;
    app.clock.advance(30);
    use_up(&app, &app.admin_key, 30).await;
    app.clock.advance(15);
    // 45 s after the first thirty: they are still in the window, so Retry-After is 15.
    let refused = list(&app, &app.admin_key).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("15"));
    app.clock.advance(15);
    // The first thirty have left; thirty more fit, and no more.
    use_up(&app, &app.admin_key, 30).await;
    assert_eq!(list(&app, &app.admin_key).await.status, 429);
}

#[tokio::test]
async fn refused_requests_use_no_quota() {
    let app = TestApp::spawn_with_default_limits().await;
    use_up(&app, &app.admin_key, 60).await;
    for _ in 0..20 {
        assert_eq!(list(&app, &app.admin_key).await.status, 429);
        app.clock.advance(1);
    }
    app.clock.advance(40);
    use_up(&app, &app.admin_key, 60).await;
}

#[tokio::test]
async fn two_hundred_concurrent_requests_admit_exactly_sixty() {
    let app = std::sync::Arc::new(TestApp::spawn_with_default_limits().await);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { list(&app, &app.admin_key).await.status.as_u16() })
        })
        .collect();
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, limited), (60, 140));
}

#[tokio::test]
async fn keys_do_not_share_quota() {
    let app = TestApp::spawn_with_default_limits().await;
    let other = app.key("storage:read").await;
    use_up(&app, &app.admin_key, 60).await;
    assert_eq!(list(&app, &app.admin_key).await.status, 429);
    use_up(&app, &other, 60).await;
}

async fn mint(app: &TestApp) -> String {
    let answer = app
        .call("POST", "/v1/auth/tokens", Some(&app.admin_key), Some(json!({})))
        .await;
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_key_and_its_tokens_share_one_quota() {
    let app = TestApp::spawn_with_default_limits().await;
    let t1 = mint(&app).await;
    let t2 = mint(&app).await;
    assert_ne!(t1, t2);
    use_up(&app, &app.admin_key, 20).await;
    use_up(&app, &t1, 20).await;
    use_up(&app, &t2, 20).await;
    for credential in [&app.admin_key, &t1, &t2] {
        assert_eq!(list(&app, credential).await.status, 429);
    }
}

#[tokio::test]
async fn other_route_groups_have_their_own_policies() {
    let app = TestApp::spawn_with_default_limits().await;
    app.create_bucket("still-readable", "us-east-1").await;
    use_up(&app, &app.admin_key, 60).await;
    let get = app
        .call("GET", "/v1/buckets/still-readable", Some(&app.admin_key), None)
        .await;
    assert_eq!(get.status, 200);
    assert_eq!(get.header("ratelimit-policy"), Some(r#""read";q=600;w=60"#));
    let health = app.call("GET", "/healthz", None, None).await;
    assert_eq!(health.header("ratelimit-policy"), None);
}

#[tokio::test]
async fn policies_come_from_configuration() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits = Default::default();
        c.rate_limits.list_buckets.requests = 5;
        c.rate_limits.list_buckets.window_seconds = 10;
    })
    .await;
    use_up(&app, &app.admin_key, 5).await;
    let refused = list(&app, &app.admin_key).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("10"));
    assert_eq!(refused.header("ratelimit-policy"), Some(r#""list-buckets";q=5;w=10"#));
}

#[tokio::test]
async fn failed_authentication_is_limited_per_client_address() {
    let app = TestApp::spawn_with_default_limits().await;
    for i in 0..20 {
        let bad = format!("cnx_abcdefghij_{:032}", i);
        list(&app, &bad).await.problem(401, "invalid_token");
    }
    // The address is now refused, even with a valid key, until the window moves on.
    let blocked = list(&app, &app.admin_key).await;
    blocked.problem(429, "rate_limited");
    assert_eq!(blocked.header("retry-after"), Some("60"));
    app.clock.advance(60);
    assert_eq!(list(&app, &app.admin_key).await.status, 200);
}
