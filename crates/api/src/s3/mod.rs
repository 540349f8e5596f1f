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

use crate::AppState;
use crate::rate_limit::checks::{FAILED_AUTH_POLICY, client_address};
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
    let limits = endpoint.state.settings.connections.clone();
    crate::listener::serve(listener, endpoint, limits, shutdown).await
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
            builder.set_host(BucketSubdomains::new(domain)?);
        }
        Ok(Self {
            s3: builder.build(),
            state,
        })
    }

    async fn call(self, mut request: Request) -> Response {
        let Some(_place) = self.state.in_flight.try_enter() else {
            return errors::slow_down(1, "the server is working on as many requests as it takes at once");
        };
        let rate_limits = &self.state.settings.rate_limits;
        let client = crate::rate_limit::ClientAddress::new(client_address(&request, &rate_limits.trusted_proxies));
        let authenticated = Authenticated::default();
        let presented_credential = presents_credential(&request);
        let has_body = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        request.extensions_mut().insert(client.clone());
        request.extensions_mut().insert(authenticated.clone());
        let response = match self.s3.call(request.map(s3s::Body::http_body_unsync)).await {
            Ok(response) => response.map(Body::new),
            Err(e) => {
                tracing::error!(error = ?e, "the S3 protocol failed to answer");
                errors::plain_response(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the server failed")
            }
        };
        let mut response = response;
        if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
            // The body may not have been read: the connection cannot carry another request, and
            // saying so keeps clients from sending one on it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
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
                // Never let a refused credential through uncounted.
                tracing::error!(error = %e, "the rate limiter is unavailable");
                let mut unavailable = errors::plain_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The service cannot check rate limits right now; retry shortly.",
                );
                unavailable
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                unavailable
            }
        }
    }
}

/// Virtual-hosted-style addressing under one domain: `BUCKET.DOMAIN[:PORT]` names a bucket;
/// any other host (the domain itself, `localhost:9000`, a load balancer's name) is path style.
#[derive(Debug)]
struct BucketSubdomains {
    /// `.DOMAIN`, lower-case.
    suffix: String,
}

impl BucketSubdomains {
    fn new(domain: &str) -> Result<Self, String> {
        let domain = domain.trim_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !valid {
            return Err(format!("[s3] domain {domain:?} is not a host name"));
        }
        Ok(Self {
            suffix: format!(".{domain}"),
        })
    }

    /// The bucket a `Host` header names, if it is `BUCKET.DOMAIN` (with or without a port).
    fn bucket_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let split = name.len().checked_sub(self.suffix.len())?;
        let (bucket, suffix) = (name.get(..split)?, name.get(split..)?);
        (suffix.eq_ignore_ascii_case(&self.suffix) && !bucket.is_empty()).then_some(bucket)
    }
}

impl s3s::host::S3Host for BucketSubdomains {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> s3s::S3Result<s3s::host::VirtualHost<'a>> {
        let virtual_host = s3s::host::VirtualHost::new(host);
        Ok(match self.bucket_of(host) {
            Some(bucket) => virtual_host.with_bucket(bucket),
            None => virtual_host,
        })
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

#[cfg(test)]
mod tests {
    use super::BucketSubdomains;

    #[test]
    fn buckets_are_the_first_label_under_the_domain_and_other_hosts_are_path_style() {
        let hosts = BucketSubdomains::new("s3.example.com").unwrap();
        assert_eq!(hosts.bucket_of("photos.s3.example.com"), Some("photos"));
        assert_eq!(hosts.bucket_of("photos.s3.example.com:9000"), Some("photos"));
        assert_eq!(
            hosts.bucket_of("my.dotted.bucket.S3.Example.com"),
            Some("my.dotted.bucket")
        );
        for path_style in [
            "s3.example.com",
            "s3.example.com:9000",
            "localhost:9000",
            "example.com",
            "xs3.example.com",
        ] {
            assert_eq!(hosts.bucket_of(path_style), None, "{path_style}");
        }
        assert!(BucketSubdomains::new("bad domain").is_err());
        assert!(BucketSubdomains::new("").is_err());
    }
}
