use crate::helpers::TestApp;

#[tokio::test]
async fn a_bucket_is_found_by_id_and_by_name() {
    let app = TestApp::spawn().await;
    let created = app.create_bucket("find-me", "eu-west-1").await;
    assert_eq!(app.client.get_bucket(&created.id).await.unwrap(), created);
    assert_eq!(app.client.get_bucket("find-me").await.unwrap(), created);
}

#[tokio::test]
async fn an_unknown_bucket_is_404() {
    let app = TestApp::spawn().await;
    for path in ["/v1/buckets/bkt_0000000000", "/v1/buckets/no-such-bucket"] {
        app.call("GET", path, Some(&app.admin_key), None)
            .await
            .problem(404, "bucket_not_found");
    }
}

#[tokio::test]
async fn a_malformed_bucket_reference_is_400_naming_the_segment() {
    let app = TestApp::spawn().await;
    for path in ["/v1/buckets/bkt_short", "/v1/buckets/Not_A_Name", "/v1/buckets/ab"] {
        let p = app
            .call("GET", path, Some(&app.admin_key), None)
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "bucket", "{path}");
    }
}

#[tokio::test]
async fn a_soft_deleted_bucket_is_404_and_listed_only_with_include_deleted() {
    let app = TestApp::spawn().await;
    let b = app.create_bucket("going-away", "us-east-1").await;
    app.clock.advance(60);
    app.client.delete_bucket(&b.id).await.unwrap();
    for reference in [b.id.as_str(), "going-away"] {
        app.call("GET", &format!("/v1/buckets/{reference}"), Some(&app.admin_key), None)
            .await
            .problem(404, "bucket_not_found");
    }
    let listed = app
        .call(
            "GET",
            "/v1/buckets?include=deleted&prefix=going-away",
            Some(&app.admin_key),
            None,
        )
        .await
        .json();
    assert_eq!(listed["data"][0]["id"], b.id.as_str());
    assert_eq!(listed["data"][0]["deleted_at"], "2024-08-12T14:33:00Z");
    assert_eq!(listed["data"][0]["purge_at"], "2024-08-19T14:33:00Z");
    // Restoring brings the bucket back to a plain GET, exactly as it was.
    app.client.restore_bucket(&b.id).await.unwrap();
    assert_eq!(app.client.get_bucket("going-away").await.unwrap(), b);
}

#[tokio::test]
async fn get_takes_no_parameters_and_names_each_one_sent() {
    let app = TestApp::spawn().await;
    app.create_bucket("strict-get", "us-east-1").await;
    for (query, param) in [("include=deleted", "include"), ("limit=5", "limit")] {
        let p = app
            .call(
                "GET",
                &format!("/v1/buckets/strict-get?{query}"),
                Some(&app.admin_key),
                None,
            )
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], param, "{query}");
    }
}
