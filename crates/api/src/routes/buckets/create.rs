//! `POST /v1/buckets`: create a bucket in the caller's project.

use super::BucketResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::ApiJson;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::{BucketName, StorageClass, Tags};
use cloudnexus_service::buckets::CreateBucket;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The body of `POST /v1/buckets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBucketRequest {
    /// Globally unique; 3-63 characters of `a-z 0-9 . -` (S3's rules for general-purpose buckets).
    #[schema(example = "prod-assets-us-east")]
    pub name: Option<String>,
    /// One of the configured regions.
    #[schema(example = "us-east-1")]
    pub region: Option<String>,
    /// `STANDARD` (default), `INFREQUENT` or `GLACIER`.
    #[schema(example = "STANDARD")]
    pub storage_class: Option<String>,
    /// Whether objects can be read without credentials (default false).
    pub public: Option<bool>,
    /// At most 50; keys 1-63 of `a-z 0-9 _ -` starting with a letter; values at most 256 characters.
    #[schema(example = json!({"env": "production", "team": "frontend"}))]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Parses a tag map, the rule broken naming the tag.
pub(super) fn parse_tags(tags: &BTreeMap<String, String>) -> Result<Tags, FieldError> {
    Tags::parse(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| FieldError::new("tags", e.to_string()))
}

pub(super) fn parse_storage_class(s: &str) -> Result<StorageClass, FieldError> {
    s.parse()
        .map_err(|e: cloudnexus_core::bucket::UnknownStorageClass| FieldError::new("storage_class", e.to_string()))
}

/// Create a bucket
///
/// Creates a bucket in the caller's project. The name must be unique across all projects.
#[utoipa::path(
    post,
    path = "/v1/buckets",
    tag = "buckets",
    request_body = CreateBucketRequest,
    responses(
        (status = 201, description = "The bucket was created", body = BucketResponse,
         headers(("Location" = String, description = "The new bucket's URL"))),
        (status = 400, description = "A field is missing or breaks a rule; `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken (`bucket_name_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn create_bucket(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<CreateBucketRequest>,
) -> ApiResult<Response> {
    let regions = &state.service.settings().regions;
    let mut errors = Vec::new();
    let name = match body.name.as_deref() {
        None => Err(FieldError::new(
            "name",
            "is required: give the bucket a name such as \"my-bucket\"",
        )),
        Some(n) => BucketName::parse(n).map_err(|e| FieldError::new("name", format!("{n:?} {e}"))),
    };
    let region = match body.region.as_deref() {
        None => Err(FieldError::new(
            "region",
            format!("is required; valid regions are: {}", regions.names().join(", ")),
        )),
        Some(r) => regions.parse(r).map_err(|e| FieldError::new("region", e.to_string())),
    };
    let storage_class = body
        .storage_class
        .as_deref()
        .map_or(Ok(StorageClass::default()), parse_storage_class);
    let tags = body.tags.as_ref().map_or_else(|| Ok(Tags::default()), parse_tags);
    let (name, region, storage_class, tags) = match (name, region, storage_class, tags) {
        (Ok(n), Ok(r), Ok(c), Ok(t)) => (n, r, c, t),
        (n, r, c, t) => {
            errors.extend(n.err());
            errors.extend(r.err());
            errors.extend(c.err());
            errors.extend(t.err());
            return Err(ApiError::validation(errors));
        }
    };

    let create = CreateBucket {
        name,
        region,
        storage_class,
        public: body.public.unwrap_or(false),
        tags,
    };
    let bucket = state.service.create_bucket(&principal, create).await?;
    let location = HeaderValue::from_str(&format!("/v1/buckets/{}", bucket.id)).expect("ids are ascii");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(BucketResponse::from(bucket)),
    )
        .into_response())
}
