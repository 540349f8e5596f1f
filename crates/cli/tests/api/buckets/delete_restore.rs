use crate::helpers::TestApp;
use cloudnexus_client::{CreateBucket, ListBuckets};

#[tokio::test]
async fn delete_soft_deletes_and_restore_brings_the_bucket_back() {
    let app = TestApp::spawn().await;
    let b = app
        .client
        .create_bucket(&CreateBucket::new("round-trip", "us-west-2").tag("env", "prod"))
        .await
        .unwrap();
    let deleted = app.client.delete_bucket(&b.id).await.unwrap();
    assert_eq!(deleted.deleted_at.as_deref(), Some("2024-08-12T14:32:00Z"));
    assert_eq!(deleted.purge_at.as_deref(), Some("2024-08-19T14:32:00Z"));

    let live = app.client.list_buckets(&ListBuckets::default()).await.unwrap();
    assert_eq!(live.pagination.total, 0);
    let with_deleted = app
        .client
        .list_buckets(&ListBuckets {
            include_deleted: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(with_deleted.pagination.total, 1);
    assert_eq!(with_deleted.data[0].deleted_at, deleted.deleted_at);

    let restored = app.client.restore_bucket("round-trip").await.unwrap();
    assert_eq!(restored.deleted_at, None);
    assert_eq!(restored.purge_at, None);
    assert_eq!(restored.tags, b.tags);
    assert_eq!(restored.created_at, b.created_at);
    let live = app
        .client
        .list_buckets(&ListBuckets {
            tags: vec!["env:prod".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(live.pagination.total, 1);
}

#[tokio::test]
async fn a_soft_deleted_name_stays_taken() {
    let app = TestApp::spawn().await;
    app.create_bucket("still-mine", "us-east-1").await;
    app.client.delete_bucket("still-mine").await.unwrap();
    let body = serde_json::json!({"name": "still-mine", "region": "us-east-1"});
    app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .problem(409, "bucket_name_taken");
}

#[tokio::test]
async fn deleting_twice_is_409_and_restoring_a_live_bucket_is_409() {
    let app = TestApp::spawn().await;
    app.create_bucket("twice", "us-east-1").await;
    app.call("POST", "/v1/buckets/twice/restore", Some(&app.admin_key), None)
        .await
        .problem(409, "bucket_not_deleted");
    app.client.delete_bucket("twice").await.unwrap();
    app.call("DELETE", "/v1/buckets/twice", Some(&app.admin_key), None)
        .await
        .problem(409, "bucket_deleted");
}

#[tokio::test]
async fn delete_and_restore_of_unknown_buckets_are_404() {
    let app = TestApp::spawn().await;
    app.call("DELETE", "/v1/buckets/bkt_0000000000", Some(&app.admin_key), None)
        .await
        .problem(404, "bucket_not_found");
    app.call("POST", "/v1/buckets/ghost-bucket/restore", Some(&app.admin_key), None)
        .await
        .problem(404, "bucket_not_found");
}

#[tokio::test]
async fn retention_comes_from_configuration() {
    let app = TestApp::spawn_with(|c| c.buckets.soft_delete_retention_seconds = 3600).await;
    app.create_bucket("short-lived", "us-east-1").await;
    let deleted = app.client.delete_bucket("short-lived").await.unwrap();
    assert_eq!(deleted.purge_at.as_deref(), Some("2024-08-12T15:32:00Z"));
}
