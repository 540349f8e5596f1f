//! Listing objects: prefix, delimiter with common prefixes, pages and cursors.

use crate::helpers::TestApp;

async fn setup() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_bucket("tree", "us-east-1").await;
    for key in [
        "a.txt",
        "docs/x.md",
        "docs/y.md",
        "docs/deep/z.md",
        "img/1.png",
        "img/2.png",
        "readme",
        "zeta/q",
    ] {
        app.client
            .put_object("tree", key, key.as_bytes().to_vec(), "text/plain")
            .await
            .unwrap();
    }
    app
}

#[tokio::test]
async fn lists_in_key_order_with_prefix_and_delimiter() {
    let app = setup().await;
    let all = app.client.list_objects("tree", &[]).await.unwrap();
    let keys: Vec<&str> = all.data.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "a.txt",
            "docs/deep/z.md",
            "docs/x.md",
            "docs/y.md",
            "img/1.png",
            "img/2.png",
            "readme",
            "zeta/q"
        ]
    );
    assert_eq!(all.data[0].size_bytes, 5);
    assert_eq!(all.pagination.next_cursor, None);

    let top = app.client.list_objects("tree", &[("delimiter", "/")]).await.unwrap();
    assert_eq!(
        top.data.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        ["a.txt", "readme"]
    );
    assert_eq!(top.common_prefixes, ["docs/", "img/", "zeta/"]);

    let docs = app
        .client
        .list_objects("tree", &[("prefix", "docs/"), ("delimiter", "/")])
        .await
        .unwrap();
    assert_eq!(
        docs.data.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        ["docs/x.md", "docs/y.md"]
    );
    assert_eq!(docs.common_prefixes, ["docs/deep/"]);
}

#[tokio::test]
async fn pages_follow_cursors_across_common_prefixes() {
    let app = setup().await;
    let mut seen_keys = Vec::new();
    let mut seen_prefixes = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut q = vec![("delimiter", "/"), ("limit", "2")];
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let page = app.client.list_objects("tree", &q).await.unwrap();
        assert!(page.data.len() + page.common_prefixes.len() <= 2);
        seen_keys.extend(page.data.into_iter().map(|o| o.key));
        seen_prefixes.extend(page.common_prefixes);
        match page.pagination.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen_keys, ["a.txt", "readme"]);
    assert_eq!(seen_prefixes, ["docs/", "img/", "zeta/"]);
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let app = setup().await;
    // Prefixes and delimiters are limited in characters, as the document states them (`é` is
    // two bytes): 1024 and 32.
    let long_prefix = format!("prefix={}", "%C3%A9".repeat(1024) + "p");
    let long_delimiter = format!("delimiter={}", "%C3%A9".repeat(32) + "d");
    for (q, param) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("colour=red", "colour"),
        ("delimiter=", "delimiter"),
        (long_delimiter.as_str(), "delimiter"),
        (long_prefix.as_str(), "prefix"),
        ("prefix=a&prefix=b", "prefix"),
        ("cursor=forged", "cursor"),
    ] {
        let p = app
            .call(
                "GET",
                &format!("/v1/buckets/tree/objects?{q}"),
                Some(&app.admin_key),
                None,
            )
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], param, "{q}");
    }
    let longest = format!(
        "/v1/buckets/tree/objects?prefix={}&delimiter={}",
        "%C3%A9".repeat(1024),
        "%C3%A9".repeat(32)
    );
    let page = app.call("GET", &longest, Some(&app.admin_key), None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.json()["data"], serde_json::json!([]));
    let page = app.client.list_objects("tree", &[("limit", "1")]).await.unwrap();
    let cursor = page.pagination.next_cursor.unwrap();
    let p = app
        .call(
            "GET",
            &format!("/v1/buckets/tree/objects?prefix=docs/&cursor={cursor}"),
            Some(&app.admin_key),
            None,
        )
        .await
        .problem(400, "validation_failed");
    assert!(p["detail"].as_str().unwrap().contains("prefix"));
}
