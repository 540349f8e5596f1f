//! The one layer every `/v1` route wears, [`Guard`]: in one pass over the request, the checks
//! a request must clear before its handler runs, in this order:
//!
//! 1. the client's address is found (`rate_limit::checks::client_address`), for the
//!    failed-auth gate and anonymous quotas;
//! 2. authentication: the credential becomes a [`Principal`](cloudnexus_service::Principal),
//!    or the answer is 401 (`auth::authenticate`);
//! 3. the rate limit of the operation's policy (`rate_limit::checks::admit`), 429 past it;
//! 4. the operation's scope (`Principal::authorize`), 403 without it (an anonymous request is
//!    the operation's to decide);
//!
//! then the handler, with the principal in the request's extensions (or, on the list
//! endpoint's direct route, as an argument: [`Guard::guarded`]). The answer, whoever gave
//! it after step 3, wears the `RateLimit` headers; one that rejected a presented credential is
//! counted by the failed-auth gate, which may turn it into a 429.
//!
//! These were four layers; as one, a request pays for one boxed future and one clone of the
//! route instead of four of each (this runs on every request; see docs/benchmarks.md).

use crate::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::rate_limit::ClientAddress;
use crate::rate_limit::checks::{admit, client_address, count_failed_auth, policy_header, set_rate_limit_headers};
use crate::step::{Next, Step};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use cloudnexus_service::{Operation, Principal};
use std::convert::Infallible;
use tower::Service;

/// The checks of a route performing `operation` (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Guard {
    pub(crate) state: AppState,
    operation: Operation,
    /// The `RateLimit-Policy` header of the operation's policy: the same on every answer.
    policy_header: HeaderValue,
}

impl Step for Guard {
    async fn run<S>(&self, request: Request, next: Next<S>) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send,
    {
        self.guarded(request, |mut request, principal| async move {
            if let Some(principal) = principal {
                request.extensions_mut().insert(principal);
            }
            next.run(request).await
        })
        .await
    }
}

impl Guard {
    pub fn new(state: &AppState, operation: Operation) -> Self {
        let policy = operation.policy();
        Self {
            policy_header: policy_header(policy, state.settings.rate_limits.quota(policy)),
            state: state.clone(),
            operation,
        }
    }

    /// The checks (see the module's documentation), then `handler` with the request and its
    /// principal (`None` for an anonymous request the operation allows). The route's layer
    /// hands the principal on in the request's extensions; the list endpoint's direct route
    /// (`crate::direct_route`) hands it straight to its handler.
    pub async fn guarded<F, Fut>(&self, request: Request, handler: F) -> Response
    where
        F: FnOnce(Request, Option<Principal>) -> Fut,
        Fut: Future<Output = Response>,
    {
        let state = &self.state;
        let client = ClientAddress::new(client_address(&request, &state.settings.rate_limits.trusted_proxies));
        let response = self.checked(request, &client, handler).await;
        count_failed_auth(state, &client, response).await
    }

    /// Steps 2 to 4, then the handler.
    async fn checked<F, Fut>(&self, request: Request, client: &ClientAddress, handler: F) -> Response
    where
        F: FnOnce(Request, Option<Principal>) -> Fut,
        Fut: Future<Output = Response>,
    {
        let state = &self.state;
        let principal = match auth::authenticate(state, self.operation, request.headers()).await {
            Ok(principal) => principal,
            Err(refused) => return refused,
        };
        let policy = self.operation.policy();
        let decision = match admit(state, policy, client, principal.as_ref()).await {
            Ok(decision) => decision,
            Err(refused) => return refused,
        };
        let mut response = match principal.as_ref().map(|p| p.authorize(self.operation)) {
            Some(Err(refused)) => ApiError::from(refused).into_response(),
            _ => handler(request, principal).await,
        };
        set_rate_limit_headers(response.headers_mut(), policy, self.policy_header.clone(), &decision);
        response
    }
}
