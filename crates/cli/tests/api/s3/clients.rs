//! The real S3 clients against a fresh server.

use super::{python, run_script, s3_app, s3_key};

#[tokio::test(flavor = "multi_thread")]
async fn boto3_performs_every_supported_operation() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let out = run_script(python("boto3_suite.py"), &app, &key, &[]).await;
    assert!(ran_at_least(&out, 20), "{out}");
}

/// Whether a unittest script reported running at least `n` tests (a suite that found none
/// would pass vacuously).
fn ran_at_least(out: &str, n: usize) -> bool {
    out.lines()
        .filter_map(|l| l.strip_prefix("ran ")?.strip_suffix(" tests")?.parse::<usize>().ok())
        .any(|ran| ran >= n)
}

fn shell(script: &str) -> std::process::Command {
    let mut command = std::process::Command::new("bash");
    command.arg(super::scripts_dir().join(script));
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_cli_copies_100_mib_syncs_folders_and_presigns() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let out = run_script(shell("aws_cli.sh"), &app, &key, &[]).await;
    assert!(out.contains("aws-cli: ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rclone_syncs_and_checks_a_folder() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let out = run_script(shell("rclone.sh"), &app, &key, &[]).await;
    assert!(out.contains("rclone: ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn s3cmd_lists_puts_and_gets() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let out = run_script(shell("s3cmd.sh"), &app, &key, &[]).await;
    assert!(out.contains("s3cmd: ok"), "{out}");
}
