//! The rate-limit rule: at most `requests` admitted in **any** rolling window of `window`
//! milliseconds. A sliding log of admission times keeps that promise exactly (a token bucket
//! with the same burst admits up to twice as many in a window); rejected requests are not
//! recorded, so they use no quota. One log holds at most `requests` times.

use std::collections::VecDeque;

/// A limit: `requests` per `window_millis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub window_millis: i64,
}

/// The outcome of asking for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub admitted: bool,
    /// Requests still admissible in the current window, after this one.
    pub remaining: u32,
    /// Milliseconds until one more request would be admitted (0 when one would be now).
    pub retry_after_millis: i64,
    /// Milliseconds until the oldest admitted request leaves the window (0 when none is in it).
    pub reset_millis: i64,
}

impl Decision {
    /// Whole seconds until the next admission, at least 1: the `Retry-After` of a 429.
    pub fn retry_after_seconds(&self) -> i64 {
        ceil_seconds(self.retry_after_millis).max(1)
    }

    /// Whole seconds until the window frees a request, rounded up.
    pub fn reset_seconds(&self) -> i64 {
        ceil_seconds(self.reset_millis)
    }
}

fn ceil_seconds(millis: i64) -> i64 {
    (millis.max(0) + 999) / 1000
}

/// The admission times of one caller within the last window, oldest first.
#[derive(Debug, Clone, Default)]
pub struct SlidingLog(VecDeque<i64>);

impl SlidingLog {
    /// Forgets admissions that are no longer inside the window ending at `now`.
    fn expire(&mut self, now: i64, window: i64) {
        while self.0.front().is_some_and(|t| *t <= now - window) {
            self.0.pop_front();
        }
    }

    /// Admits one request at `now` if fewer than `quota.requests` were admitted in the window
    /// `(now - window, now]`, recording it; otherwise says when it would be admitted.
    pub fn try_admit(&mut self, now: i64, quota: Quota) -> Decision {
        self.decide(now, quota, true)
    }

    /// What [`SlidingLog::try_admit`] would answer, without recording anything.
    pub fn peek(&mut self, now: i64, quota: Quota) -> Decision {
        self.decide(now, quota, false)
    }

    fn decide(&mut self, now: i64, quota: Quota, record: bool) -> Decision {
        self.expire(now, quota.window_millis);
        let limit = quota.requests as usize;
        let admitted = self.0.len() < limit;
        if admitted && record {
            self.0.push_back(now);
        }
        let used = self.0.len() + usize::from(admitted && !record);
        let remaining = u32::try_from(limit.saturating_sub(used)).unwrap_or(0);
        let reset_millis = self
            .0
            .front()
            .map_or(if admitted && !record { quota.window_millis } else { 0 }, |oldest| {
                oldest + quota.window_millis - now
            });
        // The next admission waits for the oldest of the last `limit` admissions to leave.
        let retry_after_millis = if remaining > 0 || limit == 0 {
            0
        } else {
            self.0
                .get(used - limit)
                .map_or(quota.window_millis, |t| t + quota.window_millis - now)
        };
        Decision {
            admitted,
            remaining,
            retry_after_millis,
            reset_millis,
        }
    }

    /// When the latest admission was, if any is remembered.
    pub fn latest(&self) -> Option<i64> {
        self.0.back().copied()
    }

    /// Whether the log holds nothing inside the window ending at `now`, so it can be dropped.
    pub fn is_idle(&self, now: i64, window: i64) -> bool {
        self.0.back().is_none_or(|newest| *newest <= now - window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Quota = Quota {
        requests: 60,
        window_millis: 60_000,
    };

    #[test]
    fn admits_sixty_then_refuses_until_the_first_leaves_the_window() {
        let mut log = SlidingLog::default();
        for i in 0..60 {
            let d = log.try_admit(1_000 + i * 100, MINUTE);
            assert!(d.admitted, "request {i}");
            assert_eq!(d.remaining, 59 - i as u32);
        }
        let refused = log.try_admit(10_000, MINUTE);
        assert!(!refused.admitted);
        assert_eq!(refused.remaining, 0);
        // The first admission (at 1.000 s) leaves the window at 61.000 s.
        assert_eq!(refused.retry_after_millis, 51_000);
        assert_eq!(refused.retry_after_seconds(), 51);
        assert!(!log.try_admit(60_999, MINUTE).admitted);
        assert!(log.try_admit(61_000, MINUTE).admitted);
        // Only one slot freed: the next waits for the second admission (1.100 s).
        let next = log.try_admit(61_000, MINUTE);
        assert!(!next.admitted);
        assert_eq!(next.retry_after_millis, 100);
        assert_eq!(next.retry_after_seconds(), 1);
    }

    #[test]
    fn no_window_ever_holds_more_than_the_limit() {
        // Requests every 250 ms for 5 minutes; count admissions in every 60 s window.
        let mut log = SlidingLog::default();
        let admitted: Vec<i64> = (0..1200)
            .map(|i| i * 250)
            .filter(|t| log.try_admit(*t, MINUTE).admitted)
            .collect();
        for start in (0..300_000).step_by(50) {
            let in_window = admitted.iter().filter(|t| **t >= start && **t < start + 60_000).count();
            assert!(
                in_window <= 60,
                "{in_window} admitted in the window starting at {start} ms"
            );
        }
        // And the limit is reached, not merely respected: 60 in the first minute.
        assert_eq!(admitted.iter().filter(|t| **t < 60_000).count(), 60);
    }

    #[test]
    fn refusals_use_no_quota() {
        let mut log = SlidingLog::default();
        let q = Quota {
            requests: 2,
            window_millis: 10_000,
        };
        assert!(log.try_admit(0, q).admitted);
        assert!(log.try_admit(0, q).admitted);
        for t in 1..100 {
            assert!(!log.try_admit(t * 10, q).admitted);
        }
        assert!(log.try_admit(10_000, q).admitted);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        let d = Decision {
            admitted: false,
            remaining: 0,
            retry_after_millis: 1,
            reset_millis: 1,
        };
        assert_eq!(d.retry_after_seconds(), 1);
        let d = Decision {
            admitted: false,
            remaining: 0,
            retry_after_millis: 0,
            reset_millis: 0,
        };
        assert_eq!(d.retry_after_seconds(), 1);
        let d = Decision {
            admitted: false,
            remaining: 0,
            retry_after_millis: 59_001,
            reset_millis: 59_001,
        };
        assert_eq!(d.retry_after_seconds(), 60);
    }

    #[test]
    fn peeking_records_nothing() {
        let mut log = SlidingLog::default();
        let q = Quota {
            requests: 1,
            window_millis: 1000,
        };
        assert!(log.peek(0, q).admitted);
        assert!(log.peek(0, q).admitted);
        assert!(log.try_admit(0, q).admitted);
        let blocked = log.peek(10, q);
        assert!(!blocked.admitted);
        assert_eq!(blocked.retry_after_millis, 990);
    }

    #[test]
    fn an_idle_log_can_be_dropped() {
        let mut log = SlidingLog::default();
        assert!(log.is_idle(0, 1000));
        log.try_admit(0, MINUTE);
        assert!(!log.is_idle(59_999, 60_000));
        assert!(log.is_idle(60_000, 60_000));
    }
}
