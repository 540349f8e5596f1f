//! `GET /v1/buckets/{bucket}`: one bucket, by id or name.

use super::{BucketResponse, find_bucket};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;
use cloudnexus_core::Scope;

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
        (status = 400, description = "`{bucket}` is neither an id nor a valid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn get_bucket(
    State(state): State<AppState>,
    principal: Principal,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    principal.require(Scope::Read)?;
    let found = find_bucket(&state, &principal, &bucket).await?;
    Ok(Json(found.into()))
}
