//! The state of CloudNexus Storage behind three traits, each with its backends side by side:
//!
//! - [`MetadataStore`] (`metadata/`): projects, API keys, buckets and objects. SQLite in the
//!   data folder (`metadata/sqlite/`), or PostgreSQL shared by several nodes
//!   (`metadata/postgres/`).
//! - [`BlobStore`] (`blob/`): object bytes, named by internal ids. A local folder
//!   (`blob/local.rs`).
//! - [`RateLimiter`] (`limiter/`): request counts per caller. In memory (`limiter/memory.rs`).
//!
//! `migrate` (the data folder onto PostgreSQL and S3) and `backup` (online backup and restore of
//! the data folder) work on an embedded data folder as a whole.
//!
//! [`Backends::open`] picks each one once, at start-up, from the configuration. Only this crate
//! knows SQL and files; above it, code cannot tell which backend it runs on.

pub mod backends;
pub mod backup;
pub mod blob;
mod error;
pub mod limiter;
pub mod metadata;
pub mod migrate;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use backends::{
    BackendConfig, Backends, DEFAULT_LIMITER_KEY_PREFIX, OpenError, open_blobs, open_metadata, redacted,
};
pub use blob::{
    BlobStore, BlobWriteError, BodyStart, ByteStream, LocalBlobStore, S3BlobStore, WrittenBlob, read_start,
};
pub use error::{BackendFailure, FailureKind, StoreError, StoreResult};
pub use limiter::{Admission, InMemoryRateLimiter, LimiterUnavailable, RateLimiter, RedisRateLimiter, Verdict};
pub use metadata::{
    ApiKeyRecord, BucketCollector, BucketPatch, BucketUsage, DataVersion, FoundApiKey, MAX_INLINE_BLOB_BYTES,
    MetadataStore, NewBucket, ObjectEntry, ObjectListRequest, ObjectPage, ObjectPosition, PageSink, PgStore,
    PurgedBucket, PutConditions, SqliteStore, StoreStamp,
};
