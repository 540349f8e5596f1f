//! `GET /v1/buckets/{bucket}`: one bucket, by id or name.

use super::BucketResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::{RawQuery, State};

/// Get a bucket
///
/// Returns one live bucket of the caller's project. `{bucket}` is the bucket's id or its name.
/// A soft-deleted bucket is a 404 here, as it is absent from listings; the list shows it with
/// `include=deleted`.
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
    RawQuery(query): RawQuery,
) -> ApiResult<Json<BucketResponse>> {
    refuse_parameters(query.as_deref())?;
    Ok(Json(state.service.get_bucket(&principal, &bucket, false).await?.into()))
}

/// This GET takes no parameters: each one sent is a 400 naming it, so that `include=deleted`
/// (a parameter of the list) is never silently ignored here.
fn refuse_parameters(raw_query: Option<&str>) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
        .map(|(name, _)| {
            FieldError::new(
                name.as_ref(),
                "is not a parameter of this endpoint, which takes none; a soft-deleted bucket is \
                 listed by `GET /v1/buckets?include=deleted`",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::refuse_parameters;

    #[test]
    fn no_parameter_is_accepted() {
        assert!(refuse_parameters(None).is_ok());
        assert!(refuse_parameters(Some("")).is_ok());
        for bad in ["include=deleted", "include=all", "limit=5", "x"] {
            assert!(refuse_parameters(Some(bad)).is_err(), "{bad}");
        }
    }
}
