use crate::helpers::TestApp;
use serde_json::json;

#[tokio::test]
async fn create_answers_201_with_the_reference_shape_and_a_location() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "prod-assets-us-east", "region": "us-east-1", "tags": {"env": "production", "team": "frontend"}});
    let answer = app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(body)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let b = answer.json();
    let id = b["id"].as_str().unwrap();
    assert_eq!(answer.header("location"), Some(format!("/v1/buckets/{id}").as_str()));
    assert!(id.starts_with("bkt_") && id.len() == 14);
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "region",
            "storage_class",
            "created_at",
            "size_bytes",
            "object_count",
            "public",
            "tags"
        ]
    );
    assert_eq!(b["name"], "prod-assets-us-east");
    assert_eq!(b["region"], "us-east-1");
    assert_eq!(b["storage_class"], "STANDARD");
    assert_eq!(b["created_at"], "2024-08-12T14:32:00Z");
    assert_eq!(b["size_bytes"], 0);
    assert_eq!(b["object_count"], 0);
    assert_eq!(b["public"], false);
    assert_eq!(b["tags"], json!({"env": "production", "team": "frontend"}));
}

#[tokio::test]
async fn create_takes_storage_class_and_public() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "backup-snapshots", "region": "eu-west-2", "storage_class": "GLACIER", "public": true});
    let b = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .json();
    assert_eq!(b["storage_class"], "GLACIER");
    assert_eq!(b["public"], true);
    assert_eq!(b["tags"], json!({}));
}

#[tokio::test]
async fn create_rejects_each_broken_name_rule_naming_it() {
    let app = TestApp::spawn().await;
    let cases = [
        ("ab", "between 3 and 63"),
        ("Upper-Case", "lowercase"),
        ("under_score", "lowercase"),
        ("-leading", "start and end"),
        ("two..dots", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--punycode", "reserved prefix"),
        ("bucket-s3alias", "reserved suffix"),
    ];
    for (name, rule) in cases {
        let answer = app
            .call(
                "POST",
                "/v1/buckets",
                Some(&app.admin_key),
                Some(json!({"name": name, "region": "us-east-1"})),
            )
            .await;
        let p = answer.problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "name", "{name}");
        assert!(p["errors"][0]["detail"].as_str().unwrap().contains(rule), "{name}: {p}");
    }
}

#[tokio::test]
async fn create_requires_name_and_region_and_lists_every_problem() {
    let app = TestApp::spawn().await;
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(json!({})))
        .await
        .problem(400, "validation_failed");
    let params: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["param"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["name", "region"]);
    assert!(p["errors"][1]["detail"].as_str().unwrap().contains("us-east-1"));
}

#[tokio::test]
async fn create_rejects_an_unknown_region_listing_the_valid_ones() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "my-bucket", "region": "mars-north-1"});
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .problem(400, "validation_failed");
    let detail = p["errors"][0]["detail"].as_str().unwrap();
    for r in ["us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-1"] {
        assert!(detail.contains(r), "{detail}");
    }
}

#[tokio::test]
async fn regions_come_from_configuration() {
    let app = TestApp::spawn_with(|c| c.buckets.regions = vec!["moon-base-1".into()]).await;
    app.create_bucket("lunar-bucket", "moon-base-1").await;
    let body = json!({"name": "earth-bucket", "region": "us-east-1"});
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .problem(400, "validation_failed");
    assert!(p["detail"].as_str().unwrap().contains("moon-base-1"));
}

#[tokio::test]
async fn create_rejects_an_unknown_storage_class() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "my-bucket", "region": "us-east-1", "storage_class": "COLD"});
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .problem(400, "validation_failed");
    assert_eq!(p["errors"][0]["param"], "storage_class");
    assert!(p["detail"].as_str().unwrap().contains("STANDARD, INFREQUENT, GLACIER"));
}

#[tokio::test]
async fn create_enforces_tag_limits() {
    let app = TestApp::spawn().await;
    let many: serde_json::Map<String, serde_json::Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        (json!({"Env": "x"}), "starting with a letter"),
        (json!({"1env": "x"}), "starting with a letter"),
        (json!({"env": "x".repeat(257)}), "at most 256"),
        (json!({"env": "a\u{0007}b"}), "control characters"),
        (serde_json::Value::Object(many), "at most 50"),
    ];
    for (tags, rule) in cases {
        let body = json!({"name": "tagged-bucket", "region": "us-east-1", "tags": tags});
        let p = app
            .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "tags");
        assert!(p["detail"].as_str().unwrap().contains(rule), "{rule}: {p}");
    }
    let fifty: serde_json::Map<String, serde_json::Value> = (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let body = json!({"name": "tagged-bucket", "region": "us-east-1", "tags": fifty});
    assert_eq!(
        app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn create_rejects_a_taken_name_with_409() {
    let app = TestApp::spawn().await;
    app.create_bucket("shared-name", "us-east-1").await;
    let body = json!({"name": "shared-name", "region": "eu-west-1"});
    let p = app
        .call("POST", "/v1/buckets", Some(&app.admin_key), Some(body))
        .await
        .problem(409, "bucket_name_taken");
    assert!(p["detail"].as_str().unwrap().contains("shared-name"));
}

#[tokio::test]
async fn a_failed_create_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_bucket("only-one", "us-east-1").await;
    let bad = json!({"name": "only-one", "region": "us-east-1", "tags": {"env": "x"}});
    app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(bad))
        .await
        .problem(409, "bucket_name_taken");
    let bad = json!({"name": "second", "region": "us-east-1", "tags": {"Bad": "x"}});
    app.call("POST", "/v1/buckets", Some(&app.admin_key), Some(bad))
        .await
        .problem(400, "validation_failed");
    let list = app.client.list_buckets(&Default::default()).await.unwrap();
    assert_eq!(list.pagination.total, 1);
    assert_eq!(list.data.len(), 1);
    assert!(list.data[0].tags.is_empty());
    let tagged = app
        .client
        .list_buckets(&cloudnexus_client::ListBuckets {
            tags: vec!["env".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tagged.pagination.total, 0);
}
