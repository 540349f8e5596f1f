//! The `cloudnexus` command line as a client: the real binary against a real server, every
//! command and output mode, the precedence of flags, variables and profiles, `--all` across
//! many pages, a 64 MiB round trip, exit codes, and plain output when piped.

use crate::helpers::TestApp;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary with a private config folder and none of the caller's `CLOUDNEXUS_*` settings.
fn bare(config_home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CLOUDNEXUS_") {
            command.env_remove(name);
        }
    }
    command
        .env("CLOUDNEXUS_CONFIG_HOME", config_home)
        .env_remove("NO_COLOR");
    command
}

/// Runs `args` (after the subcommand's name, so the connection flags apply) and returns the
/// output; the command is `cloudnexus GROUP [connection flags] REST...`.
fn run(app: &TestApp, home: &Path, group: &str, rest: &[&str]) -> Output {
    let mut command = bare(home);
    command
        .arg(group)
        .args(["--endpoint", &app.base_url, "--api-key", &app.admin_key])
        .args(rest);
    command.output().expect("the binary runs")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Nothing a terminal would interpret: no escape codes, no progress bar.
fn assert_plain(text: &str) {
    assert!(!text.contains('\u{1b}'), "escape codes in piped output: {text:?}");
    assert!(!text.contains("=>"), "a progress bar in piped output: {text:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_commands_in_every_output_mode() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let created = json_of(&run(
        &app,
        h,
        "buckets",
        &[
            "create",
            "cli-made",
            "--region",
            "eu-west-1",
            "--tag",
            "env=prod",
            "--tag",
            "team=data",
            "--public",
            "--storage-class",
            "GLACIER",
            "--output",
            "json",
        ],
    ));
    assert_eq!(created["name"], "cli-made");
    assert_eq!(created["tags"], serde_json::json!({"env": "prod", "team": "data"}));
    assert_eq!(created["public"], true);
    // `get --output json` is the API's document, field for field.
    let got = json_of(&run(&app, h, "buckets", &["get", "cli-made", "--output", "json"]));
    let api = app
        .call("GET", "/v1/buckets/cli-made", Some(&app.admin_key), None)
        .await
        .json();
    assert_eq!(got, api);
    // For people: fields, sizes and times readable.
    let table = ok(&run(&app, h, "buckets", &["get", "cli-made"]));
    assert!(
        table.contains("region") && table.contains("eu-west-1") && table.contains("GLACIER"),
        "{table}"
    );
    assert!(table.contains("env=prod,team=data"), "{table}");

    let updated = json_of(&run(
        &app,
        h,
        "buckets",
        &[
            "update",
            "cli-made",
            "--tag",
            "env=staging",
            "--public",
            "false",
            "--output",
            "json",
        ],
    ));
    assert_eq!(updated["tags"], serde_json::json!({"env": "staging"}));
    assert_eq!(updated["public"], false);
    let nothing = run(&app, h, "buckets", &["update", "cli-made"]);
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr(&nothing));

    app.clock.advance(1);
    ok(&run(
        &app,
        h,
        "buckets",
        &["create", "cli-other", "--region", "us-east-1"],
    ));
    // ls in each mode.
    let table = ok(&run(&app, h, "buckets", &["ls", "--prefix", "cli-"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("REGION") && lines[0].contains("TAGS"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].starts_with("cli-made ") && lines[2].starts_with("cli-other"),
        "{table}"
    );
    let page = json_of(&run(
        &app,
        h,
        "buckets",
        &["ls", "--prefix", "cli-", "--output", "json"],
    ));
    assert_eq!(page["pagination"]["total"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let jsonl = ok(&run(
        &app,
        h,
        "buckets",
        &["ls", "--prefix", "cli-", "--output", "jsonl"],
    ));
    let names: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["cli-made", "cli-other"]);
    let csv = ok(&run(&app, h, "buckets", &["ls", "--prefix", "cli-", "--output", "csv"]));
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("id,name,region,storage_class,created_at,size_bytes"),
        "{csv}"
    );
    assert!(rows[1].contains(",cli-made,eu-west-1,GLACIER,"), "{csv}");
    let filtered = json_of(&run(
        &app,
        h,
        "buckets",
        &[
            "ls",
            "--region",
            "eu-west-1",
            "--tag",
            "env:staging",
            "--output",
            "json",
        ],
    ));
    assert_eq!(filtered["pagination"]["total"], 1);

    // rm is the soft delete; restore brings it back.
    let deleted = json_of(&run(&app, h, "buckets", &["rm", "cli-made", "--output", "json"]));
    assert!(deleted["deleted_at"].is_string() && deleted["purge_at"].is_string());
    let hidden = run(&app, h, "buckets", &["get", "cli-made"]);
    assert_eq!(hidden.status.code(), Some(3), "{}", stderr(&hidden));
    let listed = json_of(&run(
        &app,
        h,
        "buckets",
        &["ls", "--prefix", "cli-", "--include-deleted", "--output", "json"],
    ));
    assert_eq!(listed["pagination"]["total"], 2);
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["purge_at"] == deleted["purge_at"])
    );
    let live = json_of(&run(
        &app,
        h,
        "buckets",
        &["ls", "--prefix", "cli-", "--output", "json"],
    ));
    assert_eq!(live["pagination"]["total"], 1);
    let restored = json_of(&run(&app, h, "buckets", &["restore", "cli-made", "--output", "json"]));
    assert!(restored.get("deleted_at").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn all_follows_cursors_to_the_last_page() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for i in 0..53 {
        app.create_bucket(&format!("paged-{i:03}"), "us-east-1").await;
    }
    let jsonl = ok(&run(
        &app,
        h,
        "buckets",
        &["ls", "--all", "--limit", "5", "--output", "jsonl"],
    ));
    let names: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // The listing's own order (created_at, then id: these share a second), every bucket once.
    let expected: Vec<String> = app
        .client
        .list_all_buckets(&cloudnexus_client::ListBuckets::default())
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(expected.len(), 53);
    assert_eq!(names, expected);
    let array = json_of(&run(
        &app,
        h,
        "buckets",
        &["ls", "--all", "--limit", "7", "--output", "json"],
    ));
    assert_eq!(array.as_array().unwrap().len(), 53);
    let table = ok(&run(&app, h, "buckets", &["ls", "--all", "--limit", "100"]));
    assert_eq!(table.lines().count(), 54);
    // Without --all: one page, and the way on says where it is.
    let first = run(&app, h, "buckets", &["ls", "--limit", "5"]);
    assert_eq!(ok(&first).lines().count(), 6);
    assert!(
        stderr(&first).contains("buckets 1-5 of 53; next page: --cursor "),
        "{}",
        stderr(&first)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_beat_variables_which_beat_profiles() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    app.create_bucket("precedence", "us-east-1").await;
    // A profile, its key read from standard input (never a command-line argument).
    let mut configure = bare(h)
        .args(["configure", "--profile", "work", "--endpoint", &app.base_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    configure
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", app.admin_key).as_bytes())
        .unwrap();
    ok(&configure.wait_with_output().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.join("credentials.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key's file is its owner's alone");
    }
    let profiles = std::fs::read_to_string(h.join("profiles.toml")).unwrap();
    assert!(
        !profiles.contains(&app.admin_key),
        "the key is kept apart from the profiles"
    );

    // `cloudnexus buckets get precedence --output json EXTRA...` (the connection flags are global).
    let get = |command: &mut Command, extra: &[&str]| {
        command
            .args(["buckets", "get", "precedence", "--output", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    // The profile alone, by flag and by variable.
    ok(&get(&mut bare(h), &["--profile", "work"]));
    ok(&get(bare(h).env("CLOUDNEXUS_PROFILE", "work"), &[]));
    // No profile named, none called default: no endpoint.
    let none = get(&mut bare(h), &[]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(stderr(&none).contains("no endpoint"), "{}", stderr(&none));
    let unknown = get(&mut bare(h), &["--profile", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    // A variable beats the profile: a bad key in CLOUDNEXUS_API_KEY is used, and refused.
    let bad_key = "cnx_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let refused = get(
        bare(h)
            .env("CLOUDNEXUS_PROFILE", "work")
            .env("CLOUDNEXUS_API_KEY", bad_key),
        &[],
    );
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    // A flag beats the variable.
    ok(&get(
        bare(h)
            .env("CLOUDNEXUS_PROFILE", "work")
            .env("CLOUDNEXUS_API_KEY", bad_key),
        &["--api-key", &app.admin_key],
    ));
    // The endpoint likewise: a wrong one in the profile is overridden by the variable.
    let mut wrong = bare(h);
    wrong
        .args(["configure", "--profile", "stale", "--endpoint", "http://127.0.0.1:9"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = wrong.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", app.admin_key).as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let unreachable = get(bare(h).env("CLOUDNEXUS_PROFILE", "stale"), &[]);
    assert_eq!(unreachable.status.code(), Some(1), "{}", stderr(&unreachable));
    ok(&get(
        bare(h)
            .env("CLOUDNEXUS_PROFILE", "stale")
            .env("CLOUDNEXUS_ENDPOINT", &app.base_url),
        &[],
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_64_mib_object_goes_up_and_down_byte_exact_and_piped_output_stays_plain() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    app.create_bucket("big-files", "us-east-1").await;
    let data = tempfile::tempdir().unwrap();
    let source = data.path().join("big.bin");
    let mut bytes = vec![0u8; 64 * 1024 * 1024];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    }
    std::fs::write(&source, &bytes).unwrap();

    let put = run(
        &app,
        h,
        "objects",
        &["put", "big-files", "data/big.bin", source.to_str().unwrap()],
    );
    let table = ok(&put);
    assert!(table.contains("64.0 MiB"), "{table}");
    assert_plain(&table);
    assert_plain(&stderr(&put));
    let target = data.path().join("back.bin");
    let get = run(
        &app,
        h,
        "objects",
        &["get", "big-files", "data/big.bin", target.to_str().unwrap()],
    );
    ok(&get);
    assert_plain(&stderr(&get));
    assert!(std::fs::read(&target).unwrap() == bytes, "the download differs");
    // To standard output, too.
    let piped = run(&app, h, "objects", &["get", "big-files", "data/big.bin", "-"]);
    assert!(piped.status.success());
    assert!(piped.stdout == bytes, "the piped download differs");
    // And in through standard input.
    let mut upload = bare(h)
        .args(["objects", "--endpoint", &app.base_url, "--api-key", &app.admin_key])
        .args(["put", "big-files", "from-stdin.bin", "-", "--output", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = upload.stdin.take().unwrap();
    let head = bytes[..3 * 1024 * 1024].to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&head).unwrap();
    });
    let info: Value = serde_json::from_str(&ok(&upload.wait_with_output().unwrap())).unwrap();
    writer.join().unwrap();
    assert_eq!(info["size_bytes"], 3 * 1024 * 1024);
    assert_eq!(
        app.client.get_object("big-files", "from-stdin.bin").await.unwrap(),
        bytes[..3 * 1024 * 1024]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_put_and_cp_send_the_headers_objects_are_served_with() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    app.create_bucket("served-site", "us-east-1").await;
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("report.pdf");
    std::fs::write(&file, b"%PDF-1.7").unwrap();
    ok(&run(
        &app,
        h,
        "objects",
        &[
            "put",
            "served-site",
            "docs/report.pdf",
            file.to_str().unwrap(),
            "--content-disposition",
            "attachment; filename=\"Q3 report.pdf\"",
            "--content-language",
            "en-GB",
            "--content-encoding",
            "gzip",
        ],
    ));
    let tree = data.path().join("tree");
    std::fs::create_dir_all(tree.join("css")).unwrap();
    std::fs::write(tree.join("css/site.css"), "body{}").unwrap();
    std::fs::write(tree.join("index.html"), "<h1>hi</h1>").unwrap();
    ok(&run(
        &app,
        h,
        "objects",
        &[
            "cp",
            tree.to_str().unwrap(),
            "cnx://served-site/www/",
            "--recursive",
            "--cache-control",
            "public, max-age=60",
        ],
    ));
    let head = |key: &str| TestApp::answer(app.request("HEAD", &format!("/v1/buckets/served-site/objects/{key}")));
    let pdf = head("docs/report.pdf").await;
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert_eq!(
        pdf.header("content-disposition"),
        Some("attachment; filename=\"Q3 report.pdf\"")
    );
    assert_eq!(pdf.header("content-language"), Some("en-GB"));
    assert_eq!(pdf.header("content-encoding"), Some("gzip"));
    assert_eq!(pdf.header("cache-control"), None);
    for (key, content_type) in [("www/css/site.css", "text/css"), ("www/index.html", "text/html")] {
        let read = head(key).await;
        assert_eq!(read.header("content-type"), Some(content_type), "{key}");
        assert_eq!(read.header("cache-control"), Some("public, max-age=60"), "{key}");
    }
    // A value the service would refuse (too long; not ASCII, which could not even be sent)
    // fails the command before anything is sent, naming the flag.
    for (flag, value) in [
        ("--cache-control", "x".repeat(1025)),
        (
            "--content-disposition",
            "attachment; filename=\"résumé.pdf\"".to_owned(),
        ),
    ] {
        let refused = run(
            &app,
            h,
            "objects",
            &["put", "served-site", "bad", file.to_str().unwrap(), flag, &value],
        );
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains(flag), "{}", stderr(&refused));
    }
    let absent = TestApp::answer(app.request("HEAD", "/v1/buckets/served-site/objects/bad")).await;
    assert_eq!(absent.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_list_copy_folders_and_remove() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    app.create_bucket("site", "us-east-1").await;
    let data = tempfile::tempdir().unwrap();
    let tree = data.path().join("tree");
    std::fs::create_dir_all(tree.join("css")).unwrap();
    std::fs::create_dir_all(tree.join("img/icons")).unwrap();
    std::fs::write(tree.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(tree.join("css/site.css"), "body{}").unwrap();
    for i in 0..12 {
        std::fs::write(tree.join(format!("img/icons/{i}.png")), vec![i as u8; 100 + i]).unwrap();
    }
    let copied = json_of(&run(
        &app,
        h,
        "objects",
        &[
            "cp",
            tree.to_str().unwrap(),
            "cnx://site/www/",
            "--recursive",
            "--output",
            "json",
        ],
    ));
    assert_eq!(copied["copied"], 14);
    let listed = json_of(&run(
        &app,
        h,
        "objects",
        &["ls", "site", "--prefix", "www/", "--delimiter", "/", "--output", "json"],
    ));
    assert_eq!(listed["common_prefixes"], serde_json::json!(["www/css/", "www/img/"]));
    assert_eq!(listed["data"][0]["key"], "www/index.html");
    assert_eq!(listed["data"][0]["content_type"], "text/html");
    let table = ok(&run(
        &app,
        h,
        "objects",
        &["ls", "site", "--prefix", "www/", "--delimiter", "/"],
    ));
    assert!(table.contains("www/css/") && table.contains("PRE"), "{table}");
    let all = ok(&run(
        &app,
        h,
        "objects",
        &["ls", "site", "--all", "--limit", "3", "--output", "jsonl"],
    ));
    assert_eq!(all.lines().count(), 14);
    let csv = ok(&run(
        &app,
        h,
        "objects",
        &["ls", "site", "--prefix", "www/css/", "--output", "csv"],
    ));
    assert_eq!(
        csv.lines().nth(1).unwrap().split(',').nth(1),
        Some("www/css/site.css"),
        "{csv}"
    );

    let back = data.path().join("back");
    ok(&run(
        &app,
        h,
        "objects",
        &["cp", "cnx://site/www", back.to_str().unwrap(), "--recursive"],
    ));
    for relative in ["index.html", "css/site.css", "img/icons/7.png"] {
        assert_eq!(
            std::fs::read(back.join(relative)).unwrap(),
            std::fs::read(tree.join(relative)).unwrap(),
            "{relative}"
        );
    }
    // One file each way.
    ok(&run(
        &app,
        h,
        "objects",
        &["cp", tree.join("index.html").to_str().unwrap(), "cnx://site/single/"],
    ));
    ok(&run(
        &app,
        h,
        "objects",
        &[
            "cp",
            "cnx://site/single/index.html",
            data.path().join("one.html").to_str().unwrap(),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(data.path().join("one.html")).unwrap(),
        "<h1>hi</h1>"
    );
    let removed = json_of(&run(
        &app,
        h,
        "objects",
        &["rm", "site", "single/index.html", "--output", "json"],
    ));
    assert_eq!(removed["deleted"], true);
    let gone = run(&app, h, "objects", &["get", "site", "single/index.html", "-"]);
    assert_eq!(gone.status.code(), Some(3));
    let both_local = run(&app, h, "objects", &["cp", "a", "b"]);
    assert_eq!(both_local.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_print_the_detail_and_request_id_with_distinct_exit_codes() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.list_buckets.requests = 1;
        c.rate_limits.list_buckets.window_seconds = 3600;
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let missing = run(&app, h, "buckets", &["get", "no-such-bucket"]);
    assert_eq!(missing.status.code(), Some(3));
    let text = stderr(&missing);
    assert!(
        text.starts_with("error: ") && text.contains("request id req_"),
        "{text}"
    );
    assert!(missing.stdout.is_empty());
    let invalid = run(&app, h, "buckets", &["create", "Bad_Name", "--region", "us-east-1"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(stderr(&invalid).contains("name"), "{}", stderr(&invalid));
    let usage = bare(h).args(["buckets", "frobnicate"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let unauthorized = bare(h)
        .args([
            "buckets",
            "--endpoint",
            &app.base_url,
            "--api-key",
            "cnx_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ])
        .args(["get", "x-bucket"])
        .output()
        .unwrap();
    assert_eq!(unauthorized.status.code(), Some(4), "{}", stderr(&unauthorized));
    let reader = app.key("storage:read").await;
    let forbidden = bare(h)
        .args(["buckets", "--endpoint", &app.base_url, "--api-key", &reader])
        .args(["create", "read-only-try", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(forbidden.status.code(), Some(4), "{}", stderr(&forbidden));
    // The list quota is 1 an hour: the second list is refused, and its Retry-After (an hour)
    // is longer than the client waits, so it answers at once.
    ok(&run(&app, h, "buckets", &["ls"]));
    let limited = run(&app, h, "buckets", &["ls"]);
    assert_eq!(limited.status.code(), Some(5), "{}", stderr(&limited));
    let unreachable = bare(h)
        .args([
            "buckets",
            "--endpoint",
            "http://127.0.0.1:9",
            "--api-key",
            &app.admin_key,
            "ls",
        ])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable).contains("cannot reach the service"),
        "{}",
        stderr(&unreachable)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_exits_with_code_6_and_says_what_failed() {
    // A limiter that stops answering makes the service refuse every request with a 503.
    let mut redis = crate::auth::shared_limits::PrivateRedis::start();
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.redis_url = Some(redis.url());
        c.rate_limits.redis_key_prefix = cloudnexus_store::testing::unique_redis_key_prefix();
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    ok(&run(&app, home.path(), "buckets", &["ls"]));
    redis.kill();
    let failed = run(&app, home.path(), "buckets", &["ls"]);
    assert_eq!(failed.status.code(), Some(6), "{}", stderr(&failed));
    let text = stderr(&failed);
    assert!(
        text.starts_with("error: ") && text.contains("request id req_"),
        "{text}"
    );
    assert!(text.contains("admits no request"), "the service's detail: {text}");
    assert!(failed.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minted_token_works_as_the_key() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    app.create_bucket("token-bucket", "us-east-1").await;
    let token = json_of(&run(
        &app,
        h,
        "tokens",
        &["create", "--scopes", "storage:read", "--ttl", "600", "--output", "json"],
    ));
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 600);
    assert_eq!(token["scope"], "storage:read");
    let jwt = token["access_token"].as_str().unwrap();
    let listed = bare(h)
        .args([
            "buckets",
            "--endpoint",
            &app.base_url,
            "--api-key",
            jwt,
            "get",
            "token-bucket",
        ])
        .output()
        .unwrap();
    ok(&listed);
    let denied = bare(h)
        .args(["buckets", "--endpoint", &app.base_url, "--api-key", jwt])
        .args(["create", "not-with-read", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(4));
    let bad_ttl = run(&app, h, "tokens", &["create", "--ttl", "99999"]);
    assert_eq!(bad_ttl.status.code(), Some(2), "{}", stderr(&bad_ttl));
}

#[test]
fn completions_and_help_texts() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = bare(home.path()).args(["completions", shell]).output().unwrap();
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success() && script.contains("buckets") && script.contains("objects"),
            "{shell}"
        );
    }
    for command in [
        &["buckets", "ls", "--help"][..],
        &["buckets", "create", "--help"],
        &["buckets", "update", "--help"],
        &["buckets", "rm", "--help"],
        &["buckets", "restore", "--help"],
        &["buckets", "get", "--help"],
        &["objects", "ls", "--help"],
        &["objects", "put", "--help"],
        &["objects", "get", "--help"],
        &["objects", "rm", "--help"],
        &["objects", "cp", "--help"],
        &["tokens", "create", "--help"],
        &["configure", "--help"],
    ] {
        let out = bare(home.path()).args(command).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Example"), "{command:?} has no example:\n{help}");
    }
    let top = String::from_utf8(bare(home.path()).args(["buckets", "--help"]).output().unwrap().stdout).unwrap();
    assert!(top.contains("Exit codes") && top.contains("5 rate limited"), "{top}");
}

/// Runs `command` in a pseudo-terminal (util-linux's `script`), returning all it wrote there.
fn in_terminal(command: &Command) -> String {
    let mut line = String::new();
    for (name, value) in command.get_envs() {
        if let (Some(value), Some(name)) = (value, name.to_str()) {
            line.push_str(&format!("{name}='{}' ", value.to_string_lossy()));
        }
    }
    line.push_str(env!("CARGO_BIN_EXE_cloudnexus"));
    for arg in command.get_args() {
        line.push_str(&format!(" '{}'", arg.to_string_lossy()));
    }
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .output()
        .expect("util-linux's script runs (Debian's bsdutils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_tables_have_a_bold_header_and_transfers_a_progress_bar() {
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    app.create_bucket("terminal", "us-east-1").await;
    let connection = ["--endpoint", app.base_url.as_str(), "--api-key", app.admin_key.as_str()];
    let mut list = bare(home.path());
    list.arg("buckets").args(connection).arg("ls");
    let shown = in_terminal(&list);
    assert!(shown.contains("\u{1b}[1mNAME"), "no bold header: {shown:?}");

    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("eight.bin");
    std::fs::write(&file, vec![7u8; 8 * 1024 * 1024]).unwrap();
    let mut put = bare(home.path());
    put.arg("objects")
        .args(connection)
        .args(["put", "terminal", "eight.bin", file.to_str().unwrap()]);
    let shown = in_terminal(&put);
    assert!(
        shown.contains("eight.bin [") && shown.contains("MiB"),
        "no progress bar: {shown:?}"
    );
    // The same upload piped: no bar, no escape codes (see the 64 MiB test too).
    let piped = put.output().unwrap();
    assert_plain(&String::from_utf8_lossy(&piped.stderr));
    assert_plain(&String::from_utf8_lossy(&piped.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_request_is_sent_again_after_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.list_buckets.requests = 1;
        c.rate_limits.list_buckets.window_seconds = 2;
    })
    .await;
    // The limiter's window follows the server's clock: let it run at the real pace.
    let clock = app.clock.clone();
    let ticker = tokio::spawn(async move {
        loop {
            clock.advance_millis(100);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let home = tempfile::tempdir().unwrap();
    ok(&run(&app, home.path(), "buckets", &["ls"]));
    let started = std::time::Instant::now();
    let second = run(&app, home.path(), "buckets", &["ls", "--output", "json"]);
    ok(&second);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "the second list was not held back by its Retry-After"
    );
    ticker.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn https_endpoints_are_spoken_to_with_tls() {
    // A plain-HTTP server behind an https:// URL: the client attempts a TLS handshake (rustls
    // is built in) and reports the failure as a connection failure, exit code 1.
    let app = TestApp::spawn().await;
    let home = tempfile::tempdir().unwrap();
    let https = app.base_url.replace("http://", "https://");
    let out = bare(home.path())
        .args(["buckets", "--endpoint", &https, "--api-key", &app.admin_key, "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains("cannot reach the service"), "{text}");
    assert!(
        !text.contains("scheme is not http") && !text.contains("invalid URL"),
        "{text}"
    );
}
