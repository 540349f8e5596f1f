//! `X-Request-Id` on every response, and one log line per request in a span that carries it.
//! The client's own id is echoed when it is a sane token of at most 128 characters.

use crate::step::{self, Step};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='))
}

/// `req_` and 20 characters of `a-z2-7`: 100 random bits, drawn at once (this runs on every
/// request), where a bucket id draws one character at a time.
fn new_id() -> String {
    const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits: u128 = rand::random();
    let mut id = String::with_capacity(24);
    id.push_str("req_");
    for _ in 0..20 {
        id.push(char::from(BASE32[(bits & 31) as usize]));
        bits >>= 5;
    }
    id
}

/// Assigns the request its id, runs `handle` inside its span, logs the outcome, records its
/// metrics and sets the response header. Credentials and bodies are never logged. The route
/// for the metrics is `route` when the caller knows it, else the one the router matched.
pub async fn logged<F, Fut>(request: Request, route: Option<&'static str>, handle: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map_or_else(new_id, str::to_owned);
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %request.uri().path());
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), handle(request).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "handled"));
    // This runs outside the router; the route it matched comes back on the response.
    let route = route.unwrap_or_else(|| {
        response
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str)
    });
    RequestMetrics::record(method_label(&method), route, status, elapsed);
    if let Ok(value) = HeaderValue::try_from(id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// Layer: leaves the route the router matched on the response, for the request log and
/// metrics of [`logged`] (which runs outside the router and sees no routing). Worn by every
/// route.
#[derive(Debug, Clone, Copy)]
pub struct KeepMatchedPath;

impl Step for KeepMatchedPath {
    async fn run<S>(&self, request: Request, next: step::Next<S>) -> Response
    where
        S: tower::Service<Request, Response = Response, Error = std::convert::Infallible> + Send + 'static,
        S::Future: Send,
    {
        let matched = request.extensions().get::<MatchedPath>().cloned();
        let mut response = next.run(request).await;
        if let Some(matched) = matched {
            response.extensions_mut().insert(matched);
        }
        response
    }
}

/// `http_requests_total` and `http_request_duration_seconds` of one method, route and status.
/// Their handles are registered once and kept: building the label keys and looking them up in
/// the recorder on every request cost more than everything else this layer does. Methods are
/// a fixed set, routes those of the router, statuses those the handlers answer: the map stays
/// small.
#[derive(Debug)]
struct RequestMetrics {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

type MetricsByLabels = HashMap<(&'static str, u16), HashMap<String, RequestMetrics>>;

impl RequestMetrics {
    fn record(method: &'static str, route: &str, status: u16, elapsed: Duration) {
        // Registered after the recorder is installed: the server installs it before it serves.
        static HANDLES: LazyLock<RwLock<MetricsByLabels>> = LazyLock::new(Default::default);
        let known = HANDLES.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(metrics) = known.get(&(method, status)).and_then(|by_route| by_route.get(route)) {
            metrics.observe(elapsed);
            return;
        }
        drop(known);
        let mut handles = HANDLES.write().unwrap_or_else(PoisonError::into_inner);
        let metrics = handles
            .entry((method, status))
            .or_default()
            .entry(route.to_owned())
            .or_insert_with(|| Self {
                requests: metrics::counter!(
                    "http_requests_total",
                    "method" => method, "route" => route.to_owned(), "status" => status.to_string()
                ),
                duration: metrics::histogram!(
                    "http_request_duration_seconds",
                    "method" => method, "route" => route.to_owned()
                ),
            });
        metrics.observe(elapsed);
    }

    fn observe(&self, elapsed: Duration) {
        self.requests.increment(1);
        self.duration.record(elapsed.as_secs_f64());
    }
}

/// The method as a metrics label: the standard ones without allocating, any other as `other`
/// (so that clients cannot mint label values).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert!(is_sane("abc-123"));
        assert!(is_sane(&"a".repeat(128)));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane(""));
        assert!(!is_sane("has space"));
        assert!(!is_sane("<script>"));
        let id = new_id();
        assert!(id.starts_with("req_") && id.len() == 24, "{id}");
        assert!(is_sane(&id));
        assert_ne!(new_id(), id);
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
