//! `POST /v1/buckets/{bucket}/restore`: bring a soft-deleted bucket back before it is purged.

use super::{BucketResponse, change_failed, find_bucket};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;
use cloudnexus_core::Scope;

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
        (status = 400, description = "`{bucket}` is neither an id nor a valid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project (or it was already purged)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is not deleted (`bucket_not_deleted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn restore_bucket(
    State(state): State<AppState>,
    principal: Principal,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    principal.require(Scope::Write)?;
    let found = find_bucket(&state, &principal, &bucket).await?;
    let restored = state
        .store
        .restore_bucket(&principal.project_id, &found.id, state.clock.now())
        .await
        .map_err(|e| change_failed(e, &bucket))?;
    tracing::info!(bucket.id = %restored.id, project.id = %restored.project_id, "bucket restored");
    Ok(Json(restored.into()))
}
