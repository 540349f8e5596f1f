//! The JSON API of CloudNexus Storage over HTTP: the router, one module per resource, the
//! guard every route wears (failed-auth gate, authentication, rate limit, scope), errors and
//! the OpenAPI document. The only crate that knows axum.
//!
//! A handler reads as: parse the request into domain types, call the operation of
//! `cloudnexus-service`, render its answer. Every rule of the contract lives in the service.

pub mod auth;
pub mod console;
pub mod direct_route;
pub mod error;
pub mod extract;
pub mod guard;
pub mod listener;
pub mod openapi;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod s3;
pub mod step;

use axum::extract::{DefaultBodyLimit, Request};
use axum::response::{IntoResponse, Response};
use cloudnexus_service::Service;
use cloudnexus_store::RateLimiter;
use direct_route::DirectRoute;
use metrics_exporter_prometheus::PrometheusHandle;
use rate_limit::RateLimitSettings;
use routes::buckets::list_cache::ListCache;
use std::convert::Infallible;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;

/// Settings of the HTTP layer, read from the configuration file.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The largest JSON request body accepted.
    pub max_json_body_bytes: usize,
    /// Rate-limit policies, and the failed-auth limit per address.
    pub rate_limits: RateLimitSettings,
    /// The most bytes of rendered list pages kept for reuse (0: none).
    pub list_cache_bytes: u64,
    /// Bounds on connections, slow clients and requests in flight.
    pub connections: listener::ConnectionLimits,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_json_body_bytes: 64 * 1024,
            rate_limits: RateLimitSettings::default(),
            list_cache_bytes: 64 * 1024 * 1024,
            connections: listener::ConnectionLimits::default(),
        }
    }
}

/// Everything a handler may use, passed explicitly. Every request clones it a few times
/// (routing, each middleware), so it is one shared [`Services`]: a clone is one reference count.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The HTTP layer's parts, built once at start (see [`AppState`]).
#[derive(Debug)]
pub struct Services {
    /// Every operation of the contract.
    pub service: Service,
    pub settings: ApiSettings,
    pub limiter: Arc<dyn RateLimiter>,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    /// Rendered list pages, reused while their project's data is unchanged.
    pub list_cache: ListCache,
    /// Requests being worked on, over both protocols (see [`listener::InFlight`]).
    pub in_flight: listener::InFlight,
}

/// The whole API as one service, ready to serve; callable from tests without a socket.
///
/// Each `/v1` route wears the guard of its operation (`routes::guard`); the matched route is
/// left on every response for the request log and metrics. The request log with the bound on
/// requests in flight (one layer), the panic guard and the body limit wrap the router once: a
/// layer added to every route would be cloned, with everything inside it, for every request.
pub fn app(
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static> + Clone + Send + 'static
{
    let body_limit = state.settings.max_json_body_bytes;
    let in_flight = state.in_flight.clone();
    let direct = DirectRoute::new(&state);
    let (api, mut openapi) = routes::api_router(&state).split_for_parts();
    openapi::complete(&mut openapi);
    openapi::constrain(&mut openapi, &state.service.settings().regions.names());
    let routes = api
        .merge(openapi::docs_router(openapi))
        .merge(routes::health::router())
        .merge(console::router())
        .route_layer(step::StepLayer(request_id::KeepMatchedPath))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state);
    tower::ServiceBuilder::new()
        .layer(step::StepLayer(EveryRequest { in_flight, direct }))
        .map_response(IntoResponse::into_response)
        .layer(CatchPanicLayer::custom(routes::panic_response))
        .layer(DefaultBodyLimit::max(body_limit))
        .service(routes)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.settings.connections.clone();
    listener::serve(listener, app(state), limits, shutdown).await
}

/// The layer around everything: the request's id, log line and metrics
/// ([`request_id::logged`]), and inside them the bound on requests in flight: one more than
/// [`ApiSettings::connections`] allows is answered 503 `overloaded` at once. Then the router,
/// or for a `GET` of the list endpoint its [`DirectRoute`].
#[derive(Debug, Clone)]
struct EveryRequest {
    in_flight: listener::InFlight,
    /// The list endpoint's `GET`, dispatched without the router.
    direct: DirectRoute,
}

impl step::Step for EveryRequest {
    async fn run<S>(&self, request: Request, next: step::Next<S>) -> Response
    where
        S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send,
    {
        let direct = DirectRoute::route_of(&request);
        request_id::logged(request, direct, |request| async move {
            let Some(_place) = self.in_flight.try_enter() else {
                return overloaded();
            };
            match direct {
                Some(_) => self.direct.serve(request).await,
                None => next.run(request).await,
            }
        })
        .await
    }
}

fn overloaded() -> Response {
    error::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "Service unavailable",
        "the server is working on as many requests as it takes at once; retry in a moment",
    )
    .with_header(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    )
    .into_response()
}

/// The address of a connection's peer, written out once per connection (the rate limits key
/// on it, request after request).
#[derive(Debug, Clone)]
pub struct Peer {
    pub ip: std::net::IpAddr,
    pub text: Arc<str>,
}
