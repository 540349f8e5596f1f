//! The counts tables in SQLite: `bucket_counts` (per project and dimension) and
//! `bucket_counts_by_day` (the same per day of `created_at`). What is counted is decided above
//! the backend (`metadata::counts`); this is the SQL that keeps and reads them.

use super::backend;
use crate::StoreResult;
use cloudnexus_core::ProjectId;
use sqlx::{Sqlite, Transaction};

/// The SQL expression counting a row of either counts table under a liveness rule.
fn counted(include_deleted: bool) -> &'static str {
    if include_deleted { "live + deleted" } else { "live" }
}

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The number of buckets in `dimension` under the liveness rule.
pub(super) async fn total(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
) -> StoreResult<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0) FROM bucket_counts WHERE project_id = ? AND dimension = ?",
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

/// The number of buckets in `dimension` created on days before `day`.
pub(super) async fn before_day(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
    day: i64,
) -> StoreResult<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM({}), 0) FROM bucket_counts_by_day WHERE project_id = ? AND dimension = ? AND day < ?",
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
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    dimension: &str,
    include_deleted: bool,
) -> StoreResult<Vec<(i64, u64)>> {
    let sql = format!(
        "SELECT day, {} AS n FROM bucket_counts_by_day WHERE project_id = ? AND dimension = ? ORDER BY day",
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
