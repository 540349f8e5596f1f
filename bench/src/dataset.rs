//! The benchmark's buckets: a deterministic, realistic mix for a given size and seed.
//!
//! - Regions: the five default regions, weighted as a US-first company's would be.
//! - Names: `{env}-{app}-{kind}-{region code}-{n}`, so that names share prefixes at several
//!   depths (`prod-`, `prod-billing-`, `prod-billing-logs-`), `n` counting within that group.
//! - Tags: four keys with a few values each, not on every bucket: `env` (90 %, agreeing with the
//!   name), `team` (75 %, six teams), `cost-center` (50 %, eight) and `data-class` (30 %, four).
//! - `created_at`: spread over three years up to about an hour ago, growing over time (a third
//!   uniform, two thirds with linearly rising density), so every day holds some buckets and
//!   none holds a large share; at a million buckets that is about 900 a day on average.
//! - About 1 % are picked to be soft-deleted after seeding.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

/// Seconds in the period over which buckets are created (three years).
pub const SPAN_SECONDS: i64 = 3 * 365 * 86_400;
/// The share of buckets soft-deleted after seeding.
pub const DELETED_SHARE: f64 = 0.01;

/// `(region, short code for names, weight)`.
pub const REGIONS: &[(&str, &str, u32)] = &[
    ("us-east-1", "use1", 40),
    ("us-west-2", "usw2", 20),
    ("eu-west-1", "euw1", 20),
    ("eu-west-2", "euw2", 12),
    ("ap-southeast-1", "apse1", 8),
];
/// `(name part, env tag value, weight)`.
pub const ENVS: &[(&str, &str, u32)] = &[
    ("prod", "production", 45),
    ("stage", "staging", 20),
    ("dev", "development", 25),
    ("test", "test", 10),
];
pub const APPS: &[&str] = &[
    "web",
    "api",
    "billing",
    "search",
    "analytics",
    "mobile",
    "payments",
    "auth",
    "media",
    "ml",
    "reports",
    "crm",
    "inventory",
    "chat",
    "maps",
    "iot",
];
pub const KINDS: &[&str] = &[
    "logs", "assets", "backups", "exports", "uploads", "cache", "data", "archive",
];
pub const TEAMS: &[&str] = &["frontend", "backend", "data", "platform", "ml", "security"];
pub const COST_CENTERS: &[&str] = &[
    "cc-1001", "cc-1002", "cc-1003", "cc-1004", "cc-1005", "cc-1006", "cc-1007", "cc-1008",
];
pub const DATA_CLASSES: &[&str] = &["public", "internal", "confidential", "restricted"];

/// A storage class, named as `cloudnexus_core::StorageClass` parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Standard,
    Infrequent,
    Glacier,
}

/// One generated bucket, before it is turned into the store's `NewBucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedBucket {
    /// The random part of the id (10 characters of `a-z0-9`), unique within the data set.
    pub id_suffix: String,
    pub name: String,
    pub region: &'static str,
    pub class: Class,
    pub public: bool,
    /// Sorted by key.
    pub tags: Vec<(&'static str, &'static str)>,
    pub created_at: i64,
    /// Whether to soft-delete it once every bucket exists.
    pub deleted: bool,
}

/// Yields the `n` buckets of a data set in `created_at` order.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    times: std::vec::IntoIter<i64>,
    groups: HashMap<(usize, usize, usize, usize), u32>,
    ids: HashSet<String>,
}

/// An index into `weights`, drawn in proportion to them.
fn weighted(rng: &mut StdRng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut pick = rng.random_range(0..total);
    for (i, w) in weights.enumerate() {
        if pick < w {
            return i;
        }
        pick -= w;
    }
    unreachable!("pick < total")
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

impl Generator {
    /// The data set of `n` buckets for `seed`, the newest created at `end` (Unix seconds).
    pub fn new(n: u64, seed: u64, end: i64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let start = end - SPAN_SECONDS;
        let mut times: Vec<i64> = (0..n)
            .map(|_| {
                let u: f64 = rng.random();
                // A third uniform; two thirds with density rising linearly towards `end`.
                let x = if rng.random_bool(1.0 / 3.0) { u } else { u.sqrt() };
                start + (x * SPAN_SECONDS as f64) as i64
            })
            .collect();
        times.sort_unstable();
        Self {
            rng,
            times: times.into_iter(),
            groups: HashMap::new(),
            ids: HashSet::with_capacity(usize::try_from(n).unwrap_or(0)),
        }
    }

    fn id_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let s: String = (0..10)
                .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            if self.ids.insert(s.clone()) {
                return s;
            }
        }
    }
}

impl Iterator for Generator {
    type Item = SeedBucket;

    fn next(&mut self) -> Option<SeedBucket> {
        let created_at = self.times.next()?;
        let id_suffix = self.id_suffix();
        let rng = &mut self.rng;
        let region_i = weighted(rng, REGIONS.iter().map(|r| r.2));
        let env_i = weighted(rng, ENVS.iter().map(|e| e.2));
        let app_i = rng.random_range(0..APPS.len());
        let kind_i = rng.random_range(0..KINDS.len());
        let (region, code, _) = REGIONS[region_i];
        let (env, env_value, _) = ENVS[env_i];
        let kind = KINDS[kind_i];
        let counter = self.groups.entry((env_i, app_i, kind_i, region_i)).or_insert(0);
        *counter += 1;
        let name = format!("{env}-{}-{kind}-{code}-{counter}", APPS[app_i]);

        let class = match kind {
            "archive" | "backups" if rng.random_bool(0.7) => Class::Glacier,
            "logs" | "exports" if rng.random_bool(0.5) => Class::Infrequent,
            _ => Class::Standard,
        };
        let public = kind == "assets" && rng.random_bool(0.2);
        let mut tags = Vec::with_capacity(4);
        if rng.random_bool(0.5) {
            tags.push(("cost-center", pick(rng, COST_CENTERS)));
        }
        if rng.random_bool(0.3) {
            tags.push(("data-class", pick(rng, DATA_CLASSES)));
        }
        if rng.random_bool(0.9) {
            tags.push(("env", env_value));
        }
        if rng.random_bool(0.75) {
            tags.push(("team", pick(rng, TEAMS)));
        }
        let deleted = rng.random_bool(DELETED_SHARE);
        Some(SeedBucket {
            id_suffix,
            name,
            region,
            class,
            public,
            tags,
            created_at,
            deleted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudnexus_core::{BucketName, RegionSet, Tags};

    const END: i64 = 1_750_000_000;

    #[test]
    fn the_same_seed_gives_the_same_buckets() {
        let a: Vec<_> = Generator::new(500, 7, END).collect();
        let b: Vec<_> = Generator::new(500, 7, END).collect();
        assert_eq!(a, b);
        let c: Vec<_> = Generator::new(500, 8, END).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn buckets_are_valid_unique_ordered_and_mixed() {
        let n = 20_000;
        let all: Vec<_> = Generator::new(n, 1, END).collect();
        assert_eq!(all.len() as u64, n);
        let regions = RegionSet::default();
        let mut names = HashSet::new();
        for b in &all {
            assert!(BucketName::parse(&b.name).is_ok(), "{}", b.name);
            assert!(names.insert(b.name.clone()), "duplicate {}", b.name);
            assert!(regions.parse(b.region).is_ok());
            assert!(Tags::parse(b.tags.iter().copied()).is_ok());
            assert!(b.tags.windows(2).all(|w| w[0].0 < w[1].0), "{:?}", b.tags);
        }
        assert!(all.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        assert!(all[0].created_at >= END - SPAN_SECONDS && all[all.len() - 1].created_at <= END);

        let share = |f: &dyn Fn(&SeedBucket) -> bool| all.iter().filter(|b| f(b)).count() as f64 / n as f64;
        let near = |got: f64, want: f64| (got - want).abs() < want * 0.15 + 0.002;
        assert!(near(share(&|b| b.deleted), DELETED_SHARE));
        assert!(near(share(&|b| b.region == "us-east-1"), 0.40));
        assert!(near(share(&|b| b.name.starts_with("prod-")), 0.45));
        for (key, want) in [("env", 0.9), ("team", 0.75), ("cost-center", 0.5), ("data-class", 0.3)] {
            let got = share(&|b| b.tags.iter().any(|(k, _)| *k == key));
            assert!(near(got, want), "{key}: {got}");
        }
        // Spread over the whole period: every 30-day stretch of the three years has buckets.
        let days: HashSet<i64> = all.iter().map(|b| b.created_at.div_euclid(86_400 * 30)).collect();
        assert!(days.len() >= 36, "{} months", days.len());
    }
}
