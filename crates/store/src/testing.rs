//! Helpers for tests that need a real PostgreSQL, Redis or S3-compatible server (the store's conformance suite
//! and the API suite on the shared backends). Built only with the `testing` feature.

/// The variable naming the PostgreSQL server the tests may create databases on, as a URL
/// ending in a database they can connect to (`scripts/postgres.sh start` prints one).
pub const POSTGRES_URL_VARIABLE: &str = "CLOUDNEXUS_TEST_POSTGRES_URL";

/// The URL of a new, empty database on the test server. Panics, loudly, when no server is
/// configured: a test that needs PostgreSQL is never skipped.
pub async fn new_postgres_database() -> String {
    let server = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VARIABLE} is not set: this test needs a PostgreSQL server. Run the tests \
             with scripts/test.sh, or start one with scripts/postgres.sh start and export \
             {POSTGRES_URL_VARIABLE}=<the URL it prints>"
        )
    });
    let name = format!("cnx_test_{}", cloudnexus_core::ids::random_lower_alnum(12));
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {server}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    // The server's URL may carry settings (`?sslmode=...`): they stay.
    let (location, settings) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(l, s)| (l, Some(s)));
    let (base, _) = location.rsplit_once('/').expect("a URL ending in /DATABASE");
    with_settings(&format!("{base}/{name}"), settings.unwrap_or(""))
}

/// `url` with `settings` (`name=value&...`) added to its query string.
fn with_settings(url: &str, settings: &str) -> String {
    match (settings.is_empty(), url.contains('?')) {
        (true, _) => url.to_owned(),
        (false, true) => format!("{url}&{settings}"),
        (false, false) => format!("{url}?{settings}"),
    }
}

/// `database` (a URL of [`new_postgres_database`]) over plain TCP, even where the server
/// offers TLS (the client's default, `prefer`, would take it).
pub fn postgres_without_tls(database: &str) -> String {
    with_settings(database, "sslmode=disable")
}

/// The variable naming the Redis server the tests may use (`scripts/redis.sh start` prints one).
pub const REDIS_URL_VARIABLE: &str = "CLOUDNEXUS_TEST_REDIS_URL";

/// The URL of the test Redis server. Panics, loudly, when none is configured.
pub fn redis_url() -> String {
    std::env::var(REDIS_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{REDIS_URL_VARIABLE} is not set: this test needs a Redis server. Run the tests with \
             scripts/test.sh, or start one with scripts/redis.sh start and export \
             {REDIS_URL_VARIABLE}=<the URL it prints>"
        )
    })
}

/// The variable naming the folder of the test servers' certificates (`scripts/tls.sh` prints
/// it): `ca.pem`, the authority that signed the servers' certificates, and `other-ca.pem`, one
/// that signed nothing.
pub const TLS_DIR_VARIABLE: &str = "CLOUDNEXUS_TEST_TLS_DIR";

fn tls_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::var(TLS_DIR_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{TLS_DIR_VARIABLE} is not set: this test needs the test servers' certificates. Run the \
             tests with scripts/test.sh, or export {TLS_DIR_VARIABLE}=$(scripts/tls.sh)"
        )
    });
    std::path::Path::new(&dir).join(name)
}

/// The authority that signed the test servers' certificates (a PEM file).
pub fn test_authority() -> std::path::PathBuf {
    tls_file("ca.pem")
}

/// An authority that signed none of the test servers' certificates (a PEM file).
pub fn other_authority() -> std::path::PathBuf {
    tls_file("other-ca.pem")
}

/// `database` (a URL of [`new_postgres_database`]) asking for TLS, the server's certificate
/// checked against `authority` and its name against the URL's host (libpq's `verify-full`).
pub fn postgres_verified_tls(database: &str, authority: &std::path::Path) -> String {
    with_settings(
        database,
        &format!("sslmode=verify-full&sslrootcert={}", authority.display()),
    )
}

/// The variable naming the test Redis server's TLS port (`scripts/redis.sh tls-url` prints it).
pub const REDIS_TLS_URL_VARIABLE: &str = "CLOUDNEXUS_TEST_REDIS_TLS_URL";

/// The `rediss://` URL of the test Redis server. Panics, loudly, when none is configured.
pub fn redis_tls_url() -> String {
    std::env::var(REDIS_TLS_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{REDIS_TLS_URL_VARIABLE} is not set: this test needs a Redis server speaking TLS. Run \
             the tests with scripts/test.sh, or start one with scripts/redis.sh start and export \
             {REDIS_TLS_URL_VARIABLE}=$(scripts/redis.sh tls-url)"
        )
    })
}

/// A key prefix no other test uses, so that tests can share one Redis server.
pub fn unique_redis_key_prefix() -> String {
    format!("cnx-test-{}", cloudnexus_core::ids::random_lower_alnum(12))
}

/// The variable naming the S3-compatible server the tests may create buckets on, as its
/// endpoint (`scripts/s3.sh start` prints one). The tests sign with the credentials of
/// [`s3_builder`]; moto's server accepts any.
pub const S3_ENDPOINT_VARIABLE: &str = "CLOUDNEXUS_TEST_S3_ENDPOINT";

/// The endpoint of the test S3 server. Panics, loudly, when none is configured.
pub fn s3_endpoint() -> String {
    std::env::var(S3_ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{S3_ENDPOINT_VARIABLE} is not set: this test needs an S3-compatible server. Run the \
             tests with scripts/test.sh, or start one with scripts/s3.sh start and export \
             {S3_ENDPOINT_VARIABLE}=<the endpoint it prints>"
        )
    })
}

/// A client configuration for the test S3 server (what the `AWS_*` variables give in
/// production).
pub fn s3_builder() -> object_store::aws::AmazonS3Builder {
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(s3_endpoint())
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
}

/// The `s3://` URL of a new, empty bucket on the test server (created with an anonymous
/// `PUT /BUCKET`, which moto's server accepts).
pub async fn new_s3_bucket() -> String {
    create_s3_bucket(&s3_endpoint(), reqwest::Client::new()).await
}

/// The variable naming the test S3 server's TLS endpoint (`scripts/s3.sh tls-url` prints it),
/// whose certificate [`test_authority`] signed.
pub const S3_TLS_ENDPOINT_VARIABLE: &str = "CLOUDNEXUS_TEST_S3_TLS_ENDPOINT";

/// The `https://` endpoint of the test S3 server. Panics, loudly, when none is configured.
pub fn s3_tls_endpoint() -> String {
    std::env::var(S3_TLS_ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{S3_TLS_ENDPOINT_VARIABLE} is not set: this test needs an S3-compatible server speaking \
             TLS. Run the tests with scripts/test.sh, or start one with scripts/s3.sh start and export \
             {S3_TLS_ENDPOINT_VARIABLE}=$(scripts/s3.sh tls-url)"
        )
    })
}

/// A client configuration for the test S3 server's TLS endpoint, trusting `authority` (a PEM
/// file) besides the built-in authorities, as `AWS_CA_BUNDLE` makes a node do.
pub fn s3_tls_builder(authority: &std::path::Path) -> object_store::aws::AmazonS3Builder {
    let pem = std::fs::read(authority).unwrap_or_else(|e| panic!("cannot read {}: {e}", authority.display()));
    let options = crate::blob::trusting_authorities(object_store::ClientOptions::new(), &pem)
        .unwrap_or_else(|e| panic!("{}: {e}", authority.display()));
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(s3_tls_endpoint())
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_client_options(options)
}

/// The `s3://` URL of a new, empty bucket on the test server's TLS endpoint.
pub async fn new_s3_tls_bucket() -> String {
    let pem = std::fs::read(test_authority()).expect("the test authority");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM certificate"))
        .build()
        .expect("an HTTPS client");
    create_s3_bucket(&s3_tls_endpoint(), client).await
}

async fn create_s3_bucket(endpoint: &str, client: reqwest::Client) -> String {
    let name = format!("cnx-test-{}", cloudnexus_core::ids::random_lower_alnum(12));
    let response = client
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test S3 server at {endpoint}: {e}"));
    assert!(
        response.status().is_success(),
        "cannot create a test bucket: {}",
        response.status()
    );
    format!("s3://{name}")
}

/// How many blobs the metadata of `config` keeps itself (small objects' bytes, table
/// `inline_blobs`), read straight from the database, for tests that count every stored blob.
pub async fn inline_blob_count(config: &crate::BackendConfig) -> usize {
    const COUNT: &str = "SELECT COUNT(*) FROM inline_blobs";
    let count: i64 = match config.metadata_url.as_deref() {
        None => {
            let path = config.data_dir.join(crate::metadata::sqlite::DATABASE_FILE);
            let connection = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
            connection
                .query_row(COUNT, [], |row| row.get(0))
                .expect("inline blobs count")
        }
        Some(url) => {
            let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                .await
                .unwrap_or_else(|e| panic!("cannot reach {}: {e}", crate::backends::redacted(url)));
            sqlx::query_scalar(COUNT)
                .fetch_one(&mut connection)
                .await
                .expect("inline blobs count")
        }
    };
    usize::try_from(count).expect("a count")
}

/// One bucket as a list page writes it: its id, its JSON, and whether it came as the JSON its
/// row keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBucket {
    pub id: String,
    pub json: String,
    pub from_row_json: bool,
}

/// A sink that writes each bucket's JSON as a list page does, taking the JSON rows keep or not.
#[derive(Debug, Default)]
pub struct JsonSink {
    pub takes_rendered: bool,
    pub written: Vec<WrittenBucket>,
}

fn put_number(out: &mut Vec<u8>, n: u64) {
    use bytes::BufMut;
    out.put_slice(n.to_string().as_bytes());
}

impl crate::PageSink for JsonSink {
    fn push(&mut self, bucket: cloudnexus_core::listing::ListedBucket<'_>) -> crate::StoreResult<()> {
        let mut json = Vec::new();
        cloudnexus_core::bucket_json::put_bucket(&mut json, &bucket, put_number);
        self.written.push(WrittenBucket {
            id: bucket.id.as_str().to_owned(),
            json: String::from_utf8(json).expect("JSON written from text is text"),
            from_row_json: false,
        });
        Ok(())
    }

    fn takes_rendered(&self) -> bool {
        self.takes_rendered
    }

    fn push_rendered(&mut self, bucket: cloudnexus_core::bucket_json::RenderedBucketRef<'_>) -> crate::StoreResult<()> {
        let mut json = Vec::new();
        bucket.put(&mut json, put_number);
        self.written.push(WrittenBucket {
            id: bucket.id.as_str().to_owned(),
            json: String::from_utf8_lossy(&json).into_owned(),
            from_row_json: true,
        });
        Ok(())
    }
}

/// Every bucket of `project` (deleted ones too, up to 100) as a list page writes it, from the
/// JSON rows keep where they keep it. Panics unless the same page written from the fields alone
/// is the same JSON.
pub async fn page_json(store: &dyn crate::MetadataStore, project: &cloudnexus_core::ProjectId) -> Vec<WrittenBucket> {
    use cloudnexus_core::listing::{BucketFilter, ListRequest, PageStart};
    let request = ListRequest {
        filter: BucketFilter::new(None, None, Vec::new(), true),
        limit: 100,
        start: PageStart::Offset(0),
    };
    let mut rendered = JsonSink {
        takes_rendered: true,
        ..JsonSink::default()
    };
    let mut fields = JsonSink::default();
    store.list_buckets_into(project, &request, &mut rendered).await.unwrap();
    store.list_buckets_into(project, &request, &mut fields).await.unwrap();
    let json = |w: &[WrittenBucket]| w.iter().map(|w| (w.id.clone(), w.json.clone())).collect::<Vec<_>>();
    assert_eq!(
        json(&rendered.written),
        json(&fields.written),
        "rows' JSON differs from their fields'"
    );
    assert!(fields.written.iter().all(|w| !w.from_row_json));
    rendered.written
}
