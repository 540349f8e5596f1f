//! `GET /v1/buckets/{bucket}`: one bucket, by id or name.

use super::BucketResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;

/// Get a bucket
///
/// Returns one bucket of the caller's project, soft-deleted ones included (with `deleted_at`
/// and `purge_at`). `{bucket}` is the bucket's id or its name.
#[utoipa::path(
    get,
    path = "/v1/buckets/{bucket}",
    tag = "buckets",
    params(("bucket" = String, Path, description = "The bucket's id (`bkt_...`) or name")),
    responses(
        (status = 200, description = "The bucket", body = BucketResponse),
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn get_bucket(
    State(state): State<AppState>,
    Caller(principal): Caller,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    Ok(Json(state.service.get_bucket(&principal, &bucket).await?.into()))
}
