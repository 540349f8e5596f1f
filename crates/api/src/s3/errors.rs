//! The service's errors as S3's XML error codes. A soft-deleted bucket answers as S3 answers for
//! a bucket that is not there (`NoSuchBucket`), with a message that says it can be restored; its
//! name stays taken (`BucketAlreadyExists`) until it is purged.

use crate::error::blob_store_out_of_reach;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use cloudnexus_service::ServiceError;
use cloudnexus_service::objects::multipart::MultipartError;
use cloudnexus_store::{FailureKind, StoreError};
use s3s::{S3Error, S3ErrorCode};

/// `ServiceError` as S3 would say it; `bucket` and `key` name the resource in the message.
pub(crate) fn from_service(e: ServiceError, bucket: Option<&str>, key: Option<&str>) -> S3Error {
    use S3ErrorCode as C;
    let bucket = bucket.unwrap_or("");
    let key = key.unwrap_or("");
    let (code, message): (S3ErrorCode, String) = match e {
        ServiceError::MissingScope { needed, held } => (
            C::AccessDenied,
            format!("Access Denied: this credential holds {held}; the operation needs {needed}."),
        ),
        ServiceError::ScopesBeyondKey { .. } | ServiceError::ApiKeyRequired => {
            (C::AccessDenied, "Access Denied.".into())
        }
        ServiceError::CredentialRequired => (
            C::AccessDenied,
            "Access Denied: only objects of public buckets can be read without a credential.".into(),
        ),
        ServiceError::BucketNotFound(_) => (
            C::NoSuchBucket,
            format!("The specified bucket does not exist: {bucket}"),
        ),
        ServiceError::BucketDeleted(_) => (
            C::NoSuchBucket,
            format!("The bucket {bucket} is soft-deleted; restore it (JSON API or CLI) to use it again."),
        ),
        ServiceError::BucketNameTaken(name) => (
            C::BucketAlreadyExists,
            format!(
                "The bucket name {name} is already taken (names are unique across all projects, including soft-deleted buckets until they are purged)."
            ),
        ),
        ServiceError::BucketNotDeleted(_) => (C::InvalidRequest, format!("The bucket {bucket} is not deleted.")),
        ServiceError::ObjectNotFound(_) => (C::NoSuchKey, format!("The specified key does not exist: {key}")),
        ServiceError::ReadPreconditionFailed | ServiceError::WritePreconditionFailed => (
            C::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold".into(),
        ),
        ServiceError::RangeNotSatisfiable { size } => (
            C::InvalidRange,
            format!("The requested range is not satisfiable (the object has {size} bytes)."),
        ),
        ServiceError::ObjectTooLarge { max } => (
            C::EntityTooLarge,
            format!("Your proposed upload exceeds the maximum allowed object size of {max} bytes."),
        ),
        ServiceError::BadDigest => (
            C::BadDigest,
            "The Content-MD5 you specified did not match what we received.".into(),
        ),
        ServiceError::BodyUnreadable(_) => (
            C::IncompleteBody,
            "The request body ended before its declared length, or could not be read.".into(),
        ),
        ServiceError::InvalidCursor(detail) => (C::InvalidArgument, format!("The continuation token {detail}.")),
        ServiceError::BlobStorage(e) if blob_store_out_of_reach(&e) => {
            return S3Error::with_message(C::ServiceUnavailable, "The object store is unavailable; retry shortly.");
        }
        ServiceError::BlobStorage(e) => {
            tracing::error!(error = %e, "object storage failed");
            (
                C::InternalError,
                "We encountered an internal error. Please try again.".into(),
            )
        }
        ServiceError::Store(e) => return unavailable(&e),
        ServiceError::Multipart(e) => {
            let code = match e {
                MultipartError::NoSuchUpload => C::NoSuchUpload,
                MultipartError::InvalidPartNumber => C::InvalidArgument,
                MultipartError::InvalidPart(_) => C::InvalidPart,
                MultipartError::InvalidPartOrder => C::InvalidPartOrder,
                MultipartError::EntityTooSmall(_) => C::EntityTooSmall,
            };
            let message = match e {
                MultipartError::NoSuchUpload => format!(
                    "The specified upload does not exist for key {key}: it was never started, or was completed or aborted."
                ),
                other => format!("{other}."),
            };
            (code, message)
        }
    };
    S3Error::with_message(code, message)
}

/// A store failure: 503 when it may pass (out of reach, busy, a serialisation conflict), else
/// 500 (logged).
pub(crate) fn unavailable(e: &StoreError) -> S3Error {
    if e.failure_kind().is_some_and(FailureKind::is_transient) {
        return S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            "The metadata store is unavailable; retry shortly.",
        );
    }
    tracing::error!(error = %e, "the metadata store failed");
    S3Error::with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// S3's throttling answer, as an error of an operation: `SlowDown` (503); s3s adds no
/// `Retry-After`, so the message says when.
pub(crate) fn slow_down_error(retry_after_millis: i64, why: &str) -> S3Error {
    let seconds = (retry_after_millis + 999) / 1000;
    S3Error::with_message(
        S3ErrorCode::SlowDown,
        format!("Please reduce your request rate: {why}; retry after {seconds} s."),
    )
}

/// S3's throttling answer, written directly (outside an operation), with `Retry-After`.
pub(crate) fn slow_down(retry_after_seconds: i64, why: &str) -> Response {
    let mut response = plain_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "SlowDown",
        &format!("Please reduce your request rate: {why}."),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds.max(1)));
    response
}

/// An S3 XML error document (for answers written outside `s3s`).
pub(crate) fn plain_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        xml_escape(message)
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
