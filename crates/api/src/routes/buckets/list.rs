//! `GET /v1/buckets` (also at `/v1/get-/buckets`, the path printed on the reference page): a
//! page of the caller's buckets in `created_at, id` order, filtered, with `pagination`.
//!
//! A page rendered once is served again from [`list_cache`](super::list_cache) while the
//! project's data version is unchanged, with its buckets' live usage.

use super::BucketResponse;
use super::list_cache::PageToKeep;
use super::list_page::{PageWriter, TemplateWriter};
use super::list_query;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cloudnexus_service::Principal;
use cloudnexus_service::listing::{BucketQuery, ListingSummary, Start};
use serde::Serialize;
use std::sync::Arc;
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

impl Pagination {
    fn of(summary: ListingSummary) -> Self {
        Self {
            total: summary.page.total,
            limit: summary.limit,
            offset: summary.page.offset,
            next_cursor: summary.next_cursor,
        }
    }
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
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn list_buckets(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    answer(&state, &principal, query.as_deref().unwrap_or_default()).await
}

/// The page of `principal`'s buckets that `query` (the raw query string) asks for: the
/// handler of both the route above and the direct route in front of the router
/// (`crate::direct_route`).
pub(crate) async fn answer(state: &AppState, principal: &Principal, query: &str) -> ApiResult<Response> {
    // Read before anything is rendered: a page is only ever as old as this version. Without
    // the cache there is nothing to version, and the listing is the one call into the store.
    let version = if state.list_cache.is_enabled() {
        let version = state.service.listing_version(principal).await?;
        if let Some(body) = cached(state, principal, query, version).await? {
            return Ok(json_response(body));
        }
        Some(version)
    } else {
        None
    };
    let params = list_query::parse(Some(query), &state.service.settings().regions)?;
    let start = match params.cursor {
        Some(cursor) => Start::Cursor(cursor),
        None => Start::Offset(params.offset.unwrap_or(0)),
    };
    let request = BucketQuery {
        filter: params.filter,
        limit: params.limit,
        start,
    };
    let limit = request.limit;
    let Some(version) = version else {
        let mut page = PageWriter::new(limit);
        let summary = state.service.list_buckets_into(principal, request, &mut page).await?;
        return Ok(json_response(page.finish(&Pagination::of(summary))));
    };
    let mut page = TemplateWriter::new(limit);
    let summary = state.service.list_buckets_into(principal, request, &mut page).await?;
    let (template, usage) = page.finish(&Pagination::of(summary));
    let body = template.render(&usage);
    // The usage was read after the credential: it is current as of the credential's stamp.
    let page = PageToKeep {
        template: Arc::new(template),
        usage: usage.into(),
        body: body.clone(),
        checked_at: principal.stamp,
    };
    state.list_cache.insert(&principal.project_id, query, version, page);
    Ok(json_response(body))
}

/// The page kept for `query` at `version`, with its buckets' usage as it is now; `None` when
/// there is none, or a bucket on it is gone.
async fn cached(
    state: &AppState,
    principal: &Principal,
    query: &str,
    version: cloudnexus_store::DataVersion,
) -> ApiResult<Option<Bytes>> {
    let project = &principal.project_id;
    let Some(page) = state.list_cache.get(project, query, version) else {
        return Ok(None);
    };
    // Nothing committed since the usage on the page was last known current: it still is.
    if page.template.ids.is_empty() || page.is_current_at(principal.stamp) {
        return Ok(Some(page.body));
    }
    let usage = state.service.bucket_usage(principal, &page.template.ids).await?;
    let Some(usage) = usage.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let body = if *usage == *page.usage {
        page.body
    } else {
        page.template.render(&usage)
    };
    let kept = PageToKeep {
        template: page.template,
        usage: usage.into(),
        body: body.clone(),
        checked_at: principal.stamp,
    };
    state.list_cache.insert(project, query, version, kept);
    Ok(Some(body))
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
    ),
    security(("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn list_buckets_at_reference_path(
    state: State<AppState>,
    caller: Caller,
    query: RawQuery,
) -> ApiResult<Response> {
    list_buckets(state, caller, query).await
}
