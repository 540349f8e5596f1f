//! `DELETE /v1/buckets/{bucket}`: soft delete. The bucket and its objects are kept for the
//! configured retention (its name stays taken), then purged by the background task.

use super::BucketResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;

/// Delete a bucket (soft)
///
/// Soft-deletes a live bucket: it leaves the default listing, keeps its name and objects, and
/// can be restored until `purge_at`, when it is purged for good and its name is freed.
#[utoipa::path(
    delete,
    path = "/v1/buckets/{bucket}",
    tag = "buckets",
    params(("bucket" = String, Path, description = "The bucket's id (`bkt_...`) or name")),
    responses(
        (status = 200, description = "The soft-deleted bucket, with `deleted_at` and `purge_at`", body = BucketResponse),
        (status = 409, description = "The bucket is already soft-deleted (`bucket_deleted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn delete_bucket(
    State(state): State<AppState>,
    Caller(principal): Caller,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    Ok(Json(state.service.delete_bucket(&principal, &bucket).await?.into()))
}
