//! Storing, reading and deleting objects, their headers, and the bucket usage they change.

use crate::helpers::TestApp;
use cloudnexus_client::ListBuckets;
use serde_json::json;

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn an_object_round_trips_byte_exact_with_its_headers() {
    let app = TestApp::spawn().await;
    app.create_bucket("objects-here", "us-east-1").await;
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let put = TestApp::answer(
        app.request("PUT", "/v1/buckets/objects-here/objects/photos/2024/cat.jpg")
            .header("content-type", "image/jpeg")
            .body(body.clone()),
    )
    .await;
    assert_eq!(put.status, 201, "{}", put.text);
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(put.header("etag"), Some(etag.as_str()));
    let info = put.json();
    assert_eq!(info["key"], "photos/2024/cat.jpg");
    assert_eq!(info["size_bytes"], 100_000);
    assert_eq!(info["etag"], etag.as_str());
    assert_eq!(info["content_type"], "image/jpeg");
    assert_eq!(info["last_modified"], "2024-08-12T14:32:00Z");

    let get = app
        .request("GET", "/v1/buckets/objects-here/objects/photos/2024/cat.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let h = get.headers().clone();
    assert_eq!(h["etag"], etag.as_str());
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["content-length"], "100000");
    assert_eq!(h["last-modified"], "Mon, 12 Aug 2024 14:32:00 GMT");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(get.bytes().await.unwrap().to_vec(), body);

    let head = app
        .request("HEAD", "/v1/buckets/objects-here/objects/photos/2024/cat.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "100000");
    assert_eq!(head.headers()["etag"], etag.as_str());
    assert!(head.bytes().await.unwrap().is_empty());
}

/// The headers an object is served with, as the PUT gave them.
const CONTENT_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "public, max-age=86400"),
    ("content-disposition", "attachment; filename=\"notes.txt.gz\""),
    ("content-encoding", "gzip"),
    ("content-language", "en-GB"),
];

#[tokio::test]
async fn content_headers_are_kept_answered_by_reads_and_replaced_by_the_next_put() {
    let app = TestApp::spawn().await;
    app.create_bucket("served", "us-east-1").await;
    // A small object (bytes kept in the metadata) and a large one (bytes in a blob).
    for (key, size) in [("small", 10), ("large", 100_000)] {
        let mut put = app.request("PUT", &format!("/v1/buckets/served/objects/{key}"));
        for (name, value) in CONTENT_HEADERS {
            put = put.header(name, value);
        }
        let put = TestApp::answer(put.body(vec![7u8; size])).await;
        assert_eq!(put.status, 201, "{}", put.text);
        for method in ["GET", "HEAD"] {
            let read = TestApp::answer(app.request(method, &format!("/v1/buckets/served/objects/{key}"))).await;
            assert_eq!(read.status, 200, "{method} {key}");
            for (name, value) in CONTENT_HEADERS {
                assert_eq!(read.header(name), Some(value), "{method} {key}: {name}");
            }
        }
        let etag = put.header("etag").unwrap().to_owned();
        let not_modified = TestApp::answer(
            app.request("GET", &format!("/v1/buckets/served/objects/{key}"))
                .header("if-none-match", etag),
        )
        .await;
        assert_eq!(not_modified.status, 304);
        for (name, value) in CONTENT_HEADERS {
            assert_eq!(not_modified.header(name), Some(value), "304 {key}: {name}");
        }
    }
    // The next PUT of the key replaces them with its own: none given, none kept.
    let again = TestApp::answer(
        app.request("PUT", "/v1/buckets/served/objects/small")
            .header("cache-control", "no-store")
            .body("plain"),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    let read = TestApp::answer(app.request("GET", "/v1/buckets/served/objects/small")).await;
    assert_eq!(read.header("cache-control"), Some("no-store"));
    for name in ["content-disposition", "content-encoding", "content-language"] {
        assert_eq!(read.header(name), None, "{name}");
    }
    // A header sent on two lines is one value, joined by a comma.
    let two_lines = TestApp::answer(
        app.request("PUT", "/v1/buckets/served/objects/two-lines")
            .header("cache-control", "public")
            .header("cache-control", "max-age=60")
            .body("x"),
    )
    .await;
    assert_eq!(two_lines.status, 201, "{}", two_lines.text);
    let read = TestApp::answer(app.request("HEAD", "/v1/buckets/served/objects/two-lines")).await;
    assert_eq!(read.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test]
async fn a_content_header_over_1024_bytes_not_ascii_or_aws_chunked_is_400_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.create_bucket("refused-headers", "us-east-1").await;
    let long = TestApp::answer(
        app.request("PUT", "/v1/buckets/refused-headers/objects/k")
            .header(
                "content-disposition",
                format!("attachment; filename=\"{}\"", "a".repeat(1002)),
            )
            .body("x"),
    )
    .await;
    let p = long.problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "Content-Disposition");
    let latin1 = reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap();
    let not_ascii = TestApp::answer(
        app.request("PUT", "/v1/buckets/refused-headers/objects/k")
            .header("content-language", latin1)
            .body("x"),
    )
    .await;
    let p = not_ascii.problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "Content-Language");
    // S3's streaming framing is not this API's: stored as bytes it would corrupt the object.
    let chunked = TestApp::answer(
        app.request("PUT", "/v1/buckets/refused-headers/objects/k")
            .header("content-encoding", "gzip, aws-chunked")
            .body("x"),
    )
    .await;
    let p = chunked.problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "Content-Encoding");
    app.call(
        "GET",
        "/v1/buckets/refused-headers/objects/k",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(404, "object_not_found");
}

/// A body of at most 4 KiB is kept by the metadata store (no blob of its own in the blob
/// store), a larger one is a blob; both read back the same, whole, by range and by HEAD.
#[tokio::test]
async fn small_objects_are_kept_by_the_metadata_and_read_back_the_same() {
    let app = TestApp::spawn().await;
    app.create_bucket("sizes", "us-east-1").await;
    let small: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let large: Vec<u8> = (0..4097u32).map(|i| (i % 241) as u8).collect();
    for (key, body) in [("small", &small), ("large", &large), ("empty", &Vec::new())] {
        let path = format!("/v1/buckets/sizes/objects/{key}");
        let put = TestApp::answer(app.request("PUT", &path).body(body.clone())).await;
        assert_eq!(put.status, 201, "{}", put.text);
        let etag = format!("\"{}\"", md5_hex(body));
        let get = app.request("GET", &path).send().await.unwrap();
        assert_eq!(get.status(), 200);
        assert_eq!(get.headers()["etag"], etag.as_str());
        assert_eq!(get.headers()["content-length"], body.len().to_string().as_str());
        assert_eq!(get.bytes().await.unwrap().to_vec(), *body, "{key}");
        let head = app.request("HEAD", &path).send().await.unwrap();
        assert_eq!(head.headers()["content-length"], body.len().to_string().as_str());
        if body.is_empty() {
            continue;
        }
        let ranged = app
            .request("GET", &path)
            .header("range", "bytes=4090-")
            .send()
            .await
            .unwrap();
        assert_eq!(ranged.status(), 206);
        let total = body.len();
        assert_eq!(
            ranged.headers()["content-range"],
            format!("bytes 4090-{}/{total}", total - 1).as_str()
        );
        assert_eq!(ranged.bytes().await.unwrap().to_vec(), body[4090..].to_vec(), "{key}");
    }
    let backends = app.config.backends();
    assert_eq!(
        crate::helpers::blob_count(&backends).await,
        1,
        "only the object over 4 KiB is a blob in the blob store"
    );
    assert_eq!(cloudnexus_store::testing::inline_blob_count(&backends).await, 2);
    let bucket = app.client.get_bucket("sizes").await.unwrap();
    assert_eq!((bucket.size_bytes, bucket.object_count), (8193, 3));
}

#[tokio::test]
async fn usage_counters_follow_every_acknowledged_write() {
    let app = TestApp::spawn().await;
    let b = app.create_bucket("usage-bucket", "us-east-1").await;
    let usage = |app: &TestApp| {
        let c = app.client.clone();
        async move {
            let listed = c.list_buckets(&ListBuckets::default()).await.unwrap().data[0].clone();
            let got = c.get_bucket("usage-bucket").await.unwrap();
            assert_eq!(
                (listed.size_bytes, listed.object_count),
                (got.size_bytes, got.object_count)
            );
            (got.size_bytes, got.object_count)
        }
    };
    app.client
        .put_object("usage-bucket", "a", vec![1; 1000], "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(usage(&app).await, (1000, 1));
    app.client
        .put_object(&b.id, "b/c", vec![2; 500], "text/plain")
        .await
        .unwrap();
    assert_eq!(usage(&app).await, (1500, 2));
    // Overwrite: the size changes, the count does not; the answer says it replaced.
    let replaced = TestApp::answer(
        app.request("PUT", "/v1/buckets/usage-bucket/objects/a")
            .body(vec![3; 10]),
    )
    .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(usage(&app).await, (510, 2));
    assert_eq!(app.client.get_object("usage-bucket", "a").await.unwrap(), vec![3; 10]);
    // Delete is idempotent.
    app.client.delete_object("usage-bucket", "a").await.unwrap();
    app.client.delete_object("usage-bucket", "a").await.unwrap();
    assert_eq!(usage(&app).await, (500, 1));
    app.call("GET", "/v1/buckets/usage-bucket/objects/a", Some(&app.admin_key), None)
        .await
        .problem(404, "object_not_found");
}

/// Sends one request with the path exactly as given (as `curl --path-as-is` does: URL
/// libraries remove `.` and `..` segments) and returns the status code and body.
async fn raw_request(app: &TestApp, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.admin_key,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&answer[9..12]).unwrap().parse().unwrap();
    (status, answer[split + 4..].to_vec())
}

#[tokio::test]
async fn keys_are_never_file_paths() {
    let app = TestApp::spawn().await;
    app.create_bucket("tricky-keys", "us-east-1").await;
    // Through a URL library: any UTF-8, percent-encoded.
    let keys = ["ünïcødé/ключ/🙂", "x?y=1&z", "trailing/", "a//b", "%2F-literal"];
    for (i, key) in keys.iter().enumerate() {
        app.client
            .put_object("tricky-keys", key, vec![i as u8; 10], "text/plain")
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            app.client.get_object("tricky-keys", key).await.unwrap(),
            vec![i as u8; 10],
            "{key}"
        );
    }
    // Sent as is: dot segments are just characters of the key.
    for key in ["../../etc/passwd", "a/./b/../c", ".."] {
        let (status, _) = raw_request(
            &app,
            "PUT",
            &format!("/v1/buckets/tricky-keys/objects/{key}"),
            key.as_bytes(),
        )
        .await;
        assert_eq!(status, 201, "{key}");
        let (status, body) = raw_request(&app, "GET", &format!("/v1/buckets/tricky-keys/objects/{key}"), b"").await;
        assert_eq!((status, body.as_slice()), (200, key.as_bytes()), "{key}");
    }
    let listed = app.client.list_objects("tricky-keys", &[]).await.unwrap();
    let mut names: Vec<String> = listed.data.iter().map(|o| o.key.clone()).collect();
    names.sort();
    let mut want: Vec<String> = keys
        .iter()
        .chain(["../../etc/passwd", "a/./b/../c", ".."].iter())
        .map(|k| k.to_string())
        .collect();
    want.sort();
    assert_eq!(names, want);
    // Nothing was written outside the blob folder, and no file is named after a key.
    let data = app.data_dir.path();
    assert!(!data.join("etc").exists() && !data.parent().unwrap().join("etc/passwd").exists());
    let blob_folder = data.join("blobs");
    let local_blobs = if app.config.blobs.url.is_none() {
        walk(&blob_folder)
    } else {
        Vec::new()
    };
    for entry in local_blobs {
        let name = entry.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.len() == 26 || name.len() == 2 || name == "tmp",
            "unexpected file {name}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[tokio::test]
async fn content_md5_is_checked_and_a_mismatch_stores_nothing() {
    let app = TestApp::spawn().await;
    app.create_bucket("digests", "us-east-1").await;
    use base64::Engine;
    let md5 = |b: &[u8]| {
        use md5::{Digest, Md5};
        base64::engine::general_purpose::STANDARD.encode(Md5::digest(b))
    };
    let ok = TestApp::answer(
        app.request("PUT", "/v1/buckets/digests/objects/good")
            .header("content-md5", md5(b"hello"))
            .body("hello"),
    )
    .await;
    assert_eq!(ok.status, 201);
    let bad = TestApp::answer(
        app.request("PUT", "/v1/buckets/digests/objects/bad")
            .header("content-md5", md5(b"other"))
            .body("hello"),
    )
    .await;
    let p = bad.problem(400, "bad_digest");
    assert_eq!(p["errors"][0]["param"], "Content-MD5");
    let malformed = TestApp::answer(
        app.request("PUT", "/v1/buckets/digests/objects/bad")
            .header("content-md5", "not-base64!")
            .body("hello"),
    )
    .await;
    malformed.problem(400, "validation_failed");
    app.call("GET", "/v1/buckets/digests/objects/bad", Some(&app.admin_key), None)
        .await
        .problem(404, "object_not_found");
    let bucket = app.client.get_bucket("digests").await.unwrap();
    assert_eq!((bucket.size_bytes, bucket.object_count), (5, 1));
    assert_eq!(blob_files(&app).await, 1, "the rejected body's blob was removed");
}

/// The number of blobs in the app's blob store.
/// Every blob stored: files (or S3 objects) and the small ones the metadata keeps.
pub async fn blob_files(app: &TestApp) -> usize {
    crate::helpers::stored_blob_count(&app.config.backends()).await
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_413_and_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.objects.max_object_bytes = 1000).await;
    app.create_bucket("small-objects", "us-east-1").await;
    assert_eq!(
        TestApp::answer(
            app.request("PUT", "/v1/buckets/small-objects/objects/fits")
                .body(vec![0; 1000])
        )
        .await
        .status,
        201
    );
    let declared = TestApp::answer(
        app.request("PUT", "/v1/buckets/small-objects/objects/big")
            .body(vec![0; 1001]),
    )
    .await;
    declared.problem(413, "object_too_large");
    // Without a length up front (chunked), the limit is enforced while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..5).map(|_| Ok(vec![1u8; 300])).collect();
    let streamed = TestApp::answer(
        app.request("PUT", "/v1/buckets/small-objects/objects/big")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))),
    )
    .await;
    streamed.problem(413, "object_too_large");
    app.call(
        "GET",
        "/v1/buckets/small-objects/objects/big",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(404, "object_not_found");
    assert_eq!(app.client.get_bucket("small-objects").await.unwrap().size_bytes, 1000);
    assert_eq!(blob_files(&app).await, 1);
    if app.config.blobs.url.is_none() {
        let temp_files = std::fs::read_dir(app.data_dir.path().join("blobs/tmp")).unwrap();
        assert_eq!(temp_files.count(), 0);
    }
}

#[tokio::test]
async fn bad_keys_missing_things_and_missing_scopes_are_refused() {
    let app = TestApp::spawn().await;
    app.create_bucket("guarded", "us-east-1").await;
    app.client
        .put_object("guarded", "k", b"v".to_vec(), "text/plain")
        .await
        .unwrap();
    let long_key = "k".repeat(1025);
    let p = app
        .call(
            "PUT",
            &format!("/v1/buckets/guarded/objects/{long_key}"),
            Some(&app.admin_key),
            None,
        )
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "key");
    for method in ["GET", "HEAD", "DELETE"] {
        let refused = app
            .call(
                method,
                &format!("/v1/buckets/guarded/objects/{long_key}"),
                Some(&app.admin_key),
                None,
            )
            .await;
        assert_eq!(refused.status, 400, "{method}");
    }
    app.call(
        "GET",
        "/v1/buckets/no-such-bucket/objects/k",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(404, "bucket_not_found");
    app.call(
        "PUT",
        "/v1/buckets/no-such-bucket/objects/k",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(404, "bucket_not_found");
    app.call("GET", "/v1/buckets/guarded/objects/missing", Some(&app.admin_key), None)
        .await
        .problem(404, "object_not_found");
    let invalid_header = TestApp::answer(
        app.request("PUT", "/v1/buckets/guarded/objects/x")
            .header("if-none-match", "\"abc\"")
            .body("x"),
    )
    .await;
    invalid_header.problem(400, "validation_failed");

    app.call("PUT", "/v1/buckets/guarded/objects/k", None, None)
        .await
        .problem(401, "unauthorized");
    app.call("DELETE", "/v1/buckets/guarded/objects/k", None, None)
        .await
        .problem(401, "unauthorized");
    app.call("GET", "/v1/buckets/guarded/objects", None, None)
        .await
        .problem(401, "unauthorized");
    let reader = app.key("storage:read").await;
    let writer = app.key("storage:write").await;
    app.call("PUT", "/v1/buckets/guarded/objects/k", Some(&reader), None)
        .await
        .problem(403, "insufficient_scope");
    app.call("DELETE", "/v1/buckets/guarded/objects/k", Some(&reader), None)
        .await
        .problem(403, "insufficient_scope");
    app.call("GET", "/v1/buckets/guarded/objects/k", Some(&writer), None)
        .await
        .problem(403, "insufficient_scope");
    app.call("GET", "/v1/buckets/guarded/objects", Some(&writer), None)
        .await
        .problem(403, "insufficient_scope");
    // A write-only key can add data it cannot read back.
    let w = app.client.with_key(writer);
    w.put_object("guarded", "from-backup-agent", b"x".to_vec(), "text/plain")
        .await
        .unwrap();
    assert!(w.get_object("guarded", "from-backup-agent").await.is_err());
    assert_eq!(
        app.client.get_object("guarded", "from-backup-agent").await.unwrap(),
        b"x"
    );
}

#[tokio::test]
async fn another_projects_objects_answer_404() {
    let app = TestApp::spawn().await;
    app.create_bucket("mine-with-objects", "us-east-1").await;
    app.client
        .put_object("mine-with-objects", "secret.txt", b"s".to_vec(), "text/plain")
        .await
        .unwrap();
    let (project, _) = app.other_project("intruders").await;
    let key = app.key_for(&project, "storage:read,storage:write").await;
    for (method, path) in [
        ("GET", "/v1/buckets/mine-with-objects/objects/secret.txt"),
        ("PUT", "/v1/buckets/mine-with-objects/objects/secret.txt"),
        ("DELETE", "/v1/buckets/mine-with-objects/objects/secret.txt"),
        ("GET", "/v1/buckets/mine-with-objects/objects"),
    ] {
        app.call(method, path, Some(&key), Some(json!({})))
            .await
            .problem(404, "bucket_not_found");
    }
    let head = TestApp::answer(
        app.http
            .head(format!(
                "{}/v1/buckets/mine-with-objects/objects/secret.txt",
                app.base_url
            ))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(head.status, 404);
    assert_eq!(
        app.client.get_object("mine-with-objects", "secret.txt").await.unwrap(),
        b"s"
    );
}

#[tokio::test]
async fn a_soft_deleted_bucket_keeps_its_objects_until_the_purge_removes_their_bytes() {
    let app = TestApp::spawn().await;
    app.create_bucket("kept-objects", "us-east-1").await;
    app.client
        .put_object("kept-objects", "one", vec![1; 100], "text/plain")
        .await
        .unwrap();
    app.client
        .put_object("kept-objects", "two", vec![2; 200], "text/plain")
        .await
        .unwrap();
    app.create_bucket("other-bucket", "us-east-1").await;
    app.client
        .put_object("other-bucket", "stays", vec![3; 50], "text/plain")
        .await
        .unwrap();
    assert_eq!(blob_files(&app).await, 3);

    app.client.delete_bucket("kept-objects").await.unwrap();
    app.call(
        "GET",
        "/v1/buckets/kept-objects/objects/one",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(409, "bucket_deleted");
    app.call(
        "PUT",
        "/v1/buckets/kept-objects/objects/three",
        Some(&app.admin_key),
        None,
    )
    .await
    .problem(409, "bucket_deleted");
    app.client.restore_bucket("kept-objects").await.unwrap();
    assert_eq!(
        app.client.get_object("kept-objects", "two").await.unwrap(),
        vec![2; 200]
    );
    let b = app.client.get_bucket("kept-objects").await.unwrap();
    assert_eq!((b.size_bytes, b.object_count), (300, 2));

    app.client.delete_bucket("kept-objects").await.unwrap();
    app.clock.advance(7 * 24 * 3600);
    for _ in 0..100 {
        if blob_files(&app).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        blob_files(&app).await,
        1,
        "the purge removes the bucket's bytes and only those"
    );
    app.call("GET", "/v1/buckets/kept-objects", Some(&app.admin_key), None)
        .await
        .problem(404, "bucket_not_found");
    assert_eq!(
        app.client.get_object("other-bucket", "stays").await.unwrap(),
        vec![3; 50]
    );
}

#[tokio::test]
async fn the_bytes_of_overwritten_and_deleted_objects_are_removed_in_the_background() {
    let app = TestApp::spawn().await;
    app.create_bucket("collected", "us-east-1").await;
    for i in 0..5u8 {
        app.client
            .put_object("collected", "same-key", vec![i; 64], "text/plain")
            .await
            .unwrap();
    }
    app.client
        .put_object("collected", "doomed", vec![9; 64], "text/plain")
        .await
        .unwrap();
    app.call(
        "DELETE",
        "/v1/buckets/collected/objects/doomed",
        Some(&app.admin_key),
        None,
    )
    .await;
    // The answers did not wait for the removals; the collector catches up on its own.
    for _ in 0..100 {
        if blob_files(&app).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(blob_files(&app).await, 1, "only the live object's bytes remain");
    assert_eq!(
        app.client.get_object("collected", "same-key").await.unwrap(),
        vec![4; 64]
    );
}

/// A blob that no object references (what a node that died between writing a blob and
/// committing its object leaves) is removed once it is older than the grace period, and not
/// before: with a shared store, a younger one may be another node's upload about to commit.
#[tokio::test]
async fn unreferenced_blobs_are_swept_once_older_than_the_grace_period() {
    let app = TestApp::spawn_with(|c| c.blobs.orphan_grace_seconds = Some(2)).await;
    app.create_bucket("swept", "us-east-1").await;
    let kept = TestApp::answer(app.request("PUT", "/v1/buckets/swept/objects/kept").body("referenced")).await;
    assert_eq!(kept.status, 201);
    let blobs = cloudnexus_store::open_blobs(&app.config.backends()).await.unwrap();
    let body = futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"nobody's"))]);
    blobs.write(futures_util::StreamExt::boxed(body), 100).await.unwrap();
    assert_eq!(blob_files(&app).await, 2);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        blob_files(&app).await,
        2,
        "an orphan younger than the grace period is kept"
    );
    let mut left = 2;
    for _ in 0..60 {
        left = blob_files(&app).await;
        if left == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 1,
        "the orphan is swept within a period after it ages past the grace"
    );
    let read = app
        .call("GET", "/v1/buckets/swept/objects/kept", Some(&app.admin_key), None)
        .await;
    assert_eq!((read.status.as_u16(), read.text.as_str()), (200, "referenced"));
}
