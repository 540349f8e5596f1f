//! The `s3s::S3` implementation: one method per supported operation, each handing its request
//! to [`buckets`](super::buckets) or [`objects`](super::objects). Every other operation keeps
//! the trait's default answer, `NotImplemented` (see `docs/s3-compatibility.md`).

use super::{buckets, multipart, objects};
use crate::AppState;
use cloudnexus_core::Timestamp;
use cloudnexus_service::Principal;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput,
    ListPartsInput, ListPartsOutput, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput, UploadPartOutput,
};
use s3s::dto::{
    CopyObjectInput, CopyObjectOutput, CreateBucketInput, CreateBucketOutput, DeleteBucketInput, DeleteBucketOutput,
    DeleteBucketTaggingInput, DeleteBucketTaggingOutput, DeleteObjectInput, DeleteObjectOutput, DeleteObjectsInput,
    DeleteObjectsOutput, GetBucketLocationInput, GetBucketLocationOutput, GetBucketTaggingInput,
    GetBucketTaggingOutput, GetObjectInput, GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput,
    HeadObjectOutput, ListBucketsInput, ListBucketsOutput, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, PutBucketTaggingInput, PutBucketTaggingOutput, PutObjectInput, PutObjectOutput,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use std::time::{Duration, SystemTime};

/// The S3 protocol over the service.
#[derive(Debug, Clone)]
pub(super) struct CloudNexusS3(AppState);

impl CloudNexusS3 {
    pub(super) fn new(state: AppState) -> Self {
        Self(state)
    }
}

/// The caller, which [`Access`](super::access::Access) found for every signed request.
pub(super) fn principal<T>(req: &S3Request<T>) -> S3Result<Principal> {
    req.extensions
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| s3_error!(AccessDenied, "Access Denied: this operation needs a signed request"))
}

/// A time of the service as S3 writes it.
pub(super) fn s3_time(t: Timestamp) -> s3s::dto::Timestamp {
    let seconds = u64::try_from(t.unix_seconds()).unwrap_or(0);
    s3s::dto::Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

/// An S3 time as Unix seconds.
pub(super) fn unix_seconds(t: &s3s::dto::Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

fn ok<T>(output: T) -> S3Result<S3Response<T>> {
    Ok(S3Response::new(output))
}

#[async_trait::async_trait]
impl S3 for CloudNexusS3 {
    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        ok(buckets::list_buckets(&self.0, req).await?)
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        ok(buckets::create_bucket(&self.0, req).await?)
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        ok(buckets::head_bucket(&self.0, req).await?)
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        ok(buckets::get_bucket_location(&self.0, req).await?)
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        ok(buckets::delete_bucket(&self.0, req).await?)
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        ok(buckets::get_bucket_tagging(&self.0, req).await?)
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        ok(buckets::put_bucket_tagging(&self.0, req).await?)
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        ok(buckets::delete_bucket_tagging(&self.0, req).await?)
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        ok(objects::list_objects(&self.0, req).await?)
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        ok(objects::list_objects_v2(&self.0, req).await?)
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        ok(objects::put_object(&self.0, req).await?)
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        ok(objects::get_object(&self.0, req).await?)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        ok(objects::head_object(&self.0, req).await?)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        ok(objects::delete_object(&self.0, req).await?)
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        ok(objects::delete_objects(&self.0, req).await?)
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        ok(objects::copy_object(&self.0, req).await?)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        ok(multipart::create(&self.0, req).await?)
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        ok(multipart::upload_part(&self.0, req).await?)
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        ok(multipart::upload_part_copy(&self.0, req).await?)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        ok(multipart::complete(&self.0, req).await?)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        ok(multipart::abort(&self.0, req).await?)
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        ok(multipart::list_parts(&self.0, req).await?)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        ok(multipart::list_uploads(&self.0, req).await?)
    }
}
