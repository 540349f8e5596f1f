//! Projects, API keys and server secrets in SQLite.

use super::{SqliteStore, backend, rows};
use crate::metadata::ApiKeyRecord;
use crate::{StoreError, StoreResult};
use cloudnexus_core::{ApiKeyId, Project, ProjectId, ProjectName, Timestamp};

pub(super) async fn secret(
    store: &SqliteStore,
    name: &str,
    candidate: [u8; 32],
    now: Timestamp,
) -> StoreResult<[u8; 32]> {
    let mut tx = store.write_tx().await?;
    sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(candidate.to_vec())
        .bind(now.unix_seconds())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let value: Vec<u8> = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    value
        .try_into()
        .map_err(|_| StoreError::other(format!("secret {name} is not 32 bytes")))
}

pub(super) async fn create_project(
    store: &SqliteStore,
    id: ProjectId,
    name: ProjectName,
    now: Timestamp,
) -> StoreResult<Project> {
    let mut tx = store.write_tx().await?;
    let inserted =
        sqlx::query("INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(id.as_str())
            .bind(name.as_str())
            .bind(now.unix_seconds())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::ProjectNameTaken);
    }
    tx.commit().await.map_err(backend)?;
    Ok(Project {
        id,
        name,
        created_at: now,
    })
}

pub(super) async fn find_project(store: &SqliteStore, id_or_name: &str) -> StoreResult<Option<Project>> {
    let column = if id_or_name.starts_with(ProjectId::PREFIX) {
        "id"
    } else {
        "name"
    };
    let row = sqlx::query(&format!("SELECT id, name, created_at FROM projects WHERE {column} = ?"))
        .bind(id_or_name)
        .fetch_optional(&store.reader)
        .await
        .map_err(backend)?;
    row.as_ref().map(rows::project).transpose()
}

pub(super) async fn list_projects(store: &SqliteStore) -> StoreResult<Vec<Project>> {
    let found = sqlx::query("SELECT id, name, created_at FROM projects ORDER BY created_at, id")
        .fetch_all(&store.reader)
        .await
        .map_err(backend)?;
    found.iter().map(rows::project).collect()
}

pub(super) async fn create_api_key(store: &SqliteStore, record: ApiKeyRecord) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let done = sqlx::query(
        "INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at) \
         SELECT ?, id, ?, ?, ?, NULL FROM projects WHERE id = ?",
    )
    .bind(record.id.as_str())
    .bind(record.hash.0.to_vec())
    .bind(record.scopes.to_string())
    .bind(record.created_at.unix_seconds())
    .bind(record.project_id.as_str())
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(backend)
}

const KEY_COLUMNS: &str = "id, project_id, key_hash, scopes, created_at, revoked_at";

pub(super) async fn list_api_keys(store: &SqliteStore, project: &ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
    let found = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE project_id = ? ORDER BY created_at, id"
    ))
    .bind(project.as_str())
    .fetch_all(&store.reader)
    .await
    .map_err(backend)?;
    found.iter().map(rows::api_key).collect()
}

pub(super) async fn revoke_api_key(store: &SqliteStore, id: &ApiKeyId, now: Timestamp) -> StoreResult<ApiKeyRecord> {
    let mut tx = store.write_tx().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(now.unix_seconds())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?"))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let record = row
        .as_ref()
        .map(rows::api_key)
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(backend)?;
    Ok(record)
}

pub(super) async fn revoked_api_keys_since(store: &SqliteStore, since: Timestamp) -> StoreResult<Vec<ApiKeyId>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM api_keys WHERE revoked_at IS NOT NULL AND revoked_at >= ?")
            .bind(since.unix_seconds())
            .fetch_all(&store.reader)
            .await
            .map_err(backend)?;
    ids.iter()
        .map(|id| ApiKeyId::parse(id).map_err(|e| StoreError::other(format!("stored key id does not parse: {e}"))))
        .collect()
}
