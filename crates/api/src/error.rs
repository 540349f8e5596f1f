//! One error type for the whole HTTP layer, answered as RFC 9457 `application/problem+json`
//! with a stable `code` and the request's `request_id`. Internal failures are logged once,
//! here, and answer a bare 500 that never carries their text.

use crate::request_id;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

impl From<StoreError> for ApiError {
    /// Store outcomes that reach here unhandled are internal errors; handlers turn the expected
    /// ones (`NotFound`, `BucketNameTaken`, ...) into their own 4xx first.
    fn from(e: StoreError) -> Self {
        Self::internal(e)
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
