//! The behaviour every [`RateLimiter`](cloudnexus_store::RateLimiter) promises: at most N
//! admissions in any rolling window per (policy, caller), exactly under concurrency; refusals
//! record nothing; a gate is checked and never recorded.

use crate::fixtures::LimiterFixture;
use cloudnexus_core::rate_limit::{Quota, SlidingLog};
use cloudnexus_store::{Admission, RateLimiter, Verdict};
use std::collections::HashMap;
use std::sync::Arc;

const MINUTE: Quota = Quota {
    requests: 60,
    window_millis: 60_000,
};

fn of<'a>(policy: &'a str, caller: &'a str, quota: Quota) -> Admission<'a> {
    Admission { policy, caller, quota }
}

async fn admitted(limiter: &dyn RateLimiter, admission: Admission<'_>, now: i64) -> bool {
    limiter.admit(admission, None, now).await.unwrap().is_admitted()
}

pub async fn callers_and_policies_do_not_share_quota(f: LimiterFixture) {
    let limiter = f.limiter.as_ref();
    for _ in 0..60 {
        assert!(admitted(limiter, of("p", "a", MINUTE), 1_000).await);
    }
    assert!(!admitted(limiter, of("p", "a", MINUTE), 1_000).await);
    assert!(admitted(limiter, of("p", "b", MINUTE), 1_000).await);
    assert!(admitted(limiter, of("other-policy", "a", MINUTE), 1_000).await);
    // Another handle (another node) sees the same counts.
    assert!(!admitted(f.another.as_ref(), of("p", "a", MINUTE), 1_001).await);
}

pub async fn the_window_rolls_and_refusals_record_nothing(f: LimiterFixture) {
    let limiter = f.limiter.as_ref();
    let three = Quota {
        requests: 3,
        window_millis: 10_000,
    };
    for t in [0, 1_000, 2_000] {
        assert!(admitted(limiter, of("p", "k", three), t).await);
    }
    let Verdict::OverQuota(refused) = limiter.admit(of("p", "k", three), None, 5_000).await.unwrap() else {
        panic!("the fourth request in the window was admitted");
    };
    assert_eq!(
        refused.retry_after_millis, 5_000,
        "the first admission leaves the window at 10 s"
    );
    assert_eq!(refused.retry_after_seconds(), 5);
    // Many refusals later, the window still frees at 10 s: they were not recorded.
    for t in 5_001..5_100 {
        assert!(!admitted(limiter, of("p", "k", three), t).await);
    }
    assert!(!admitted(limiter, of("p", "k", three), 9_999).await);
    assert!(admitted(limiter, of("p", "k", three), 10_000).await);
    assert!(!admitted(limiter, of("p", "k", three), 10_500).await);
    assert!(admitted(limiter, of("p", "k", three), 11_000).await);
}

pub async fn concurrent_admissions_are_exact(f: LimiterFixture) {
    let mut tasks = Vec::new();
    for i in 0..200 {
        let limiter: Arc<dyn RateLimiter> = if i % 2 == 0 {
            f.limiter.clone()
        } else {
            f.another.clone()
        };
        tasks.push(tokio::spawn(async move {
            limiter
                .admit(of("p", "busy", MINUTE), None, 5_000)
                .await
                .unwrap()
                .is_admitted()
        }));
    }
    let mut admissions = 0;
    for t in tasks {
        admissions += usize::from(t.await.unwrap());
    }
    assert_eq!(admissions, 60);
}

pub async fn a_shut_gate_refuses_and_records_nothing(f: LimiterFixture) {
    let limiter = f.limiter.as_ref();
    let two = Quota {
        requests: 2,
        window_millis: 60_000,
    };
    let gate = of("failed-auth", "10.0.0.1", two);
    // An open gate lets the request through; checking it records nothing on it.
    for _ in 0..5 {
        let verdict = limiter
            .admit(of("read", "key", MINUTE), Some(gate), 1_000)
            .await
            .unwrap();
        assert!(verdict.is_admitted());
    }
    assert!(admitted(limiter, gate, 1_000).await);
    assert!(admitted(limiter, gate, 1_000).await);
    let verdict = limiter
        .admit(of("read", "key", MINUTE), Some(gate), 2_000)
        .await
        .unwrap();
    let Verdict::GateShut(decision) = verdict else {
        panic!("a shut gate let a request through: {verdict:?}");
    };
    assert_eq!(decision.retry_after_millis, 59_000);
    // The refused request used none of the key's quota: 5 admitted so far, 55 left.
    for _ in 0..55 {
        assert!(admitted(limiter, of("read", "key", MINUTE), 2_000).await);
    }
    assert!(!admitted(limiter, of("read", "key", MINUTE), 2_000).await);
    // Once the failures leave the window, the gate opens.
    let later = limiter
        .admit(of("read", "other-key", MINUTE), Some(gate), 61_000)
        .await
        .unwrap();
    assert!(later.is_admitted());
}

/// A few hundred admissions at pseudo-random times, with and without a gate, answered exactly
/// as the rule's reference (`SlidingLog`) answers them: the same verdicts, `remaining`,
/// `Retry-After` and reset times, to the millisecond.
pub async fn answers_as_the_sliding_log_does(f: LimiterFixture) {
    let limiter = f.limiter.as_ref();
    let quota = Quota {
        requests: 4,
        window_millis: 1_000,
    };
    let gate_quota = Quota {
        requests: 2,
        window_millis: 1_500,
    };
    let mut logs: HashMap<(&str, &str), SlidingLog> = HashMap::new();
    let mut seed: u64 = 0x5eed;
    let mut next = |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    let mut now = 10_000_i64;
    for step in 0..400 {
        now += i64::try_from(next(250)).unwrap();
        let policy = ["read", "failed-auth"][usize::try_from(next(2)).unwrap()];
        let caller = ["k1", "k2", "10.0.0.9"][usize::try_from(next(3)).unwrap()];
        let with_gate = next(3) == 0;
        let admission = of(policy, caller, quota);
        let gate = of("failed-auth", "10.0.0.9", gate_quota);
        let expected = {
            let gate_decision = with_gate.then(|| {
                logs.entry(("failed-auth", "10.0.0.9"))
                    .or_default()
                    .peek(now, gate_quota)
            });
            match gate_decision {
                Some(d) if !d.admitted => Verdict::GateShut(d),
                _ => {
                    let d = logs.entry((policy, caller)).or_default().try_admit(now, quota);
                    if d.admitted {
                        Verdict::Admitted(d)
                    } else {
                        Verdict::OverQuota(d)
                    }
                }
            }
        };
        let got = limiter.admit(admission, with_gate.then_some(gate), now).await.unwrap();
        assert_eq!(
            got, expected,
            "step {step} at {now}: {policy}/{caller}, gate {with_gate}"
        );
    }
}

macro_rules! suite_tests {
    ($fixture:path) => {
        $crate::limiter::suite_tests!(@tests $fixture;
            callers_and_policies_do_not_share_quota,
            the_window_rolls_and_refusals_record_nothing,
            concurrent_admissions_are_exact,
            a_shut_gate_refuses_and_records_nothing,
            answers_as_the_sliding_log_does,
        );
    };
    (@tests $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                limiter::$test($fixture().await).await;
            }
        )*
    };
}
pub(crate) use suite_tests;
