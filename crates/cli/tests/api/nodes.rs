//! Several API nodes on one metadata store (PostgreSQL in production; the suite runs on both
//! backends): a change through one node is in the very next request through another, usage
//! included, and keys created or revoked by an admin command work or stop on every node.

use crate::helpers::{Node, TestApp};
use cloudnexus_client::CreateBucket;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The listing `base` answers `key` for `query` (`""` or `?...`), which must be a 200.
pub(crate) async fn list(base: &str, key: &str, query: &str) -> Value {
    let answer = crate::helpers::http_client()
        .get(format!("{base}/v1/buckets{query}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

fn names(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_change_through_one_node_is_in_the_next_listing_through_another() {
    let app = TestApp::spawn().await;
    let b: Node = app.another_node().await;
    let key = &app.admin_key;
    // Both nodes have rendered (and cached) the empty listing.
    assert_eq!(list(&app.base_url, key, "").await["pagination"]["total"], 0);
    assert_eq!(list(&b.base_url, key, "").await["pagination"]["total"], 0);

    app.create_bucket("through-a", "us-east-1").await;
    let seen = list(&b.base_url, key, "").await;
    assert_eq!(names(&seen), ["through-a"]);
    assert_eq!(seen["pagination"]["total"], 1);

    // A second later (the nodes share the test's clock), so the listing order is known.
    app.clock.advance(1);
    b.client
        .create_bucket(&CreateBucket::new("through-b", "eu-west-2").tag("env", "prod"))
        .await
        .unwrap();
    assert_eq!(names(&list(&app.base_url, key, "").await), ["through-a", "through-b"]);
    assert_eq!(names(&list(&app.base_url, key, "?tag=env:prod").await), ["through-b"]);

    // Objects written through one node show in the other's (cached) listing at once.
    app.client
        .put_object("through-b", "k", vec![7; 1234], "text/plain")
        .await
        .unwrap();
    let after_write = list(&b.base_url, key, "?tag=env:prod").await;
    assert_eq!(after_write["data"][0]["size_bytes"], 1234);
    assert_eq!(after_write["data"][0]["object_count"], 1);
    assert_eq!(b.client.get_object("through-b", "k").await.unwrap(), vec![7; 1234]);

    // A patch and a delete through B show through A.
    let patch = serde_json::json!({"tags": {"env": "staging"}});
    let patched = crate::helpers::http_client()
        .patch(format!("{}/v1/buckets/through-b", b.base_url))
        .bearer_auth(key)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert!(names(&list(&app.base_url, key, "?tag=env:prod").await).is_empty());
    b.client.delete_bucket("through-a").await.unwrap();
    let live = list(&app.base_url, key, "").await;
    assert_eq!(names(&live), ["through-b"]);
    assert_eq!(live["pagination"]["total"], 1);
    assert_eq!(
        list(&app.base_url, key, "?include=deleted").await["pagination"]["total"],
        2
    );
}

#[tokio::test]
async fn keys_created_or_revoked_by_an_admin_command_work_or_stop_on_every_node() {
    let app = TestApp::spawn().await;
    let b = app.another_node().await;
    let created = app
        .admin_command()
        .args([
            "--output",
            "json",
            "key",
            "create",
            "--project",
            "default",
            "--scopes",
            "storage:read",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = created["key"].as_str().unwrap();
    for base in [&app.base_url, &b.base_url] {
        list(base, key, "").await;
    }
    // A token minted through A.
    let minted: Value = crate::helpers::http_client()
        .post(format!("{}/v1/auth/tokens", app.base_url))
        .bearer_auth(key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["access_token"].as_str().unwrap().to_owned();
    list(&b.base_url, &token, "").await;

    let revoked = app
        .admin_command()
        .args(["key", "revoke", created["id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    // The key stops at once on both nodes; its token within the promised two seconds.
    let status = |base: String, credential: String| async move {
        crate::helpers::http_client()
            .get(format!("{base}/v1/buckets"))
            .bearer_auth(credential)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    for base in [&app.base_url, &b.base_url] {
        assert_eq!(status(base.clone(), key.to_owned()).await, 401);
    }
    let revoked_at = Instant::now();
    for base in [&app.base_url, &b.base_url] {
        while status(base.clone(), token.clone()).await != 401 {
            assert!(
                revoked_at.elapsed() < Duration::from_secs(2),
                "a revoked key's token still works on {base} after 2 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
