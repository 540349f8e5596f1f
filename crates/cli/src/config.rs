//! Configuration: a commented TOML file (`config/cloudnexus.toml` shows every key with its
//! default), environment variables for the common keys, and command-line flags, in rising
//! order of precedence.

use anyhow::{Context, bail};
use cloudnexus_api::ApiSettings;
use cloudnexus_api::listener::ConnectionLimits;
use cloudnexus_api::rate_limit::RateLimitSettings;
use cloudnexus_core::RegionSet;
use cloudnexus_core::rate_limit::Quota;
use cloudnexus_core::region::DEFAULT_REGIONS;
use cloudnexus_service::ServiceSettings;
use cloudnexus_store::BackendConfig;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The whole configuration of a `cloudnexus serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub buckets: BucketConfig,
    pub limits: LimitsConfig,
    pub rate_limits: RateLimitConfig,
    pub objects: ObjectsConfig,
    pub metadata: MetadataConfig,
    pub blobs: BlobsConfig,
    pub s3: S3Config,
}

/// The S3 protocol listener.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Where to serve the S3 protocol; absent for no S3 listener.
    pub listen: Option<SocketAddr>,
    /// With a domain, `BUCKET.DOMAIN` hosts name buckets (virtual-hosted style) besides paths.
    pub domain: Option<String>,
    /// The file holding the master key that seals S3 secrets (64 hex characters); by default
    /// `DATA_DIR/s3-master.key`, created when first needed (required with a metadata URL).
    pub master_key_file: Option<PathBuf>,
}

/// Where object bytes live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobsConfig {
    /// `s3://BUCKET[/PREFIX]` (endpoint, region and credentials from the `AWS_*` variables);
    /// absent for the data folder's `blobs/`.
    pub url: Option<String>,
    /// How old an unreferenced blob must be before the sweep removes it, in seconds; by
    /// default 0 for the data folder (one process writes it) and an hour for an S3 store
    /// (several nodes write it, and a blob is written before its object commits).
    pub orphan_grace_seconds: Option<u64>,
}

impl BlobsConfig {
    /// The grace period of the orphan sweep (see `orphan_grace_seconds`).
    pub fn orphan_grace(&self) -> std::time::Duration {
        let default = if self.url.is_some() { 3600 } else { 0 };
        std::time::Duration::from_secs(self.orphan_grace_seconds.unwrap_or(default))
    }
}

/// Where the metadata lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB`; absent for SQLite in the data folder.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectsConfig {
    /// The largest object a PUT may store, in bytes.
    pub max_object_bytes: u64,
    /// How long a multipart upload (S3) may stay incomplete before it is aborted and its parts
    /// removed, in seconds.
    pub multipart_upload_expiry_seconds: u64,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        Self {
            max_object_bytes: 5 * 1024 * 1024 * 1024,
            multipart_upload_expiry_seconds: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BucketConfig {
    pub regions: Vec<String>,
    pub soft_delete_retention_seconds: u64,
    pub purge_interval_seconds: u64,
    /// Memory for rendered list pages, in MiB (0: no cache).
    pub list_cache_mib: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_json_body_bytes: usize,
    /// Open connections per listener; at the limit new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests worked on at once (both protocols); one more is answered 503 at once.
    pub max_in_flight_requests: usize,
    /// How long a request's headers may take to arrive (and an idle connection may stay open).
    pub header_read_timeout_seconds: u64,
    /// How long a request body may pause before the request fails.
    pub body_idle_timeout_seconds: u64,
}

/// Rate-limit policies: requests per window, per API key (tokens count against their key).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Proxies whose `X-Forwarded-For` is believed for the failed-auth limit.
    pub trusted_proxies: Vec<IpAddr>,
    /// The Redis server that counts for every node; `None` for this process's memory.
    pub redis_url: Option<String>,
    /// Certificate authorities (a PEM file) to trust for a `rediss://` server instead of the
    /// system's.
    pub redis_ca_file: Option<PathBuf>,
    /// What every rate-limit key in Redis starts with (several deployments on one server).
    pub redis_key_prefix: String,
    #[serde(rename = "list-buckets")]
    pub list_buckets: QuotaConfig,
    pub read: QuotaConfig,
    pub write: QuotaConfig,
    pub tokens: QuotaConfig,
    /// Invalid credentials per client address.
    #[serde(rename = "failed-auth")]
    pub failed_auth: QuotaConfig,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    pub requests: u32,
    pub window_seconds: u32,
}

impl From<Quota> for QuotaConfig {
    fn from(q: Quota) -> Self {
        Self {
            requests: q.requests,
            window_seconds: u32::try_from(q.window_millis / 1000).unwrap_or(u32::MAX),
        }
    }
}

impl QuotaConfig {
    fn quota(self, name: &str) -> anyhow::Result<Quota> {
        if self.window_seconds == 0 {
            bail!("rate_limits.{name}.window_seconds must be at least 1");
        }
        Ok(Quota {
            requests: self.requests,
            window_millis: i64::from(self.window_seconds) * 1000,
        })
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let d = RateLimitSettings::default();
        Self {
            trusted_proxies: d.trusted_proxies,
            redis_url: None,
            redis_ca_file: None,
            redis_key_prefix: cloudnexus_store::DEFAULT_LIMITER_KEY_PREFIX.to_owned(),
            list_buckets: d.list_buckets.into(),
            read: d.read.into(),
            write: d.write.into(),
            tokens: d.tokens.into(),
            failed_auth: d.failed_auth.into(),
        }
    }
}

impl RateLimitConfig {
    fn settings(&self) -> anyhow::Result<RateLimitSettings> {
        Ok(RateLimitSettings {
            list_buckets: self.list_buckets.quota("list-buckets")?,
            read: self.read.quota("read")?,
            write: self.write.quota("write")?,
            tokens: self.tokens.quota("tokens")?,
            failed_auth: self.failed_auth.quota("failed-auth")?,
            trusted_proxies: self.trusted_proxies.clone(),
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            log: LogConfig::default(),
            buckets: BucketConfig::default(),
            limits: LimitsConfig::default(),
            rate_limits: RateLimitConfig::default(),
            objects: ObjectsConfig::default(),
            metadata: MetadataConfig::default(),
            blobs: BlobsConfig::default(),
            s3: S3Config::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

impl Default for BucketConfig {
    fn default() -> Self {
        Self {
            regions: DEFAULT_REGIONS.iter().map(|r| (*r).to_owned()).collect(),
            soft_delete_retention_seconds: 7 * 24 * 3600,
            purge_interval_seconds: 60,
            list_cache_mib: 64,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let connections = ConnectionLimits::default();
        Self {
            max_json_body_bytes: 64 * 1024,
            max_connections: connections.max_connections,
            max_in_flight_requests: connections.max_in_flight_requests,
            header_read_timeout_seconds: connections.header_read_timeout.as_secs(),
            body_idle_timeout_seconds: connections.body_idle_timeout.as_secs(),
        }
    }
}

impl LimitsConfig {
    fn connection_limits(&self) -> anyhow::Result<ConnectionLimits> {
        if self.max_connections == 0 || self.max_in_flight_requests == 0 {
            bail!("limits.max_connections and limits.max_in_flight_requests must be at least 1");
        }
        if self.header_read_timeout_seconds == 0 || self.body_idle_timeout_seconds == 0 {
            bail!("limits.header_read_timeout_seconds and limits.body_idle_timeout_seconds must be at least 1");
        }
        Ok(ConnectionLimits {
            max_connections: self.max_connections,
            max_in_flight_requests: self.max_in_flight_requests,
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_seconds),
            body_idle_timeout: std::time::Duration::from_secs(self.body_idle_timeout_seconds),
        })
    }
}

impl Config {
    /// Reads a TOML file; unknown keys are errors, so typos do not pass silently.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {} is invalid", path.display()))
    }

    /// Applies the environment variables that override single keys.
    pub fn apply_env(&mut self) -> anyhow::Result<()> {
        if let Ok(level) = std::env::var("CLOUDNEXUS_LOG") {
            self.log.level = level;
        }
        if let Ok(format) = std::env::var("CLOUDNEXUS_LOG_FORMAT") {
            self.log.format = match format.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => bail!("CLOUDNEXUS_LOG_FORMAT must be \"text\" or \"json\", not {other:?}"),
            };
        }
        Ok(())
    }

    /// Where the backends are: the ones the configuration names, else the embedded ones in the
    /// data folder.
    pub fn backends(&self) -> BackendConfig {
        BackendConfig {
            data_dir: self.data_dir.clone(),
            metadata_url: self.metadata.url.clone(),
            blob_url: self.blobs.url.clone(),
            limiter_url: self.rate_limits.redis_url.clone(),
            limiter_key_prefix: Some(self.rate_limits.redis_key_prefix.clone()),
            limiter_ca_file: self.rate_limits.redis_ca_file.clone(),
        }
    }

    /// Checks the values and turns them into the service's and the HTTP layer's settings.
    pub fn settings(&self) -> anyhow::Result<(ServiceSettings, ApiSettings)> {
        let regions = RegionSet::new(self.buckets.regions.iter().cloned()).context("buckets.regions")?;
        if regions.is_empty() {
            bail!("buckets.regions must name at least one region");
        }
        let retention = i64::try_from(self.buckets.soft_delete_retention_seconds)
            .context("buckets.soft_delete_retention_seconds is too large")?;
        if self.buckets.purge_interval_seconds == 0 {
            bail!("buckets.purge_interval_seconds must be at least 1");
        }
        let service = ServiceSettings {
            regions,
            soft_delete_retention_seconds: retention,
            max_object_bytes: self.objects.max_object_bytes,
            s3_master_key: None,
            multipart_expiry_seconds: i64::try_from(self.objects.multipart_upload_expiry_seconds)
                .context("objects.multipart_upload_expiry_seconds is too large")?,
        };
        let api = ApiSettings {
            max_json_body_bytes: self.limits.max_json_body_bytes,
            connections: self.limits.connection_limits()?,
            rate_limits: self.rate_limits.settings()?,
            list_cache_bytes: self
                .buckets
                .list_cache_mib
                .checked_mul(1024 * 1024)
                .context("buckets.list_cache_mib is too large")?,
        };
        Ok((service, api))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orphan_sweep_waits_an_hour_on_a_shared_store_and_not_on_the_data_folder() {
        let mut blobs = BlobsConfig::default();
        assert_eq!(blobs.orphan_grace(), std::time::Duration::ZERO);
        blobs.url = Some("s3://bucket".to_owned());
        assert_eq!(blobs.orphan_grace(), std::time::Duration::from_secs(3600));
        blobs.orphan_grace_seconds = Some(5);
        assert_eq!(blobs.orphan_grace(), std::time::Duration::from_secs(5));
    }

    #[test]
    fn the_shipped_example_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/cloudnexus.toml");
        let shipped = Config::from_file(&path).unwrap();
        let defaults = Config::default();
        assert_eq!(shipped.listen, defaults.listen);
        assert_eq!(shipped.data_dir, defaults.data_dir);
        assert_eq!(shipped.buckets.regions, defaults.buckets.regions);
        assert_eq!(
            shipped.buckets.soft_delete_retention_seconds,
            defaults.buckets.soft_delete_retention_seconds
        );
        assert_eq!(shipped.buckets.list_cache_mib, defaults.buckets.list_cache_mib);
        assert_eq!(shipped.limits.max_json_body_bytes, defaults.limits.max_json_body_bytes);
        assert_eq!(
            shipped.limits.connection_limits().unwrap(),
            defaults.limits.connection_limits().unwrap()
        );
        assert_eq!(
            defaults.limits.connection_limits().unwrap(),
            ConnectionLimits::default()
        );
        assert_eq!(shipped.metadata.url, None);
        assert_eq!(shipped.rate_limits.redis_url, None);
        assert_eq!(shipped.blobs.url, None);
        assert_eq!(shipped.s3.listen, None);
        assert_eq!(shipped.s3.master_key_file, None);
        assert_eq!(
            shipped.objects.multipart_upload_expiry_seconds,
            defaults.objects.multipart_upload_expiry_seconds
        );
        assert_eq!(
            shipped.rate_limits.redis_key_prefix,
            defaults.rate_limits.redis_key_prefix
        );
        let (service, api) = shipped.settings().unwrap();
        assert_eq!(api.list_cache_bytes, ApiSettings::default().list_cache_bytes);
        assert_eq!(api.rate_limits, RateLimitSettings::default());
        assert_eq!(service.max_object_bytes, ServiceSettings::default().max_object_bytes);
    }

    #[test]
    fn unknown_keys_and_bad_regions_are_refused() {
        assert!(toml::from_str::<Config>("listn = \"1.2.3.4:5\"").is_err());
        let mut c = Config::default();
        c.buckets.regions = vec!["Bad Region".into()];
        assert!(c.settings().is_err());
        c.buckets.regions = vec![];
        assert!(c.settings().is_err());
        let mut c = Config::default();
        c.rate_limits.read.window_seconds = 0;
        assert!(c.settings().is_err());
    }
}
