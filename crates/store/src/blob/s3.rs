//! Blobs in any S3-compatible store, through `object_store`: `s3://BUCKET[/PREFIX]` holds each
//! blob at `PREFIX/blobs/<blob id>`. Endpoint, region and credentials come from the standard
//! `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, ...); an `http://` endpoint is allowed as given. An `https://`
//! endpoint's certificate is checked against the built-in authorities and those of the PEM file
//! `AWS_CA_BUNDLE` names (as the AWS CLI and SDKs read it): a private authority's MinIO or Garage.
//!
//! A write that fits in one part ([`PART_BYTES`]) is one PUT; a larger one streams as a
//! multipart upload, at most [`PARTS_IN_FLIGHT`] parts at a time, so a request holds a bounded
//! amount of memory whatever the object's size. Either way the call returns only once the store
//! has confirmed the whole object (the PUT or the completed upload), and on any failure, or when
//! the request is dropped halfway, the upload is aborted so that no part is left behind. (Parts
//! of an upload whose node died cannot be aborted by it: `docs/operations.md` asks for the
//! bucket's rule that aborts incomplete multipart uploads after a day.)

use super::{BlobStore, BlobWriteError, ByteStream, WrittenBlob, read_start};
use async_trait::async_trait;
use bytes::Bytes;
use cloudnexus_core::BlobId;
use futures_util::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::HttpErrorKind;
use object_store::path::Path;
use object_store::{
    BackoffConfig, Certificate, ClientOptions, GetOptions, GetRange, MultipartUpload, ObjectStore, ObjectStoreExt,
    PutPayload, PutPayloadMut, RetryConfig,
};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::task::JoinSet;

/// The size of each part of a multipart upload (S3's minimum is 5 MiB), and the most a write
/// buffers before it starts one.
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts uploaded at once by one write: its memory stays under `(PARTS_IN_FLIGHT + 1) *
/// PART_BYTES`.
pub const PARTS_IN_FLIGHT: usize = 2;
const FOLDER: &str = "blobs";
/// A request to the store is retried this many times, with backoff, on a failure that may pass
/// (a connection refused, a 5xx)...
const MAX_RETRIES: usize = 3;
/// ...for at most this long, so that a store that is down fails a request in seconds, not the
/// crate's default three minutes.
const RETRY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an `s3://` URL could not be used.
#[derive(Debug, thiserror::Error)]
pub enum S3OpenError {
    #[error("the URL must look like s3://BUCKET or s3://BUCKET/PREFIX")]
    BadUrl,
    #[error("{0}")]
    Store(#[from] object_store::Error),
    #[error(
        "cannot use {} ({CA_BUNDLE_VARIABLE}) as certificate authorities: {reason}; give a PEM \
         file of CA certificates",
        .path.display()
    )]
    Authorities { path: PathBuf, reason: String },
}

/// The variable naming a PEM file of certificate authorities to trust for an `https://`
/// endpoint besides the built-in ones (the AWS CLI's and SDKs' name for it).
pub const CA_BUNDLE_VARIABLE: &str = "AWS_CA_BUNDLE";

/// `options`, also trusting every certificate of the PEM bundle `pem`. A bundle without one is
/// refused: it would leave a private authority's server refused, unexplained.
pub fn trusting_authorities(options: ClientOptions, pem: &[u8]) -> Result<ClientOptions, String> {
    let certificates = Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())?;
    if certificates.is_empty() {
        return Err("it holds no PEM certificate".to_owned());
    }
    Ok(certificates
        .into_iter()
        .fold(options, ClientOptions::with_root_certificate))
}

/// The HTTP client's settings among the `AWS_*` variables (`AWS_ALLOW_HTTP`, `AWS_TIMEOUT`,
/// `AWS_PROXY_URL`, ...), read as [`AmazonS3Builder::from_env`] reads them: a builder given
/// client options of its own drops the ones it read.
fn client_options_from_env() -> ClientOptions {
    std::env::vars().filter(|(name, _)| name.starts_with("AWS_")).fold(
        ClientOptions::new(),
        |options, (name, value)| match name.to_ascii_lowercase().parse() {
            Ok(AmazonS3ConfigKey::Client(key)) => options.with_config(key, value),
            _ => options,
        },
    )
}

#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    /// `PREFIX/blobs`, under which every blob lives.
    folder: Path,
}

/// A multipart upload in progress: parts are cut from the body at [`PART_BYTES`] and uploaded
/// at most [`PARTS_IN_FLIGHT`] at a time. Unless [`Parts::complete`] succeeds, the upload is
/// aborted: on a failure, and when the write is dropped (the client went away).
struct Parts {
    upload: Option<Box<dyn MultipartUpload>>,
    in_flight: JoinSet<object_store::Result<()>>,
    buffer: PutPayloadMut,
}

impl Parts {
    fn new(upload: Box<dyn MultipartUpload>) -> Self {
        Self {
            upload: Some(upload),
            in_flight: JoinSet::new(),
            buffer: PutPayloadMut::new(),
        }
    }

    /// Waits until at most `n` parts are in flight; fails with the first part that failed.
    async fn wait_until_in_flight_at_most(&mut self, n: usize) -> object_store::Result<()> {
        while self.in_flight.len() > n {
            match self.in_flight.join_next().await {
                Some(Ok(sent)) => sent?,
                Some(Err(join)) => {
                    return Err(object_store::Error::Generic {
                        store: "S3",
                        source: Box::new(join),
                    });
                }
                None => break,
            }
        }
        Ok(())
    }

    fn send_buffer(&mut self) {
        let part = std::mem::take(&mut self.buffer);
        let upload = self.upload.as_mut().expect("not completed");
        self.in_flight.spawn(upload.put_part(part.freeze()));
    }

    async fn push(&mut self, mut bytes: Bytes) -> object_store::Result<()> {
        while !bytes.is_empty() {
            let room = PART_BYTES - self.buffer.content_length();
            if bytes.len() < room {
                self.buffer.push(bytes);
                return Ok(());
            }
            self.buffer.push(bytes.split_to(room));
            self.wait_until_in_flight_at_most(PARTS_IN_FLIGHT - 1).await?;
            self.send_buffer();
        }
        Ok(())
    }

    /// Sends the last part, waits for every part, and completes the upload: the object exists
    /// whole once this returns `Ok`.
    async fn complete(mut self) -> object_store::Result<()> {
        if self.buffer.content_length() > 0 {
            self.send_buffer();
        }
        self.wait_until_in_flight_at_most(0).await?;
        let mut upload = self.upload.take().expect("not completed");
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.upload = Some(upload);
                Err(e)
            }
        }
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        self.in_flight.abort_all();
        if let Some(mut upload) = self.upload.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(error = %e, "could not abort a multipart upload; the bucket's lifecycle rule will");
                }
            });
        }
    }
}

impl S3BlobStore {
    /// The configuration the `AWS_*` variables give ([`AmazonS3Builder::from_env`]), trusting
    /// the authorities of [`CA_BUNDLE_VARIABLE`] too when it names a file.
    pub fn builder_from_env() -> Result<AmazonS3Builder, S3OpenError> {
        let builder = AmazonS3Builder::from_env();
        let Some(path) = std::env::var_os(CA_BUNDLE_VARIABLE).filter(|path| !path.is_empty()) else {
            return Ok(builder);
        };
        let path = PathBuf::from(path);
        let refused = |reason: String| S3OpenError::Authorities {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(&path).map_err(|e| refused(e.to_string()))?;
        let options = trusting_authorities(client_options_from_env(), &pem).map_err(refused)?;
        Ok(builder.with_client_options(options))
    }

    /// The store at `url` (`s3://BUCKET[/PREFIX]`), configured by `builder` (the `AWS_*`
    /// variables: [`AmazonS3Builder::from_env`]). Checks that the bucket can be listed.
    pub async fn open(url: &str, builder: AmazonS3Builder) -> Result<Self, S3OpenError> {
        let rest = url.strip_prefix("s3://").ok_or(S3OpenError::BadUrl)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3OpenError::BadUrl);
        }
        let plain_http = builder
            .get_config_value(&object_store::aws::AmazonS3ConfigKey::Endpoint)
            .is_some_and(|endpoint| endpoint.starts_with("http://"));
        let store = builder
            .with_bucket_name(bucket)
            .with_allow_http(plain_http)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: MAX_RETRIES,
                retry_timeout: RETRY_TIMEOUT,
            })
            .build()?;
        let folder = Path::from(prefix).join(FOLDER);
        let blobs = Self {
            store: Arc::new(store),
            folder,
        };
        // One request proves the endpoint, the credentials and the bucket before serving.
        blobs.store.list_with_delimiter(Some(&blobs.folder)).await?;
        Ok(blobs)
    }

    fn path_of(&self, id: &BlobId) -> Path {
        self.folder.clone().join(id.as_str())
    }

    /// Streams `body` as parts of a multipart upload whose first part is `first`.
    async fn write_parts(
        &self,
        path: &Path,
        first: Bytes,
        mut body: ByteStream,
        mut size: u64,
        md5: &mut Md5,
        max_bytes: u64,
    ) -> Result<u64, BlobWriteError> {
        let upload = self.store.put_multipart(path).await.map_err(storage)?;
        let mut parts = Parts::new(upload);
        parts.push(first).await.map_err(storage)?;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobWriteError::Body)?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(BlobWriteError::TooLarge(max_bytes));
            }
            md5.update(&chunk);
            parts.push(chunk).await.map_err(storage)?;
        }
        parts.complete().await.map_err(storage)?;
        Ok(size)
    }
}

fn storage(e: object_store::Error) -> BlobWriteError {
    BlobWriteError::Storage(io_error(e))
}

/// `e` as an I/O error whose kind says what the service layer needs: missing, the store out of
/// reach (a transient failure, answered 503), or anything else.
fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        other if out_of_reach(&other) => io::Error::new(io::ErrorKind::TimedOut, other),
        other => io::Error::other(other),
    }
}

/// Whether the store could not be reached (or answered nothing in time), retries included.
fn out_of_reach(e: &object_store::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if let Some(http) = error.downcast_ref::<object_store::client::HttpError>() {
            return matches!(
                http.kind(),
                HttpErrorKind::Connect | HttpErrorKind::Timeout | HttpErrorKind::Interrupted | HttpErrorKind::Request
            );
        }
        cause = error.source();
    }
    false
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn write(&self, mut body: ByteStream, max_bytes: u64) -> Result<WrittenBlob, BlobWriteError> {
        let id = BlobId::generate();
        let path = self.path_of(&id);
        // Up to one part is gathered: a body that ends within it is one PUT.
        let mut start = read_start(&mut body, PART_BYTES as u64, max_bytes).await?;
        let first = start.take_bytes();
        let (size, mut md5) = (start.size, start.md5);
        if start.ended {
            self.store
                .put(&path, PutPayload::from_bytes(first))
                .await
                .map_err(storage)?;
            return Ok(WrittenBlob {
                id,
                size,
                md5: md5.finalize().into(),
            });
        }
        let size = self.write_parts(&path, first, body, size, &mut md5, max_bytes).await?;
        Ok(WrittenBlob {
            id,
            size,
            md5: md5.finalize().into(),
        })
    }

    async fn read(&self, id: &BlobId, range: Option<(u64, u64)>) -> io::Result<ByteStream> {
        let options = GetOptions {
            range: range.map(|(first, last)| GetRange::Bounded(first..last + 1)),
            ..GetOptions::default()
        };
        let found = self
            .store
            .get_opts(&self.path_of(id), options)
            .await
            .map_err(io_error)?;
        Ok(found.into_stream().map_err(io_error).boxed())
    }

    async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match self.store.delete(&self.path_of(id)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn blobs_written_before(&self, before: SystemTime) -> io::Result<Vec<BlobId>> {
        let mut listing = self.store.list(Some(&self.folder));
        let mut found = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(io_error)?;
            let Some(id) = meta.location.filename().and_then(BlobId::parse) else {
                continue;
            };
            if SystemTime::from(meta.last_modified) < before {
                found.push(id);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_a_certificate_is_refused() {
        for bundle in ["", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"] {
            let refused = trusting_authorities(ClientOptions::new(), bundle.as_bytes()).unwrap_err();
            assert!(refused.contains("no PEM certificate"), "{refused}");
        }
    }
}
