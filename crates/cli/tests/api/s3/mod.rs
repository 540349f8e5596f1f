//! The S3 listener, driven by the real clients (boto3, aws-cli, rclone, s3cmd, curl) and by raw
//! requests for the rules of the contract (credentials, scopes, tenancy, rate limits).
//!
//! The client scripts live in `tests/s3_clients/`; each is run against a fresh server and must
//! exit 0. A missing client (a script that cannot import boto3, a missing `aws` or `rclone`
//! binary) fails the test: `.ci/run` installs them all.

mod auth;
mod clients;
mod durability;

use crate::helpers::TestApp;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// An S3 credential as `admin s3-key create` printed it.
#[derive(Debug, Clone)]
pub struct S3Key {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// A server with an S3 listener. The master key is written beforehand and named in the
/// configuration, as a cluster deployment must (on SQLite the default file would do too).
pub async fn s3_app() -> TestApp {
    s3_app_with(|_| {}).await
}

/// The clients compare the times the server reports with their files' (`aws s3 sync`, rclone),
/// so the server's clock follows the real one, moved forward every 100 ms.
pub async fn s3_app_with(adjust: impl FnOnce(&mut cloudnexus::config::Config)) -> TestApp {
    let app = s3_app_frozen(adjust).await;
    let clock = app.clock.clone();
    tokio::spawn(async move {
        loop {
            clock.set(cloudnexus_core::Clock::now(&cloudnexus_core::SystemClock));
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    app
}

/// A server with an S3 listener whose clock only moves when the test moves it.
pub async fn s3_app_frozen(adjust: impl FnOnce(&mut cloudnexus::config::Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        let key_file = c.data_dir.join("named-master.key");
        std::fs::write(&key_file, format!("{}\n", "5a".repeat(32))).unwrap();
        c.s3.listen = Some("127.0.0.1:0".parse().unwrap());
        c.s3.master_key_file = Some(key_file);
        adjust(c);
    })
    .await
}

/// Runs `admin s3-key ...` with JSON output and returns what it printed.
pub fn s3_key_command(app: &TestApp, args: &[&str]) -> Value {
    let output = app
        .admin_command()
        .args(["--output", "json", "s3-key"])
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "admin s3-key {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A new S3 credential on `project` (a name or id) with `scopes`.
pub fn s3_key(app: &TestApp, project: &str, scopes: &str) -> S3Key {
    let created = s3_key_command(app, &["create", "--project", project, "--scopes", scopes]);
    let field = |name: &str| created[name].as_str().unwrap().to_owned();
    S3Key {
        id: field("id"),
        access_key_id: field("access_key_id"),
        secret_access_key: field("secret_access_key"),
    }
}

/// The folder of the client scripts.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_clients")
}

/// Runs a client script with the environment every script reads (plus `extra`), and fails the
/// test with its output unless it exits 0. Returns its standard output.
pub async fn run_script(command: Command, app: &TestApp, key: &S3Key, extra: &[(&str, &str)]) -> String {
    let target = Target {
        s3_url: app.s3_url(),
        api_url: app.base_url.clone(),
        api_key: app.admin_key.clone(),
    };
    run_script_at(command, &target, key, extra).await
}

/// Where a script sends its requests: a server's S3 listener and JSON API, and an API key.
#[derive(Debug, Clone)]
pub struct Target {
    pub s3_url: String,
    pub api_url: String,
    pub api_key: String,
}

/// [`run_script`] against any server, e.g. a `serve` process.
pub async fn run_script_at(mut command: Command, target: &Target, key: &S3Key, extra: &[(&str, &str)]) -> String {
    command
        .env("S3_ENDPOINT", &target.s3_url)
        .env("S3_ACCESS_KEY_ID", &key.access_key_id)
        .env("S3_SECRET_ACCESS_KEY", &key.secret_access_key)
        .env("API_ENDPOINT", &target.api_url)
        .env("API_KEY", &target.api_key)
        // The clients must reach this server, never a real AWS account or the test S3 store.
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        // A CA bundle is for HTTPS; rclone's SDK refuses one on a plain-HTTP endpoint.
        .env_remove("AWS_CA_BUNDLE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ACCESS_KEY_ID", &key.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1");
    for (name, value) in extra {
        command.env(name, value);
    }
    let shown = format!("{command:?}");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e} (install the S3 clients: see .ci/run)"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{shown} failed ({}).\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// `python3 SCRIPT`, for the boto3 scripts.
pub fn python(script: &str) -> Command {
    let mut command = Command::new("python3");
    command.arg(scripts_dir().join(script));
    command
}
