//! Bucket counts per filter dimension, so that `pagination.total` of the common filter shapes
//! is one primary-key read instead of a scan, and per dimension and day of `created_at`, so
//! that positions deep in the listing are found without reading what comes before them.
//!
//! This module decides *what* is counted; each backend keeps the two counts tables in its own
//! SQL, adjusting them in the same transaction as every change to a bucket's liveness, region
//! or tags (a [`Tally`] of the change, written with one upsert per row it touches).

use cloudnexus_core::listing::BucketFilter;
use cloudnexus_core::{ProjectId, Region, Tags, Timestamp};
use std::collections::BTreeMap;

/// The dimension counting every bucket of a project.
const ALL: &str = "all";
/// Seconds in the period of the per-day counts.
pub(crate) const DAY: i64 = 86_400;

/// The day a `created_at` falls on, as stored in the per-day counts.
pub(crate) fn day_of(t: Timestamp) -> i64 {
    t.unix_seconds().div_euclid(DAY)
}

/// The dimensions a bucket with this region and these tags is counted in.
pub(crate) fn dimensions_of(region: &Region, tags: &Tags) -> Vec<String> {
    let mut dims = Vec::with_capacity(2 + 2 * tags.len());
    dims.push(ALL.to_owned());
    dims.push(format!("region:{region}"));
    for (k, v) in tags.iter() {
        dims.push(format!("tag:{k}"));
        dims.push(format!("tagv:{k}={}", v.as_str()));
    }
    dims
}

/// The one dimension whose counts are exactly the buckets matching `filter`, when there is
/// one: no filter, a region alone, or a single tag alone (liveness aside).
pub(crate) fn dimension_for(filter: &BucketFilter) -> Option<String> {
    if filter.prefix.is_some() {
        return None;
    }
    match (&filter.region, filter.tags.as_slice()) {
        (None, []) => Some(ALL.to_owned()),
        (Some(r), []) => Some(format!("region:{r}")),
        (None, [t]) => Some(match &t.value {
            None => format!("tag:{}", t.key),
            Some(v) => format!("tagv:{}={}", t.key, v.as_str()),
        }),
        _ => None,
    }
}

/// Live and soft-deleted buckets to add to a count (either may be negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    pub live: i64,
    pub deleted: i64,
}

impl Delta {
    fn add(&mut self, other: Delta) {
        self.live += other.live;
        self.deleted += other.deleted;
    }

    fn is_zero(self) -> bool {
        self.live == 0 && self.deleted == 0
    }
}

/// Changes to both counts tables, gathered in memory while one transaction changes buckets, and
/// then written with one upsert per row of each table. Changes that cancel out (a tag kept by a
/// patch) write nothing.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// `(project, dimension)` -> change.
    totals: BTreeMap<(String, String), Delta>,
    /// `(project, dimension, day)` -> change.
    days: BTreeMap<(String, String, i64), Delta>,
}

impl Tally {
    /// A tally of one bucket's change.
    pub(crate) fn of(project: &ProjectId, region: &Region, tags: &Tags, created_at: Timestamp, delta: Delta) -> Self {
        let mut tally = Self::default();
        tally.add(project, region, tags, created_at, delta);
        tally
    }

    /// Counts `delta` for a bucket of `project` with this region, tags and creation time.
    pub(crate) fn add(
        &mut self,
        project: &ProjectId,
        region: &Region,
        tags: &Tags,
        created_at: Timestamp,
        delta: Delta,
    ) {
        let day = day_of(created_at);
        for dim in dimensions_of(region, tags) {
            self.days
                .entry((project.as_str().to_owned(), dim.clone(), day))
                .or_default()
                .add(delta);
            self.totals
                .entry((project.as_str().to_owned(), dim))
                .or_default()
                .add(delta);
        }
    }

    /// The changes to the overall counts: `(project, dimension, delta)`.
    pub(crate) fn totals(&self) -> impl Iterator<Item = (&str, &str, Delta)> {
        self.totals
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((p, dim), d)| (p.as_str(), dim.as_str(), *d))
    }

    /// The changes to the per-day counts: `(project, dimension, day, delta)`.
    pub(crate) fn days(&self) -> impl Iterator<Item = (&str, &str, i64, Delta)> {
        self.days
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((p, dim, day), d)| (p.as_str(), dim.as_str(), *day, *d))
    }
}

/// The day holding the `offset`-th bucket (0-based) of a dimension whose per-day counts are
/// `days` (in day order), and how many buckets come before that day; `None` when the dimension
/// has no more than `offset` buckets.
pub(crate) fn seek_day(days: &[(i64, u64)], offset: u64) -> Option<(i64, u64)> {
    let mut before = 0u64;
    for &(day, n) in days {
        if before + n > offset {
            return Some((day, before));
        }
        before += n;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudnexus_core::{RegionSet, TagFilter};

    fn region(r: &str) -> Region {
        RegionSet::default().parse(r).unwrap()
    }

    #[test]
    fn a_bucket_is_counted_overall_by_region_and_by_each_tag_and_value() {
        let tags = Tags::parse([("env", "prod"), ("team", "data")]).unwrap();
        assert_eq!(
            dimensions_of(&region("us-east-1"), &tags),
            [
                "all",
                "region:us-east-1",
                "tag:env",
                "tagv:env=prod",
                "tag:team",
                "tagv:team=data"
            ]
        );
    }

    #[test]
    fn only_single_dimension_filters_have_a_dimension() {
        let f = |prefix: Option<&str>, r: Option<&str>, tags: &[&str]| {
            dimension_for(&BucketFilter::new(
                prefix.map(Into::into),
                r.map(region),
                tags.iter().map(|t| TagFilter::parse(t).unwrap()).collect(),
                false,
            ))
        };
        assert_eq!(f(None, None, &[]).as_deref(), Some("all"));
        assert_eq!(f(None, Some("eu-west-2"), &[]).as_deref(), Some("region:eu-west-2"));
        assert_eq!(f(None, None, &["env"]).as_deref(), Some("tag:env"));
        assert_eq!(f(None, None, &["env:prod"]).as_deref(), Some("tagv:env=prod"));
        assert_eq!(f(Some("a"), None, &[]), None);
        assert_eq!(f(None, Some("eu-west-2"), &["env"]), None);
        assert_eq!(f(None, None, &["env", "team"]), None);
    }

    #[test]
    fn changes_that_cancel_out_write_nothing() {
        let project = ProjectId::generate();
        let at = Timestamp::from_unix_seconds(DAY * 100 + 5);
        let before = Tags::parse([("env", "prod"), ("team", "a")]).unwrap();
        let after = Tags::parse([("env", "prod"), ("team", "b")]).unwrap();
        let mut tally = Tally::of(
            &project,
            &region("us-east-1"),
            &before,
            at,
            Delta { live: -1, deleted: 0 },
        );
        tally.add(
            &project,
            &region("us-east-1"),
            &after,
            at,
            Delta { live: 1, deleted: 0 },
        );
        let totals: Vec<_> = tally.totals().map(|(_, dim, d)| (dim.to_owned(), d.live)).collect();
        assert_eq!(totals, [("tagv:team=a".to_owned(), -1), ("tagv:team=b".to_owned(), 1)]);
        assert!(tally.days().all(|(_, _, day, _)| day == 100));
        assert_eq!(tally.days().count(), 2);
    }

    #[test]
    fn the_day_of_an_offset() {
        let days = [(10, 3), (11, 0), (12, 2), (14, 5)];
        assert_eq!(seek_day(&days, 0), Some((10, 0)));
        assert_eq!(seek_day(&days, 2), Some((10, 0)));
        assert_eq!(seek_day(&days, 3), Some((12, 3)));
        assert_eq!(seek_day(&days, 5), Some((14, 5)));
        assert_eq!(seek_day(&days, 9), Some((14, 5)));
        assert_eq!(seek_day(&days, 10), None);
        assert_eq!(seek_day(&[], 0), None);
    }
}
