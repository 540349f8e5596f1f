//! Two projects never see or touch each other's buckets: another project's bucket answers
//! exactly as one that does not exist.

use crate::helpers::TestApp;
use cloudnexus_client::{CreateBucket, ListBuckets, UpdateBucket};
use serde_json::json;

#[tokio::test]
async fn projects_cannot_see_or_touch_each_others_buckets() {
    let app = TestApp::spawn().await;
    let (_, other) = app.other_project("other-team").await;
    let mine = app
        .client
        .create_bucket(&CreateBucket::new("mine-only", "us-east-1").tag("env", "prod"))
        .await
        .unwrap();
    let theirs = other
        .create_bucket(&CreateBucket::new("theirs-only", "us-east-1").tag("env", "prod"))
        .await
        .unwrap();

    // Listing shows each project its own buckets only, with its own totals.
    for (client, own) in [(&app.client, &mine), (&other, &theirs)] {
        for query in [
            ListBuckets::default(),
            ListBuckets {
                region: Some("us-east-1".into()),
                ..Default::default()
            },
            ListBuckets {
                tags: vec!["env:prod".into()],
                ..Default::default()
            },
            ListBuckets {
                include_deleted: true,
                ..Default::default()
            },
        ] {
            let page = client.list_buckets(&query).await.unwrap();
            assert_eq!(page.pagination.total, 1);
            assert_eq!(page.data, vec![own.clone()]);
        }
    }

    // Every route answers 404 for the other project's bucket, by id and by name, and nothing changes.
    let other_key = app
        .key_for(
            &app.store().await.find_project("other-team").await.unwrap().unwrap().id,
            "storage:read,storage:write",
        )
        .await;
    for reference in [mine.id.as_str(), mine.name.as_str()] {
        let path = format!("/v1/buckets/{reference}");
        app.call("GET", &path, Some(&other_key), None)
            .await
            .problem(404, "bucket_not_found");
        app.call("PATCH", &path, Some(&other_key), Some(json!({"public": true})))
            .await
            .problem(404, "bucket_not_found");
        app.call("DELETE", &path, Some(&other_key), None)
            .await
            .problem(404, "bucket_not_found");
        app.call("POST", &format!("{path}/restore"), Some(&other_key), None)
            .await
            .problem(404, "bucket_not_found");
    }
    let unknown = app
        .call("GET", "/v1/buckets/bkt_zzzzzzzzzz", Some(&other_key), None)
        .await
        .json();
    let foreign = app
        .call("GET", &format!("/v1/buckets/{}", mine.id), Some(&other_key), None)
        .await
        .json();
    assert_eq!(unknown["title"], foreign["title"]);
    assert_eq!(app.client.get_bucket(&mine.id).await.unwrap(), mine);

    // Names are global: the other project cannot take a name in use here.
    let p = other
        .create_bucket(&CreateBucket::new("mine-only", "eu-west-1"))
        .await
        .unwrap_err();
    assert_eq!(p.problem().unwrap().code, "bucket_name_taken");
    assert!(
        other
            .update_bucket("mine-only", &UpdateBucket::default())
            .await
            .is_err()
    );
}
