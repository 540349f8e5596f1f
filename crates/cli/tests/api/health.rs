use crate::helpers::TestApp;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer_without_credentials() {
    let app = TestApp::spawn().await;
    let h = app.call("GET", "/healthz", None, None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    let r = app.call("GET", "/readyz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ready");
}

#[tokio::test]
async fn metrics_are_exposed_for_prometheus() {
    let app = TestApp::spawn().await;
    app.call("GET", "/v1/buckets", Some(&app.admin_key), None).await;
    app.call("BREW", "/v1/buckets", Some(&app.admin_key), None).await;
    let m = app.call("GET", "/metrics", None, None).await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("http_requests_total"), "{}", m.text);
    // Labelled with the route the router matched; unusual methods share one label.
    let listed = m
        .text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains(r#"route="/v1/buckets""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no counter for GET /v1/buckets: {}", m.text));
    assert!(listed.contains(r#"method="GET""#), "{listed}");
    assert!(m.text.contains(r#"method="other""#), "{}", m.text);
    assert!(m.text.contains("http_request_duration_seconds"), "{}", m.text);
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc = app.call("GET", "/v1/openapi.json", None, None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/v1/buckets", &["get", "post"][..]),
        ("/v1/get-/buckets", &["get"][..]),
        ("/v1/buckets/{bucket}", &["get", "patch", "delete"][..]),
        ("/v1/buckets/{bucket}/restore", &["post"][..]),
        ("/v1/auth/tokens", &["post"][..]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "{m} {path} missing");
        }
    }
    let params: Vec<&str> = doc["paths"]["/v1/buckets"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        ["limit", "offset", "cursor", "prefix", "region", "tag", "include"]
    );
    // Every operation states the scope it needs.
    for (path, method, scope) in [
        ("/v1/buckets", "get", Some("storage:read")),
        ("/v1/get-/buckets", "get", Some("storage:read")),
        ("/v1/buckets/{bucket}", "get", Some("storage:read")),
        ("/v1/buckets", "post", Some("storage:write")),
        ("/v1/buckets/{bucket}", "patch", Some("storage:write")),
        ("/v1/buckets/{bucket}", "delete", Some("storage:write")),
        ("/v1/buckets/{bucket}/restore", "post", Some("storage:write")),
        ("/v1/auth/tokens", "post", None),
    ] {
        let security = &doc["paths"][path][method]["security"];
        let want = scope.map_or(serde_json::json!([]), |s| serde_json::json!([s]));
        assert_eq!(security[0]["bearer"], want, "{method} {path}");
        assert_eq!(security[1]["api_key"], want, "{method} {path}");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("bearer") && schemes.contains_key("api_key"));
}

#[tokio::test]
async fn the_interactive_docs_page_is_served_by_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.call("GET", "/docs/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("swagger"),
        "{}",
        &page.text[..page.text.len().min(500)]
    );
    // Its assets come from the binary, not from the internet.
    let init = app.call("GET", "/docs/swagger-initializer.js", None, None).await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/v1/openapi.json"));
    let bundle = app.call("GET", "/docs/swagger-ui-bundle.js", None, None).await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
}

#[tokio::test]
async fn the_document_states_the_constraints_the_server_enforces() {
    let app = TestApp::spawn_with(|c| c.buckets.regions = vec!["us-east-1".into(), "eu-north-1".into()]).await;
    let doc = app.call("GET", "/v1/openapi.json", None, None).await.json();
    let parameter = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))
            .clone()
    };
    // `{bucket}` is an id or a name, by pattern, everywhere it appears.
    let bucket = parameter("/v1/buckets/{bucket}", "get", "bucket");
    let choices = bucket["schema"]["anyOf"].as_array().unwrap();
    assert_eq!(choices[0]["pattern"], "^bkt_[a-z0-9]{10}$");
    assert_eq!(
        (choices[1]["minLength"].as_u64(), choices[1]["maxLength"].as_u64()),
        (Some(3), Some(63))
    );
    assert!(choices[1]["pattern"].as_str().unwrap().contains("xn--"));
    assert_eq!(
        parameter("/v1/buckets/{bucket}/objects/{key}", "head", "bucket")["schema"],
        bucket["schema"]
    );
    // The configured regions, as an enum, in the filter and in the create body.
    for path in ["/v1/buckets", "/v1/get-/buckets"] {
        assert_eq!(
            parameter(path, "get", "region")["schema"]["enum"],
            json!(["eu-north-1", "us-east-1"])
        );
        assert_eq!(parameter(path, "get", "include")["schema"]["enum"], json!(["deleted"]));
        assert_eq!(parameter(path, "get", "cursor")["schema"]["minLength"], 1);
        assert_eq!(parameter(path, "get", "prefix")["schema"]["maxLength"], 63);
        assert!(
            parameter(path, "get", "tag")["schema"]["items"]["pattern"]
                .as_str()
                .unwrap()
                .starts_with("^[a-z]")
        );
    }
    // Object keys, prefixes and delimiters: the server's limits in bytes, as `maxLength`.
    let key = parameter("/v1/buckets/{bucket}/objects/{key}", "get", "key");
    assert_eq!(
        (key["schema"]["minLength"].as_u64(), key["schema"]["maxLength"].as_u64()),
        (Some(1), Some(1024))
    );
    let objects = "/v1/buckets/{bucket}/objects";
    assert_eq!(parameter(objects, "get", "prefix")["schema"]["maxLength"], 1024);
    let delimiter = &parameter(objects, "get", "delimiter")["schema"];
    assert_eq!(
        (delimiter["minLength"].as_u64(), delimiter["maxLength"].as_u64()),
        (Some(1), Some(32))
    );
    // The headers an object is served with: visible ASCII, at most 1024 once the spaces and
    // tabs around the value (which HTTP parsers drop) are taken away.
    for name in [
        "Cache-Control",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
    ] {
        assert_eq!(
            parameter("/v1/buckets/{bucket}/objects/{key}", "put", name)["schema"]["pattern"],
            "^[\\t ]*[\\t\\u0020-\\u007e]{0,1024}[\\t ]*$",
            "{name}"
        );
    }
    let create = &doc["components"]["schemas"]["CreateBucketRequest"];
    assert_eq!(create["required"], json!(["name", "region"]));
    assert_eq!(
        create["properties"]["region"]["enum"],
        json!(["eu-north-1", "us-east-1"])
    );
    assert_eq!(create["properties"]["tags"]["maxProperties"], 50);
    assert_eq!(create["properties"]["tags"]["additionalProperties"]["maxLength"], 256);
    let scopes = &doc["components"]["schemas"]["TokenRequest"]["properties"]["scopes"];
    assert_eq!(
        scopes["items"]["enum"],
        json!(["storage:read", "storage:write", "storage:admin"])
    );
    // Every status the server answers a JSON body with is documented.
    for (path, method) in [
        ("/v1/buckets", "post"),
        ("/v1/buckets/{bucket}", "patch"),
        ("/v1/auth/tokens", "post"),
    ] {
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        for status in ["400", "401", "413", "415", "429", "500", "503"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
    }
    let head = doc["paths"]["/v1/buckets/{bucket}/objects/{key}"]["head"]["responses"]
        .as_object()
        .unwrap();
    for status in ["400", "404", "409"] {
        assert!(head.contains_key(status), "HEAD does not document {status}");
    }
}
