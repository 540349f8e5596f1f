//! A listing in PostgreSQL: the reads of `metadata::listing` (which decides the plan of each
//! filter shape) inside one REPEATABLE READ transaction, or as one statement (one snapshot) for
//! a shallow page of one dimension, with the statements of `metadata::listing_sql`.
//! PostgreSQL's planner picks the index from its statistics (SQLite's is told with
//! `INDEXED BY`); the test below asserts each shape's plan with `EXPLAIN` on a seeded, analysed
//! table.
//!
//! The page and count statements of combined filters are sent unprepared (`persistent(false)`),
//! so each is planned with its values: a prepared statement switches to a generic plan after a
//! few executions, and a generic plan cannot tell a tag, region and prefix that match 20,000
//! buckets from ones that match 20 (measured at a million buckets: 342 ms with the generic plan, sorting every
//! match, against 1.4 ms walking the index in listing order).

use super::{PgStore, backend, counts};
use crate::StoreResult;
use crate::metadata::counts::PrefixCount;
use crate::metadata::listing::{self, ListingReads, PageBounds, PageSink, Plan};
use crate::metadata::listing_sql::{self, IndexHints};
use crate::metadata::rows::{self, LISTED_BUCKET_COLUMNS};
use async_trait::async_trait;
use cloudnexus_core::ProjectId;
use cloudnexus_core::listing::{ListRequest, PageSummary, Position};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row, Transaction};

fn page_query<'q>(head: &str, plan: &Plan<'q>, bounds: PageBounds<'q>) -> QueryBuilder<'q, Postgres> {
    listing_sql::page_query(head, LISTED_BUCKET_COLUMNS, plan, bounds, IndexHints::None)
}

fn count_query<'q>(
    head: &str,
    plan: &Plan<'q>,
    upto: Option<&'q Position>,
    from_day: Option<i64>,
) -> QueryBuilder<'q, Postgres> {
    listing_sql::count_query(head, plan, upto, from_day, IndexHints::None)
}

/// Whether a plan's statements must be planned with their values: a filter that combines
/// dimensions (two or more of a region, a prefix and tags), whose matches the planner can only
/// estimate from the values themselves.
fn plan_with_values(plan: &Plan<'_>) -> bool {
    let f = plan.filter;
    usize::from(f.region.is_some()) + usize::from(f.prefix.is_some()) + f.tags.len() >= 2
}

/// The reads of one listing: a listing answered by one statement runs it on its own (a
/// statement reads one snapshot); any other opens a read transaction at its first read, which
/// `list` commits.
struct Snapshot<'s> {
    store: &'s PgStore,
    transaction: Option<Transaction<'static, Postgres>>,
}

impl Snapshot<'_> {
    /// The listing's read transaction, begun on first use.
    async fn tx(&mut self) -> StoreResult<&mut Transaction<'static, Postgres>> {
        match &mut self.transaction {
            Some(tx) => Ok(tx),
            empty => Ok(empty.insert(self.store.read_tx().await?)),
        }
    }
}

/// Hands the rows of a page to `sink`.
fn push_rows(found: &[PgRow], sink: &mut dyn PageSink) -> StoreResult<()> {
    for row in found {
        sink.push(rows::listed_bucket(row)?)?;
    }
    Ok(())
}

#[async_trait]
impl ListingReads for Snapshot<'_> {
    async fn dimension_total(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<u64> {
        counts::total(self.tx().await?, project, dimension, include_deleted).await
    }

    async fn prefix_total(
        &mut self,
        project: &ProjectId,
        count: &PrefixCount,
        include_deleted: bool,
    ) -> StoreResult<u64> {
        counts::prefix_total(self.tx().await?, project, count, include_deleted).await
    }

    async fn dimension_before_day(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
        day: i64,
    ) -> StoreResult<u64> {
        counts::before_day(self.tx().await?, project, dimension, include_deleted, day).await
    }

    async fn dimension_days(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<(i64, u64)>> {
        counts::days(self.tx().await?, project, dimension, include_deleted).await
    }

    async fn count(&mut self, plan: &Plan<'_>, upto: Option<&Position>, from_day: Option<i64>) -> StoreResult<u64> {
        let n: i64 = count_query("", plan, upto, from_day)
            .build_query_scalar()
            .persistent(!plan_with_values(plan))
            .fetch_one(&mut **self.tx().await?)
            .await
            .map_err(backend)?;
        Ok(super::non_negative(n))
    }

    async fn page(&mut self, plan: &Plan<'_>, bounds: PageBounds<'_>, sink: &mut dyn PageSink) -> StoreResult<()> {
        let found = page_query("", plan, bounds)
            .build()
            .persistent(!plan_with_values(plan))
            .fetch_all(&mut **self.tx().await?)
            .await
            .map_err(backend)?;
        push_rows(&found, sink)
    }

    /// The page with the total as its last column, outside a transaction. An empty page has
    /// no row to carry the total, so it gives `None`.
    async fn page_with_dimension_total(
        &mut self,
        dimension: &str,
        plan: &Plan<'_>,
        bounds: PageBounds<'_>,
        sink: &mut dyn PageSink,
    ) -> StoreResult<Option<u64>> {
        let found = listing_sql::page_with_total_query::<QueryBuilder<'_, Postgres>>(
            "",
            LISTED_BUCKET_COLUMNS,
            dimension,
            plan,
            bounds,
            IndexHints::None,
        )
        .build()
        .persistent(!plan_with_values(plan))
        .fetch_all(&self.store.pool)
        .await
        .map_err(backend)?;
        let Some(first) = found.first() else {
            return Ok(None);
        };
        let total: i64 = first.try_get(listing_sql::TOTAL_COLUMN).map_err(backend)?;
        push_rows(&found, sink)?;
        Ok(Some(super::non_negative(total)))
    }
}

pub(super) async fn list(
    store: &PgStore,
    project: &ProjectId,
    request: &ListRequest,
    sink: &mut dyn PageSink,
) -> StoreResult<PageSummary> {
    let mut snapshot = Snapshot {
        store,
        transaction: None,
    };
    let page = listing::list(&mut snapshot, project, request, sink).await?;
    if let Some(tx) = snapshot.transaction {
        tx.commit().await.map_err(backend)?;
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    //! The plan PostgreSQL picks for each query shape, on a seeded and analysed project of
    //! 20,000 buckets: an index answers every query, never a scan of the table; pages of a
    //! single dimension or a prefix walk an index in listing order (no sort).
    //!
    //! On a table this small a sequential scan can be cheaper than an index, and the planner
    //! rightly takes it, which says nothing about a large table; so the plans are read with
    //! `enable_seqscan = off`, which makes a scan the last resort: one appears only where no
    //! index can answer. How fast each shape is at 1,000,000 buckets is the benchmark's part.

    use super::*;
    use crate::MetadataStore;
    use crate::metadata::NewBucket;
    use crate::metadata::listing::Driver;
    use cloudnexus_core::listing::BucketFilter;
    use cloudnexus_core::{BucketId, BucketName, ProjectName, RegionSet, StorageClass, TagFilter, Tags, Timestamp};
    use sqlx::Row;

    const BUCKETS: usize = 20_000;

    async fn explain(c: &mut sqlx::PgConnection, mut qb: QueryBuilder<'_, Postgres>) -> String {
        let rows = qb.build().fetch_all(&mut *c).await.unwrap();
        rows.iter()
            .map(|r| r.get::<String, _>(0))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn filter(prefix: Option<&str>, region: Option<&str>, tags: &[&str]) -> BucketFilter {
        let regions = RegionSet::default();
        BucketFilter::new(
            prefix.map(Into::into),
            region.map(|r| regions.parse(r).unwrap()),
            tags.iter().map(|t| TagFilter::parse(t).unwrap()).collect(),
            false,
        )
    }

    async fn seeded() -> (PgStore, ProjectId) {
        let url = crate::testing::new_postgres_database().await;
        let store = PgStore::open(&url).await.unwrap();
        let t0 = 1_700_000_000;
        let project = ProjectId::generate();
        store
            .create_project(
                project.clone(),
                ProjectName::parse("plans").unwrap(),
                Timestamp::from_unix_seconds(t0),
            )
            .await
            .unwrap();
        // A second project, so that the project's share of each index is not all of it.
        let other = ProjectId::generate();
        store
            .create_project(
                other.clone(),
                ProjectName::parse("others").unwrap(),
                Timestamp::from_unix_seconds(t0),
            )
            .await
            .unwrap();
        let regions = RegionSet::default();
        let region_names = ["us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-1"];
        let envs = ["prod", "staging", "dev"];
        for (owner, prefix) in [(&project, "b"), (&other, "o")] {
            let buckets: Vec<NewBucket> = (0..BUCKETS)
                .map(|i| {
                    let mut tags = vec![("env", envs[i % 3])];
                    if i % 7 == 0 {
                        tags.push(("team", "data"));
                    }
                    NewBucket {
                        id: BucketId::generate(),
                        project_id: owner.clone(),
                        name: BucketName::parse(&format!("{prefix}{:02}-bucket-{i:06}", i % 40)).unwrap(),
                        region: regions.parse(region_names[i % 5]).unwrap(),
                        storage_class: StorageClass::Standard,
                        public: false,
                        tags: Tags::parse(tags).unwrap(),
                        created_at: Timestamp::from_unix_seconds(t0 + (i as i64) * 60),
                    }
                })
                .collect();
            for chunk in buckets.chunks(5_000) {
                store.create_buckets(chunk.to_vec()).await.unwrap();
            }
        }
        sqlx::query("ANALYZE").execute(&store.pool).await.unwrap();
        (store, project)
    }

    #[tokio::test]
    async fn each_shape_walks_an_index_in_listing_order() {
        let (store, project) = seeded().await;
        let mut connection = store.pool.acquire().await.unwrap();
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .unwrap();
        let c = &mut *connection;
        let at = Position {
            created_at: Timestamp::from_unix_seconds(1_700_000_000 + 60 * 9_000),
            id: BucketId::generate(),
        };
        const EXPLAIN: &str = "EXPLAIN ";
        let bounds = |after: Option<&'static Position>, from_day: Option<i64>, skip: u64| PageBounds {
            after,
            from_day,
            limit: 26,
            skip,
        };
        let at: &'static Position = Box::leak(Box::new(at));
        let cases = [
            filter(None, None, &[]),
            filter(None, Some("eu-west-2"), &[]),
            filter(None, None, &["team"]),
            filter(None, None, &["env:prod"]),
            filter(Some("b1"), None, &[]),
            filter(Some("b1"), Some("eu-west-2"), &["env:prod"]),
            filter(None, Some("us-east-1"), &["env:dev", "team"]),
        ];
        for f in &cases {
            let plan = Plan::for_filter(&project, f);
            // Combined filters may instead read exactly their matches through a covering scope
            // index and sort those, when the statistics say they are few (here, about 80).
            let may_sort = f.tags.len() > 1 || (!f.tags.is_empty() && (f.region.is_some() || f.prefix.is_some()));
            for (label, qb) in [
                ("first page", page_query(EXPLAIN, &plan, bounds(None, None, 0))),
                ("cursor page", page_query(EXPLAIN, &plan, bounds(Some(at), None, 0))),
                ("day seek", page_query(EXPLAIN, &plan, bounds(None, Some(19_700), 10))),
            ] {
                let text = explain(c, qb).await;
                assert!(text.contains("Index"), "{label} of {f:?} must walk an index:\n{text}");
                assert!(
                    !text.contains("Seq Scan"),
                    "{label} of {f:?} must not scan a table:\n{text}"
                );
                assert!(
                    may_sort || !text.contains("Sort"),
                    "{label} of {f:?} must not sort:\n{text}"
                );
            }
            // A shallow page of one dimension, with its total as a column: the same walk, and
            // the total read by its key in the counts.
            if let Some(dimension) = crate::metadata::counts::dimension_for(f) {
                let qb = listing_sql::page_with_total_query(
                    EXPLAIN,
                    LISTED_BUCKET_COLUMNS,
                    &dimension,
                    &plan,
                    bounds(None, None, 10),
                    IndexHints::None,
                );
                let text = explain(c, qb).await;
                assert!(text.contains("bucket_counts_pkey"), "total of {f:?}:\n{text}");
                assert!(!text.contains("Seq Scan"), "page with total of {f:?}:\n{text}");
                assert!(
                    !text.contains("Sort"),
                    "page with total of {f:?} must not sort:\n{text}"
                );
            }
            // The counts the store runs: a single dimension's total comes from the counts
            // table, and a cursor page's offset counts within one day; other shapes count the
            // driver's range (a prefix alone: by name), whole and up to the cursor.
            let counts = if crate::metadata::counts::dimension_for(f).is_some() {
                vec![(
                    "offset within a day",
                    count_query(EXPLAIN, &plan, Some(at), Some(19_700)),
                )]
            } else {
                let counted = if plan.is_prefix_only() {
                    Plan::new(&project, f, Driver::BucketsByName)
                } else {
                    plan
                };
                vec![
                    ("total", count_query(EXPLAIN, &counted, None, None)),
                    ("offset", count_query(EXPLAIN, &counted, Some(at), None)),
                ]
            };
            for (label, qb) in counts {
                let text = explain(c, qb).await;
                assert!(text.contains("Index"), "{label} of {f:?} must read an index:\n{text}");
                assert!(
                    !text.contains("Seq Scan"),
                    "{label} of {f:?} must not scan a table:\n{text}"
                );
            }
        }
        // A prefix with few matches reads exactly them by name, then sorts those few.
        let few = filter(Some("b17-bucket-0001"), None, &[]);
        let by_name = Plan::new(&project, &few, Driver::BucketsByName);
        let text = explain(c, page_query(EXPLAIN, &by_name, bounds(None, None, 0))).await;
        let by_names = ["buckets_project_name", "buckets_name_key"];
        assert!(by_names.iter().any(|i| text.contains(i)), "{text}");
        let text = explain(c, count_query(EXPLAIN, &by_name, None, None)).await;
        assert!(by_names.iter().any(|i| text.contains(i)), "{text}");
        // A prefix total with counts by prefix reads one range of their primary key.
        let sql = format!("{EXPLAIN}{}", counts::prefix_total_sql(false));
        let rows = sqlx::query(&sql)
            .bind(project.as_str())
            .bind("all")
            .bind(8i64)
            .bind("b17-")
            .bind("b17-{")
            .fetch_all(&mut *c)
            .await
            .unwrap();
        let text: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let text = text.join("\n");
        assert!(text.contains("bucket_counts_by_prefix_pkey"), "{text}");
        drop(connection);
        store.close().await;
    }
}
