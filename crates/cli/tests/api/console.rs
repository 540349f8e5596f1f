//! The web console (`/console`): what the server promises about the page (embedded files,
//! security headers), `GET /v1/service` that the console builds its forms from, and the
//! console itself driven end to end in Debian's Chromium by playwright-core
//! (`crates/cli/tests/console/console.test.mjs`).

use crate::helpers::TestApp;
use std::path::PathBuf;
use std::process::Command;

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    for (path, media_type) in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/assets/app.js", "text/javascript; charset=utf-8"),
        ("/console/assets/console.css", "text/css; charset=utf-8"),
    ] {
        let answer = TestApp::answer(app.http.get(format!("{}{path}", app.base_url))).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-type"), Some(media_type), "{path}");
        let policy = answer.header("content-security-policy").unwrap();
        assert!(
            policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("require-trusted-types-for 'script'"));
        assert!(!policy.contains("unsafe") && !policy.contains("http"), "{policy}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
    }
    let page = TestApp::answer(app.http.get(format!("{}/console", app.base_url))).await;
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "nothing fetched from elsewhere"
    );
    let missing = TestApp::answer(app.http.get(format!("{}/console/assets/nope.js", app.base_url))).await;
    missing.problem(404, "console_asset_not_found");
}

#[tokio::test]
async fn the_service_describes_its_regions_classes_and_retention_to_any_valid_credential() {
    let app = TestApp::spawn_with(|c| {
        c.buckets.regions = vec!["us-east-1".into(), "eu-central-1".into()];
        c.buckets.soft_delete_retention_seconds = 3 * 24 * 3600;
    })
    .await;
    // Read-only and write-only keys both may read it: it holds no project data.
    for scopes in ["storage:read", "storage:write"] {
        let key = app.key(scopes).await;
        let answer = app.call("GET", "/v1/service", Some(&key), None).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let body = answer.json();
        assert_eq!(body["regions"], serde_json::json!(["eu-central-1", "us-east-1"]));
        assert_eq!(
            body["storage_classes"],
            serde_json::json!(["STANDARD", "INFREQUENT", "GLACIER"])
        );
        assert_eq!(body["soft_delete_retention_seconds"], 3 * 24 * 3600);
        assert_eq!(body["max_object_bytes"], app.config.objects.max_object_bytes);
    }
    let anonymous = app.call("GET", "/v1/service", None, None).await;
    anonymous.problem(401, "unauthorized");
}

/// The console's browser tests, with their npm packages installed (`npm ci`, which
/// scripts/test.sh runs).
fn browser_tests_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in {} (scripts/test.sh does)",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_works_in_a_real_browser() {
    let dir = browser_tests_dir();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (scripts/test.sh does)"
    );
    let app = TestApp::spawn().await;
    // Screenshots go to docs/console/ when asked (to refresh the README's pictures).
    let scratch = tempfile::tempdir().unwrap();
    let screenshots = std::env::var("CLOUDNEXUS_CONSOLE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| scratch.path().to_owned());
    let mut node = Command::new("node");
    node.current_dir(&dir)
        .args(["--test", "--test-reporter=spec", "console.test.mjs"])
        .env("CONSOLE_BASE_URL", &app.base_url)
        .env("CONSOLE_API_KEY", &app.admin_key)
        .env("CONSOLE_SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium);
    let out = tokio::task::spawn_blocking(move || node.output().expect("node runs"))
        .await
        .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the browser tests failed:\n{report}");
    // Every test ran (node's summary), none was skipped.
    assert!(report.contains("pass 15\n") && report.contains("fail 0\n"), "{report}");
    assert!(
        report.contains("skipped 0\n") && report.contains("todo 0\n"),
        "{report}"
    );
    for shot in ["sign-in.png", "buckets.png", "objects.png", "buckets-390.png"] {
        assert!(screenshots.join(shot).is_file(), "{shot} was not taken");
    }
}

#[tokio::test]
async fn objects_are_served_sandboxed_so_an_uploaded_page_cannot_act_on_the_consoles_origin() {
    let app = TestApp::spawn().await;
    let created = app
        .call(
            "POST",
            "/v1/buckets",
            Some(&app.admin_key),
            Some(serde_json::json!({"name": "public-pages", "region": "us-east-1", "public": true})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let page = "<script>sessionStorage.getItem('cloudnexus.console.session')</script>";
    let put = app
        .request("PUT", "/v1/buckets/public-pages/objects/page.html")
        .header("content-type", "text/html")
        .body(page)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    // Anyone may fetch it (the bucket is public); the browser is told to sandbox it.
    let fetched = TestApp::answer(
        app.http
            .get(format!("{}/v1/buckets/public-pages/objects/page.html", app.base_url)),
    )
    .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("content-type"), Some("text/html"));
    let policy = fetched.header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("sandbox;") && policy.contains("default-src 'none'"),
        "{policy}"
    );
    assert!(
        !policy.contains("allow-scripts") && !policy.contains("allow-same-origin"),
        "{policy}"
    );
    assert_eq!(fetched.header("x-content-type-options"), Some("nosniff"));
}
