//! Several processes on one data folder: a second `serve` of an embedded folder refuses at once
//! (see `cloudnexus::serve_lock` for why), processes opening a fresh folder together migrate it
//! once, and admin commands beside a serving process under write load cause no error and lose
//! no write.

use crate::helpers::{ServeProcess, fresh_backend_env, start_serve_process_with_s3};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
    command
        .env_remove("CLOUDNEXUS_CONFIG")
        .env_remove("CLOUDNEXUS_DATABASE_URL");
    command
}

/// `serve` on `dir` (SQLite unless `env` names another store), port 0, with `config`.
pub(crate) fn serve(dir: &std::path::Path, config: Option<&std::path::Path>, env: &[(&str, String)]) -> Command {
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()]);
    if let Some(config) = config {
        command.env("CLOUDNEXUS_CONFIG", config);
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command
}

pub(crate) fn admin(dir: &std::path::Path, env: &[(&str, String)], args: &[&str]) -> Output {
    binary()
        .args(["admin", "--data-dir", dir.to_str().unwrap(), "--output", "json"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap()
}

pub(crate) fn ok_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub(crate) fn kill(mut process: ServeProcess) {
    let _ = process.child.kill();
    let _ = process.child.wait();
}

#[tokio::test]
async fn a_second_serve_of_an_embedded_folder_refuses_at_once_saying_who_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_serve_process_with_s3(serve(dir.path(), None, &[]));
    let started = Instant::now();
    let second = serve(dir.path(), None, &[]).output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it refused after {:?}",
        started.elapsed()
    );
    let error = crate::startup::one_line_error(&second);
    assert!(error.contains("is already served by process"), "{error}");
    assert!(
        error.contains(&first.child.id().to_string()),
        "names the process: {error}"
    );
    assert!(error.contains("PostgreSQL"), "says what to do instead: {error}");
    assert!(!String::from_utf8_lossy(&second.stdout).contains("listening"));
    // The first one still answers; once it is killed, the folder is free again (no stale lock).
    let health = reqwest::get(format!("{}/healthz", first.base_url)).await.unwrap();
    assert_eq!(health.status(), 200);
    kill(first);
    let again = start_serve_process_with_s3(serve(dir.path(), None, &[]));
    kill(again);
}

#[tokio::test]
async fn processes_opening_a_fresh_folder_at_once_migrate_it_once() {
    for _round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        // Admin commands and a server, all started together on a fresh folder: every one of
        // them applies pending migrations when it opens the database.
        let admins: Vec<_> = (0..5)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || admin(&path, &[], &["project", "create", &format!("racer-{i}")]))
            })
            .collect();
        let server = start_serve_process_with_s3(serve(&path, None, &[]));
        for admin in admins {
            ok_json(&admin.join().unwrap());
        }
        let projects = ok_json(&admin(&path, &[], &["project", "list"]));
        // The server creates a first project only when it found none (it may open the folder
        // after an admin command created one).
        let expected = 5 + usize::from(server.first_key.is_some());
        assert_eq!(projects.as_array().unwrap().len(), expected, "{projects}");
        kill(server);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_beside_a_serving_process_cause_no_error_and_lose_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let env = fresh_backend_env().await;
    let config = dir.path().join("cloudnexus.toml");
    std::fs::write(
        &config,
        "[rate_limits.write]\nrequests = 1000000\nwindow_seconds = 60\n\
         [rate_limits.read]\nrequests = 1000000\nwindow_seconds = 60\n\
         [rate_limits.list-buckets]\nrequests = 1000000\nwindow_seconds = 60\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = start_serve_process_with_s3(serve(&data, Some(&config), &env));
    let key = server.first_key.clone().expect("a first-run key");
    let base = server.base_url.clone();

    // Writers through the API...
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (base, key) = (base.clone(), key.clone());
            tokio::spawn(async move {
                let http = crate::helpers::http_client();
                let mut statuses = Vec::new();
                for i in 0..25 {
                    let name = format!("load-{writer}-{i}");
                    let created = http
                        .post(format!("{base}/v1/buckets"))
                        .bearer_auth(&key)
                        .json(&serde_json::json!({"name": name, "region": "us-east-1"}))
                        .send()
                        .await
                        .unwrap();
                    statuses.push(created.status().as_u16());
                    for object in ["a.txt", "b.txt"] {
                        let put = http
                            .put(format!("{base}/v1/buckets/{name}/objects/{object}"))
                            .bearer_auth(&key)
                            .body(format!("{name}/{object}"))
                            .send()
                            .await
                            .unwrap();
                        statuses.push(put.status().as_u16());
                    }
                }
                statuses
            })
        })
        .collect();
    // ...while admin commands change keys and projects in the same database.
    let admin_dir = data.clone();
    let admin_env = env.clone();
    let admins = tokio::task::spawn_blocking(move || {
        for i in 0..8 {
            ok_json(&admin(
                &admin_dir,
                &admin_env,
                &["project", "create", &format!("beside-{i}")],
            ));
            let created = ok_json(&admin(
                &admin_dir,
                &admin_env,
                &["key", "create", "--project", "default", "--scopes", "storage:read"],
            ));
            ok_json(&admin(
                &admin_dir,
                &admin_env,
                &["key", "revoke", created["id"].as_str().unwrap()],
            ));
        }
    });
    let mut statuses = Vec::new();
    for writer in writers {
        statuses.extend(writer.await.unwrap());
    }
    admins.await.unwrap();
    assert_eq!(statuses.len(), 4 * 25 * 3);
    assert!(
        statuses.iter().all(|s| (200..300).contains(s)),
        "every write succeeded: {:?}",
        statuses.iter().filter(|s| !(200..300).contains(*s)).collect::<Vec<_>>()
    );

    // Every acknowledged write is there, usage included.
    let http = crate::helpers::http_client();
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{base}/v1/buckets"))
            .bearer_auth(&key)
            .query(&[("limit", "100"), ("prefix", "load-")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
        for bucket in page["data"].as_array().unwrap() {
            assert_eq!(bucket["object_count"], 2, "{bucket}");
            seen += 1;
        }
        match page["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 100);
    kill(server);
}
