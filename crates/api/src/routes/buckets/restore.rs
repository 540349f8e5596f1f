//! `POST /v1/buckets/{bucket}/restore`: bring a soft-deleted bucket back before it is purged.

use super::BucketResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;

/// Restore a soft-deleted bucket
///
/// Brings a soft-deleted bucket back, with its objects, as it was before the delete.
#[utoipa::path(
    post,
    path = "/v1/buckets/{bucket}/restore",
    tag = "buckets",
    params(("bucket" = String, Path, description = "The bucket's id (`bkt_...`) or name")),
    responses(
        (status = 200, description = "The restored bucket", body = BucketResponse),
        (status = 409, description = "The bucket is not deleted (`bucket_not_deleted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn restore_bucket(
    State(state): State<AppState>,
    Caller(principal): Caller,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    Ok(Json(state.service.restore_bucket(&principal, &bucket).await?.into()))
}
