//! A running `cloudnexus serve`: opens the data folder, creates the first project on an empty
//! one, binds the listener (port 0 works, for tests), serves the API and runs the purge task,
//! until shut down.

use crate::config::Config;
use crate::keys::{self, FirstRun};
use crate::{purger, telemetry};
use anyhow::Context;
use cloudnexus_api::auth::revocations::{self, RevocationList};
use cloudnexus_api::auth::token::TokenSigner;
use cloudnexus_api::rate_limit::InMemoryRateLimiter;
use cloudnexus_api::routes::buckets::list_cache::ListCache;
use cloudnexus_api::{AppState, Services};
use cloudnexus_core::Clock;
use cloudnexus_core::ids::random_secret;
use cloudnexus_core::listing::CursorKey;
use cloudnexus_store::{BlobStore, LocalBlobStore, MetadataStore, SqliteStore, gc};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The name under which the cursor-signing key is kept in the store, so cursors stay valid
/// across restarts.
const CURSOR_SECRET: &str = "cursor-signing-key";
/// The name under which the access-token signing key is kept in the store.
const TOKEN_SECRET: &str = "token-signing-key";

/// A server that is accepting requests.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    purger: JoinHandle<()>,
    revocations: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    store: SqliteStore,
}

impl Server {
    /// Starts serving `config` and returns at once; `FirstRun` is set when the data folder was
    /// empty and a first project and key were created.
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<(Self, Option<FirstRun>)> {
        let settings = config.api_settings()?;
        let store = SqliteStore::open(&config.data_dir)
            .await
            .with_context(|| format!("cannot open the data folder {}", config.data_dir.display()))?;
        let first_run = keys::bootstrap(&store, clock.now())
            .await
            .context("cannot create the first project")?;
        let cursor_secret = store
            .secret(CURSOR_SECRET, random_secret(), clock.now())
            .await
            .context("cannot load the cursor-signing key")?;
        let token_secret = store
            .secret(TOKEN_SECRET, random_secret(), clock.now())
            .await
            .context("cannot load the token-signing key")?;
        let started = std::time::SystemTime::now();
        // Opening the blob folder removes the temp files of uploads a crash interrupted.
        let blobs: Arc<dyn BlobStore> = Arc::new(
            LocalBlobStore::open(&config.data_dir)
                .await
                .context("cannot open the blob folder in the data folder")?,
        );
        let shared_store: Arc<dyn MetadataStore> = Arc::new(store.clone());
        let revoked = Arc::new(RevocationList::default());
        revoked
            .refresh(&store, clock.as_ref())
            .await
            .context("cannot load revoked keys")?;
        let list_cache = Arc::new(ListCache::new(settings.list_cache_bytes));
        let state = AppState::new(Services {
            store: shared_store.clone(),
            blobs: blobs.clone(),
            clock: clock.clone(),
            settings: Arc::new(settings),
            cursor_key: CursorKey::from_bytes(cursor_secret),
            tokens: TokenSigner::from_secret(&token_secret),
            revocations: revoked.clone(),
            limiter: Arc::new(InMemoryRateLimiter::default()),
            metrics: telemetry::metrics_handle(),
            list_cache,
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = watch::channel(false);
        let mut http_stopped = stopped.clone();
        let http = tokio::spawn(cloudnexus_api::serve(listener, state, async move {
            let _ = http_stopped.changed().await;
        }));
        let interval = Duration::from_secs(config.buckets.purge_interval_seconds);
        let revocations = tokio::spawn(revocations::keep_fresh(
            revoked,
            shared_store.clone(),
            clock.clone(),
            stopped.clone(),
        ));
        // Blobs that a crash left unreferenced (written before this start, in no row) go in the
        // background; uploads from now on are newer than `started` and left alone.
        let sweeper = tokio::spawn(sweep(shared_store.clone(), blobs.clone(), started));
        let purger = tokio::spawn(purger::run(shared_store, blobs, clock, interval, stopped));
        tracing::info!(%addr, data_dir = %config.data_dir.display(), "cloudnexus is serving");
        Ok((
            Self {
                addr,
                shutdown,
                http,
                purger,
                revocations,
                sweeper,
                store,
            },
            first_run,
        ))
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, waits for requests in flight and closes the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.http.await.context("HTTP task failed")?;
        let _ = self.purger.await;
        let _ = self.sweeper.await;
        let _ = self.revocations.await;
        self.store.close().await;
        served.context("HTTP server failed")
    }
}

/// Finishes what a crash may have left: dropped blobs still queued, and unreferenced ones.
async fn sweep(store: Arc<dyn MetadataStore>, blobs: Arc<dyn BlobStore>, started: std::time::SystemTime) {
    match gc::collect_garbage(store.as_ref(), blobs.as_ref()).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "removed dropped blobs"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "removing dropped blobs failed"),
    }
    match gc::sweep_orphans(store.as_ref(), blobs.as_ref(), started).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "removed blobs of interrupted uploads"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "sweeping unreferenced blobs failed"),
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
