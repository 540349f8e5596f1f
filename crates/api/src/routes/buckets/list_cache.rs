//! Rendered list pages, kept per project and query string, and served again while the
//! project's data version is unchanged, with the buckets' live usage spliced in.
//!
//! A listing is a function of the project's bucket data and the query alone (cursors carry no
//! time). The store's [`DataVersion`] changes with every committed change to that data, from
//! this process or any other, apart from usage (`size_bytes`, `object_count`), which object
//! writes change all day. So a page rendered at version `v` holds the right buckets in the
//! right order with the right fields while the version is still `v`, and only its usage may
//! have moved: each hit reads the usage of its buckets (a few point reads, remembered until
//! the next commit on SQLite) and splices it in when it changed ([`PageTemplate`]). Each
//! request reads the version after it started, so the consistency rule of the contract (a
//! change made before a request starts is reflected in it) holds for usage too.
//!
//! A page is stored with the version read *before* it was rendered; should a change land while
//! it renders, the entry is simply stale at once and is rendered again next time. Only
//! successful answers are kept. The cache is bounded by the bytes it holds (keys, bodies and
//! templates) and evicts with quick_cache's S3-FIFO policy.

use super::list_page::PageTemplate;
use bytes::Bytes;
use cloudnexus_core::ProjectId;
use cloudnexus_store::{BucketUsage, DataVersion, StoreStamp};
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use std::sync::Arc;

/// What an entry costs beyond its query and body (key and value structs, table slot).
const ENTRY_OVERHEAD_BYTES: u64 = 128;
/// quick_cache sizes its table from an estimate of the number of entries.
const TYPICAL_PAGE_BYTES: u64 = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    project: ProjectId,
    query: String,
}

/// A borrowed [`PageKey`], so that a lookup allocates nothing. Hashes as `PageKey` does.
#[derive(Hash)]
struct PageKeyRef<'a> {
    project: &'a ProjectId,
    query: &'a str,
}

impl Equivalent<PageKey> for PageKeyRef<'_> {
    fn equivalent(&self, key: &PageKey) -> bool {
        *self.project == key.project && self.query == key.query
    }
}

/// A page as kept: its template, the usage it was last rendered with, that rendering, and the
/// store's stamp when that usage was last known current (if the store names stamps).
#[derive(Debug, Clone)]
pub struct CachedPage {
    version: DataVersion,
    pub template: Arc<PageTemplate>,
    pub usage: Arc<[BucketUsage]>,
    pub body: Bytes,
    pub checked_at: Option<StoreStamp>,
}

impl CachedPage {
    /// Whether nothing has committed since the page's usage was last known current: `now` is
    /// the stamp of a read made after the request started.
    pub fn is_current_at(&self, now: Option<StoreStamp>) -> bool {
        self.checked_at.is_some() && self.checked_at == now
    }
}

/// A page to keep (see [`ListCache::insert`]).
#[derive(Debug)]
pub struct PageToKeep {
    pub template: Arc<PageTemplate>,
    pub usage: Arc<[BucketUsage]>,
    pub body: Bytes,
    pub checked_at: Option<StoreStamp>,
}

#[derive(Debug, Clone)]
struct ByteWeight;

impl Weighter<PageKey, CachedPage> for ByteWeight {
    fn weight(&self, key: &PageKey, page: &CachedPage) -> u64 {
        // The template's pieces are about as long as the body; ids and usage add a little.
        let per_bucket = 48 * page.usage.len();
        (key.query.len() + 2 * page.body.len() + per_bucket) as u64 + ENTRY_OVERHEAD_BYTES
    }
}

/// The cache of rendered list pages. `None` inside when configured with zero bytes.
#[derive(Debug)]
pub struct ListCache {
    pages: Option<Cache<PageKey, CachedPage, ByteWeight>>,
}

impl ListCache {
    /// A cache holding at most `capacity_bytes` of queries and bodies; 0 turns it off.
    pub fn new(capacity_bytes: u64) -> Self {
        let pages = (capacity_bytes > 0).then(|| {
            let estimated_pages = usize::try_from(capacity_bytes / TYPICAL_PAGE_BYTES)
                .unwrap_or(usize::MAX)
                .max(16);
            Cache::with_weighter(estimated_pages, capacity_bytes, ByteWeight)
        });
        Self { pages }
    }

    /// Whether pages are kept at all.
    pub fn is_enabled(&self) -> bool {
        self.pages.is_some()
    }

    /// The page rendered for `query` in `project` at `version`, if it is still held.
    pub fn get(&self, project: &ProjectId, query: &str, version: DataVersion) -> Option<CachedPage> {
        let page = self.pages.as_ref()?.get(&PageKeyRef { project, query })?;
        (page.version == version).then_some(page)
    }

    /// Keeps a page rendered for `query` in `project` from data at `version` or newer.
    pub fn insert(&self, project: &ProjectId, query: &str, version: DataVersion, page: PageToKeep) {
        if let Some(pages) = &self.pages {
            let key = PageKey {
                project: project.clone(),
                query: query.to_owned(),
            };
            let page = CachedPage {
                version,
                template: page.template,
                usage: page.usage,
                body: page.body,
                checked_at: page.checked_at,
            };
            pages.insert(key, page);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::buckets::list::Pagination;
    use crate::routes::buckets::list_page::TemplateWriter;

    fn project(id: &str) -> ProjectId {
        ProjectId::parse(id).unwrap()
    }

    fn empty_page() -> Arc<PageTemplate> {
        let pagination = Pagination {
            total: 0,
            limit: 25,
            offset: 0,
            next_cursor: None,
        };
        Arc::new(TemplateWriter::new(0).finish(&pagination).0)
    }

    fn keep(cache: &ListCache, p: &ProjectId, query: &str, version: i64, body: Bytes) {
        let page = PageToKeep {
            template: empty_page(),
            usage: Arc::new([]),
            body,
            checked_at: None,
        };
        cache.insert(p, query, DataVersion(version), page);
    }

    fn body(cache: &ListCache, p: &ProjectId, query: &str, version: i64) -> Option<Bytes> {
        cache.get(p, query, DataVersion(version)).map(|page| page.body)
    }

    #[test]
    fn a_page_is_served_only_at_the_version_it_was_rendered_at() {
        let cache = ListCache::new(1 << 20);
        let p = project("prj_aaaaaaaaaa");
        keep(&cache, &p, "limit=5", 7, Bytes::from_static(b"seven"));
        assert_eq!(body(&cache, &p, "limit=5", 7).as_deref(), Some(&b"seven"[..]));
        assert_eq!(body(&cache, &p, "limit=5", 8), None);
        assert_eq!(body(&cache, &p, "limit=6", 7), None);
        keep(&cache, &p, "limit=5", 8, Bytes::from_static(b"eight"));
        assert_eq!(body(&cache, &p, "limit=5", 7), None);
        assert_eq!(body(&cache, &p, "limit=5", 8).as_deref(), Some(&b"eight"[..]));
    }

    #[test]
    fn projects_never_share_pages() {
        let cache = ListCache::new(1 << 20);
        let (a, b) = (project("prj_aaaaaaaaaa"), project("prj_bbbbbbbbbb"));
        keep(&cache, &a, "", 1, Bytes::from_static(b"a's buckets"));
        assert_eq!(body(&cache, &b, "", 1), None);
    }

    #[test]
    fn the_cache_holds_no_more_than_its_capacity() {
        let cache = ListCache::new(64 * 1024);
        let p = project("prj_aaaaaaaaaa");
        for i in 0..100 {
            keep(&cache, &p, &format!("offset={i}"), 1, Bytes::from(vec![b'x'; 4096]));
        }
        let pages = cache.pages.as_ref().unwrap();
        assert!(pages.weight() <= 64 * 1024, "holds {} bytes", pages.weight());
        assert!(pages.len() < 100);
        assert!(!pages.is_empty());
    }

    #[test]
    fn zero_capacity_turns_the_cache_off() {
        let cache = ListCache::new(0);
        let p = project("prj_aaaaaaaaaa");
        assert!(!cache.is_enabled());
        keep(&cache, &p, "", 1, Bytes::from_static(b"x"));
        assert_eq!(body(&cache, &p, "", 1), None);
    }
}
