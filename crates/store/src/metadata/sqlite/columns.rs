//! Rows read with rusqlite, by position, into the `rows::*Columns` that turn them into domain
//! values (the same conversions the sqlx backends use).

use crate::StoreResult;
use crate::metadata::rows::{self, ApiKeyColumns, BucketColumns, ObjectColumns, PartColumns, UploadColumns};
use cloudnexus_core::bucket_json::RenderedBucketRef;
use cloudnexus_core::listing::ListedBucket;
use cloudnexus_core::{Bucket, BucketIdRef, Timestamp};
use rusqlite::Row;
use rusqlite::types::ValueRef;

/// Where the project's id is in a row of [`rows::BUCKET_COLUMNS`]: after the
/// [`BucketColumns`].
const PROJECT_ID_COLUMN: usize = 11;

/// A bucket from a row of [`rows::BUCKET_COLUMNS`](crate::metadata::rows::BUCKET_COLUMNS):
/// `Err` when SQLite could not read the row, `Ok(Err)` when what it holds does not parse.
pub(super) fn bucket(row: &Row<'_>) -> rusqlite::Result<StoreResult<Bucket>> {
    Ok(rows::bucket_from_columns(
        bucket_columns(row)?,
        text(row, PROJECT_ID_COLUMN)?,
    ))
}

/// A bucket of a listing page from a row of
/// [`rows::LISTED_BUCKET_COLUMNS`](crate::metadata::rows::LISTED_BUCKET_COLUMNS), or of
/// [`RENDERED_BUCKET_COLUMNS`] (which starts with the same columns), borrowing all of the
/// row's text.
pub(super) fn listed_bucket<'r>(row: &'r Row<'_>) -> rusqlite::Result<StoreResult<ListedBucket<'r>>> {
    Ok(rows::listed_bucket_from_columns(bucket_columns(row)?))
}

/// The bucket columns a listing page selects for a sink that takes the JSON rows keep
/// ([`PageSink::takes_rendered`](crate::PageSink::takes_rendered)):
/// [`rows::LISTED_BUCKET_COLUMNS`](crate::metadata::rows::LISTED_BUCKET_COLUMNS), then the
/// JSON's two pieces ([`RenderedBucket`](cloudnexus_core::bucket_json::RenderedBucket)), at
/// [`LISTED_HEAD_COLUMN`] and [`LISTED_TAIL_COLUMN`]. (Selecting the fields only for rows
/// without the pieces, with a `CASE` each, measured slower: SQLite loads the pieces for every
/// test.)
pub(super) const RENDERED_BUCKET_COLUMNS: &str = "b.id, b.name, b.region, b.storage_class, b.public, b.tags, \
     b.created_at, b.deleted_at, b.purge_at, b.size_bytes, b.object_count, b.listed_head, b.listed_tail";
const LISTED_HEAD_COLUMN: usize = 11;
const LISTED_TAIL_COLUMN: usize = 12;

/// A bucket of a listing page as the JSON its row keeps, from a row of
/// [`RENDERED_BUCKET_COLUMNS`]: `Ok(None)` when the row keeps none, `Ok(Some(Err))` when its id
/// does not parse. Only the id is checked (a page and its cursor are built on ids); the JSON's
/// bytes are the store's own writing, copied as they are without being read as text.
pub(super) fn rendered_bucket<'r>(row: &'r Row<'_>) -> rusqlite::Result<Option<StoreResult<RenderedBucketRef<'r>>>> {
    let (ValueRef::Text(head), ValueRef::Text(tail)) =
        (row.get_ref(LISTED_HEAD_COLUMN)?, row.get_ref(LISTED_TAIL_COLUMN)?)
    else {
        return Ok(None);
    };
    let id = text(row, 0)?;
    let created_at: i64 = row.get(6)?;
    let size_bytes: i64 = row.get(9)?;
    let object_count: i64 = row.get(10)?;
    Ok(Some(
        BucketIdRef::parse(id)
            .map_err(|e| rows::corrupt("bucket id", e))
            .map(|id| RenderedBucketRef {
                id,
                created_at: Timestamp::from_unix_seconds(created_at),
                size_bytes: u64::try_from(size_bytes).unwrap_or(0),
                object_count: u64::try_from(object_count).unwrap_or(0),
                head,
                tail,
            }),
    ))
}

/// The first 11 columns of a bucket query's row ([`BucketColumns`], by position), borrowed.
fn bucket_columns<'r>(row: &'r Row<'_>) -> rusqlite::Result<BucketColumns<'r>> {
    Ok(BucketColumns {
        id: text(row, 0)?,
        name: text(row, 1)?,
        region: text(row, 2)?,
        storage_class: text(row, 3)?,
        public: row.get(4)?,
        tags: text(row, 5)?,
        created_at: row.get(6)?,
        deleted_at: row.get(7)?,
        purge_at: row.get(8)?,
        size_bytes: row.get(9)?,
        object_count: row.get(10)?,
    })
}

/// The text in column `index` of `row`, borrowed from it; an error names the column and what
/// it held, as `Row::get` does.
fn text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    let value = row.get_ref(index)?;
    value
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(e)))
}

/// An object from a row of [`rows::OBJECT_COLUMNS`](crate::metadata::rows::OBJECT_COLUMNS).
pub(super) fn object(row: &Row<'_>) -> rusqlite::Result<ObjectColumns> {
    Ok(ObjectColumns {
        bucket_id: row.get(0)?,
        object_key: row.get(1)?,
        blob_id: row.get(2)?,
        size_bytes: row.get(3)?,
        etag: row.get(4)?,
        content_type: row.get(5)?,
        last_modified: row.get(6)?,
        user_metadata: row.get(7)?,
        content_headers: row.get(8)?,
    })
}

/// An upload from a row of [`rows::UPLOAD_COLUMNS`](crate::metadata::rows::UPLOAD_COLUMNS).
pub(super) fn upload(row: &Row<'_>) -> rusqlite::Result<UploadColumns> {
    Ok(UploadColumns {
        id: row.get(0)?,
        bucket_id: row.get(1)?,
        object_key: row.get(2)?,
        content_type: row.get(3)?,
        created_at: row.get(4)?,
        user_metadata: row.get(5)?,
        content_headers: row.get(6)?,
    })
}

/// A part from a row of [`rows::PART_COLUMNS`](crate::metadata::rows::PART_COLUMNS).
pub(super) fn part(row: &Row<'_>) -> rusqlite::Result<PartColumns> {
    Ok(PartColumns {
        part_number: row.get(0)?,
        blob_id: row.get(1)?,
        size_bytes: row.get(2)?,
        etag: row.get(3)?,
        created_at: row.get(4)?,
    })
}

/// An API key from a row of [`rows::KEY_COLUMNS`](crate::metadata::rows::KEY_COLUMNS) (its
/// first seven columns; a query may select more after them).
pub(super) fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKeyColumns> {
    Ok(ApiKeyColumns {
        id: row.get(0)?,
        project_id: row.get(1)?,
        key_hash: row.get(2)?,
        scopes: row.get(3)?,
        created_at: row.get(4)?,
        revoked_at: row.get(5)?,
        s3_secret: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_id_column_is_where_the_bucket_columns_put_it() {
        let columns: Vec<&str> = rows::BUCKET_COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(
            columns.iter().position(|c| *c == "b.project_id"),
            Some(PROJECT_ID_COLUMN)
        );
        assert_eq!(columns.len(), PROJECT_ID_COLUMN + 1);
    }

    #[test]
    fn the_rendered_columns_are_the_listed_ones_then_the_pieces() {
        assert_eq!(
            RENDERED_BUCKET_COLUMNS,
            format!("{}, b.listed_head, b.listed_tail", rows::LISTED_BUCKET_COLUMNS)
        );
        let columns: Vec<&str> = RENDERED_BUCKET_COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(columns[LISTED_HEAD_COLUMN], "b.listed_head");
        assert_eq!(columns[LISTED_TAIL_COLUMN], "b.listed_tail");
    }
}
