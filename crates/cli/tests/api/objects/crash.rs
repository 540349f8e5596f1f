//! Durability: the real binary is killed with SIGKILL, again and again, during concurrent
//! uploads and overwrites. After each restart every acknowledged object reads back byte-exact
//! (or as a newer write that was in flight when the server died, whole), nothing partial is
//! visible, no temp file is left, and each bucket's usage equals the sum of its objects.

use md5::{Digest, Md5};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WRITERS: usize = 6;
const KEYS_PER_WRITER: usize = 4;
const ROUNDS: u64 = 4;

struct Server {
    child: Child,
    base: String,
}

/// Starts `cloudnexus serve` on a free port with the environment `backend` (the tests'
/// metadata backend); returns it and the first-run key, if printed.
fn start(data: &std::path::Path, backend: &[(&str, String)]) -> (Server, Option<String>) {
    // The writers make far more requests than the shipped write quota allows. The server is
    // its blob store's only writer, so on the data folder unreferenced blobs are swept at
    // start-up with no grace period. An S3 server, though, may still finish PUTs the killed
    // process sent after the new one has started (a loaded server works through its backlog
    // late); those are swept by the periodic sweep, here with a short grace period.
    let grace = orphan_grace(backend).as_secs();
    let config = data.with_extension("toml");
    std::fs::write(
        &config,
        format!(
            "[rate_limits.write]\nrequests = 1000000\nwindow_seconds = 60\n\
             [rate_limits.read]\nrequests = 1000000\nwindow_seconds = 60\n\
             [blobs]\norphan_grace_seconds = {grace}\n"
        ),
    )
    .unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data.to_str().unwrap()])
        .arg("--config")
        .arg(&config)
        .env("CLOUDNEXUS_LOG", "warn")
        .envs(backend.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(append_to(&server_log(data)));
    let (child, base, key) = crate::helpers::start_serve_process(serve);
    (Server { child, base }, key)
}

/// Where every server the test starts on `data` writes its log (warnings and errors).
fn server_log(data: &std::path::Path) -> std::path::PathBuf {
    data.with_extension("log")
}

fn append_to(path: &std::path::Path) -> Stdio {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    Stdio::from(file)
}

/// Prints the servers' log when the test fails, so a failure on a loaded machine says what
/// the server saw.
struct PrintLogOnFailure(std::path::PathBuf);

impl Drop for PrintLogOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("--- the servers' log ({}):\n{log}", self.0.display());
        }
    }
}

/// The orphan sweep's grace period the test configures: none on the data folder, a few
/// seconds on S3 (see `start`).
fn orphan_grace(backend: &[(&str, String)]) -> Duration {
    if backend.iter().any(|(name, _)| *name == "CLOUDNEXUS_BLOB_URL") {
        Duration::from_secs(3)
    } else {
        Duration::ZERO
    }
}

/// The bytes of `version` of `key`: its own size and pattern, so a mix of two versions or a
/// truncated one never passes for either.
pub(crate) fn body(key: &str, version: u64) -> Vec<u8> {
    let seed = Md5::digest(format!("{key}#{version}"));
    let size = 1024 + (u32::from_le_bytes([seed[0], seed[1], seed[2], 0]) as usize % 200_000);
    (0..size).map(|i| seed[i % 16].wrapping_add((i / 16) as u8)).collect()
}

/// Uploads and overwrites its keys without pause, spreading the requests over `bases` (the
/// nodes), until a request fails (its node died): what it sent then is recorded as in flight.
pub(crate) struct Writer {
    pub http: reqwest::Client,
    pub key: String,
    pub bases: Vec<String>,
    pub bucket: &'static str,
    pub model: Arc<Mutex<HashMap<String, KeyState>>>,
}

impl Writer {
    /// Writes until its first failure; returns how many writes were acknowledged.
    pub async fn run(self, writer: usize, round: u64) -> u64 {
        let mut acked = 0;
        for i in 0u64.. {
            let object = format!("w{writer}/k{}", i as usize % KEYS_PER_WRITER);
            let version = round * 1_000_000 + writer as u64 * 10_000 + i;
            let base = &self.bases[(writer + i as usize) % self.bases.len()];
            self.model
                .lock()
                .unwrap()
                .entry(object.clone())
                .or_default()
                .in_flight
                .push(version);
            let sent = self
                .http
                .put(format!("{base}/v1/buckets/{}/objects/{object}", self.bucket))
                .bearer_auth(&self.key)
                .body(body(&object, version))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    let mut m = self.model.lock().unwrap();
                    let state = m.get_mut(&object).unwrap();
                    state.acked = Some(version);
                    state.in_flight.clear();
                    acked += 1;
                }
                // A transient failure (the contract's 503: nothing changed, try again), which
                // a loaded machine can cause: the version is not in flight, and must never
                // appear.
                Ok(r) if r.status() == 503 => {
                    if let Some(state) = self.model.lock().unwrap().get_mut(&object) {
                        state.in_flight.retain(|v| *v != version);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(r) => {
                    let status = r.status();
                    panic!("unexpected answer {status}: {}", r.text().await.unwrap_or_default())
                }
                Err(_) => return acked, // the node died
            }
        }
        acked
    }
}

/// Reads every key of `model` through every one of `bases`: each must be its acknowledged
/// version or, whole, a write that was in flight, the same through every node. Settles the
/// model on what was found and returns the objects' count and total size.
pub(crate) async fn check_objects(
    http: &reqwest::Client,
    bases: &[String],
    key: &str,
    bucket: &str,
    model: &Mutex<HashMap<String, KeyState>>,
    when: &str,
) -> (u64, u64) {
    let snapshot = model.lock().unwrap().clone();
    let mut expected_count = 0u64;
    let mut expected_size = 0u64;
    for (object, state) in &snapshot {
        let mut matched_by_node = Vec::new();
        for base in bases {
            let response = http
                .get(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let found = if response.status() == 404 {
                None
            } else {
                assert_eq!(response.status(), 200, "{when}: {object} through {base}");
                Some(response.bytes().await.unwrap().to_vec())
            };
            let candidates: Vec<u64> = state.acked.iter().chain(state.in_flight.iter()).copied().collect();
            let matched =
                match &found {
                    None => {
                        assert!(
                            state.acked.is_none(),
                            "{when}: acknowledged {object} v{:?} is gone through {base}",
                            state.acked
                        );
                        None
                    }
                    Some(bytes) => Some(*candidates.iter().find(|v| body(object, **v) == *bytes).unwrap_or_else(
                        || {
                            panic!(
                                "{when}: {object} holds {} bytes matching no version written (through {base})",
                                bytes.len()
                            )
                        },
                    )),
                };
            matched_by_node.push(matched);
        }
        let matched = matched_by_node[0];
        assert!(
            matched_by_node.iter().all(|m| *m == matched),
            "{when}: the nodes disagree on {object}: {matched_by_node:?}"
        );
        if let Some(v) = matched {
            expected_count += 1;
            expected_size += body(object, v).len() as u64;
        }
        let mut m = model.lock().unwrap();
        let s = m.get_mut(object).unwrap();
        s.acked = matched;
        s.in_flight.clear();
    }
    (expected_count, expected_size)
}

#[derive(Debug, Default, Clone)]
pub(crate) struct KeyState {
    /// The last acknowledged version.
    pub(crate) acked: Option<u64>,
    /// Versions sent after it whose outcome is unknown (the server died).
    in_flight: Vec<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_nothing_partial_remains() {
    let dir = tempfile::tempdir().unwrap();
    // The data folder inside the test's folder, so that the configuration and the servers' log
    // beside it (see `start`) go when the test ends.
    let data = dir.path().join("data");
    let backend = crate::helpers::fresh_backend_env().await;
    let blob_store = cloudnexus_store::BackendConfig {
        data_dir: data.clone(),
        metadata_url: backend
            .iter()
            .find(|(name, _)| *name == "CLOUDNEXUS_DATABASE_URL")
            .map(|(_, url)| url.clone()),
        blob_url: backend
            .iter()
            .find(|(name, _)| *name == "CLOUDNEXUS_BLOB_URL")
            .map(|(_, url)| url.clone()),
        ..Default::default()
    };
    let _log = PrintLogOnFailure(server_log(&data));
    let (mut server, key) = start(&data, &backend);
    let key = key.expect("first run prints a key");
    let http = crate::helpers::http_client();
    let created = http
        .post(format!("{}/v1/buckets", server.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "crash-test", "region": "us-east-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let model: Arc<Mutex<HashMap<String, KeyState>>> = Arc::default();
    let mut acknowledged_total = 0;
    for round in 0..ROUNDS {
        let base = server.base.clone();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let writer = Writer {
                    http: http.clone(),
                    key: key.clone(),
                    bases: vec![base.clone()],
                    bucket: "crash-test",
                    model: model.clone(),
                };
                tokio::spawn(writer.run(w, round))
            })
            .collect();
        // Let the writers get going, then kill the server mid-flight.
        tokio::time::sleep(Duration::from_millis(400 + 300 * round)).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for w in writers {
            acknowledged_total += w.await.unwrap();
        }

        let (restarted, _) = start(&data, &backend);
        server = restarted;
        if blob_store.blob_url.is_none() {
            let temp: Vec<_> = std::fs::read_dir(data.join("blobs/tmp")).unwrap().collect();
            assert!(temp.is_empty(), "round {round}: temp files left: {temp:?}");
        }

        let (expected_count, expected_size) = check_objects(
            &http,
            &[server.base.clone()],
            &key,
            "crash-test",
            &model,
            &format!("round {round}"),
        )
        .await;

        // The bucket's usage is the sum of its objects, in the listing too.
        let bucket: serde_json::Value = http
            .get(format!("{}/v1/buckets/crash-test", server.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(bucket["object_count"], expected_count, "round {round}");
        assert_eq!(bucket["size_bytes"], expected_size, "round {round}");
        let listed: serde_json::Value = http
            .get(format!("{}/v1/buckets/crash-test/objects?limit=1000", server.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed_size: u64 = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["size_bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(listed["data"].as_array().unwrap().len() as u64, expected_count);
        assert_eq!(listed_size, expected_size);

        // Blobs a crash left unreferenced are swept in the background after the restart (on
        // S3, those landing late within a few grace periods).
        let mut files = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5) + orphan_grace(&backend) * 4;
        while tokio::time::Instant::now() < deadline {
            files = crate::helpers::stored_blob_count(&blob_store).await;
            if files as u64 == expected_count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            files as u64, expected_count,
            "round {round}: blobs in the store vs objects"
        );
    }
    assert!(
        acknowledged_total >= 20,
        "the test must overlap real writes with the kills ({acknowledged_total} acknowledged)"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
