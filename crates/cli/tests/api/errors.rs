//! Input and credential errors every route shares: problem+json, a code, a message saying what
//! to fix, and the request id.

use crate::helpers::TestApp;
use serde_json::json;

const WRITE_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/buckets"),
    ("PATCH", "/v1/buckets/some-bucket"),
    ("DELETE", "/v1/buckets/some-bucket"),
    ("POST", "/v1/buckets/some-bucket/restore"),
];
const READ_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/buckets"),
    ("GET", "/v1/get-/buckets"),
    ("GET", "/v1/buckets/some-bucket"),
];

#[tokio::test]
async fn every_route_needs_a_credential() {
    let app = TestApp::spawn().await;
    for (method, path) in WRITE_ROUTES.iter().chain(READ_ROUTES) {
        let answer = app.call(method, path, None, None).await;
        let p = answer.problem(401, "unauthorized");
        assert_eq!(
            answer.header("www-authenticate"),
            Some(r#"Bearer realm="cloudnexus""#),
            "{method} {path}"
        );
        assert!(p["detail"].as_str().unwrap().contains("Authorization: Bearer"));
    }
}

#[tokio::test]
async fn invalid_credentials_are_401_invalid_token() {
    let app = TestApp::spawn().await;
    let revoked = app.key("storage:read").await;
    let store = app.store().await;
    let id = cloudnexus_core::ApiKeySecret::parse(&revoked)
        .unwrap()
        .key_id()
        .unwrap();
    store
        .revoke_api_key(&id, cloudnexus_core::Timestamp::from_unix_seconds(0))
        .await
        .unwrap();
    store.close().await;
    // The admin key with its last character changed (to one it is not: a key ending in `x`
    // would otherwise come back unchanged, one run in 62).
    let (kept, last) = app.admin_key.split_at(app.admin_key.len() - 1);
    let tampered = format!("{kept}{}", if last == "x" { "y" } else { "x" });
    assert_ne!(tampered, app.admin_key);
    for key in [
        "not-a-key",
        "cnx_abcdefghij_00000000000000000000000000000000",
        tampered.as_str(),
        revoked.as_str(),
    ] {
        let answer = app.call("GET", "/v1/buckets", Some(key), None).await;
        answer.problem(401, "invalid_token");
        assert_eq!(
            answer.header("www-authenticate"),
            Some(r#"Bearer realm="cloudnexus", error="invalid_token""#)
        );
    }
    let basic = TestApp::answer(
        app.http
            .get(format!("{}/v1/buckets", app.base_url))
            .basic_auth("user", Some("pw")),
    )
    .await;
    basic.problem(401, "invalid_token");
}

#[tokio::test]
async fn the_key_is_also_accepted_as_x_api_key() {
    let app = TestApp::spawn().await;
    let answer = TestApp::answer(
        app.http
            .get(format!("{}/v1/buckets", app.base_url))
            .header("X-API-Key", &app.admin_key),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn each_route_checks_its_scope_and_names_it() {
    let app = TestApp::spawn().await;
    app.create_bucket("some-bucket", "us-east-1").await;
    let read_only = app.key("storage:read").await;
    let write_only = app.key("storage:write").await;
    for (method, path) in WRITE_ROUTES {
        let answer = app.call(method, path, Some(&read_only), Some(json!({}))).await;
        let p = answer.problem(403, "insufficient_scope");
        assert!(
            p["detail"].as_str().unwrap().contains("storage:write"),
            "{method} {path}"
        );
        assert_eq!(
            answer.header("www-authenticate"),
            Some(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="storage:write""#)
        );
    }
    for (method, path) in READ_ROUTES {
        let answer = app.call(method, path, Some(&write_only), None).await;
        let p = answer.problem(403, "insufficient_scope");
        assert!(
            p["detail"].as_str().unwrap().contains("storage:read"),
            "{method} {path}"
        );
    }
    // The scopes are independent: a write-only key can create but not read back.
    let writer = app.client.with_key(write_only);
    writer
        .create_bucket(&cloudnexus_client::CreateBucket::new("write-only-made", "us-east-1"))
        .await
        .unwrap();
    assert!(writer.get_bucket("write-only-made").await.is_err());
}

#[tokio::test]
async fn malformed_json_is_400_invalid_json() {
    let app = TestApp::spawn().await;
    for body in ["{\"name\": ", "not json", "{\"name\":\"a\"} extra", ""] {
        let answer = TestApp::answer(
            app.request("POST", "/v1/buckets")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        let p = answer.problem(400, "invalid_json");
        assert!(p["detail"].as_str().unwrap().contains("JSON"), "{body}");
    }
}

#[tokio::test]
async fn a_body_that_is_json_but_not_an_object_is_refused() {
    let app = TestApp::spawn().await;
    for (path, body) in [
        ("/v1/auth/tokens", "[null, null]"),
        ("/v1/buckets", "[\"arrays\", \"us-east-1\"]"),
        ("/v1/buckets", "42"),
    ] {
        let answer = TestApp::answer(
            app.request("POST", path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        let p = answer.problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "body", "{body}");
    }
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_name_the_field() {
    let app = TestApp::spawn().await;
    let p = app
        .call(
            "POST",
            "/v1/buckets",
            Some(&app.admin_key),
            Some(json!({"name": "typed", "region": "us-east-1", "public": "yes"})),
        )
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "public");
    let p = app
        .call(
            "POST",
            "/v1/buckets",
            Some(&app.admin_key),
            Some(json!({"name": "typed", "region": "us-east-1", "colour": "red"})),
        )
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "colour");
    assert!(p["detail"].as_str().unwrap().contains("expected one of"));
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(json!(["a list"])))
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "body");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;
    let answer = TestApp::answer(
        app.request("POST", "/v1/buckets")
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    let p = answer.problem(415, "unsupported_media_type");
    assert!(p["detail"].as_str().unwrap().contains("application/json"));
    let answer = TestApp::answer(app.request("PATCH", "/v1/buckets/x-bucket").body("{}")).await;
    answer.problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = TestApp::spawn_with(|c| c.limits.max_json_body_bytes = 1024).await;
    let body = json!({"name": "big-body", "region": "us-east-1", "tags": {"env": "x".repeat(2000)}});
    let answer = app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(body)).await;
    answer.problem(413, "payload_too_large");
    assert_eq!(
        app.client
            .list_buckets(&Default::default())
            .await
            .unwrap()
            .pagination
            .total,
        0
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_as_problems() {
    let app = TestApp::spawn().await;
    app.call("GET", "/v1/nothing-here", Some(&app.admin_key), None)
        .await
        .problem(404, "route_not_found");
    app.call("PUT", "/v1/buckets", Some(&app.admin_key), None)
        .await
        .problem(405, "method_not_allowed");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_sane_one_is_echoed() {
    let app = TestApp::spawn().await;
    let generated = app.call("GET", "/healthz", None, None).await;
    assert!(generated.header("x-request-id").unwrap().starts_with("req_"));
    let echoed = TestApp::answer(
        app.request("GET", "/v1/buckets")
            .header("x-request-id", "trace-abc.123"),
    )
    .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc.123"));
    let too_long = "a".repeat(129);
    let replaced = TestApp::answer(app.request("GET", "/v1/nope").header("x-request-id", too_long.as_str())).await;
    let id = replaced.header("x-request-id").unwrap().to_owned();
    assert!(id.starts_with("req_"));
    assert_eq!(replaced.json()["request_id"], id.as_str());
}
