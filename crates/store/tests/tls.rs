//! TLS to PostgreSQL, Redis and S3: what the conformance suites cannot show by passing over TLS
//! (`metadata_backends::postgres_tls`, `limiter_backends::redis_tls`, `blob_backends::s3_tls`).
//! A verified connection really is encrypted, and a server whose certificate the trusted
//! authority did not sign is refused, by every backend, before anything is read or written.

use cloudnexus_store::testing::{
    new_postgres_database, other_authority, postgres_verified_tls, redis_tls_url, test_authority,
    unique_redis_key_prefix,
};
use cloudnexus_store::{MetadataStore, PgStore, RedisRateLimiter, S3BlobStore};
use sqlx::Connection;

#[tokio::test]
async fn a_verified_postgres_store_talks_to_its_database_over_tls_only() {
    let database = new_postgres_database().await;
    let url = postgres_verified_tls(&database, &test_authority());
    let store = PgStore::open(&url)
        .await
        .expect("the test authority signed the server's certificate");
    // Through the store: a read.
    assert!(store.find_project("no-such-project").await.unwrap().is_none());

    // Every session on the store's database, as the server sees it, is encrypted.
    let mut observer = sqlx::PgConnection::connect(&url).await.unwrap();
    let name = database.rsplit_once('/').unwrap().1;
    let (sessions, encrypted): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.datname = $1",
    )
    .bind(name)
    .fetch_one(&mut observer)
    .await
    .unwrap();
    assert!(sessions >= 2, "the store's session and the observer's: {sessions}");
    assert_eq!(encrypted, sessions, "a session without TLS");
    store.close().await;
}

#[tokio::test]
async fn a_url_without_tls_talks_plain_tcp_to_a_server_that_offers_tls() {
    // What the `postgres` conformance suite runs on, beside `postgres_tls`.
    let url = cloudnexus_store::testing::postgres_without_tls(&new_postgres_database().await);
    let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
    let (encrypted,): (bool,) = sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert!(!encrypted);
}

#[tokio::test]
async fn postgres_with_the_wrong_authority_is_refused() {
    let database = new_postgres_database().await;
    let url = postgres_verified_tls(&database, &other_authority());
    let refused = PgStore::open(&url)
        .await
        .expect_err("a certificate no trusted authority signed");
    let message = format!("{refused:?}").to_lowercase();
    assert!(
        message.contains("certificate") || message.contains("issuer"),
        "{message}"
    );
}

#[tokio::test]
async fn redis_with_the_wrong_authority_is_refused() {
    let authority = std::fs::read(other_authority()).unwrap();
    let refused = RedisRateLimiter::connect_trusting(&redis_tls_url(), &unique_redis_key_prefix(), Some(authority))
        .await
        .expect_err("a certificate no trusted authority signed");
    let message = refused.to_string().to_lowercase();
    assert!(
        message.contains("certificate") || message.contains("issuer"),
        "{message}"
    );
}

#[tokio::test]
async fn an_authority_for_a_plain_redis_url_is_refused() {
    let authority = std::fs::read(test_authority()).unwrap();
    let plain = cloudnexus_store::testing::redis_url();
    let refused = RedisRateLimiter::connect_trusting(&plain, &unique_redis_key_prefix(), Some(authority))
        .await
        .expect_err("TLS settings with a redis:// URL");
    assert!(refused.to_string().contains("rediss://"), "{refused}");
}

#[tokio::test]
async fn s3_with_the_wrong_authority_or_only_the_built_in_ones_is_refused() {
    use cloudnexus_store::testing::{new_s3_tls_bucket, s3_tls_builder, s3_tls_endpoint};
    let url = new_s3_tls_bucket().await;
    // The test authority opens it (what `blob_backends::s3_tls` runs on) ...
    S3BlobStore::open(&url, s3_tls_builder(&test_authority()))
        .await
        .expect("the test authority signed the server's certificate");
    // ... another one does not, nor do the built-in authorities alone.
    let built_in_only = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(s3_tls_endpoint())
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test");
    for builder in [s3_tls_builder(&other_authority()), built_in_only] {
        let refused = S3BlobStore::open(&url, builder)
            .await
            .expect_err("a certificate no trusted authority signed");
        let mut chain = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(&refused);
        while let Some(e) = cause {
            chain.push(e.to_string());
            cause = e.source();
        }
        let message = chain.join(": ");
        assert!(message.contains("invalid peer certificate: UnknownIssuer"), "{message}");
    }
}
