//! `GET /v1/buckets` as the reference page and the spec define it.

use crate::helpers::TestApp;
use cloudnexus_client::{Bucket, CreateBucket, ListBuckets, UpdateBucket};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn query(f: impl FnOnce(&mut ListBuckets)) -> ListBuckets {
    let mut q = ListBuckets::default();
    f(&mut q);
    q
}

/// Creates `n` buckets named `{stem}-{i}`, one second apart.
async fn create_many(app: &TestApp, stem: &str, n: usize) -> Vec<Bucket> {
    let mut out = Vec::new();
    for i in 0..n {
        app.clock.advance(1);
        out.push(app.create_bucket(&format!("{stem}-{i:03}"), "us-east-1").await);
    }
    out
}

#[tokio::test]
async fn the_response_has_the_reference_shape_to_the_letter() {
    let app = TestApp::spawn().await;
    app.client
        .create_bucket(
            &CreateBucket::new("prod-assets-us-east", "us-east-1")
                .tag("env", "production")
                .tag("team", "frontend"),
        )
        .await
        .unwrap();
    let answer = app.call("GET", "/v1/buckets", Some(&app.admin_key), None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    // Key order as on the page: data, then pagination; and the bucket keys in the page's order.
    assert!(answer.text.starts_with(r#"{"data":[{"id":"bkt_"#), "{}", answer.text);
    let body = answer.json();
    let top: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, ["data", "pagination"]);
    let bucket_keys: Vec<&str> = body["data"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        bucket_keys,
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
    let b = &body["data"][0];
    assert!(b["id"].is_string() && b["size_bytes"].is_u64() && b["object_count"].is_u64() && b["public"].is_boolean());
    assert!(b["tags"].is_object());
    assert_eq!(b["created_at"], "2024-08-12T14:32:00Z");
    let pagination_keys: Vec<&str> = body["pagination"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(pagination_keys, ["total", "limit", "offset", "next_cursor"]);
    assert_eq!(
        body["pagination"],
        serde_json::json!({"total": 1, "limit": 25, "offset": 0, "next_cursor": null})
    );
}

#[tokio::test]
async fn the_reference_path_answers_the_same() {
    let app = TestApp::spawn().await;
    create_many(&app, "same", 3).await;
    let a = app
        .call(
            "GET",
            "/v1/buckets?limit=2&region=us-east-1",
            Some(&app.admin_key),
            None,
        )
        .await
        .json();
    let b = app
        .call(
            "GET",
            "/v1/get-/buckets?limit=2&region=us-east-1",
            Some(&app.admin_key),
            None,
        )
        .await
        .json();
    assert_eq!(a, b);
    assert_eq!(a["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn default_limit_is_25_and_order_is_created_at_then_id() {
    let app = TestApp::spawn().await;
    // Ten buckets in the same second, then thirty more a second apart.
    let mut created = Vec::new();
    for i in 0..10 {
        created.push(app.create_bucket(&format!("tie-{i}"), "us-east-1").await);
    }
    created.extend(create_many(&app, "later", 30).await);
    let page = app.client.list_buckets(&ListBuckets::default()).await.unwrap();
    assert_eq!(page.data.len(), 25);
    assert_eq!(page.pagination.total, 40);
    let mut expected = created.clone();
    expected.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    assert_eq!(page.data, expected[..25]);
    let rest = app
        .client
        .list_buckets(&query(|q| q.cursor = page.pagination.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(rest.data, expected[25..]);
    assert_eq!(rest.pagination.next_cursor, None);
}

#[tokio::test]
async fn limit_is_enforced_between_1_and_100() {
    let app = TestApp::spawn().await;
    create_many(&app, "lim", 3).await;
    assert_eq!(
        app.client
            .list_buckets(&query(|q| q.limit = Some(1)))
            .await
            .unwrap()
            .data
            .len(),
        1
    );
    assert_eq!(
        app.client
            .list_buckets(&query(|q| q.limit = Some(100)))
            .await
            .unwrap()
            .pagination
            .limit,
        100
    );
    for bad in ["0", "101", "-1", "ten", "", "1e2"] {
        let p = app
            .call("GET", &format!("/v1/buckets?limit={bad}"), Some(&app.admin_key), None)
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "limit", "{bad}");
        assert!(p["detail"].as_str().unwrap().contains("100"), "{bad}");
    }
}

#[tokio::test]
async fn offset_pages_report_total_offset_and_a_cursor() {
    let app = TestApp::spawn().await;
    let all = create_many(&app, "off", 12).await;
    let page = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(5);
            q.offset = Some(5);
        }))
        .await
        .unwrap();
    assert_eq!(page.data, all[5..10]);
    assert_eq!(
        (page.pagination.total, page.pagination.limit, page.pagination.offset),
        (12, 5, 5)
    );
    // The cursor of an offset page continues right after it.
    let next = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(5);
            q.cursor = page.pagination.next_cursor.clone();
        }))
        .await
        .unwrap();
    assert_eq!(next.data, all[10..]);
    assert_eq!(next.pagination.offset, 10);
    assert_eq!(next.pagination.next_cursor, None);
    // The last offset page and one past the end have no cursor.
    let last = app.client.list_buckets(&query(|q| q.offset = Some(7))).await.unwrap();
    assert_eq!(last.data, all[7..]);
    assert_eq!(last.pagination.next_cursor, None);
    let beyond = app.client.list_buckets(&query(|q| q.offset = Some(50))).await.unwrap();
    assert!(beyond.data.is_empty());
    assert_eq!((beyond.pagination.total, beyond.pagination.offset), (12, 50));
    assert_eq!(beyond.pagination.next_cursor, None);
    for bad in ["-1", "x", "1.5", "99999999999999999999"] {
        let p = app
            .call("GET", &format!("/v1/buckets?offset={bad}"), Some(&app.admin_key), None)
            .await
            .problem(400, "validation_failed");
        assert_eq!(p["errors"][0]["param"], "offset");
    }
}

#[tokio::test]
async fn cursor_pages_count_their_offset_at_the_time_of_the_request() {
    let app = TestApp::spawn().await;
    let all = create_many(&app, "cur", 15).await;
    let p1 = app.client.list_buckets(&query(|q| q.limit = Some(5))).await.unwrap();
    let p2 = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(5);
            q.cursor = p1.pagination.next_cursor.clone();
        }))
        .await
        .unwrap();
    assert_eq!(p2.pagination.offset, 5);
    // A bucket before the position goes away, one is added at the end: offset and total follow.
    app.client.delete_bucket(&all[1].id).await.unwrap();
    app.clock.advance(1);
    let added = app.create_bucket("cur-new", "us-east-1").await;
    let p3 = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(5);
            q.cursor = p2.pagination.next_cursor.clone();
        }))
        .await
        .unwrap();
    assert_eq!(p3.data, all[10..15]);
    assert_eq!(p3.pagination.offset, 9);
    assert_eq!(p3.pagination.total, 15);
    let p4 = app
        .client
        .list_buckets(&query(|q| q.cursor = p3.pagination.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(p4.data, vec![added]);
    assert_eq!(p4.pagination.next_cursor, None);
    // The page size may change between pages.
    assert_eq!(p4.pagination.limit, 25);
}

#[tokio::test]
async fn filters_by_prefix_region_tags_and_include_deleted() {
    let app = TestApp::spawn().await;
    let c = &app.client;
    let make = |name: &str, region: &str, tags: &[(&str, &str)]| {
        app.clock.advance(1);
        let mut b = CreateBucket::new(name, region);
        for (k, v) in tags {
            b = b.tag(k, v);
        }
        b
    };
    let a = c
        .create_bucket(&make(
            "prod-web",
            "us-east-1",
            &[("env", "production"), ("team", "frontend")],
        ))
        .await
        .unwrap();
    let b = c
        .create_bucket(&make(
            "prod-db",
            "eu-west-2",
            &[("env", "production"), ("team", "backend")],
        ))
        .await
        .unwrap();
    let d = c
        .create_bucket(&make("staging-web", "us-east-1", &[("env", "staging")]))
        .await
        .unwrap();
    let e = c
        .create_bucket(&make("prod-old", "us-east-1", &[("env", "production")]))
        .await
        .unwrap();
    c.delete_bucket(&e.id).await.unwrap();

    let names = |page: &cloudnexus_client::BucketList| page.data.iter().map(|b| b.name.clone()).collect::<Vec<_>>();
    let list = |q: ListBuckets| async move { c.list_buckets(&q).await.unwrap() };

    let p = list(query(|q| q.prefix = Some("prod-".into()))).await;
    assert_eq!(
        (names(&p), p.pagination.total),
        (vec!["prod-web".into(), "prod-db".into()], 2)
    );
    let p = list(query(|q| q.region = Some("us-east-1".into()))).await;
    assert_eq!(
        (names(&p), p.pagination.total),
        (vec!["prod-web".into(), "staging-web".into()], 2)
    );
    let p = list(query(|q| q.tags = vec!["team".into()])).await;
    assert_eq!(p.data, vec![a.clone(), b.clone()]);
    let p = list(query(|q| q.tags = vec!["env:staging".into()])).await;
    assert_eq!(p.data, vec![d.clone()]);
    let p = list(query(|q| {
        q.tags = vec!["env:production".into(), "team:frontend".into()]
    }))
    .await;
    assert_eq!((p.data.clone(), p.pagination.total), (vec![a.clone()], 1));
    let p = list(query(|q| {
        q.region = Some("us-east-1".into());
        q.prefix = Some("prod".into());
        q.tags = vec!["env".into()];
    }))
    .await;
    assert_eq!(p.data, vec![a.clone()]);

    // Soft-deleted buckets only with include=deleted, and only they carry deleted_at/purge_at.
    let raw = app
        .call(
            "GET",
            "/v1/buckets?include=deleted&prefix=prod",
            Some(&app.admin_key),
            None,
        )
        .await
        .json();
    assert_eq!(raw["pagination"]["total"], 3);
    for bucket in raw["data"].as_array().unwrap() {
        let deleted = bucket["name"] == "prod-old";
        assert_eq!(bucket.get("deleted_at").is_some(), deleted);
        assert_eq!(bucket.get("purge_at").is_some(), deleted);
    }
    let p = list(query(|q| {
        q.include_deleted = true;
        q.tags = vec!["env:production".into()];
    }))
    .await;
    assert_eq!(p.pagination.total, 3);
    // A prefix nothing matches, and a prefix with characters no name can hold.
    assert_eq!(list(query(|q| q.prefix = Some("zzz".into()))).await.pagination.total, 0);
    assert_eq!(
        list(query(|q| q.prefix = Some("PROD".into()))).await.pagination.total,
        0
    );
}

#[tokio::test]
async fn every_bad_parameter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let cases: &[(&str, &str, &str)] = &[
        ("colour=red", "colour", "parameters are"),
        ("limit=5&limit=6", "limit", "more than once"),
        ("offset=0&cursor=abc", "cursor", "offset"),
        ("include=everything", "include", "deleted"),
        ("region=mars-1", "region", "eu-west-2"),
        ("tag=Env", "tag", "key:value"),
        ("tag=env:a%0Ab", "tag", "control"),
        ("cursor=", "cursor", "next_cursor"),
        ("cursor=not-a-real-cursor", "cursor", "next_cursor"),
        ("limit=25%C2%AEion=us-east-1", "limit", "&region="),
        ("%C2%AEion=us-east-1", "®ion", "&region="),
    ];
    for (q, param, hint) in cases {
        let p = app
            .call("GET", &format!("/v1/buckets?{q}"), Some(&app.admin_key), None)
            .await
            .problem(400, "validation_failed");
        let errors = p["errors"].as_array().unwrap();
        let e = errors
            .iter()
            .find(|e| e["param"] == *param)
            .unwrap_or_else(|| panic!("{q}: {p}"));
        assert!(e["detail"].as_str().unwrap().contains(hint), "{q}: {p}");
    }
}

/// Decodes, flips a bit in, and re-encodes a cursor (base64url without padding).
fn tamper(cursor: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut chars: Vec<u8> = cursor.bytes().collect();
    let i = 10;
    let pos = ALPHABET.iter().position(|c| *c == chars[i]).unwrap();
    chars[i] = ALPHABET[(pos + 1) % 64];
    String::from_utf8(chars).unwrap()
}

#[tokio::test]
async fn cursors_are_url_safe_tamper_evident_and_bound_to_project_and_filters() {
    let app = TestApp::spawn().await;
    create_many(&app, "bound", 4).await;
    let page = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(2);
            q.region = Some("us-east-1".into());
        }))
        .await
        .unwrap();
    let cursor = page.pagination.next_cursor.unwrap();
    assert!(
        cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{cursor}"
    );

    let bad = |q: String| {
        let app = &app;
        async move {
            app.call("GET", &format!("/v1/buckets?{q}"), Some(&app.admin_key), None)
                .await
                .problem(400, "validation_failed")
        }
    };
    let p = bad(format!("region=us-east-1&cursor={}", tamper(&cursor))).await;
    assert!(
        p["detail"].as_str().unwrap().contains("altered") || p["detail"].as_str().unwrap().contains("not a cursor"),
        "{p}"
    );
    let p = bad(format!("cursor={cursor}")).await;
    assert!(p["detail"].as_str().unwrap().contains("different filters"), "{p}");
    let p = bad(format!("region=us-east-1&include=deleted&cursor={cursor}")).await;
    assert!(p["detail"].as_str().unwrap().contains("different filters"), "{p}");

    let (_, other) = app.other_project("elsewhere").await;
    let e = other
        .list_buckets(&query(|q| {
            q.region = Some("us-east-1".into());
            q.cursor = Some(cursor.clone());
        }))
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().detail.contains("another project"), "{e}");

    // Unchanged, it works (with any page size).
    let next = app
        .client
        .list_buckets(&query(|q| {
            q.limit = Some(10);
            q.region = Some("us-east-1".into());
            q.cursor = Some(cursor.clone());
        }))
        .await
        .unwrap();
    assert_eq!(next.data.len(), 2);
}

#[tokio::test]
async fn usage_counters_start_at_zero() {
    let app = TestApp::spawn().await;
    app.create_bucket("empty-bucket", "us-east-1").await;
    let page = app.client.list_buckets(&ListBuckets::default()).await.unwrap();
    assert_eq!((page.data[0].size_bytes, page.data[0].object_count), (0, 0));
}

/// A tiny deterministic generator, so the model test is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn totals_and_pages_match_a_model_for_every_filter_shape() {
    let app = TestApp::spawn().await;
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let envs = ["prod", "dev"];
    let mut rng = Lcg(7);
    let mut names = Vec::new();
    for i in 0..60 {
        if rng.next(3) == 0 {
            app.clock.advance(1);
        }
        let mut b = CreateBucket::new(
            format!("{}-{i:02}", ["alpha", "beta", "gamma"][rng.next(3) as usize]),
            regions[rng.next(3) as usize],
        );
        if rng.next(4) != 0 {
            b = b.tag("env", envs[rng.next(2) as usize]);
        }
        if rng.next(2) == 0 {
            b = b.tag("team", "data");
        }
        names.push(app.client.create_bucket(&b).await.unwrap().name);
    }
    // Churn: deletes, restores, tag changes.
    for name in names.iter().step_by(5) {
        app.client.delete_bucket(name).await.unwrap();
    }
    for name in names.iter().step_by(15) {
        app.client.restore_bucket(name).await.unwrap();
    }
    for name in names.iter().skip(2).step_by(7) {
        if app.client.get_bucket(name).await.is_ok() {
            let tags: BTreeMap<String, String> = [("env".to_owned(), "prod".to_owned())].into();
            app.client
                .update_bucket(
                    name,
                    &UpdateBucket {
                        tags: Some(tags),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
    }
    let everything = app
        .client
        .list_all_buckets(&query(|q| {
            q.include_deleted = true;
            q.limit = Some(100);
        }))
        .await
        .unwrap();
    assert_eq!(everything.len(), 60);

    let prefixes = [None, Some("beta"), Some("gamma-1")];
    let region_opts = [None, Some("us-west-2")];
    let tag_opts: [&[&str]; 5] = [&[], &["env"], &["env:prod"], &["team"], &["env:dev", "team"]];
    for prefix in prefixes {
        for region in region_opts {
            for tags in tag_opts {
                for include_deleted in [false, true] {
                    let expected: Vec<&Bucket> = everything
                        .iter()
                        .filter(|b| include_deleted || b.deleted_at.is_none())
                        .filter(|b| prefix.is_none_or(|p| b.name.starts_with(p)))
                        .filter(|b| region.is_none_or(|r| b.region == r))
                        .filter(|b| {
                            tags.iter().all(|t| match t.split_once(':') {
                                None => b.tags.contains_key(*t),
                                Some((k, v)) => b.tags.get(k).is_some_and(|x| x == v),
                            })
                        })
                        .collect();
                    let q = query(|q| {
                        q.prefix = prefix.map(Into::into);
                        q.region = region.map(Into::into);
                        q.tags = tags.iter().map(|t| t.to_string()).collect();
                        q.include_deleted = include_deleted;
                        q.limit = Some(7);
                    });
                    let first = app.client.list_buckets(&q).await.unwrap();
                    let label = format!("{prefix:?} {region:?} {tags:?} {include_deleted}");
                    assert_eq!(first.pagination.total as usize, expected.len(), "total for {label}");
                    let walked = app.client.list_all_buckets(&q).await.unwrap();
                    let walked_ids: Vec<&str> = walked.iter().map(|b| b.id.as_str()).collect();
                    let expected_ids: Vec<&str> = expected.iter().map(|b| b.id.as_str()).collect();
                    assert_eq!(walked_ids, expected_ids, "walk for {label}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_cursor_walk_never_repeats_or_skips_under_concurrent_change() {
    let app = Arc::new(TestApp::spawn().await);
    let mut stable = Vec::new();
    let mut doomed = Vec::new();
    for i in 0..150 {
        if i % 4 == 0 {
            app.clock.advance(1);
        }
        let b = app.create_bucket(&format!("walk-{i:03}"), "us-east-1").await;
        if i % 3 == 0 { doomed.push(b) } else { stable.push(b) }
    }

    let done = Arc::new(AtomicBool::new(false));
    let changes = Arc::new(AtomicUsize::new(0));
    let churn = {
        let (app, done, changes) = (app.clone(), done.clone(), changes.clone());
        tokio::spawn(async move {
            let mut created = Vec::new();
            let mut i = 0;
            while !done.load(Ordering::SeqCst) && i < 400 {
                if i % 2 == 0 {
                    if let Some(b) = doomed.pop() {
                        app.client.delete_bucket(&b.id).await.unwrap();
                    }
                } else {
                    if i % 6 == 1 {
                        app.clock.advance(1);
                    }
                    created.push(app.create_bucket(&format!("new-{i:03}"), "us-east-1").await);
                }
                changes.fetch_add(1, Ordering::SeqCst);
                i += 1;
                tokio::task::yield_now().await;
            }
            created
        })
    };

    let mut seen = HashSet::new();
    let mut returned: Vec<Bucket> = Vec::new();
    let mut q = query(|q| q.limit = Some(7));
    loop {
        let before = changes.load(Ordering::SeqCst);
        let page = app.client.list_buckets(&q).await.unwrap();
        for b in &page.data {
            assert!(seen.insert(b.id.clone()), "bucket {} returned twice", b.name);
        }
        returned.extend(page.data);
        match page.pagination.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
        // Let the other task change something between every two pages.
        while changes.load(Ordering::SeqCst) == before && !churn.is_finished() {
            tokio::task::yield_now().await;
        }
    }
    done.store(true, Ordering::SeqCst);
    let created = churn.await.unwrap();

    assert!(
        changes.load(Ordering::SeqCst) >= 20,
        "the walk should have overlapped with real change"
    );
    for b in &stable {
        assert!(seen.contains(&b.id), "stable bucket {} was skipped", b.name);
    }
    assert!(
        returned
            .windows(2)
            .all(|w| (&w[0].created_at, &w[0].id) < (&w[1].created_at, &w[1].id)),
        "order broken"
    );
    let known: HashSet<&String> = stable.iter().chain(created.iter()).map(|b| &b.id).collect();
    assert!(
        returned
            .iter()
            .all(|b| known.contains(&b.id) || b.name.starts_with("walk-"))
    );
}

#[tokio::test]
async fn the_list_needs_the_read_scope() {
    let app = TestApp::spawn().await;
    let writer = app.key("storage:write").await;
    let answer = app.call("GET", "/v1/buckets", Some(&writer), None).await;
    let p: Value = answer.problem(403, "insufficient_scope");
    assert!(p["detail"].as_str().unwrap().contains("storage:read"));
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="storage:read""#)
    );
}

/// A `GET` of the list is dispatched before the router (`api::direct_route`), a `HEAD` of the
/// same path by the router: both must answer alike, whatever the outcome.
#[tokio::test]
async fn get_before_the_router_and_head_through_it_answer_alike() {
    let app = TestApp::spawn_with_default_limits().await;
    app.create_bucket("alike-1", "us-east-1").await;
    let writer = app.key("storage:write").await;
    let bogus = "cnx_0000000000000000000000000000000000000000000000";
    let admin = app.admin_key.clone();
    let cases: [(&str, Option<&str>, u16); 6] = [
        ("/v1/buckets?limit=1", Some(&admin), 200),
        ("/v1/get-/buckets", Some(&admin), 200),
        ("/v1/buckets?limit=0", Some(&admin), 400),
        ("/v1/buckets", None, 401),
        ("/v1/buckets", Some(bogus), 401),
        ("/v1/buckets", Some(&writer), 403),
    ];
    for (path, key, status) in cases {
        let get = app.call("GET", path, key, None).await;
        let head = app.call("HEAD", path, key, None).await;
        assert_eq!(get.status, status, "GET {path}: {}", get.text);
        assert_alike(&get, &head, &format!("{path} with {key:?}"));
    }
    // Past the quota: 60 a minute, of which the first three cases took 6.
    for _ in 0..54 {
        assert_eq!(app.call("GET", "/v1/buckets", Some(&admin), None).await.status, 200);
    }
    let get = app.call("GET", "/v1/buckets", Some(&admin), None).await;
    let head = app.call("HEAD", "/v1/buckets", Some(&admin), None).await;
    assert_eq!(get.status, 429, "{}", get.text);
    assert_alike(&get, &head, "over the quota");
}

/// Same status, same header names, and the same values apart from those that change from one
/// request to the next (the id, the date, the quota left and the wait).
fn assert_alike(get: &crate::helpers::Answer, head: &crate::helpers::Answer, case: &str) {
    assert_eq!(get.status, head.status, "{case}: {}", get.text);
    let names = |a: &crate::helpers::Answer| {
        let mut names: Vec<String> = a.headers.keys().map(|n| n.as_str().to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(get), names(head), "{case}");
    for (name, value) in &get.headers {
        if ["x-request-id", "date", "ratelimit", "retry-after"].contains(&name.as_str()) {
            continue;
        }
        assert_eq!(Some(value), head.headers.get(name), "{case}: {name}");
    }
    let quota_left = |a: &crate::helpers::Answer| {
        a.header("ratelimit").map(|v| {
            v.split(";r=")
                .nth(1)
                .and_then(|r| r.split(';').next())
                .unwrap()
                .to_owned()
        })
    };
    match (quota_left(get), quota_left(head)) {
        (Some(g), Some(h)) if get.status == 429 => assert_eq!((g.as_str(), h.as_str()), ("0", "0"), "{case}"),
        (Some(g), Some(h)) => assert_eq!(g.parse::<u32>().unwrap(), h.parse::<u32>().unwrap() + 1, "{case}"),
        (g, h) => assert_eq!(g, h, "{case}"),
    }
}
