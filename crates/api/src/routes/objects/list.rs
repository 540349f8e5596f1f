//! `GET /v1/buckets/{bucket}/objects`: a page of a bucket's objects in key order, with
//! `prefix`, `delimiter` (keys rolled up into `common_prefixes`), `limit` and `cursor`, in the
//! envelope of the bucket list.

use super::ObjectResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::BucketParam;
use axum::Json;
use axum::extract::{RawQuery, State};
use cloudnexus_core::object::MAX_KEY_BYTES;
use cloudnexus_service::objects::list::ObjectQuery;
use cloudnexus_store::ObjectEntry;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// The longest `prefix`, in characters: as long as the longest key in bytes, so that every
/// prefix of a key is accepted (a longer one could only match nothing).
pub const MAX_PREFIX_CHARS: usize = MAX_KEY_BYTES;
/// The longest `delimiter`, in characters.
pub const MAX_DELIMITER_CHARS: usize = 32;

#[derive(Debug, Serialize, ToSchema)]
pub struct ListObjectsResponse {
    pub data: Vec<ObjectResponse>,
    /// With `delimiter`: the distinct key prefixes up to and including the delimiter.
    pub common_prefixes: Vec<String>,
    pub pagination: ObjectPagination,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectPagination {
    pub limit: u32,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query parameters (for the OpenAPI document).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListObjectsParams {
    /// Only keys starting with this (at most 1024 characters).
    prefix: Option<String>,
    /// Roll keys up to the first occurrence of this after the prefix (usually `/`; 1 to 32
    /// characters).
    delimiter: Option<String>,
    /// Entries per page: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of an earlier page, with the same prefix and delimiter.
    cursor: Option<String>,
}

fn parse(raw: Option<&str>) -> ApiResult<ObjectQuery> {
    let mut p = ObjectQuery {
        prefix: String::new(),
        delimiter: None,
        limit: DEFAULT_LIMIT,
        cursor: None,
        start_after: None,
    };
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if seen.contains(&name) {
            errors.push(FieldError::new(name.as_ref(), "is given more than once; send it once"));
            continue;
        }
        seen.push(name.clone());
        match name.as_ref() {
            "prefix" if value.chars().count() > MAX_PREFIX_CHARS => {
                errors.push(FieldError::new(
                    "prefix",
                    format!("must be at most {MAX_PREFIX_CHARS} characters (a key is at most {MAX_KEY_BYTES} bytes)"),
                ));
            }
            "prefix" => p.prefix = value.into_owned(),
            "delimiter" if value.is_empty() || value.chars().count() > MAX_DELIMITER_CHARS => {
                errors.push(FieldError::new(
                    "delimiter",
                    format!("must be 1 to {MAX_DELIMITER_CHARS} characters, usually `/`"),
                ));
            }
            "delimiter" => p.delimiter = Some(value.into_owned()),
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => p.limit = n,
                _ => errors.push(FieldError::new(
                    "limit",
                    format!(
                        "must be a whole number between 1 and {MAX_LIMIT} (got {value:?}); omit it for {DEFAULT_LIMIT}"
                    ),
                )),
            },
            "cursor" => p.cursor = Some(value.into_owned()),
            other => errors.push(FieldError::new(
                other,
                "is not a parameter of this endpoint; the parameters are: prefix, delimiter, limit, cursor",
            )),
        }
    }
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// List objects
///
/// A page of the bucket's objects in key order (UTF-8 byte order).
#[utoipa::path(
    get,
    path = "/v1/buckets/{bucket}/objects",
    tag = "objects",
    params(("bucket" = String, Path, description = "The bucket's id or name"), ListObjectsParams),
    responses(
        (status = 200, description = "A page of objects", body = ListObjectsResponse),
        (status = 400, description = "A parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn list_objects(
    State(state): State<AppState>,
    Caller(principal): Caller,
    BucketParam(bucket): BucketParam,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ListObjectsResponse>> {
    let query = parse(query.as_deref())?;
    let limit = query.limit;
    let listing = state.service.list_objects(&principal, &bucket, query).await?;
    let mut data = Vec::new();
    let mut common_prefixes = Vec::new();
    for entry in &listing.entries {
        match entry {
            ObjectEntry::Object(o) => data.push(ObjectResponse::from(o.as_ref())),
            ObjectEntry::CommonPrefix(p) => common_prefixes.push(p.clone()),
        }
    }
    Ok(Json(ListObjectsResponse {
        data,
        common_prefixes,
        pagination: ObjectPagination {
            limit,
            next_cursor: listing.next_cursor,
        },
    }))
}
