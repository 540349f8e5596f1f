//! `cloudnexus admin migrate`: an embedded data folder, populated through the API, is copied
//! into PostgreSQL and an S3 store, and a node on those answers exactly as the embedded server
//! did: the same listing (soft-deleted buckets, tags, usage, totals), the same objects byte for
//! byte, the same keys (a revoked one stays revoked), and the old cursors.

use crate::cluster::Cluster;
use crate::helpers::TestApp;
use cloudnexus_store::testing::{new_postgres_database, new_s3_bucket, s3_endpoint};
use serde_json::{Value, json};
use std::process::{Command, Output};

fn migrate(data_dir: &std::path::Path, database: &str, blob_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args([
            "admin",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--output",
            "json",
            "migrate",
        ])
        .args(["--to-database-url", database, "--to-blob-url", blob_url])
        .env_remove("CLOUDNEXUS_CONFIG")
        .env_remove("CLOUDNEXUS_DATABASE_URL")
        .env("AWS_ENDPOINT_URL", s3_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap()
}

async fn get(http: &reqwest::Client, url: String, key: &str) -> (u16, Vec<u8>) {
    let r = http.get(url).bearer_auth(key).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_data_folder_moves_onto_postgres_and_s3_unchanged() {
    // An embedded server, whatever backends the suite runs on. Its clock stands in 2024 and the
    // node's runs on the real one, so the soft-deleted bucket is kept for 20 years, lest the
    // node purge it as due.
    let mut app = TestApp::spawn_with(|c| {
        c.buckets.soft_delete_retention_seconds = 20 * 365 * 86_400;
        c.metadata.url = None;
        c.blobs.url = None;
        c.rate_limits.redis_url = None;
    })
    .await;
    for (name, region, tags) in [
        ("prod-assets", "us-east-1", json!({"team": "web", "env": "prod"})),
        ("prod-logs", "eu-west-1", json!({"team": "ops"})),
        ("scratch", "us-west-2", json!({})),
    ] {
        let created = app
            .call(
                "POST",
                "/v1/buckets",
                Some(&app.admin_key),
                Some(json!({"name": name, "region": region, "tags": tags})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let big: Vec<u8> = (0..9 * 1024 * 1024 + 7).map(|i: usize| (i % 251) as u8).collect();
    for (key, bytes) in [
        ("index.html", b"<h1>hello</h1>".to_vec()),
        ("media/big.bin", big.clone()),
        ("empty", Vec::new()),
    ] {
        let put = TestApp::answer(
            app.request("PUT", &format!("/v1/buckets/prod-assets/objects/{key}"))
                .body(bytes),
        )
        .await;
        assert_eq!(put.status, 201, "{}", put.text);
    }
    let overwritten = TestApp::answer(
        app.request("PUT", "/v1/buckets/prod-assets/objects/index.html")
            .body("<h1>v2</h1>"),
    )
    .await;
    assert_eq!(overwritten.status, 200, "an overwrite");
    assert_eq!(
        app.call("DELETE", "/v1/buckets/scratch", Some(&app.admin_key), None)
            .await
            .status,
        200
    );
    let reader = app.key("storage:read").await;
    let created = app
        .admin_command()
        .args([
            "--output",
            "json",
            "key",
            "create",
            "--project",
            app.project_id.as_str(),
            "--scopes",
            "storage:read",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let revoked = created["key"].as_str().unwrap().to_owned();
    let revoke = app
        .admin_command()
        .args(["key", "revoke", created["id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    let listing = app
        .call("GET", "/v1/buckets?include=deleted", Some(&app.admin_key), None)
        .await;
    // Prefix totals come from the counts by prefix, which are copied like the other counts.
    const PREFIXED: &str = "/v1/buckets?include=deleted&prefix=prod-&tag=team";
    let prefixed = app.call("GET", PREFIXED, Some(&app.admin_key), None).await;
    assert_eq!(prefixed.json()["pagination"]["total"], 2, "{}", prefixed.text);
    let first_page = app
        .call("GET", "/v1/buckets?limit=1", Some(&app.admin_key), None)
        .await
        .json();
    let cursor = first_page["pagination"]["next_cursor"].as_str().unwrap().to_owned();
    let second_page = app
        .call(
            "GET",
            &format!("/v1/buckets?limit=1&cursor={cursor}"),
            Some(&app.admin_key),
            None,
        )
        .await;
    app.stop().await;

    let database = new_postgres_database().await;
    let blob_url = new_s3_bucket().await;
    let migrated = migrate(app.data_dir.path(), &database, &blob_url);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let report: Value = serde_json::from_slice(&migrated.stdout).unwrap();
    assert_eq!(
        report,
        json!({"projects": 1, "api_keys": 3, "buckets": 3, "objects": 3, "bytes": big.len() + 11}),
        "the overwritten version's bytes are not copied"
    );

    // A node on PostgreSQL and S3 answers as the embedded server did.
    let cluster = Cluster::on(database.clone(), blob_url.clone());
    let (node, first_run) = cluster.start_node();
    assert!(
        first_run.is_none(),
        "the migrated project is there: no new first project"
    );
    let http = crate::helpers::http_client();
    let (status, body) = get(
        &http,
        format!("{}/v1/buckets?include=deleted", node.base),
        &app.admin_key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        listing.text,
        "the listing, byte for byte"
    );
    let (status, body) = get(&http, format!("{}{PREFIXED}", node.base), &app.admin_key).await;
    assert_eq!(
        (status, String::from_utf8(body).unwrap()),
        (200, prefixed.text),
        "a prefix listing and its total"
    );
    let (status, body) = get(
        &http,
        format!("{}/v1/buckets?limit=1&cursor={cursor}", node.base),
        &app.admin_key,
    )
    .await;
    assert_eq!(
        (status, String::from_utf8(body).unwrap()),
        (200, second_page.text),
        "an old cursor"
    );
    for (key, bytes) in [
        ("index.html", b"<h1>v2</h1>".to_vec()),
        ("media/big.bin", big),
        ("empty", Vec::new()),
    ] {
        let (status, body) = get(
            &http,
            format!("{}/v1/buckets/prod-assets/objects/{key}", node.base),
            &reader,
        )
        .await;
        assert_eq!(status, 200, "{key}");
        assert!(
            body == bytes,
            "{key}: {} bytes read back, {} expected",
            body.len(),
            bytes.len()
        );
    }
    let (status, _) = get(&http, format!("{}/v1/buckets", node.base), &revoked).await;
    assert_eq!(status, 401, "a revoked key stays revoked");

    // A second migration into the same database is refused, and changes nothing.
    let again = migrate(app.data_dir.path(), &database, &new_s3_bucket().await);
    assert!(!again.status.success());
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(error.contains("already holds 1 project"), "{error}");
    let (_, body) = get(
        &http,
        format!("{}/v1/buckets?include=deleted", node.base),
        &app.admin_key,
    )
    .await;
    assert_eq!(String::from_utf8(body).unwrap(), listing.text);
}
