//! Rate limits: which policy a route belongs to, the [`RateLimiter`] trait (in memory now; a
//! shared Redis limiter for several nodes can implement it later), the `RateLimit-Policy` and
//! `RateLimit` headers, and the middleware that applies them.
//!
//! Quotas are per API key (access tokens count against the key that minted them), kept exactly
//! over any rolling window (see `cloudnexus_core::rate_limit`). Failed authentication is limited
//! per client address too.

mod memory;
mod middleware;

pub use memory::InMemoryRateLimiter;
pub use middleware::middleware;

use async_trait::async_trait;
use axum::http::Method;
use cloudnexus_core::rate_limit::{Decision, Quota};
use std::net::IpAddr;

/// The route groups, each with its own policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteGroup {
    /// `GET /v1/buckets` and `GET /v1/get-/buckets`: 60 a minute by default (the reference page).
    ListBuckets,
    /// Other reads.
    Read,
    /// Changes.
    Write,
    /// `POST /v1/auth/tokens`.
    Tokens,
}

impl RouteGroup {
    /// The policy's name, as in the `RateLimit-Policy` header and the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListBuckets => "list-buckets",
            Self::Read => "read",
            Self::Write => "write",
            Self::Tokens => "tokens",
        }
    }

    /// The group of a request, from its method and matched route; `None` for routes without a
    /// limit (health, metrics, docs).
    pub fn of(method: &Method, route: &str) -> Option<Self> {
        if !route.starts_with("/v1/") || route == crate::openapi::OPENAPI_PATH {
            return None;
        }
        Some(match (method, route) {
            (&Method::GET, "/v1/buckets" | "/v1/get-/buckets") => Self::ListBuckets,
            (&Method::POST, "/v1/auth/tokens") => Self::Tokens,
            (&Method::GET | &Method::HEAD, _) => Self::Read,
            _ => Self::Write,
        })
    }
}

/// The route of single objects, the one whose GET and HEAD may be anonymous (public buckets).
pub const OBJECT_ROUTE: &str = "/v1/buckets/{bucket}/objects/{*key}";

/// Whether a request without credentials may reach the handler, which then decides (only reads
/// of objects in public buckets are ever anonymous).
pub fn may_be_anonymous(method: &Method, route: &str) -> bool {
    route == OBJECT_ROUTE && (method == Method::GET || method == Method::HEAD)
}

/// The rate-limit configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub list_buckets: Quota,
    pub read: Quota,
    pub write: Quota,
    pub tokens: Quota,
    /// Failed authentications per client address.
    pub failed_auth: Quota,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

const MINUTE: i64 = 60_000;

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            list_buckets: Quota {
                requests: 60,
                window_millis: MINUTE,
            },
            read: Quota {
                requests: 600,
                window_millis: MINUTE,
            },
            write: Quota {
                requests: 120,
                window_millis: MINUTE,
            },
            tokens: Quota {
                requests: 30,
                window_millis: MINUTE,
            },
            failed_auth: Quota {
                requests: 20,
                window_millis: MINUTE,
            },
            trusted_proxies: Vec::new(),
        }
    }
}

impl RateLimitSettings {
    pub fn quota(&self, group: RouteGroup) -> Quota {
        match group {
            RouteGroup::ListBuckets => self.list_buckets,
            RouteGroup::Read => self.read,
            RouteGroup::Write => self.write,
            RouteGroup::Tokens => self.tokens,
        }
    }
}

/// Counts requests per (policy, caller) and decides admissions.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug + 'static {
    /// Admits one request of `caller` under `policy` at `now_millis` if the quota allows,
    /// recording it; a refusal records nothing.
    async fn admit(&self, policy: &str, caller: &str, quota: Quota, now_millis: i64) -> Decision;

    /// What `admit` would answer, recording nothing.
    async fn peek(&self, policy: &str, caller: &str, quota: Quota, now_millis: i64) -> Decision;
}

/// The `RateLimit-Policy` and `RateLimit` header values (IETF draft) for a decision. Built on
/// every limited request, so with `itoa` rather than the formatting machinery.
pub fn header_values(policy: &str, quota: Quota, decision: &Decision) -> (String, String) {
    let value = |first: (&str, i64), second: (&str, i64)| {
        let mut numbers = itoa::Buffer::new();
        let mut s = String::with_capacity(policy.len() + 32);
        s.push('"');
        s.push_str(policy);
        s.push('"');
        for (name, n) in [first, second] {
            s.push(';');
            s.push_str(name);
            s.push_str(numbers.format(n));
        }
        s
    };
    (
        value(("q=", i64::from(quota.requests)), ("w=", quota.window_millis / 1000)),
        value(("r=", i64::from(decision.remaining)), ("t=", decision.reset_seconds())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_groups() {
        assert_eq!(
            RouteGroup::of(&Method::GET, "/v1/buckets"),
            Some(RouteGroup::ListBuckets)
        );
        assert_eq!(
            RouteGroup::of(&Method::GET, "/v1/get-/buckets"),
            Some(RouteGroup::ListBuckets)
        );
        assert_eq!(RouteGroup::of(&Method::POST, "/v1/buckets"), Some(RouteGroup::Write));
        assert_eq!(
            RouteGroup::of(&Method::GET, "/v1/buckets/{bucket}"),
            Some(RouteGroup::Read)
        );
        assert_eq!(
            RouteGroup::of(&Method::DELETE, "/v1/buckets/{bucket}"),
            Some(RouteGroup::Write)
        );
        assert_eq!(
            RouteGroup::of(&Method::POST, "/v1/auth/tokens"),
            Some(RouteGroup::Tokens)
        );
        assert_eq!(RouteGroup::of(&Method::GET, "/healthz"), None);
        assert_eq!(RouteGroup::of(&Method::GET, "/v1/openapi.json"), None);
    }

    #[test]
    fn headers_follow_the_draft() {
        let quota = Quota {
            requests: 60,
            window_millis: 60_000,
        };
        let d = Decision {
            admitted: true,
            remaining: 59,
            retry_after_millis: 0,
            reset_millis: 60_000,
        };
        let (policy, state) = header_values("list-buckets", quota, &d);
        assert_eq!(policy, r#""list-buckets";q=60;w=60"#);
        assert_eq!(state, r#""list-buckets";r=59;t=60"#);
    }
}
