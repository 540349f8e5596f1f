//! Credentials are never written to a log (even at `trace` level) nor stored in plain text.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[tokio::test]
async fn keys_and_tokens_never_reach_the_logs_or_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let backend = crate::helpers::fresh_backend_env().await;
    let mut server = Command::new(env!("CARGO_BIN_EXE_cloudnexus"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .env("CLOUDNEXUS_LOG", "trace")
        .env_remove("CLOUDNEXUS_CONFIG")
        .envs(backend.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut key = String::new();
    let mut base = String::new();
    for _ in 0..50 {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(k) = line.trim().strip_prefix("cnx_") {
            key = format!("cnx_{k}");
        }
        if let Some(addr) = line.trim().strip_prefix("cloudnexus listening on ") {
            base = addr.to_owned();
            break;
        }
    }
    assert!(
        key.starts_with("cnx_") && base.starts_with("http://"),
        "server did not start"
    );
    let stderr = server.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(stderr).read_to_string(&mut text).unwrap();
        text
    });

    let http = crate::helpers::http_client();
    assert_eq!(
        http.get(format!("{base}/v1/buckets"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/v1/buckets"))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let minted: serde_json::Value = http
        .post(format!("{base}/v1/auth/tokens"))
        .bearer_auth(&key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        http.get(format!("{base}/v1/buckets"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The last character changed (to one it is not: a key may end in `x`).
    let (kept, last) = key.split_at(key.len() - 1);
    let wrong = format!("{kept}{}", if last == "x" { "y" } else { "x" });
    assert_eq!(
        http.get(format!("{base}/v1/buckets"))
            .bearer_auth(&wrong)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Stop the server gracefully and read everything it logged.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0");
    let logs = log_reader.join().unwrap();
    assert!(logs.contains("handled"), "the test must see real request logs");
    let secret_part = &key[15..];
    for (what, secret) in [
        ("API key", secret_part),
        ("access token", token.as_str()),
        ("wrong key", &wrong[15..]),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature), "the token's signature appears in the logs");

    // At rest only the hash is kept.
    match backend.first() {
        None => {
            let files: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|f| f.unwrap().path())
                .filter(|p| p.is_file())
                .collect();
            assert!(files.iter().any(|p| p.ends_with("metadata.db")));
            for file in files {
                let bytes = std::fs::read(file).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(secret_part), "the API key is stored in plain text");
            }
        }
        Some((_, url)) => {
            // Every row of every table, as text.
            let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut db)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "api_keys"));
            for table in tables {
                let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
                    .fetch_all(&mut db)
                    .await
                    .unwrap();
                for row in rows {
                    assert!(
                        !row.contains(secret_part),
                        "the API key is stored in plain text in {table}"
                    );
                }
            }
        }
    }
}
