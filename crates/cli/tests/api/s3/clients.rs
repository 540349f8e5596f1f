//! The real S3 clients against a fresh server.

use super::{python, run_script, s3_app, s3_key};

#[tokio::test(flavor = "multi_thread")]
async fn boto3_performs_every_supported_operation() {
    let app = s3_app().await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let out = run_script(python("boto3_suite.py"), &app, &key, &[]).await;
    assert!(ran_at_least(&out, 15), "{out}");
}

/// Whether a unittest script reported running at least `n` tests (a suite that found none
/// would pass vacuously).
fn ran_at_least(out: &str, n: usize) -> bool {
    out.lines()
        .filter_map(|l| l.strip_prefix("ran ")?.strip_suffix(" tests")?.parse::<usize>().ok())
        .any(|ran| ran >= n)
}
