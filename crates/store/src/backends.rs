//! Choosing the backends, once, at start-up: the configuration names each by a URL, or leaves
//! it out for the embedded default (SQLite and blobs in the data folder, limits in memory).
//! The server and the admin commands get them here and hold them only as trait objects.

use crate::limiter::{InMemoryRateLimiter, RateLimiter};
use crate::metadata::{MetadataStore, SqliteStore};
use crate::{BlobStore, LocalBlobStore, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the backends are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendConfig {
    /// The data folder: the embedded metadata database and the blob folder live here.
    pub data_dir: PathBuf,
    /// The metadata store; `None` for SQLite in the data folder.
    pub metadata_url: Option<String>,
    /// The blob store; `None` for the data folder's `blobs/`.
    pub blob_url: Option<String>,
    /// The rate limiter's shared counters; `None` for this process's memory.
    pub limiter_url: Option<String>,
}

/// Why the backends could not be opened. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{what} URL {url:?} is not supported by this build; {hint}")]
    UnsupportedUrl {
        what: &'static str,
        url: String,
        hint: &'static str,
    },
    #[error("cannot open the metadata database in {}: {source}", .data_dir.display())]
    Metadata {
        data_dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot open the blob folder in {}: {source}", .data_dir.display())]
    Blobs {
        data_dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The three backends of a running service.
#[derive(Debug, Clone)]
pub struct Backends {
    pub metadata: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub limiter: Arc<dyn RateLimiter>,
}

fn unsupported(what: &'static str, url: &str, hint: &'static str) -> OpenError {
    OpenError::UnsupportedUrl {
        what,
        url: url.to_owned(),
        hint,
    }
}

impl Backends {
    /// Opens every backend `config` names. Opening the blob folder removes the temp files of
    /// uploads a crash interrupted.
    pub async fn open(config: &BackendConfig) -> Result<Self, OpenError> {
        let metadata = open_metadata(config).await?;
        let blobs: Arc<dyn BlobStore> = match &config.blob_url {
            None => Arc::new(
                LocalBlobStore::open(&config.data_dir)
                    .await
                    .map_err(|source| OpenError::Blobs {
                        data_dir: config.data_dir.clone(),
                        source,
                    })?,
            ),
            Some(url) => {
                metadata.close().await;
                return Err(unsupported(
                    "blob store",
                    url,
                    "leave it out to keep blobs in the data folder",
                ));
            }
        };
        let limiter: Arc<dyn RateLimiter> = match &config.limiter_url {
            None => Arc::new(InMemoryRateLimiter::default()),
            Some(url) => {
                metadata.close().await;
                return Err(unsupported(
                    "rate limiter",
                    url,
                    "leave it out to count requests in memory",
                ));
            }
        };
        Ok(Self {
            metadata,
            blobs,
            limiter,
        })
    }

    /// Closes what holds connections.
    pub async fn close(&self) {
        self.metadata.close().await;
    }
}

/// Opens the metadata store alone (what the admin commands need), applying pending migrations.
pub async fn open_metadata(config: &BackendConfig) -> Result<Arc<dyn MetadataStore>, OpenError> {
    match &config.metadata_url {
        None => {
            let store = SqliteStore::open(&config.data_dir)
                .await
                .map_err(|source| OpenError::Metadata {
                    data_dir: config.data_dir.clone(),
                    source,
                })?;
            Ok(Arc::new(store))
        }
        Some(url) => Err(unsupported(
            "metadata store",
            url,
            "leave it out to use the SQLite database in the data folder",
        )),
    }
}
