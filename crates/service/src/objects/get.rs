//! Reading an object: the conditional headers evaluated in RFC 9110's order (`If-Match`, else
//! `If-Unmodified-Since`; then `If-None-Match`, else `If-Modified-Since`), then one byte range,
//! then the bytes, streamed.

use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::{BucketRef, ByteRange, Object, ObjectKey};
use cloudnexus_store::{ByteStream, MAX_INLINE_BLOB_BYTES};
use futures_util::StreamExt;

/// The conditions of a read, as the client sent them (ETags without quotes or `W/`; times in
/// Unix seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadConditions {
    pub if_match: Option<Vec<String>>,
    pub if_none_match: Option<Vec<String>>,
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

/// One read of an object.
#[derive(Debug, Clone)]
pub struct GetObject {
    pub bucket: BucketRef,
    pub key: ObjectKey,
    pub conditions: ReadConditions,
    pub range: Option<ByteRange>,
    /// False for a read of the metadata alone (HTTP `HEAD`).
    pub with_body: bool,
}

/// What a read found.
pub enum ObjectRead {
    /// The conditions say the client's copy is current.
    NotModified(Object),
    /// The object, the bytes `first..=last` asked for (all when `None`), and their stream
    /// (when the body was asked for and is not empty).
    Content {
        object: Object,
        span: Option<(u64, u64)>,
        body: Option<ByteStream>,
    },
}

impl std::fmt::Debug for ObjectRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotModified(o) => f.debug_tuple("NotModified").field(o).finish(),
            Self::Content { object, span, body } => f
                .debug_struct("Content")
                .field("object", object)
                .field("span", span)
                .field("body", &body.as_ref().map(|_| "<stream>"))
                .finish(),
        }
    }
}

impl ObjectRead {
    /// How many bytes the answer carries.
    pub fn length(object: &Object, span: Option<(u64, u64)>) -> u64 {
        span.map_or(object.size_bytes, |(first, last)| last - first + 1)
    }
}

/// What the conditions decide.
enum Verdict {
    Proceed,
    NotModified,
    Failed,
}

fn evaluate(c: &ReadConditions, o: &Object) -> Verdict {
    let matches = |list: &Vec<String>| list.iter().any(|t| t == "*" || *t == o.etag);
    let modified = o.last_modified.unix_seconds();
    if let Some(list) = &c.if_match {
        if !matches(list) {
            return Verdict::Failed;
        }
    } else if c.if_unmodified_since.is_some_and(|since| modified > since) {
        return Verdict::Failed;
    }
    if let Some(list) = &c.if_none_match {
        if matches(list) {
            return Verdict::NotModified;
        }
    } else if c.if_modified_since.is_some_and(|since| modified <= since) {
        return Verdict::NotModified;
    }
    Verdict::Proceed
}

impl Service {
    /// Reads an object of the caller's live bucket (`storage:read`), or of a public bucket for a
    /// request without credentials (`principal` is `None`).
    pub async fn get_object(&self, principal: Option<&Principal>, get: GetObject) -> Result<ObjectRead, ServiceError> {
        if let Some(p) = principal {
            p.authorize(Operation::GetObject)?;
        }
        let bucket = self.readable_bucket(principal, &get.bucket).await?;
        let object = self
            .store()
            .get_object(&bucket.id, &get.key)
            .await?
            .ok_or_else(|| ServiceError::ObjectNotFound(get.key.clone()))?;
        match evaluate(&get.conditions, &object) {
            Verdict::Proceed => {}
            Verdict::NotModified => return Ok(ObjectRead::NotModified(object)),
            Verdict::Failed => return Err(ServiceError::ReadPreconditionFailed),
        }
        let span = match get.range {
            None => None,
            Some(r) => Some(r.resolve(object.size_bytes).ok_or(ServiceError::RangeNotSatisfiable {
                size: object.size_bytes,
            })?),
        };
        let body = if get.with_body && ObjectRead::length(&object, span) > 0 {
            Some(self.object_bytes(&object, span).await?)
        } else {
            None
        };
        Ok(ObjectRead::Content { object, span, body })
    }

    /// The bytes of `object` (of `span` only, if given): from the metadata store for a small
    /// object kept there, else from the blob store.
    async fn object_bytes(&self, object: &Object, span: Option<(u64, u64)>) -> Result<ByteStream, ServiceError> {
        if object.size_bytes <= MAX_INLINE_BLOB_BYTES
            && let Some(bytes) = self.store().inline_blob(&object.blob_id).await?
        {
            if bytes.len() as u64 != object.size_bytes {
                return Err(ServiceError::BlobStorage(std::io::Error::other(format!(
                    "blob {} kept in the metadata holds {} bytes, its object {}",
                    object.blob_id,
                    bytes.len(),
                    object.size_bytes
                ))));
            }
            let bytes = match span {
                Some((first, last)) => bytes.slice(first as usize..=last as usize),
                None => bytes,
            };
            return Ok(futures_util::stream::once(async move { Ok(bytes) }).boxed());
        }
        self.blobs()
            .read(&object.blob_id, span)
            .await
            .map_err(ServiceError::BlobStorage)
    }
}
