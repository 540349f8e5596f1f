//! `/v1/buckets/{bucket}/objects`: store, read and list a bucket's objects. Keys may hold `/`,
//! so the single-object route is an axum wildcard (`{*key}`), registered directly and documented
//! through [`ObjectDocs`]. Objects of another project's bucket answer 404; objects of a public
//! bucket can be read (GET, HEAD) without credentials.

mod delete;
pub mod get;
pub(crate) mod list;
pub(crate) mod put;

use super::{guard, guarded};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::{delete as delete_route, get as get_route, put as put_route};
use cloudnexus_core::{BucketRef, Object, ObjectKey};
use cloudnexus_service::Operation;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The route of single objects.
pub const OBJECT_ROUTE: &str = "/v1/buckets/{bucket}/objects/{*key}";

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let reads = get_route(get::get_object)
        .head(get::head_object)
        .route_layer(guard(state, Operation::GetObject));
    let writes = put_route(put::put_object).route_layer(guard(state, Operation::PutObject));
    let deletes = delete_route(delete::delete_object).route_layer(guard(state, Operation::DeleteObject));
    OpenApiRouter::new()
        .routes(guarded(routes!(list::list_objects), state, Operation::ListObjects))
        .route(OBJECT_ROUTE, reads.merge(writes).merge(deletes))
}

/// The OpenAPI description of the single-object routes.
#[derive(OpenApi)]
#[openapi(paths(put::put_object, get::get_object, get::head_object, delete::delete_object))]
#[derive(Debug)]
pub struct ObjectDocs;

/// An object's metadata, as PUT and the listing answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectResponse {
    #[schema(example = "photos/2024/cat.jpg")]
    pub key: String,
    #[schema(example = 48213)]
    pub size_bytes: u64,
    /// The ETag, quoted as in the `ETag` header (hex MD5 of the bytes).
    #[schema(example = "\"9e107d9d372bb6826bd81d3542a419d6\"")]
    pub etag: String,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    #[schema(example = "2024-08-12T14:32:00Z")]
    pub last_modified: String,
}

impl From<&Object> for ObjectResponse {
    fn from(o: &Object) -> Self {
        Self {
            key: o.key.to_string(),
            size_bytes: o.size_bytes,
            etag: quoted(&o.etag),
            content_type: o.content_type.clone(),
            last_modified: o.last_modified.to_rfc3339(),
        }
    }
}

pub(crate) fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The `{bucket}` and `{*key}` of the single-object route.
#[derive(Debug)]
pub struct ObjectPath {
    pub bucket: BucketRef,
    pub key: ObjectKey,
}

impl<S: Send + Sync> FromRequestParts<S> for ObjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((bucket, key)): Path<(String, String)> = Path::from_request_parts(parts, state)
            .await
            .map_err(crate::extract::path_rejection)?;
        let bucket = BucketRef::parse(&bucket).map_err(|e| ApiError::invalid("bucket", format!("{bucket:?} {e}")))?;
        let key = ObjectKey::parse(&key).map_err(|e| ApiError::invalid("key", format!("the object key {e}")))?;
        Ok(Self { bucket, key })
    }
}

/// ETags named by an `If-Match` or `If-None-Match` header: `*`, or quoted values (weak ones
/// compared weakly, as RFC 9110 says for these headers).
fn etag_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t == "*" {
                "*".to_owned()
            } else {
                t.trim_start_matches("W/").trim_matches('"').to_owned()
            }
        })
        .collect()
}

fn header_str(headers: &axum::http::HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists() {
        assert_eq!(etag_list("*"), ["*"]);
        assert_eq!(etag_list(r#""abc", W/"def""#), ["abc", "def"]);
        assert!(etag_list("").is_empty());
    }
}
