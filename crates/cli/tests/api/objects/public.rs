//! Public buckets serve GET and HEAD of their objects without credentials; nothing else is
//! ever anonymous.

use crate::helpers::TestApp;
use cloudnexus_client::{CreateBucket, UpdateBucket};

#[tokio::test]
async fn public_objects_are_readable_without_credentials_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    app.client
        .create_bucket(&CreateBucket::new("open-assets", "us-east-1").public(true))
        .await
        .unwrap();
    app.create_bucket("closed-assets", "us-east-1").await;
    app.client
        .put_object("open-assets", "logo.svg", b"<svg/>".to_vec(), "image/svg+xml")
        .await
        .unwrap();
    app.client
        .put_object("closed-assets", "logo.svg", b"<svg/>".to_vec(), "image/svg+xml")
        .await
        .unwrap();

    let anonymous = app
        .call("GET", "/v1/buckets/open-assets/objects/logo.svg", None, None)
        .await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.text, "<svg/>");
    assert_eq!(anonymous.header("content-type"), Some("image/svg+xml"));
    let head = app
        .call("HEAD", "/v1/buckets/open-assets/objects/logo.svg", None, None)
        .await;
    assert_eq!(head.status, 200);
    app.call("GET", "/v1/buckets/open-assets/objects/missing", None, None)
        .await
        .problem(404, "object_not_found");

    // Writes, deletes and listings are never anonymous, even on a public bucket.
    app.call("PUT", "/v1/buckets/open-assets/objects/logo.svg", None, None)
        .await
        .problem(401, "unauthorized");
    app.call("DELETE", "/v1/buckets/open-assets/objects/logo.svg", None, None)
        .await
        .problem(401, "unauthorized");
    app.call("GET", "/v1/buckets/open-assets/objects", None, None)
        .await
        .problem(401, "unauthorized");
    // A private bucket and a bucket that does not exist answer the same.
    app.call("GET", "/v1/buckets/closed-assets/objects/logo.svg", None, None)
        .await
        .problem(401, "unauthorized");
    app.call("GET", "/v1/buckets/nobody-has-this/objects/logo.svg", None, None)
        .await
        .problem(401, "unauthorized");
    // A bad credential is refused, not treated as anonymous.
    app.call("GET", "/v1/buckets/open-assets/objects/logo.svg", Some("cnx_bad"), None)
        .await
        .problem(401, "invalid_token");

    // Making it private closes it at once.
    app.client
        .update_bucket(
            "open-assets",
            &UpdateBucket {
                public: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.call("GET", "/v1/buckets/open-assets/objects/logo.svg", None, None)
        .await
        .problem(401, "unauthorized");
}
