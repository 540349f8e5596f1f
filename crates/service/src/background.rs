//! The service's background tasks, started once per process and stopped together:
//! - the purge of soft-deleted buckets whose retention has passed (which frees their names),
//!   and the expiry of multipart uploads left incomplete for longer than configured;
//! - garbage collection: removing the blobs of overwritten, deleted and purged objects, woken
//!   by each change that drops one and on every purge tick, at most one round per
//!   [`GARBAGE_PAUSE`];
//! - the sweep of blobs that no object references (a crash between a blob's write and its
//!   commit leaves one): after start-up, and then every grace period when there is one;
//! - the refresh of the revoked-key list every second.

use crate::auth::revocations::REFRESH_INTERVAL;
use crate::{Service, garbage};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Buckets purged per store call; the purge loops until none are due.
const PURGE_BATCH: u32 = 100;

/// The least time between two garbage-collection rounds. Under a stream of overwrites a round
/// right after every change would remove a blob or two each time, at the cost of its reads
/// and one commit; waiting this long lets the queue gather into batches (docs/benchmarks.md,
/// "The list endpoint dispatched before the router"). A dropped blob waits at most this long
/// for its round (longer while a backup holds collection).
const GARBAGE_PAUSE: Duration = Duration::from_millis(250);

/// The running tasks; [`BackgroundTasks::stop`] ends them.
#[derive(Debug)]
pub struct BackgroundTasks {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl BackgroundTasks {
    /// Starts every task for `service`. `started` is when the process started. Blobs written
    /// more than `orphan_grace` before it, and referenced by nothing, are swept after start-up;
    /// with a grace period, the sweep runs again every `orphan_grace`. A grace period is what
    /// keeps a sweep from taking the blob of another node's upload that is about to commit; 0
    /// is right only when this process is the store's one writer.
    pub fn start(service: &Service, purge_interval: Duration, started: SystemTime, orphan_grace: Duration) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(purge(service.clone(), purge_interval, stopped.clone()));
        tasks.spawn(collect(service.clone(), stopped.clone()));
        tasks.spawn(sweep(service.clone(), started, orphan_grace, stopped.clone()));
        tasks.spawn(refresh_revocations(service.clone(), stopped));
        Self { stop, tasks }
    }

    /// Stops every task and waits for them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        // The periodic tasks return at the signal; a sweep under way finishes its work.
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Purges due buckets and expires abandoned multipart uploads every `interval`, then removes
/// their blobs.
async fn purge(service: Service, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                service.purge_due_buckets().await;
                service.expire_abandoned_uploads().await;
                service.collect_garbage_soon();
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Removes queued blobs whenever a change asks for it, at most once per [`GARBAGE_PAUSE`].
async fn collect(service: Service, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = service.0.garbage.notified() => {
                match garbage::collect_garbage(service.store(), service.blobs(), service.clock()).await {
                    Ok(n) if n > 0 => tracing::debug!(removed = n, "removed dropped blobs"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "removing dropped blobs failed; will retry"),
                }
            }
            _ = stopped.changed() => return,
        }
        // Changes made meanwhile have left their notification; it is taken after the pause.
        tokio::select! {
            () = tokio::time::sleep(GARBAGE_PAUSE) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Finishes what a crash may have left: dropped blobs still queued, and unreferenced ones
/// older than the grace period; then, with a grace period, sweeps again every period.
async fn sweep(service: Service, started: SystemTime, grace: Duration, mut stopped: watch::Receiver<bool>) {
    match garbage::collect_garbage(service.store(), service.blobs(), service.clock()).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "removed dropped blobs"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "removing dropped blobs failed"),
    }
    sweep_orphans_before(&service, started - grace).await;
    if grace.is_zero() {
        return;
    }
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + grace, grace);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => sweep_orphans_before(&service, SystemTime::now() - grace).await,
            _ = stopped.changed() => return,
        }
    }
}

async fn sweep_orphans_before(service: &Service, before: SystemTime) {
    match garbage::sweep_orphans(service.store(), service.blobs(), before).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "removed blobs of interrupted uploads"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "sweeping unreferenced blobs failed"),
    }
}

async fn refresh_revocations(service: Service, mut stopped: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(REFRESH_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = service.refresh_revocations().await {
                    tracing::error!(error = %e, "refreshing the revocation list failed");
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

impl Service {
    /// Aborts the multipart uploads older than the configured expiry; failures are logged and
    /// retried on the next tick.
    pub async fn expire_abandoned_uploads(&self) {
        let before = self
            .clock()
            .now()
            .plus_seconds(-self.settings().multipart_expiry_seconds);
        if let Err(e) = self.expire_uploads(before).await {
            tracing::error!(error = %e, "expiring abandoned multipart uploads failed");
        }
    }

    /// Purges every bucket that is due now; failures are logged and retried on the next tick.
    pub async fn purge_due_buckets(&self) {
        loop {
            match self.store().purge_due_buckets(self.clock().now(), PURGE_BATCH).await {
                Ok(purged) => {
                    for b in &purged {
                        tracing::info!(bucket.id = %b.id, bucket.name = %b.name, project.id = %b.project_id, "bucket purged");
                    }
                    if purged.len() < PURGE_BATCH as usize {
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
}
