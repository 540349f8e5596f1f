//! `DELETE /v1/buckets/{bucket}/objects/{key}`: idempotent; 204 whether or not the key existed.

use super::{ObjectPath, collect_garbage, writable_bucket};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::routes::buckets::change_failed;
use axum::extract::State;
use axum::http::StatusCode;

/// Delete an object
///
/// Removes the object; deleting a key that does not exist also answers 204.
#[utoipa::path(
    delete,
    path = "/v1/buckets/{bucket}/objects/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "The bucket's id or name"),
        ("key" = String, Path, description = "The object key; may contain `/`"),
    ),
    responses(
        (status = 204, description = "The object is gone (or never was)"),
        (status = 400, description = "Bad bucket or key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn delete_object(
    State(state): State<AppState>,
    principal: Principal,
    ObjectPath { bucket, key }: ObjectPath,
) -> ApiResult<StatusCode> {
    let target = writable_bucket(&state, &principal, &bucket).await?;
    let removed = state
        .store
        .delete_object(&principal.project_id, &target.id, &key, state.clock.now())
        .await
        .map_err(|e| change_failed(e, &bucket))?;
    if removed.is_some() {
        collect_garbage(&state).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
