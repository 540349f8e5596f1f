//! `DELETE /v1/buckets/{bucket}/objects/{key}`: idempotent; 204 whether or not the key existed.

use super::ObjectPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
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
        ("key" = String, Path, description = "The object key: 1 to 1024 bytes of UTF-8 without NUL; may contain `/`"),
    ),
    responses(
        (status = 204, description = "The object is gone (or never was)"),
        (status = 400, description = "Bad bucket or key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn delete_object(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ObjectPath { bucket, key }: ObjectPath,
) -> ApiResult<StatusCode> {
    state.service.delete_object(&principal, &bucket, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
