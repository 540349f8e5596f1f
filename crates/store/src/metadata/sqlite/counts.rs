//! Reading the counts tables in SQLite: `bucket_counts` (per project and dimension),
//! `bucket_counts_by_day` (the same per day of `created_at`) and `bucket_counts_by_prefix` (per
//! dimension and name prefix). What is counted is decided above
//! the backend (`metadata::counts`), and the writes keep them (`statements`); these are the
//! listing's reads of them, on a rusqlite connection inside the listing's read transaction.

use crate::metadata::counts::PrefixCount;
use rusqlite::{Connection, params};

/// A statement in two texts, one per liveness rule (`[live only, live and deleted]`): the
/// expression counting a row of either counts table goes between `$head` and `$tail`. The texts
/// are constants, so a listing's count is found in the statement cache without formatting.
macro_rules! by_liveness {
    ($head:literal, $tail:literal) => {
        [concat!($head, "live", $tail), concat!($head, "live + deleted", $tail)]
    };
}

/// The text of `statement` for a liveness rule.
fn for_liveness(statement: &[&'static str; 2], include_deleted: bool) -> &'static str {
    statement[usize::from(include_deleted)]
}

const TOTAL: [&str; 2] = by_liveness!(
    "SELECT COALESCE(SUM(",
    "), 0) FROM bucket_counts WHERE project_id = ?1 AND dimension = ?2"
);
const PREFIX_TOTAL: [&str; 2] = by_liveness!(
    "SELECT COALESCE(SUM(",
    "), 0) FROM bucket_counts_by_prefix \
     WHERE project_id = ?1 AND dimension = ?2 AND level = ?3 AND prefix >= ?4 AND prefix < ?5"
);
const BEFORE_DAY: [&str; 2] = by_liveness!(
    "SELECT COALESCE(SUM(",
    "), 0) FROM bucket_counts_by_day WHERE project_id = ?1 AND dimension = ?2 AND day < ?3"
);
const DAYS: [&str; 2] = by_liveness!(
    "SELECT day, ",
    " FROM bucket_counts_by_day WHERE project_id = ?1 AND dimension = ?2 ORDER BY day"
);

pub(super) fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The number of buckets in `dimension` under the liveness rule.
pub(super) fn total(
    connection: &Connection,
    project: &str,
    dimension: &str,
    include_deleted: bool,
) -> rusqlite::Result<u64> {
    let n: i64 = connection
        .prepare_cached(for_liveness(&TOTAL, include_deleted))?
        .query_row(params![project, dimension], |row| row.get(0))?;
    Ok(non_negative(n))
}

/// The number of buckets in the prefix counts `count`.
pub(super) fn prefix_total(
    connection: &Connection,
    project: &str,
    count: &PrefixCount,
    include_deleted: bool,
) -> rusqlite::Result<u64> {
    let n: i64 = connection
        .prepare_cached(for_liveness(&PREFIX_TOTAL, include_deleted))?
        .query_row(
            params![project, count.dimension, count.level, count.low, count.high],
            |row| row.get(0),
        )?;
    Ok(non_negative(n))
}

/// The number of buckets in `dimension` created on days before `day`.
pub(super) fn before_day(
    connection: &Connection,
    project: &str,
    dimension: &str,
    include_deleted: bool,
    day: i64,
) -> rusqlite::Result<u64> {
    let n: i64 = connection
        .prepare_cached(for_liveness(&BEFORE_DAY, include_deleted))?
        .query_row(params![project, dimension, day], |row| row.get(0))?;
    Ok(non_negative(n))
}

/// The per-day counts of `dimension`, in day order.
pub(super) fn days(
    connection: &Connection,
    project: &str,
    dimension: &str,
    include_deleted: bool,
) -> rusqlite::Result<Vec<(i64, u64)>> {
    let mut statement = connection.prepare_cached(for_liveness(&DAYS, include_deleted))?;
    let rows = statement.query_map(params![project, dimension], |row| {
        Ok((row.get::<_, i64>(0)?, non_negative(row.get::<_, i64>(1)?)))
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetadataStore;
    use crate::metadata::sqlite::SqliteStore;

    #[tokio::test]
    async fn a_prefix_total_reads_one_range_of_the_primary_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let connection = store.point_reader.take_connection().unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", for_liveness(&PREFIX_TOTAL, false));
        let plan: String = connection
            .prepare(&sql)
            .unwrap()
            .query_row(params!["prj", "all", 8, "prod-", "prod-{"], |row| row.get("detail"))
            .unwrap();
        assert_eq!(
            plan,
            "SEARCH bucket_counts_by_prefix USING PRIMARY KEY \
             (project_id=? AND dimension=? AND level=? AND prefix>? AND prefix<?)"
        );
        store.close().await;
    }
}
