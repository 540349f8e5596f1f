//! A listing in SQLite: the reads of `metadata::listing` (which decides the plan of each filter
//! shape) inside one read transaction, or as one statement for a shallow page of one dimension,
//! with the statements of `metadata::listing_sql` told the index to walk (`INDEXED BY`) where
//! SQLite's statistics-free choice would be wrong (prefix plans, tag counts); the tests below
//! assert each shape's plan with `EXPLAIN QUERY PLAN`.
//!
//! The reads run on the calling thread, on a rusqlite connection of the point reader
//! (`point_reads`), not through sqlx: sqlx hands every statement of a SQLite connection to that
//! connection's worker thread and back, several thread handoffs per statement, which cost more
//! than a page's statements take to run on a warm cache. The whole listing (a few statements) is
//! one call into the store, holding the async worker for as long as SQLite reads, as a sqlx
//! worker thread would hold a core.

use super::columns;
use super::counts;
use super::errors::rusqlite_failure as failed;
use super::point_reads::PointReader;
use crate::StoreResult;
use crate::metadata::counts::PrefixCount;
use crate::metadata::listing::{self, ListingReads, PageBounds, PageSink, Plan};
use crate::metadata::listing_sql::{self, IndexHints, SqlWriter};
use crate::metadata::rows::LISTED_BUCKET_COLUMNS;
use async_trait::async_trait;
use cloudnexus_core::ProjectId;
use cloudnexus_core::listing::{ListRequest, PageSummary, Position};
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, params_from_iter};
use std::borrow::Cow;

/// A statement for rusqlite: its text, with `?` placeholders, and their values in order.
#[derive(Debug)]
pub(super) struct Statement<'q> {
    sql: String,
    values: Vec<Value<'q>>,
}

#[derive(Debug)]
enum Value<'q> {
    Text(Cow<'q, str>),
    Number(i64),
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Value::Text(text) => text.as_ref().to_sql(),
            Value::Number(n) => n.to_sql(),
        }
    }
}

impl<'q> SqlWriter<'q> for Statement<'q> {
    fn start(sql: String) -> Self {
        Self {
            sql,
            values: Vec::new(),
        }
    }

    fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        let _ = write!(self.sql, "{sql}");
        self
    }

    fn text(&mut self, value: &'q str) -> &mut Self {
        self.sql.push('?');
        self.values.push(Value::Text(Cow::Borrowed(value)));
        self
    }

    fn owned_text(&mut self, value: String) -> &mut Self {
        self.sql.push('?');
        self.values.push(Value::Text(Cow::Owned(value)));
        self
    }

    fn number(&mut self, value: i64) -> &mut Self {
        self.sql.push('?');
        self.values.push(Value::Number(value));
        self
    }
}

/// What a page query selects: the fields, or, for a sink that takes them, the JSON rows keep
/// for list pages (with the fields of rows that keep none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageColumns {
    Fields,
    Rendered,
}

impl PageColumns {
    fn for_sink(sink: &dyn PageSink) -> Self {
        if sink.takes_rendered() {
            Self::Rendered
        } else {
            Self::Fields
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Fields => LISTED_BUCKET_COLUMNS,
            Self::Rendered => columns::RENDERED_BUCKET_COLUMNS,
        }
    }
}

fn page_query<'q>(head: &str, columns: PageColumns, plan: &Plan<'q>, bounds: PageBounds<'q>) -> Statement<'q> {
    listing_sql::page_query(head, columns.sql(), plan, bounds, IndexHints::Sqlite)
}

fn page_with_total_query<'q>(
    head: &str,
    columns: PageColumns,
    dimension: &'q str,
    plan: &Plan<'q>,
    bounds: PageBounds<'q>,
) -> Statement<'q> {
    listing_sql::page_with_total_query(head, columns.sql(), dimension, plan, bounds, IndexHints::Sqlite)
}

fn count_query<'q>(head: &str, plan: &Plan<'q>, upto: Option<&'q Position>, from_day: Option<i64>) -> Statement<'q> {
    listing_sql::count_query(head, plan, upto, from_day, IndexHints::Sqlite)
}

/// The reads of one listing, on one connection: a listing answered by one statement runs it on
/// its own (SQLite reads a statement in one snapshot); any other opens a read transaction at
/// its first read, which `list` ends. None of the reads waits for anything but SQLite, so the
/// listing's future completes without ever suspending.
struct Snapshot {
    connection: Connection,
    in_transaction: bool,
}

impl Snapshot {
    /// The connection, inside the listing's read transaction (begun on first use).
    fn transaction(&mut self) -> StoreResult<&Connection> {
        if !self.in_transaction {
            run_cached(&self.connection, "BEGIN").map_err(failed)?;
            self.in_transaction = true;
        }
        Ok(&self.connection)
    }

    /// Hands the rows of `q`, a page query selecting `columns`, to `sink`; `total_column`
    /// names a column to read from the first row.
    fn read_page(
        &self,
        q: &Statement<'_>,
        columns: PageColumns,
        sink: &mut dyn PageSink,
        total_column: Option<&str>,
    ) -> StoreResult<Option<i64>> {
        let mut statement = self.connection.prepare_cached(&q.sql).map_err(failed)?;
        let mut found = statement.query(params_from_iter(&q.values)).map_err(failed)?;
        let mut total = None;
        let rendered = columns == PageColumns::Rendered;
        while let Some(row) = found.next().map_err(failed)? {
            if let (None, Some(column)) = (total, total_column) {
                total = Some(row.get(column).map_err(failed)?);
            }
            if rendered && let Some(bucket) = columns::rendered_bucket(row).map_err(failed)? {
                sink.push_rendered(bucket?)?;
            } else {
                sink.push(columns::listed_bucket(row).map_err(failed)??)?;
            }
        }
        Ok(total)
    }
}

#[async_trait]
impl ListingReads for Snapshot {
    async fn dimension_total(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<u64> {
        counts::total(self.transaction()?, project.as_str(), dimension, include_deleted).map_err(failed)
    }

    async fn prefix_total(
        &mut self,
        project: &ProjectId,
        count: &PrefixCount,
        include_deleted: bool,
    ) -> StoreResult<u64> {
        counts::prefix_total(self.transaction()?, project.as_str(), count, include_deleted).map_err(failed)
    }

    async fn dimension_before_day(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
        day: i64,
    ) -> StoreResult<u64> {
        counts::before_day(self.transaction()?, project.as_str(), dimension, include_deleted, day).map_err(failed)
    }

    async fn dimension_days(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<(i64, u64)>> {
        counts::days(self.transaction()?, project.as_str(), dimension, include_deleted).map_err(failed)
    }

    async fn count(&mut self, plan: &Plan<'_>, upto: Option<&Position>, from_day: Option<i64>) -> StoreResult<u64> {
        let q = count_query("", plan, upto, from_day);
        let n: i64 = self
            .transaction()?
            .prepare_cached(&q.sql)
            .and_then(|mut s| s.query_row(params_from_iter(&q.values), |row| row.get(0)))
            .map_err(failed)?;
        Ok(counts::non_negative(n))
    }

    async fn page(&mut self, plan: &Plan<'_>, bounds: PageBounds<'_>, sink: &mut dyn PageSink) -> StoreResult<()> {
        self.transaction()?;
        let columns = PageColumns::for_sink(sink);
        self.read_page(&page_query("", columns, plan, bounds), columns, sink, None)?;
        Ok(())
    }

    /// The page with the total as its last column. An empty page has no row to carry the
    /// total, so it gives `None`.
    async fn page_with_dimension_total(
        &mut self,
        dimension: &str,
        plan: &Plan<'_>,
        bounds: PageBounds<'_>,
        sink: &mut dyn PageSink,
    ) -> StoreResult<Option<u64>> {
        let columns = PageColumns::for_sink(sink);
        let q = page_with_total_query("", columns, dimension, plan, bounds);
        let total = self.read_page(&q, columns, sink, Some(listing_sql::TOTAL_COLUMN))?;
        Ok(total.map(counts::non_negative))
    }
}

/// Runs `sql`, a statement without parameters or rows, through the connection's statement
/// cache (a listing's `BEGIN` and `COMMIT` are otherwise parsed on every request).
fn run_cached(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(drop)
}

pub(super) async fn list(
    reader: &PointReader,
    project: &ProjectId,
    request: &ListRequest,
    sink: &mut dyn PageSink,
) -> StoreResult<PageSummary> {
    let mut snapshot = Snapshot {
        connection: reader.take_connection()?,
        in_transaction: false,
    };
    let page = listing::list(&mut snapshot, project, request, sink).await;
    let end = if page.is_ok() { "COMMIT" } else { "ROLLBACK" };
    // A connection whose transaction did not end cleanly is closed rather than reused.
    if !snapshot.in_transaction || run_cached(&snapshot.connection, end).is_ok() {
        reader.give_back(snapshot.connection);
    }
    page
}

#[cfg(test)]
mod tests {
    //! The plan SQLite picks for each query shape: the index it walks, whether counts read the
    //! index alone, and that no page sorts (which would mean reading every match).

    use super::*;
    use crate::MetadataStore;
    use crate::metadata::listing::Driver;
    use crate::metadata::sqlite::SqliteStore;
    use cloudnexus_core::listing::BucketFilter;
    use cloudnexus_core::{BucketId, RegionSet, TagFilter, Timestamp};

    fn bounds(after: Option<&Position>, from_day: Option<i64>, skip: u64) -> PageBounds<'_> {
        PageBounds {
            after,
            from_day,
            limit: 26,
            skip,
        }
    }

    /// The plan of `q` as SQLite reports it, one step per `|`.
    async fn explain(store: &SqliteStore, q: Statement<'_>) -> String {
        let connection = store.point_reader.take_connection().unwrap();
        let mut statement = connection.prepare(&q.sql).unwrap();
        let steps = statement
            .query_map(params_from_iter(&q.values), |row| row.get::<_, String>("detail"))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        steps.join(" | ")
    }

    fn filter(prefix: Option<&str>, region: Option<&str>, tags: &[&str], include_deleted: bool) -> BucketFilter {
        let regions = RegionSet::default();
        BucketFilter::new(
            prefix.map(Into::into),
            region.map(|r| regions.parse(r).unwrap()),
            tags.iter().map(|t| TagFilter::parse(t).unwrap()).collect(),
            include_deleted,
        )
    }

    #[tokio::test]
    async fn each_shape_walks_the_index_that_gives_its_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let project = ProjectId::generate();
        let at = Position {
            created_at: Timestamp::from_unix_seconds(1_700_000_000),
            id: BucketId::generate(),
        };
        const EQP: &str = "EXPLAIN QUERY PLAN ";

        // (filter, driver, index the page walks, whether that index must be a covering one for counts)
        let cases: Vec<(BucketFilter, &str)> = vec![
            (filter(None, None, &[], false), "buckets_order"),
            (filter(None, None, &[], true), "buckets_order"),
            (filter(None, Some("us-east-1"), &[], false), "buckets_region_order"),
            (filter(None, None, &["env"], false), "bucket_tags_key_order"),
            (filter(None, None, &["env:prod"], false), "bucket_tags_value_order"),
            (filter(Some("prod-"), None, &[], false), "buckets_order"),
            (
                filter(Some("prod-"), Some("us-east-1"), &["env:prod"], false),
                "bucket_tags_value_order",
            ),
        ];
        for (f, index) in &cases {
            let plan = Plan::for_filter(&project, f);
            for (label, qb) in [
                (
                    "first page",
                    page_query(EQP, PageColumns::Rendered, &plan, bounds(None, None, 0)),
                ),
                (
                    "cursor page",
                    page_query(EQP, PageColumns::Rendered, &plan, bounds(Some(&at), None, 0)),
                ),
                (
                    "day seek",
                    page_query(EQP, PageColumns::Rendered, &plan, bounds(None, Some(19_000), 10)),
                ),
            ] {
                let text = explain(&store, qb).await;
                assert!(text.contains(index), "{label} of {f:?} should use {index}: {text}");
                assert!(!text.contains("TEMP B-TREE"), "{label} of {f:?} must not sort: {text}");
            }
        }

        // A shallow page of one dimension with its total: the same walk, and the total read
        // once, by its key in the counts.
        for (f, index) in &cases[..5] {
            let plan = Plan::for_filter(&project, f);
            let dimension = crate::metadata::counts::dimension_for(f).unwrap();
            let text = explain(
                &store,
                page_with_total_query(EQP, PageColumns::Rendered, &dimension, &plan, bounds(None, None, 10)),
            )
            .await;
            assert!(text.contains(index), "{f:?} should use {index}: {text}");
            assert!(!text.contains("TEMP B-TREE"), "{f:?} must not sort: {text}");
            assert!(
                text.contains("SCALAR SUBQUERY")
                    && text.contains("SEARCH bucket_counts USING INDEX sqlite_autoindex_bucket_counts_1 (project_id=? AND dimension=?)"),
                "{f:?}: {text}"
            );
        }

        // Counts inside one day, for cursor offsets of single-dimension filters, read an index only.
        for (f, index) in &cases[..5] {
            let plan = Plan::for_filter(&project, f);
            let text = explain(&store, count_query(EQP, &plan, Some(&at), Some(19_000))).await;
            assert!(text.contains(&format!("COVERING INDEX {index}")), "{f:?}: {text}");
        }

        // A tag with a region and a prefix is counted through the covering scope index, with no
        // join to the buckets table, up to a cursor too.
        let combined = filter(Some("prod-"), Some("us-east-1"), &["env:prod"], false);
        let plan = Plan::for_filter(&project, &combined);
        for qb in [
            count_query(EQP, &plan, None, None),
            count_query(EQP, &plan, Some(&at), None),
        ] {
            let text = explain(&store, qb).await;
            assert!(text.contains("COVERING INDEX bucket_tags_value_scope"), "{text}");
            assert!(
                !text.contains("SEARCH b "),
                "counting must not join the buckets: {text}"
            );
        }
        let keyed = filter(None, Some("us-east-1"), &["env"], false);
        let text = explain(
            &store,
            count_query(EQP, &Plan::for_filter(&project, &keyed), None, None),
        )
        .await;
        assert!(
            text.contains("COVERING INDEX bucket_tags_key_scope") && !text.contains("SEARCH b "),
            "{text}"
        );

        // A prefix is counted through the name index alone, up to a cursor too; with few
        // matches its page reads exactly them by name and sorts them.
        let prefix = filter(Some("prod-"), None, &[], false);
        let by_name = Plan::new(&project, &prefix, Driver::BucketsByName);
        for qb in [
            count_query(EQP, &by_name, None, None),
            count_query(EQP, &by_name, Some(&at), None),
        ] {
            let text = explain(&store, qb).await;
            assert!(text.contains("COVERING INDEX buckets_project_name"), "{text}");
        }
        let text = explain(
            &store,
            page_query(EQP, PageColumns::Rendered, &by_name, bounds(None, None, 0)),
        )
        .await;
        assert!(text.contains("buckets_project_name"), "{text}");
        store.close().await;
    }
}
