//! Rendered list pages are reused, and never once a change has committed: every change made
//! before a request (through the API, by an admin command in another process, or by another
//! connection to the database) shows in it, `size_bytes` and `object_count` included.

use crate::helpers::{NowTs, TestApp, http_client};
use cloudnexus_core::{BucketRef, Timestamp};
use serde_json::{Value, json};

const PAGE: &str = "/v1/buckets?limit=100&include=deleted";

async fn page(app: &TestApp, key: &str) -> Value {
    let answer = app.call("GET", PAGE, Some(key), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

fn bucket<'a>(page: &'a Value, name: &str) -> &'a Value {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {page}"))
}

#[tokio::test]
async fn a_repeated_page_is_byte_identical_to_its_first_rendering() {
    let app = TestApp::spawn().await;
    for name in ["cache-a", "cache-b", "cache-c"] {
        app.create_bucket(name, "us-east-1").await;
    }
    let first = app.call("GET", "/v1/buckets?limit=2", Some(&app.admin_key), None).await;
    let again = app.call("GET", "/v1/buckets?limit=2", Some(&app.admin_key), None).await;
    assert_eq!(first.status, 200);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("content-type"), Some("application/json"));
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    // The cursor of a reused page still works: it leads to the one bucket left.
    let again = again.json();
    let cursor = again["pagination"]["next_cursor"].as_str().unwrap();
    let next = app
        .call(
            "GET",
            &format!("/v1/buckets?limit=2&cursor={cursor}"),
            Some(&app.admin_key),
            None,
        )
        .await
        .json();
    let mut names: Vec<&str> = again["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(next["data"].as_array().unwrap())
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["cache-a", "cache-b", "cache-c"]);

    // With the cache turned off the server answers the same bytes.
    let uncached = TestApp::spawn_with(|c| c.buckets.list_cache_mib = 0).await;
    for name in ["cache-d", "cache-e"] {
        uncached.create_bucket(name, "us-east-1").await;
    }
    let one = uncached
        .call("GET", "/v1/buckets", Some(&uncached.admin_key), None)
        .await;
    let two = uncached
        .call("GET", "/v1/buckets", Some(&uncached.admin_key), None)
        .await;
    assert_eq!(one.text, two.text);
    assert_eq!(one.json()["pagination"]["total"], 2);
}

#[tokio::test]
async fn a_page_written_from_the_rows_is_the_bytes_of_the_cached_page() {
    // A node without the cache writes each page's buckets as the store reads them; a node with
    // it keeps a template of the page, splices the usage in, and serves it again from the
    // cache. Same data, same bytes.
    let app = TestApp::spawn().await;
    let uncached = app.another_node_with(|c| c.buckets.list_cache_mib = 0).await;
    let key = &app.admin_key;
    let tags = [
        json!({}),
        json!({"env": "prod", "team": "platform"}),
        json!({"quote": "say \"hi\"", "path": "a\\b", "unicode": "ünï ✓", "env": "prod"}),
        json!({"zeta": "last", "alpha": "first", "env": "dev"}),
        json!({"env": "prod"}),
    ];
    for (i, t) in tags.iter().enumerate() {
        let body = json!({"name": format!("same-bytes-{i}"), "region": "us-east-1", "tags": t});
        let created = app.call("POST", "/v1/buckets", Some(key), Some(body)).await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let deleted = app.call("DELETE", "/v1/buckets/same-bytes-1", Some(key), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    let upload = app
        .request("PUT", "/v1/buckets/same-bytes-2/objects/k")
        .body("twelve bytes");
    assert!(TestApp::answer(upload).await.status.is_success());

    for query in [
        "/v1/buckets?limit=2&include=deleted",
        "/v1/buckets?tag=env:prod&limit=1",
        "/v1/buckets?offset=1&limit=2",
        "/v1/buckets?prefix=same-bytes-3",
    ] {
        let mut path = query.to_owned();
        loop {
            let cached = app.call("GET", &path, Some(key), None).await;
            assert_eq!(cached.status, 200, "{}", cached.text);
            let hit = app.call("GET", &path, Some(key), None).await;
            assert_eq!(hit.text, cached.text, "{path}");
            let direct = TestApp::answer(
                http_client()
                    .get(format!("{}{path}", uncached.base_url))
                    .bearer_auth(key),
            )
            .await;
            assert_eq!(direct.status, 200, "{}", direct.text);
            assert_eq!(direct.text, cached.text, "{path}");
            // The next page, by cursor (which replaces an offset).
            match cached.json()["pagination"]["next_cursor"].as_str() {
                Some(cursor) => path = format!("{}&cursor={cursor}", query.replace("offset=1&", "")),
                None => break,
            }
        }
    }
    let all = app
        .call("GET", "/v1/buckets?include=deleted", Some(key), None)
        .await
        .json();
    assert_eq!(all["pagination"]["total"], 5);
    let escaped = bucket(&all, "same-bytes-2");
    assert_eq!(escaped["tags"], tags[2]);
    assert_eq!(escaped["size_bytes"], 12);
    assert!(bucket(&all, "same-bytes-1")["deleted_at"].is_string());
}

#[tokio::test]
async fn every_change_through_the_api_shows_on_the_next_request() {
    let app = TestApp::spawn().await;
    let key = &app.admin_key;
    app.create_bucket("seen-1", "us-east-1").await;
    assert_eq!(page(&app, key).await["pagination"]["total"], 1);

    app.create_bucket("seen-2", "eu-west-2").await;
    let listed = page(&app, key).await;
    assert_eq!(listed["pagination"]["total"], 2);

    let patched = app
        .call(
            "PATCH",
            "/v1/buckets/seen-1",
            Some(key),
            Some(json!({"tags": {"env": "prod"}, "public": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let listed = page(&app, key).await;
    assert_eq!(bucket(&listed, "seen-1")["tags"], json!({"env": "prod"}));
    assert_eq!(bucket(&listed, "seen-1")["public"], true);

    let put = TestApp::answer(app.request("PUT", "/v1/buckets/seen-1/objects/notes.txt").body("hello")).await;
    assert_eq!(put.status, 201, "{}", put.text);
    let listed = page(&app, key).await;
    assert_eq!(bucket(&listed, "seen-1")["size_bytes"], 5);
    assert_eq!(bucket(&listed, "seen-1")["object_count"], 1);
    let deleted = app
        .call("DELETE", "/v1/buckets/seen-1/objects/notes.txt", Some(key), None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let listed = page(&app, key).await;
    assert_eq!(bucket(&listed, "seen-1")["size_bytes"], 0);
    assert_eq!(bucket(&listed, "seen-1")["object_count"], 0);

    assert_eq!(
        app.call("DELETE", "/v1/buckets/seen-2", Some(key), None).await.status,
        200
    );
    let listed = page(&app, key).await;
    assert!(bucket(&listed, "seen-2")["deleted_at"].is_string());
    let live = app.call("GET", "/v1/buckets", Some(key), None).await.json();
    assert_eq!(live["pagination"]["total"], 1);
    assert_eq!(
        app.call("POST", "/v1/buckets/seen-2/restore", Some(key), None)
            .await
            .status,
        200
    );
    assert!(bucket(&page(&app, key).await, "seen-2").get("deleted_at").is_none());
    assert_eq!(
        app.call("GET", "/v1/buckets", Some(key), None).await.json()["pagination"]["total"],
        2
    );
}

#[tokio::test]
async fn changes_by_other_processes_show_on_the_next_request() {
    let app = TestApp::spawn().await;
    let key = &app.admin_key;
    app.create_bucket("first", "us-east-1").await;
    let before = page(&app, key).await;
    assert_eq!(before["pagination"]["total"], 1);
    assert_eq!(
        page(&app, key).await,
        before,
        "the page is stable while nothing changes"
    );

    // An admin command: another process writing the same database.
    let demo = app
        .admin_command()
        .args(["demo", "--project", "default"])
        .output()
        .expect("binary runs");
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    assert_eq!(page(&app, key).await["pagination"]["total"], 48);

    // Another connection to the database: a soft delete shows at once.
    let store = app.store().await;
    let first = store
        .get_bucket(&app.project_id, &BucketRef::parse("first").unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = app.clock.now_ts();
    store
        .soft_delete_bucket(
            &app.project_id,
            &first.id,
            now,
            Timestamp::from_unix_seconds(now.unix_seconds() + 60),
        )
        .await
        .unwrap();
    store.close().await;
    assert!(bucket(&page(&app, key).await, "first")["deleted_at"].is_string());
}

#[tokio::test]
async fn access_tokens_see_every_change_too() {
    let app = TestApp::spawn().await;
    let minted = app
        .call(
            "POST",
            "/v1/auth/tokens",
            Some(&app.admin_key),
            Some(json!({"scopes": ["storage:read"]})),
        )
        .await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    let token = minted.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(page(&app, &token).await["pagination"]["total"], 0);
    app.create_bucket("token-seen", "us-east-1").await;
    assert_eq!(page(&app, &token).await["pagination"]["total"], 1);
}

#[tokio::test]
async fn projects_never_see_each_others_cached_pages() {
    let app = TestApp::spawn().await;
    app.create_bucket("mine-only", "us-east-1").await;
    let (other, _) = app.other_project("neighbours").await;
    let other_key = app.key_for(&other, "storage:read").await;
    assert_eq!(page(&app, &app.admin_key).await["pagination"]["total"], 1);
    // The very same query from another project is that project's page.
    let theirs = page(&app, &other_key).await;
    assert_eq!(theirs["pagination"]["total"], 0);
    assert_eq!(theirs["data"], json!([]));
}
