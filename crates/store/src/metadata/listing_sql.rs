//! The SQL of a listing's page and count queries, which SQLite and PostgreSQL both accept, built
//! for a [`Plan`] of `metadata::listing`: a walk of the index that gives the listing order, the
//! filter's conditions on the driving rows, further tags by `EXISTS`. SQLite's planner, which
//! has no statistics, is also told the index to walk (`INDEXED BY`, [`IndexHints::Sqlite`])
//! where its own choice would be wrong; PostgreSQL picks from its statistics. Each backend runs
//! these in its own transaction (`sqlite::listing`, `postgres::listing`), whose tests assert
//! the plans.

use crate::metadata::counts::DAY;
use crate::metadata::listing::{Driver, PageBounds, Plan, prefix_upper_bound};
use cloudnexus_core::listing::Position;
use sqlx::{Postgres, QueryBuilder};

/// A statement being written: SQL text and the values bound to its placeholders, in order.
/// PostgreSQL's is sqlx's `QueryBuilder`; SQLite's is `sqlite::listing::Statement`, for rusqlite.
pub(crate) trait SqlWriter<'q>: Sized {
    /// A statement starting with `sql`.
    fn start(sql: String) -> Self;
    fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self;
    fn text(&mut self, value: &'q str) -> &mut Self;
    fn owned_text(&mut self, value: String) -> &mut Self;
    fn number(&mut self, value: i64) -> &mut Self;
}

impl<'q> SqlWriter<'q> for QueryBuilder<'q, Postgres> {
    fn start(sql: String) -> Self {
        QueryBuilder::new(sql)
    }

    fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        QueryBuilder::push(self, sql)
    }

    fn text(&mut self, value: &'q str) -> &mut Self {
        self.push_bind(value)
    }

    fn owned_text(&mut self, value: String) -> &mut Self {
        self.push_bind(value)
    }

    fn number(&mut self, value: i64) -> &mut Self {
        self.push_bind(value)
    }
}

/// Whether the statements name the index a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexHints {
    /// PostgreSQL: its planner chooses.
    None,
    /// SQLite: `INDEXED BY`.
    Sqlite,
}

impl IndexHints {
    fn name<'q, W: SqlWriter<'q>>(self, qb: &mut W, index: &str) {
        if self == Self::Sqlite {
            qb.push(format!(" INDEXED BY {index}"));
        }
    }
}

/// The columns of the listing order, on the driving table.
fn order(plan: &Plan<'_>) -> (&'static str, &'static str) {
    match plan.driver {
        Driver::Tag(_) => ("d.created_at", "d.bucket_id"),
        _ => ("b.created_at", "b.id"),
    }
}

/// Appends `FROM ... WHERE ...`; `rows` says whether bucket columns are selected.
fn push_from_where<'q, W: SqlWriter<'q>>(plan: &Plan<'q>, qb: &mut W, rows: bool, hints: IndexHints) {
    let f = plan.filter;
    let bucket_id = match plan.driver {
        Driver::Tag(tag) => {
            // Region and name are on the tag row too, so only selected rows and further tag
            // conditions need the bucket. Pages walk the listing order; counts with a region
            // or prefix read the covering scope index instead of joining every row.
            let scoped = f.region.is_some() || f.prefix.is_some();
            let index = match (&tag.value, rows || !scoped) {
                (None, true) => "bucket_tags_key_order",
                (Some(_), true) => "bucket_tags_value_order",
                (None, false) => "bucket_tags_key_scope",
                (Some(_), false) => "bucket_tags_value_scope",
            };
            qb.push(" FROM bucket_tags d");
            hints.name(qb, index);
            if rows {
                qb.push(" JOIN buckets b ON b.id = d.bucket_id");
            }
            qb.push(" WHERE d.project_id = ").text(plan.project.as_str());
            qb.push(" AND d.tag_key = ").text(tag.key.as_str());
            if let Some(value) = &tag.value {
                qb.push(" AND d.tag_value = ").text(value.as_str());
            }
            if !f.include_deleted {
                qb.push(" AND d.live");
            }
            push_scope(plan, qb, "d");
            "d.bucket_id"
        }
        Driver::Buckets | Driver::BucketsByName => {
            qb.push(" FROM buckets b");
            if plan.driver == Driver::BucketsByName {
                hints.name(qb, "buckets_project_name");
            } else if plan.is_prefix_only() {
                hints.name(qb, "buckets_order");
            }
            qb.push(" WHERE b.project_id = ").text(plan.project.as_str());
            if !f.include_deleted {
                qb.push(" AND b.deleted_at IS NULL");
            }
            push_scope(plan, qb, "b");
            "b.id"
        }
    };
    for tag in plan.other_tags() {
        qb.push(format!(
            " AND EXISTS (SELECT 1 FROM bucket_tags t WHERE t.bucket_id = {bucket_id} AND t.tag_key = "
        ))
        .text(tag.key.as_str());
        if let Some(value) = &tag.value {
            qb.push(" AND t.tag_value = ").text(value.as_str());
        }
        qb.push(")");
    }
}

/// The prefix and region conditions, on the `table` alias that holds `name` and `region`.
fn push_scope<'q, W: SqlWriter<'q>>(plan: &Plan<'q>, qb: &mut W, table: &str) {
    if let Some(prefix) = &plan.filter.prefix {
        qb.push(format!(" AND {table}.name >= ")).text(prefix.as_str());
        qb.push(format!(" AND {table}.name < "))
            .owned_text(prefix_upper_bound(prefix));
    }
    if let Some(region) = &plan.filter.region {
        qb.push(format!(" AND {table}.region = ")).text(region.as_str());
    }
}

fn push_position<'q, W: SqlWriter<'q>>(plan: &Plan<'_>, qb: &mut W, op: &str, position: &'q Position) {
    let (time, id) = order(plan);
    qb.push(format!(" AND ({time}, {id}) {op} ("))
        .number(position.created_at.unix_seconds())
        .push(", ")
        .text(position.id.as_str())
        .push(")");
}

fn push_from_day<'q, W: SqlWriter<'q>>(plan: &Plan<'_>, qb: &mut W, day: i64) {
    qb.push(format!(" AND {} >= ", order(plan).0)).number(day * DAY);
}

/// `SELECT <columns> ...` of the matches within `bounds`, in listing order: `columns` on the
/// alias `b` of the bucket's row (`rows::LISTED_BUCKET_COLUMNS`, or a backend's own).
pub(crate) fn page_query<'q, W: SqlWriter<'q>>(
    head: &str,
    columns: &str,
    plan: &Plan<'q>,
    bounds: PageBounds<'q>,
    hints: IndexHints,
) -> W {
    page_query_with(head, columns, plan, bounds, hints, |_| ())
}

/// [`page_query`] with more columns after the bucket columns, each written by `more_columns`
/// with its leading comma.
fn page_query_with<'q, W: SqlWriter<'q>>(
    head: &str,
    columns: &str,
    plan: &Plan<'q>,
    bounds: PageBounds<'q>,
    hints: IndexHints,
    more_columns: impl FnOnce(&mut W),
) -> W {
    let mut qb = W::start(format!("{head}SELECT {columns}"));
    more_columns(&mut qb);
    push_from_where(plan, &mut qb, true, hints);
    if let Some(position) = bounds.after {
        push_position(plan, &mut qb, ">", position);
    }
    if let Some(day) = bounds.from_day {
        push_from_day(plan, &mut qb, day);
    }
    let (time, id) = order(plan);
    qb.push(format!(" ORDER BY {time}, {id} LIMIT "))
        .number(i64::from(bounds.limit));
    if bounds.skip > 0 {
        qb.push(" OFFSET ")
            .number(i64::try_from(bounds.skip).unwrap_or(i64::MAX));
    }
    qb
}

/// The name of the column [`page_with_total_query`] adds to a page.
pub(crate) const TOTAL_COLUMN: &str = "dimension_total";

/// [`page_query`] with the buckets counted in `dimension` (from `bucket_counts`, under the
/// filter's liveness rule) as one more column, [`TOTAL_COLUMN`]: a shallow offset page of one
/// dimension in one statement, so one snapshot without a transaction. The subquery does not
/// depend on the row, so it runs once.
pub(crate) fn page_with_total_query<'q, W: SqlWriter<'q>>(
    head: &str,
    columns: &str,
    dimension: &'q str,
    plan: &Plan<'q>,
    bounds: PageBounds<'q>,
    hints: IndexHints,
) -> W {
    let counted = if plan.filter.include_deleted {
        "live + deleted"
    } else {
        "live"
    };
    page_query_with(head, columns, plan, bounds, hints, |q: &mut W| {
        q.push(format_args!(
            ", (SELECT CAST(COALESCE(SUM({counted}), 0) AS BIGINT) FROM bucket_counts WHERE project_id = "
        ))
        .text(plan.project.as_str())
        .push(" AND dimension = ")
        .text(dimension)
        .push(format_args!(") AS {TOTAL_COLUMN}"));
    })
}

/// `SELECT COUNT(*) ...` of the matches, optionally only those from `from_day` on and up to
/// and including `upto`.
pub(crate) fn count_query<'q, W: SqlWriter<'q>>(
    head: &str,
    plan: &Plan<'q>,
    upto: Option<&'q Position>,
    from_day: Option<i64>,
    hints: IndexHints,
) -> W {
    let mut qb = W::start(format!("{head}SELECT COUNT(*)"));
    push_from_where(plan, &mut qb, false, hints);
    if let Some(position) = upto {
        push_position(plan, &mut qb, "<=", position);
    }
    if let Some(day) = from_day {
        push_from_day(plan, &mut qb, day);
    }
    qb
}
