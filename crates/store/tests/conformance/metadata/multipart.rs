//! Multipart uploads as the store keeps them: parts replaced by number with their old blobs
//! queued, completion that stores the object and removes the upload at once, abort and expiry,
//! listings in key order, and part blobs known to the orphan sweep and queued by the purge.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{BlobId, BucketId, BucketRef, ContentHeaders, ObjectKey, UploadId, UserMetadata};
use cloudnexus_store::{MetadataStore, StoreError};

fn upload(bucket: &BucketId, key: &str, started: i64) -> MultipartUpload {
    MultipartUpload {
        id: UploadId::generate(),
        bucket_id: bucket.clone(),
        key: ObjectKey::parse(key).unwrap(),
        content_type: "video/mp4".to_owned(),
        content_headers: ContentHeaders::new(None, Some(format!("inline; filename=\"{key}\"")), None, None).unwrap(),
        user_metadata: UserMetadata::new([("camera".to_owned(), key.to_owned())]).unwrap(),
        initiated: at(started),
    }
}

fn part(number: u32, size: u64) -> UploadedPart {
    UploadedPart {
        number,
        blob_id: BlobId::generate(),
        size_bytes: size,
        etag: format!("{number:032x}"),
        last_modified: at(5),
    }
}

async fn usage(store: &dyn MetadataStore, project: &cloudnexus_core::ProjectId, id: &BucketId) -> (u64, u64) {
    let b = store
        .get_bucket(project, &BucketRef::Id(id.clone()))
        .await
        .unwrap()
        .unwrap();
    (b.size_bytes, b.object_count)
}

pub async fn parts_are_replaced_by_number_and_completion_is_one_change(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "multipart").await;
    let bucket = store.create_bucket(new_bucket(&mine, "multipart")).await.unwrap();
    let up = upload(&bucket.id, "movie.mp4", 1);
    store.create_upload(&mine, &up).await.unwrap();
    assert_eq!(store.find_upload(&up.id).await.unwrap(), Some(up.clone()));

    let first = part(1, 100);
    let second = part(2, 40);
    assert_eq!(store.put_part(&mine, &up.id, &first).await.unwrap(), None);
    assert_eq!(store.put_part(&mine, &up.id, &second).await.unwrap(), None);
    // Part 1 sent again: the first blob is queued as garbage and returned.
    let again = part(1, 90);
    assert_eq!(
        store.put_part(&mine, &up.id, &again).await.unwrap(),
        Some(first.blob_id.clone())
    );
    assert!(store.garbage_blobs(100, at(10)).await.unwrap().contains(&first.blob_id));
    assert_eq!(
        store.list_parts(&up.id, 0, 10).await.unwrap(),
        [again.clone(), second.clone()]
    );
    assert_eq!(store.list_parts(&up.id, 1, 10).await.unwrap(), vec![second.clone()]);
    assert_eq!(store.list_parts(&up.id, 0, 1).await.unwrap(), vec![again.clone()]);
    // The orphan sweep must not take a part's blob.
    let stranger = BlobId::generate();
    let known = store
        .known_blobs(&[again.blob_id.clone(), stranger.clone()])
        .await
        .unwrap();
    assert_eq!(known, vec![again.blob_id.clone()]);

    // A completion that names a part since replaced changes nothing.
    let mut whole = object(&bucket.id, "movie.mp4", 130);
    whole.etag = "0123456789abcdef0123456789abcdef-2".to_owned();
    let stale = [(1, first.blob_id.clone()), (2, second.blob_id.clone())];
    assert!(matches!(
        store.complete_upload(&mine, &up.id, whole.clone(), &stale).await,
        Err(StoreError::PreconditionFailed)
    ));
    assert_eq!(usage(store, &mine, &bucket.id).await, (0, 0));

    let used = [(1, again.blob_id.clone()), (2, second.blob_id.clone())];
    assert_eq!(
        store
            .complete_upload(&mine, &up.id, whole.clone(), &used)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_object(&bucket.id, &whole.key).await.unwrap(),
        Some(whole.clone())
    );
    assert_eq!(usage(store, &mine, &bucket.id).await, (130, 1));
    assert_eq!(store.find_upload(&up.id).await.unwrap(), None);
    assert!(store.list_parts(&up.id, 0, 10).await.unwrap().is_empty());
    let garbage = store.garbage_blobs(100, at(10)).await.unwrap();
    assert!(garbage.contains(&again.blob_id) && garbage.contains(&second.blob_id));
    // Once completed, the upload takes no more parts and completes no more.
    assert!(matches!(
        store.put_part(&mine, &up.id, &part(3, 1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.complete_upload(&mine, &up.id, whole.clone(), &used).await,
        Err(StoreError::NotFound)
    ));

    // Completing over an existing object replaces it: usage moves by the difference.
    let over = upload(&bucket.id, "movie.mp4", 2);
    store.create_upload(&mine, &over).await.unwrap();
    let only = part(1, 10);
    store.put_part(&mine, &over.id, &only).await.unwrap();
    let smaller = object(&bucket.id, "movie.mp4", 10);
    assert_eq!(
        store
            .complete_upload(&mine, &over.id, smaller, &[(1, only.blob_id.clone())])
            .await
            .unwrap(),
        Some(whole.blob_id.clone())
    );
    assert_eq!(usage(store, &mine, &bucket.id).await, (10, 1));
}

pub async fn uploads_are_listed_by_key_aborted_and_expired(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "uploads").await;
    let bucket = store.create_bucket(new_bucket(&mine, "uploads")).await.unwrap();
    let b1 = upload(&bucket.id, "b", 3);
    let a = upload(&bucket.id, "a", 5);
    let b2 = upload(&bucket.id, "b", 4);
    let c = upload(&bucket.id, "c/d", 1);
    for u in [&b1, &a, &b2, &c] {
        store.create_upload(&mine, u).await.unwrap();
    }
    let ids = |list: Vec<MultipartUpload>| list.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_uploads(&bucket.id, "", None, 10).await.unwrap()),
        [a.id.clone(), b1.id.clone(), b2.id.clone(), c.id.clone()]
    );
    assert_eq!(
        ids(store.list_uploads(&bucket.id, "c/", None, 10).await.unwrap()),
        vec![c.id.clone()]
    );
    let key_b = ObjectKey::parse("b").unwrap();
    assert_eq!(
        ids(store
            .list_uploads(&bucket.id, "", Some((&key_b, Some(&b1.id))), 10)
            .await
            .unwrap()),
        [b2.id.clone(), c.id.clone()]
    );
    assert_eq!(
        ids(store
            .list_uploads(&bucket.id, "", Some((&key_b, None)), 10)
            .await
            .unwrap()),
        vec![c.id.clone()]
    );
    assert_eq!(
        ids(store.list_uploads(&bucket.id, "", None, 1).await.unwrap()),
        vec![a.id.clone()]
    );

    // Abort removes the upload and queues its parts.
    let p = part(1, 7);
    store.put_part(&mine, &a.id, &p).await.unwrap();
    assert!(store.abort_upload(&a.id, at(6)).await.unwrap());
    assert!(!store.abort_upload(&a.id, at(6)).await.unwrap());
    assert!(store.garbage_blobs(100, at(10)).await.unwrap().contains(&p.blob_id));
    assert_eq!(store.find_upload(&a.id).await.unwrap(), None);

    // The oldest first, started strictly before the time given.
    assert_eq!(
        store.uploads_started_before(at(4), 10).await.unwrap(),
        [c.id.clone(), b1.id.clone()]
    );
    assert_eq!(
        store.uploads_started_before(at(4), 1).await.unwrap(),
        vec![c.id.clone()]
    );
}

pub async fn uploads_follow_their_bucket(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "uploads-bucket").await;
    let theirs = project(store, "uploads-other").await;
    let bucket = store.create_bucket(new_bucket(&mine, "uploads-bucket")).await.unwrap();
    // Another project cannot start uploads in the bucket, nor add parts to its uploads.
    assert!(matches!(
        store.create_upload(&theirs, &upload(&bucket.id, "x", 1)).await,
        Err(StoreError::NotFound)
    ));
    let up = upload(&bucket.id, "x", 1);
    store.create_upload(&mine, &up).await.unwrap();
    assert!(matches!(
        store.put_part(&theirs, &up.id, &part(1, 1)).await,
        Err(StoreError::NotFound)
    ));
    let p = part(1, 3);
    store.put_part(&mine, &up.id, &p).await.unwrap();

    // A soft-deleted bucket takes no upload and no part.
    store
        .soft_delete_bucket(&mine, &bucket.id, at(10), at(20))
        .await
        .unwrap();
    assert!(matches!(
        store.create_upload(&mine, &upload(&bucket.id, "y", 11)).await,
        Err(StoreError::BucketDeleted)
    ));
    assert!(matches!(
        store.put_part(&mine, &up.id, &part(2, 1)).await,
        Err(StoreError::BucketDeleted)
    ));
    // Its purge removes the upload and queues the part's blob.
    let purged = store.purge_due_buckets(at(21), 10).await.unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(store.find_upload(&up.id).await.unwrap(), None);
    assert!(store.garbage_blobs(100, at(10)).await.unwrap().contains(&p.blob_id));
}
