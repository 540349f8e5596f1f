//! The counts tables in PostgreSQL: `bucket_counts` (per project and dimension),
//! `bucket_counts_by_day` (the same per day of `created_at`) and `bucket_counts_by_prefix` (per
//! dimension and name prefix). What is counted is decided above
//! the backend (`metadata::counts`); this is the SQL that keeps and reads them.

use super::{backend, non_negative};
use crate::StoreResult;
use crate::metadata::counts::PrefixCount;
use cloudnexus_core::ProjectId;
use sqlx::{Postgres, Transaction};

/// The SQL expression counting a row of either counts table under a liveness rule.
fn counted(include_deleted: bool) -> &'static str {
    if include_deleted { "live + deleted" } else { "live" }
}

/// The number of buckets in `dimension` under the liveness rule.
pub(super) async fn total(
    tx: &mut Transaction<'_, Postgres>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
) -> StoreResult<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0)::BIGINT FROM bucket_counts WHERE project_id = $1 AND dimension = $2",
        counted(include_deleted)
    );
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(non_negative(n))
}

pub(super) fn prefix_total_sql(include_deleted: bool) -> String {
    format!(
        "SELECT COALESCE(SUM({}), 0)::BIGINT FROM bucket_counts_by_prefix \
         WHERE project_id = $1 AND dimension = $2 AND level = $3 AND prefix >= $4 AND prefix < $5",
        counted(include_deleted)
    )
}

/// The number of buckets in the prefix counts `count`.
pub(super) async fn prefix_total(
    tx: &mut Transaction<'_, Postgres>,
    project: &ProjectId,
    count: &PrefixCount,
    include_deleted: bool,
) -> StoreResult<u64> {
    let sql = prefix_total_sql(include_deleted);
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(project.as_str())
        .bind(&count.dimension)
        .bind(count.level)
        .bind(&count.low)
        .bind(&count.high)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(non_negative(n))
}

/// The number of buckets in `dimension` created on days before `day`.
pub(super) async fn before_day(
    tx: &mut Transaction<'_, Postgres>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
    day: i64,
) -> StoreResult<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0)::BIGINT FROM bucket_counts_by_day WHERE project_id = $1 AND dimension = $2 AND day < $3",
        counted(include_deleted)
    );
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .bind(day)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(non_negative(n))
}

/// The per-day counts of `dimension`, in day order.
pub(super) async fn days(
    tx: &mut Transaction<'_, Postgres>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
) -> StoreResult<Vec<(i64, u64)>> {
    let sql = format!(
        "SELECT day, {} AS n FROM bucket_counts_by_day WHERE project_id = $1 AND dimension = $2 ORDER BY day",
        counted(include_deleted)
    );
    let days: Vec<(i64, i64)> = sqlx::query_as(&sql)
        .bind(project.as_str())
        .bind(dimension)
        .fetch_all(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(days.into_iter().map(|(day, n)| (day, non_negative(n))).collect())
}
