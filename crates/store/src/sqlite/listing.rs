//! One page of a project's buckets in `created_at, id` order, with `total` and `offset`, all
//! read in one snapshot.
//!
//! The page is a keyset (or offset) range scan over the index that fits the filter; `total`
//! comes from `bucket_counts` when the filter is a single dimension and from a `COUNT(*)`
//! otherwise; `offset` on a cursor page counts the matching buckets up to the cursor.

use super::rows::{self, BUCKET_COLUMNS};
use super::{SqliteStore, backend, counts};
use crate::StoreResult;
use cloudnexus_core::ProjectId;
use cloudnexus_core::listing::{BucketFilter, BucketPage, ListRequest, PageStart, Position};
use sqlx::{QueryBuilder, Sqlite};

/// The smallest string greater than every bucket name that starts with `prefix`: bucket names
/// hold only `a-z 0-9 . -`, all of which sort below `{`.
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}{{")
}

/// Appends `WHERE ...` for the filter to a query over `buckets b`.
fn push_filter<'a>(qb: &mut QueryBuilder<'a, Sqlite>, project: &'a ProjectId, filter: &'a BucketFilter) {
    qb.push(" WHERE b.project_id = ").push_bind(project.as_str());
    if !filter.include_deleted {
        qb.push(" AND b.deleted_at IS NULL");
    }
    if let Some(prefix) = &filter.prefix {
        qb.push(" AND b.name >= ").push_bind(prefix.as_str());
        qb.push(" AND b.name < ").push_bind(prefix_upper_bound(prefix));
    }
    if let Some(region) = &filter.region {
        qb.push(" AND b.region = ").push_bind(region.as_str());
    }
    for tag in &filter.tags {
        qb.push(" AND EXISTS (SELECT 1 FROM bucket_tags t WHERE t.bucket_id = b.id AND t.tag_key = ")
            .push_bind(tag.key.as_str());
        if let Some(value) = &tag.value {
            qb.push(" AND t.tag_value = ").push_bind(value.as_str());
        }
        qb.push(")");
    }
}

fn push_position<'a>(qb: &mut QueryBuilder<'a, Sqlite>, op: &str, position: &'a Position) {
    qb.push(format!(" AND (b.created_at, b.id) {op} ("))
        .push_bind(position.created_at.unix_seconds())
        .push(", ")
        .push_bind(position.id.as_str())
        .push(")");
}

pub(super) async fn list(store: &SqliteStore, project: &ProjectId, request: &ListRequest) -> StoreResult<BucketPage> {
    let filter = &request.filter;
    let mut tx = store.read_tx().await?;

    let total = match counts::dimension_for(filter) {
        Some(dimension) => {
            let (live, deleted) = counts::read(&mut tx, project, &dimension).await?;
            live + if filter.include_deleted { deleted } else { 0 }
        }
        None => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM buckets b");
            push_filter(&mut qb, project, filter);
            qb.build_query_scalar::<i64>()
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?
        }
    };

    let mut qb = QueryBuilder::new(format!("SELECT {BUCKET_COLUMNS} FROM buckets b"));
    push_filter(&mut qb, project, filter);
    if let PageStart::After(position) = &request.start {
        push_position(&mut qb, ">", position);
    }
    qb.push(" ORDER BY b.created_at, b.id LIMIT ")
        .push_bind(i64::from(request.limit) + 1);
    if let PageStart::Offset(offset) = request.start {
        qb.push(" OFFSET ").push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
    }
    let found = qb.build().fetch_all(&mut *tx).await.map_err(backend)?;
    let mut buckets = found.iter().map(rows::bucket).collect::<StoreResult<Vec<_>>>()?;
    let has_more = buckets.len() > request.limit as usize;
    buckets.truncate(request.limit as usize);

    let offset = match &request.start {
        PageStart::Offset(offset) => *offset,
        PageStart::After(position) => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM buckets b");
            push_filter(&mut qb, project, filter);
            push_position(&mut qb, "<=", position);
            let before: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.map_err(backend)?;
            u64::try_from(before).unwrap_or(0)
        }
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
