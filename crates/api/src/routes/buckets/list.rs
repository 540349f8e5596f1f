//! `GET /v1/buckets` (also at `/v1/get-/buckets`, the path printed on the reference page): a
//! page of the caller's buckets in `created_at, id` order, filtered, with `pagination`.
//!
//! A page rendered once is served again from [`list_cache`](super::list_cache) while the
//! project's data version is unchanged.

use super::BucketResponse;
use super::list_query;
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cloudnexus_core::Scope;
use cloudnexus_core::listing::{ListRequest, PageStart};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// The answer of the list endpoint: `data`, then `pagination`, as on the reference page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBucketsResponse {
    pub data: Vec<BucketResponse>,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    /// Buckets matching the filters at the time of the request.
    #[schema(example = 47)]
    pub total: u64,
    /// The page size used.
    #[schema(example = 25)]
    pub limit: u32,
    /// Matching buckets before the first one returned (also on cursor pages).
    #[schema(example = 0)]
    pub offset: u64,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query parameters of the list endpoint (for the OpenAPI document; parsing is in `list_query`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListBucketsParams {
    /// Maximum number of buckets to return: 1 to 100, default 25.
    #[param(minimum = 1, maximum = 100, default = 25)]
    limit: Option<u32>,
    /// Number of matching buckets to skip. Not together with `cursor`.
    #[param(minimum = 0, default = 0)]
    offset: Option<u64>,
    /// The `next_cursor` of an earlier page, with the same filters. Not together with `offset`.
    cursor: Option<String>,
    /// Only buckets whose name starts with this.
    prefix: Option<String>,
    /// Only buckets in this region (one of the configured regions, e.g. us-east-1, eu-west-2).
    region: Option<String>,
    /// `key` (has the tag) or `key:value` (has it with that value); repeat to require several.
    tag: Option<Vec<String>>,
    /// `deleted` to include soft-deleted buckets.
    include: Option<String>,
}

/// List buckets
///
/// Retrieves a paginated list of the project's buckets, filtered by region, name prefix and
/// tags, in `created_at` then `id` order.
#[utoipa::path(
    get,
    path = "/v1/buckets",
    tag = "buckets",
    params(ListBucketsParams),
    responses(
        (status = 200, description = "A page of buckets and pagination metadata", body = ListBucketsResponse),
        (status = 400, description = "A parameter is unknown, malformed or out of range; `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key/token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal server error", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn list_buckets(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    principal.require(Scope::Read)?;
    let project = &principal.project_id;
    let query = query.unwrap_or_default();
    // Read before anything is rendered: a page is only ever as old as this version.
    let version = match principal.data_version {
        Some(version) => version,
        None => state.store.data_version(project).await?,
    };
    if let Some(body) = state.list_cache.get(project, &query, version) {
        return Ok(json_response(body));
    }
    let params = list_query::parse(Some(&query), &state.settings.regions)?;
    let start = match &params.cursor {
        Some(cursor) => PageStart::After(
            state
                .cursor_key
                .decode(cursor, project, &params.filter)
                .map_err(|e| ApiError::invalid("cursor", e.to_string()))?,
        ),
        None => PageStart::Offset(params.offset.unwrap_or(0)),
    };
    let request = ListRequest {
        filter: params.filter,
        limit: params.limit,
        start,
    };
    let page = state.store.list_buckets(project, &request).await?;
    let next_cursor = page
        .next
        .as_ref()
        .map(|p| state.cursor_key.encode(project, &request.filter, p));
    let response = ListBucketsResponse {
        data: page.buckets.into_iter().map(BucketResponse::from).collect(),
        pagination: Pagination {
            total: page.total,
            limit: request.limit,
            offset: page.offset,
            next_cursor,
        },
    };
    let body = Bytes::from(serde_json::to_vec(&response).map_err(ApiError::internal)?);
    state.list_cache.insert(project, &query, version, body.clone());
    Ok(json_response(body))
}

/// A 200 with a rendered page, exactly as `axum::Json` would answer it.
fn json_response(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

/// List buckets (reference page path)
///
/// The same endpoint at the path printed on the reference page, `GET /v1/get-/buckets`.
#[utoipa::path(
    get,
    path = "/v1/get-/buckets",
    tag = "buckets",
    params(ListBucketsParams),
    responses(
        (status = 200, description = "A page of buckets and pagination metadata", body = ListBucketsResponse),
        (status = 400, description = "A parameter is unknown, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key/token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal server error", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn list_buckets_at_reference_path(
    state: State<AppState>,
    principal: Principal,
    query: RawQuery,
) -> ApiResult<Response> {
    list_buckets(state, principal, query).await
}
