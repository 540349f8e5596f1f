//! Storing an object, in the order that makes it durable: the bytes go to a durable blob
//! first; then one transaction records the object and the bucket's new usage (and queues any
//! blob it replaced); only then is the write acknowledged. A body of at most
//! [`MAX_INLINE_BLOB_BYTES`] is kept by the metadata store instead, in that same transaction. A body over the size limit, a wrong
//! MD5, a failed precondition or a client that goes away leaves nothing behind.

use super::{blob_write_failed, live};
use crate::buckets::change_failed;
use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use bytes::Bytes;
use cloudnexus_core::{BlobId, BucketRef, ContentHeaders, Object, ObjectKey, UserMetadata};
use cloudnexus_store::{ByteStream, MAX_INLINE_BLOB_BYTES, PutConditions, StoreError, read_start};
use futures_util::StreamExt;
use md5::Digest;

/// An object to store, its headers parsed.
#[derive(Debug, Clone)]
pub struct PutObject {
    pub bucket: BucketRef,
    pub key: ObjectKey,
    pub content_type: String,
    /// `Cache-Control`, `Content-Disposition` and the like.
    pub content_headers: ContentHeaders,
    /// What the client gave as `x-amz-meta-*` (none through the JSON API).
    pub user_metadata: UserMetadata,
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
        // Fail fast, before reading the body, when a precondition already does not hold (the
        // write checks the conditions again in its transaction; without any, there is nothing
        // to read first).
        if !put.conditions.is_unconditional() {
            let existing = self.store().get_object(&target.id, &put.key).await?;
            if !put.conditions.allow(existing.as_ref().map(|o| o.etag.as_str())) {
                return Err(ServiceError::WritePreconditionFailed);
            }
        }

        let object = |blob_id: BlobId, size_bytes: u64, md5: &[u8; 16]| Object {
            bucket_id: target.id.clone(),
            key: put.key.clone(),
            blob_id,
            size_bytes,
            etag: hex(md5),
            content_type: put.content_type.clone(),
            content_headers: put.content_headers.clone(),
            user_metadata: put.user_metadata.clone(),
            last_modified: self.clock().now(),
        };
        let (object, replaced) = match read_small(body, max).await? {
            // A small body is kept with the metadata, in the object's own transaction.
            Body::Small(bytes, md5) => {
                if put.content_md5.is_some_and(|m| m != md5) {
                    return Err(ServiceError::BadDigest);
                }
                let object = object(BlobId::generate(), bytes.len() as u64, &md5);
                let stored = self
                    .store()
                    .put_inline_object(&principal.project_id, object.clone(), bytes, &put.conditions)
                    .await;
                (object, stored.map_err(|e| write_failed(e, &put.bucket))?)
            }
            Body::Large(body) => {
                let written = self.blobs().write(body, max).await.map_err(blob_write_failed)?;
                if put.content_md5.is_some_and(|m| m != written.md5) {
                    self.discard(written.id).await;
                    return Err(ServiceError::BadDigest);
                }
                let object = object(written.id.clone(), written.size, &written.md5);
                match self
                    .store()
                    .put_object(&principal.project_id, object.clone(), &put.conditions)
                    .await
                {
                    Ok(replaced) => (object, replaced),
                    Err(e) => {
                        self.discard(written.id).await;
                        return Err(write_failed(e, &put.bucket));
                    }
                }
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

/// Why recording an object failed, in the service's terms.
fn write_failed(e: StoreError, bucket: &BucketRef) -> ServiceError {
    match e {
        StoreError::PreconditionFailed => ServiceError::WritePreconditionFailed,
        other => change_failed(other, bucket),
    }
}

/// A request body: whole (with its MD5) when it ends within [`MAX_INLINE_BLOB_BYTES`], else the
/// stream again (the bytes read so far first).
enum Body {
    Small(Bytes, [u8; 16]),
    Large(ByteStream),
}

/// Reads `body` until it ends or passes [`MAX_INLINE_BLOB_BYTES`] (or `max`, the size limit).
async fn read_small(mut body: ByteStream, max: u64) -> Result<Body, ServiceError> {
    let mut start = read_start(&mut body, MAX_INLINE_BLOB_BYTES, max)
        .await
        .map_err(blob_write_failed)?;
    if start.ended {
        let bytes = start.take_bytes();
        return Ok(Body::Small(bytes, start.md5.finalize().into()));
    }
    let read = futures_util::stream::iter(start.chunks.into_iter().map(Ok));
    Ok(Body::Large(read.chain(body).boxed()))
}
