//! A running `cloudnexus serve`: opens the backends the configuration names, creates the first
//! project on an empty metadata store, binds the listener (port 0 works, for tests), serves the
//! API and runs the service's background tasks, until shut down.

use crate::config::Config;
use crate::keys::{self, FirstRun};
use crate::master_key;
use crate::telemetry;
use anyhow::Context;
use cloudnexus_api::routes::buckets::list_cache::ListCache;
use cloudnexus_api::s3::{S3Endpoint, S3Settings};
use cloudnexus_api::{AppState, Services};
use cloudnexus_core::Clock;
use cloudnexus_service::Service;
use cloudnexus_service::background::BackgroundTasks;
use cloudnexus_store::Backends;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A server that is accepting requests.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    s3_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    s3: Option<JoinHandle<std::io::Result<()>>>,
    background: BackgroundTasks,
    backends: Backends,
}

impl Server {
    /// Starts serving `config` and returns at once; `FirstRun` is set when the metadata store
    /// was empty and a first project and key were created.
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<(Self, Option<FirstRun>)> {
        let (mut service_settings, api_settings) = config.settings()?;
        service_settings.s3_master_key = if config.s3.listen.is_some() {
            Some(master_key::load_or_create(config)?)
        } else {
            master_key::load_if_present(config)?
        };
        let s3_settings = S3Settings {
            domain: config.s3.domain.clone(),
        };
        let started = std::time::SystemTime::now();
        let backends = Backends::open(&config.backends()).await?;
        let first_run = keys::bootstrap(backends.metadata.as_ref(), clock.now())
            .await
            .context("cannot create the first project")?;
        let service = Service::open(
            backends.metadata.clone(),
            backends.blobs.clone(),
            clock,
            service_settings,
        )
        .await
        .context("cannot load the signing keys and revoked keys from the metadata store")?;
        let list_cache = ListCache::new(api_settings.list_cache_bytes);
        let api_settings_in_flight = api_settings.connections.max_in_flight_requests;
        let state = AppState::new(Services {
            service: service.clone(),
            settings: api_settings,
            limiter: backends.limiter.clone(),
            metrics: telemetry::metrics_handle(),
            list_cache,
            in_flight: cloudnexus_api::listener::InFlight::new(api_settings_in_flight),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = watch::channel(false);
        let s3_listener = match config.s3.listen {
            Some(s3_addr) => Some(
                tokio::net::TcpListener::bind(s3_addr)
                    .await
                    .with_context(|| format!("cannot listen for S3 on {s3_addr}"))?,
            ),
            None => None,
        };
        let s3_addr = s3_listener
            .as_ref()
            .map(tokio::net::TcpListener::local_addr)
            .transpose()?;
        let s3 = match s3_listener {
            Some(listener) => {
                let endpoint = S3Endpoint::new(state.clone(), &s3_settings).map_err(anyhow::Error::msg)?;
                Some(tokio::spawn(cloudnexus_api::s3::serve(
                    listener,
                    endpoint,
                    stopped_signal(&stopped),
                )))
            }
            None => None,
        };
        let http = tokio::spawn(cloudnexus_api::serve(listener, state, stopped_signal(&stopped)));
        let purge_interval = Duration::from_secs(config.buckets.purge_interval_seconds);
        let background = BackgroundTasks::start(&service, purge_interval, started, config.blobs.orphan_grace());
        tracing::info!(%addr, data_dir = %config.data_dir.display(), "cloudnexus is serving");
        Ok((
            Self {
                addr,
                s3_addr,
                shutdown,
                http,
                s3,
                background,
                backends,
            },
            first_run,
        ))
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the S3 listener, when there is one.
    pub fn s3_addr(&self) -> Option<SocketAddr> {
        self.s3_addr
    }

    /// Stops accepting connections, waits for requests in flight and the background tasks, and
    /// closes the backends.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.http.await.context("HTTP task failed")?;
        let s3_served = match self.s3 {
            Some(task) => task.await.context("S3 task failed")?,
            None => Ok(()),
        };
        self.background.stop().await;
        self.backends.close().await;
        served.context("HTTP server failed")?;
        s3_served.context("S3 server failed")
    }
}

/// Completes when `shutdown` is sent (each listener waits on its own receiver).
fn stopped_signal(stopped: &watch::Receiver<bool>) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.changed().await;
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
