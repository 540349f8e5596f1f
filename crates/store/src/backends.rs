//! Choosing the backends, once, at start-up: the configuration names each by a URL, or leaves
//! it out for the embedded default (SQLite and blobs in the data folder, limits in memory).
//! The server and the admin commands get them here and hold them only as trait objects.

use crate::blob::S3OpenError;
use crate::limiter::{InMemoryRateLimiter, RateLimiter, RedisError, RedisRateLimiter};
use crate::metadata::{MetadataStore, PgStore, SqliteStore};
use crate::{BlobStore, FailureKind, LocalBlobStore, S3BlobStore, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the backends are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendConfig {
    /// The data folder: the embedded metadata database and the blob folder live here.
    pub data_dir: PathBuf,
    /// The metadata store: `postgres://USER[:PASSWORD]@HOST:PORT/DB`; `None` for SQLite in the
    /// data folder.
    pub metadata_url: Option<String>,
    /// The blob store: `s3://BUCKET[/PREFIX]`, configured by the `AWS_*` variables; `None` for
    /// the data folder's `blobs/`.
    pub blob_url: Option<String>,
    /// The rate limiter's shared counters: `redis://HOST:PORT[/DB]`; `None` for this process's
    /// memory.
    pub limiter_url: Option<String>,
    /// What every key the limiter writes starts with, so that deployments can share one
    /// server; `None` for [`DEFAULT_LIMITER_KEY_PREFIX`].
    pub limiter_key_prefix: Option<String>,
    /// A PEM file of the certificate authorities to trust for a `rediss://` limiter instead of
    /// the system's; `None` trusts the system's.
    pub limiter_ca_file: Option<PathBuf>,
}

/// The default start of the rate limiter's keys in a shared server.
pub const DEFAULT_LIMITER_KEY_PREFIX: &str = "cloudnexus";

/// Why the backends could not be opened. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{what} URL {url:?} is not supported by this build; {hint}")]
    UnsupportedUrl {
        what: &'static str,
        url: String,
        hint: &'static str,
    },
    #[error("cannot open the metadata database {location}: {source}{hint}")]
    Metadata {
        /// The data folder, or the URL without its password.
        location: String,
        #[source]
        source: StoreError,
        /// What to do about it, when the failure says.
        hint: String,
    },
    #[error("cannot reach the rate limiter at {location}: {source}; {hint}")]
    Limiter {
        /// The URL without its password.
        location: String,
        #[source]
        source: RedisError,
        /// What to do about it.
        hint: String,
    },
    #[error("cannot use the blob store {url}: {source}; {hint}")]
    S3 {
        url: String,
        #[source]
        source: S3OpenError,
        /// What to do about it.
        hint: String,
    },
    #[error(
        "cannot use {} as the rate limiter's certificate authorities: {reason}; give a PEM file \
         of CA certificates, and a rediss:// URL",
        .path.display()
    )]
    LimiterAuthorities { path: PathBuf, reason: String },
    #[error(
        "the metadata database URL names sslrootcert={root} but sslmode={mode}, which does not \
         check the server's certificate; use sslmode=verify-full (or verify-ca), or leave \
         sslrootcert out"
    )]
    UncheckedDatabaseCertificate { root: String, mode: String },
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
        // A mistake in the configuration is found before anything is opened or migrated.
        let authorities = limiter_authorities(config)?;
        let metadata = open_metadata(config).await?;
        let blobs = match open_blobs(config).await {
            Ok(blobs) => blobs,
            Err(e) => {
                metadata.close().await;
                return Err(e);
            }
        };
        let limiter: Arc<dyn RateLimiter> = match &config.limiter_url {
            None => Arc::new(InMemoryRateLimiter::default()),
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                let prefix = config
                    .limiter_key_prefix
                    .as_deref()
                    .unwrap_or(DEFAULT_LIMITER_KEY_PREFIX);
                match RedisRateLimiter::connect_trusting(url, prefix, authorities).await {
                    Ok(limiter) => Arc::new(limiter),
                    Err(source) => {
                        metadata.close().await;
                        let hint = if refused_certificate(&source) {
                            format!("{CERTIFICATE_HINT} (redis_ca_file)")
                        } else {
                            "start Redis there, or leave the URL out to count requests in this \
                             process's memory (one node only)"
                                .to_owned()
                        };
                        return Err(OpenError::Limiter {
                            location: redacted(url),
                            source,
                            hint,
                        });
                    }
                }
            }
            Some(url) => {
                metadata.close().await;
                return Err(unsupported(
                    "rate limiter",
                    url,
                    "use redis://HOST:PORT, or leave it out to count requests in memory",
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

/// Refuses a database URL whose `sslrootcert` its `sslmode` would not use: the driver checks
/// the certificate only with `verify-ca` and `verify-full` (libpq would also check it with
/// `require`), so the URL would look verified without being so.
fn check_database_tls(url: &str) -> Result<(), OpenError> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let setting = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    let Some(root) = setting("sslrootcert") else {
        return Ok(());
    };
    let mode = setting("sslmode").unwrap_or_else(|| "prefer".to_owned());
    match mode.as_str() {
        "verify-ca" | "verify-full" => Ok(()),
        _ => Err(OpenError::UncheckedDatabaseCertificate { root, mode }),
    }
}

/// The certificate authorities `config` names for a `rediss://` limiter, read and checked
/// (a file without a certificate would make every server's certificate fail, unexplained).
fn limiter_authorities(config: &BackendConfig) -> Result<Option<Vec<u8>>, OpenError> {
    let Some(path) = &config.limiter_ca_file else {
        return Ok(None);
    };
    let refused = |reason: String| OpenError::LimiterAuthorities {
        path: path.clone(),
        reason,
    };
    let Some(url) = config.limiter_url.as_deref().filter(|url| url.starts_with("rediss://")) else {
        return Err(refused("the rate limiter's URL is not a rediss:// one".to_owned()));
    };
    let pem = std::fs::read(path).map_err(|e| refused(e.to_string()))?;
    if !pem.windows(CERTIFICATE_PEM.len()).any(|w| w == CERTIFICATE_PEM) {
        return Err(refused("it holds no PEM certificate".to_owned()));
    }
    RedisRateLimiter::check_authorities(url, &pem).map_err(|e| refused(e.to_string()))?;
    Ok(Some(pem))
}

const CERTIFICATE_PEM: &[u8] = b"-----BEGIN CERTIFICATE-----";

const CERTIFICATE_HINT: &str = "the server's TLS certificate was refused: check that it is issued \
     for the URL's host and signed by an authority this node trusts";

/// Whether `error` is a TLS handshake that refused the server's certificate. The drivers give
/// no kind for it, only rustls's message, which names the certificate.
fn refused_certificate(error: &dyn std::error::Error) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.to_string().contains("invalid peer certificate") {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The advice for a failure to open a store, when it could not be reached.
fn hint(e: &StoreError, unavailable: &str) -> String {
    match e.failure_kind() {
        Some(FailureKind::Unavailable) => format!("; {unavailable}"),
        _ => String::new(),
    }
}

/// `url` with its password, if any, replaced by `***`: fit for messages and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Opens the blob store alone. Opening the blob folder removes the temp files of uploads a
/// crash interrupted; opening an S3 store checks that its bucket can be listed.
pub async fn open_blobs(config: &BackendConfig) -> Result<Arc<dyn BlobStore>, OpenError> {
    match config.blob_url.as_deref() {
        None => Ok(Arc::new(LocalBlobStore::open(&config.data_dir).await.map_err(
            |source| OpenError::Blobs {
                data_dir: config.data_dir.clone(),
                source,
            },
        )?)),
        Some(url) if url.starts_with("s3://") => {
            let opened = match S3BlobStore::builder_from_env() {
                Ok(builder) => S3BlobStore::open(url, builder).await,
                Err(refused) => Err(refused),
            };
            opened.map(|blobs| Arc::new(blobs) as Arc<dyn BlobStore>).map_err(|source| {
                let hint = match &source {
                    S3OpenError::Authorities { .. } => "leave AWS_CA_BUNDLE out to trust only the built-in authorities".to_owned(),
                    _ if refused_certificate(&source) => format!(
                        "{CERTIFICATE_HINT} (AWS_CA_BUNDLE names a PEM file of authorities to trust besides the built-in ones)"
                    ),
                    _ => "check the bucket exists and AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and \
                          AWS_SECRET_ACCESS_KEY"
                        .to_owned(),
                };
                OpenError::S3 {
                    url: url.to_owned(),
                    source,
                    hint,
                }
            })
        }
        Some(url) => Err(unsupported(
            "blob store",
            url,
            "use s3://BUCKET[/PREFIX], or leave it out to keep blobs in the data folder",
        )),
    }
}

/// Opens the metadata store alone (what the admin commands need), applying pending migrations.
pub async fn open_metadata(config: &BackendConfig) -> Result<Arc<dyn MetadataStore>, OpenError> {
    match config.metadata_url.as_deref() {
        None => {
            let store = SqliteStore::open(&config.data_dir)
                .await
                .map_err(|source| OpenError::Metadata {
                    location: format!("in the data folder {}", config.data_dir.display()),
                    hint: hint(
                        &source,
                        "check that the data folder exists and is writable, and the disk has room",
                    ),
                    source,
                })?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            check_database_tls(url)?;
            let store = PgStore::open(url).await.map_err(|source| OpenError::Metadata {
                location: format!("at {}", redacted(url)),
                hint: if refused_certificate(&source) {
                    format!("; {CERTIFICATE_HINT} (the URL's sslrootcert)")
                } else {
                    hint(
                        &source,
                        "check that PostgreSQL is running and reachable at that address, and that the URL's user, password and database are right",
                    )
                },
                source,
            })?;
            Ok(Arc::new(store))
        }
        Some(url) => Err(unsupported(
            "metadata store",
            url,
            "use postgres://USER@HOST:PORT/DB, or leave it out for the SQLite database in the data folder",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            redacted("postgres://app:s3cret@db.internal:5432/cloudnexus"),
            "postgres://app:***@db.internal:5432/cloudnexus"
        );
        assert_eq!(redacted("postgres://app@db:5432/x"), "postgres://app@db:5432/x");
        assert_eq!(redacted("postgres://a:b:c@d/e"), "postgres://a:***@d/e");
        assert_eq!(redacted("not a url"), "not a url");
    }
}
