//! The listing against an in-memory model, on enough buckets (3,000 over 40 days) to take every
//! path: counter totals, day seeks for deep offsets, day-count offsets on cursor pages, and
//! both prefix plans (few and many matches).

use super::{at, new_bucket, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::listing::{BucketFilter, ListRequest, PageStart, Position};
use cloudnexus_core::{
    BucketId, BucketName, ProjectId, ProjectName, RegionSet, StorageClass, TagFilter, Tags, Timestamp,
};
use cloudnexus_store::{MetadataStore, NewBucket};
use std::collections::HashSet;

#[derive(Debug, Clone)]
struct Model {
    id: BucketId,
    name: String,
    region: String,
    tags: Vec<(String, String)>,
    created_at: Timestamp,
    deleted: bool,
}

impl Model {
    fn matches(&self, f: &BucketFilter) -> bool {
        (f.include_deleted || !self.deleted)
            && f.prefix.as_deref().is_none_or(|p| self.name.starts_with(p))
            && f.region.as_ref().is_none_or(|r| r.as_str() == self.region)
            && f.tags.iter().all(|t| {
                self.tags
                    .iter()
                    .any(|(k, v)| k == t.key.as_str() && t.value.as_ref().is_none_or(|want| want.as_str() == v))
            })
    }
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn seed(store: &dyn MetadataStore, project: &ProjectId) -> Vec<Model> {
    let regions = RegionSet::default();
    let region_names = ["us-east-1", "us-west-2", "eu-west-2"];
    let mut rng = Lcg(42);
    let mut t = 1_700_000_000i64;
    let mut models = Vec::new();
    let mut news = Vec::new();
    for i in 0..3000 {
        // About 75 buckets a day over 40 days, with many in the same second.
        if rng.next(3) == 0 {
            t += rng.next(3_500) as i64;
        }
        let name = if i % 10 == 0 {
            format!("beta-{i:04}")
        } else {
            format!("alpha-{i:04}")
        };
        let region = region_names[rng.next(3) as usize];
        let mut tags = vec![("env".to_owned(), ["prod", "dev"][rng.next(2) as usize].to_owned())];
        if rng.next(3) == 0 {
            tags.push(("team".to_owned(), "data".to_owned()));
        }
        let m = Model {
            id: BucketId::generate(),
            name,
            region: region.into(),
            tags,
            created_at: Timestamp::from_unix_seconds(t),
            deleted: false,
        };
        news.push(NewBucket {
            id: m.id.clone(),
            project_id: project.clone(),
            name: BucketName::parse(&m.name).unwrap(),
            region: regions.parse(region).unwrap(),
            storage_class: StorageClass::Standard,
            public: false,
            tags: Tags::parse(m.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap(),
            created_at: m.created_at,
        });
        models.push(m);
    }
    store.create_buckets(news).await.unwrap();
    // Soft-delete one bucket in 25.
    let now = Timestamp::from_unix_seconds(t + 1);
    for m in models.iter_mut().step_by(25) {
        store
            .soft_delete_bucket(project, &m.id, now, now.plus_seconds(3600))
            .await
            .unwrap();
        m.deleted = true;
    }
    models.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    models
}

fn ids(page: &[cloudnexus_core::Bucket]) -> Vec<&str> {
    page.iter().map(|b| b.id.as_str()).collect()
}

pub async fn pages_totals_and_offsets_match_the_model_on_every_path(f: MetadataFixture) {
    let store = f.store.as_ref();
    let now = Timestamp::from_unix_seconds(1_700_000_000);
    let project = store
        .create_project(ProjectId::generate(), ProjectName::parse("model").unwrap(), now)
        .await
        .unwrap();
    let models = seed(store, &project.id).await;
    assert!(
        models.iter().filter(|m| m.name.starts_with("alpha")).count() > 2_000,
        "the many-matches prefix plan is taken"
    );

    let regions = RegionSet::default();
    let tag = |s: &str| TagFilter::parse(s).unwrap();
    let filters = vec![
        BucketFilter::new(None, None, vec![], false),
        BucketFilter::new(None, None, vec![], true),
        BucketFilter::new(None, Some(regions.parse("eu-west-2").unwrap()), vec![], false),
        BucketFilter::new(None, None, vec![tag("team")], false),
        BucketFilter::new(None, None, vec![tag("env:prod")], true),
        BucketFilter::new(Some("alpha-".into()), None, vec![], false),
        BucketFilter::new(Some("beta-".into()), None, vec![], true),
        BucketFilter::new(
            Some("alpha-1".into()),
            Some(regions.parse("us-east-1").unwrap()),
            vec![tag("env:dev")],
            false,
        ),
        // Prefixes at each level of the counts by prefix, and one longer than the last.
        BucketFilter::new(
            Some("a".into()),
            Some(regions.parse("us-west-2").unwrap()),
            vec![],
            true,
        ),
        BucketFilter::new(Some("alpha-2".into()), None, vec![tag("team")], false),
        BucketFilter::new(Some("beta-00".into()), None, vec![tag("env:prod")], true),
        BucketFilter::new(
            Some("alpha-0".into()),
            Some(regions.parse("eu-west-2").unwrap()),
            vec![tag("team")],
            true,
        ),
        BucketFilter::new(Some("alpha-2999-and-more".into()), None, vec![], true),
    ];
    for filter in &filters {
        let expected: Vec<&Model> = models.iter().filter(|m| m.matches(filter)).collect();
        let total = expected.len() as u64;
        let list = |start: PageStart, limit: u32| {
            let request = ListRequest {
                filter: filter.clone(),
                limit,
                start,
            };
            let project = &project.id;
            async move { store.list_buckets(project, &request).await.unwrap() }
        };

        // Offset pages, shallow and deep (deep ones seek their day), and past the end.
        for offset in [
            0,
            1,
            999,
            1000,
            1001,
            1234,
            2500,
            total.saturating_sub(3),
            total,
            total + 10,
        ] {
            let page = list(PageStart::Offset(offset), 50).await;
            let want: Vec<&str> = expected
                .iter()
                .skip(offset as usize)
                .take(50)
                .map(|m| m.id.as_str())
                .collect();
            assert_eq!(ids(&page.buckets), want, "offset {offset} of {filter:?}");
            assert_eq!(page.total, total, "total of {filter:?}");
            assert_eq!(page.offset, offset);
            assert_eq!(
                page.next.is_some(),
                (offset + 50) < total,
                "next at offset {offset} of {filter:?}"
            );
        }

        // A whole walk by cursor, checking each page's offset.
        let mut start = PageStart::Offset(0);
        let mut seen = 0usize;
        loop {
            let page = list(start, 100).await;
            assert_eq!(page.offset as usize, seen, "cursor offset of {filter:?}");
            let want: Vec<&str> = expected.iter().skip(seen).take(100).map(|m| m.id.as_str()).collect();
            assert_eq!(ids(&page.buckets), want, "walk of {filter:?}");
            seen += page.buckets.len();
            match page.next {
                Some(p) => start = PageStart::After(p),
                None => break,
            }
        }
        assert_eq!(seen as u64, total);

        // A cursor whose bucket has since gone still counts what comes before it.
        if let Some(m) = expected.get(expected.len() / 2) {
            let page = list(
                PageStart::After(Position {
                    created_at: m.created_at,
                    id: m.id.clone(),
                }),
                10,
            )
            .await;
            assert_eq!(
                page.offset as usize,
                expected.len() / 2 + 1,
                "offset after the middle of {filter:?}"
            );
        }
    }
}

/// Walks every page by cursor while buckets are created and deleted between pages: no bucket
/// comes twice, and every bucket alive for the whole walk comes once.
pub async fn a_cursor_walk_under_churn_never_repeats_or_skips(f: MetadataFixture) {
    let store = f.store.as_ref();
    let project = project(store, "churn").await;
    let mut stable = Vec::new();
    for i in 0..120 {
        let mut b = new_bucket(&project, &format!("stable-{i:03}"));
        // Several buckets share each second, so the id breaks ties.
        b.created_at = at(i / 4);
        stable.push(store.create_bucket(b).await.unwrap());
    }
    let doomed: Vec<_> = stable.iter().skip(1).step_by(7).map(|b| b.id.clone()).collect();
    let mut seen: Vec<BucketId> = Vec::new();
    let mut start = PageStart::Offset(0);
    let mut page_number = 0;
    loop {
        let request = ListRequest {
            filter: BucketFilter::default(),
            limit: 9,
            start: start.clone(),
        };
        let page = store.list_buckets(&project, &request).await.unwrap();
        seen.extend(page.buckets.iter().map(|b| b.id.clone()));
        // Between pages: new buckets before and after the cursor, and deletions.
        page_number += 1;
        for (j, when) in [(0, at(0)), (1, at(15)), (2, at(100))] {
            let mut b = new_bucket(&project, &format!("churn-{page_number:02}-{j}"));
            b.created_at = when;
            store.create_bucket(b).await.unwrap();
        }
        if let Some(id) = doomed.get(page_number) {
            store.soft_delete_bucket(&project, id, at(200), at(900)).await.unwrap();
        }
        match page.next {
            Some(p) => start = PageStart::After(p),
            None => break,
        }
    }
    let unique: HashSet<&BucketId> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a bucket came twice");
    let deleted: HashSet<&BucketId> = doomed.iter().collect();
    for b in stable.iter().filter(|b| !deleted.contains(&b.id)) {
        assert!(unique.contains(&b.id), "{} was skipped", b.name.as_str());
    }
}

/// A shallow offset page of one dimension with no bucket on it (an empty project, a region or
/// tag without buckets, an offset past the end) still answers the dimension's total, live or
/// with the deleted.
pub async fn an_empty_page_still_has_its_dimensions_total(f: MetadataFixture) {
    let store = f.store.as_ref();
    let project = project(store, "empty-pages").await;
    let regions = RegionSet::default();
    let everything = |include_deleted| BucketFilter::new(None, None, vec![], include_deleted);
    let in_region = |region: &str| BucketFilter::new(None, Some(regions.parse(region).unwrap()), vec![], false);
    let tagged = |tag: &str| BucketFilter::new(None, None, vec![TagFilter::parse(tag).unwrap()], false);
    let list = |filter: BucketFilter, offset: u64| {
        let request = ListRequest {
            filter,
            limit: 20,
            start: PageStart::Offset(offset),
        };
        let project = &project;
        async move { store.list_buckets(project, &request).await.unwrap() }
    };

    let page = list(everything(false), 0).await;
    assert_eq!(
        (page.buckets.len(), page.total, page.next),
        (0, 0, None),
        "an empty project"
    );

    for i in 0..3 {
        let mut b = new_bucket(&project, &format!("kept-{i}"));
        b.tags = Tags::parse([("env", "prod")]).unwrap();
        b.created_at = at(i);
        store.create_bucket(b).await.unwrap();
    }
    let gone = store.create_bucket(new_bucket(&project, "gone")).await.unwrap();
    store
        .soft_delete_bucket(&project, &gone.id, at(10), at(3600))
        .await
        .unwrap();

    let cases = [
        (everything(false), 3),
        (everything(true), 4),
        (in_region("us-east-1"), 3),
        (in_region("eu-west-2"), 0),
        (tagged("env"), 3),
        (tagged("env:prod"), 3),
        (tagged("env:dev"), 0),
    ];
    for (filter, total) in cases {
        let page = list(filter.clone(), 0).await;
        assert_eq!((page.buckets.len() as u64, page.total), (total, total), "{filter:?}");
        for offset in [total, total + 1, 999] {
            let page = list(filter.clone(), offset).await;
            assert!(page.buckets.is_empty(), "offset {offset} of {filter:?}");
            assert_eq!(
                (page.total, page.offset, page.next),
                (total, offset, None),
                "offset {offset} of {filter:?}"
            );
        }
    }
}
