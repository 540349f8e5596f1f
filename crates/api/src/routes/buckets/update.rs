//! `PATCH /v1/buckets/{bucket}`: change a live bucket's tags (replaced whole), `public` flag or
//! storage class. Its name and region are fixed at creation.

use super::BucketResponse;
use super::create::{parse_storage_class, parse_tags};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ApiJson, BucketParam};
use axum::Json;
use axum::extract::State;
use cloudnexus_store::BucketPatch;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The body of `PATCH /v1/buckets/{bucket}`; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBucketRequest {
    /// Replaces all of the bucket's tags (`{}` removes them all).
    #[schema(example = json!({"env": "staging"}))]
    pub tags: Option<BTreeMap<String, String>>,
    pub public: Option<bool>,
    #[schema(example = "INFREQUENT")]
    pub storage_class: Option<String>,
    /// Not changeable; present only to explain that when sent.
    #[serde(default)]
    #[schema(ignore)]
    name: Option<IgnoredAny>,
    /// Not changeable; present only to explain that when sent.
    #[serde(default)]
    #[schema(ignore)]
    region: Option<IgnoredAny>,
}

/// Update a bucket
///
/// Changes a live bucket's `tags` (replaced whole), `public` or `storage_class`.
#[utoipa::path(
    patch,
    path = "/v1/buckets/{bucket}",
    tag = "buckets",
    params(("bucket" = String, Path, description = "The bucket's id (`bkt_...`) or name")),
    request_body = UpdateBucketRequest,
    responses(
        (status = 200, description = "The changed bucket", body = BucketResponse),
        (status = 400, description = "A field breaks a rule or cannot be changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted (`bucket_deleted`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn update_bucket(
    State(state): State<AppState>,
    Caller(principal): Caller,
    BucketParam(bucket): BucketParam,
    ApiJson(body): ApiJson<UpdateBucketRequest>,
) -> ApiResult<Json<BucketResponse>> {
    let mut errors = Vec::new();
    for (field, sent) in [("name", body.name.is_some()), ("region", body.region.is_some())] {
        if sent {
            errors.push(FieldError::new(
                field,
                "cannot be changed after a bucket is created; create a new bucket instead",
            ));
        }
    }
    let tags = body.tags.as_ref().map(parse_tags).transpose().unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let storage_class = body
        .storage_class
        .as_deref()
        .map(parse_storage_class)
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let patch = BucketPatch {
        tags,
        public: body.public,
        storage_class,
    };
    let updated = state.service.update_bucket(&principal, &bucket, patch).await?;
    Ok(Json(updated.into()))
}
