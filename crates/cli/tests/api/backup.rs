//! `admin backup` of a data folder while a server writes to it, and `admin restore` of the copy:
//! the restored folder serves every object byte for byte as it was at one point of the load,
//! with exact usage, and the keys of the original.

use crate::helpers::{high_quota_config, start_serve_process_with_s3};
use crate::processes::{admin, kill, ok_json, serve};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const BASE_BUCKETS: usize = 6;
const BASE_OBJECTS: usize = 40;
const CHURN_BUCKETS: usize = 3;
const CHURN_KEYS: usize = 8;

/// The bytes of one version of an object: its name and version repeated to `size`.
fn content(key: &str, version: usize, size: usize) -> Vec<u8> {
    format!("{key} v{version};").bytes().cycle().take(size).collect()
}

async fn create_bucket(http: &reqwest::Client, base: &str, key: &str, name: &str) {
    let created = http
        .post(format!("{base}/v1/buckets"))
        .bearer_auth(key)
        .json(&serde_json::json!({"name": name, "region": "us-east-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
}

async fn put(http: &reqwest::Client, base: &str, key: &str, bucket: &str, object: &str, body: Vec<u8>) -> u16 {
    http.put(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
        .bearer_auth(key)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Every object of a bucket (key, size), through the listing.
async fn objects(http: &reqwest::Client, base: &str, key: &str, bucket: &str) -> Vec<(String, u64)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{base}/v1/buckets/{bucket}/objects"))
            .bearer_auth(key)
            .query(&[("limit", "100")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
        for object in page["data"].as_array().unwrap() {
            all.push((
                object["key"].as_str().unwrap().to_owned(),
                object["size_bytes"].as_u64().unwrap(),
            ));
        }
        match page["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

async fn get(http: &reqwest::Client, base: &str, key: &str, bucket: &str, object: &str) -> Vec<u8> {
    let response = http
        .get(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{bucket}/{object}");
    response.bytes().await.unwrap().to_vec()
}

async fn bucket(http: &reqwest::Client, base: &str, key: &str, bucket: &str) -> serde_json::Value {
    let response = http
        .get(format!("{base}/v1/buckets/{bucket}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{bucket}");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_under_load_restores_every_object_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let config = high_quota_config(dir.path());
    let data = dir.path().join("data");
    let server = start_serve_process_with_s3(serve(&data, Some(&config), &[]));
    let key = server.first_key.clone().expect("a first-run key");
    let base = server.base_url.clone();
    let http = crate::helpers::http_client();

    // Objects written before the backup and never touched again must come back exactly.
    let mut fixed: HashMap<(String, String), Vec<u8>> = HashMap::new();
    for b in 0..BASE_BUCKETS {
        let name = format!("base-{b}");
        create_bucket(&http, &base, &key, &name).await;
        for o in 0..BASE_OBJECTS {
            let object = format!("dir-{}/object-{o}", o % 3);
            let body = content(&object, 0, 16 * 1024 + 997 * o);
            assert_eq!(put(&http, &base, &key, &name, &object, body.clone()).await, 201);
            fixed.insert((name.clone(), object), body);
        }
    }
    for b in 0..CHURN_BUCKETS {
        create_bucket(&http, &base, &key, &format!("churn-{b}")).await;
    }

    // Writers overwrite and delete the churn buckets' objects throughout the backup; every
    // version any of them sent is remembered (one in flight at the snapshot may be in it).
    let stop = Arc::new(AtomicBool::new(false));
    let during_backup = Arc::new(AtomicBool::new(false));
    let changes_during_backup = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..3)
        .map(|writer| {
            let (base, key, http) = (base.clone(), key.clone(), http.clone());
            let (stop, during, counted) = (stop.clone(), during_backup.clone(), changes_during_backup.clone());
            tokio::spawn(async move {
                let mut sent: HashMap<(String, String), HashSet<Vec<u8>>> = HashMap::new();
                let mut version = 0;
                while !stop.load(Ordering::Relaxed) {
                    version += 1;
                    let bucket = format!("churn-{}", version % CHURN_BUCKETS);
                    let object = format!("w{writer}-k{}", (version * 7) % CHURN_KEYS);
                    let status = if version % 5 == 0 {
                        http.delete(format!("{base}/v1/buckets/{bucket}/objects/{object}"))
                            .bearer_auth(&key)
                            .send()
                            .await
                            .unwrap()
                            .status()
                            .as_u16()
                    } else {
                        let body = content(&object, version, 4096 + version % 3000);
                        sent.entry((bucket.clone(), object.clone()))
                            .or_default()
                            .insert(body.clone());
                        put(&http, &base, &key, &bucket, &object, body).await
                    };
                    assert!(matches!(status, 200 | 201 | 204 | 404), "a write answered {status}");
                    if during.load(Ordering::Relaxed) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                sent
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let target = dir.path().join("backup");
    during_backup.store(true, Ordering::Relaxed);
    let backup = {
        let (data, target) = (data.clone(), target.clone());
        tokio::task::spawn_blocking(move || admin(&data, &[], &["backup", "--to", target.to_str().unwrap()]))
            .await
            .unwrap()
    };
    during_backup.store(false, Ordering::Relaxed);
    let manifest = ok_json(&backup);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut sent: HashMap<(String, String), HashSet<Vec<u8>>> = HashMap::new();
    for writer in writers {
        for (k, versions) in writer.await.unwrap() {
            sent.entry(k).or_default().extend(versions);
        }
    }
    assert!(
        changes_during_backup.load(Ordering::Relaxed) > 0,
        "the writers changed objects while the backup ran"
    );
    assert_eq!(manifest["buckets"], BASE_BUCKETS + CHURN_BUCKETS, "{manifest}");
    assert!(target.join("backup.json").exists());

    // Restore into a fresh folder and serve it beside the original.
    let restored_dir = dir.path().join("restored");
    ok_json(&admin(
        &restored_dir,
        &[],
        &["restore", "--from", target.to_str().unwrap()],
    ));
    let copy = start_serve_process_with_s3(serve(&restored_dir, Some(&config), &[]));
    assert!(
        copy.first_key.is_none(),
        "the restored folder has its projects and keys"
    );
    let copy_base = copy.base_url.clone();

    // Every fixed object, byte for byte, with the original's key.
    for ((bucket, object), body) in &fixed {
        assert_eq!(
            &get(&http, &copy_base, &key, bucket, object).await,
            body,
            "{bucket}/{object}"
        );
    }
    // Every churn object is one of the versions sent; usage is exactly what is listed.
    let mut listed_objects = 0u64;
    for b in 0..BASE_BUCKETS + CHURN_BUCKETS {
        let name = if b < BASE_BUCKETS {
            format!("base-{b}")
        } else {
            format!("churn-{}", b - BASE_BUCKETS)
        };
        let listed = objects(&http, &copy_base, &key, &name).await;
        for (object, size) in &listed {
            let bytes = get(&http, &copy_base, &key, &name, object).await;
            assert_eq!(bytes.len() as u64, *size, "{name}/{object}");
            if b >= BASE_BUCKETS {
                let versions = sent.get(&(name.clone(), object.clone())).expect("a key a writer wrote");
                assert!(versions.contains(&bytes), "{name}/{object} is a version a writer sent");
            }
        }
        let described = bucket(&http, &copy_base, &key, &name).await;
        assert_eq!(described["object_count"], listed.len(), "{name}: {described}");
        assert_eq!(
            described["size_bytes"],
            listed.iter().map(|(_, size)| size).sum::<u64>(),
            "{name}: {described}"
        );
        listed_objects += listed.len() as u64;
    }
    assert_eq!(manifest["objects"], listed_objects, "{manifest}");
    // Exactly the referenced blobs were copied.
    let blob_files = walk_files(&restored_dir.join("blobs"));
    assert_eq!(manifest["blobs"], blob_files, "{manifest}");
    // The restored folder takes writes, and the original serves on.
    assert_eq!(
        put(&http, &copy_base, &key, "base-0", "after-restore", b"new".to_vec()).await,
        201
    );
    assert_eq!(bucket(&http, &base, &key, "base-0").await["object_count"], BASE_OBJECTS);
    kill(copy);
    kill(server);
}

fn walk_files(dir: &std::path::Path) -> u64 {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            count += walk_files(&entry.path());
        } else {
            count += 1;
        }
    }
    count
}

#[test]
fn backup_and_restore_refuse_what_would_lose_or_mix_data() {
    let dir = tempfile::tempdir().unwrap();
    let fail = |output: std::process::Output| {
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // No data folder to back up.
    let error = fail(admin(&dir.path().join("nothing"), &[], &["backup", "--to", "x"]));
    assert!(error.contains("holds no metadata"), "{error}");

    let data = dir.path().join("data");
    ok_json(&admin(&data, &[], &["project", "create", "one"]));
    let target = dir.path().join("backup");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("stray"), b"x").unwrap();
    let error = fail(admin(&data, &[], &["backup", "--to", target.to_str().unwrap()]));
    assert!(error.contains("is not empty"), "{error}");
    std::fs::remove_file(target.join("stray")).unwrap();
    ok_json(&admin(&data, &[], &["backup", "--to", target.to_str().unwrap()]));

    // Restore never overwrites a data folder that holds metadata.
    let error = fail(admin(&data, &[], &["restore", "--from", target.to_str().unwrap()]));
    assert!(error.contains("already holds metadata"), "{error}");
    // Nor follows a manifest outside the data folder, nor restores a newer schema.
    let manifest_path = target.join("backup.json");
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for (field, value, expected) in [
        (
            "files",
            serde_json::json!(["../escaped"]),
            "not a file of a data folder",
        ),
        ("schema_version", serde_json::json!(999), "newer than this binary's"),
    ] {
        let mut edited = original.clone();
        edited[field] = value;
        std::fs::write(&manifest_path, serde_json::to_vec(&edited).unwrap()).unwrap();
        let elsewhere = dir.path().join(format!("elsewhere-{field}"));
        let error = fail(admin(&elsewhere, &[], &["restore", "--from", target.to_str().unwrap()]));
        assert!(error.contains(expected), "{error}");
        assert!(!elsewhere.join("metadata.db").exists());
    }
    assert!(!dir.path().join("escaped").exists());
    std::fs::write(&manifest_path, serde_json::to_vec(&original).unwrap()).unwrap();
    // A backup that did not finish (no manifest) is refused, and leaves the target unserved.
    std::fs::remove_file(target.join("backup.json")).unwrap();
    let fresh = dir.path().join("fresh");
    let error = fail(admin(&fresh, &[], &["restore", "--from", target.to_str().unwrap()]));
    assert!(error.contains("did not finish"), "{error}");
    assert!(!fresh.join("metadata.db").exists());
    // A shared store is backed up with its own tools.
    let error = fail(admin(
        &fresh,
        &[(
            "CLOUDNEXUS_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none".to_owned(),
        )],
        &["backup", "--to", "y"],
    ));
    assert!(error.contains("pg_dump"), "{error}");
}

#[test]
fn a_restore_refuses_a_blob_whose_bytes_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = high_quota_config(dir.path());
    let server = start_serve_process_with_s3(serve(&data, Some(&config), &[]));
    let key = server.first_key.clone().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = crate::helpers::http_client();
        create_bucket(&http, &server.base_url, &key, "damaged").await;
        assert_eq!(
            // Over 4 KiB: a blob file, not kept by the metadata.
            put(&http, &server.base_url, &key, "damaged", "a", vec![b'h'; 5000]).await,
            201
        );
    });
    let target = dir.path().join("backup");
    ok_json(&admin(&data, &[], &["backup", "--to", target.to_str().unwrap()]));
    kill(server);
    // Flip the blob's bytes (same length) in the backup.
    let blobs = target.join("blobs");
    let folder = std::fs::read_dir(&blobs).unwrap().next().unwrap().unwrap().path();
    let file = std::fs::read_dir(&folder).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&file, vec![b'H'; 5000]).unwrap();
    let restored = dir.path().join("restored");
    let output = admin(&restored, &[], &["restore", "--from", target.to_str().unwrap()]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("do not match the metadata"), "{error}");
    assert!(
        !restored.join("metadata.db").exists(),
        "a failed restore leaves no metadata"
    );
}
