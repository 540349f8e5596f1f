//! One page of a project's buckets in `created_at, id` order, with `total` and `offset`, all
//! read in one snapshot. How each filter shape is answered (docs/architecture.md has the table):
//!
//! - **Driver.** With a tag filter, the page walks `bucket_tags` in listing order for the first
//!   tag (its index holds `created_at, bucket_id, live`) and joins the bucket only for rows
//!   that pass; otherwise it walks `buckets` by `buckets_order` or `buckets_region_order`. A
//!   prefix alone walks `buckets_order` and checks names, unless few names match the prefix,
//!   in which case it reads exactly those through `buckets_project_name` and sorts them.
//! - **Total.** From `bucket_counts` when the filter is one dimension (none, a region, or one
//!   tag); otherwise a `COUNT(*)` over the driver's index range.
//! - **Offset of a cursor page.** For one dimension: the `bucket_counts_by_day` rows before the
//!   cursor's day plus an index count within that day; otherwise a count up to the cursor.
//! - **Deep offsets.** For one dimension, `bucket_counts_by_day` finds the day holding the
//!   offset, and the page skips only within that day.

use super::rows::{self, BUCKET_COLUMNS};
use super::{SqliteStore, backend, counts};
use crate::StoreResult;
use cloudnexus_core::listing::{BucketFilter, BucketPage, ListRequest, PageStart, Position};
use cloudnexus_core::{ProjectId, TagFilter};
use sqlx::{QueryBuilder, Sqlite, Transaction};

/// Up to this many prefix matches, a prefix-only page reads exactly the matches by name and
/// sorts them; above it, it walks the listing order and checks names.
const PREFIX_SORT_LIMIT: i64 = 2_000;
/// From this offset on, a single-dimension offset page seeks its day before skipping.
const SEEK_FROM_OFFSET: u64 = 1_000;

/// The smallest string greater than every bucket name that starts with `prefix`: bucket names
/// hold only `a-z 0-9 . -`, all of which sort below `{`.
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}{{")
}

/// Which index a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver<'a> {
    /// `buckets`, by the index SQLite picks (listing order, or region then listing order).
    Buckets,
    /// `buckets` through `buckets_project_name`: every prefix match, then sorted.
    BucketsByName,
    /// `bucket_tags` for this tag, in listing order.
    Tag(&'a TagFilter),
}

/// How one list request is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan<'a> {
    project: &'a ProjectId,
    filter: &'a BucketFilter,
    driver: Driver<'a>,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(project: &'a ProjectId, filter: &'a BucketFilter, driver: Driver<'a>) -> Self {
        Self {
            project,
            filter,
            driver,
        }
    }

    /// The plan for `filter`, before knowing how many names match a prefix.
    fn for_filter(project: &'a ProjectId, filter: &'a BucketFilter) -> Self {
        let driver = filter.tags.first().map_or(Driver::Buckets, Driver::Tag);
        Self {
            project,
            filter,
            driver,
        }
    }

    /// The columns of the listing order, on the driving table.
    fn order(&self) -> (&'static str, &'static str) {
        match self.driver {
            Driver::Tag(_) => ("d.created_at", "d.bucket_id"),
            _ => ("b.created_at", "b.id"),
        }
    }

    /// Appends `FROM ... WHERE ...`; `rows` says whether bucket columns are selected.
    fn push_from_where<'q>(&self, qb: &mut QueryBuilder<'q, Sqlite>, rows: bool)
    where
        'a: 'q,
    {
        let f = self.filter;
        let other_tags: &[TagFilter] = match self.driver {
            Driver::Tag(_) => &f.tags[1..],
            _ => &f.tags,
        };
        let bucket_id = match self.driver {
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
                qb.push(format!(" FROM bucket_tags d INDEXED BY {index}"));
                if rows {
                    qb.push(" JOIN buckets b ON b.id = d.bucket_id");
                }
                qb.push(" WHERE d.project_id = ").push_bind(self.project.as_str());
                qb.push(" AND d.tag_key = ").push_bind(tag.key.as_str());
                if let Some(value) = &tag.value {
                    qb.push(" AND d.tag_value = ").push_bind(value.as_str());
                }
                if !f.include_deleted {
                    qb.push(" AND d.live");
                }
                self.push_scope(qb, "d");
                "d.bucket_id"
            }
            Driver::Buckets | Driver::BucketsByName => {
                qb.push(" FROM buckets b");
                if self.driver == Driver::BucketsByName {
                    qb.push(" INDEXED BY buckets_project_name");
                } else if f.prefix.is_some() && f.region.is_none() && f.tags.is_empty() {
                    qb.push(" INDEXED BY buckets_order");
                }
                qb.push(" WHERE b.project_id = ").push_bind(self.project.as_str());
                if !f.include_deleted {
                    qb.push(" AND b.deleted_at IS NULL");
                }
                self.push_scope(qb, "b");
                "b.id"
            }
        };
        for tag in other_tags {
            qb.push(format!(
                " AND EXISTS (SELECT 1 FROM bucket_tags t WHERE t.bucket_id = {bucket_id} AND t.tag_key = "
            ))
            .push_bind(tag.key.as_str());
            if let Some(value) = &tag.value {
                qb.push(" AND t.tag_value = ").push_bind(value.as_str());
            }
            qb.push(")");
        }
    }

    /// The prefix and region conditions, on the `table` alias that holds `name` and `region`.
    fn push_scope<'q>(&self, qb: &mut QueryBuilder<'q, Sqlite>, table: &str)
    where
        'a: 'q,
    {
        if let Some(prefix) = &self.filter.prefix {
            qb.push(format!(" AND {table}.name >= ")).push_bind(prefix.as_str());
            qb.push(format!(" AND {table}.name < "))
                .push_bind(prefix_upper_bound(prefix));
        }
        if let Some(region) = &self.filter.region {
            qb.push(format!(" AND {table}.region = ")).push_bind(region.as_str());
        }
    }

    fn push_position<'q>(&self, qb: &mut QueryBuilder<'q, Sqlite>, op: &str, position: &'q Position) {
        let (time, id) = self.order();
        qb.push(format!(" AND ({time}, {id}) {op} ("))
            .push_bind(position.created_at.unix_seconds())
            .push(", ")
            .push_bind(position.id.as_str())
            .push(")");
    }

    fn push_from_day(&self, qb: &mut QueryBuilder<'_, Sqlite>, day: i64) {
        qb.push(format!(" AND {} >= ", self.order().0))
            .push_bind(day * counts::DAY);
    }

    /// `SELECT <bucket columns> ...`: the page, `limit + 1` rows to tell whether more follow.
    pub(crate) fn page_query<'q>(
        &self,
        head: &str,
        after: Option<&'q Position>,
        from_day: Option<i64>,
        limit: u32,
        skip: u64,
    ) -> QueryBuilder<'q, Sqlite>
    where
        'a: 'q,
    {
        let mut qb = QueryBuilder::new(format!("{head}SELECT {BUCKET_COLUMNS}"));
        self.push_from_where(&mut qb, true);
        if let Some(position) = after {
            self.push_position(&mut qb, ">", position);
        }
        if let Some(day) = from_day {
            self.push_from_day(&mut qb, day);
        }
        let (time, id) = self.order();
        qb.push(format!(" ORDER BY {time}, {id} LIMIT "))
            .push_bind(i64::from(limit) + 1);
        if skip > 0 {
            qb.push(" OFFSET ").push_bind(i64::try_from(skip).unwrap_or(i64::MAX));
        }
        qb
    }

    /// `SELECT COUNT(*) ...` of the matches, optionally only those from `from_day` on and up
    /// to and including `upto`.
    pub(crate) fn count_query<'q>(
        &self,
        head: &str,
        upto: Option<&'q Position>,
        from_day: Option<i64>,
    ) -> QueryBuilder<'q, Sqlite>
    where
        'a: 'q,
    {
        let mut qb = QueryBuilder::new(format!("{head}SELECT COUNT(*)"));
        self.push_from_where(&mut qb, false);
        if let Some(position) = upto {
            self.push_position(&mut qb, "<=", position);
        }
        if let Some(day) = from_day {
            self.push_from_day(&mut qb, day);
        }
        qb
    }
}

async fn count(tx: &mut Transaction<'_, Sqlite>, mut qb: QueryBuilder<'_, Sqlite>) -> StoreResult<i64> {
    qb.build_query_scalar::<i64>()
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)
}

pub(super) async fn list(store: &SqliteStore, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
    let filter = &request.filter;
    let dimension = counts::dimension_for(filter);
    let mut plan = Plan::for_filter(project, filter);
    let mut tx = store.read_tx().await?;

    // A prefix alone is counted through the name index, which covers the listing order too.
    let prefix_only = filter.prefix.is_some() && filter.region.is_none() && filter.tags.is_empty();
    let count_plan = if prefix_only {
        Plan::new(project, filter, Driver::BucketsByName)
    } else {
        plan
    };
    let total = match &dimension {
        Some(dim) => counts::total(&mut tx, project, dim, filter).await?,
        None => count(&mut tx, count_plan.count_query("", None, None)).await?,
    };
    if prefix_only && total <= PREFIX_SORT_LIMIT {
        plan = count_plan;
    }

    // Where the page starts: after a position, or at an offset (seeking its day when deep).
    let (after, from_day, skip, known_offset) = match &request.start {
        PageStart::After(position) => (Some(position), None, 0, None),
        PageStart::Offset(offset) => match &dimension {
            Some(dim) if *offset >= SEEK_FROM_OFFSET => {
                match counts::seek_day(&mut tx, project, dim, filter, *offset).await? {
                    Some((day, before)) => (None, Some(day), offset - before, Some(*offset)),
                    None => (None, None, *offset, Some(*offset)),
                }
            }
            _ => (None, None, *offset, Some(*offset)),
        },
    };
    let found = plan
        .page_query("", after, from_day, request.limit, skip)
        .build()
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
    let mut buckets = found.iter().map(rows::bucket).collect::<StoreResult<Vec<_>>>()?;
    let has_more = buckets.len() > request.limit as usize;
    buckets.truncate(request.limit as usize);

    let offset = match (known_offset, after) {
        (Some(offset), _) => offset,
        (None, Some(position)) => {
            let before = match &dimension {
                Some(dim) => {
                    let day = counts::day_of(position.created_at);
                    let earlier_days = counts::before_day(&mut tx, project, dim, filter, day).await?;
                    earlier_days + count(&mut tx, plan.count_query("", Some(position), Some(day))).await?
                }
                None => count(&mut tx, count_plan.count_query("", Some(position), None)).await?,
            };
            u64::try_from(before).unwrap_or(0)
        }
        (None, None) => 0,
    };
    tx.commit().await.map_err(backend)?;

    let next = if has_more {
        buckets.last().map(Position::of)
    } else {
        None
    };
    Ok(BucketPage {
        buckets,
        total: u64::try_from(total).unwrap_or(0),
        offset,
        next,
    })
}

#[cfg(test)]
mod tests {
    //! The plan SQLite picks for each query shape: the index it walks, whether counts read the
    //! index alone, and that no page sorts (which would mean reading every match).

    use super::*;
    use cloudnexus_core::{BucketId, RegionSet, Timestamp};
    use sqlx::Row;

    async fn explain(store: &SqliteStore, mut qb: QueryBuilder<'_, Sqlite>) -> String {
        let rows = qb.build().fetch_all(&store.reader).await.unwrap();
        rows.iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect::<Vec<_>>()
            .join(" | ")
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
                ("first page", plan.page_query(EQP, None, None, 25, 0)),
                ("cursor page", plan.page_query(EQP, Some(&at), None, 25, 0)),
                ("day seek", plan.page_query(EQP, None, Some(19_000), 25, 10)),
            ] {
                let text = explain(&store, qb).await;
                assert!(text.contains(index), "{label} of {f:?} should use {index}: {text}");
                assert!(!text.contains("TEMP B-TREE"), "{label} of {f:?} must not sort: {text}");
            }
        }

        // Counts inside one day, for cursor offsets of single-dimension filters, read an index only.
        for (f, index) in &cases[..5] {
            let plan = Plan::for_filter(&project, f);
            let text = explain(&store, plan.count_query(EQP, Some(&at), Some(19_000))).await;
            assert!(text.contains(&format!("COVERING INDEX {index}")), "{f:?}: {text}");
        }

        // A tag with a region and a prefix is counted through the covering scope index, with no
        // join to the buckets table, up to a cursor too.
        let combined = filter(Some("prod-"), Some("us-east-1"), &["env:prod"], false);
        let plan = Plan::for_filter(&project, &combined);
        for qb in [
            plan.count_query(EQP, None, None),
            plan.count_query(EQP, Some(&at), None),
        ] {
            let text = explain(&store, qb).await;
            assert!(text.contains("COVERING INDEX bucket_tags_value_scope"), "{text}");
            assert!(
                !text.contains("SEARCH b "),
                "counting must not join the buckets: {text}"
            );
        }
        let keyed = filter(None, Some("us-east-1"), &["env"], false);
        let text = explain(&store, Plan::for_filter(&project, &keyed).count_query(EQP, None, None)).await;
        assert!(
            text.contains("COVERING INDEX bucket_tags_key_scope") && !text.contains("SEARCH b "),
            "{text}"
        );

        // A prefix is counted through the name index alone, up to a cursor too; with few
        // matches its page reads exactly them by name and sorts them.
        let prefix = filter(Some("prod-"), None, &[], false);
        let by_name = Plan::new(&project, &prefix, Driver::BucketsByName);
        for qb in [
            by_name.count_query(EQP, None, None),
            by_name.count_query(EQP, Some(&at), None),
        ] {
            let text = explain(&store, qb).await;
            assert!(text.contains("COVERING INDEX buckets_project_name"), "{text}");
        }
        let text = explain(&store, by_name.page_query(EQP, None, None, 25, 0)).await;
        assert!(text.contains("buckets_project_name"), "{text}");
        store.close().await;
    }
}
