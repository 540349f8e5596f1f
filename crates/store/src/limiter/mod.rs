//! Rate-limit counters behind one trait, [`RateLimiter`]: the in-memory limiter of a single
//! node (`memory`), and the one every node shares (`redis`). The rule itself (at most N in any
//! rolling window) is `cloudnexus_core::rate_limit`'s; a limiter keeps the logs and decides.
//!
//! One call decides one request: it admits the request against its caller's quota, and may
//! check a *gate* at the same time (another caller's window that must not be exhausted, such
//! as the failed-authentication count of the client's address), so a request costs one round
//! trip to a shared limiter, never a peek and then an admission.

mod memory;
mod redis;

pub use memory::InMemoryRateLimiter;
pub use redis::{RedisError, RedisRateLimiter};

use async_trait::async_trait;
use cloudnexus_core::rate_limit::{Decision, Quota};

/// One count to consult: a caller's requests under a policy, limited by a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission<'a> {
    /// The policy's name (`list-buckets`, `failed-auth`, ...): callers are counted per policy.
    pub policy: &'a str,
    /// Whose requests: an API key's id, or a client address.
    pub caller: &'a str,
    pub quota: Quota,
}

/// What a limiter decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted and recorded; the decision says what is left.
    Admitted(Decision),
    /// The caller's quota is used up; nothing was recorded.
    OverQuota(Decision),
    /// The gate's window is exhausted; nothing was recorded.
    GateShut(Decision),
}

impl Verdict {
    pub fn is_admitted(&self) -> bool {
        matches!(self, Self::Admitted(_))
    }
}

/// The limiter could not decide (its backend is down); the request must not be admitted
/// unlimited.
#[derive(Debug, thiserror::Error)]
#[error("the rate limiter is unavailable: {0}")]
pub struct LimiterUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

/// Counts requests per (policy, caller) and decides admissions, exactly and atomically.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug + 'static {
    /// Admits one request under `admission` at `now_millis` when its quota allows and, if a
    /// `gate` is given, the gate's window still has room (the gate is checked, never recorded).
    /// Records the request only when it is admitted.
    async fn admit(
        &self,
        admission: Admission<'_>,
        gate: Option<Admission<'_>>,
        now_millis: i64,
    ) -> Result<Verdict, LimiterUnavailable>;
}
