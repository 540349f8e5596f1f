//! Upgrades from every earlier schema version, on both backends: a database is built by the
//! migrations themselves up to that version, with the records of each version
//! (`tests/upgrades/<backend>/NNNN.sql`, applied right after migration NNNN) written as that
//! version's code wrote them; then the current store opens it, applying the rest, and every
//! record is read back through the store. SQLite's schema starts at 1, PostgreSQL's at 5 (the
//! same tables as SQLite's 5); both go on together from there.

use cloudnexus_core::listing::{BucketFilter, ListRequest, PageStart};
use cloudnexus_core::{
    ApiKeyId, BlobId, BucketId, BucketRef, ObjectKey, ProjectId, RegionSet, TagFilter, Timestamp, UploadId,
};
use cloudnexus_store::metadata::{PgStore, SqliteStore};
use cloudnexus_store::{MetadataStore, NewBucket};
use sqlx::migrate::{Migration, Migrator};
use std::borrow::Cow;
use std::path::Path;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

/// The fixture written right after `backend`'s migration `version`, if that version has one.
fn fixture(backend: &str, version: i64) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/upgrades/{backend}/{version:04}.sql"));
    std::fs::read_to_string(path).ok()
}

/// `backend`'s migrations, read from the folder the binary embeds.
async fn migrations(backend: &str) -> Vec<Migration> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    Migrator::new(folder).await.unwrap().iter().cloned().collect()
}

/// Applies `backend`'s migrations up to `version` one at a time, each followed by its fixture.
async fn build_at<DB>(pool: &sqlx::Pool<DB>, backend: &str, version: i64)
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    let all = migrations(backend).await;
    for (i, migration) in all.iter().enumerate().filter(|(_, m)| m.version <= version) {
        let mut upto = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend))
            .await
            .unwrap();
        // sqlx has no "migrate to version N": a migrator holding the first ones does it.
        upto.migrations = Cow::Owned(all[..=i].to_vec());
        upto.run(pool).await.unwrap();
        if let Some(sql) = fixture(backend, migration.version) {
            sqlx::raw_sql(&sql).execute(pool).await.unwrap();
        }
    }
}

fn total_request(filter: BucketFilter) -> ListRequest {
    ListRequest {
        filter,
        limit: 100,
        start: PageStart::Offset(0),
    }
}

/// Reads every fixture record of a store upgraded from `version` and checks it.
async fn check_every_record(store: &dyn MetadataStore, version: i64, keeps_listing_json: bool) {
    let upgraded = ProjectId::parse("prj_upgrade001").unwrap();
    let neighbour = ProjectId::parse("prj_upgrade002").unwrap();
    let projects = store.list_projects().await.unwrap();
    let mut names: Vec<_> = projects.iter().map(|p| p.name.as_str().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["neighbour", "upgraded"], "from version {version}");

    let keys = store.list_api_keys(&upgraded).await.unwrap();
    let expected_keys = if version >= 6 { 3 } else { 2 };
    assert_eq!(keys.len(), expected_keys, "from version {version}");
    let live = keys.iter().find(|k| k.id.as_str() == "key_upgrade001").unwrap();
    assert_eq!(live.hash.0, [1u8; 32]);
    assert_eq!(live.scopes.to_string(), "storage:read storage:write");
    assert_eq!((live.created_at, live.revoked_at), (at(1_700_000_010), None));
    let revoked = store
        .find_api_key(&ApiKeyId::parse("key_upgrade002").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.record.revoked_at, Some(at(1_700_000_500)));
    if version >= 6 {
        let s3 = keys.iter().find(|k| k.id.as_str() == "key_upgrade003").unwrap();
        assert_eq!(s3.s3_secret.as_deref(), Some(&[5u8; 10][..]));
    }
    assert!(
        store
            .revoked_api_keys_since(at(1_700_000_000))
            .await
            .unwrap()
            .iter()
            .any(|k| k.as_str() == "key_upgrade002")
    );

    let bucket = |id: &str| BucketRef::Id(BucketId::parse(id).unwrap());
    let logs = store
        .get_bucket(&upgraded, &bucket("bkt_upgrade001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(logs.name.as_str(), "logs-eu");
    assert_eq!(logs.region.as_str(), "eu-west-1");
    assert_eq!(logs.tags.get("env").map(|v| v.as_str()), Some("prod"));
    assert_eq!(logs.tags.get("team").map(|v| v.as_str()), Some("data"));
    assert_eq!(logs.created_at, at(1_700_000_100));
    let assets = store
        .get_bucket(&upgraded, &bucket("bkt_upgrade002"))
        .await
        .unwrap()
        .unwrap();
    assert!(assets.public);
    assert_eq!(assets.storage_class, cloudnexus_core::StorageClass::Infrequent);
    let old = store
        .get_bucket(&upgraded, &bucket("bkt_upgrade003"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (old.deleted_at, old.purge_at),
        (Some(at(1_700_000_300)), Some(at(1_702_592_300)))
    );
    assert!(
        store
            .get_bucket(&upgraded, &bucket("bkt_upgrade004"))
            .await
            .unwrap()
            .is_none(),
        "another project's bucket stays another project's"
    );
    let usage = if version >= 2 { (2059, 2, 5, 1) } else { (0, 0, 0, 0) };
    assert_eq!(
        (
            logs.size_bytes,
            logs.object_count,
            assets.size_bytes,
            assets.object_count
        ),
        usage,
        "from version {version}"
    );

    // Listings and their totals, which read the counts and the tag index (reshaped by 0003).
    let regions = RegionSet::default();
    let tag = |s: &str| vec![TagFilter::parse(s).unwrap()];
    for (filter, names) in [
        (
            BucketFilter::new(None, None, vec![], false),
            vec!["logs-eu", "assets-us"],
        ),
        (
            BucketFilter::new(None, None, vec![], true),
            vec!["logs-eu", "old-stuff", "assets-us"],
        ),
        (
            BucketFilter::new(None, Some(regions.parse("us-east-1").unwrap()), vec![], true),
            vec!["old-stuff", "assets-us"],
        ),
        (BucketFilter::new(None, None, tag("env:prod"), false), vec!["logs-eu"]),
        (
            BucketFilter::new(None, None, tag("env"), true),
            vec!["logs-eu", "old-stuff"],
        ),
        (
            BucketFilter::new(Some("logs".into()), None, tag("team"), false),
            vec!["logs-eu"],
        ),
        // Prefix totals read the counts by prefix, which migration 9 fills from the buckets.
        (
            BucketFilter::new(Some("a".into()), None, vec![], false),
            vec!["assets-us"],
        ),
        (
            BucketFilter::new(Some("logs-eu".into()), None, tag("env:prod"), false),
            vec!["logs-eu"],
        ),
        (
            BucketFilter::new(
                Some("old-".into()),
                Some(regions.parse("us-east-1").unwrap()),
                tag("env"),
                true,
            ),
            vec!["old-stuff"],
        ),
        (BucketFilter::new(Some("old-".into()), None, vec![], false), vec![]),
    ] {
        let page = store
            .list_buckets(&upgraded, &total_request(filter.clone()))
            .await
            .unwrap();
        let listed: Vec<_> = page.buckets.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(listed, names, "{filter:?} from version {version}");
        assert_eq!(page.total, names.len() as u64, "{filter:?} from version {version}");
    }
    let neighbours = store
        .list_buckets(
            &neighbour,
            &total_request(BucketFilter::new(None, None, tag("env:prod"), false)),
        )
        .await
        .unwrap();
    assert_eq!(neighbours.total, 1);

    if version >= 2 {
        let logs_id = BucketId::parse("bkt_upgrade001").unwrap();
        let report = store
            .get_object(&logs_id, &ObjectKey::parse("reports/2024.csv").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.blob_id.as_str(), "upgradeblob000000000000002");
        assert_eq!(
            (report.size_bytes, report.etag.as_str()),
            (2048, "0f343b0931126a20f133d67c2b018a3b")
        );
        assert_eq!(
            (report.content_type.as_str(), report.last_modified),
            ("text/csv", at(1_700_000_700))
        );
        // None when written before objects had user metadata and content headers (version 11).
        let metadata: Vec<_> = report.user_metadata.iter().collect();
        let expected: &[(&str, &str)] = if version >= 11 {
            &[("source", "upgrade-fixture")]
        } else {
            &[]
        };
        assert_eq!(metadata, expected);
        let headers: Vec<_> = report.content_headers.iter().collect();
        let expected: &[(&str, &str)] = if version >= 11 {
            &[("cache-control", "max-age=60"), ("content-language", "fr")]
        } else {
            &[]
        };
        assert_eq!(headers, expected);
        let queued = store.garbage_blobs(10, at(1_800_000_000)).await.unwrap();
        assert_eq!(queued, [BlobId::parse("upgradeblob000000000000g01").unwrap()]);
    }
    if version >= 7 {
        let upload = UploadId::parse("upl_upgrade001").unwrap();
        let found = store.find_upload(&upload).await.unwrap().unwrap();
        assert_eq!(found.key.as_str(), "big/archive.tar");
        let metadata: Vec<_> = found.user_metadata.iter().collect();
        let expected: &[(&str, &str)] = if version >= 11 { &[("mtime", "1700002000")] } else { &[] };
        assert_eq!(metadata, expected);
        let headers: Vec<_> = found.content_headers.iter().collect();
        let expected: &[(&str, &str)] = if version >= 11 {
            &[("content-disposition", "attachment")]
        } else {
            &[]
        };
        assert_eq!(headers, expected);
        let parts = store.list_parts(&upload, 0, 10).await.unwrap();
        let sizes: Vec<_> = parts.iter().map(|p| (p.number, p.size_bytes)).collect();
        assert_eq!(sizes, [(1, 5_242_880), (2, 1024)]);
    }
    assert_eq!(
        store
            .secret("fixture-secret", [9u8; 32], at(1_800_000_000))
            .await
            .unwrap(),
        [3u8; 32],
        "a server secret keeps its value"
    );

    // The upgraded store takes changes, and its counts follow.
    let before = store.data_version(&upgraded).await.unwrap();
    store
        .create_bucket(NewBucket {
            id: BucketId::generate(),
            project_id: upgraded.clone(),
            name: cloudnexus_core::BucketName::parse("after-upgrade").unwrap(),
            region: regions.parse("eu-west-1").unwrap(),
            storage_class: cloudnexus_core::StorageClass::Standard,
            public: false,
            tags: cloudnexus_core::Tags::default(),
            created_at: at(1_800_000_000),
        })
        .await
        .unwrap();
    assert_ne!(store.data_version(&upgraded).await.unwrap(), before);
    let all = store
        .list_buckets(&upgraded, &total_request(BucketFilter::new(None, None, vec![], false)))
        .await
        .unwrap();
    assert_eq!(all.total, 3, "from version {version}");
    // A page's JSON is what the fields write; on SQLite, opening the store wrote every
    // bucket's JSON for list pages into its row (migration 12).
    let pages = cloudnexus_store::testing::page_json(store, &upgraded).await;
    assert!(pages.len() >= 3, "from version {version}: {pages:?}");
    assert!(
        pages.iter().all(|w| w.from_row_json == keeps_listing_json),
        "from version {version}: {pages:?}"
    );
}

#[tokio::test]
async fn a_sqlite_folder_of_every_earlier_schema_version_upgrades_with_every_record() {
    for migration in migrations("sqlite").await {
        let version = migration.version;
        let dir = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("metadata.db"))
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        build_at(&pool, "sqlite", version).await;
        pool.close().await;
        let store = SqliteStore::open(dir.path()).await.unwrap();
        check_every_record(&store, version, true).await;
        store.close().await;
    }
}

#[tokio::test]
async fn a_postgresql_database_of_every_earlier_schema_version_upgrades_with_every_record() {
    for migration in migrations("postgres").await {
        let version = migration.version;
        let url = cloudnexus_store::testing::new_postgres_database().await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        build_at(&pool, "postgres", version).await;
        pool.close().await;
        let store = PgStore::open(&url).await.unwrap();
        check_every_record(&store, version, false).await;
        store.close().await;
    }
}
