//! The backends under test, each opened fresh for one test.

use cloudnexus_store::{
    BlobStore, InMemoryRateLimiter, LocalBlobStore, MetadataStore, PgStore, RateLimiter, RedisRateLimiter, S3BlobStore,
    SqliteStore,
};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tempfile::TempDir;

/// A fresh, empty metadata store, and a way to open a second handle on the same data (what
/// another process, an admin command or another node would see).
pub struct MetadataFixture {
    pub store: Arc<dyn MetadataStore>,
    another: Box<dyn Fn() -> BoxFuture<'static, Arc<dyn MetadataStore>> + Send + Sync>,
    /// Runs one SQL statement on the database, past the store (as a hand-written change or an
    /// older binary would).
    execute: Box<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>,
    /// Whether the backend's rows keep each bucket's JSON for list pages (SQLite's do).
    pub keeps_listing_json: bool,
    /// The data folder of a file-backed store.
    _dir: Option<TempDir>,
}

impl MetadataFixture {
    pub async fn another_handle(&self) -> Arc<dyn MetadataStore> {
        (self.another)().await
    }

    /// Runs `sql`, one statement in the SQL both databases accept, on the store's database
    /// directly.
    pub async fn execute(&self, sql: &str) {
        (self.execute)(sql.to_owned()).await
    }
}

pub async fn sqlite() -> MetadataFixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let store: Arc<dyn MetadataStore> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let database = path.join(cloudnexus_store::metadata::sqlite::DATABASE_FILE);
    MetadataFixture {
        store,
        another: Box::new(move || {
            let path = path.clone();
            Box::pin(async move { Arc::new(SqliteStore::open(&path).await.unwrap()) as Arc<dyn MetadataStore> })
        }),
        keeps_listing_json: true,
        execute: Box::new(move |sql| {
            let database = database.clone();
            Box::pin(async move {
                let connection = rusqlite::Connection::open(&database).unwrap();
                connection.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                connection.execute(&sql, []).unwrap();
            })
        }),
        _dir: Some(dir),
    }
}

/// PostgreSQL over plain TCP (the test server also offers TLS: see `postgres_tls`).
pub async fn postgres() -> MetadataFixture {
    let database = cloudnexus_store::testing::new_postgres_database().await;
    postgres_at(cloudnexus_store::testing::postgres_without_tls(&database)).await
}

/// PostgreSQL over TLS, the server's certificate verified (`sslmode=verify-full`).
pub async fn postgres_tls() -> MetadataFixture {
    let database = cloudnexus_store::testing::new_postgres_database().await;
    let authority = cloudnexus_store::testing::test_authority();
    postgres_at(cloudnexus_store::testing::postgres_verified_tls(&database, &authority)).await
}

async fn postgres_at(url: String) -> MetadataFixture {
    let store: Arc<dyn MetadataStore> = Arc::new(PgStore::open(&url).await.unwrap());
    let database = url.clone();
    MetadataFixture {
        store,
        another: Box::new(move || {
            let url = url.clone();
            Box::pin(async move { Arc::new(PgStore::open(&url).await.unwrap()) as Arc<dyn MetadataStore> })
        }),
        keeps_listing_json: false,
        execute: Box::new(move |sql| {
            let database = database.clone();
            Box::pin(async move {
                let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&database)
                    .await
                    .unwrap();
                sqlx::query(&sql).execute(&mut connection).await.unwrap();
            })
        }),
        _dir: None,
    }
}

/// A fresh blob store.
pub struct BlobFixture {
    pub blobs: Arc<dyn BlobStore>,
    _dir: Option<TempDir>,
}

pub async fn local_blobs() -> BlobFixture {
    let dir = tempfile::tempdir().unwrap();
    BlobFixture {
        blobs: Arc::new(LocalBlobStore::open(dir.path()).await.unwrap()),
        _dir: Some(dir),
    }
}

/// A fresh bucket on the test S3 server, with the blobs under a prefix as a deployment might.
pub async fn s3_blobs() -> BlobFixture {
    let bucket = cloudnexus_store::testing::new_s3_bucket().await;
    let url = format!("{bucket}/deployment/one");
    let blobs = S3BlobStore::open(&url, cloudnexus_store::testing::s3_builder())
        .await
        .unwrap_or_else(|e| panic!("cannot open {url} on the test S3 server: {e}"));
    BlobFixture {
        blobs: Arc::new(blobs),
        _dir: None,
    }
}

/// A fresh bucket on the test S3 server's TLS endpoint, its certificate checked against the
/// test authority.
pub async fn s3_tls_blobs() -> BlobFixture {
    use cloudnexus_store::testing::{new_s3_tls_bucket, s3_tls_builder, test_authority};
    let url = format!("{}/deployment/one", new_s3_tls_bucket().await);
    let blobs = S3BlobStore::open(&url, s3_tls_builder(&test_authority()))
        .await
        .unwrap_or_else(|e| panic!("cannot open {url} on the test S3 server's TLS endpoint: {e}"));
    BlobFixture {
        blobs: Arc::new(blobs),
        _dir: None,
    }
}

/// A fresh limiter, and a second handle on the same counts (another node's, for a shared
/// limiter; the same one for an in-memory limiter, which has no other).
pub struct LimiterFixture {
    pub limiter: Arc<dyn RateLimiter>,
    pub another: Arc<dyn RateLimiter>,
}

pub async fn memory_limiter() -> LimiterFixture {
    let limiter: Arc<dyn RateLimiter> = Arc::new(InMemoryRateLimiter::default());
    LimiterFixture {
        another: limiter.clone(),
        limiter,
    }
}

pub async fn redis_limiter() -> LimiterFixture {
    redis_at(cloudnexus_store::testing::redis_url(), None).await
}

/// Redis over TLS, the server's certificate verified against the test authority alone.
pub async fn redis_tls_limiter() -> LimiterFixture {
    let authority = std::fs::read(cloudnexus_store::testing::test_authority()).unwrap();
    redis_at(cloudnexus_store::testing::redis_tls_url(), Some(authority)).await
}

async fn redis_at(url: String, authorities: Option<Vec<u8>>) -> LimiterFixture {
    let prefix = cloudnexus_store::testing::unique_redis_key_prefix();
    let connect = || async {
        let limiter: Arc<dyn RateLimiter> = Arc::new(
            RedisRateLimiter::connect_trusting(&url, &prefix, authorities.clone())
                .await
                .unwrap_or_else(|e| panic!("cannot reach the test Redis at {url}: {e}")),
        );
        limiter
    };
    LimiterFixture {
        limiter: connect().await,
        another: connect().await,
    }
}
