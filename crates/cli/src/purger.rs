//! The background task that purges soft-deleted buckets once their retention has passed,
//! which frees their names. It stops when the server shuts down.

use cloudnexus_core::Clock;
use cloudnexus_store::{BlobStore, MetadataStore, gc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Buckets purged per store call; the task loops until none are due.
const BATCH: u32 = 100;

/// Runs until `shutdown` turns true, purging due buckets every `interval` and removing the
/// blobs of their objects (and any other dropped blobs) from disk.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                purge_due(store.as_ref(), clock.as_ref()).await;
                if let Err(e) = gc::collect_garbage(store.as_ref(), blobs.as_ref()).await {
                    tracing::error!(error = %e, "removing dropped blobs failed");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Purges every bucket that is due now; failures are logged and retried on the next tick.
pub async fn purge_due(store: &dyn MetadataStore, clock: &dyn Clock) {
    loop {
        match store.purge_due_buckets(clock.now(), BATCH).await {
            Ok(purged) => {
                for b in &purged {
                    tracing::info!(bucket.id = %b.id, bucket.name = %b.name, project.id = %b.project_id, "bucket purged");
                }
                if purged.len() < BATCH as usize {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "purging soft-deleted buckets failed");
                return;
            }
        }
    }
}
