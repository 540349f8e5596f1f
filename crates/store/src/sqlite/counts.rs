//! Bucket counts per filter dimension, so that `pagination.total` of the common filter shapes
//! is one primary-key read instead of a scan, and per dimension and day of `created_at`, so
//! that positions deep in the listing are found without reading what comes before them.
//! Every change to a bucket's liveness, region or tags adjusts both in the same transaction.

use super::backend;
use crate::StoreResult;
use cloudnexus_core::listing::BucketFilter;
use cloudnexus_core::{ProjectId, Region, Tags, Timestamp};
use sqlx::{Sqlite, Transaction};
use std::collections::BTreeMap;

/// The dimension counting every bucket of a project.
const ALL: &str = "all";
/// Seconds in the period of `bucket_counts_by_day`.
pub(crate) const DAY: i64 = 86_400;

/// The day a `created_at` falls on, as stored in `bucket_counts_by_day`.
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

/// The SQL expression counting a row of either counts table under `filter`'s liveness rule.
pub(crate) fn counted(filter: &BucketFilter) -> &'static str {
    if filter.include_deleted {
        "live + deleted"
    } else {
        "live"
    }
}

/// Adds `live` and `deleted` to one dimension's overall counts.
async fn add_to_total(
    tx: &mut Transaction<'_, Sqlite>,
    project: &str,
    dimension: &str,
    live: i64,
    deleted: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bucket_counts (project_id, dimension, live, deleted) VALUES (?, ?, ?, ?) \
         ON CONFLICT (project_id, dimension) DO UPDATE \
         SET live = bucket_counts.live + excluded.live, deleted = bucket_counts.deleted + excluded.deleted",
    )
    .bind(project)
    .bind(dimension)
    .bind(live)
    .bind(deleted)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Adds `live` and `deleted` to one dimension's counts on one day.
async fn add_to_day(
    tx: &mut Transaction<'_, Sqlite>,
    project: &str,
    dimension: &str,
    day: i64,
    live: i64,
    deleted: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bucket_counts_by_day (project_id, dimension, day, live, deleted) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (project_id, dimension, day) DO UPDATE \
         SET live = bucket_counts_by_day.live + excluded.live, \
             deleted = bucket_counts_by_day.deleted + excluded.deleted",
    )
    .bind(project)
    .bind(dimension)
    .bind(day)
    .bind(live)
    .bind(deleted)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Adds `live` and `deleted` (either may be negative) to each dimension's counts, overall and
/// on the day of `created_at`.
pub(crate) async fn adjust(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dims: &[String],
    created_at: Timestamp,
    live: i64,
    deleted: i64,
) -> StoreResult<()> {
    for dim in dims {
        add_to_total(tx, project.as_str(), dim, live, deleted).await?;
        add_to_day(tx, project.as_str(), dim, day_of(created_at), live, deleted).await?;
    }
    Ok(())
}

/// Live buckets to add to the counts, gathered in memory while many buckets are created in one
/// transaction and then written with one upsert per row of each counts table, instead of two
/// upserts per bucket and dimension. The counts end the same as with [`adjust`] per bucket.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// `(project, dimension)` -> live buckets to add.
    totals: BTreeMap<(String, String), i64>,
    /// `(project, dimension, day)` -> live buckets to add.
    days: BTreeMap<(String, String, i64), i64>,
}

impl Tally {
    /// Counts one new live bucket of `project` in `dims`, on the day of `created_at`.
    pub(crate) fn add(&mut self, project: &ProjectId, dims: Vec<String>, created_at: Timestamp) {
        let day = day_of(created_at);
        for dim in dims {
            *self
                .days
                .entry((project.as_str().to_owned(), dim.clone(), day))
                .or_default() += 1;
            *self.totals.entry((project.as_str().to_owned(), dim)).or_default() += 1;
        }
    }

    /// Adds what was counted to both counts tables, inside `tx`.
    pub(crate) async fn write(self, tx: &mut Transaction<'_, Sqlite>) -> StoreResult<()> {
        for ((project, dim), live) in self.totals {
            add_to_total(tx, &project, &dim, live, 0).await?;
        }
        for ((project, dim, day), live) in self.days {
            add_to_day(tx, &project, &dim, day, live, 0).await?;
        }
        Ok(())
    }
}

/// The number of buckets in `dimension` under `filter`'s liveness rule.
pub(crate) async fn total(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    filter: &BucketFilter,
) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0) FROM bucket_counts WHERE project_id = ? AND dimension = ?",
        counted(filter)
    );
    sqlx::query_scalar(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)
}

/// The number of buckets in `dimension` created on days before `day`.
pub(crate) async fn before_day(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    filter: &BucketFilter,
    day: i64,
) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0) FROM bucket_counts_by_day WHERE project_id = ? AND dimension = ? AND day < ?",
        counted(filter)
    );
    sqlx::query_scalar(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .bind(day)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)
}

/// The day holding the `offset`-th bucket of `dimension` (0-based), and how many buckets come
/// before that day; `None` when the dimension has no more than `offset` buckets.
pub(crate) async fn seek_day(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    filter: &BucketFilter,
    offset: u64,
) -> StoreResult<Option<(i64, u64)>> {
    let sql = format!(
        "SELECT day, {} AS n FROM bucket_counts_by_day WHERE project_id = ? AND dimension = ? ORDER BY day",
        counted(filter)
    );
    let days: Vec<(i64, i64)> = sqlx::query_as(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .fetch_all(&mut **tx)
        .await
        .map_err(backend)?;
    let mut before = 0u64;
    for (day, n) in days {
        let n = u64::try_from(n).unwrap_or(0);
        if before + n > offset {
            return Ok(Some((day, before)));
        }
        before += n;
    }
    Ok(None)
}
