//! The bucket lifecycle as the store keeps it: global names, all-or-nothing bulk creates,
//! tenancy, the refusals of each change, exact counts under patches, and the purge.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::listing::{BucketFilter, ListRequest, PageStart};
use cloudnexus_core::{BucketName, BucketRef, RegionSet, TagFilter, Tags};
use cloudnexus_store::{BucketPatch, MetadataStore, PutConditions, StoreError};

async fn total(store: &dyn MetadataStore, project: &cloudnexus_core::ProjectId, filter: BucketFilter) -> u64 {
    let request = ListRequest {
        filter,
        limit: 100,
        start: PageStart::Offset(0),
    };
    store.list_buckets(project, &request).await.unwrap().total
}

fn tag(s: &str) -> BucketFilter {
    BucketFilter::new(None, None, vec![TagFilter::parse(s).unwrap()], false)
}

/// A name prefix, with a region and a tag when given, live buckets only or all of them.
fn scoped(prefix: &str, region: Option<&str>, tag: Option<&str>, include_deleted: bool) -> BucketFilter {
    BucketFilter::new(
        Some(prefix.to_owned()),
        region.map(|r| RegionSet::default().parse(r).unwrap()),
        tag.map(|t| TagFilter::parse(t).unwrap()).into_iter().collect(),
        include_deleted,
    )
}

pub async fn names_are_unique_across_projects_and_bulk_creates_are_all_or_nothing(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "names-a").await;
    let theirs = project(store, "names-b").await;
    store.create_bucket(new_bucket(&mine, "shared-name")).await.unwrap();
    assert!(matches!(
        store.create_bucket(new_bucket(&theirs, "shared-name")).await,
        Err(StoreError::BucketNameTaken)
    ));
    // A bulk create holding one taken name keeps none of its buckets.
    let batch = vec![new_bucket(&theirs, "fresh-1"), new_bucket(&theirs, "shared-name")];
    assert!(matches!(
        store.create_buckets(batch).await,
        Err(StoreError::BucketNameTaken)
    ));
    let twice = vec![new_bucket(&theirs, "fresh-2"), new_bucket(&theirs, "fresh-2")];
    assert!(matches!(
        store.create_buckets(twice).await,
        Err(StoreError::BucketNameTaken)
    ));
    assert_eq!(total(store, &theirs, BucketFilter::default()).await, 0);
    for name in ["fresh-1", "fresh-2"] {
        let name = BucketRef::Name(BucketName::parse(name).unwrap());
        assert_eq!(store.get_bucket(&theirs, &name).await.unwrap(), None);
    }
    // A soft-deleted bucket keeps its name.
    let kept = store.create_bucket(new_bucket(&mine, "kept-name")).await.unwrap();
    store.soft_delete_bucket(&mine, &kept.id, at(1), at(100)).await.unwrap();
    assert!(matches!(
        store.create_bucket(new_bucket(&theirs, "kept-name")).await,
        Err(StoreError::BucketNameTaken)
    ));
}

pub async fn another_projects_bucket_is_not_found(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "tenant-a").await;
    let theirs = project(store, "tenant-b").await;
    let bucket = store.create_bucket(new_bucket(&mine, "private-one")).await.unwrap();
    let by_id = BucketRef::Id(bucket.id.clone());
    let by_name = BucketRef::Name(bucket.name.clone());
    assert_eq!(store.get_bucket(&theirs, &by_id).await.unwrap(), None);
    assert_eq!(store.get_bucket(&theirs, &by_name).await.unwrap(), None);
    assert_eq!(store.get_bucket(&mine, &by_name).await.unwrap().unwrap().id, bucket.id);
    assert_eq!(
        store.get_bucket_any_project(&by_name).await.unwrap().unwrap().id,
        bucket.id
    );
    let patch = BucketPatch {
        public: Some(true),
        ..Default::default()
    };
    assert!(matches!(
        store.update_bucket(&theirs, &bucket.id, patch, at(1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.soft_delete_bucket(&theirs, &bucket.id, at(1), at(9)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.restore_bucket(&theirs, &bucket.id, at(1)).await,
        Err(StoreError::NotFound)
    ));
    let none = PutConditions::default();
    assert!(matches!(
        store.put_object(&theirs, object(&bucket.id, "k", 1), &none).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(total(store, &theirs, BucketFilter::default()).await, 0);
    // Nothing changed.
    let unchanged = store.get_bucket(&mine, &by_id).await.unwrap().unwrap();
    assert!(!unchanged.public && !unchanged.is_deleted() && unchanged.object_count == 0);
}

pub async fn the_lifecycle_refuses_what_does_not_apply(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "lifecycle").await;
    let bucket = store.create_bucket(new_bucket(&mine, "life")).await.unwrap();
    assert!(matches!(
        store.restore_bucket(&mine, &bucket.id, at(1)).await,
        Err(StoreError::BucketNotDeleted)
    ));
    let deleted = store
        .soft_delete_bucket(&mine, &bucket.id, at(1), at(50))
        .await
        .unwrap();
    assert_eq!((deleted.deleted_at, deleted.purge_at), (Some(at(1)), Some(at(50))));
    assert!(matches!(
        store.soft_delete_bucket(&mine, &bucket.id, at(2), at(60)).await,
        Err(StoreError::BucketDeleted)
    ));
    assert!(matches!(
        store
            .update_bucket(&mine, &bucket.id, BucketPatch::default(), at(2))
            .await,
        Err(StoreError::BucketDeleted)
    ));
    let none = PutConditions::default();
    assert!(matches!(
        store.put_object(&mine, object(&bucket.id, "k", 1), &none).await,
        Err(StoreError::BucketDeleted)
    ));
    let restored = store.restore_bucket(&mine, &bucket.id, at(3)).await.unwrap();
    assert_eq!((restored.deleted_at, restored.purge_at), (None, None));
    let read = store
        .get_bucket(&mine, &BucketRef::Id(bucket.id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, restored);
}

pub async fn patches_replace_tags_and_keep_counts_exact(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "patches").await;
    let mut tagged = new_bucket(&mine, "tagged");
    tagged.tags = Tags::parse([("env", "prod"), ("team", "a")]).unwrap();
    let bucket = store.create_bucket(tagged).await.unwrap();
    let mut other = new_bucket(&mine, "other");
    other.region = RegionSet::default().parse("eu-west-2").unwrap();
    other.tags = Tags::parse([("env", "dev")]).unwrap();
    store.create_bucket(other).await.unwrap();
    assert_eq!(total(store, &mine, tag("team")).await, 1);
    assert_eq!(total(store, &mine, tag("env")).await, 2);
    // Prefix totals (read from the counts by prefix) follow every change too.
    let prefix_totals = async |expected: [u64; 5]| {
        let filters = [
            scoped("t", None, Some("env"), false),
            scoped("tagged", Some("us-east-1"), Some("team"), false),
            scoped("o", Some("eu-west-2"), Some("env:dev"), false),
            scoped("ta", Some("us-east-1"), Some("owner:sre"), false),
            scoped("tagg", None, Some("owner"), true),
        ];
        let mut got = [0; 5];
        for (n, filter) in got.iter_mut().zip(filters) {
            *n = total(store, &mine, filter).await;
        }
        assert_eq!(got, expected);
    };
    prefix_totals([1, 1, 1, 0, 0]).await;

    let patch = BucketPatch {
        tags: Some(Tags::parse([("env", "staging"), ("owner", "sre")]).unwrap()),
        public: Some(true),
        storage_class: Some("GLACIER".parse().unwrap()),
    };
    let patched = store.update_bucket(&mine, &bucket.id, patch, at(5)).await.unwrap();
    assert!(patched.public);
    assert_eq!(patched.storage_class.as_str(), "GLACIER");
    assert_eq!(
        patched.tags,
        Tags::parse([("env", "staging"), ("owner", "sre")]).unwrap()
    );
    let read = store
        .get_bucket(&mine, &BucketRef::Id(bucket.id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, patched);
    assert_eq!(total(store, &mine, tag("team")).await, 0);
    assert_eq!(total(store, &mine, tag("owner")).await, 1);
    assert_eq!(total(store, &mine, tag("env")).await, 2);
    assert_eq!(total(store, &mine, tag("env:prod")).await, 0);
    assert_eq!(total(store, &mine, tag("env:staging")).await, 1);
    prefix_totals([1, 0, 1, 1, 1]).await;
    // Soft-deleted buckets leave the live counts and count with `include_deleted`.
    store
        .soft_delete_bucket(&mine, &bucket.id, at(6), at(60))
        .await
        .unwrap();
    assert_eq!(total(store, &mine, tag("owner")).await, 0);
    let with_deleted = BucketFilter::new(None, None, vec![TagFilter::parse("owner").unwrap()], true);
    assert_eq!(total(store, &mine, with_deleted).await, 1);
    assert_eq!(total(store, &mine, BucketFilter::default()).await, 1);
    prefix_totals([0, 0, 1, 0, 1]).await;
    store.restore_bucket(&mine, &bucket.id, at(7)).await.unwrap();
    prefix_totals([1, 0, 1, 1, 1]).await;
}

pub async fn the_purge_takes_only_due_buckets_frees_names_and_queues_their_blobs(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "purge").await;
    let due = store.create_bucket(new_bucket(&mine, "due")).await.unwrap();
    let later = store.create_bucket(new_bucket(&mine, "later")).await.unwrap();
    let restored = store.create_bucket(new_bucket(&mine, "restored")).await.unwrap();
    let none = PutConditions::default();
    let stored = object(&due.id, "a", 10);
    store.put_object(&mine, stored.clone(), &none).await.unwrap();
    let small = object(&due.id, "b", 2);
    let bytes = bytes::Bytes::from_static(b"hi");
    store
        .put_inline_object(&mine, small.clone(), bytes, &none)
        .await
        .unwrap();
    store.soft_delete_bucket(&mine, &due.id, at(1), at(10)).await.unwrap();
    store
        .soft_delete_bucket(&mine, &later.id, at(1), at(100))
        .await
        .unwrap();
    store
        .soft_delete_bucket(&mine, &restored.id, at(1), at(10))
        .await
        .unwrap();
    store.restore_bucket(&mine, &restored.id, at(2)).await.unwrap();

    assert!(store.purge_due_buckets(at(9), 10).await.unwrap().is_empty());
    let purged = store.purge_due_buckets(at(10), 10).await.unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(
        (purged[0].id.clone(), purged[0].project_id.clone()),
        (due.id.clone(), mine.clone())
    );
    assert_eq!(
        store.get_bucket(&mine, &BucketRef::Id(due.id.clone())).await.unwrap(),
        None
    );
    assert!(
        store
            .get_bucket(&mine, &BucketRef::Id(later.id.clone()))
            .await
            .unwrap()
            .is_some()
    );
    // Its objects' blobs are queued for removal (the bytes the metadata kept too, until
    // collected), and its name is free again.
    let queued = store.garbage_blobs(10, at(10)).await.unwrap();
    assert!(queued.contains(&stored.blob_id) && queued.contains(&small.blob_id));
    assert!(store.inline_blob(&small.blob_id).await.unwrap().is_some());
    store.forget_garbage(&queued).await.unwrap();
    assert_eq!(store.inline_blob(&small.blob_id).await.unwrap(), None);
    assert_eq!(total(store, &mine, scoped("due", None, None, true)).await, 0);
    store.create_bucket(new_bucket(&mine, "due")).await.unwrap();
    let with_deleted = BucketFilter::new(None, None, vec![], true);
    assert_eq!(total(store, &mine, with_deleted).await, 3);
    assert_eq!(
        total(store, &mine, scoped("due", Some("us-east-1"), None, true)).await,
        1
    );
    assert_eq!(total(store, &mine, scoped("l", None, None, false)).await, 0);
    assert_eq!(total(store, &mine, scoped("l", None, None, true)).await, 1);
}

/// Writers that meet in one project (creates, patches, soft deletes, restores, object writes,
/// through two handles at once) all succeed, and the counts end exact: no writer deadlocks
/// another or loses an update.
pub async fn concurrent_writers_in_one_project_all_succeed_with_exact_counts(f: MetadataFixture) {
    let store = f.store.clone();
    let other = f.another_handle().await;
    let mine = project(store.as_ref(), "concurrent").await;
    let mut seeded = Vec::new();
    for i in 0..8 {
        let mut b = new_bucket(&mine, &format!("seeded-{i}"));
        b.tags = Tags::parse([("env", "prod")]).unwrap();
        seeded.push(store.create_bucket(b).await.unwrap());
    }
    let mut tasks = Vec::new();
    for i in 0..32usize {
        let handle = if i % 2 == 0 { store.clone() } else { other.clone() };
        let mine = mine.clone();
        let target = seeded[(i / 4) % 8].id.clone();
        tasks.push(tokio::spawn(async move {
            let s = handle.as_ref();
            match i % 4 {
                0 => {
                    let mut b = new_bucket(&mine, &format!("fresh-{i}"));
                    b.tags = Tags::parse([("env", "prod"), ("team", "a")]).unwrap();
                    s.create_bucket(b).await.map(|_| ())
                }
                1 => {
                    let tags = Tags::parse([("env", "prod"), ("round", &i.to_string())]).unwrap();
                    let patch = BucketPatch {
                        tags: Some(tags),
                        ..Default::default()
                    };
                    s.update_bucket(&mine, &target, patch, at(2)).await.map(|_| ())
                }
                2 => {
                    let none = PutConditions::default();
                    s.put_object(&mine, object(&target, &format!("k{i}"), 10), &none)
                        .await
                        .map(|_| ())
                }
                _ => s.purge_due_buckets(at(1), 10).await.map(|_| ()),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every concurrent change succeeds");
    }
    other.close().await;
    // 8 seeded and 8 created, every one tagged env=prod; the 8 created also team=a.
    assert_eq!(total(store.as_ref(), &mine, BucketFilter::default()).await, 16);
    assert_eq!(total(store.as_ref(), &mine, tag("env:prod")).await, 16);
    assert_eq!(total(store.as_ref(), &mine, tag("team")).await, 8);
    assert_eq!(
        total(store.as_ref(), &mine, tag("round")).await,
        8,
        "each seeded bucket was patched"
    );
    let usage: u64 = {
        let mut sum = 0;
        for b in &seeded {
            let read = store
                .get_bucket(&mine, &BucketRef::Id(b.id.clone()))
                .await
                .unwrap()
                .unwrap();
            sum += read.object_count;
        }
        sum
    };
    assert_eq!(usage, 8, "every object write counted once");
}
