//! `cloudnexus serve` on PostgreSQL and Redis over TLS, as a managed database and cache ask for:
//! the database URL's `sslmode=verify-full&sslrootcert=...`, a `rediss://` URL and
//! `CLOUDNEXUS_REDIS_CA_FILE`. A node serves through both; a node given an authority that did
//! not sign the server's certificate stops at start-up with one line saying so.

use crate::startup::one_line_error;
use cloudnexus_store::testing::{
    new_postgres_database, other_authority, postgres_verified_tls, redis_tls_url, test_authority,
    unique_redis_key_prefix,
};
use std::path::Path;
use std::process::{Command, Stdio};

/// `serve` on the given database and Redis (over TLS, trusting `redis_authority`).
fn serve(data: &Path, database: &str, redis_authority: &Path) -> Command {
    let config = data.join("node.toml");
    std::fs::write(
        &config,
        format!("[rate_limits]\nredis_key_prefix = \"{}\"\n", unique_redis_key_prefix()),
    )
    .unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.join("data"))
        .arg("--config")
        .arg(&config)
        .env_remove("CLOUDNEXUS_CONFIG")
        .env_remove("CLOUDNEXUS_BLOB_URL")
        .env("CLOUDNEXUS_DATABASE_URL", database)
        .env("CLOUDNEXUS_REDIS_URL", redis_tls_url())
        .env("CLOUDNEXUS_REDIS_CA_FILE", redis_authority)
        .env("CLOUDNEXUS_LOG", "warn");
    serve
}

#[tokio::test]
async fn a_node_serves_on_postgres_and_redis_over_verified_tls() {
    let dir = tempfile::tempdir().unwrap();
    let database = postgres_verified_tls(&new_postgres_database().await, &test_authority());
    let mut command = serve(dir.path(), &database, &test_authority());
    command.stderr(Stdio::null());
    let (mut child, base, key) = crate::helpers::start_serve_process(command);
    let key = key.expect("first run prints a key");
    let http = crate::helpers::http_client();
    // A change (the database) and lists counted by the limiter (Redis), whose headers say so.
    let created = http
        .post(format!("{base}/v1/buckets"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "over-tls", "region": "us-east-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let listed = http
            .get(format!("{base}/v1/buckets"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 200);
        remaining.push(listed.headers()["ratelimit"].to_str().unwrap().to_owned());
        let body: serde_json::Value = listed.json().await.unwrap();
        assert_eq!(body["data"][0]["name"], "over-tls");
    }
    // The list quota's window, counted in Redis under this node's own prefix.
    assert_eq!(
        remaining,
        [r#""list-buckets";r=59;t=60"#, r#""list-buckets";r=58;t=60"#]
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn a_node_refuses_servers_its_authorities_did_not_sign() {
    let dir = tempfile::tempdir().unwrap();
    let plain_database = new_postgres_database().await;

    // Redis's certificate, checked against the wrong authority.
    let output = serve(dir.path(), &plain_database, &other_authority()).output().unwrap();
    let error = one_line_error(&output);
    assert!(error.contains("cannot reach the rate limiter at rediss://"), "{error}");
    assert!(error.to_lowercase().contains("certificate"), "{error}");

    // The database's, likewise.
    let database = postgres_verified_tls(&plain_database, &other_authority());
    let output = serve(dir.path(), &database, &test_authority()).output().unwrap();
    let error = one_line_error(&output);
    assert!(error.contains("cannot open the metadata database"), "{error}");
    assert!(error.to_lowercase().contains("certificate"), "{error}");

    // A file that holds no certificate says so, rather than failing every handshake.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let output = serve(dir.path(), &plain_database, &empty).output().unwrap();
    let error = one_line_error(&output);
    assert!(error.contains("holds no PEM certificate"), "{error}");
}
