//! Turning rows back into domain values, for every backend alike: sqlx rows by column name, and
//! the `*Columns` structs that the SQLite backend's rusqlite statements fill by position
//! (`sqlite::columns`). Values were validated when written; a row that no longer parses is
//! reported as a backend failure rather than served. A listing page's rows
//! ([`listed_bucket_from_columns`]) are checked only as far as the page needs.

use super::ApiKeyRecord;
use crate::{StoreError, StoreResult};
use cloudnexus_core::UploadId;
use cloudnexus_core::listing::ListedBucket;
use cloudnexus_core::multipart::{MultipartUpload, UploadedPart};
use cloudnexus_core::{
    ApiKeyHash, ApiKeyId, BlobId, Bucket, BucketId, BucketIdRef, BucketName, ContentHeaders, Object, ObjectKey,
    Project, ProjectId, ProjectName, RegionSet, Scopes, StoredTags, Tags, Timestamp, UserMetadata,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

/// The bucket columns a listing page shows, on the alias `b` (a macro so that
/// [`BUCKET_COLUMNS`] can extend it at compile time).
macro_rules! shown_bucket_columns {
    () => {
        "b.id, b.name, b.region, b.storage_class, b.public, b.tags, b.created_at, b.deleted_at, b.purge_at, \
         b.size_bytes, b.object_count"
    };
}
/// The bucket columns a listing page selects ([`BucketColumns`], in that order): not the
/// project's id, which the listing knows.
pub(crate) const LISTED_BUCKET_COLUMNS: &str = shown_bucket_columns!();
/// The bucket columns every other bucket query selects: [`LISTED_BUCKET_COLUMNS`], then the
/// project's id.
pub(crate) const BUCKET_COLUMNS: &str = concat!(shown_bucket_columns!(), ", b.project_id");
/// The object columns every object query selects.
pub(crate) const OBJECT_COLUMNS: &str =
    "bucket_id, object_key, blob_id, size_bytes, etag, content_type, last_modified, user_metadata, content_headers";
/// The API key columns every key query selects.
pub(crate) const KEY_COLUMNS: &str = "id, project_id, key_hash, scopes, created_at, revoked_at, s3_secret";

/// The error for a stored value that no longer parses: a backend failure, not bad input.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::other(format!("stored {what} does not parse: {detail}"))
}

/// A row of any sqlx backend whose columns decode into the types the store uses.
pub(crate) trait StoredRow: Row
where
    for<'a> &'a str: ColumnIndex<Self>,
{
    fn col<'r, T>(&'r self, name: &str) -> StoreResult<T>
    where
        T: Decode<'r, Self::Database> + Type<Self::Database>,
    {
        self.try_get(name).map_err(|e| corrupt(name, e))
    }
}

impl<R: Row> StoredRow for R where for<'a> &'a str: ColumnIndex<R> {}

/// A bucket from the row of a query selecting [`BUCKET_COLUMNS`].
pub(crate) fn bucket<R>(row: &R) -> StoreResult<Bucket>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    bucket_from_columns(bucket_columns(row)?, row.col("project_id")?)
}

/// A bucket of a listing page from the row of a query selecting [`LISTED_BUCKET_COLUMNS`],
/// borrowing the row's text.
pub(crate) fn listed_bucket<R>(row: &R) -> StoreResult<ListedBucket<'_>>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    listed_bucket_from_columns(bucket_columns(row)?)
}

/// The [`BucketColumns`] of a row, by name.
fn bucket_columns<R>(row: &R) -> StoreResult<BucketColumns<'_>>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(BucketColumns {
        id: row.col("id")?,
        name: row.col("name")?,
        region: row.col("region")?,
        storage_class: row.col("storage_class")?,
        public: row.col("public")?,
        tags: row.col("tags")?,
        created_at: row.col("created_at")?,
        deleted_at: row.col("deleted_at")?,
        purge_at: row.col("purge_at")?,
        size_bytes: row.col("size_bytes")?,
        object_count: row.col("object_count")?,
    })
}

/// The columns of a `buckets` row a page shows, as stored ([`LISTED_BUCKET_COLUMNS`], in that
/// order), whichever driver read them, borrowed from the row.
pub(crate) struct BucketColumns<'r> {
    pub id: &'r str,
    pub name: &'r str,
    pub region: &'r str,
    pub storage_class: &'r str,
    pub public: bool,
    pub tags: &'r str,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
    pub purge_at: Option<i64>,
    pub size_bytes: i64,
    pub object_count: i64,
}

/// A bucket of `project_id` from its columns, every field checked.
pub(crate) fn bucket_from_columns(c: BucketColumns<'_>, project_id: &str) -> StoreResult<Bucket> {
    Ok(Bucket {
        id: BucketId::parse(c.id).map_err(|e| corrupt("bucket id", e))?,
        project_id: ProjectId::parse(project_id).map_err(|e| corrupt("project id", e))?,
        name: BucketName::parse(c.name).map_err(|e| corrupt("bucket name", e))?,
        region: RegionSet::trusted(c.region.to_owned()),
        storage_class: c.storage_class.parse().map_err(|e| corrupt("storage class", e))?,
        public: c.public,
        tags: Tags::from_stored_json(c.tags).map_err(|e| corrupt("tags", e))?,
        created_at: Timestamp::from_unix_seconds(c.created_at),
        size_bytes: u64::try_from(c.size_bytes).unwrap_or(0),
        object_count: u64::try_from(c.object_count).unwrap_or(0),
        deleted_at: c.deleted_at.map(Timestamp::from_unix_seconds),
        purge_at: c.purge_at.map(Timestamp::from_unix_seconds),
    })
}

/// A bucket of a listing page from its columns, borrowing their text. The id is checked (a page
/// and its cursor are built on ids), the storage class parsed, and the tags kept as stored
/// when they are in serde's form, else parsed; the name and region are passed on as stored,
/// as they were validated when written (a page writes them as JSON strings either way).
pub(crate) fn listed_bucket_from_columns(c: BucketColumns<'_>) -> StoreResult<ListedBucket<'_>> {
    Ok(ListedBucket {
        id: BucketIdRef::parse(c.id).map_err(|e| corrupt("bucket id", e))?,
        name: c.name,
        region: c.region,
        storage_class: c.storage_class.parse().map_err(|e| corrupt("storage class", e))?,
        public: c.public,
        tags: StoredTags::from_stored_json(c.tags).map_err(|e| corrupt("tags", e))?,
        created_at: Timestamp::from_unix_seconds(c.created_at),
        size_bytes: u64::try_from(c.size_bytes).unwrap_or(0),
        object_count: u64::try_from(c.object_count).unwrap_or(0),
        deleted_at: c.deleted_at.map(Timestamp::from_unix_seconds),
        purge_at: c.purge_at.map(Timestamp::from_unix_seconds),
    })
}

/// An object from the row of a query selecting [`OBJECT_COLUMNS`].
pub(crate) fn object<R>(row: &R) -> StoreResult<Object>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    object_from_columns(ObjectColumns {
        bucket_id: row.col("bucket_id")?,
        object_key: row.col("object_key")?,
        blob_id: row.col("blob_id")?,
        size_bytes: row.col("size_bytes")?,
        etag: row.col("etag")?,
        content_type: row.col("content_type")?,
        last_modified: row.col("last_modified")?,
        user_metadata: row.col("user_metadata")?,
        content_headers: row.col("content_headers")?,
    })
}

/// The columns of an `objects` row as stored ([`OBJECT_COLUMNS`], in that order), whichever
/// driver read them.
pub(crate) struct ObjectColumns {
    pub bucket_id: String,
    pub object_key: String,
    pub blob_id: String,
    pub size_bytes: i64,
    pub etag: String,
    pub content_type: String,
    pub last_modified: i64,
    pub user_metadata: String,
    pub content_headers: String,
}

pub(crate) fn object_from_columns(c: ObjectColumns) -> StoreResult<Object> {
    Ok(Object {
        bucket_id: BucketId::parse_owned(c.bucket_id).map_err(|e| corrupt("object's bucket id", e))?,
        key: ObjectKey::parse(&c.object_key).map_err(|e| corrupt("object key", e))?,
        blob_id: BlobId::parse(&c.blob_id).ok_or_else(|| corrupt("blob id", &c.blob_id))?,
        size_bytes: u64::try_from(c.size_bytes).map_err(|e| corrupt("object size", e))?,
        etag: c.etag,
        content_type: c.content_type,
        user_metadata: UserMetadata::from_stored_json(&c.user_metadata)
            .map_err(|e| corrupt("object's user metadata", e))?,
        content_headers: ContentHeaders::from_stored_json(&c.content_headers)
            .map_err(|e| corrupt("object's content headers", e))?,
        last_modified: Timestamp::from_unix_seconds(c.last_modified),
    })
}

/// The columns every multipart upload query selects.
pub(crate) const UPLOAD_COLUMNS: &str =
    "id, bucket_id, object_key, content_type, created_at, user_metadata, content_headers";
/// The columns every part query selects.
pub(crate) const PART_COLUMNS: &str = "part_number, blob_id, size_bytes, etag, created_at";

/// An upload from the row of a query selecting [`UPLOAD_COLUMNS`].
pub(crate) fn upload<R>(row: &R) -> StoreResult<MultipartUpload>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    upload_from_columns(UploadColumns {
        id: row.col("id")?,
        bucket_id: row.col("bucket_id")?,
        object_key: row.col("object_key")?,
        content_type: row.col("content_type")?,
        created_at: row.col("created_at")?,
        user_metadata: row.col("user_metadata")?,
        content_headers: row.col("content_headers")?,
    })
}

/// The columns of a `multipart_uploads` row ([`UPLOAD_COLUMNS`], in that order).
pub(crate) struct UploadColumns {
    pub id: String,
    pub bucket_id: String,
    pub object_key: String,
    pub content_type: String,
    pub created_at: i64,
    pub user_metadata: String,
    pub content_headers: String,
}

pub(crate) fn upload_from_columns(c: UploadColumns) -> StoreResult<MultipartUpload> {
    Ok(MultipartUpload {
        id: UploadId::parse_owned(c.id).map_err(|e| corrupt("upload id", e))?,
        bucket_id: BucketId::parse_owned(c.bucket_id).map_err(|e| corrupt("upload's bucket id", e))?,
        key: ObjectKey::parse(&c.object_key).map_err(|e| corrupt("upload's key", e))?,
        content_type: c.content_type,
        user_metadata: UserMetadata::from_stored_json(&c.user_metadata)
            .map_err(|e| corrupt("upload's user metadata", e))?,
        content_headers: ContentHeaders::from_stored_json(&c.content_headers)
            .map_err(|e| corrupt("upload's content headers", e))?,
        initiated: Timestamp::from_unix_seconds(c.created_at),
    })
}

/// A part from the row of a query selecting [`PART_COLUMNS`].
pub(crate) fn part<R>(row: &R) -> StoreResult<UploadedPart>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
{
    part_from_columns(PartColumns {
        part_number: row.col("part_number")?,
        blob_id: row.col("blob_id")?,
        size_bytes: row.col("size_bytes")?,
        etag: row.col("etag")?,
        created_at: row.col("created_at")?,
    })
}

/// The columns of a `multipart_parts` row ([`PART_COLUMNS`], in that order).
pub(crate) struct PartColumns {
    pub part_number: i32,
    pub blob_id: String,
    pub size_bytes: i64,
    pub etag: String,
    pub created_at: i64,
}

pub(crate) fn part_from_columns(c: PartColumns) -> StoreResult<UploadedPart> {
    Ok(UploadedPart {
        number: u32::try_from(c.part_number).map_err(|e| corrupt("part number", e))?,
        blob_id: BlobId::parse(&c.blob_id).ok_or_else(|| corrupt("part's blob id", &c.blob_id))?,
        size_bytes: u64::try_from(c.size_bytes).map_err(|e| corrupt("part size", e))?,
        etag: c.etag,
        last_modified: Timestamp::from_unix_seconds(c.created_at),
    })
}

/// A project from a row of `id, name, created_at`.
pub(crate) fn project<R>(row: &R) -> StoreResult<Project>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let id: String = row.col("id")?;
    let name: String = row.col("name")?;
    Ok(Project {
        id: ProjectId::parse(&id).map_err(|e| corrupt("project id", e))?,
        name: ProjectName::parse(&name).map_err(|e| corrupt("project name", e))?,
        created_at: Timestamp::from_unix_seconds(row.col("created_at")?),
    })
}

/// An API key from the row of a query selecting [`KEY_COLUMNS`].
pub(crate) fn api_key<R>(row: &R) -> StoreResult<ApiKeyRecord>
where
    R: StoredRow,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    api_key_from_columns(ApiKeyColumns {
        id: row.col("id")?,
        project_id: row.col("project_id")?,
        key_hash: row.col("key_hash")?,
        scopes: row.col("scopes")?,
        created_at: row.col("created_at")?,
        revoked_at: row.col("revoked_at")?,
        s3_secret: row.col("s3_secret")?,
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
    pub s3_secret: Option<Vec<u8>>,
}

pub(crate) fn api_key_from_columns(c: ApiKeyColumns) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse_owned(c.id).map_err(|e| corrupt("key id", e))?,
        project_id: ProjectId::parse_owned(c.project_id).map_err(|e| corrupt("project id", e))?,
        hash: ApiKeyHash(c.key_hash.try_into().map_err(|_| corrupt("key hash", "not 32 bytes"))?),
        scopes: Scopes::parse_list(&c.scopes).map_err(|e| corrupt("scopes", e))?,
        created_at: Timestamp::from_unix_seconds(c.created_at),
        revoked_at: c.revoked_at.map(Timestamp::from_unix_seconds),
        s3_secret: c.s3_secret,
    })
}

/// Ids read back as text, e.g. from `SELECT id ...`.
pub(crate) fn key_ids(ids: &[String]) -> StoreResult<Vec<ApiKeyId>> {
    ids.iter()
        .map(|id| ApiKeyId::parse(id).map_err(|e| corrupt("key id", e)))
        .collect()
}

/// Blob ids read back as text; ones that do not parse are skipped (they name no file).
pub(crate) fn blob_ids(ids: &[String]) -> Vec<BlobId> {
    ids.iter().filter_map(|id| BlobId::parse(id)).collect()
}
