//! The rate-limit checks of a route's guard (`crate::guard`):
//!
//! - the failed-auth gate: the client's address ([`client_address`]) counts the answers that
//!   rejected a presented credential ([`count_failed_auth`]); past the limit, such an answer
//!   becomes a 429, so a blocked address learns nothing about the credentials it tries;
//! - [`admit`] (after authentication) admits the request against its API key's quota for the
//!   route's policy (anonymous reads: against the address), and in the same limiter call checks
//!   that the address is not blocked by the gate; the answer gets the `RateLimit-Policy` and
//!   `RateLimit` headers ([`set_rate_limit_headers`]).
//!
//! So each request costs one limiter call, and one more only when its credential was rejected.

use super::{policy_value, state_value};
use crate::AppState;
use crate::Peer;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::rate_limit::{Decision, Quota};
use cloudnexus_service::{Policy, Principal};
use cloudnexus_store::{Admission, LimiterUnavailable, Verdict};
use std::net::IpAddr;
use std::sync::Arc;

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub(crate) const FAILED_AUTH_POLICY: &str = "failed-auth";

/// The client's address, as the gate found it (behind trusted proxies, the forwarded one).
#[derive(Debug, Clone)]
pub struct ClientAddress(Arc<str>);

impl ClientAddress {
    pub(crate) fn new(address: Arc<str>) -> Self {
        Self(address)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The failed-auth gate's half after the route: an answer that rejected a presented credential
/// counts against the client's address, and past the limit becomes a 429.
pub(crate) async fn count_failed_auth(state: &AppState, client: &ClientAddress, response: Response) -> Response {
    if response.extensions().get::<crate::auth::CredentialRejected>().is_none() {
        return response;
    }
    let failure = Admission {
        policy: FAILED_AUTH_POLICY,
        caller: client.as_str(),
        quota: state.settings.rate_limits.failed_auth,
    };
    match state
        .limiter
        .admit(failure, None, state.service.clock().now_millis())
        .await
    {
        Ok(Verdict::Admitted(_)) => response,
        Ok(Verdict::OverQuota(decision) | Verdict::GateShut(decision)) => too_many_failures(&decision).into_response(),
        Err(e) => limiter_unavailable(&e).into_response(),
    }
}

/// Admits a request of `principal` (`None`: an anonymous read, counted per address) from
/// `client` under `policy`, checking in the same limiter call that the address is not blocked
/// by the gate. `Ok` carries the decision for [`set_rate_limit_headers`]; `Err` the refusal,
/// which already wears them when it is the caller's own quota that is spent.
pub(crate) async fn admit(
    state: &AppState,
    policy: Policy,
    client: &ClientAddress,
    principal: Option<&Principal>,
) -> Result<Decision, Response> {
    let quota = state.settings.rate_limits.quota(policy);
    let who = if principal.is_some() {
        "this API key"
    } else {
        "this address (reading without credentials)"
    };
    let verdict = count_request(state, policy, Some(client), principal).await;
    match verdict {
        Ok(Verdict::Admitted(decision)) => Ok(decision),
        Ok(Verdict::OverQuota(decision)) => {
            let mut response = rate_limited(who, policy, quota, &decision).into_response();
            set_rate_limit_headers(response.headers_mut(), policy, policy_header(policy, quota), &decision);
            Err(response)
        }
        Ok(Verdict::GateShut(decision)) => Err(too_many_failures(&decision).into_response()),
        Err(e) => Err(limiter_unavailable(&e).into_response()),
    }
}

/// The one limiter call that admits a request, over either protocol: against its principal's
/// quota for `policy` (without one, an anonymous read, against the client's address), and, in
/// the same call, the client's failed-auth gate. Each protocol answers the verdict its own way.
pub(crate) async fn count_request(
    state: &AppState,
    policy: Policy,
    client: Option<&ClientAddress>,
    principal: Option<&Principal>,
) -> Result<Verdict, LimiterUnavailable> {
    let settings = &state.settings.rate_limits;
    let gate = client.map(|c| Admission {
        policy: FAILED_AUTH_POLICY,
        caller: c.as_str(),
        quota: settings.failed_auth,
    });
    let anonymous;
    let caller = match principal {
        Some(principal) => principal.key_id.as_str(),
        None => {
            anonymous = format!("anonymous:{}", client.map_or("unknown", ClientAddress::as_str));
            anonymous.as_str()
        }
    };
    let admission = Admission {
        policy: policy.name(),
        caller,
        quota: settings.quota(policy),
    };
    state
        .limiter
        .admit(admission, gate, state.service.clock().now_millis())
        .await
}

/// The `RateLimit-Policy` header of `policy` with this quota.
pub(crate) fn policy_header(policy: Policy, quota: Quota) -> HeaderValue {
    HeaderValue::try_from(policy_value(policy.name(), quota)).expect("ascii header")
}

/// `RateLimit-Policy` (built once per route, [`policy_header`]) and `RateLimit` of an admitted
/// request, on its answer.
pub(crate) fn set_rate_limit_headers(
    headers: &mut HeaderMap,
    policy: Policy,
    policy_header: HeaderValue,
    decision: &Decision,
) {
    headers.insert(RATELIMIT_POLICY.clone(), policy_header);
    // From the `String` itself: no copy.
    let state = state_value(policy.name(), decision);
    headers.insert(RATELIMIT.clone(), HeaderValue::try_from(state).expect("ascii header"));
}

fn retry_after(decision: &Decision) -> HeaderValue {
    HeaderValue::from(decision.retry_after_seconds())
}

/// 429 for a caller (`who`: an API key, or an address) over its quota. The request used none of it.
fn rate_limited(who: &str, policy: Policy, quota: Quota, decision: &Decision) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many requests",
        format!(
            "{who} has made {} `{}` requests in the last {} seconds, the most allowed; retry after {} second(s) (see Retry-After)",
            quota.requests,
            policy.name(),
            quota.window_millis / 1000,
            decision.retry_after_seconds()
        ),
    )
    .with_header(header::RETRY_AFTER, retry_after(decision))
}

/// 429 for an address that presented too many invalid credentials.
fn too_many_failures(decision: &Decision) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many requests",
        format!(
            "too many requests with invalid credentials came from this address; retry after {} second(s) (see Retry-After) with a valid credential",
            decision.retry_after_seconds()
        ),
    )
    .with_header(header::RETRY_AFTER, retry_after(decision))
}

/// 503 when the limiter cannot decide: no request is admitted unlimited.
fn limiter_unavailable(e: &LimiterUnavailable) -> ApiError {
    tracing::error!(error = %e, "the rate limiter is unavailable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limiter_unavailable",
        "Service unavailable",
        "the service cannot check rate limits right now, so it admits no request; retry after the number of seconds in Retry-After",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_address(request: &Request, trusted: &[IpAddr]) -> Arc<str> {
    let Some(peer) = request.extensions().get::<Peer>() else {
        return Arc::from("unknown");
    };
    if !trusted.contains(&peer.ip) {
        return peer.text.clone();
    }
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .map_or_else(|| peer.text.clone(), |ip| ip.to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use std::net::SocketAddr;

    fn request(peer: &str, forwarded: Option<&str>) -> Request {
        let mut builder = axum::http::Request::builder().uri("/v1/buckets");
        if let Some(f) = forwarded {
            builder = builder.header("x-forwarded-for", f);
        }
        let mut r = builder.body(Body::empty()).unwrap();
        let ip = peer.parse::<SocketAddr>().unwrap().ip();
        r.extensions_mut().insert(Peer {
            ip,
            text: ip.to_string().into(),
        });
        r
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            &*client_address(&request("192.0.2.7:5000", Some("203.0.113.9")), &[proxy]),
            "192.0.2.7"
        );
        assert_eq!(
            &*client_address(&request("10.0.0.1:5000", Some("203.0.113.9")), &[proxy]),
            "203.0.113.9"
        );
        // A client cannot hide behind a forged first hop: the last untrusted hop counts.
        assert_eq!(
            &*client_address(&request("10.0.0.1:5000", Some("1.2.3.4, 203.0.113.9")), &[proxy]),
            "203.0.113.9"
        );
        assert_eq!(&*client_address(&request("10.0.0.1:5000", None), &[proxy]), "10.0.0.1");
    }
}
