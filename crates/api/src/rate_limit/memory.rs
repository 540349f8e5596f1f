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
    /// Policy, then caller: looked up by `&str`, so a decision allocates only for a new caller.
    by_policy: HashMap<String, HashMap<String, CallerLog>>,
    decisions: u64,
}

/// A caller's log, with the window of the policy it was last decided under.
#[derive(Debug, Default)]
struct CallerLog {
    window_millis: i64,
    log: SlidingLog,
}

impl InMemoryRateLimiter {
    /// How many callers have a log (for tests of the memory bound).
    pub fn tracked_callers(&self) -> usize {
        let logs = self.inner.lock().expect("limiter lock");
        logs.by_policy.values().map(HashMap::len).sum()
    }

    fn decide(&self, policy: &str, caller: &str, quota: Quota, now: i64, record: bool) -> Decision {
        let mut logs = self.inner.lock().expect("limiter lock");
        logs.decisions += 1;
        if logs.decisions.is_multiple_of(SWEEP_EVERY) {
            logs.by_policy.retain(|_, callers| {
                callers.retain(|_, c| !c.log.is_idle(now, c.window_millis));
                !callers.is_empty()
            });
        }
        if !record {
            let known = logs
                .by_policy
                .get_mut(policy)
                .and_then(|callers| callers.get_mut(caller));
            return match known {
                Some(c) => c.log.peek(now, quota),
                None => SlidingLog::default().peek(now, quota),
            };
        }
        if !logs.by_policy.contains_key(policy) {
            logs.by_policy.insert(policy.to_owned(), HashMap::new());
        }
        let callers = logs.by_policy.get_mut(policy).expect("inserted above");
        if !callers.contains_key(caller) {
            callers.insert(caller.to_owned(), CallerLog::default());
        }
        let c = callers.get_mut(caller).expect("inserted above");
        c.window_millis = quota.window_millis;
        c.log.try_admit(now, quota)
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
