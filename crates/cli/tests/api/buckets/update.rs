use crate::helpers::TestApp;
use cloudnexus_client::{ListBuckets, UpdateBucket};
use serde_json::json;

#[tokio::test]
async fn patch_replaces_tags_and_changes_public_and_storage_class() {
    let app = TestApp::spawn().await;
    let b = app
        .client
        .create_bucket(
            &cloudnexus_client::CreateBucket::new("patch-me", "us-east-1")
                .tag("env", "dev")
                .tag("team", "a"),
        )
        .await
        .unwrap();
    let body = json!({"tags": {"env": "production"}, "public": true, "storage_class": "INFREQUENT"});
    let answer = app
        .call(
            "PATCH",
            &format!("/v1/buckets/{}", b.id),
            Some(&app.admin_key),
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let after = answer.json();
    assert_eq!(after["tags"], json!({"env": "production"}));
    assert_eq!(after["public"], true);
    assert_eq!(after["storage_class"], "INFREQUENT");
    assert_eq!(after["name"], "patch-me");
    let again = app.client.get_bucket("patch-me").await.unwrap();
    assert_eq!(again.tags.len(), 1);
    assert!(again.public);
    // The tag filters follow the new tags.
    let by_team = app
        .client
        .list_buckets(&ListBuckets {
            tags: vec!["team".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_team.pagination.total, 0);
    let by_env = app
        .client
        .list_buckets(&ListBuckets {
            tags: vec!["env:production".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_env.pagination.total, 1);
}

#[tokio::test]
async fn patch_with_absent_fields_leaves_them_unchanged() {
    let app = TestApp::spawn().await;
    let b = app
        .client
        .create_bucket(
            &cloudnexus_client::CreateBucket::new("keep-me", "us-east-1")
                .tag("env", "dev")
                .public(true),
        )
        .await
        .unwrap();
    let after = app
        .client
        .update_bucket(
            &b.name,
            &UpdateBucket {
                storage_class: Some("GLACIER".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.tags, b.tags);
    assert!(after.public);
    assert_eq!(after.storage_class, "GLACIER");
}

#[tokio::test]
async fn patch_refuses_name_and_region_changes() {
    let app = TestApp::spawn().await;
    app.create_bucket("fixed-name", "us-east-1").await;
    let p = app
        .call(
            "PATCH",
            "/v1/buckets/fixed-name",
            Some(&app.admin_key),
            Some(json!({"name": "new-name", "region": "eu-west-1"})),
        )
        .await
        .problem(400, "validation_failed");
    let params: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["param"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["name", "region"]);
    assert!(p["detail"].as_str().unwrap().contains("cannot be changed"));
}

#[tokio::test]
async fn patch_validates_tags_and_storage_class_and_changes_nothing_on_error() {
    let app = TestApp::spawn().await;
    app.create_bucket("validate-me", "us-east-1").await;
    let body = json!({"tags": {"Bad Key": "x"}, "storage_class": "ARCHIVE", "public": true});
    let p = app
        .call("PATCH", "/v1/buckets/validate-me", Some(&app.admin_key), Some(body))
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    let b = app.client.get_bucket("validate-me").await.unwrap();
    assert!(!b.public);
    assert_eq!(b.storage_class, "STANDARD");
}

#[tokio::test]
async fn patch_of_an_unknown_bucket_is_404_and_of_a_deleted_one_409() {
    let app = TestApp::spawn().await;
    app.call(
        "PATCH",
        "/v1/buckets/nothing-here",
        Some(&app.admin_key),
        Some(json!({"public": true})),
    )
    .await
    .problem(404, "bucket_not_found");
    app.create_bucket("deleted-one", "us-east-1").await;
    app.client.delete_bucket("deleted-one").await.unwrap();
    let p = app
        .call(
            "PATCH",
            "/v1/buckets/deleted-one",
            Some(&app.admin_key),
            Some(json!({"public": true})),
        )
        .await
        .problem(409, "bucket_deleted");
    assert!(p["detail"].as_str().unwrap().contains("restore"));
}
