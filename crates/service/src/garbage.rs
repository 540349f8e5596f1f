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

/// Removes every queued blob from the blob store, then from the queue; nothing while the
/// collection is held (an online backup is copying). Returns how many.
pub async fn collect_garbage(meta: &dyn MetadataStore, blobs: &dyn BlobStore, clock: &dyn Clock) -> StoreResult<usize> {
    let mut removed = 0;
    loop {
        let queued = meta.garbage_blobs(BATCH, clock.now()).await?;
        if queued.is_empty() {
            return Ok(removed);
        }
        for blob in &queued {
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
