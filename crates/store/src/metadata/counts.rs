//! Bucket counts per filter dimension, so that `pagination.total` of the common filter shapes
//! is one primary-key read instead of a scan; per dimension and day of `created_at`, so that
//! positions deep in the listing are found without reading what comes before them; and per
//! dimension and name prefix, so that the total of a prefix filter (alone, or with a region, a
//! tag or both) is a short range of counts instead of a count of every match.
//!
//! The prefix counts are kept at a few lengths ([`PREFIX_LEVELS`]): at level `l` a bucket is
//! counted under the first `l` characters of its name (all of it when shorter). Every name
//! starting with a prefix `p` no longer than `l` has a level-`l` key starting with `p`, and only
//! those do, so the buckets matching `p` are the sum of the level-`l` rows whose key starts
//! with `p`: one row when `p` is exactly `l` long, a handful when names share structure. A
//! prefix longer than the last level is counted from the buckets, as before.
//!
//! This module decides *what* is counted; each backend keeps the counts tables in its own SQL,
//! adjusting them in the same transaction as every change to a bucket's liveness, region or
//! tags (a [`Tally`] of the change, written with one upsert per row it touches, and the counts
//! by prefix in multi-row upserts that [`prefix_counts_upsert`] writes for either database).

use cloudnexus_core::listing::BucketFilter;
use cloudnexus_core::{Bucket, Region, Tags, Timestamp};
use sqlx::{Database, Encode, QueryBuilder, Type};
use std::collections::BTreeMap;

/// The dimension counting every bucket of a project.
const ALL: &str = "all";
/// The name lengths at which buckets are counted by prefix. Each adds up to one row per
/// dimension of each bucket (fewer when names share that much of a prefix).
pub(crate) const PREFIX_LEVELS: [usize; 3] = [4, 8, 16];
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

/// The dimensions a bucket with this region and these tags is counted in by name prefix: those
/// of [`dimensions_of`], and each tag's with the region, so that a prefix, a region and a tag
/// together are counted too.
pub(crate) fn prefix_dimensions_of(region: &Region, tags: &Tags) -> Vec<String> {
    let mut dims = dimensions_of(region, tags);
    let with_region: Vec<String> = dims[2..].iter().map(|tag| format!("region:{region}&{tag}")).collect();
    dims.extend(with_region);
    dims
}

/// The key a name is counted under at `level`: its first `level` characters, as SQL's
/// `substr(name, 1, level)` (bucket names are ASCII, but a character is never split).
fn prefix_key(name: &str, level: usize) -> &str {
    name.char_indices().nth(level).map_or(name, |(end, _)| &name[..end])
}

/// Where the buckets matching a prefix filter are counted: the rows of `dimension` at `level`
/// whose key lies in `[low, high)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixCount {
    pub dimension: String,
    pub level: i64,
    pub low: String,
    pub high: String,
}

/// The prefix counts that hold exactly the buckets matching `filter`, when they exist: a prefix
/// no longer than the last level, with at most a region and at most one tag (liveness aside).
pub(crate) fn prefix_count_for(filter: &BucketFilter) -> Option<PrefixCount> {
    let prefix = filter.prefix.as_deref()?;
    let level = *PREFIX_LEVELS.iter().find(|l| **l >= prefix.len())?;
    let tag = match filter.tags.as_slice() {
        [] => None,
        [t] => Some(match &t.value {
            None => format!("tag:{}", t.key),
            Some(v) => format!("tagv:{}={}", t.key, v.as_str()),
        }),
        _ => return None,
    };
    let dimension = match (&filter.region, tag) {
        (None, None) => ALL.to_owned(),
        (Some(r), None) => format!("region:{r}"),
        (None, Some(tag)) => tag,
        (Some(r), Some(tag)) => format!("region:{r}&{tag}"),
    };
    Some(PrefixCount {
        dimension,
        level: level as i64,
        low: prefix.to_owned(),
        high: super::listing::prefix_upper_bound(prefix),
    })
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
    /// `(project, dimension, level, name prefix)` -> change.
    prefixes: BTreeMap<(String, String, i64, String), Delta>,
}

impl Tally {
    /// A tally of one bucket's change.
    pub(crate) fn of(bucket: &Bucket, delta: Delta) -> Self {
        let mut tally = Self::default();
        tally.add(bucket, delta);
        tally
    }

    /// Counts `delta` for `bucket` as it is now (its region, tags, name and creation time).
    pub(crate) fn add(&mut self, bucket: &Bucket, delta: Delta) {
        let project = bucket.project_id.as_str();
        let day = day_of(bucket.created_at);
        for dim in dimensions_of(&bucket.region, &bucket.tags) {
            self.days
                .entry((project.to_owned(), dim.clone(), day))
                .or_default()
                .add(delta);
            self.totals.entry((project.to_owned(), dim)).or_default().add(delta);
        }
        for dim in prefix_dimensions_of(&bucket.region, &bucket.tags) {
            for level in PREFIX_LEVELS {
                let key = prefix_key(bucket.name.as_str(), level);
                self.prefixes
                    .entry((project.to_owned(), dim.clone(), level as i64, key.to_owned()))
                    .or_default()
                    .add(delta);
            }
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

    /// The changes to the counts by name prefix: `(project, dimension, level, prefix, delta)`.
    pub(crate) fn prefixes(&self) -> impl Iterator<Item = PrefixRow<'_>> {
        self.prefixes
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((p, dim, level, key), d)| (p.as_str(), dim.as_str(), *level, key.as_str(), *d))
    }
}

/// Rows of the counts by prefix as [`Tally::prefixes`] gives them.
pub(crate) type PrefixRow<'a> = (&'a str, &'a str, i64, &'a str, Delta);

/// One multi-row upsert adding `rows` to `bucket_counts_by_prefix`, in either database's
/// dialect (sqlx's builder writes the placeholders). Keep `rows` to a few hundred: every row
/// binds six values.
pub(crate) fn prefix_counts_upsert<'q, DB>(rows: &'q [PrefixRow<'q>]) -> QueryBuilder<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    let mut insert =
        QueryBuilder::new("INSERT INTO bucket_counts_by_prefix (project_id, dimension, level, prefix, live, deleted) ");
    insert.push_values(rows, |mut row, (project, dimension, level, prefix, delta)| {
        row.push_bind(*project)
            .push_bind(*dimension)
            .push_bind(*level)
            .push_bind(*prefix)
            .push_bind(delta.live)
            .push_bind(delta.deleted);
    });
    insert.push(" ");
    insert.push(PREFIX_COUNTS_ON_CONFLICT);
    insert
}

/// What an insert into `bucket_counts_by_prefix` does with a row already there: adds to it.
/// The same in both dialects (SQLite's writer inserts one row per statement).
pub(crate) const PREFIX_COUNTS_ON_CONFLICT: &str = "ON CONFLICT (project_id, dimension, level, prefix) DO UPDATE \
     SET live = bucket_counts_by_prefix.live + excluded.live, \
     deleted = bucket_counts_by_prefix.deleted + excluded.deleted";

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

    fn bucket(name: &str, r: &str, tags: &[(&str, &str)]) -> Bucket {
        Bucket {
            id: cloudnexus_core::BucketId::generate(),
            project_id: cloudnexus_core::ProjectId::generate(),
            name: cloudnexus_core::BucketName::parse(name).unwrap(),
            region: region(r),
            storage_class: cloudnexus_core::StorageClass::Standard,
            public: false,
            tags: Tags::parse(tags.iter().copied()).unwrap(),
            created_at: Timestamp::from_unix_seconds(DAY * 100 + 5),
            size_bytes: 0,
            object_count: 0,
            deleted_at: None,
            purge_at: None,
        }
    }

    #[test]
    fn changes_that_cancel_out_write_nothing() {
        let mut patched = bucket("logs", "us-east-1", &[("env", "prod"), ("team", "a")]);
        let mut tally = Tally::of(&patched, Delta { live: -1, deleted: 0 });
        patched.tags = Tags::parse([("env", "prod"), ("team", "b")]).unwrap();
        tally.add(&patched, Delta { live: 1, deleted: 0 });
        let totals: Vec<_> = tally.totals().map(|(_, dim, d)| (dim.to_owned(), d.live)).collect();
        assert_eq!(totals, [("tagv:team=a".to_owned(), -1), ("tagv:team=b".to_owned(), 1)]);
        assert!(tally.days().all(|(_, _, day, _)| day == 100));
        assert_eq!(tally.days().count(), 2);
        let prefixes: Vec<_> = tally
            .prefixes()
            .map(|(_, dim, level, key, d)| (dim.to_owned(), level, key.to_owned(), d.live))
            .collect();
        let changed = |dim: &'static str, live| {
            PREFIX_LEVELS
                .iter()
                .map(move |l| (dim.to_owned(), *l as i64, "logs".to_owned(), live))
        };
        let expected: Vec<_> = changed("region:us-east-1&tagv:team=a", -1)
            .chain(changed("region:us-east-1&tagv:team=b", 1))
            .chain(changed("tagv:team=a", -1))
            .chain(changed("tagv:team=b", 1))
            .collect();
        assert_eq!(prefixes, expected);
    }

    #[test]
    fn a_bucket_is_counted_by_prefix_at_each_level_alone_and_with_its_region() {
        let tally = Tally::of(
            &bucket("prod-billing-logs-7", "eu-west-1", &[("team", "data")]),
            Delta { live: 1, deleted: 0 },
        );
        let rows: Vec<_> = tally
            .prefixes()
            .filter(|(_, dim, ..)| *dim == "region:eu-west-1&tagv:team=data")
            .map(|(_, _, level, key, _)| (level, key.to_owned()))
            .collect();
        assert_eq!(
            rows,
            [
                (4, "prod".to_owned()),
                (8, "prod-bil".to_owned()),
                (16, "prod-billing-log".to_owned())
            ]
        );
        let dims: std::collections::BTreeSet<_> = tally.prefixes().map(|(_, dim, ..)| dim).collect();
        assert_eq!(
            dims.into_iter().collect::<Vec<_>>(),
            [
                "all",
                "region:eu-west-1",
                "region:eu-west-1&tag:team",
                "region:eu-west-1&tagv:team=data",
                "tag:team",
                "tagv:team=data"
            ]
        );
        // A name shorter than a level is counted whole at it.
        let short = Tally::of(&bucket("abc", "eu-west-1", &[]), Delta { live: 1, deleted: 0 });
        assert!(short.prefixes().all(|(_, _, _, key, _)| key == "abc"));
    }

    #[test]
    fn prefix_filters_are_counted_at_the_first_level_as_long_as_the_prefix() {
        let f = |prefix: &str, r: Option<&str>, tags: &[&str]| {
            prefix_count_for(&BucketFilter::new(
                Some(prefix.into()),
                r.map(region),
                tags.iter().map(|t| TagFilter::parse(t).unwrap()).collect(),
                true,
            ))
            .map(|c| (c.dimension, c.level, c.low, c.high))
        };
        let count = |dim: &str, level, low: &str| Some((dim.to_owned(), level, low.to_owned(), format!("{low}{{")));
        assert_eq!(f("p", None, &[]), count("all", 4, "p"));
        assert_eq!(f("prod", None, &[]), count("all", 4, "prod"));
        assert_eq!(
            f("prod-", Some("us-east-1"), &[]),
            count("region:us-east-1", 8, "prod-")
        );
        assert_eq!(
            f("prod-billing-", None, &["env"]),
            count("tag:env", 16, "prod-billing-")
        );
        assert_eq!(
            f("prod-", Some("us-east-1"), &["team:data"]),
            count("region:us-east-1&tagv:team=data", 8, "prod-")
        );
        assert_eq!(f("prod-billing-logs", None, &[]), None, "longer than the last level");
        assert_eq!(f("prod-", None, &["env", "team"]), None, "two tags");
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
