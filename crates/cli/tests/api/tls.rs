//! `cloudnexus serve` on PostgreSQL and Redis over TLS, as a managed database and cache ask for:
//! the database URL's `sslmode=verify-full&sslrootcert=...`, a `rediss://` URL and
//! `CLOUDNEXUS_REDIS_CA_FILE`. Two nodes serve through both and share one rate-limit window; a
//! node given an authority that did not sign the server's certificate stops at start-up with
//! one line saying so, as does a database URL whose `sslrootcert` would not be used.

use crate::helpers::start_serve_process_with_s3;
use crate::processes::{kill, serve};
use crate::startup::one_line_error;
use cloudnexus_store::testing::{
    new_postgres_database, other_authority, postgres_verified_tls, redis_tls_url, test_authority,
    unique_redis_key_prefix,
};
use std::path::Path;
use std::process::Command;

const REFUSED_CERTIFICATE: &str = "signed by an authority this node trusts";

/// `serve` on `database` and on Redis over TLS (trusting `redis_authority`), its limiter keys
/// under `prefix`.
fn node(dir: &Path, database: &str, redis_authority: &Path, prefix: &str) -> Command {
    let config = dir.join("node.toml");
    std::fs::write(&config, format!("[rate_limits]\nredis_key_prefix = \"{prefix}\"\n")).unwrap();
    serve(
        &dir.join("data"),
        Some(&config),
        &[
            ("CLOUDNEXUS_DATABASE_URL", database.to_owned()),
            ("CLOUDNEXUS_REDIS_URL", redis_tls_url()),
            ("CLOUDNEXUS_REDIS_CA_FILE", redis_authority.display().to_string()),
            ("CLOUDNEXUS_LOG", "warn".to_owned()),
        ],
    )
}

/// The one line a node started with these settings stops with (it must stop).
fn refusal(dir: &Path, database: &str, redis_authority: &Path, prefix: &str) -> String {
    one_line_error(&node(dir, database, redis_authority, prefix).output().unwrap())
}

async fn list(http: &reqwest::Client, base: &str, key: &str) -> (String, serde_json::Value) {
    let listed = http
        .get(format!("{base}/v1/buckets"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let window = listed.headers()["ratelimit"].to_str().unwrap().to_owned();
    (window, listed.json().await.unwrap())
}

#[tokio::test]
async fn two_nodes_serve_on_postgres_and_redis_over_verified_tls() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = postgres_verified_tls(&new_postgres_database().await, &test_authority());
    let prefix = unique_redis_key_prefix();
    let first = start_serve_process_with_s3(node(one.path(), &database, &test_authority(), &prefix));
    let second = start_serve_process_with_s3(node(two.path(), &database, &test_authority(), &prefix));
    let key = first.first_key.clone().expect("first run prints a key");
    let http = crate::helpers::http_client();
    // A change through one node (the database) is listed through the other ...
    let created = http
        .post(format!("{}/v1/buckets", first.base_url))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "over-tls", "region": "us-east-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let (window_one, body) = list(&http, &second.base_url, &key).await;
    assert_eq!(body["data"][0]["name"], "over-tls");
    // ... and both nodes count in one window, which only Redis can hold.
    let (window_two, _) = list(&http, &first.base_url, &key).await;
    assert_eq!(
        [window_one, window_two],
        [r#""list-buckets";r=59;t=60"#, r#""list-buckets";r=58;t=60"#]
    );
    kill(first);
    kill(second);
}

#[tokio::test]
async fn a_node_refuses_servers_its_authorities_did_not_sign() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_redis_key_prefix();
    let plain_database = new_postgres_database().await;

    // Redis's certificate, checked against the wrong authority.
    let error = refusal(dir.path(), &plain_database, &other_authority(), &prefix);
    assert!(error.contains("cannot reach the rate limiter at rediss://"), "{error}");
    assert!(
        error.contains(REFUSED_CERTIFICATE) && error.contains("redis_ca_file"),
        "{error}"
    );

    // The database's, likewise.
    let database = postgres_verified_tls(&plain_database, &other_authority());
    let error = refusal(dir.path(), &database, &test_authority(), &prefix);
    assert!(error.contains("cannot open the metadata database"), "{error}");
    assert!(
        error.contains(REFUSED_CERTIFICATE) && error.contains("sslrootcert"),
        "{error}"
    );

    // An authority the database URL names but its sslmode would not use is a mistake, said so.
    let unverified = format!(
        "{plain_database}?sslmode=require&sslrootcert={}",
        test_authority().display()
    );
    let error = refusal(dir.path(), &unverified, &test_authority(), &prefix);
    assert!(error.contains("sslmode=verify-full"), "{error}");

    // A file that holds no certificate says so, rather than failing every handshake.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let error = refusal(dir.path(), &plain_database, &empty, &prefix);
    assert!(error.contains("holds no PEM certificate"), "{error}");
    // Nor does a damaged one pass for an unreachable server.
    let damaged = dir.path().join("damaged.pem");
    std::fs::write(
        &damaged,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let error = refusal(dir.path(), &plain_database, &damaged, &prefix);
    assert!(
        error.contains("as the rate limiter's certificate authorities"),
        "{error}"
    );
}
