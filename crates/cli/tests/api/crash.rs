//! SIGKILL cycles: a server on an embedded data folder is killed at a random moment while
//! writers create buckets, upload, overwrite and delete objects; after each restart every
//! acknowledged write is there, no object is partial, usage is exact, and (at the end) no byte
//! is left that no object references.
//!
//! `CLOUDNEXUS_CRASH_CYCLES` sets the number of cycles (3 by default, as in every test run);
//! `scripts/crash-test.sh` runs 100.

use crate::helpers::{get_json, high_quota_config, start_serve_process_with_s3};
use crate::processes::serve;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const WRITERS: usize = 4;
/// Writes acknowledged over the whole run (for the report).
static ACKNOWLEDGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const KEYS_PER_WRITER: usize = 6;

/// A small deterministic generator (the cycles are reproducible from their number).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// The bytes of a version of an object: its name and version repeated to a size from 1 byte
/// to 300 KiB (several write buffers, so a torn write would show).
fn content(key: &str, version: u64) -> Vec<u8> {
    let size = 1 + (version * 7919 % (300 * 1024)) as usize;
    format!("{key}@{version};").bytes().cycle().take(size).collect()
}

/// What a key holds: known from an acknowledged write, or one of two when the server died
/// while a write of it was in flight.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Known(Option<Vec<u8>>),
    Either(Option<Vec<u8>>, Option<Vec<u8>>),
}

/// One writer's keys (no two writers share a key, so each key has at most one write in flight).
type Model = HashMap<(String, String), State>;

/// Writes until the server dies; returns the model with the in-flight write (if any) uncertain.
async fn write_until_killed(base: String, key: String, writer: usize, cycle: u64, mut model: Model) -> Model {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut random = Lcg(cycle * 1000 + writer as u64 + 1);
    let bucket = format!("crash-writer-{writer}");
    for step in 0u64.. {
        let object = format!("k{}", random.next(KEYS_PER_WRITER as u64));
        let id = (bucket.clone(), object.clone());
        let before = match model.get(&id).cloned().unwrap_or(State::Known(None)) {
            State::Known(v) => v,
            State::Either(..) => unreachable!("resolved after every restart"),
        };
        let (request, after) = if random.next(4) == 0 {
            (
                http.delete(format!("{base}/v1/buckets/{bucket}/objects/{object}")),
                None,
            )
        } else {
            let body = content(&object, cycle * 100_000 + step);
            (
                http.put(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
                    .body(body.clone()),
                Some(body),
            )
        };
        match request.bearer_auth(&key).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                assert!(
                    matches!(status, 200 | 201 | 204 | 404),
                    "{bucket}/{object} answered {status}"
                );
                model.insert(id, State::Known(after));
                ACKNOWLEDGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(_) => {
                // The server died with this write in flight: either outcome may have happened.
                model.insert(id, State::Either(before, after));
                return model;
            }
        }
        // Bucket changes too: a tag patch per few writes (its usage must stay untouched).
        if step % 7 == 0 {
            let patched = http
                .patch(format!("{base}/v1/buckets/{bucket}"))
                .bearer_auth(&key)
                .json(&serde_json::json!({"tags": {"step": step.to_string()}}))
                .send()
                .await;
            match patched {
                Ok(response) => assert_eq!(response.status(), 200, "patching {bucket}"),
                Err(_) => return model,
            }
        }
    }
    unreachable!()
}

async fn get(http: &reqwest::Client, base: &str, key: &str, bucket: &str, object: &str) -> Option<Vec<u8>> {
    let response = http
        .get(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        200 => Some(response.bytes().await.unwrap().to_vec()),
        404 => None,
        status => panic!("{bucket}/{object} answered {status}"),
    }
}

/// Checks every key against the model after a restart and resolves the uncertain ones; checks
/// each bucket's usage against its objects. Returns how many objects there are.
async fn verify(base: &str, key: &str, model: &mut Model, cycle: u64) -> u64 {
    let http = crate::helpers::http_client();
    for ((bucket, object), state) in model.iter_mut() {
        let found = get(&http, base, key, bucket, object).await;
        let fine = match &*state {
            State::Known(expected) => &found == expected,
            State::Either(before, after) => &found == before || &found == after,
        };
        assert!(
            fine,
            "cycle {cycle}: {bucket}/{object} holds {:?} bytes, not what was acknowledged ({state:?} lengths)",
            found.as_ref().map(Vec::len)
        );
        *state = State::Known(found);
    }
    let mut objects = 0;
    for writer in 0..WRITERS {
        let bucket = format!("crash-writer-{writer}");
        let expected: Vec<u64> = model
            .iter()
            .filter(|((b, _), _)| *b == bucket)
            .filter_map(|(_, s)| match s {
                State::Known(Some(bytes)) => Some(bytes.len() as u64),
                _ => None,
            })
            .collect();
        let described = get_json(&http, &format!("{base}/v1/buckets/{bucket}"), key).await;
        assert_eq!(described["object_count"], expected.len(), "cycle {cycle}: {described}");
        assert_eq!(
            described["size_bytes"],
            expected.iter().sum::<u64>(),
            "cycle {cycle}: {described}"
        );
        let listed = get_json(&http, &format!("{base}/v1/buckets/{bucket}/objects?limit=100"), key).await;
        assert_eq!(
            listed["data"].as_array().unwrap().len(),
            expected.len(),
            "cycle {cycle}: no object the model does not know"
        );
        objects += expected.len() as u64;
    }
    objects
}

fn blob_files(dir: &std::path::Path) -> u64 {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "tmp" {
                count += blob_files(&entry.path());
            }
        } else {
            count += 1;
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    let cycles: u64 = std::env::var("CLOUDNEXUS_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let config = high_quota_config(dir.path());
    let data = dir.path().join("data");
    let mut key = None;
    let mut model = Model::new();
    let mut random = Lcg(42);
    let started = Instant::now();
    for cycle in 0..cycles {
        let server = start_serve_process_with_s3(serve(&data, Some(&config), &[]));
        let key = key
            .get_or_insert_with(|| server.first_key.clone().expect("a first-run key"))
            .clone();
        let base = server.base_url.clone();
        if cycle == 0 {
            let http = crate::helpers::http_client();
            for writer in 0..WRITERS {
                let created = http
                    .post(format!("{base}/v1/buckets"))
                    .bearer_auth(&key)
                    .json(&serde_json::json!({"name": format!("crash-writer-{writer}"), "region": "us-east-1"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(created.status(), 201);
            }
        } else {
            verify(&base, &key, &mut model, cycle).await;
        }
        // Writers run; the server is killed at a random moment among them.
        let mut shares: Vec<Model> = (0..WRITERS).map(|_| Model::new()).collect();
        for ((bucket, object), state) in model.drain() {
            let writer: usize = bucket.trim_start_matches("crash-writer-").parse().unwrap();
            shares[writer].insert((bucket, object), state);
        }
        let writers: Vec<_> = shares
            .into_iter()
            .enumerate()
            .map(|(writer, share)| tokio::spawn(write_until_killed(base.clone(), key.clone(), writer, cycle, share)))
            .collect();
        tokio::time::sleep(Duration::from_millis(100 + random.next(900))).await;
        let mut child = server.child;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for writer in writers {
            model.extend(writer.await.unwrap());
        }
    }

    // A last start: everything checked once more, then the start-up sweep and the collector
    // leave exactly one blob per object.
    let server = start_serve_process_with_s3(serve(&data, Some(&config), &[]));
    let key = key.unwrap();
    let objects = verify(&server.base_url, &key, &mut model, cycles).await;
    let blobs = data.join("blobs");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Small objects' blobs are kept by the metadata; the rest are files.
    let stored = || async {
        let embedded = cloudnexus_store::BackendConfig {
            data_dir: data.clone(),
            ..Default::default()
        };
        blob_files(&blobs) + cloudnexus_store::testing::inline_blob_count(&embedded).await as u64
    };
    let mut files = stored().await;
    while files != objects && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        files = stored().await;
    }
    assert_eq!(
        files, objects,
        "one blob (file, or kept by the metadata) per object after garbage collection, no orphan"
    );
    let leftovers = std::fs::read_dir(blobs.join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "no temp file of an interrupted upload is left");
    println!(
        "{cycles} SIGKILL cycles in {:.1} s: {} acknowledged writes, 0 lost, 0 partial; {objects} objects, \
         usage exact after every restart; {files} blobs after garbage collection, 0 orphaned",
        started.elapsed().as_secs_f64(),
        ACKNOWLEDGED.load(std::sync::atomic::Ordering::Relaxed)
    );
    crate::processes::kill(server);
}
