//! S3 credentials under the contract's rules: scopes, tenancy, revocation, the failed-auth and
//! per-key rate limits, anonymous reads of public buckets only, and secrets sealed at rest.

use super::{S3Key, python, run_script, s3_app, s3_app_with, s3_key, s3_key_command};
use crate::helpers::TestApp;
use cloudnexus_client::CreateBucket;

fn rules(scenario: &str) -> std::process::Command {
    let mut command = python("boto3_rules.py");
    command.arg(scenario);
    command
}

fn credential_env<'a>(prefix: &str, key: &'a S3Key) -> [(String, &'a str); 2] {
    [
        (format!("{prefix}_ACCESS_KEY_ID"), key.access_key_id.as_str()),
        (format!("{prefix}_SECRET_ACCESS_KEY"), key.secret_access_key.as_str()),
    ]
}

async fn run(app: &TestApp, key: &S3Key, scenario: &str, env: &[(String, &str)]) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let out = run_script(rules(scenario), app, key, &env).await;
    assert!(out.contains(&format!("{scenario}: ok")), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_credential_reads_and_is_denied_writes() {
    let app = s3_app().await;
    app.create_bucket("ro-bucket", "us-east-1").await;
    let writer = s3_key(&app, "default", "storage:read,storage:write");
    let reader = s3_key(&app, "default", "storage:read");
    let mut env = vec![("BUCKET".to_owned(), "ro-bucket")];
    env.extend(credential_env("READONLY", &reader));
    run(&app, &writer, "readonly", &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_projects_buckets_answer_as_missing_ones() {
    let app = s3_app().await;
    app.create_bucket("tenant-a-bucket", "us-east-1").await;
    let (other, other_client) = app.other_project("tenant-b").await;
    other_client
        .create_bucket(&CreateBucket::new("tenant-b-bucket", "us-east-1"))
        .await
        .unwrap();
    let mine = s3_key(&app, "default", "storage:read,storage:write");
    let theirs = s3_key(&app, other.as_str(), "storage:read,storage:write");
    let mut env = vec![
        ("BUCKET".to_owned(), "tenant-a-bucket"),
        ("OTHER_BUCKET".to_owned(), "tenant-b-bucket"),
    ];
    env.extend(credential_env("OTHER", &theirs));
    run(&app, &mine, "tenancy", &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signatures_unknown_keys_and_unsigned_requests_are_refused() {
    let app = s3_app().await;
    app.create_bucket("private-bucket", "us-east-1").await;
    app.create_bucket("public-bucket", "us-east-1").await;
    let made_public = app
        .call(
            "PATCH",
            "/v1/buckets/public-bucket",
            Some(&app.admin_key),
            Some(serde_json::json!({"public": true})),
        )
        .await;
    assert_eq!(made_public.status, 200, "{}", made_public.text);
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let env = [
        ("BUCKET".to_owned(), "private-bucket"),
        ("PUBLIC_BUCKET".to_owned(), "public-bucket"),
    ];
    run(&app, &key, "credentials", &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_credential_stops_at_once_and_is_listed_as_revoked() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    run(&app, &key, "still_works", &[]).await;

    let listed = s3_key_command(&app, &["list", "--project", "default"]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["access_key_id"], key.access_key_id.as_str());
    assert_eq!(listed[0]["revoked_at"], serde_json::Value::Null);
    assert!(listed[0].get("secret_access_key").is_none());
    assert!(!listed[0].to_string().contains(&key.secret_access_key));

    // Revoked by its access key id (its `key_...` id works as well).
    let revoked = s3_key_command(&app, &["revoke", &key.access_key_id]);
    assert_eq!(revoked["id"], key.id.as_str());
    assert!(revoked["revoked_at"].is_string());
    run(&app, &key, "revoked", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_signatures_count_against_the_address() {
    let app = s3_app_with(|c| {
        c.rate_limits.failed_auth.requests = 3;
        c.rate_limits.failed_auth.window_seconds = 600;
    })
    .await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    run(&app, &key, "failed_auth_limit", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_credential_has_the_write_quota_of_an_api_key() {
    let app = s3_app_with(|c| {
        c.rate_limits.write.requests = 2;
        c.rate_limits.write.window_seconds = 600;
    })
    .await;
    app.create_bucket("quota-bucket", "us-east-1").await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let second = s3_key(&app, "default", "storage:read,storage:write");
    let mut env = vec![("BUCKET".to_owned(), "quota-bucket")];
    env.extend(credential_env("SECOND", &second));
    run(&app, &key, "key_quota", &env).await;
}

#[tokio::test]
async fn create_prints_the_secret_once_and_the_store_holds_it_sealed() {
    let app = s3_app().await;
    let created = s3_key_command(&app, &["create", "--project", "default", "--scopes", "storage:read"]);
    let mut fields: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["access_key_id", "id", "scopes", "secret_access_key"]);
    assert_eq!(created["scopes"], serde_json::json!(["storage:read"]));
    let secret = created["secret_access_key"].as_str().unwrap();
    assert_eq!(secret.len(), 40);

    let store = app.store().await;
    let id = cloudnexus_core::ApiKeyId::parse(created["id"].as_str().unwrap()).unwrap();
    let record = store.find_api_key(&id).await.unwrap().unwrap().record;
    store.close().await;
    let sealed = record.s3_secret.expect("an S3 credential holds its sealed secret");
    assert!(
        !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored in plaintext"
    );
    if app.config.metadata.url.is_none() {
        // Nowhere in the database files either.
        for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
    // API key listings leave S3 credentials out; they have their own.
    let output = app
        .admin_command()
        .args(["--output", "json", "key", "list", "--project", "default"])
        .output()
        .unwrap();
    let keys: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(keys.as_array().unwrap().iter().all(|k| k["id"] != created["id"]));
}

#[tokio::test]
async fn with_a_domain_buckets_are_also_named_by_host() {
    let app = s3_app_with(|c| c.s3.domain = Some("s3.cloudnexus.test".to_owned())).await;
    app.create_bucket("hosted-bucket", "us-east-1").await;
    let public = app
        .call(
            "PATCH",
            "/v1/buckets/hosted-bucket",
            Some(&app.admin_key),
            Some(serde_json::json!({"public": true})),
        )
        .await;
    assert_eq!(public.status, 200, "{}", public.text);
    app.client
        .put_object("hosted-bucket", "docs/readme.txt", b"by host".to_vec(), "text/plain")
        .await
        .unwrap();
    let port = app.s3_url().rsplit(':').next().unwrap().to_owned();
    // Virtual-hosted style: the bucket is the first label of the host (anonymous GET of a public
    // bucket's object, so no signature is involved in the routing checked here).
    let hosted = app
        .http
        .get(format!("{}/docs/readme.txt", app.s3_url()))
        .header("host", format!("hosted-bucket.s3.cloudnexus.test:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(hosted.status(), 200);
    assert_eq!(hosted.bytes().await.unwrap().as_ref(), b"by host");
    // Path style still works beside it.
    let path = app
        .http
        .get(format!("{}/hosted-bucket/docs/readme.txt", app.s3_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(path.status(), 200);
    assert_eq!(path.bytes().await.unwrap().as_ref(), b"by host");
}
