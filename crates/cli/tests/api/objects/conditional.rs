//! Range reads and conditional requests.

use crate::helpers::TestApp;

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.create_bucket("ranges", "us-east-1").await;
    let info = app
        .client
        .put_object("ranges", "fifty", (0..50u8).collect(), "application/octet-stream")
        .await
        .unwrap();
    (app, info.etag)
}

#[tokio::test]
async fn ranges_answer_206_and_unsatisfiable_ones_416() {
    let (app, _) = setup().await;
    let get = |range: &'static str| {
        let app = &app;
        async move {
            TestApp::answer(
                app.request("GET", "/v1/buckets/ranges/objects/fifty")
                    .header("range", range),
            )
            .await
        }
    };
    let a = get("bytes=0-9").await;
    assert_eq!(a.status, 206);
    assert_eq!(a.header("content-range"), Some("bytes 0-9/50"));
    assert_eq!(a.header("content-length"), Some("10"));
    let full: Vec<u8> = (0..50u8).collect();
    let bytes = app
        .request("GET", "/v1/buckets/ranges/objects/fifty")
        .header("range", "bytes=40-")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), full[40..]);
    let bytes = app
        .request("GET", "/v1/buckets/ranges/objects/fifty")
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), full[45..]);
    let clipped = get("bytes=45-1000").await;
    assert_eq!(clipped.header("content-range"), Some("bytes 45-49/50"));

    let beyond = get("bytes=50-").await;
    beyond.problem(416, "range_not_satisfiable");
    assert_eq!(beyond.header("content-range"), Some("bytes */50"));
    // Several ranges, or other units, are ignored: the whole object.
    assert_eq!(get("bytes=0-1,5-6").await.status, 200);
    assert_eq!(get("items=0-1").await.status, 200);
}

#[tokio::test]
async fn conditional_reads() {
    let (app, etag) = setup().await;
    let get = |name: &'static str, value: String| {
        let app = &app;
        async move {
            TestApp::answer(
                app.request("GET", "/v1/buckets/ranges/objects/fifty")
                    .header(name, value),
            )
            .await
        }
    };
    let not_modified = get("if-none-match", etag.clone()).await;
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert!(not_modified.text.is_empty());
    assert_eq!(get("if-none-match", "\"other\"".into()).await.status, 200);
    assert_eq!(get("if-none-match", format!("W/{etag}")).await.status, 304);
    assert_eq!(get("if-match", etag.clone()).await.status, 200);
    get("if-match", "\"other\"".into())
        .await
        .problem(412, "precondition_failed");
    // Stored at 2024-08-12T14:32:00Z.
    assert_eq!(
        get("if-modified-since", "Mon, 12 Aug 2024 14:32:00 GMT".into())
            .await
            .status,
        304
    );
    assert_eq!(
        get("if-modified-since", "Mon, 12 Aug 2024 14:31:59 GMT".into())
            .await
            .status,
        200
    );
    get("if-unmodified-since", "Mon, 12 Aug 2024 14:31:59 GMT".into())
        .await
        .problem(412, "precondition_failed");
    // If-None-Match wins over If-Modified-Since.
    let both = TestApp::answer(
        app.request("GET", "/v1/buckets/ranges/objects/fifty")
            .header("if-none-match", "\"other\"")
            .header("if-modified-since", "Mon, 12 Aug 2024 14:32:00 GMT"),
    )
    .await;
    assert_eq!(both.status, 200);
}

#[tokio::test]
async fn create_only_and_compare_and_swap_puts() {
    let (app, etag) = setup().await;
    let put = |name: &'static str, value: String, body: &'static str| {
        let app = &app;
        async move {
            TestApp::answer(
                app.request("PUT", "/v1/buckets/ranges/objects/fifty")
                    .header(name, value)
                    .body(body),
            )
            .await
        }
    };
    put("if-none-match", "*".into(), "new")
        .await
        .problem(412, "precondition_failed");
    put("if-match", "\"stale\"".into(), "new")
        .await
        .problem(412, "precondition_failed");
    assert_eq!(
        app.client.get_object("ranges", "fifty").await.unwrap(),
        (0..50u8).collect::<Vec<_>>()
    );
    assert_eq!(put("if-match", etag, "swapped").await.status, 200);
    assert_eq!(app.client.get_object("ranges", "fifty").await.unwrap(), b"swapped");
    let created = TestApp::answer(
        app.request("PUT", "/v1/buckets/ranges/objects/fresh")
            .header("if-none-match", "*")
            .body("first"),
    )
    .await;
    assert_eq!(created.status, 201);
    // The replaced body is removed by the collector in the background, soon after.
    let mut stored = 0;
    for _ in 0..50 {
        stored = crate::objects::put_get::blob_files(&app).await;
        if stored == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stored, 2, "replaced and refused bodies leave no blob behind");
}
