//! Pages of a project's buckets in `created_at, id` order, with signed cursors, and what a
//! protocol needs to reuse a page it rendered before: the project's data version (which moves
//! with every change to the buckets listed, apart from usage) and the buckets' live usage.

use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::BucketId;
use cloudnexus_core::listing::{BucketFilter, BucketPage, ListRequest, PageStart, PageSummary};
use cloudnexus_store::{BucketCollector, BucketUsage, DataVersion, PageSink};

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Skip this many matching buckets.
    Offset(u64),
    /// The `next_cursor` of an earlier page, as the caller presented it.
    Cursor(String),
}

/// One request for a page of buckets, its parameters parsed and valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketQuery {
    pub filter: BucketFilter,
    /// 1 to 100.
    pub limit: u32,
    pub start: Start,
}

/// A page of buckets, with the cursor of the next one.
#[derive(Debug, Clone)]
pub struct BucketListing {
    pub page: BucketPage,
    pub limit: u32,
    /// Pass as the cursor of the next request; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What a page says about itself besides its buckets, with the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingSummary {
    pub page: PageSummary,
    pub limit: u32,
    /// Pass as the cursor of the next request; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl Service {
    /// A page of the caller's buckets (`storage:read`). A cursor must come from a page of the
    /// same project with the same filters.
    pub async fn list_buckets(&self, principal: &Principal, query: BucketQuery) -> Result<BucketListing, ServiceError> {
        let mut buckets = BucketCollector::new(&principal.project_id);
        let summary = self.list_buckets_into(principal, query, &mut buckets).await?;
        Ok(BucketListing {
            page: buckets.into_page(summary.page),
            limit: summary.limit,
            next_cursor: summary.next_cursor,
        })
    }

    /// The same page, each bucket handed to `sink` as the store reads it (a protocol writes
    /// its answer from them without building a `Bucket` for each).
    pub async fn list_buckets_into(
        &self,
        principal: &Principal,
        query: BucketQuery,
        sink: &mut dyn PageSink,
    ) -> Result<ListingSummary, ServiceError> {
        principal.authorize(Operation::ListBuckets)?;
        let project = &principal.project_id;
        let cursor_key = &self.0.cursor_key;
        let start = match &query.start {
            Start::Offset(n) => PageStart::Offset(*n),
            Start::Cursor(cursor) => PageStart::After(
                cursor_key
                    .decode(cursor, project, &query.filter)
                    .map_err(|e| ServiceError::InvalidCursor(e.to_string()))?,
            ),
        };
        let request = ListRequest {
            filter: query.filter,
            limit: query.limit,
            start,
        };
        let page = self.store().list_buckets_into(project, &request, sink).await?;
        let next_cursor = page
            .next
            .as_ref()
            .map(|p| cursor_key.encode(project, &request.filter, p));
        Ok(ListingSummary {
            page,
            limit: request.limit,
            next_cursor,
        })
    }

    /// The version of the caller's bucket listings now (`storage:read`): a page rendered at
    /// this version shows the right buckets in the right order with the right fields, all but
    /// their usage. Read after the request started (with the credential, when it was an API
    /// key), so a change committed before the request is always reflected.
    pub async fn listing_version(&self, principal: &Principal) -> Result<DataVersion, ServiceError> {
        principal.authorize(Operation::ListBuckets)?;
        match principal.data_version {
            Some(version) => Ok(version),
            None => Ok(self.store().data_version(&principal.project_id).await?),
        }
    }

    /// The live usage of buckets of the caller's project, in order (`storage:read`); `None`
    /// for one that no longer exists.
    pub async fn bucket_usage(
        &self,
        principal: &Principal,
        buckets: &[BucketId],
    ) -> Result<Vec<Option<BucketUsage>>, ServiceError> {
        principal.authorize(Operation::ListBuckets)?;
        Ok(self.store().bucket_usage(&principal.project_id, buckets).await?)
    }
}
