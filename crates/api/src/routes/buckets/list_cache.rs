//! Rendered list pages, kept per project and query string, and served again while the
//! project's data version is unchanged.
//!
//! A listing is a function of the project's bucket data and the query alone (cursors carry no
//! time), and the store's [`DataVersion`] changes with every committed change to that data, from
//! this process or any other. So a page rendered at version `v` is exactly what the query would
//! return again while the version is still `v`, and the consistency rule of the contract (a
//! change made before a request starts is reflected in it) holds: each request reads the
//! version after it started and uses a page only when it was rendered at that version.
//!
//! A page is stored with the version read *before* it was rendered; should a change land while
//! it renders, the entry is simply stale at once and is rendered again next time. Only
//! successful answers are kept. The cache is bounded by the bytes it holds (keys and bodies)
//! and evicts with quick_cache's S3-FIFO policy.

use bytes::Bytes;
use cloudnexus_core::ProjectId;
use cloudnexus_store::DataVersion;
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

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

#[derive(Debug, Clone)]
struct CachedPage {
    version: DataVersion,
    body: Bytes,
}

#[derive(Debug, Clone)]
struct ByteWeight;

impl Weighter<PageKey, CachedPage> for ByteWeight {
    fn weight(&self, key: &PageKey, page: &CachedPage) -> u64 {
        (key.query.len() + page.body.len()) as u64 + ENTRY_OVERHEAD_BYTES
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

    /// The body rendered for `query` in `project` at `version`, if it is still held.
    pub fn get(&self, project: &ProjectId, query: &str, version: DataVersion) -> Option<Bytes> {
        let page = self.pages.as_ref()?.get(&PageKeyRef { project, query })?;
        (page.version == version).then_some(page.body)
    }

    /// Keeps `body`, rendered for `query` in `project` from data at `version` or newer.
    pub fn insert(&self, project: &ProjectId, query: &str, version: DataVersion, body: Bytes) {
        if let Some(pages) = &self.pages {
            let key = PageKey {
                project: project.clone(),
                query: query.to_owned(),
            };
            pages.insert(key, CachedPage { version, body });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str) -> ProjectId {
        ProjectId::parse(id).unwrap()
    }

    #[test]
    fn a_page_is_served_only_at_the_version_it_was_rendered_at() {
        let cache = ListCache::new(1 << 20);
        let p = project("prj_aaaaaaaaaa");
        cache.insert(&p, "limit=5", DataVersion(7), Bytes::from_static(b"seven"));
        assert_eq!(cache.get(&p, "limit=5", DataVersion(7)).as_deref(), Some(&b"seven"[..]));
        assert_eq!(cache.get(&p, "limit=5", DataVersion(8)), None);
        assert_eq!(cache.get(&p, "limit=6", DataVersion(7)), None);
        cache.insert(&p, "limit=5", DataVersion(8), Bytes::from_static(b"eight"));
        assert_eq!(cache.get(&p, "limit=5", DataVersion(7)), None);
        assert_eq!(cache.get(&p, "limit=5", DataVersion(8)).as_deref(), Some(&b"eight"[..]));
    }

    #[test]
    fn projects_never_share_pages() {
        let cache = ListCache::new(1 << 20);
        let (a, b) = (project("prj_aaaaaaaaaa"), project("prj_bbbbbbbbbb"));
        cache.insert(&a, "", DataVersion(1), Bytes::from_static(b"a's buckets"));
        assert_eq!(cache.get(&b, "", DataVersion(1)), None);
    }

    #[test]
    fn the_cache_holds_no_more_than_its_capacity() {
        let cache = ListCache::new(64 * 1024);
        let p = project("prj_aaaaaaaaaa");
        for i in 0..100 {
            cache.insert(
                &p,
                &format!("offset={i}"),
                DataVersion(1),
                Bytes::from(vec![b'x'; 4096]),
            );
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
        cache.insert(&p, "", DataVersion(1), Bytes::from_static(b"x"));
        assert_eq!(cache.get(&p, "", DataVersion(1)), None);
    }
}
