//! One page of a project's buckets in `created_at, id` order, with `total` and `offset`, all
//! read in one snapshot: which reads answer each filter shape (docs/architecture.md has the
//! table), the same on every backend. A backend supplies the reads ([`ListingReads`]) in its
//! own SQL, inside one read transaction (or one statement).
//!
//! - **Driver.** With a tag filter, the page walks the tag rows of the first tag in listing
//!   order and joins the bucket only for rows that pass; otherwise it walks the buckets in
//!   listing order (overall, or by region). A prefix alone walks the listing order and checks
//!   names, unless few names match the prefix, in which case it reads exactly those by name
//!   and sorts them.
//! - **Total.** From the counts of the filter's dimension when it has one (none, a region, or
//!   one tag); otherwise a count over the driver's range.
//! - **Offset of a cursor page.** For one dimension: the per-day counts before the cursor's
//!   day plus a count within that day; otherwise a count up to the cursor.
//! - **Deep offsets.** For one dimension, the per-day counts find the day holding the offset,
//!   and the page skips only within that day.
//! - **One statement.** A page of one dimension at an offset below the day seek's needs only
//!   the total and the page, which the backends read in one statement (the total as a column),
//!   so without a transaction; an empty page has no row to carry the total, and is read again
//!   the usual way.

use super::counts::{self, PrefixCount};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use cloudnexus_core::bucket_json::RenderedBucketRef;
use cloudnexus_core::listing::{BucketFilter, BucketPage, ListRequest, ListedBucket, PageStart, PageSummary, Position};
use cloudnexus_core::{Bucket, BucketIdRef, ProjectId, TagFilter, Timestamp};

/// Up to this many prefix matches, a prefix-only page reads exactly the matches by name and
/// sorts them; above it, it walks the listing order and checks names.
pub(crate) const PREFIX_SORT_LIMIT: u64 = 2_000;
/// From this offset on, a single-dimension offset page seeks its day before skipping.
const SEEK_FROM_OFFSET: u64 = 1_000;

/// The smallest string greater than every bucket name that starts with `prefix`: bucket names
/// hold only `a-z 0-9 . -`, all of which sort below `{`.
pub(crate) fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}{{")
}

/// Which rows a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver<'a> {
    /// The buckets in listing order (overall, or by region when the filter has one).
    Buckets,
    /// The buckets by name: every prefix match, then sorted.
    BucketsByName,
    /// The tag rows of this tag, in listing order.
    Tag(&'a TagFilter),
}

/// How one list request is read: whose buckets, which filter, driven by which rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan<'a> {
    pub project: &'a ProjectId,
    pub filter: &'a BucketFilter,
    pub driver: Driver<'a>,
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
    pub(crate) fn for_filter(project: &'a ProjectId, filter: &'a BucketFilter) -> Self {
        let driver = filter.tags.first().map_or(Driver::Buckets, Driver::Tag);
        Self::new(project, filter, driver)
    }

    /// Tag filters other than the driving one, checked on each row.
    pub(crate) fn other_tags(&self) -> &'a [TagFilter] {
        match self.driver {
            Driver::Tag(_) => &self.filter.tags[1..],
            _ => &self.filter.tags,
        }
    }

    /// Whether only a prefix filters (no region, no tag).
    pub(crate) fn is_prefix_only(&self) -> bool {
        let f = self.filter;
        f.prefix.is_some() && f.region.is_none() && f.tags.is_empty()
    }
}

/// Where a page query starts and how much of it to read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageBounds<'a> {
    /// Only rows after this position.
    pub after: Option<&'a Position>,
    /// Only rows created on this day (`created_at / 86400`) or later.
    pub from_day: Option<i64>,
    /// Rows to return, at most.
    pub limit: u32,
    /// Rows to skip first.
    pub skip: u64,
}

/// The reads of one listing, made by a backend inside one snapshot.
#[async_trait]
pub(crate) trait ListingReads: Send {
    /// The buckets counted in `dimension` (live ones, or all with `include_deleted`).
    async fn dimension_total(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<u64>;
    /// The buckets counted in the prefix counts `count` (live ones, or all with
    /// `include_deleted`).
    async fn prefix_total(
        &mut self,
        project: &ProjectId,
        count: &PrefixCount,
        include_deleted: bool,
    ) -> StoreResult<u64>;
    /// Like `dimension_total`, for buckets created on days before `day`.
    async fn dimension_before_day(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
        day: i64,
    ) -> StoreResult<u64>;
    /// The per-day counts of `dimension` in day order: `(day, buckets)`.
    async fn dimension_days(
        &mut self,
        project: &ProjectId,
        dimension: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<(i64, u64)>>;
    /// The matches of `plan`, optionally only those created from `from_day` on and up to and
    /// including `upto`.
    async fn count(&mut self, plan: &Plan<'_>, upto: Option<&Position>, from_day: Option<i64>) -> StoreResult<u64>;
    /// The matches of `plan` within `bounds`, in listing order, each handed to `sink` as its
    /// row is read.
    async fn page(&mut self, plan: &Plan<'_>, bounds: PageBounds<'_>, sink: &mut dyn PageSink) -> StoreResult<()>;
    /// A listing's first read, for a shallow offset page of one dimension: its page as `page`
    /// reads it and the total of `dimension`, read together in one statement where the backend
    /// can (a statement reads one snapshot, so no transaction is needed). `None` when it did
    /// not read them, with no bucket handed to `sink`: the listing then makes the two reads.
    async fn page_with_dimension_total(
        &mut self,
        _dimension: &str,
        _plan: &Plan<'_>,
        _bounds: PageBounds<'_>,
        _sink: &mut dyn PageSink,
    ) -> StoreResult<Option<u64>> {
        Ok(None)
    }
}

/// Receives a page's buckets in order, each as the store reads it from its row
/// ([`MetadataStore::list_buckets_into`](super::MetadataStore::list_buckets_into)): a protocol
/// can write its answer from the rows without building a [`Bucket`] for each.
pub trait PageSink: Send {
    /// Takes the next bucket of the page. An `Err` ends the listing with that error, and so
    /// does any failure of the store after some buckets were pushed: a sink's output is only
    /// a page once the listing has returned `Ok`.
    fn push(&mut self, bucket: ListedBucket<'_>) -> StoreResult<()>;

    /// Whether this sink also takes buckets as the JSON their rows keep for list pages
    /// ([`PageSink::push_rendered`]): a sink that writes a list page's JSON does. Only a backend
    /// whose rows keep that JSON (SQLite) hands buckets so; every other row comes through
    /// [`PageSink::push`].
    fn takes_rendered(&self) -> bool {
        false
    }

    /// Takes the next bucket as the JSON its row keeps; called only on a sink that
    /// [takes rendered buckets](PageSink::takes_rendered).
    fn push_rendered(&mut self, bucket: RenderedBucketRef<'_>) -> StoreResult<()> {
        Err(StoreError::other(format!(
            "a page sink that takes no rendered buckets was handed bucket {}",
            bucket.id.as_str()
        )))
    }
}

/// A sink that keeps a page's buckets as domain values, their names checked.
#[derive(Debug)]
pub struct BucketCollector<'p> {
    project: &'p ProjectId,
    buckets: Vec<Bucket>,
}

impl<'p> BucketCollector<'p> {
    /// Collects the buckets of a page of `project`.
    pub fn new(project: &'p ProjectId) -> Self {
        Self {
            project,
            buckets: Vec::new(),
        }
    }

    /// The page of the buckets collected and `summary`.
    pub fn into_page(self, summary: PageSummary) -> BucketPage {
        BucketPage {
            buckets: self.buckets,
            total: summary.total,
            offset: summary.offset,
            next: summary.next,
        }
    }
}

impl PageSink for BucketCollector<'_> {
    fn push(&mut self, bucket: ListedBucket<'_>) -> StoreResult<()> {
        let bucket = bucket
            .into_bucket(self.project)
            .map_err(|e| StoreError::other(format!("stored {e}")))?;
        self.buckets.push(bucket);
        Ok(())
    }
}

/// The sink of a page read one bucket past its limit: passes the first `limit` buckets on,
/// remembers where the last of them is, and notes whether there was one more.
struct UpToLimit<'s> {
    sink: &'s mut dyn PageSink,
    limit: usize,
    passed: usize,
    has_more: bool,
    /// Where the last bucket passed on is (its id's buffer reused for every bucket).
    last: Option<Position>,
}

impl UpToLimit<'_> {
    /// Whether a bucket at (`created_at`, `id`) is one to pass on; notes its position if so.
    fn admits(&mut self, created_at: Timestamp, id: BucketIdRef<'_>) -> bool {
        if self.passed == self.limit {
            self.has_more = true;
            return false;
        }
        self.passed += 1;
        match &mut self.last {
            Some(last) => {
                last.created_at = created_at;
                last.id.assign(id);
            }
            None => {
                self.last = Some(Position {
                    created_at,
                    id: id.to_id(),
                })
            }
        }
        true
    }
}

impl PageSink for UpToLimit<'_> {
    fn push(&mut self, bucket: ListedBucket<'_>) -> StoreResult<()> {
        if !self.admits(bucket.created_at, bucket.id) {
            return Ok(());
        }
        self.sink.push(bucket)
    }

    fn takes_rendered(&self) -> bool {
        self.sink.takes_rendered()
    }

    fn push_rendered(&mut self, bucket: RenderedBucketRef<'_>) -> StoreResult<()> {
        if !self.admits(bucket.created_at, bucket.id) {
            return Ok(());
        }
        self.sink.push_rendered(bucket)
    }
}

impl<'s> UpToLimit<'s> {
    /// Passes on up to `limit` buckets to `sink`.
    fn new(sink: &'s mut dyn PageSink, limit: u32) -> Self {
        Self {
            sink,
            limit: limit as usize,
            passed: 0,
            has_more: false,
            last: None,
        }
    }

    /// Where the page after this one starts; `None` when this is the last.
    fn next(self) -> Option<Position> {
        self.last.filter(|_| self.has_more)
    }
}

/// Reads one page of `request` through `reads`, handing its buckets to `sink`.
pub(crate) async fn list(
    reads: &mut dyn ListingReads,
    project: &ProjectId,
    request: &ListRequest,
    sink: &mut dyn PageSink,
) -> StoreResult<PageSummary> {
    let filter = &request.filter;
    let deleted = filter.include_deleted;
    let dimension = counts::dimension_for(filter);
    let mut plan = Plan::for_filter(project, filter);

    // A shallow offset page of one dimension needs only the dimension's total and the page.
    if let (Some(dim), PageStart::Offset(offset)) = (&dimension, &request.start)
        && *offset < SEEK_FROM_OFFSET
    {
        let bounds = PageBounds {
            after: None,
            from_day: None,
            limit: request.limit + 1,
            skip: *offset,
        };
        let mut page = UpToLimit::new(sink, request.limit);
        let total = match reads.page_with_dimension_total(dim, &plan, bounds, &mut page).await? {
            Some(total) => total,
            None => {
                let total = reads.dimension_total(project, dim, deleted).await?;
                reads.page(&plan, bounds, &mut page).await?;
                total
            }
        };
        return Ok(PageSummary {
            total,
            offset: *offset,
            next: page.next(),
        });
    }

    // A prefix alone is counted through the name order, which covers the listing order too.
    let count_plan = if plan.is_prefix_only() {
        Plan::new(project, filter, Driver::BucketsByName)
    } else {
        plan
    };
    let total = match (&dimension, counts::prefix_count_for(filter)) {
        (Some(dim), _) => reads.dimension_total(project, dim, deleted).await?,
        (None, Some(prefix_count)) => reads.prefix_total(project, &prefix_count, deleted).await?,
        (None, None) => reads.count(&count_plan, None, None).await?,
    };
    if plan.is_prefix_only() && total <= PREFIX_SORT_LIMIT {
        plan = count_plan;
    }

    // Where the page starts: after a position, or at an offset (seeking its day when deep).
    let (after, from_day, skip) = match &request.start {
        PageStart::After(position) => (Some(position), None, 0),
        PageStart::Offset(offset) => match &dimension {
            Some(dim) if *offset >= SEEK_FROM_OFFSET => {
                let days = reads.dimension_days(project, dim, deleted).await?;
                match counts::seek_day(&days, *offset) {
                    Some((day, before)) => (None, Some(day), offset - before),
                    None => (None, None, *offset),
                }
            }
            _ => (None, None, *offset),
        },
    };
    let bounds = PageBounds {
        after,
        from_day,
        limit: request.limit + 1,
        skip,
    };
    let mut page = UpToLimit::new(sink, request.limit);
    reads.page(&plan, bounds, &mut page).await?;
    let next = page.next();

    let offset = match (&request.start, after) {
        (PageStart::Offset(offset), _) => *offset,
        (PageStart::After(_), Some(position)) => match &dimension {
            Some(dim) => {
                let day = counts::day_of(position.created_at);
                reads.dimension_before_day(project, dim, deleted, day).await?
                    + reads.count(&plan, Some(position), Some(day)).await?
            }
            None => reads.count(&count_plan, Some(position), None).await?,
        },
        (PageStart::After(_), None) => 0,
    };
    Ok(PageSummary { total, offset, next })
}
