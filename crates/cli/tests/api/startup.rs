//! Start-up against a metadata store that cannot be used: the binary stops at once with one
//! line that says what is wrong and what to do, never a panic or an endless retry.

use crate::helpers::{TestApp, on_postgres};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn admin_with_database(url: &str, data_dir: &std::path::Path) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args(["admin", "--data-dir", data_dir.to_str().unwrap(), "project", "list"])
        .env("CLOUDNEXUS_DATABASE_URL", url)
        .env_remove("CLOUDNEXUS_CONFIG")
        .output()
        .unwrap();
    (output, started.elapsed())
}

/// The one line a failed start-up printed; asserts it failed, in one line, without a panic.
pub(crate) fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "it should have failed");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[tokio::test]
async fn an_unreachable_database_stops_start_up_with_one_line_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let (output, took) = admin_with_database("postgres://cloudnexus:s3cret@127.0.0.1:1/cloudnexus", dir.path());
    let error = one_line_error(&output);
    assert!(
        error.contains("cannot open the metadata database at postgres://cloudnexus:***@127.0.0.1:1/cloudnexus"),
        "{error}"
    );
    assert!(error.contains("check that PostgreSQL is running"), "{error}");
    assert!(!error.contains("s3cret"), "the password is never printed: {error}");
    assert!(took < Duration::from_secs(15), "it gave up after {took:?}");

    // `serve` stops the same way, before it listens.
    let started = Instant::now();
    let serve = Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .args(["--database-url", "postgres://cloudnexus@127.0.0.1:1/cloudnexus"])
        .env_remove("CLOUDNEXUS_CONFIG")
        .env_remove("CLOUDNEXUS_DATABASE_URL")
        .output()
        .unwrap();
    let error = one_line_error(&serve);
    assert!(
        error.contains("cannot open the metadata database at postgres://cloudnexus@127.0.0.1:1/cloudnexus"),
        "{error}"
    );
    assert!(!String::from_utf8_lossy(&serve.stdout).contains("listening"));
    assert!(started.elapsed() < Duration::from_secs(15));

    let (output, _) = admin_with_database("mysql://localhost/db", dir.path());
    let error = one_line_error(&output);
    assert!(
        error.contains("is not supported") && error.contains("postgres://"),
        "{error}"
    );
}

#[tokio::test]
async fn a_schema_newer_than_the_binary_stops_start_up() {
    let app = TestApp::spawn().await;
    // A migration this binary does not know, as a newer cloudnexus would have left.
    let insert = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES (9999, 'from the future', TRUE, '\\x00', 0)";
    let url = if on_postgres() {
        let url = app.config.metadata.url.clone().unwrap();
        let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
        sqlx::query(insert).execute(&mut db).await.unwrap();
        url
    } else {
        let path = app.data_dir.path().join("metadata.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .unwrap();
        let insert = insert.replace("'\\x00'", "x'00'");
        sqlx::query(&insert).execute(&mut db).await.unwrap();
        String::new()
    };
    let mut admin = app.admin_command();
    admin.args(["project", "list"]);
    if url.is_empty() {
        admin.env_remove("CLOUDNEXUS_DATABASE_URL");
    }
    let error = one_line_error(&admin.output().unwrap());
    assert!(error.contains("migration 9999"), "{error}");
    assert!(error.contains("newer cloudnexus"), "{error}");
}
