//! The in-memory limiter of a single node: one sliding log per (policy, caller) behind a mutex,
//! so concurrent requests are decided one at a time and the limit holds exactly. Logs that have
//! gone idle are swept, so memory follows the callers active within a window, not all callers
//! ever seen.

use super::{Admission, LimiterUnavailable, RateLimiter, Verdict};
use async_trait::async_trait;
use cloudnexus_core::rate_limit::{Quota, SlidingLog};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

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

impl Logs {
    fn sweep_now_and_then(&mut self, now: i64) {
        self.decisions += 1;
        if self.decisions.is_multiple_of(SWEEP_EVERY) {
            self.by_policy.retain(|_, callers| {
                callers.retain(|_, c| !c.log.is_idle(now, c.window_millis));
                !callers.is_empty()
            });
        }
    }

    /// Whether a request of `gate`'s caller would be admitted now; creates nothing.
    fn peek(&mut self, gate: Admission<'_>, now: i64) -> cloudnexus_core::rate_limit::Decision {
        let known = self
            .by_policy
            .get_mut(gate.policy)
            .and_then(|callers| callers.get_mut(gate.caller));
        match known {
            Some(c) => c.log.peek(now, gate.quota),
            None => SlidingLog::default().peek(now, gate.quota),
        }
    }

    /// The log of a caller, created when missing.
    fn log_of(&mut self, policy: &str, caller: &str, quota: Quota) -> &mut CallerLog {
        if !self.by_policy.contains_key(policy) {
            self.by_policy.insert(policy.to_owned(), HashMap::new());
        }
        let callers = self.by_policy.get_mut(policy).expect("inserted above");
        if !callers.contains_key(caller) {
            callers.insert(caller.to_owned(), CallerLog::default());
        }
        let c = callers.get_mut(caller).expect("inserted above");
        c.window_millis = quota.window_millis;
        c
    }
}

impl InMemoryRateLimiter {
    /// How many callers have a log (for tests of the memory bound).
    pub fn tracked_callers(&self) -> usize {
        let logs = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        logs.by_policy.values().map(HashMap::len).sum()
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn admit(
        &self,
        admission: Admission<'_>,
        gate: Option<Admission<'_>>,
        now: i64,
    ) -> Result<Verdict, LimiterUnavailable> {
        let mut logs = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        logs.sweep_now_and_then(now);
        if let Some(gate) = gate {
            let gate_decision = logs.peek(gate, now);
            if !gate_decision.admitted {
                return Ok(Verdict::GateShut(gate_decision));
            }
        }
        let decision = logs
            .log_of(admission.policy, admission.caller, admission.quota)
            .log
            .try_admit(now, admission.quota);
        Ok(if decision.admitted {
            Verdict::Admitted(decision)
        } else {
            Verdict::OverQuota(decision)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quota = Quota {
        requests: 60,
        window_millis: 60_000,
    };

    fn of(caller: &str) -> Admission<'_> {
        Admission {
            policy: "p",
            caller,
            quota: Q,
        }
    }

    #[tokio::test]
    async fn memory_follows_the_callers_active_in_a_window() {
        let limiter = InMemoryRateLimiter::default();
        for i in 0..10_000 {
            limiter.admit(of(&format!("key-{i}")), None, i).await.unwrap();
        }
        assert_eq!(limiter.tracked_callers(), 10_000);
        // A window later, the next sweep drops every idle log.
        for i in 0..SWEEP_EVERY {
            limiter.admit(of("steady"), None, 200_000 + i as i64).await.unwrap();
        }
        assert!(
            limiter.tracked_callers() <= 1,
            "{} logs kept",
            limiter.tracked_callers()
        );
        // Checking a gate of an unknown caller creates nothing.
        limiter
            .admit(of("steady"), Some(of("stranger")), 300_000)
            .await
            .unwrap();
        assert!(limiter.tracked_callers() <= 1);
    }
}
