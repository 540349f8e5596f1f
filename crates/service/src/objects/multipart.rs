//! Multipart uploads, durable like single writes:
//!
//! - each part's bytes go to a durable blob before its row is written, and only then is the
//!   part acknowledged; a part sent again replaces the first, whose blob becomes garbage;
//! - completing concatenates the parts the client names into a new durable blob (with the
//!   bytes' real MD5 checked nowhere but kept as S3's multipart ETag), then one transaction
//!   stores the object, adjusts the bucket's usage, and removes the upload, queueing the
//!   parts' blobs as garbage: a crash before it leaves the upload as it was (the new blob is an
//!   orphan for the sweep), after it the object is whole;
//! - aborting, or expiring an upload left alone for the configured time, removes it the same way.

use super::{blob_write_failed, live};
use crate::buckets::change_failed;
use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::multipart::{MIN_PART_BYTES, MultipartUpload, PART_NUMBERS, UploadedPart, multipart_etag};
use cloudnexus_core::{Bucket, BucketRef, ContentHeaders, Object, ObjectKey, Timestamp, UploadId, UserMetadata};
use cloudnexus_store::{BlobWriteError, ByteStream, StoreError};
use futures_util::{StreamExt, TryStreamExt};

/// Why a multipart request was refused (beyond the errors every object operation has).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// No such upload in this bucket for this key (never started, completed or aborted).
    #[error("the upload does not exist, or was completed or aborted")]
    NoSuchUpload,
    /// A part number outside 1..=10000.
    #[error("part numbers are 1 to 10000")]
    InvalidPartNumber,
    /// A part named by Complete was not uploaded, or its ETag differs.
    #[error("part {0} was not uploaded with the ETag given")]
    InvalidPart(u32),
    /// Complete named the parts out of ascending order, or named none.
    #[error("the parts must be listed in ascending order, each once")]
    InvalidPartOrder,
    /// A part other than the last is smaller than 5 MiB.
    #[error("part {0} is smaller than 5 MiB and is not the last")]
    EntityTooSmall(u32),
}

impl From<MultipartError> for ServiceError {
    fn from(e: MultipartError) -> Self {
        ServiceError::Multipart(e)
    }
}

/// An upload to start.
#[derive(Debug, Clone)]
pub struct StartUpload {
    pub bucket: BucketRef,
    pub key: ObjectKey,
    pub content_type: String,
    pub content_headers: ContentHeaders,
    pub user_metadata: UserMetadata,
}

/// Which upload a request names: S3 names it by bucket, key and id, and all three must agree.
#[derive(Debug, Clone)]
pub struct UploadRef {
    pub bucket: BucketRef,
    pub key: ObjectKey,
    pub id: UploadId,
}

/// A completion checked by [`Service::plan_completion`], to be written by
/// [`Service::finish_completion`].
#[derive(Debug, Clone)]
pub struct Completion {
    upload: UploadRef,
    bucket: Bucket,
    found: MultipartUpload,
    parts: Vec<UploadedPart>,
    size: u64,
    etag: String,
}

impl Completion {
    /// The size of the object it will write.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A part to store, its headers parsed.
#[derive(Debug, Clone)]
pub struct PartUpload {
    pub number: u32,
    pub declared_length: Option<u64>,
    pub content_md5: Option<[u8; 16]>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Service {
    /// Starts an upload into the caller's live bucket (`storage:write`).
    pub async fn create_upload(
        &self,
        principal: &Principal,
        start: StartUpload,
    ) -> Result<MultipartUpload, ServiceError> {
        principal.authorize(Operation::PutObject)?;
        let bucket = live(self.find_bucket(principal, &start.bucket).await?, &start.bucket)?;
        let upload = MultipartUpload {
            id: UploadId::generate(),
            bucket_id: bucket.id,
            key: start.key,
            content_type: start.content_type,
            content_headers: start.content_headers,
            user_metadata: start.user_metadata,
            initiated: self.clock().now(),
        };
        self.store()
            .create_upload(&principal.project_id, &upload)
            .await
            .map_err(|e| change_failed(e, &start.bucket))?;
        tracing::info!(upload.id = %upload.id, bucket.id = %upload.bucket_id, "multipart upload started");
        Ok(upload)
    }

    /// The caller's live bucket and the upload the request names in it.
    async fn open_upload(
        &self,
        principal: &Principal,
        upload: &UploadRef,
    ) -> Result<(Bucket, MultipartUpload), ServiceError> {
        let bucket = live(self.find_bucket(principal, &upload.bucket).await?, &upload.bucket)?;
        match self.store().find_upload(&upload.id).await? {
            Some(found) if found.bucket_id == bucket.id && found.key == upload.key => Ok((bucket, found)),
            _ => Err(MultipartError::NoSuchUpload.into()),
        }
    }

    /// Stores one part (`storage:write`); returns once its bytes and row are durable.
    pub async fn upload_part(
        &self,
        principal: &Principal,
        upload: &UploadRef,
        part: PartUpload,
        body: ByteStream,
    ) -> Result<UploadedPart, ServiceError> {
        principal.authorize(Operation::PutObject)?;
        if !PART_NUMBERS.contains(&part.number) {
            return Err(MultipartError::InvalidPartNumber.into());
        }
        self.open_upload(principal, upload).await?;
        let max = self.settings().max_object_bytes;
        if part.declared_length.is_some_and(|n| n > max) {
            return Err(ServiceError::ObjectTooLarge { max });
        }
        let written = self.blobs().write(body, max).await.map_err(blob_write_failed)?;
        if part.content_md5.is_some_and(|m| m != written.md5) {
            self.discard(written.id).await;
            return Err(ServiceError::BadDigest);
        }
        let stored = UploadedPart {
            number: part.number,
            blob_id: written.id.clone(),
            size_bytes: written.size,
            etag: hex(&written.md5),
            last_modified: self.clock().now(),
        };
        match self.store().put_part(&principal.project_id, &upload.id, &stored).await {
            Ok(replaced) => {
                if replaced.is_some() {
                    self.collect_garbage_soon();
                }
                Ok(stored)
            }
            Err(e) => {
                self.discard(written.id).await;
                Err(match e {
                    StoreError::NotFound => MultipartError::NoSuchUpload.into(),
                    other => change_failed(other, &upload.bucket),
                })
            }
        }
    }

    /// Completes an upload from the parts the client lists, by number and ETag, in ascending
    /// order (`storage:write`): [`plan_completion`](Self::plan_completion), then
    /// [`finish_completion`](Self::finish_completion). Returns the stored object.
    pub async fn complete_upload(
        &self,
        principal: &Principal,
        upload: &UploadRef,
        chosen: &[(u32, String)],
    ) -> Result<Object, ServiceError> {
        let plan = self.plan_completion(principal, upload, chosen).await?;
        self.finish_completion(principal, plan).await
    }

    /// Checks a completion request against the stored parts, without writing anything: a
    /// protocol answers its errors at once, and may then finish it while keeping the client's
    /// connection alive.
    pub async fn plan_completion(
        &self,
        principal: &Principal,
        upload: &UploadRef,
        chosen: &[(u32, String)],
    ) -> Result<Completion, ServiceError> {
        principal.authorize(Operation::PutObject)?;
        let (bucket, found) = self.open_upload(principal, upload).await?;
        if chosen.is_empty() || chosen.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(MultipartError::InvalidPartOrder.into());
        }
        let stored = self.all_parts(&upload.id).await?;
        let mut parts = Vec::with_capacity(chosen.len());
        for (i, (number, etag)) in chosen.iter().enumerate() {
            let part = stored
                .iter()
                .find(|p| p.number == *number && p.etag == *etag)
                .ok_or(MultipartError::InvalidPart(*number))?;
            if i + 1 < chosen.len() && part.size_bytes < MIN_PART_BYTES {
                return Err(MultipartError::EntityTooSmall(*number).into());
            }
            parts.push(part.clone());
        }
        let size: u64 = parts.iter().map(|p| p.size_bytes).sum();
        let max = self.settings().max_object_bytes;
        if size > max {
            return Err(ServiceError::ObjectTooLarge { max });
        }
        let etag = multipart_etag(parts.iter().map(|p| p.etag.as_str()))
            .ok_or_else(|| ServiceError::Store(StoreError::other("a stored part's ETag is not an MD5")))?;
        Ok(Completion {
            upload: upload.clone(),
            bucket,
            found,
            parts,
            size,
            etag,
        })
    }

    /// Writes the object a [`Completion`] planned: the parts' bytes into one durable blob, then
    /// one transaction (see the module's documentation).
    pub async fn finish_completion(&self, principal: &Principal, plan: Completion) -> Result<Object, ServiceError> {
        let Completion {
            upload,
            bucket,
            found,
            parts,
            size,
            etag,
        } = plan;
        let upload = &upload;

        // The parts' bytes, one after the other, into one new durable blob.
        let blobs = self.0.blobs.clone();
        let sources: Vec<_> = parts.iter().map(|p| p.blob_id.clone()).collect();
        let concatenated: ByteStream = futures_util::stream::iter(sources)
            .then(move |id| {
                let blobs = blobs.clone();
                async move { blobs.read(&id, None).await }
            })
            .try_flatten()
            .boxed();
        let written = self.blobs().write(concatenated, u64::MAX).await.map_err(|e| match e {
            BlobWriteError::TooLarge(max) => ServiceError::ObjectTooLarge { max },
            BlobWriteError::Body(e) | BlobWriteError::Storage(e) => ServiceError::BlobStorage(e),
        })?;
        if written.size != size {
            self.discard(written.id).await;
            return Err(ServiceError::BlobStorage(std::io::Error::other(format!(
                "the parts held {} bytes, not the {size} their rows record",
                written.size
            ))));
        }
        let object = Object {
            bucket_id: bucket.id,
            key: found.key,
            blob_id: written.id.clone(),
            size_bytes: size,
            etag,
            content_type: found.content_type,
            content_headers: found.content_headers,
            user_metadata: found.user_metadata,
            last_modified: self.clock().now(),
        };
        let used: Vec<_> = parts.iter().map(|p| (p.number, p.blob_id.clone())).collect();
        match self
            .store()
            .complete_upload(&principal.project_id, &upload.id, object.clone(), &used)
            .await
        {
            Ok(_) => {
                self.collect_garbage_soon();
                tracing::info!(upload.id = %upload.id, bucket.id = %object.bucket_id, size, parts = parts.len(), "multipart upload completed");
                Ok(object)
            }
            Err(e) => {
                self.discard(written.id).await;
                Err(match e {
                    StoreError::NotFound => MultipartError::NoSuchUpload.into(),
                    // A part was sent again while the upload was being completed.
                    StoreError::PreconditionFailed => MultipartError::InvalidPart(parts[0].number).into(),
                    other => change_failed(other, &upload.bucket),
                })
            }
        }
    }

    async fn all_parts(&self, upload: &UploadId) -> Result<Vec<UploadedPart>, ServiceError> {
        let mut parts = Vec::new();
        loop {
            let after = parts.last().map_or(0, |p: &UploadedPart| p.number);
            let page = self.store().list_parts(upload, after, 1000).await?;
            let done = page.len() < 1000;
            parts.extend(page);
            if done {
                return Ok(parts);
            }
        }
    }

    /// Aborts an upload (`storage:write`): its parts are removed in the background.
    pub async fn abort_upload(&self, principal: &Principal, upload: &UploadRef) -> Result<(), ServiceError> {
        principal.authorize(Operation::DeleteObject)?;
        self.open_upload(principal, upload).await?;
        if !self.store().abort_upload(&upload.id, self.clock().now()).await? {
            return Err(MultipartError::NoSuchUpload.into());
        }
        self.collect_garbage_soon();
        tracing::info!(upload.id = %upload.id, "multipart upload aborted");
        Ok(())
    }

    /// The upload and up to `limit` of its parts numbered above `after` (`storage:read`).
    pub async fn list_parts(
        &self,
        principal: &Principal,
        upload: &UploadRef,
        after: u32,
        limit: u32,
    ) -> Result<(MultipartUpload, Vec<UploadedPart>), ServiceError> {
        principal.authorize(Operation::ListObjects)?;
        let (_, found) = self.open_upload(principal, upload).await?;
        let parts = self.store().list_parts(&upload.id, after, limit).await?;
        Ok((found, parts))
    }

    /// Up to `limit` uploads in progress in the caller's live bucket whose key starts with
    /// `prefix`, after a key (and an upload of that key) (`storage:read`).
    pub async fn list_uploads(
        &self,
        principal: &Principal,
        bucket: &BucketRef,
        prefix: &str,
        after: Option<(ObjectKey, Option<UploadId>)>,
        limit: u32,
    ) -> Result<Vec<MultipartUpload>, ServiceError> {
        principal.authorize(Operation::ListObjects)?;
        let found = live(self.find_bucket(principal, bucket).await?, bucket)?;
        let after = after.as_ref().map(|(key, id)| (key, id.as_ref()));
        Ok(self.store().list_uploads(&found.id, prefix, after, limit).await?)
    }

    /// Aborts the uploads started before `before` (the background task calls it); returns how
    /// many.
    pub async fn expire_uploads(&self, before: Timestamp) -> Result<usize, StoreError> {
        let mut expired = 0;
        loop {
            let due = self.store().uploads_started_before(before, 100).await?;
            for id in &due {
                if self.store().abort_upload(id, self.clock().now()).await? {
                    tracing::info!(upload.id = %id, "abandoned multipart upload expired");
                    expired += 1;
                }
            }
            if due.len() < 100 {
                if expired > 0 {
                    self.collect_garbage_soon();
                }
                return Ok(expired);
            }
        }
    }
}
