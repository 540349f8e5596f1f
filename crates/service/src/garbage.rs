//! Keeping the blob store in step with the metadata: blobs queued as garbage (overwritten,
//! deleted or purged objects) are removed after the transaction that dropped them commits, and
//! blobs that no row references (an upload interrupted by a crash between its blob write and
//! its commit) are swept after a restart. Both run in the background (`background`), never
//! inside a request.

use cloudnexus_core::Clock;
use cloudnexus_store::{BlobStore, MetadataStore, StoreError, StoreResult};
use std::time::SystemTime;

const BATCH: u32 = 500;

fn blob_failure(what: String, e: std::io::Error) -> StoreError {
    StoreError::other(format!("{what}: {e}"))
}

/// Removes every queued blob from the blob store (or, for a small object's bytes, with its queue
/// entry), then from the queue; nothing while the collection is held (an online backup is
/// copying). Returns how many.
pub async fn collect_garbage(meta: &dyn MetadataStore, blobs: &dyn BlobStore, clock: &dyn Clock) -> StoreResult<usize> {
    let mut removed = 0;
    loop {
        let queued = meta.garbage_blobs(BATCH, clock.now()).await?;
        if queued.is_empty() {
            return Ok(removed);
        }
        // Small objects' bytes go with their queue entry; only the rest are the blob store's.
        let kept_inline = meta.kept_inline(&queued).await?;
        for blob in queued.iter().filter(|b| !kept_inline.contains(b)) {
            blobs
                .delete(blob)
                .await
                .map_err(|e| blob_failure(format!("cannot remove blob {blob}"), e))?;
        }
        meta.forget_garbage(&queued).await?;
        removed += queued.len();
    }
}

/// Removes blobs written before `before` that no object references and no queue holds. Call it
/// with a time before which no upload still in flight, on any node, wrote its blob: the
/// process's start for a store only it writes, less a grace period for a shared one.
pub async fn sweep_orphans(meta: &dyn MetadataStore, blobs: &dyn BlobStore, before: SystemTime) -> StoreResult<usize> {
    let candidates = blobs
        .blobs_written_before(before)
        .await
        .map_err(|e| blob_failure("cannot list blobs".to_owned(), e))?;
    let mut removed = 0;
    for chunk in candidates.chunks(BATCH as usize) {
        let known = meta.known_blobs(chunk).await?;
        for blob in chunk.iter().filter(|b| !known.contains(b)) {
            blobs
                .delete(blob)
                .await
                .map_err(|e| blob_failure(format!("cannot remove blob {blob}"), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use cloudnexus_core::{
        BlobId, BucketId, BucketName, Object, ObjectKey, ProjectId, ProjectName, RegionSet, StorageClass, SystemClock,
        Tags,
    };
    use cloudnexus_store::{BlobWriteError, ByteStream, LocalBlobStore, NewBucket, PutConditions, WrittenBlob};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The folder store, counting the deletes asked of it.
    #[derive(Debug)]
    struct CountingDeletes {
        folder: LocalBlobStore,
        deletes: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl BlobStore for CountingDeletes {
        async fn write(&self, body: ByteStream, max_bytes: u64) -> Result<WrittenBlob, BlobWriteError> {
            self.folder.write(body, max_bytes).await
        }

        async fn read(&self, id: &BlobId, range: Option<(u64, u64)>) -> std::io::Result<ByteStream> {
            self.folder.read(id, range).await
        }

        async fn delete(&self, id: &BlobId) -> std::io::Result<()> {
            self.deletes.fetch_add(1, Ordering::SeqCst);
            self.folder.delete(id).await
        }

        async fn blobs_written_before(&self, before: SystemTime) -> std::io::Result<Vec<BlobId>> {
            self.folder.blobs_written_before(before).await
        }
    }

    fn object(bucket: &BucketId, key: &str, blob_id: BlobId, size_bytes: u64) -> Object {
        Object {
            bucket_id: bucket.clone(),
            key: ObjectKey::parse(key).unwrap(),
            blob_id,
            size_bytes,
            etag: "0".repeat(32),
            content_type: "text/plain".to_owned(),
            content_headers: Default::default(),
            user_metadata: Default::default(),
            last_modified: SystemClock.now(),
        }
    }

    #[tokio::test]
    async fn small_objects_blobs_are_collected_without_asking_the_blob_store() {
        let dir = tempfile::tempdir().unwrap();
        let meta = cloudnexus_store::SqliteStore::open(dir.path()).await.unwrap();
        let blobs = CountingDeletes {
            folder: LocalBlobStore::open(dir.path()).await.unwrap(),
            deletes: AtomicUsize::new(0),
        };
        let project = ProjectId::generate();
        meta.create_project(
            project.clone(),
            ProjectName::parse("garbage-test").unwrap(),
            SystemClock.now(),
        )
        .await
        .unwrap();
        let bucket = meta
            .create_bucket(NewBucket {
                id: BucketId::generate(),
                project_id: project.clone(),
                name: BucketName::parse("gc-test").unwrap(),
                region: RegionSet::default().parse("us-east-1").unwrap(),
                storage_class: StorageClass::Standard,
                public: false,
                tags: Tags::default(),
                created_at: SystemClock.now(),
            })
            .await
            .unwrap();
        let none = PutConditions::default();
        // A small object replaced by another: its blob is queued, and is the metadata's.
        for (n, bytes) in [b"one", b"two"].into_iter().enumerate() {
            let small = object(&bucket.id, "small", BlobId::generate(), 3);
            let replaced = meta
                .put_inline_object(&project, small, Bytes::from_static(bytes), &none)
                .await
                .unwrap();
            assert_eq!(replaced.is_some(), n == 1);
        }
        // A filed object replaced by another: its blob is queued, and is the blob store's.
        for n in 0..2 {
            let chunk: std::io::Result<Bytes> = Ok(Bytes::from(vec![b'x'; 5000]));
            let body: ByteStream = futures_util::StreamExt::boxed(futures_util::stream::iter([chunk]));
            let written = blobs.write(body, 1 << 20).await.unwrap();
            let filed = object(&bucket.id, "filed", written.id, written.size);
            let replaced = meta.put_object(&project, filed, &none).await.unwrap();
            assert_eq!(replaced.is_some(), n == 1);
        }
        assert_eq!(meta.garbage_blobs(10, SystemClock.now()).await.unwrap().len(), 2);

        let removed = collect_garbage(&meta, &blobs, &SystemClock).await.unwrap();
        assert_eq!(removed, 2);
        assert_eq!(
            blobs.deletes.load(Ordering::SeqCst),
            1,
            "only the filed blob is the blob store's"
        );
        assert!(meta.garbage_blobs(10, SystemClock.now()).await.unwrap().is_empty());
        meta.close().await;
    }
}
