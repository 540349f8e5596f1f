//! The S3 REST protocol, on its own listener, over the same projects, buckets and objects as
//! the JSON API. The `s3s` crate parses requests, checks SigV4 signatures (headers and
//! presigned URLs) and writes XML; this module maps each operation onto `cloudnexus-service`,
//! so every rule of the contract (names, regions, soft delete, usage, durability) is the one the
//! JSON API follows.
//!
//! - [`access`]: S3 credentials (their secrets, for signature checks), the caller's
//!   [`Principal`](cloudnexus_service::Principal), scopes and rate limits.
//! - [`protocol`]: the `s3s::S3` implementation, one method per supported operation, calling
//!   [`buckets`], [`objects`] and [`multipart`].
//! - [`errors`]: the service's errors as S3's XML error codes.
//!
//! A request passes, in order: [`S3Endpoint`] (the client's address; afterwards, the failed-auth
//! count of an answer refusing a credential), the signature check (with the secret from
//! [`access::Credentials`]), [`access::Access`] (principal, scope, one limiter call), the
//! operation.

pub mod access;
mod buckets;
mod errors;
mod multipart;
mod objects;
mod protocol;

use crate::rate_limit::middleware::{FAILED_AUTH_POLICY, client_address};
use crate::{AppState, WithPeerAddress};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use cloudnexus_store::{Admission, Verdict};
use s3s::service::{S3Service, S3ServiceBuilder};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Settings of the S3 listener.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// With a domain, `BUCKET.DOMAIN` hosts name buckets (virtual-hosted style) besides paths.
    pub domain: Option<String>,
}

/// Serves the S3 protocol on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: S3Endpoint,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, WithPeerAddress(endpoint))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The S3 protocol as one service over HTTP requests (see the module's documentation).
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    s3: S3Service,
    state: AppState,
}

/// Set by [`access::Access`] on a request whose credential was found and whose signature held:
/// a 403 to such a request is a refusal of what it asked, not of who it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Authenticated(Arc<AtomicBool>);

impl Authenticated {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl S3Endpoint {
    /// The endpoint over `state`; fails only on a domain that is not a valid host name.
    pub fn new(state: AppState, settings: &S3Settings) -> Result<Self, String> {
        let mut builder = S3ServiceBuilder::new(protocol::CloudNexusS3::new(state.clone()));
        builder.set_auth(access::Credentials::new(state.clone()));
        builder.set_access(access::Access::new(state.clone()));
        if let Some(domain) = &settings.domain {
            let host = s3s::host::SingleDomain::new(domain).map_err(|e| format!("[s3] domain {domain:?}: {e}"))?;
            builder.set_host(host);
        }
        Ok(Self {
            s3: builder.build(),
            state,
        })
    }

    async fn call(self, mut request: Request) -> Response {
        let rate_limits = &self.state.settings.rate_limits;
        let client = crate::rate_limit::ClientAddress::new(client_address(&request, &rate_limits.trusted_proxies));
        let authenticated = Authenticated::default();
        let presented_credential = presents_credential(&request);
        request.extensions_mut().insert(client.clone());
        request.extensions_mut().insert(authenticated.clone());
        let response = match self.s3.call(request.map(s3s::Body::http_body_unsync)).await {
            Ok(response) => response.map(Body::new),
            Err(e) => {
                tracing::error!(error = ?e, "the S3 protocol failed to answer");
                errors::plain_response(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the server failed")
            }
        };
        let refused_credential =
            response.status() == StatusCode::FORBIDDEN && presented_credential && !authenticated.get();
        if !refused_credential {
            return response;
        }
        let failure = Admission {
            policy: FAILED_AUTH_POLICY,
            caller: client.as_str(),
            quota: rate_limits.failed_auth,
        };
        match self
            .state
            .limiter
            .admit(failure, None, self.state.service.clock().now_millis())
            .await
        {
            Ok(Verdict::Admitted(_)) => response,
            Ok(Verdict::OverQuota(decision) | Verdict::GateShut(decision)) => errors::slow_down(
                decision.reset_seconds(),
                "too many requests with invalid credentials from this address",
            ),
            Err(e) => {
                tracing::error!(error = %e, "the rate limiter is unavailable");
                let mut r = response;
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
        }
    }
}

/// Whether a request carries a credential: a SigV2/SigV4 `Authorization` header or a presigned
/// URL's signature.
fn presents_credential(request: &Request) -> bool {
    request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.starts_with("X-Amz-Credential=") || pair.starts_with("AWSAccessKeyId="))
        })
}

impl tower::Service<Request> for S3Endpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.call(request).await) })
    }
}
