//! Objects: store ([`put`], or in parts: [`multipart`]), read with ranges and conditions
//! ([`get`]), delete and list. A
//! soft-deleted bucket keeps its objects but serves and takes none until restored; objects of
//! a public bucket can be read without credentials, and nothing else can.

mod delete;
pub mod get;
pub mod list;
pub mod multipart;
pub mod put;

use crate::{Principal, Service, ServiceError};
use cloudnexus_core::{Bucket, BucketRef};
use cloudnexus_store::BlobWriteError;

impl Service {
    /// The caller's live bucket, or, for a request without credentials, a live public bucket
    /// of any project. An anonymous request for anything else is refused as needing a
    /// credential, so it learns nothing about which buckets exist. Scopes are the caller's to
    /// check first.
    pub(crate) async fn readable_bucket(
        &self,
        principal: Option<&Principal>,
        bucket: &BucketRef,
    ) -> Result<Bucket, ServiceError> {
        match principal {
            Some(p) => live(self.find_bucket(p, bucket).await?, bucket),
            None => match self.store().get_bucket_any_project(bucket).await? {
                Some(b) if b.public && !b.is_deleted() => Ok(b),
                _ => Err(ServiceError::CredentialRequired),
            },
        }
    }
}

/// Why a request body did not become a blob, in the service's terms.
pub(crate) fn blob_write_failed(e: BlobWriteError) -> ServiceError {
    match e {
        BlobWriteError::TooLarge(max) => ServiceError::ObjectTooLarge { max },
        BlobWriteError::Body(e) => ServiceError::BodyUnreadable(e),
        BlobWriteError::Storage(e) => ServiceError::BlobStorage(e),
    }
}

/// A soft-deleted bucket keeps its objects but serves none of them until restored.
pub(crate) fn live(b: Bucket, bucket: &BucketRef) -> Result<Bucket, ServiceError> {
    if b.is_deleted() {
        Err(ServiceError::BucketDeleted(bucket.clone()))
    } else {
        Ok(b)
    }
}
