//! One error type for the whole HTTP layer, answered as RFC 9457 `application/problem+json`
//! with a stable `code` and the request's `request_id`. Internal failures are logged once,
//! here, and answer a bare 500 that never carries their text.

use crate::request_id;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::BucketRef;
use cloudnexus_service::ServiceError;
use cloudnexus_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input, named by its parameter or field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The query parameter, path segment or JSON field at fault.
    pub param: String,
    /// What is wrong with it and what to send instead.
    pub detail: String,
}

impl FieldError {
    pub fn new(param: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            detail: detail.into(),
        }
    }
}

/// The body of every error response (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:cloudnexus:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable snake_case code for programs to match on.
    pub code: String,
    /// The `X-Request-Id` of the request, to quote when asking for help.
    pub request_id: String,
    /// Each invalid input, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answer: status, code, message and any extra headers (boxed, so results stay small).
#[derive(Debug)]
pub struct ApiError(Box<ErrorParts>);

#[derive(Debug)]
struct ErrorParts {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    headers: HeaderMap,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorParts {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            headers: HeaderMap::new(),
        }))
    }

    /// 400 `validation_failed` listing each invalid input; the detail repeats the first.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("`{}` {}", only.param, only.detail),
            [first, rest @ ..] => format!(
                "`{}` {} (and {} more problem(s), see `errors`)",
                first.param,
                first.detail,
                rest.len()
            ),
            [] => "the request is invalid".to_owned(),
        };
        let mut e = Self::new(StatusCode::BAD_REQUEST, "validation_failed", "Invalid request", detail);
        e.0.errors = errors;
        e
    }

    /// 400 `validation_failed` for one input.
    pub fn invalid(param: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(param, detail)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, "Not found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    /// 500 for a failure the caller cannot fix; `cause` is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
            "the server failed to handle this request; retry later, and contact support with the request_id if it persists",
        )
    }

    /// The same error with a more specific code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.0.code = code;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn code(&self) -> &'static str {
        self.0.code
    }
}

/// 403 naming the scope (or scopes) needed.
pub fn insufficient_scope(scope: &str, detail: String) -> ApiError {
    let challenge = format!(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="{scope}""#);
    ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", "Forbidden", detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).expect("ascii challenge"),
    )
}

/// 401 for a request without any credential.
pub fn credential_required() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "this request needs a credential: send your API key or an access token as `Authorization: Bearer <credential>` (an API key may also be sent as `X-API-Key: <key>`)",
    )
    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="cloudnexus""#))
}

fn describe(bucket: &BucketRef) -> String {
    match bucket {
        BucketRef::Id(id) => format!("with id {id}"),
        BucketRef::Name(name) => format!("named {name:?}"),
    }
}

/// 503 for a backend that is down or busy: the request changed nothing and may be retried.
fn unavailable(cause: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %cause, "a backend is unavailable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Service unavailable",
        "the service cannot handle this request right now and changed nothing; retry after the number of seconds in Retry-After",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// Every answer of the service's refusals, in one place.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::MissingScope { needed, held } => {
                let held = if held.is_empty() {
                    "no scopes".to_owned()
                } else {
                    held.to_string()
                };
                insufficient_scope(
                    needed.as_str(),
                    format!(
                        "this request needs the `{needed}` scope; the credential has {held}. Use a credential that has `{needed}`"
                    ),
                )
            }
            ServiceError::ScopesBeyondKey { missing, held } => insufficient_scope(
                &missing.to_string(),
                format!("the API key lacks {missing}, so a token cannot have it; the key has {held}"),
            ),
            ServiceError::ApiKeyRequired => Self::new(
                StatusCode::FORBIDDEN,
                "api_key_required",
                "Forbidden",
                "access tokens are minted with an API key, not with another access token",
            ),
            ServiceError::CredentialRequired => credential_required(),
            ServiceError::BucketNotFound(bucket) => Self::not_found(
                "bucket_not_found",
                format!(
                    "there is no bucket {} in this project; check the id or name, or list buckets with GET /v1/buckets",
                    describe(&bucket)
                ),
            ),
            ServiceError::BucketNameTaken(name) => Self::conflict(
                "bucket_name_taken",
                format!(
                    "the bucket name {:?} is already taken; bucket names are unique across all CloudNexus projects, so choose another",
                    name.as_str()
                ),
            ),
            ServiceError::BucketDeleted(bucket) => Self::conflict(
                "bucket_deleted",
                format!(
                    "the bucket {} is soft-deleted; restore it first with POST /v1/buckets/{{bucket}}/restore",
                    describe(&bucket)
                ),
            ),
            ServiceError::BucketNotDeleted(bucket) => Self::conflict(
                "bucket_not_deleted",
                format!(
                    "the bucket {} is not deleted; there is nothing to restore",
                    describe(&bucket)
                ),
            ),
            ServiceError::ObjectNotFound(key) => Self::not_found(
                "object_not_found",
                format!("there is no object with the key {:?} in this bucket", key.as_str()),
            ),
            ServiceError::ReadPreconditionFailed => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "the object does not match If-Match / If-Unmodified-Since",
            ),
            ServiceError::WritePreconditionFailed => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "the object's current state does not match If-Match / If-None-Match; nothing was stored",
            ),
            ServiceError::RangeNotSatisfiable { size } => Self::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                "Range not satisfiable",
                format!("the object has {size} bytes; ask for a range within them"),
            )
            .with_header(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
            ),
            ServiceError::ObjectTooLarge { max } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "object_too_large",
                "Payload too large",
                format!("objects can be at most {max} bytes; nothing was stored"),
            ),
            ServiceError::BadDigest => Self::validation(vec![FieldError::new(
                "Content-MD5",
                "does not match the MD5 of the body received; nothing was stored, send the body again",
            )])
            .with_code("bad_digest"),
            ServiceError::BodyUnreadable(e) => {
                Self::bad_request("invalid_body", format!("the request body could not be read: {e}"))
            }
            ServiceError::InvalidCursor(why) => Self::invalid("cursor", why),
            ServiceError::BlobStorage(e) if blob_store_out_of_reach(&e) => {
                unavailable(format!("blob storage failed: {e}"))
            }
            ServiceError::BlobStorage(e) => Self::internal(format!("blob storage failed: {e}")),
            ServiceError::Store(e) => Self::from(e),
            // Multipart uploads are the S3 protocol's; the JSON API has none to refuse.
            ServiceError::Multipart(e) => Self::bad_request("multipart", e.to_string()),
        }
    }
}

/// Whether a blob store failure may pass: the store out of reach or not answering in time (an
/// S3 store, after its retries), or the disk full.
pub(crate) fn blob_store_out_of_reach(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionRefused, ConnectionReset, StorageFull, TimedOut};
    matches!(e.kind(), TimedOut | ConnectionRefused | ConnectionReset | StorageFull)
}

impl From<StoreError> for ApiError {
    /// A store failure the caller can retry (unavailable, a conflict, a serialisation failure)
    /// is a 503 with `Retry-After`; anything else, including outcomes no handler expected, a
    /// bare 500.
    fn from(e: StoreError) -> Self {
        match e.failure_kind() {
            Some(kind) if kind.is_transient() => unavailable(e),
            _ => Self::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = *self.0;
        let body = Problem {
            type_uri: format!("urn:cloudnexus:problem:{}", parts.code),
            title: parts.title.to_owned(),
            status: parts.status.as_u16(),
            detail: parts.detail,
            code: parts.code.to_owned(),
            request_id: request_id::current().unwrap_or_default(),
            errors: parts.errors,
        };
        let json = serde_json::to_vec(&body).expect("problem serializes");
        let mut response = (parts.status, json).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.headers_mut().extend(parts.headers);
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use cloudnexus_core::{BucketName, Scope, Scopes};
    use cloudnexus_store::{BackendFailure, FailureKind};

    fn failure(kind: FailureKind) -> ApiError {
        ApiError::from(ServiceError::Store(StoreError::Backend(BackendFailure::new(
            kind, "cause",
        ))))
    }

    #[test]
    fn transient_store_failures_are_503s_to_retry_and_the_rest_500s() {
        for kind in [FailureKind::Unavailable, FailureKind::Conflict, FailureKind::Retryable] {
            let e = failure(kind);
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE, "{kind}");
            assert_eq!(e.code(), "service_unavailable");
            let response = e.into_response();
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        }
        for kind in [FailureKind::UniqueViolation, FailureKind::Other] {
            assert_eq!(failure(kind).status(), StatusCode::INTERNAL_SERVER_ERROR, "{kind}");
        }
        // An outcome no operation expected is a bug, not the caller's fault.
        let unexpected = ApiError::from(ServiceError::Store(StoreError::BucketNameTaken));
        assert_eq!(unexpected.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_blob_store_out_of_reach_is_a_503_and_other_blob_failures_500s() {
        for kind in [std::io::ErrorKind::TimedOut, std::io::ErrorKind::StorageFull] {
            let e = ApiError::from(ServiceError::BlobStorage(std::io::Error::new(kind, "cause")));
            assert_eq!(
                (e.status(), e.code()),
                (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
                "{kind}"
            );
        }
        let e = ApiError::from(ServiceError::BlobStorage(std::io::Error::other("cause")));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn service_refusals_keep_their_codes() {
        let name = BucketName::parse("taken").unwrap();
        let cases = [
            (ServiceError::BucketNameTaken(name.clone()), 409, "bucket_name_taken"),
            (
                ServiceError::BucketDeleted(BucketRef::Name(name.clone())),
                409,
                "bucket_deleted",
            ),
            (
                ServiceError::BucketNotFound(BucketRef::Name(name)),
                404,
                "bucket_not_found",
            ),
            (ServiceError::CredentialRequired, 401, "unauthorized"),
            (
                ServiceError::RangeNotSatisfiable { size: 3 },
                416,
                "range_not_satisfiable",
            ),
            (ServiceError::BadDigest, 400, "bad_digest"),
            (
                ServiceError::MissingScope {
                    needed: Scope::Write,
                    held: Scopes::empty(),
                },
                403,
                "insufficient_scope",
            ),
        ];
        for (e, status, code) in cases {
            let e = ApiError::from(e);
            assert_eq!((e.status().as_u16(), e.code()), (status, code));
        }
    }
}
