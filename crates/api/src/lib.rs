//! The HTTP API of CloudNexus Storage: the router, one module per resource, authentication,
//! errors and the OpenAPI document. The only crate that knows axum.
//!
//! A handler reads as: parse and validate into domain types, check the scope, call the store,
//! shape the response.

pub mod auth;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod rate_limit;
pub mod request_id;
pub mod routes;

use auth::revocations::RevocationList;
use auth::token::TokenSigner;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use cloudnexus_core::listing::CursorKey;
use cloudnexus_core::{Clock, RegionSet};
use cloudnexus_store::{BlobStore, MetadataStore};
use metrics_exporter_prometheus::PrometheusHandle;
use rate_limit::{RateLimitSettings, RateLimiter};
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;

/// Settings of the HTTP layer, read from the configuration file.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Regions buckets may be created in.
    pub regions: RegionSet,
    /// How long a soft-deleted bucket is kept before it is purged.
    pub soft_delete_retention_seconds: i64,
    /// The largest JSON request body accepted.
    pub max_json_body_bytes: usize,
    /// Rate-limit policies per route group, and the failed-auth limit per address.
    pub rate_limits: RateLimitSettings,
    /// The largest object a PUT may store.
    pub max_object_bytes: u64,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            regions: RegionSet::default(),
            soft_delete_retention_seconds: 7 * 24 * 3600,
            max_json_body_bytes: 64 * 1024,
            rate_limits: RateLimitSettings::default(),
            max_object_bytes: 5 * 1024 * 1024 * 1024,
        }
    }
}

/// Everything a handler may use, passed explicitly.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn MetadataStore>,
    /// Object bytes.
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ApiSettings>,
    pub cursor_key: CursorKey,
    /// Signs and verifies access tokens.
    pub tokens: TokenSigner,
    /// Recently revoked keys, refreshed in the background (see `auth::revocations`).
    pub revocations: Arc<RevocationList>,
    pub limiter: Arc<dyn RateLimiter>,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
}

/// The whole API as a router, ready to serve; callable from tests without a socket.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_json_body_bytes;
    let (api, openapi) = routes::api_router().split_for_parts();
    api.merge(openapi::docs_router(openapi))
        .merge(routes::health::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::middleware,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(routes::panic_response))
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
