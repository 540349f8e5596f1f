//! The in-memory limiter of a single node: one sliding log per (policy, caller) behind a mutex,
//! so concurrent requests are decided one at a time and the limit holds exactly. Logs that have
//! gone idle are swept, so memory follows the callers active within a window, not all callers
//! ever seen; and the number of logs is capped ([`MAX_CALLERS`] by default), so a flood from
//! ever new addresses (failed sign-ins from a botnet) cannot grow memory without bound. At the
//! cap, idle logs are swept first; if that is not enough, the tenth of the logs whose latest
//! request is oldest are dropped: a caller so dropped starts a fresh window, so under such a
//! flood the limits of the quietest callers may admit a little more than their quota, never
//! less.

use super::{Admission, LimiterUnavailable, RateLimiter, Verdict};
use async_trait::async_trait;
use cloudnexus_core::rate_limit::{Quota, SlidingLog};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Sweep idle logs every this many decisions.
const SWEEP_EVERY: u64 = 1024;
/// The most callers' logs kept at once, by default (a log of a busy caller holds up to its
/// quota's timestamps: some hundreds of bytes to a few KiB).
pub const MAX_CALLERS: usize = 100_000;

#[derive(Debug)]
pub struct InMemoryRateLimiter {
    inner: Mutex<Logs>,
}

impl Default for InMemoryRateLimiter {
    fn default() -> Self {
        Self::with_max_callers(MAX_CALLERS)
    }
}

#[derive(Debug, Default)]
struct Logs {
    /// Policy, then caller: looked up by `&str`, so a decision allocates only for a new caller.
    by_policy: HashMap<String, HashMap<String, CallerLog>>,
    decisions: u64,
    /// How many logs `by_policy` holds.
    callers: usize,
    max_callers: usize,
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
            self.sweep_idle(now);
        }
    }

    fn sweep_idle(&mut self, now: i64) {
        self.by_policy.retain(|_, callers| {
            callers.retain(|_, c| !c.log.is_idle(now, c.window_millis));
            !callers.is_empty()
        });
        self.callers = self.by_policy.values().map(HashMap::len).sum();
    }

    /// Makes room for one more log: idle logs go first, then the tenth whose latest request is
    /// oldest.
    fn make_room(&mut self, now: i64) {
        if self.callers < self.max_callers {
            return;
        }
        self.sweep_idle(now);
        if self.callers < self.max_callers {
            return;
        }
        let mut latest: Vec<i64> = self
            .by_policy
            .values()
            .flat_map(|callers| callers.values().map(|c| c.log.latest().unwrap_or(i64::MIN)))
            .collect();
        let drop_count = (self.max_callers / 10).max(1);
        let (_, cutoff, _) = latest.select_nth_unstable(drop_count - 1);
        let cutoff = *cutoff;
        let mut dropped = 0;
        self.by_policy.retain(|_, callers| {
            callers.retain(|_, c| {
                let old = dropped < drop_count && c.log.latest().unwrap_or(i64::MIN) <= cutoff;
                dropped += usize::from(old);
                !old
            });
            !callers.is_empty()
        });
        self.callers -= dropped;
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
    fn log_of(&mut self, policy: &str, caller: &str, quota: Quota, now: i64) -> &mut CallerLog {
        let known = self
            .by_policy
            .get(policy)
            .is_some_and(|callers| callers.contains_key(caller));
        if !known {
            self.make_room(now);
            self.callers += 1;
        }
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
    /// A limiter keeping at most `max_callers` callers' logs.
    pub fn with_max_callers(max_callers: usize) -> Self {
        Self {
            inner: Mutex::new(Logs {
                max_callers: max_callers.max(1),
                ..Logs::default()
            }),
        }
    }

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
            .log_of(admission.policy, admission.caller, admission.quota, now)
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

    #[tokio::test]
    async fn a_flood_of_new_callers_stays_within_the_cap_and_keeps_the_active_ones() {
        let limiter = InMemoryRateLimiter::with_max_callers(1_000);
        let mut now = 0;
        for i in 0..20_000 {
            now += 1;
            // One address after another fails to sign in, all within one window...
            limiter
                .admit(of(&format!("10.0.{}.{}", i / 256, i % 256)), None, now)
                .await
                .unwrap();
            assert!(limiter.tracked_callers() <= 1_000, "{} logs", limiter.tracked_callers());
            // ...while a steady caller spends its quota among the latest few hundred: its log
            // is never among the oldest, so it is kept, and its count stays exact.
            if i >= 19_000 && i % 15 == 0 && (i - 19_000) / 15 < 60 {
                let decision = limiter.admit(of("steady"), None, now).await.unwrap();
                assert!(matches!(decision, Verdict::Admitted(_)));
            }
        }
        let over = limiter.admit(of("steady"), None, now + 1).await.unwrap();
        assert!(
            matches!(over, Verdict::OverQuota(_)),
            "the steady caller's 61st request in the window is refused"
        );
    }
}
