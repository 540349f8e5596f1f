//! Storing an object, in the order that makes it durable: the bytes go to a durable blob
//! first; then one transaction records the object and the bucket's new usage (and queues any
//! blob it replaced); only then is the write acknowledged. A body over the size limit, a wrong
//! MD5, a failed precondition or a client that goes away leaves nothing behind.

use super::live;
use crate::buckets::change_failed;
use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::{BlobId, BucketRef, Object, ObjectKey};
use cloudnexus_store::{BlobWriteError, ByteStream, PutConditions, StoreError};

/// An object to store, its headers parsed.
#[derive(Debug, Clone)]
pub struct PutObject {
    pub bucket: BucketRef,
    pub key: ObjectKey,
    pub content_type: String,
    /// The length the client declared, if any: checked against the limit before any byte is
    /// read.
    pub declared_length: Option<u64>,
    /// The MD5 the client declared (`Content-MD5`), checked against the bytes received.
    pub content_md5: Option<[u8; 16]>,
    pub conditions: PutConditions,
}

/// A stored object, and whether it is new (rather than a replacement).
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub object: Object,
    pub created: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Service {
    /// Streams `body` into the object `put.key` of the caller's live bucket (`storage:write`),
    /// replacing any object with that key. Returns once bytes and metadata are durable.
    pub async fn put_object(
        &self,
        principal: &Principal,
        put: PutObject,
        body: ByteStream,
    ) -> Result<StoredObject, ServiceError> {
        principal.authorize(Operation::PutObject)?;
        let target = live(self.find_bucket(principal, &put.bucket).await?, &put.bucket)?;
        let max = self.settings().max_object_bytes;
        if put.declared_length.is_some_and(|n| n > max) {
            return Err(ServiceError::ObjectTooLarge { max });
        }
        // Fail fast, before reading the body, when a precondition already does not hold.
        let existing = self.store().get_object(&target.id, &put.key).await?;
        if !put.conditions.allow(existing.as_ref().map(|o| o.etag.as_str())) {
            return Err(ServiceError::WritePreconditionFailed);
        }

        let written = self.blobs().write(body, max).await.map_err(|e| match e {
            BlobWriteError::TooLarge(max) => ServiceError::ObjectTooLarge { max },
            BlobWriteError::Body(e) => ServiceError::BodyUnreadable(e),
            BlobWriteError::Storage(e) => ServiceError::BlobStorage(e),
        })?;
        if put.content_md5.is_some_and(|m| m != written.md5) {
            self.discard(written.id).await;
            return Err(ServiceError::BadDigest);
        }
        let object = Object {
            bucket_id: target.id.clone(),
            key: put.key,
            blob_id: written.id.clone(),
            size_bytes: written.size,
            etag: hex(&written.md5),
            content_type: put.content_type,
            last_modified: self.clock().now(),
        };
        let replaced = match self
            .store()
            .put_object(&principal.project_id, object.clone(), &put.conditions)
            .await
        {
            Ok(replaced) => replaced,
            Err(e) => {
                self.discard(written.id).await;
                return Err(match e {
                    StoreError::PreconditionFailed => ServiceError::WritePreconditionFailed,
                    other => change_failed(other, &put.bucket),
                });
            }
        };
        let created = replaced.is_none();
        if !created {
            self.collect_garbage_soon();
        }
        tracing::info!(bucket.id = %object.bucket_id, size = object.size_bytes, created, "object stored");
        Ok(StoredObject { object, created })
    }

    /// Removes a blob that will not be recorded (a refused or failed write).
    pub(crate) async fn discard(&self, blob: BlobId) {
        if let Err(e) = self.blobs().delete(&blob).await {
            tracing::error!(error = %e, blob.id = %blob, "removing an unused blob failed");
        }
    }
}
