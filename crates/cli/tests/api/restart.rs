use crate::helpers::TestApp;
use cloudnexus_client::{CreateBucket, ListBuckets};

#[tokio::test]
async fn buckets_keys_and_cursors_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let reader = app.key("storage:read").await;
    let mut created = Vec::new();
    for i in 0..5 {
        app.clock.advance(1);
        created.push(
            app.client
                .create_bucket(&CreateBucket::new(format!("durable-{i}"), "eu-west-1").tag("env", "prod"))
                .await
                .unwrap(),
        );
    }
    app.client.delete_bucket("durable-4").await.unwrap();
    let first_page = app
        .client
        .list_buckets(&ListBuckets {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let cursor = first_page.pagination.next_cursor.clone().unwrap();

    app.restart().await;

    let all = app
        .client
        .list_buckets(&ListBuckets {
            include_deleted: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.pagination.total, 5);
    assert_eq!(all.data[..4], created[..4]);
    assert!(all.data[4].deleted_at.is_some());
    let by_tag = app
        .client
        .list_buckets(&ListBuckets {
            tags: vec!["env:prod".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_tag.pagination.total, 4);
    // Keys made before the restart still work, and so does a cursor minted before it.
    let next = app
        .client
        .with_key(reader)
        .list_buckets(&ListBuckets {
            limit: Some(2),
            cursor: Some(cursor),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(next.data, created[2..4]);
    assert_eq!(next.pagination.offset, 2);
}
