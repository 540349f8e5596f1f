//! Objects as the store keeps them: usage changed in the same transaction as each write,
//! conditions and bucket state checked inside it, key-order listings with delimiters, and the
//! queue of blobs to remove.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use bytes::Bytes;
use cloudnexus_core::{BucketRef, ObjectKey};
use cloudnexus_store::{MetadataStore, ObjectEntry, ObjectListRequest, ObjectPosition, PutConditions, StoreError};

async fn usage(
    store: &dyn MetadataStore,
    project: &cloudnexus_core::ProjectId,
    id: &cloudnexus_core::BucketId,
) -> (u64, u64) {
    let b = store
        .get_bucket(project, &BucketRef::Id(id.clone()))
        .await
        .unwrap()
        .unwrap();
    (b.size_bytes, b.object_count)
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

pub async fn writes_and_deletes_keep_usage_exact(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "objects").await;
    let bucket = store.create_bucket(new_bucket(&mine, "objects")).await.unwrap();
    let none = PutConditions::default();
    let first = object(&bucket.id, "a/one", 100);
    assert_eq!(store.put_object(&mine, first.clone(), &none).await.unwrap(), None);
    store
        .put_object(&mine, object(&bucket.id, "a/two", 20), &none)
        .await
        .unwrap();
    assert_eq!(usage(store, &mine, &bucket.id).await, (120, 2));
    // An overwrite replaces the size and returns the replaced blob, now queued.
    let second = object(&bucket.id, "a/one", 5);
    assert_eq!(
        store.put_object(&mine, second.clone(), &none).await.unwrap(),
        Some(first.blob_id.clone())
    );
    assert_eq!(usage(store, &mine, &bucket.id).await, (25, 2));
    assert_eq!(
        store.get_object(&bucket.id, &key("a/one")).await.unwrap(),
        Some(second.clone())
    );
    assert!(store.garbage_blobs(10, at(10)).await.unwrap().contains(&first.blob_id));
    // Deletes are idempotent.
    assert_eq!(
        store
            .delete_object(&mine, &bucket.id, &key("a/one"), at(2))
            .await
            .unwrap(),
        Some(second.blob_id.clone())
    );
    assert_eq!(
        store
            .delete_object(&mine, &bucket.id, &key("a/one"), at(2))
            .await
            .unwrap(),
        None
    );
    assert_eq!(usage(store, &mine, &bucket.id).await, (20, 1));
    assert_eq!(store.get_object(&bucket.id, &key("a/one")).await.unwrap(), None);
}

/// A small object's bytes kept by the metadata: written with the object, read by its blob id,
/// kept while a replaced or deleted object's blob waits in the queue, gone once collected; a
/// refused write keeps nothing.
pub async fn small_objects_keep_their_bytes_in_the_metadata_until_collected(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "inline").await;
    let bucket = store.create_bucket(new_bucket(&mine, "inline")).await.unwrap();
    let none = PutConditions::default();
    let first = object(&bucket.id, "small", 5);
    let hello = Bytes::from_static(b"hello");
    assert_eq!(
        store
            .put_inline_object(&mine, first.clone(), hello.clone(), &none)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_object(&bucket.id, &key("small")).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.inline_blob(&first.blob_id).await.unwrap(), Some(hello.clone()));
    assert_eq!(usage(store, &mine, &bucket.id).await, (5, 1));
    // A blob in the blob store is not the metadata's.
    let filed = object(&bucket.id, "filed", 3);
    store.put_object(&mine, filed.clone(), &none).await.unwrap();
    assert_eq!(store.inline_blob(&filed.blob_id).await.unwrap(), None);

    // Refused writes keep nothing: a failed precondition, a deleted bucket.
    let refused = object(&bucket.id, "small", 2);
    let create_only = PutConditions {
        if_none_match_any: true,
        if_match: None,
    };
    assert!(matches!(
        store
            .put_inline_object(&mine, refused.clone(), Bytes::from_static(b"no"), &create_only)
            .await,
        Err(StoreError::PreconditionFailed)
    ));
    assert_eq!(store.inline_blob(&refused.blob_id).await.unwrap(), None);

    // Replaced: the old blob is queued and still readable (a read in flight may need it) until
    // the collector forgets it.
    let second = object(&bucket.id, "small", 3);
    assert_eq!(
        store
            .put_inline_object(&mine, second.clone(), Bytes::from_static(b"bye"), &none)
            .await
            .unwrap(),
        Some(first.blob_id.clone())
    );
    assert_eq!(usage(store, &mine, &bucket.id).await, (6, 2));
    assert!(store.garbage_blobs(10, at(10)).await.unwrap().contains(&first.blob_id));
    assert_eq!(store.inline_blob(&first.blob_id).await.unwrap(), Some(hello));
    // The collector tells small objects' blobs from the blob store's.
    let unknown = cloudnexus_core::BlobId::generate();
    let kept = store
        .kept_inline(&[
            filed.blob_id.clone(),
            first.blob_id.clone(),
            unknown,
            second.blob_id.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept.contains(&first.blob_id) && kept.contains(&second.blob_id),
        "{kept:?}"
    );
    store
        .forget_garbage(std::slice::from_ref(&first.blob_id))
        .await
        .unwrap();
    assert_eq!(store.inline_blob(&first.blob_id).await.unwrap(), None);
    assert_eq!(
        store.inline_blob(&second.blob_id).await.unwrap().as_deref(),
        Some(&b"bye"[..])
    );

    // Deleted: the same way.
    store
        .delete_object(&mine, &bucket.id, &key("small"), at(3))
        .await
        .unwrap();
    assert!(store.garbage_blobs(10, at(10)).await.unwrap().contains(&second.blob_id));
    store
        .forget_garbage(std::slice::from_ref(&second.blob_id))
        .await
        .unwrap();
    assert_eq!(store.inline_blob(&second.blob_id).await.unwrap(), None);
    assert_eq!(usage(store, &mine, &bucket.id).await, (3, 1));
}

pub async fn conditions_and_bucket_state_are_checked_in_the_write(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "conditions").await;
    let bucket = store.create_bucket(new_bucket(&mine, "conditions")).await.unwrap();
    let create_only = PutConditions {
        if_none_match_any: true,
        if_match: None,
    };
    let v1 = object(&bucket.id, "k", 1);
    store.put_object(&mine, v1.clone(), &create_only).await.unwrap();
    assert!(matches!(
        store.put_object(&mine, object(&bucket.id, "k", 2), &create_only).await,
        Err(StoreError::PreconditionFailed)
    ));
    let wrong_etag = PutConditions {
        if_none_match_any: false,
        if_match: Some(vec!["not-it".to_owned()]),
    };
    assert!(matches!(
        store.put_object(&mine, object(&bucket.id, "k", 3), &wrong_etag).await,
        Err(StoreError::PreconditionFailed)
    ));
    let right_etag = PutConditions {
        if_none_match_any: false,
        if_match: Some(vec![v1.etag.clone()]),
    };
    store
        .put_object(&mine, object(&bucket.id, "k", 4), &right_etag)
        .await
        .unwrap();
    let any = PutConditions {
        if_none_match_any: false,
        if_match: Some(vec!["*".to_owned()]),
    };
    assert!(matches!(
        store.put_object(&mine, object(&bucket.id, "absent", 1), &any).await,
        Err(StoreError::PreconditionFailed)
    ));
    // Refused writes changed nothing.
    assert_eq!(usage(store, &mine, &bucket.id).await, (4, 1));
    store.soft_delete_bucket(&mine, &bucket.id, at(1), at(9)).await.unwrap();
    assert!(matches!(
        store.delete_object(&mine, &bucket.id, &key("k"), at(2)).await,
        Err(StoreError::BucketDeleted)
    ));
    assert_eq!(usage(store, &mine, &bucket.id).await, (4, 1));
}

pub async fn listings_roll_keys_up_under_a_delimiter_and_page(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "listing").await;
    let bucket = store.create_bucket(new_bucket(&mine, "listing")).await.unwrap();
    let none = PutConditions::default();
    let keys = [
        "a.txt",
        "logs/2024/01.log",
        "logs/2024/02.log",
        "logs/2025/01.log",
        "logs/readme",
        "photos/cat.jpg",
        "photos/dog.jpg",
        "z",
        "\u{e9}t\u{e9}/1",
    ];
    for k in keys {
        store.put_object(&mine, object(&bucket.id, k, 1), &none).await.unwrap();
    }
    let list = |prefix: &str, delimiter: Option<&str>, after: Option<ObjectPosition>, limit: u32| ObjectListRequest {
        prefix: prefix.to_owned(),
        delimiter: delimiter.map(str::to_owned),
        after,
        limit,
    };
    let names = |entries: &[ObjectEntry]| -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                ObjectEntry::Object(o) => o.key.as_str().to_owned(),
                ObjectEntry::CommonPrefix(p) => format!("{p}*"),
            })
            .collect()
    };
    let top = store
        .list_objects(&bucket.id, &list("", Some("/"), None, 100))
        .await
        .unwrap();
    assert_eq!(
        names(&top.entries),
        ["a.txt", "logs/*", "photos/*", "z", "\u{e9}t\u{e9}/*"]
    );
    assert_eq!(top.next, None);
    let logs = store
        .list_objects(&bucket.id, &list("logs/", Some("/"), None, 100))
        .await
        .unwrap();
    assert_eq!(names(&logs.entries), ["logs/2024/*", "logs/2025/*", "logs/readme"]);
    let flat = store
        .list_objects(&bucket.id, &list("logs/2024/", None, None, 100))
        .await
        .unwrap();
    assert_eq!(names(&flat.entries), ["logs/2024/01.log", "logs/2024/02.log"]);

    // Pages of two, resuming after an object or after a whole common prefix.
    let mut after = None;
    let mut walked = Vec::new();
    loop {
        let page = store
            .list_objects(&bucket.id, &list("", Some("/"), after, 2))
            .await
            .unwrap();
        assert!(page.entries.len() <= 2);
        walked.extend(names(&page.entries));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, names(&top.entries));
    let all = store
        .list_objects(&bucket.id, &list("", None, None, 1000))
        .await
        .unwrap();
    assert_eq!(all.entries.len(), keys.len());
}

pub async fn the_garbage_queue_and_known_blobs(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "garbage").await;
    let bucket = store.create_bucket(new_bucket(&mine, "garbage")).await.unwrap();
    let none = PutConditions::default();
    let live = object(&bucket.id, "live", 1);
    let dropped = object(&bucket.id, "dropped", 1);
    store.put_object(&mine, live.clone(), &none).await.unwrap();
    store.put_object(&mine, dropped.clone(), &none).await.unwrap();
    store
        .delete_object(&mine, &bucket.id, &dropped.key, at(3))
        .await
        .unwrap();
    let stranger = cloudnexus_core::BlobId::generate();
    let asked = [live.blob_id.clone(), dropped.blob_id.clone(), stranger];
    let mut known = store.known_blobs(&asked).await.unwrap();
    known.sort();
    let mut expected = vec![live.blob_id.clone(), dropped.blob_id.clone()];
    expected.sort();
    assert_eq!(known, expected, "referenced and queued blobs are known, others are not");
    assert_eq!(
        store.garbage_blobs(10, at(10)).await.unwrap(),
        std::slice::from_ref(&dropped.blob_id)
    );
    store
        .forget_garbage(std::slice::from_ref(&dropped.blob_id))
        .await
        .unwrap();
    assert!(store.garbage_blobs(10, at(10)).await.unwrap().is_empty());
    assert_eq!(
        store.known_blobs(&asked).await.unwrap(),
        std::slice::from_ref(&live.blob_id)
    );
}

pub async fn a_hold_on_garbage_collection_hides_the_queue_until_released_or_expired(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "holds").await;
    let bucket = store.create_bucket(new_bucket(&mine, "holds")).await.unwrap();
    let none = PutConditions::default();
    let dropped = object(&bucket.id, "dropped", 1);
    store.put_object(&mine, dropped.clone(), &none).await.unwrap();
    store
        .delete_object(&mine, &bucket.id, &dropped.key, at(2))
        .await
        .unwrap();
    let queued = std::slice::from_ref(&dropped.blob_id);
    assert_eq!(store.garbage_blobs(10, at(3)).await.unwrap(), queued);

    // Two holders; the queue stays hidden until both are gone.
    store.hold_garbage("backup-a", at(100)).await.unwrap();
    store.hold_garbage("backup-b", at(50)).await.unwrap();
    assert!(store.garbage_blobs(10, at(3)).await.unwrap().is_empty(), "held");
    store.release_garbage("backup-a").await.unwrap();
    assert!(
        store.garbage_blobs(10, at(3)).await.unwrap().is_empty(),
        "still held by b"
    );
    // A hold ends by itself when it expires (its holder may have died)...
    assert_eq!(
        store.garbage_blobs(10, at(50)).await.unwrap(),
        queued,
        "b expired at 50"
    );
    // ...unless it is extended.
    store.hold_garbage("backup-b", at(200)).await.unwrap();
    assert!(
        store.garbage_blobs(10, at(150)).await.unwrap().is_empty(),
        "b extended to 200"
    );
    store.release_garbage("backup-b").await.unwrap();
    store.release_garbage("backup-b").await.unwrap();
    assert_eq!(store.garbage_blobs(10, at(150)).await.unwrap(), queued, "released");
    // A hold never hides what objects reference from the sweep's question either way.
    assert_eq!(store.known_blobs(queued).await.unwrap(), queued);
}
