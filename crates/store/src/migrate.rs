//! Moving an embedded data folder (SQLite and `blobs/`) onto the shared backends (PostgreSQL and
//! any blob store, an S3 bucket in practice), so a user who started on the embedded default
//! keeps everything: projects, API keys (their hashes: the keys themselves keep working),
//! buckets with their tags, usage and soft-delete state, the counts, objects and their bytes,
//! and the server secrets (so cursors and access tokens issued before keep working).
//!
//! The copy reads the folder in one read transaction (a consistent snapshot, even of a folder
//! a server is still writing; stop it first so that no later change is left behind), writes
//! every object's bytes to the target store, checking each against its ETag (the MD5), and then
//! inserts every row in one PostgreSQL transaction. The target database must hold no project:
//! nothing is merged or overwritten. If anything fails, the database is left as it was; bytes
//! already written are unreferenced and the orphan sweep removes them after its grace period.
//!
//! Both schemas are the same tables (PostgreSQL's starts at SQLite's version 5), so the copy is
//! table by table, column by column; queued garbage is not copied (its bytes are not either).

use crate::metadata::postgres::errors::backend as pg_error;
use crate::metadata::sqlite::errors::backend as sqlite_error;
use crate::metadata::{PgStore, SqliteStore};
use crate::{BlobStore, LocalBlobStore, StoreError};
use cloudnexus_core::BlobId;
use sqlx::{Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Rows inserted per statement (PostgreSQL takes at most 65,535 parameters in one).
const ROWS_PER_INSERT: usize = 1_000;

/// What was copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    pub projects: u64,
    pub api_keys: u64,
    pub buckets: u64,
    pub objects: u64,
    /// Object bytes written to the target blob store.
    pub bytes: u64,
}

/// Why a migration did not happen (and changed nothing in the target database).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the target database already holds {0} project(s); migrate into an empty database")]
    TargetNotEmpty(i64),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot open the data folder's blobs: {0}")]
    Blobs(std::io::Error),
    #[error("{0} multipart upload(s) are in progress; complete or abort them (or let them expire) before migrating")]
    UploadsInProgress(i64),
    #[error("object {key:?} of bucket {bucket}: {problem}")]
    Object {
        bucket: String,
        key: String,
        problem: String,
    },
}

/// A column's type, as both schemas declare it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Int,
    OptionalInt,
    Bool,
    Bytes,
    OptionalBytes,
}

/// One cell, read from SQLite and bound to PostgreSQL.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Int(i64),
    OptionalInt(Option<i64>),
    Bool(bool),
    Bytes(Vec<u8>),
    OptionalBytes(Option<Vec<u8>>),
}

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
}

use Kind::{Bool, Bytes, Int, OptionalBytes, OptionalInt, Text};

/// Every table to copy, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "projects",
        columns: &[("id", Text), ("name", Text), ("created_at", Int), ("data_version", Int)],
    },
    Table {
        name: "api_keys",
        columns: &[
            ("id", Text),
            ("project_id", Text),
            ("key_hash", Bytes),
            ("scopes", Text),
            ("created_at", Int),
            ("revoked_at", OptionalInt),
            ("s3_secret", OptionalBytes),
        ],
    },
    Table {
        name: "server_secrets",
        columns: &[("name", Text), ("value", Bytes), ("created_at", Int)],
    },
    Table {
        name: "buckets",
        columns: &[
            ("id", Text),
            ("project_id", Text),
            ("name", Text),
            ("region", Text),
            ("storage_class", Text),
            ("public", Bool),
            ("tags", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("deleted_at", OptionalInt),
            ("purge_at", OptionalInt),
            ("size_bytes", Int),
            ("object_count", Int),
        ],
    },
    Table {
        name: "bucket_tags",
        columns: &[
            ("bucket_id", Text),
            ("project_id", Text),
            ("tag_key", Text),
            ("tag_value", Text),
            ("created_at", Int),
            ("live", Bool),
            ("region", Text),
            ("name", Text),
        ],
    },
    Table {
        name: "bucket_counts",
        columns: &[
            ("project_id", Text),
            ("dimension", Text),
            ("live", Int),
            ("deleted", Int),
        ],
    },
    Table {
        name: "bucket_counts_by_day",
        columns: &[
            ("project_id", Text),
            ("dimension", Text),
            ("day", Int),
            ("live", Int),
            ("deleted", Int),
        ],
    },
    Table {
        name: "bucket_counts_by_prefix",
        columns: &[
            ("project_id", Text),
            ("dimension", Text),
            ("level", Int),
            ("prefix", Text),
            ("live", Int),
            ("deleted", Int),
        ],
    },
    Table {
        name: "inline_blobs",
        columns: &[("blob_id", Text), ("bytes", Bytes)],
    },
    Table {
        name: "objects",
        columns: &[
            ("bucket_id", Text),
            ("object_key", Text),
            ("blob_id", Text),
            ("size_bytes", Int),
            ("etag", Text),
            ("content_type", Text),
            ("last_modified", Int),
            ("user_metadata", Text),
            ("content_headers", Text),
        ],
    },
];

/// Copies the embedded data folder `data_dir` into the (empty) PostgreSQL database at
/// `database_url` and the blob store `blobs`.
pub async fn migrate_embedded(
    data_dir: &Path,
    database_url: &str,
    blobs: Arc<dyn BlobStore>,
) -> Result<MigrationReport, MigrateError> {
    let source = SqliteStore::open(data_dir).await?;
    let source_blobs = LocalBlobStore::open(data_dir).await.map_err(MigrateError::Blobs)?;
    let target = PgStore::open(database_url).await?;
    let result = copy(&source, &source_blobs, &target, blobs.as_ref()).await;
    crate::MetadataStore::close(&source).await;
    crate::MetadataStore::close(&target).await;
    result
}

async fn copy(
    source: &SqliteStore,
    source_blobs: &LocalBlobStore,
    target: &PgStore,
    blobs: &dyn BlobStore,
) -> Result<MigrationReport, MigrateError> {
    let projects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects")
        .fetch_one(target.pool())
        .await
        .map_err(pg_error)?;
    if projects > 0 {
        return Err(MigrateError::TargetNotEmpty(projects));
    }
    let uploads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM multipart_uploads")
        .fetch_one(source.reader_pool())
        .await
        .map_err(sqlite_error)?;
    if uploads > 0 {
        return Err(MigrateError::UploadsInProgress(uploads));
    }

    // One snapshot of every table.
    let mut snapshot = source.reader_pool().begin().await.map_err(sqlite_error)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let rows = sqlx::query(&format!("SELECT {} FROM {}", columns.join(", "), table.name))
            .fetch_all(&mut *snapshot)
            .await
            .map_err(sqlite_error)?;
        let mut cells = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(table.columns.len());
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                let value = match kind {
                    Text => row.try_get(i).map(Cell::Text),
                    Int => row.try_get(i).map(Cell::Int),
                    OptionalInt => row.try_get(i).map(Cell::OptionalInt),
                    Bool => row.try_get(i).map(Cell::Bool),
                    Bytes => row.try_get(i).map(Cell::Bytes),
                    OptionalBytes => row.try_get(i).map(Cell::OptionalBytes),
                };
                values.push(value.map_err(sqlite_error)?);
            }
            cells.push(values);
        }
        tables.push((table, cells));
    }
    drop(snapshot);

    // The bytes first, each under a new blob id in the target store, checked against its ETag.
    let mut report = MigrationReport::default();
    // Blobs the metadata keeps, by id, with their sizes.
    let inline: HashMap<String, u64> = tables
        .iter()
        .find(|(table, _)| table.name == "inline_blobs")
        .expect("inline_blobs is copied")
        .1
        .iter()
        .filter_map(|row| match row.as_slice() {
            [Cell::Text(id), Cell::Bytes(bytes)] => Some((id.clone(), bytes.len() as u64)),
            _ => None,
        })
        .collect();
    let (_, objects) = tables
        .iter_mut()
        .find(|(table, _)| table.name == "objects")
        .expect("objects is copied");
    let mut new_ids: HashMap<String, BlobId> = HashMap::new();
    for row in objects.iter_mut() {
        // A blob the metadata keeps moves with its table, under its own id.
        if let Cell::Text(blob) = &row[2]
            && let Some(size) = inline.get(blob.as_str())
        {
            report.bytes += size;
            continue;
        }
        let [
            Cell::Text(bucket),
            Cell::Text(key),
            Cell::Text(blob),
            Cell::Int(size),
            Cell::Text(etag),
            ..,
        ] = row.as_mut_slice()
        else {
            unreachable!("the objects columns are read in this order");
        };
        let problem = |problem: String| MigrateError::Object {
            bucket: bucket.clone(),
            key: key.clone(),
            problem,
        };
        let written = match new_ids.get(blob.as_str()) {
            Some(id) => id.clone(),
            None => {
                let id = BlobId::parse(blob).ok_or_else(|| problem(format!("bad blob id {blob:?}")))?;
                let bytes = source_blobs
                    .read(&id, None)
                    .await
                    .map_err(|e| problem(format!("cannot read its bytes: {e}")))?;
                let written = blobs
                    .write(bytes, u64::MAX)
                    .await
                    .map_err(|e| problem(format!("cannot write its bytes: {e}")))?;
                let md5: String = written.md5.iter().map(|b| format!("{b:02x}")).collect();
                // A multipart object's ETag (`<md5 of part digests>-<parts>`) is not the MD5 of
                // its bytes; its size is still checked.
                let etag_checks = etag.contains('-') || md5 == *etag;
                if written.size != u64::try_from(*size).unwrap_or(u64::MAX) || !etag_checks {
                    return Err(problem(format!(
                        "its bytes ({} bytes, MD5 {md5}) do not match its metadata ({size} bytes, ETag {etag})",
                        written.size
                    )));
                }
                report.bytes += written.size;
                new_ids.insert(blob.clone(), written.id.clone());
                written.id
            }
        };
        *blob = written.as_str().to_owned();
    }

    // Then every row, in one transaction.
    let mut tx = target.pool().begin().await.map_err(pg_error)?;
    for (table, rows) in &tables {
        let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut insert =
                QueryBuilder::<Postgres>::new(format!("INSERT INTO {} ({}) ", table.name, columns.join(", ")));
            insert.push_values(chunk, |mut values, row| {
                for cell in row {
                    match cell {
                        Cell::Text(v) => values.push_bind(v.clone()),
                        Cell::Int(v) => values.push_bind(*v),
                        Cell::OptionalInt(v) => values.push_bind(*v),
                        Cell::Bool(v) => values.push_bind(*v),
                        Cell::Bytes(v) => values.push_bind(v.clone()),
                        Cell::OptionalBytes(v) => values.push_bind(v.clone()),
                    };
                }
            });
            insert.build().execute(&mut *tx).await.map_err(pg_error)?;
        }
        let copied = rows.len() as u64;
        match table.name {
            "projects" => report.projects = copied,
            "api_keys" => report.api_keys = copied,
            "buckets" => report.buckets = copied,
            "objects" => report.objects = copied,
            _ => {}
        }
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns SQLite keeps that PostgreSQL does not, so not copied: each bucket's JSON for list
    /// pages, derived from the other columns (`metadata::sqlite::listed_json`).
    const SQLITE_ONLY_COLUMNS: &[(&str, &str)] = &[("buckets", "listed_head"), ("buckets", "listed_tail")];

    /// A column added by a later migration and not listed here would be left behind by every
    /// migration: each copied table's list names every column the schema has (but SQLite's own).
    #[tokio::test]
    async fn every_column_of_every_copied_table_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        for table in TABLES {
            let mut schema: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
                .bind(table.name)
                .fetch_all(store.reader_pool())
                .await
                .unwrap();
            schema.retain(|column| !SQLITE_ONLY_COLUMNS.contains(&(table.name, column.as_str())));
            let mut listed: Vec<String> = table.columns.iter().map(|(name, _)| (*name).to_owned()).collect();
            schema.sort();
            listed.sort();
            assert_eq!(listed, schema, "the columns of {}", table.name);
        }
        crate::MetadataStore::close(&store).await;
    }
}
