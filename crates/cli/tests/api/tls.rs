//! `cloudnexus serve` on PostgreSQL, Redis and S3 over TLS, as managed services and a private
//! authority's MinIO ask for: the database URL's `sslmode=verify-full&sslrootcert=...`, a
//! `rediss://` URL and `CLOUDNEXUS_REDIS_CA_FILE`, an `https://` `AWS_ENDPOINT_URL` and
//! `AWS_CA_BUNDLE`. Two nodes serve through the first two and share one rate-limit window; a node
//! keeps object bytes in S3 over TLS; a node given an authority that did not sign the server's
//! certificate stops at start-up with one line saying so, as does a database URL whose
//! `sslrootcert` would not be used.

use crate::helpers::start_serve_process_with_s3;
use crate::processes::{kill, serve};
use crate::startup::one_line_error;
use cloudnexus_store::testing::{
    new_postgres_database, new_s3_tls_bucket, other_authority, postgres_verified_tls, redis_tls_url, s3_tls_endpoint,
    test_authority, unique_redis_key_prefix,
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

/// `serve` on SQLite in `dir`, keeping object bytes in `bucket` on the test S3 server's TLS
/// endpoint, trusting the authorities of `bundle` (`AWS_CA_BUNDLE`) or, without one, only the
/// built-in authorities.
fn node_on_s3_over_tls(dir: &Path, bucket: &str, bundle: Option<&Path>) -> Command {
    let mut env = vec![
        ("CLOUDNEXUS_BLOB_URL", bucket.to_owned()),
        ("AWS_ENDPOINT_URL", s3_tls_endpoint()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("CLOUDNEXUS_LOG", "warn".to_owned()),
    ];
    if let Some(bundle) = bundle {
        env.push(("AWS_CA_BUNDLE", bundle.display().to_string()));
    }
    let mut command = serve(&dir.join("data"), None, &env);
    if bundle.is_none() {
        command.env_remove("AWS_CA_BUNDLE");
    }
    command
}

#[tokio::test]
async fn a_node_keeps_object_bytes_in_s3_over_tls_trusting_aws_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = new_s3_tls_bucket().await;
    let node = start_serve_process_with_s3(node_on_s3_over_tls(dir.path(), &bucket, Some(&test_authority())));
    let key = node.first_key.clone().expect("first run prints a key");
    let http = crate::helpers::http_client();
    let created = http
        .post(format!("{}/v1/buckets", node.base_url))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "bytes-over-tls", "region": "us-east-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Larger than the metadata store keeps itself, so the bytes go to S3.
    let body: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
    let object = format!("{}/v1/buckets/bytes-over-tls/objects/data.bin", node.base_url);
    let put = http
        .put(&object)
        .bearer_auth(&key)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    let got = http.get(&object).bearer_auth(&key).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), body.as_slice());
    // The blob is in the bucket, read over TLS by a client trusting the same authority.
    let pem = std::fs::read(test_authority()).unwrap();
    let s3 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let name = bucket.strip_prefix("s3://").unwrap();
    let listing = s3
        .get(format!("{}/{name}?list-type=2", s3_tls_endpoint()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("<Key>blobs/"), "{listing}");
    assert!(listing.contains("<Size>65536</Size>"), "{listing}");
    kill(node);
}

#[tokio::test]
async fn a_node_refuses_an_s3_endpoint_its_authorities_did_not_sign() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = new_s3_tls_bucket().await;
    let refusal =
        |bundle: Option<&Path>| one_line_error(&node_on_s3_over_tls(dir.path(), &bucket, bundle).output().unwrap());
    for bundle in [None, Some(other_authority())] {
        let error = refusal(bundle.as_deref());
        assert!(error.contains("cannot use the blob store s3://"), "{error}");
        assert!(
            error.contains(REFUSED_CERTIFICATE) && error.contains("AWS_CA_BUNDLE"),
            "{error}"
        );
    }
    // A bundle that holds no certificate, or none at all, says so.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let error = refusal(Some(&empty));
    assert!(error.contains("holds no PEM certificate"), "{error}");
    let error = refusal(Some(&dir.path().join("missing.pem")));
    assert!(error.contains("missing.pem (AWS_CA_BUNDLE)"), "{error}");
}
