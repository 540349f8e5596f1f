use crate::helpers::TestApp;
use cloudnexus_client::ListBuckets;
use std::time::Duration;

/// Polls (for at most 10 s) until `check` holds; the purge task runs every second in tests.
async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not reached within 10 s");
}

#[tokio::test]
async fn a_bucket_is_purged_after_the_retention_and_its_name_freed() {
    let app = TestApp::spawn().await;
    let b = app.create_bucket("purge-me", "us-east-1").await;
    app.create_bucket("keep-me", "us-east-1").await;
    app.client.delete_bucket("purge-me").await.unwrap();

    // One second short of the retention: still there, still restorable.
    app.clock.advance(7 * 24 * 3600 - 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let listed_with_deleted = || async {
        app.client
            .list_buckets(&ListBuckets {
                include_deleted: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .pagination
            .total
    };
    assert_eq!(listed_with_deleted().await, 2);

    app.clock.advance(1);
    eventually(|| async { listed_with_deleted().await == 1 }).await;
    app.call("POST", "/v1/buckets/purge-me/restore", Some(&app.admin_key), None)
        .await
        .problem(404, "bucket_not_found");

    let all = app
        .client
        .list_buckets(&ListBuckets {
            include_deleted: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.pagination.total, 1);
    assert_eq!(all.data[0].name, "keep-me");

    // The name is free again, for any project.
    let (_, other) = app.other_project("second").await;
    let reborn = other
        .create_bucket(&cloudnexus_client::CreateBucket::new("purge-me", "eu-west-1"))
        .await
        .unwrap();
    assert_ne!(reborn.id, b.id);
}

#[tokio::test]
async fn a_restored_bucket_is_not_purged() {
    let app = TestApp::spawn().await;
    app.create_bucket("saved-in-time", "us-east-1").await;
    app.client.delete_bucket("saved-in-time").await.unwrap();
    app.clock.advance(3600);
    app.client.restore_bucket("saved-in-time").await.unwrap();
    app.clock.advance(30 * 24 * 3600);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        app.client
            .get_bucket("saved-in-time")
            .await
            .unwrap()
            .deleted_at
            .is_none()
    );
}
