//! `GET /v1/buckets` dispatched in front of the router.
//!
//! The list endpoint is the service's hottest read, and an answer from the list cache costs
//! little beyond its checks. The router around it cost about as much again: matching the path,
//! the request's and the answer's extensions, a boxed future and a clone of the route for each
//! of its layers, the panic and body-limit layers (docs/benchmarks.md, "The list endpoint
//! dispatched before the router"). So a `GET` of the list's two paths is recognised here by
//! its path alone and runs the same guard ([`Guard::guarded`]) and the same handler
//! ([`list::answer`]) as the router's route; every other request, `HEAD` of those paths
//! included, goes to the router. The request id, log line, metrics and the bound on requests
//! in flight are those of the layer around both (`EveryRequest`), and a panic is answered as
//! the router's panic layer answers it.

use crate::AppState;
use crate::error::credential_required;
use crate::guard::Guard;
use crate::routes;
use crate::routes::buckets::list;
use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use cloudnexus_service::Operation;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

/// The list endpoint's paths, as the router's route names them (and so the metrics label).
const LIST_PATHS: [&str; 2] = ["/v1/buckets", "/v1/get-/buckets"];

/// The list endpoint, served without the router.
#[derive(Debug, Clone)]
pub struct DirectRoute {
    guard: Guard,
}

impl DirectRoute {
    pub fn new(state: &AppState) -> Self {
        Self {
            guard: Guard::new(state, Operation::ListBuckets),
        }
    }

    /// The route `request` takes here (its path, as the router would have matched it), or
    /// `None` for a request the router serves.
    pub fn route_of(request: &Request) -> Option<&'static str> {
        if request.method() != Method::GET {
            return None;
        }
        let path = request.uri().path();
        LIST_PATHS.into_iter().find(|route| *route == path)
    }

    /// Answers a request [`route_of`](Self::route_of) recognised.
    pub async fn serve(&self, request: Request) -> Response {
        let state = &self.guard.state;
        let answer = self.guard.guarded(request, |request, principal| async move {
            // The guard lets no anonymous request through to this operation.
            let Some(principal) = principal else {
                return credential_required().into_response();
            };
            let query = request.uri().query().unwrap_or_default();
            list::answer(state, &principal, query).await.into_response()
        });
        AssertUnwindSafe(answer)
            .catch_unwind()
            .await
            .unwrap_or_else(routes::panic_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn route(method: &str, uri: &str) -> Option<&'static str> {
        let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        DirectRoute::route_of(&request)
    }

    #[test]
    fn only_a_get_of_the_list_paths_skips_the_router() {
        assert_eq!(route("GET", "/v1/buckets"), Some("/v1/buckets"));
        assert_eq!(
            route("GET", "/v1/buckets?region=eu-west-1&limit=5"),
            Some("/v1/buckets")
        );
        assert_eq!(route("GET", "/v1/buckets?"), Some("/v1/buckets"));
        assert_eq!(route("GET", "/v1/get-/buckets"), Some("/v1/get-/buckets"));
        // Everything else is the router's, to match or to answer 404 or 405 as it does.
        for (method, uri) in [
            ("HEAD", "/v1/buckets"),
            ("POST", "/v1/buckets"),
            ("GET", "/v1/buckets/"),
            ("GET", "/v1/%62uckets"),
            ("GET", "//v1/buckets"),
            ("GET", "/v1/buckets/alike-1"),
            ("GET", "/V1/buckets"),
            ("GET", "/healthz"),
        ] {
            assert_eq!(route(method, uri), None, "{method} {uri}");
        }
    }
}
