//! `POST /v1/auth/tokens` and the access tokens it mints.

use crate::helpers::TestApp;
use cloudnexus_core::ApiKeySecret;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn mint(app: &TestApp, key: &str, body: Value) -> crate::helpers::Answer {
    app.call("POST", "/v1/auth/tokens", Some(key), Some(body)).await
}

async fn token(app: &TestApp, key: &str, body: Value) -> String {
    let answer = mint(app, key, body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_is_minted_oauth_style_and_works_as_a_bearer_credential() {
    let app = TestApp::spawn().await;
    app.create_bucket("token-visible", "us-east-1").await;
    let answer = mint(
        &app,
        &app.admin_key,
        json!({"scopes": ["storage:read"], "ttl_seconds": 600}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let body = answer.json();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "token_type", "expires_in", "scope"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "storage:read");
    let token = body["access_token"].as_str().unwrap();

    let list = app.call("GET", "/v1/buckets", Some(token), None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()["pagination"]["total"], 1);
    // It carries only the scopes asked for.
    let create = app
        .call(
            "POST",
            "/v1/buckets",
            Some(token),
            Some(json!({"name": "nope-bucket", "region": "us-east-1"})),
        )
        .await;
    create.problem(403, "insufficient_scope");
}

#[tokio::test]
async fn by_default_a_token_has_all_the_keys_scopes_for_fifteen_minutes() {
    let app = TestApp::spawn().await;
    let key = app.key("storage:read,storage:write").await;
    let body = mint(&app, &key, json!({})).await.json();
    assert_eq!(body["scope"], "storage:read storage:write");
    assert_eq!(body["expires_in"], 900);
}

#[tokio::test]
async fn bad_token_requests_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    for (body, param) in [
        (json!({"ttl_seconds": 0}), "ttl_seconds"),
        (json!({"ttl_seconds": 3601}), "ttl_seconds"),
        (json!({"ttl_seconds": -5}), "ttl_seconds"),
        (json!({"scopes": ["storage:everything"]}), "scopes"),
        (json!({"scopes": []}), "scopes"),
        (json!({"scopes": "storage:read"}), "scopes"),
        (json!({"lifetime": 60}), "lifetime"),
    ] {
        let p = mint(&app, &app.admin_key, body.clone())
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], param, "{body}");
    }
    assert_eq!(
        mint(&app, &app.admin_key, json!({"ttl_seconds": 3600})).await.status,
        200
    );
}

#[tokio::test]
async fn a_token_cannot_gain_scopes_its_key_lacks() {
    let app = TestApp::spawn().await;
    let reader = app.key("storage:read").await;
    let answer = mint(&app, &reader, json!({"scopes": ["storage:read", "storage:write"]})).await;
    let p = answer.problem(403, "insufficient_scope");
    assert!(p["detail"].as_str().unwrap().contains("storage:write"));
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="storage:write""#)
    );
}

#[tokio::test]
async fn a_token_cannot_mint_tokens() {
    let app = TestApp::spawn().await;
    let t = token(&app, &app.admin_key, json!({})).await;
    mint(&app, &t, json!({})).await.problem(403, "api_key_required");
}

#[tokio::test]
async fn an_expired_token_is_401_invalid_token() {
    let app = TestApp::spawn().await;
    let t = token(&app, &app.admin_key, json!({"ttl_seconds": 60})).await;
    app.clock.advance(59);
    assert_eq!(app.call("GET", "/v1/buckets", Some(&t), None).await.status, 200);
    app.clock.advance(1);
    let answer = app.call("GET", "/v1/buckets", Some(&t), None).await;
    let p = answer.problem(401, "invalid_token");
    assert!(p["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="cloudnexus", error="invalid_token""#)
    );
}

#[tokio::test]
async fn altered_or_foreign_tokens_are_401() {
    let app = TestApp::spawn().await;
    let t = token(&app, &app.admin_key, json!({})).await;
    let (header, rest) = t.split_once('.').unwrap();
    let (claims, signature) = rest.split_once('.').unwrap();
    let resigned = format!("{header}.{claims}.{}", &signature[..signature.len() - 2]);
    let other_server = TestApp::spawn().await;
    let foreign = token(&other_server, &other_server.admin_key, json!({})).await;
    for bad in [resigned.as_str(), foreign.as_str(), "a.b.c"] {
        app.call("GET", "/v1/buckets", Some(bad), None)
            .await
            .problem(401, "invalid_token");
    }
}

#[tokio::test]
async fn a_revoked_keys_tokens_stop_working_within_five_seconds() {
    let app = TestApp::spawn().await;
    let key = app.key("storage:read").await;
    let t = token(&app, &key, json!({})).await;
    assert_eq!(app.call("GET", "/v1/buckets", Some(&t), None).await.status, 200);

    let store = app.store().await;
    let id = ApiKeySecret::parse(&key).unwrap().key_id().unwrap();
    store
        .revoke_api_key(&id, cloudnexus_core::Clock::now(&app.clock))
        .await
        .unwrap();
    store.close().await;
    let revoked_at = Instant::now();
    // The key itself is refused at once.
    app.call("GET", "/v1/buckets", Some(&key), None)
        .await
        .problem(401, "invalid_token");
    loop {
        let answer = app.call("GET", "/v1/buckets", Some(&t), None).await;
        if answer.status == 401 {
            answer.problem(401, "invalid_token");
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "the token still works 5 s after its key was revoked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And no new token can be minted with the key.
    mint(&app, &key, json!({})).await.problem(401, "invalid_token");
}

#[tokio::test]
async fn a_token_sees_only_its_keys_project() {
    let app = TestApp::spawn().await;
    app.create_bucket("first-project-bucket", "us-east-1").await;
    let (other_project, other) = app.other_project("second").await;
    other
        .create_bucket(&cloudnexus_client::CreateBucket::new(
            "second-project-bucket",
            "us-east-1",
        ))
        .await
        .unwrap();
    let other_key = app.key_for(&other_project, "storage:read").await;
    let t = token(&app, &other_key, json!({})).await;
    let page = app.call("GET", "/v1/buckets", Some(&t), None).await.json();
    assert_eq!(page["pagination"]["total"], 1);
    assert_eq!(page["data"][0]["name"], "second-project-bucket");
    app.call("GET", "/v1/buckets/first-project-bucket", Some(&t), None)
        .await
        .problem(404, "bucket_not_found");
}

#[tokio::test]
async fn tokens_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let t = token(&app, &app.admin_key, json!({})).await;
    app.restart().await;
    assert_eq!(app.call("GET", "/v1/buckets", Some(&t), None).await.status, 200);
}

#[tokio::test]
async fn every_endpoint_rejects_a_token_without_its_scope() {
    let app = TestApp::spawn().await;
    app.create_bucket("scoped", "us-east-1").await;
    let read_only = token(&app, &app.admin_key, json!({"scopes": ["storage:read"]})).await;
    let write_only = token(&app, &app.admin_key, json!({"scopes": ["storage:write"]})).await;
    let admin_only = token(&app, &app.admin_key, json!({"scopes": ["storage:admin"]})).await;
    let writes = [
        ("POST", "/v1/buckets"),
        ("PATCH", "/v1/buckets/scoped"),
        ("DELETE", "/v1/buckets/scoped"),
        ("POST", "/v1/buckets/scoped/restore"),
    ];
    let reads = [
        ("GET", "/v1/buckets"),
        ("GET", "/v1/get-/buckets"),
        ("GET", "/v1/buckets/scoped"),
    ];
    for (method, path) in writes {
        for t in [&read_only, &admin_only] {
            let p = app
                .call(method, path, Some(t), Some(json!({})))
                .await
                .problem(403, "insufficient_scope");
            assert!(
                p["detail"].as_str().unwrap().contains("storage:write"),
                "{method} {path}"
            );
        }
    }
    for (method, path) in reads {
        for t in [&write_only, &admin_only] {
            let p = app
                .call(method, path, Some(t), None)
                .await
                .problem(403, "insufficient_scope");
            assert!(
                p["detail"].as_str().unwrap().contains("storage:read"),
                "{method} {path}"
            );
        }
    }
}
