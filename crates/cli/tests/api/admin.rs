//! The admin commands, run as the real binary against the data folder of a running server.

use crate::helpers::TestApp;
use serde_json::Value;

fn cloudnexus(app: &TestApp, args: &[&str]) -> std::process::Output {
    app.admin_command()
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("binary runs")
}

fn json_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[tokio::test]
async fn project_and_key_commands_work_beside_a_running_server() {
    let app = TestApp::spawn().await;
    let project = json_of(&cloudnexus(&app, &["project", "create", "analytics"]));
    assert_eq!(project["name"], "analytics");
    assert!(project["id"].as_str().unwrap().starts_with("prj_"));
    assert_eq!(project.as_object().unwrap().len(), 2);

    let key = json_of(&cloudnexus(
        &app,
        &[
            "key",
            "create",
            "--project",
            "analytics",
            "--scopes",
            "storage:read,storage:write",
        ],
    ));
    assert_eq!(key.as_object().unwrap().len(), 3);
    assert_eq!(key["scopes"], serde_json::json!(["storage:read", "storage:write"]));
    let secret = key["key"].as_str().unwrap();
    assert!(secret.starts_with("cnx_"));

    // The key works at once against the running server, in its own project.
    let client = app.client.with_key(secret);
    client
        .create_bucket(&cloudnexus_client::CreateBucket::new("analytics-raw", "us-east-1"))
        .await
        .unwrap();
    assert_eq!(
        client.list_buckets(&Default::default()).await.unwrap().pagination.total,
        1
    );
    assert_eq!(
        app.client
            .list_buckets(&Default::default())
            .await
            .unwrap()
            .pagination
            .total,
        0
    );

    // Listing shows the key without its secret; by project id too.
    let listed = json_of(&cloudnexus(
        &app,
        &["key", "list", "--project", project["id"].as_str().unwrap()],
    ));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], key["id"]);
    assert!(!listed.to_string().contains(secret));

    // Revoking stops the key at once.
    let revoked = json_of(&cloudnexus(&app, &["key", "revoke", key["id"].as_str().unwrap()]));
    assert!(revoked["revoked_at"].is_string());
    let answer = app.call("GET", "/v1/buckets", Some(secret), None).await;
    answer.problem(401, "invalid_token");
}

#[tokio::test]
async fn admin_commands_report_bad_input_and_exit_non_zero() {
    let app = TestApp::spawn().await;
    for args in [
        &["project", "create", "Bad Name"][..],
        &["key", "create", "--project", "nope", "--scopes", "storage:read"][..],
        &[
            "key",
            "create",
            "--project",
            "default",
            "--scopes",
            "storage:everything",
        ][..],
        &["key", "revoke", "key_0000000000"][..],
        &["key", "revoke", "not-a-key-id"][..],
    ] {
        let out = cloudnexus(&app, args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty(), "{args:?} should say why");
    }
    json_of(&cloudnexus(&app, &["project", "create", "dup"]));
    assert!(!cloudnexus(&app, &["project", "create", "dup"]).status.success());
}

#[tokio::test]
async fn demo_loads_buckets_like_the_reference_page() {
    let app = TestApp::spawn().await;
    let out = json_of(&cloudnexus(&app, &["demo", "--project", "default"]));
    assert_eq!(out["created"], 47);
    let page = app
        .call("GET", "/v1/get-/buckets?limit=25", Some(&app.admin_key), None)
        .await
        .json();
    assert_eq!(page["pagination"]["total"], 47);
    assert_eq!(page["pagination"]["limit"], 25);
    assert_eq!(page["data"].as_array().unwrap().len(), 25);
    let first = &page["data"][0];
    assert_eq!(first["name"], "prod-assets-us-east");
    assert_eq!(first["region"], "us-east-1");
    assert_eq!(first["created_at"], "2024-08-12T14:32:00Z");
    assert_eq!(
        first["tags"],
        serde_json::json!({"env": "production", "team": "frontend"})
    );
    let second = &page["data"][1];
    assert_eq!(second["name"], "backup-snapshots");
    assert_eq!(second["storage_class"], "GLACIER");
    assert_eq!(second["created_at"], "2024-11-05T09:15:22Z");
}
