//! The middleware that authenticates every limited request once, applies the failed-auth limit
//! of the client's address, admits the request against its API key's quota, and puts the
//! `RateLimit-Policy` and `RateLimit` headers on every answer of a limited route.

use super::{RouteGroup, header_values, may_be_anonymous};
use crate::AppState;
use crate::auth::{self, is_invalid_credential};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cloudnexus_core::rate_limit::{Decision, Quota};
use std::net::{IpAddr, SocketAddr};

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const FAILED_AUTH_POLICY: &str = "failed-auth";

/// Runs on every matched route. It also leaves the matched route on the response, for the
/// request log and metrics of the layer around the router (which sees no routing).
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = limit(&state, matched.as_ref(), request, next).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

async fn limit(state: &AppState, matched: Option<&MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map(MatchedPath::as_str);
    let Some(group) = route.and_then(|r| RouteGroup::of(request.method(), r)) else {
        return next.run(request).await;
    };
    let settings = &state.settings.rate_limits;
    let now = state.clock.now_millis();

    // An address that failed to authenticate too often is refused before its credential is read.
    let client = client_address(&request, &settings.trusted_proxies);
    let gate = state
        .limiter
        .peek(FAILED_AUTH_POLICY, &client, settings.failed_auth, now)
        .await;
    if !gate.admitted {
        return too_many_failures(&gate).into_response();
    }

    // Anonymous reads (of public buckets' objects) are limited per client address.
    let route = route.unwrap_or_default();
    if may_be_anonymous(request.method(), route) && !auth::has_credential(request.headers()) {
        let quota = settings.quota(group);
        let decision = state
            .limiter
            .admit(group.name(), &format!("anonymous:{client}"), quota, now)
            .await;
        let mut response = if decision.admitted {
            next.run(request).await
        } else {
            rate_limited("this address (reading without credentials)", group, quota, &decision).into_response()
        };
        set_rate_limit_headers(response.headers_mut(), group, quota, &decision);
        return response;
    }

    let (mut parts, body) = request.into_parts();
    let principal = match auth::authenticate(state, &parts.headers).await {
        Ok(principal) => principal,
        Err(e) => {
            if is_invalid_credential(&e) {
                state
                    .limiter
                    .admit(FAILED_AUTH_POLICY, &client, settings.failed_auth, now)
                    .await;
            }
            return e.into_response();
        }
    };

    let quota = settings.quota(group);
    let decision = state
        .limiter
        .admit(group.name(), principal.key_id.as_str(), quota, now)
        .await;
    let mut response = if decision.admitted {
        parts.extensions.insert(principal);
        next.run(Request::from_parts(parts, body)).await
    } else {
        rate_limited("this API key", group, quota, &decision).into_response()
    };
    set_rate_limit_headers(response.headers_mut(), group, quota, &decision);
    response
}

fn set_rate_limit_headers(headers: &mut HeaderMap, group: RouteGroup, quota: Quota, decision: &Decision) {
    let (policy, state) = header_values(group.name(), quota, decision);
    headers.insert(
        RATELIMIT_POLICY.clone(),
        HeaderValue::from_str(&policy).expect("ascii header"),
    );
    headers.insert(RATELIMIT.clone(), HeaderValue::from_str(&state).expect("ascii header"));
}

fn retry_after(decision: &Decision) -> HeaderValue {
    HeaderValue::from(decision.retry_after_seconds())
}

/// 429 for a caller (`who`: an API key, or an address) over its quota. The request used none of it.
fn rate_limited(who: &str, group: RouteGroup, quota: Quota, decision: &Decision) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many requests",
        format!(
            "{who} has made {} `{}` requests in the last {} seconds, the most allowed; retry after {} second(s) (see Retry-After)",
            quota.requests,
            group.name(),
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

/// The client's address: the peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
fn client_address(request: &Request, trusted: &[IpAddr]) -> String {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
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
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(peer: &str, forwarded: Option<&str>) -> Request {
        let mut builder = axum::http::Request::builder().uri("/v1/buckets");
        if let Some(f) = forwarded {
            builder = builder.header("x-forwarded-for", f);
        }
        let mut r = builder.body(Body::empty()).unwrap();
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(&request("192.0.2.7:5000", Some("203.0.113.9")), &[proxy]),
            "192.0.2.7"
        );
        assert_eq!(
            client_address(&request("10.0.0.1:5000", Some("203.0.113.9")), &[proxy]),
            "203.0.113.9"
        );
        // A client cannot hide behind a forged first hop: the last untrusted hop counts.
        assert_eq!(
            client_address(&request("10.0.0.1:5000", Some("1.2.3.4, 203.0.113.9")), &[proxy]),
            "203.0.113.9"
        );
        assert_eq!(client_address(&request("10.0.0.1:5000", None), &[proxy]), "10.0.0.1");
    }
}
