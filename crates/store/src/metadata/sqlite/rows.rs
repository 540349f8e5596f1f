//! Turning rows back into domain values. Values were validated when written; a row that no
//! longer parses is reported as a backend failure rather than served.

use crate::metadata::ApiKeyRecord;
use crate::{StoreError, StoreResult};
use cloudnexus_core::{
    ApiKeyHash, ApiKeyId, Bucket, BucketId, BucketName, Project, ProjectId, ProjectName, RegionSet, Scopes, Tags,
    Timestamp,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::collections::BTreeMap;

/// The bucket columns every bucket query selects, in this order.
pub(crate) const BUCKET_COLUMNS: &str = "b.id, b.project_id, b.name, b.region, b.storage_class, b.public, b.tags, \
     b.created_at, b.deleted_at, b.purge_at, b.size_bytes, b.object_count";

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::other(format!("stored {what} does not parse: {detail}"))
}

fn col<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    name: &str,
) -> StoreResult<T> {
    row.try_get(name).map_err(super::backend)
}

pub(crate) fn bucket(row: &SqliteRow) -> StoreResult<Bucket> {
    let id: String = col(row, "id")?;
    let project_id: String = col(row, "project_id")?;
    let name: String = col(row, "name")?;
    let storage_class: String = col(row, "storage_class")?;
    let tags: String = col(row, "tags")?;
    let tags: BTreeMap<String, String> = serde_json::from_str(&tags).map_err(|e| corrupt("tags", e))?;
    let size_bytes: i64 = col(row, "size_bytes")?;
    let object_count: i64 = col(row, "object_count")?;
    Ok(Bucket {
        id: BucketId::parse(&id).map_err(|e| corrupt("bucket id", e))?,
        project_id: ProjectId::parse(&project_id).map_err(|e| corrupt("project id", e))?,
        name: BucketName::parse(&name).map_err(|e| corrupt("bucket name", e))?,
        region: RegionSet::trusted(col(row, "region")?),
        storage_class: storage_class.parse().map_err(|e| corrupt("storage class", e))?,
        public: col(row, "public")?,
        tags: Tags::trusted(tags),
        created_at: Timestamp::from_unix_seconds(col(row, "created_at")?),
        size_bytes: u64::try_from(size_bytes).unwrap_or(0),
        object_count: u64::try_from(object_count).unwrap_or(0),
        deleted_at: col::<Option<i64>>(row, "deleted_at")?.map(Timestamp::from_unix_seconds),
        purge_at: col::<Option<i64>>(row, "purge_at")?.map(Timestamp::from_unix_seconds),
    })
}

pub(crate) fn project(row: &SqliteRow) -> StoreResult<Project> {
    let id: String = col(row, "id")?;
    let name: String = col(row, "name")?;
    Ok(Project {
        id: ProjectId::parse(&id).map_err(|e| corrupt("project id", e))?,
        name: ProjectName::parse(&name).map_err(|e| corrupt("project name", e))?,
        created_at: Timestamp::from_unix_seconds(col(row, "created_at")?),
    })
}

pub(crate) fn api_key(row: &SqliteRow) -> StoreResult<ApiKeyRecord> {
    api_key_from_columns(ApiKeyColumns {
        id: col(row, "id")?,
        project_id: col(row, "project_id")?,
        key_hash: col(row, "key_hash")?,
        scopes: col(row, "scopes")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

/// The columns of an `api_keys` row as stored, whichever driver read them.
pub(crate) struct ApiKeyColumns {
    pub id: String,
    pub project_id: String,
    pub key_hash: Vec<u8>,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

pub(crate) fn api_key_from_columns(c: ApiKeyColumns) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse(&c.id).map_err(|e| corrupt("key id", e))?,
        project_id: ProjectId::parse(&c.project_id).map_err(|e| corrupt("project id", e))?,
        hash: ApiKeyHash(c.key_hash.try_into().map_err(|_| corrupt("key hash", "not 32 bytes"))?),
        scopes: Scopes::parse_list(&c.scopes).map_err(|e| corrupt("scopes", e))?,
        created_at: Timestamp::from_unix_seconds(c.created_at),
        revoked_at: c.revoked_at.map(Timestamp::from_unix_seconds),
    })
}
