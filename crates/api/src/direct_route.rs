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
            guard: Guard {
                state: state.clone(),
                operation: Operation::ListBuckets,
            },
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
