//! Bucket counts per filter dimension, so that `pagination.total` of the common filter shapes
//! is one primary-key read instead of a scan. Every change to a bucket's liveness, region or
//! tags adjusts them in the same transaction.

use super::backend;
use crate::StoreResult;
use cloudnexus_core::listing::BucketFilter;
use cloudnexus_core::{ProjectId, Region, Tags};
use sqlx::{Sqlite, Transaction};

/// The dimension counting every bucket of a project.
const ALL: &str = "all";

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

/// The one dimension whose count is the total for `filter`, when there is one: no filter, a
/// region alone, or a single tag alone.
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

/// Adds `live` and `deleted` (which may be negative) to each dimension's counts.
pub(crate) async fn adjust(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dims: &[String],
    live: i64,
    deleted: i64,
) -> StoreResult<()> {
    for dim in dims {
        sqlx::query(
            "INSERT INTO bucket_counts (project_id, dimension, live, deleted) VALUES (?, ?, ?, ?) \
             ON CONFLICT (project_id, dimension) DO UPDATE \
             SET live = bucket_counts.live + excluded.live, deleted = bucket_counts.deleted + excluded.deleted",
        )
        .bind(project.as_str())
        .bind(dim)
        .bind(live)
        .bind(deleted)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Reads the (live, deleted) counts of one dimension.
pub(crate) async fn read(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
) -> StoreResult<(i64, i64)> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT live, deleted FROM bucket_counts WHERE project_id = ? AND dimension = ?")
            .bind(project.as_str())
            .bind(dimension)
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
    Ok(row.unwrap_or((0, 0)))
}
