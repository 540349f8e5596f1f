//! The routes, one module per resource, each route declaring the operation it performs (which
//! gives the guard it wears, [`guard`]), and the answers for requests no route takes.

pub mod buckets;
pub mod health;
pub mod objects;
pub mod service_info;
pub mod tokens;

use crate::AppState;
use crate::error::ApiError;
use crate::guard::Guard;
use crate::step::StepLayer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cloudnexus_service::Operation;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};

/// The documented `/v1` routes; their OpenAPI description is collected as they are added.
pub fn api_router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(buckets::router(state))
        .merge(objects::router(state))
        .merge(tokens::router(state))
        .merge(service_info::router(state))
}

/// `routes` (documented handlers) performing `operation`, wearing its [`guard`]. Methods the
/// routes do not take are answered 405 without it.
pub fn guarded(
    routes: UtoipaMethodRouter<AppState>,
    state: &AppState,
    operation: Operation,
) -> UtoipaMethodRouter<AppState> {
    let layers = guard(state, operation);
    routes.map(|methods| methods.route_layer(layers))
}

/// The layer of a route performing `operation`: its [`Guard`] (the failed-auth gate of the
/// client's address, authentication, the rate limit of the operation's policy, and the
/// operation's scope). A request refused by any of them never reaches the handler.
pub fn guard(state: &AppState, operation: Operation) -> StepLayer<Guard> {
    StepLayer(Guard::new(state, operation))
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
