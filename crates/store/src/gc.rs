//! Keeping the blob folder in step with the metadata: blobs queued as garbage (overwritten,
//! deleted or purged objects) are removed from disk after the transaction that dropped them,
//! and blobs that no row references (an upload interrupted by a crash between its rename and
//! its commit) are swept after a restart.

use crate::{BlobStore, MetadataStore, StoreError, StoreResult};
use std::time::SystemTime;

const BATCH: u32 = 500;

/// Removes every queued blob from disk, then from the queue. Returns how many were removed.
pub async fn collect_garbage(meta: &dyn MetadataStore, blobs: &dyn BlobStore) -> StoreResult<usize> {
    let mut removed = 0;
    loop {
        let queued = meta.garbage_blobs(BATCH).await?;
        if queued.is_empty() {
            return Ok(removed);
        }
        for blob in &queued {
            blobs
                .delete(blob)
                .await
                .map_err(|e| StoreError::Backend(format!("cannot remove blob {blob}: {e}")))?;
        }
        meta.forget_garbage(&queued).await?;
        removed += queued.len();
    }
}

/// Removes blobs written before `before` that no object references and no queue holds. Call it
/// with the time the process started, so uploads in flight (written after it) are left alone.
pub async fn sweep_orphans(meta: &dyn MetadataStore, blobs: &dyn BlobStore, before: SystemTime) -> StoreResult<usize> {
    let candidates = blobs
        .blobs_written_before(before)
        .await
        .map_err(|e| StoreError::Backend(format!("cannot list blobs: {e}")))?;
    let mut removed = 0;
    for chunk in candidates.chunks(BATCH as usize) {
        let known = meta.known_blobs(chunk).await?;
        for blob in chunk.iter().filter(|b| !known.contains(b)) {
            blobs
                .delete(blob)
                .await
                .map_err(|e| StoreError::Backend(format!("cannot remove blob {blob}: {e}")))?;
            removed += 1;
        }
    }
    Ok(removed)
}
