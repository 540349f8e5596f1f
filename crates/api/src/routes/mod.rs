//! The routes, one module per resource, and the answers for requests no route takes.

pub mod buckets;
pub mod health;
pub mod objects;
pub mod tokens;

use crate::AppState;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

/// The documented `/v1` routes; their OpenAPI description is collected as they are added.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(buckets::router())
        .merge(objects::router())
        .merge(tokens::router())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found(
        "route_not_found",
        "no such endpoint; see /v1/openapi.json or /docs for the API's routes",
    )
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        "this endpoint does not support this HTTP method; see /v1/openapi.json or /docs for the methods it takes",
    )
}

/// A panic in a handler answers a bare 500; the panic itself is logged, never sent.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}
