//! Bucket operations over S3: list, create (the location constraint is a configured region),
//! head, location, soft delete, and the bucket's tags as its tag set.

use super::errors::from_service;
use super::protocol::{principal, s3_time};
use crate::AppState;
use cloudnexus_core::listing::BucketFilter;
use cloudnexus_core::{BucketName, BucketRef, StorageClass, Tags};
use cloudnexus_service::buckets::CreateBucket;
use cloudnexus_service::listing::{BucketQuery, Start};
use cloudnexus_store::BucketPatch;
use s3s::dto::{
    Bucket as S3Bucket, BucketLocationConstraint, CreateBucketInput, CreateBucketOutput, DeleteBucketInput,
    DeleteBucketOutput, DeleteBucketTaggingInput, DeleteBucketTaggingOutput, GetBucketLocationInput,
    GetBucketLocationOutput, GetBucketTaggingInput, GetBucketTaggingOutput, HeadBucketInput, HeadBucketOutput,
    ListBucketsInput, ListBucketsOutput, PutBucketTaggingInput, PutBucketTaggingOutput, Tag,
};
use s3s::{S3Request, S3Result, s3_error};

/// The most buckets one ListBuckets answer holds (S3's default page is all of an account's
/// buckets, up to 10,000).
const MAX_BUCKETS: u32 = 10_000;
/// Buckets read from the service per page while building a ListBuckets answer.
const SERVICE_PAGE: u32 = 100;

/// The bucket an S3 request names: a bucket name (ids are the JSON API's alone). A name that is
/// not valid names no bucket.
pub(super) fn bucket_ref(name: &str) -> S3Result<BucketRef> {
    BucketName::parse(name)
        .map(BucketRef::Name)
        .map_err(|_| s3_error!(NoSuchBucket, "The specified bucket does not exist: {}", name))
}

pub(super) async fn list_buckets(state: &AppState, req: S3Request<ListBucketsInput>) -> S3Result<ListBucketsOutput> {
    let principal = &principal(&req)?;
    let input = req.input;
    let region = match &input.bucket_region {
        Some(r) => Some(
            state
                .service
                .settings()
                .regions
                .parse(r)
                .map_err(|e| s3_error!(InvalidArgument, "bucket-region: {}", e))?,
        ),
        None => None,
    };
    let wanted = match input.max_buckets {
        None => MAX_BUCKETS,
        Some(n) if (1..=10_000).contains(&n) => n.unsigned_abs(),
        Some(_) => return Err(s3_error!(InvalidArgument, "max-buckets must be from 1 to 10000")),
    };
    let filter = BucketFilter::new(input.prefix.clone(), region, Vec::new(), false);
    let mut start = match &input.continuation_token {
        Some(token) => Start::Cursor(token.clone()),
        None => Start::Offset(0),
    };
    let mut buckets = Vec::new();
    let mut next;
    loop {
        let limit = SERVICE_PAGE.min(wanted - u32::try_from(buckets.len()).unwrap_or(u32::MAX));
        let query = BucketQuery {
            filter: filter.clone(),
            limit,
            start,
        };
        let listing = state
            .service
            .list_buckets(principal, query)
            .await
            .map_err(|e| from_service(e, None, None))?;
        buckets.extend(listing.page.buckets.into_iter().map(|b| S3Bucket {
            bucket_region: Some(b.region.to_string()),
            creation_date: Some(s3_time(b.created_at)),
            name: Some(b.name.to_string()),
        }));
        next = listing.next_cursor;
        match &next {
            Some(cursor) if buckets.len() < wanted as usize => start = Start::Cursor(cursor.clone()),
            _ => break,
        }
    }
    Ok(ListBucketsOutput {
        buckets: Some(buckets),
        continuation_token: next,
        owner: Some(s3s::dto::Owner {
            display_name: Some(principal.project_id.to_string()),
            id: Some(principal.project_id.to_string()),
        }),
        prefix: input.prefix,
    })
}

pub(super) async fn create_bucket(state: &AppState, req: S3Request<CreateBucketInput>) -> S3Result<CreateBucketOutput> {
    let principal = &principal(&req)?;
    let input = req.input;
    let name = BucketName::parse(&input.bucket)
        .map_err(|e| s3_error!(InvalidBucketName, "The specified bucket is not valid: a name {}", e))?;
    let regions = &state.service.settings().regions;
    let constraint = input
        .create_bucket_configuration
        .and_then(|c| c.location_constraint)
        .map(|c| c.as_str().to_owned());
    // Without a constraint, the region the request was signed for when it is one of ours, else
    // the first configured region.
    let region = match constraint {
        Some(wanted) => regions.parse(&wanted).map_err(|_| {
            s3_error!(
                InvalidLocationConstraint,
                "The specified location-constraint is not valid: {} (this server's regions: {})",
                wanted,
                regions.names().join(", ")
            )
        })?,
        None => req
            .region
            .as_ref()
            .and_then(|r| regions.parse(r.as_str()).ok())
            .or_else(|| regions.names().first().and_then(|r| regions.parse(r).ok()))
            .ok_or_else(|| s3_error!(InternalError, "no region is configured"))?,
    };
    let create = CreateBucket {
        name,
        region,
        storage_class: StorageClass::default(),
        public: false,
        tags: Tags::default(),
    };
    let bucket = state
        .service
        .create_bucket(principal, create)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), None))?;
    Ok(CreateBucketOutput {
        location: Some(format!("/{}", bucket.name)),
    })
}

pub(super) async fn head_bucket(state: &AppState, req: S3Request<HeadBucketInput>) -> S3Result<HeadBucketOutput> {
    let bucket = live_bucket(state, &req, &req.input.bucket).await?;
    Ok(HeadBucketOutput {
        bucket_region: Some(bucket.region.to_string()),
        ..Default::default()
    })
}

pub(super) async fn get_bucket_location(
    state: &AppState,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<GetBucketLocationOutput> {
    let bucket = live_bucket(state, &req, &req.input.bucket).await?;
    Ok(GetBucketLocationOutput {
        location_constraint: Some(BucketLocationConstraint::from(bucket.region.to_string())),
    })
}

/// Soft-deletes the bucket, objects and all, as `DELETE /v1/buckets/{bucket}` does: it leaves
/// every listing at once and can be restored until it is purged.
pub(super) async fn delete_bucket(state: &AppState, req: S3Request<DeleteBucketInput>) -> S3Result<DeleteBucketOutput> {
    let principal = &principal(&req)?;
    let name = &req.input.bucket;
    let bucket = bucket_ref(name)?;
    state
        .service
        .delete_bucket(principal, &bucket)
        .await
        .map_err(|e| from_service(e, Some(name), None))?;
    Ok(DeleteBucketOutput {})
}

pub(super) async fn get_bucket_tagging(
    state: &AppState,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<GetBucketTaggingOutput> {
    let bucket = live_bucket(state, &req, &req.input.bucket).await?;
    if bucket.tags.is_empty() {
        return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
    }
    let tag_set = bucket
        .tags
        .iter()
        .map(|(k, v)| Tag {
            key: Some(k.as_str().to_owned()),
            value: Some(v.as_str().to_owned()),
        })
        .collect();
    Ok(GetBucketTaggingOutput { tag_set })
}

pub(super) async fn put_bucket_tagging(
    state: &AppState,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<PutBucketTaggingOutput> {
    let pairs: Vec<(String, String)> = req
        .input
        .tagging
        .tag_set
        .iter()
        .map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default()))
        .collect();
    let tags =
        Tags::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| s3_error!(InvalidTag, "{}", e))?;
    set_tags(state, &req, &req.input.bucket, tags).await?;
    Ok(PutBucketTaggingOutput {})
}

pub(super) async fn delete_bucket_tagging(
    state: &AppState,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<DeleteBucketTaggingOutput> {
    set_tags(state, &req, &req.input.bucket, Tags::default()).await?;
    Ok(DeleteBucketTaggingOutput {})
}

async fn set_tags<T>(state: &AppState, req: &S3Request<T>, name: &str, tags: Tags) -> S3Result<()> {
    let principal = &principal(req)?;
    let patch = BucketPatch {
        tags: Some(tags),
        public: None,
        storage_class: None,
    };
    state
        .service
        .update_bucket(principal, &bucket_ref(name)?, patch)
        .await
        .map_err(|e| from_service(e, Some(name), None))?;
    Ok(())
}

/// The caller's live bucket `name` (a soft-deleted one answers `NoSuchBucket`).
async fn live_bucket<T>(state: &AppState, req: &S3Request<T>, name: &str) -> S3Result<cloudnexus_core::Bucket> {
    let principal = &principal(req)?;
    let bucket = state
        .service
        .get_bucket(principal, &bucket_ref(name)?, true)
        .await
        .map_err(|e| from_service(e, Some(name), None))?;
    if bucket.is_deleted() {
        return Err(from_service(
            cloudnexus_service::ServiceError::BucketDeleted(BucketRef::Name(bucket.name)),
            Some(name),
            None,
        ));
    }
    Ok(bucket)
}
