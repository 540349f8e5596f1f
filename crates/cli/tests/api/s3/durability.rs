//! Multipart uploads are durable like single writes: acknowledged parts survive a SIGKILL of
//! the server and the upload completes after the restart; an upload left alone past the
//! configured expiry is aborted and its parts' blobs removed.

use super::{S3Key, Target, python, run_script, run_script_at, s3_app_frozen, s3_key};
use crate::helpers::{blob_count, fresh_backend_env, start_serve_process_with_s3};
use std::time::Duration;

fn scenario(name: &str) -> std::process::Command {
    let mut command = python("boto3_rules.py");
    command.arg(name);
    command
}

/// The JSON document `start_upload` printed on its `UPLOAD` line.
fn started_upload(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("UPLOAD "))
        .unwrap_or_else(|| panic!("no UPLOAD line in {out}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_parts_survive_sigkill_and_the_upload_completes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, format!("{}\n", "c3".repeat(32))).unwrap();
    let mut env = fresh_backend_env().await;
    env.push(("CLOUDNEXUS_S3_MASTER_KEY_FILE", key_file.to_str().unwrap().to_owned()));
    env.push(("CLOUDNEXUS_LOG", "warn".to_owned()));
    let serve = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0"])
            .args(["--data-dir", data.to_str().unwrap()])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(std::process::Stdio::null());
        start_serve_process_with_s3(command)
    };

    let mut first = serve();
    let api_key = first.first_key.clone().expect("a first-run key");
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args(["admin", "--output", "json", "--data-dir", data.to_str().unwrap()])
        .args([
            "s3-key",
            "create",
            "--project",
            "default",
            "--scopes",
            "storage:read,storage:write",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = S3Key {
        id: created["id"].as_str().unwrap().to_owned(),
        access_key_id: created["access_key_id"].as_str().unwrap().to_owned(),
        secret_access_key: created["secret_access_key"].as_str().unwrap().to_owned(),
    };
    let target = |p: &crate::helpers::ServeProcess| Target {
        s3_url: p.s3_url.clone().expect("an S3 listener"),
        api_url: p.base_url.clone(),
        api_key: api_key.clone(),
    };
    let bucket = [("BUCKET", "durable-parts")];
    let out = run_script_at(scenario("start_upload"), &target(&first), &key, &bucket).await;
    let upload = started_upload(&out);

    // SIGKILL: no shutdown, no flush beyond what each acknowledgement already made durable.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let mut second = serve();
    let env = [("BUCKET", "durable-parts"), ("UPLOAD", upload.as_str())];
    let out = run_script_at(scenario("finish_upload"), &target(&second), &key, &env).await;
    assert!(out.contains("finish_upload: ok"), "{out}");
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_upload_expires_and_its_parts_are_removed() {
    let app = s3_app_frozen(|c| c.objects.multipart_upload_expiry_seconds = 3600).await;
    let key = s3_key(&app, "default", "storage:read,storage:write");
    let backends = app.config.backends();
    let before = blob_count(&backends).await;
    let out = run_script(scenario("start_upload"), &app, &key, &[("BUCKET", "abandoned")]).await;
    let upload = started_upload(&out);
    assert_eq!(blob_count(&backends).await, before + 2, "each part is a blob");

    // Not yet: an hour has not passed.
    app.clock.advance(3599);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(blob_count(&backends).await, before + 2);

    app.clock.advance(2);
    let mut waited = 0;
    while blob_count(&backends).await != before {
        assert!(waited < 100, "the abandoned upload's parts were not removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let env = [("BUCKET", "abandoned"), ("UPLOAD", upload.as_str())];
    let out = run_script(scenario("upload_gone"), &app, &key, &env).await;
    assert!(out.contains("upload_gone: ok"), "{out}");
}
