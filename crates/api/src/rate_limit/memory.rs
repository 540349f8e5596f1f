//! The in-memory limiter of a single node: one sliding log per (policy, caller) behind a mutex,
//! so concurrent requests are decided one at a time and the limit holds exactly. Logs that have
//! gone idle are swept, so memory follows the callers active within a window, not all callers
//! ever seen.

use super::RateLimiter;
use async_trait::async_trait;
use cloudnexus_core::rate_limit::{Decision, Quota, SlidingLog};
use std::collections::HashMap;
use std::sync::Mutex;

/// Sweep idle logs every this many decisions.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug, Default)]
pub struct InMemoryRateLimiter {
    inner: Mutex<Logs>,
}

#[derive(Debug, Default)]
struct Logs {
    by_caller: HashMap<(String, String), (i64, SlidingLog)>,
    decisions: u64,
}

impl InMemoryRateLimiter {
    /// How many callers have a log (for tests of the memory bound).
    pub fn tracked_callers(&self) -> usize {
        self.inner.lock().expect("limiter lock").by_caller.len()
    }

    fn decide(&self, policy: &str, caller: &str, quota: Quota, now: i64, record: bool) -> Decision {
        let mut logs = self.inner.lock().expect("limiter lock");
        logs.decisions += 1;
        if logs.decisions.is_multiple_of(SWEEP_EVERY) {
            logs.by_caller.retain(|_, (window, log)| !log.is_idle(now, *window));
        }
        let key = (policy.to_owned(), caller.to_owned());
        if !record && !logs.by_caller.contains_key(&key) {
            return SlidingLog::default().peek(now, quota);
        }
        let (window, log) = logs.by_caller.entry(key).or_default();
        *window = quota.window_millis;
        if record {
            log.try_admit(now, quota)
        } else {
            log.peek(now, quota)
        }
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn admit(&self, policy: &str, caller: &str, quota: Quota, now_millis: i64) -> Decision {
        self.decide(policy, caller, quota, now_millis, true)
    }

    async fn peek(&self, policy: &str, caller: &str, quota: Quota, now_millis: i64) -> Decision {
        self.decide(policy, caller, quota, now_millis, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quota = Quota {
        requests: 60,
        window_millis: 60_000,
    };

    #[tokio::test]
    async fn callers_do_not_share_quota() {
        let limiter = InMemoryRateLimiter::default();
        for _ in 0..60 {
            assert!(limiter.admit("p", "a", Q, 0).await.admitted);
        }
        assert!(!limiter.admit("p", "a", Q, 0).await.admitted);
        assert!(limiter.admit("p", "b", Q, 0).await.admitted);
        assert!(limiter.admit("other-policy", "a", Q, 0).await.admitted);
    }

    #[tokio::test]
    async fn memory_follows_the_callers_active_in_a_window() {
        let limiter = InMemoryRateLimiter::default();
        for i in 0..10_000 {
            limiter.admit("p", &format!("key-{i}"), Q, i).await;
        }
        assert_eq!(limiter.tracked_callers(), 10_000);
        // A window later, the next sweep drops every idle log.
        for i in 0..SWEEP_EVERY {
            limiter.admit("p", "steady", Q, 200_000 + i as i64).await;
        }
        assert!(
            limiter.tracked_callers() <= 1,
            "{} logs kept",
            limiter.tracked_callers()
        );
        // Peeking at unknown callers creates nothing.
        limiter.peek("p", "stranger", Q, 300_000).await;
        assert!(limiter.tracked_callers() <= 1);
    }
}
