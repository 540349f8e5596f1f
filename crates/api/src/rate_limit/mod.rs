//! Rate limits over HTTP: the quota of each policy, the `RateLimit-Policy` and `RateLimit`
//! headers, and the two checks of a route's guard (`checks`): the failed-auth gate of the
//! client's address, and the admission of the request against its API key's quota.
//!
//! Quotas are per API key (access tokens count against the key that minted them), kept exactly
//! over any rolling window by the store's [`RateLimiter`](cloudnexus_store::RateLimiter).
//! Failed authentication is limited per client address too.

pub(crate) mod checks;

pub use checks::ClientAddress;

use cloudnexus_core::rate_limit::{Decision, Quota};
use cloudnexus_service::Policy;
use std::net::IpAddr;

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
    pub fn quota(&self, policy: Policy) -> Quota {
        match policy {
            Policy::ListBuckets => self.list_buckets,
            Policy::Read => self.read,
            Policy::Write => self.write,
            Policy::Tokens => self.tokens,
        }
    }
}

/// The `RateLimit-Policy` header value (IETF draft) of a policy with this quota. It depends on
/// the settings only, so each route's guard builds it once (`guard::Guard::new`).
pub fn policy_value(policy: &str, quota: Quota) -> String {
    draft_value(
        policy,
        ("q=", i64::from(quota.requests)),
        ("w=", quota.window_millis / 1000),
    )
}

/// The `RateLimit` header value (IETF draft) of a decision. Built on every limited request, so
/// with `itoa` rather than the formatting machinery.
pub fn state_value(policy: &str, decision: &Decision) -> String {
    draft_value(
        policy,
        ("r=", i64::from(decision.remaining)),
        ("t=", decision.reset_seconds()),
    )
}

/// `"policy";first;second`, each parameter a name and a number.
fn draft_value(policy: &str, first: (&str, i64), second: (&str, i64)) -> String {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(policy_value("list-buckets", quota), r#""list-buckets";q=60;w=60"#);
        assert_eq!(state_value("list-buckets", &d), r#""list-buckets";r=59;t=60"#);
    }
}
