//! One behavioural suite per trait of the store, written once and run against every backend:
//! `metadata` against each [`MetadataStore`], `blobs` against each [`BlobStore`], `limiter`
//! against each [`RateLimiter`]. A backend joins by adding a fixture here and one macro line;
//! passing the suite is how it proves it behaves as its siblings do.
//!
//! [`MetadataStore`]: cloudnexus_store::MetadataStore
//! [`BlobStore`]: cloudnexus_store::BlobStore
//! [`RateLimiter`]: cloudnexus_store::RateLimiter

mod blobs;
mod fixtures;
mod limiter;
mod metadata;

/// The metadata suite for one backend: `$fixture` is an async fn returning a
/// [`fixtures::MetadataFixture`].
macro_rules! metadata_suite {
    ($backend:ident, $fixture:path) => {
        mod $backend {
            use crate::metadata;

            metadata::suite_tests!($fixture);
        }
    };
}

macro_rules! blob_suite {
    ($backend:ident, $fixture:path) => {
        mod $backend {
            use crate::blobs;

            blobs::suite_tests!($fixture);
        }
    };
}

macro_rules! limiter_suite {
    ($backend:ident, $fixture:path) => {
        mod $backend {
            use crate::limiter;

            limiter::suite_tests!($fixture);
        }
    };
}

mod metadata_backends {
    metadata_suite!(sqlite, crate::fixtures::sqlite);
    metadata_suite!(postgres, crate::fixtures::postgres);
    metadata_suite!(postgres_tls, crate::fixtures::postgres_tls);
}

mod blob_backends {
    blob_suite!(local, crate::fixtures::local_blobs);
    blob_suite!(s3, crate::fixtures::s3_blobs);
    blob_suite!(s3_tls, crate::fixtures::s3_tls_blobs);
}

mod limiter_backends {
    limiter_suite!(memory, crate::fixtures::memory_limiter);
    limiter_suite!(redis, crate::fixtures::redis_limiter);
    limiter_suite!(redis_tls, crate::fixtures::redis_tls_limiter);
}
