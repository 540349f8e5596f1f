//! `/v1/buckets`: one file per action, and the bucket's JSON shape. A bucket of another
//! project answers exactly as a bucket that does not exist (the service sees to it).

pub mod create;
mod delete;
mod get;
pub(crate) mod list;
pub mod list_cache;
mod list_page;
pub mod list_query;
mod restore;
pub mod update;

use super::guarded;
use crate::AppState;
use cloudnexus_core::{Bucket, StorageClass};
use cloudnexus_service::Operation;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded(routes!(list::list_buckets), state, Operation::ListBuckets))
        .routes(guarded(
            routes!(list::list_buckets_at_reference_path),
            state,
            Operation::ListBuckets,
        ))
        .routes(guarded(routes!(create::create_bucket), state, Operation::CreateBucket))
        .routes(guarded(routes!(get::get_bucket), state, Operation::GetBucket))
        .routes(guarded(routes!(update::update_bucket), state, Operation::UpdateBucket))
        .routes(guarded(routes!(delete::delete_bucket), state, Operation::DeleteBucket))
        .routes(guarded(
            routes!(restore::restore_bucket),
            state,
            Operation::RestoreBucket,
        ))
}

/// A storage class, as the API spells it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StorageClassName {
    Standard,
    Infrequent,
    Glacier,
}

impl From<StorageClass> for StorageClassName {
    fn from(c: StorageClass) -> Self {
        match c {
            StorageClass::Standard => Self::Standard,
            StorageClass::Infrequent => Self::Infrequent,
            StorageClass::Glacier => Self::Glacier,
        }
    }
}

/// A bucket, with exactly the reference page's fields in its order. `deleted_at` and
/// `purge_at` appear only on soft-deleted buckets.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketResponse {
    #[schema(example = "bkt_7x92m4k1p0")]
    pub id: String,
    #[schema(example = "prod-assets-us-east")]
    pub name: String,
    #[schema(example = "us-east-1")]
    pub region: String,
    pub storage_class: StorageClassName,
    /// RFC 3339 UTC, whole seconds.
    #[schema(example = "2024-08-12T14:32:00Z")]
    pub created_at: String,
    /// Total bytes of the bucket's objects.
    #[schema(example = 48291034880_u64)]
    pub size_bytes: u64,
    #[schema(example = 12847)]
    pub object_count: u64,
    /// Whether the bucket's objects can be read without credentials.
    pub public: bool,
    #[schema(example = json!({"env": "production", "team": "frontend"}))]
    pub tags: BTreeMap<String, String>,
    /// When the bucket was soft-deleted (only on soft-deleted buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2024-11-05T09:15:22Z")]
    pub deleted_at: Option<String>,
    /// When a soft-deleted bucket will be purged for good (only on soft-deleted buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2024-11-12T09:15:22Z")]
    pub purge_at: Option<String>,
}

impl From<Bucket> for BucketResponse {
    fn from(b: Bucket) -> Self {
        Self {
            id: b.id.to_string(),
            name: b.name.to_string(),
            region: b.region.to_string(),
            storage_class: b.storage_class.into(),
            created_at: b.created_at.to_rfc3339(),
            size_bytes: b.size_bytes,
            object_count: b.object_count,
            public: b.public,
            tags: b
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_str().to_owned()))
                .collect(),
            deleted_at: b.deleted_at.map(|t| t.to_rfc3339()),
            purge_at: b.purge_at.map(|t| t.to_rfc3339()),
        }
    }
}
