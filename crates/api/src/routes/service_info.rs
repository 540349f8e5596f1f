//! `GET /v1/service`: what this service offers a caller: the regions buckets may be created in,
//! the storage classes, how long a deleted bucket is kept and the largest object. The console
//! builds its forms from it; scripts can check a region before they use it.

use super::buckets::StorageClassName;
use super::guarded;
use crate::AppState;
use crate::auth::Caller;
use axum::Json;
use axum::extract::State;
use cloudnexus_core::StorageClass;
use cloudnexus_service::Operation;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded(routes!(describe_service), state, Operation::DescribeService))
}

/// The service's configured rules, as a client needs them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceInfo {
    /// The regions buckets may be created in (and the list endpoint filters by).
    #[schema(example = json!(["us-east-1", "eu-west-2"]))]
    pub regions: Vec<String>,
    pub storage_classes: Vec<StorageClassName>,
    /// How long a deleted bucket can be restored before it is purged.
    #[schema(example = 604800)]
    pub soft_delete_retention_seconds: i64,
    /// The largest object a single write may store.
    #[schema(example = 5368709120_u64)]
    pub max_object_bytes: u64,
}

/// Describe the service
///
/// The configured regions, storage classes, soft-delete retention and object size limit. Any
/// valid credential may read it, whatever its scopes.
#[utoipa::path(
    get,
    path = "/v1/service",
    tag = "service",
    responses(
        (status = 200, description = "What the service offers", body = ServiceInfo),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn describe_service(State(state): State<AppState>, Caller(_principal): Caller) -> Json<ServiceInfo> {
    let settings = state.service.settings();
    Json(ServiceInfo {
        regions: settings.regions.names(),
        storage_classes: StorageClass::ALL.into_iter().map(StorageClassName::from).collect(),
        soft_delete_retention_seconds: settings.soft_delete_retention_seconds,
        max_object_bytes: settings.max_object_bytes,
    })
}
