//! A listing in SQLite: the reads of `metadata::listing` (which decides the plan of each filter
//! shape) inside one read transaction, with the statements of `metadata::listing_sql` told the
//! index to walk (`INDEXED BY`) where SQLite's statistics-free choice would be wrong (prefix
//! plans, tag counts); the tests below assert each shape's plan with `EXPLAIN QUERY PLAN`.

use super::{SqliteStore, backend, counts};
use crate::StoreResult;
use crate::metadata::listing::{self, ListingReads, PageBounds, Plan};
use crate::metadata::listing_sql::{self, IndexHints};
use crate::metadata::rows;
use async_trait::async_trait;
use cloudnexus_core::listing::{BucketPage, ListRequest, Position};
use cloudnexus_core::{Bucket, ProjectId};
use sqlx::{QueryBuilder, Sqlite, Transaction};

fn page_query<'q>(head: &str, plan: &Plan<'q>, bounds: PageBounds<'q>) -> QueryBuilder<'q, Sqlite> {
    listing_sql::page_query(head, plan, bounds, IndexHints::Sqlite)
}

fn count_query<'q>(
    head: &str,
    plan: &Plan<'q>,
    upto: Option<&'q Position>,
    from_day: Option<i64>,
) -> QueryBuilder<'q, Sqlite> {
    listing_sql::count_query(head, plan, upto, from_day, IndexHints::Sqlite)
}

/// The reads of one listing, inside one read transaction.
struct Snapshot(Transaction<'static, Sqlite>);

#[async_trait]
impl ListingReads for Snapshot {
    async fn dimension_total(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<u64> {
        counts::total(&mut self.0, project, dimension, include_deleted).await
    }

    async fn dimension_before_day(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
        day: i64,
    ) -> StoreResult<u64> {
        counts::before_day(&mut self.0, project, dimension, include_deleted, day).await
    }

    async fn dimension_days(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<(i64, u64)>> {
        counts::days(&mut self.0, project, dimension, include_deleted).await
    }

    async fn count(&mut self, plan: &Plan<'_>, upto: Option<&Position>, from_day: Option<i64>) -> StoreResult<u64> {
        let n: i64 = count_query("", plan, upto, from_day)
            .build_query_scalar()
            .fetch_one(&mut *self.0)
            .await
            .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn page(&mut self, plan: &Plan<'_>, bounds: PageBounds<'_>) -> StoreResult<Vec<Bucket>> {
        let found = page_query("", plan, bounds)
            .build()
            .fetch_all(&mut *self.0)
            .await
            .map_err(backend)?;
        found.iter().map(rows::bucket).collect()
    }
}

pub(super) async fn list(store: &SqliteStore, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
    let mut snapshot = Snapshot(store.read_tx().await?);
    let page = listing::list(&mut snapshot, project, request).await?;
    snapshot.0.commit().await.map_err(backend)?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    //! The plan SQLite picks for each query shape: the index it walks, whether counts read the
    //! index alone, and that no page sorts (which would mean reading every match).

    use super::*;
    use crate::MetadataStore;
    use crate::metadata::listing::Driver;
    use cloudnexus_core::listing::BucketFilter;
    use cloudnexus_core::{BucketId, RegionSet, TagFilter, Timestamp};
    use sqlx::Row;

    fn bounds(after: Option<&Position>, from_day: Option<i64>, skip: u64) -> PageBounds<'_> {
        PageBounds {
            after,
            from_day,
            limit: 26,
            skip,
        }
    }

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
                ("first page", page_query(EQP, &plan, bounds(None, None, 0))),
                ("cursor page", page_query(EQP, &plan, bounds(Some(&at), None, 0))),
                ("day seek", page_query(EQP, &plan, bounds(None, Some(19_000), 10))),
            ] {
                let text = explain(&store, qb).await;
                assert!(text.contains(index), "{label} of {f:?} should use {index}: {text}");
                assert!(!text.contains("TEMP B-TREE"), "{label} of {f:?} must not sort: {text}");
            }
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
        let text = explain(&store, page_query(EQP, &by_name, bounds(None, None, 0))).await;
        assert!(text.contains("buckets_project_name"), "{text}");
        store.close().await;
    }
}
