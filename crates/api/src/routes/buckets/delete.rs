//! `DELETE /v1/buckets/{bucket}`: soft delete. The bucket and its objects are kept for the
//! configured retention (its name stays taken), then purged by the background task.

use super::{BucketResponse, change_failed, find_bucket};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::State;
use cloudnexus_core::Scope;

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
        (status = 400, description = "`{bucket}` is neither an id nor a valid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is already soft-deleted (`bucket_deleted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn delete_bucket(
    State(state): State<AppState>,
    principal: Principal,
    BucketParam(bucket): BucketParam,
) -> ApiResult<Json<BucketResponse>> {
    principal.require(Scope::Write)?;
    let found = find_bucket(&state, &principal, &bucket).await?;
    let now = state.clock.now();
    let purge_at = now.plus_seconds(state.settings.soft_delete_retention_seconds);
    let deleted = state
        .store
        .soft_delete_bucket(&principal.project_id, &found.id, now, purge_at)
        .await
        .map_err(|e| change_failed(e, &bucket))?;
    tracing::info!(bucket.id = %deleted.id, project.id = %deleted.project_id, purge_at = %purge_at, "bucket soft-deleted");
    Ok(Json(deleted.into()))
}
