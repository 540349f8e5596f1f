//! The JSON API of CloudNexus Storage over HTTP: the router, one module per resource, the
//! layers every route wears (failed-auth gate, authentication, rate limit, scope), errors and
//! the OpenAPI document. The only crate that knows axum.
//!
//! A handler reads as: parse the request into domain types, call the operation of
//! `cloudnexus-service`, render its answer. Every rule of the contract lives in the service.

pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod s3;
pub mod step;

use axum::Extension;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener, ListenerExt};
use cloudnexus_service::Service;
use cloudnexus_store::RateLimiter;
use metrics_exporter_prometheus::PrometheusHandle;
use rate_limit::RateLimitSettings;
use routes::buckets::list_cache::ListCache;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::Layer;
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
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_json_body_bytes: 64 * 1024,
            rate_limits: RateLimitSettings::default(),
            list_cache_bytes: 64 * 1024 * 1024,
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
}

/// The whole API as one service, ready to serve; callable from tests without a socket.
///
/// Each `/v1` route wears the layers of its operation (`routes::guard`); the matched route is
/// left on every response for the request log and metrics. The request id, the panic guard and
/// the body limit wrap the router once: a layer added to every route would be cloned, with
/// everything inside it, for every request.
pub fn app(
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static> + Clone + Send + 'static
{
    let body_limit = state.settings.max_json_body_bytes;
    let (api, mut openapi) = routes::api_router(&state).split_for_parts();
    openapi::complete(&mut openapi);
    let routes = api
        .merge(openapi::docs_router(openapi))
        .merge(routes::health::router())
        .merge(console::router())
        .route_layer(step::StepLayer(request_id::KeepMatchedPath))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state);
    tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(request_id::middleware))
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
    // Answers go out as soon as they are written, as every HTTP server of the field does.
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, WithPeerAddress(app(state)))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The address of a connection's peer, written out once per connection (the rate limits key
/// on it, request after request).
#[derive(Debug, Clone)]
pub struct Peer {
    pub ip: std::net::IpAddr,
    pub text: Arc<str>,
}

/// Gives each accepted connection the app with the peer's address as a [`Peer`] (what the
/// failed-auth limit and anonymous reads key on), as `Router::into_make_service_with_connect_info`
/// does for a router.
#[derive(Debug, Clone)]
pub(crate) struct WithPeerAddress<S>(pub(crate) S);

impl<L, S> tower::Service<IncomingStream<'_, L>> for WithPeerAddress<S>
where
    L: Listener<Addr = SocketAddr>,
    S: Clone,
{
    type Response = <Extension<Peer> as Layer<S>>::Service;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, L>) -> Self::Future {
        let ip = stream.remote_addr().ip();
        let peer = Peer {
            ip,
            text: ip.to_string().into(),
        };
        std::future::ready(Ok(Extension(peer).layer(self.0.clone())))
    }
}
