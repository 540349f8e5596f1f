//! Object operations over S3: put, get and head (ranges, conditions), delete (one or many),
//! copy, and both list versions. ETags are the hex MD5 of the bytes, as S3 computes them for
//! single-part objects.

use super::buckets::bucket_ref;
use super::errors::from_service;
use super::protocol::{principal, s3_time, unix_seconds};
use crate::AppState;
use crate::routes::objects::put::DEFAULT_CONTENT_TYPE;
use base64::Engine;
use cloudnexus_core::user_metadata::UserMetadataError;
use cloudnexus_core::{ByteRange, Object, ObjectKey, UserMetadata};
use cloudnexus_service::Principal;
use cloudnexus_service::objects::get::{GetObject, ObjectRead, ReadConditions};
use cloudnexus_service::objects::list::ObjectQuery;
use cloudnexus_service::objects::put::PutObject;
use cloudnexus_store::{ByteStream, ObjectEntry, ObjectPosition, PutConditions};
use futures_util::{StreamExt, TryStreamExt};
use s3s::dto::{
    CommonPrefix, CopyObjectInput, CopyObjectOutput, CopyObjectResult, CopySource, DeleteObjectInput,
    DeleteObjectOutput, DeleteObjectsInput, DeleteObjectsOutput, DeletedObject, ETag, ETagCondition,
    Error as S3ObjectError, GetObjectInput, GetObjectOutput, HeadObjectInput, HeadObjectOutput, ListObjectsInput,
    ListObjectsOutput, ListObjectsV2Input, ListObjectsV2Output, Object as S3Object, PutObjectInput, PutObjectOutput,
    Range, StreamingBlob, Timestamp,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result, s3_error};

/// The most entries of one list answer (S3's `max-keys` limit and default).
const MAX_KEYS: i32 = 1000;

pub(super) fn object_key(key: &str) -> S3Result<ObjectKey> {
    ObjectKey::parse(key).map_err(|e| match e {
        cloudnexus_core::object::ObjectKeyError::Length(_) => {
            s3_error!(
                KeyTooLongError,
                "Your key is too long: keys are 1 to 1024 bytes of UTF-8"
            )
        }
        other => s3_error!(InvalidArgument, "The key {}", other),
    })
}

fn etag(object: &Object) -> ETag {
    ETag::Strong(object.etag.clone())
}

/// ETag conditions as the service takes them: the quoted values, `*` for any.
pub(super) fn etag_list(condition: Option<&ETagCondition>) -> Option<Vec<String>> {
    condition.map(|c| match c {
        ETagCondition::Any => vec!["*".to_owned()],
        ETagCondition::ETag(e) => vec![e.value().to_owned()],
    })
}

fn read_conditions(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> ReadConditions {
    ReadConditions {
        if_match: etag_list(if_match),
        if_none_match: etag_list(if_none_match),
        if_modified_since: if_modified_since.map(unix_seconds),
        if_unmodified_since: if_unmodified_since.map(unix_seconds),
    }
}

fn byte_range(range: Option<Range>) -> Option<ByteRange> {
    range.map(|r| match r {
        Range::Int { first, last } => ByteRange::From { first, last },
        Range::Suffix { length } => ByteRange::Suffix(length),
    })
}

/// A service byte stream as a body `s3s` can send.
fn streaming(body: ByteStream) -> StreamingBlob {
    StreamingBlob::wrap(sync_wrapper::SyncStream::new(body))
}

/// A request body as the service reads it.
pub(super) fn byte_stream(body: Option<StreamingBlob>) -> ByteStream {
    match body {
        Some(blob) => blob.map_err(std::io::Error::other).boxed(),
        None => futures_util::stream::empty().boxed(),
    }
}

pub(super) fn content_md5(value: Option<&str>) -> S3Result<Option<[u8; 16]>> {
    value
        .map(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
                .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified is not valid."))
        })
        .transpose()
}

pub(super) fn content_type(value: Option<String>) -> S3Result<String> {
    match value {
        None => Ok(DEFAULT_CONTENT_TYPE.to_owned()),
        Some(s) if !s.trim().is_empty() && s.len() <= 255 && s.is_ascii() => Ok(s.trim().to_owned()),
        Some(_) => Err(s3_error!(
            InvalidArgument,
            "Content-Type must be a media type of at most 255 ASCII characters"
        )),
    }
}

/// The `x-amz-meta-*` of a request (names without the prefix, values decoded by `s3s`), checked.
pub(super) fn user_metadata(given: Option<&s3s::dto::Metadata>) -> S3Result<UserMetadata> {
    let entries = given
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), value.clone()));
    UserMetadata::new(entries).map_err(|e| match e {
        UserMetadataError::TooLarge(_) => s3_error!(MetadataTooLarge, "{}", e),
        UserMetadataError::Name(_) | UserMetadataError::Value(_) => s3_error!(InvalidArgument, "{}", e),
    })
}

/// The `Cache-Control`, `Content-Disposition`, `Content-Encoding` and `Content-Language` of a
/// write's input (PutObject, CopyObject, CreateMultipartUpload: `s3s` gives each the same
/// fields), checked.
macro_rules! content_headers {
    ($input:expr) => {
        cloudnexus_core::ContentHeaders::new(
            $input.cache_control.clone(),
            $input.content_disposition.clone(),
            $input.content_encoding.clone(),
            $input.content_language.clone(),
        )
        .map_err(|e| s3s::s3_error!(InvalidArgument, "{}", e))
    };
}
pub(super) use content_headers;

/// Whether a read's input (GetObject, HeadObject) asks for `response-*` overrides.
macro_rules! overrides_given {
    ($input:expr) => {
        $input.response_cache_control.is_some()
            || $input.response_content_disposition.is_some()
            || $input.response_content_encoding.is_some()
            || $input.response_content_language.is_some()
            || $input.response_content_type.is_some()
            || $input.response_expires.is_some()
    };
}

/// An object's metadata as an answer's `x-amz-meta-*` (`s3s` encodes values that need it).
fn metadata_headers(object: &Object) -> Option<s3s::dto::Metadata> {
    (!object.user_metadata.is_empty()).then(|| {
        object
            .user_metadata
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    })
}

pub(super) async fn put_object(state: &AppState, req: S3Request<PutObjectInput>) -> S3Result<PutObjectOutput> {
    let principal = &principal(&req)?;
    let input = req.input;
    let put = PutObject {
        bucket: bucket_ref(&input.bucket)?,
        key: object_key(&input.key)?,
        content_type: content_type(input.content_type)?,
        content_headers: content_headers!(input)?,
        user_metadata: user_metadata(input.metadata.as_ref())?,
        declared_length: input.content_length.and_then(|n| u64::try_from(n).ok()),
        content_md5: content_md5(input.content_md5.as_deref())?,
        conditions: PutConditions {
            if_none_match_any: input.if_none_match.as_ref().is_some_and(ETagCondition::is_any),
            if_match: etag_list(input.if_match.as_ref()),
        },
    };
    let stored = state
        .service
        .put_object(principal, put, byte_stream(input.body))
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(PutObjectOutput {
        e_tag: Some(etag(&stored.object)),
        size: i64::try_from(stored.object.size_bytes).ok(),
        ..Default::default()
    })
}

/// What GetObject and HeadObject share: the read, and the headers of its answer; and the
/// source of a copy.
pub(super) struct Read {
    object: Object,
    span: Option<(u64, u64)>,
    body: Option<ByteStream>,
}

impl Read {
    /// How many bytes the read carries.
    pub(super) fn length(&self) -> u64 {
        ObjectRead::length(&self.object, self.span)
    }

    /// The bytes read (an empty stream for an empty object).
    pub(super) fn into_body(self) -> ByteStream {
        self.body.unwrap_or_else(|| futures_util::stream::empty().boxed())
    }
}

/// Reads the source of a copy (`x-amz-copy-source`), with its conditions and an optional byte
/// range; a source that is current for the client's condition fails as a precondition.
pub(super) async fn read_source(
    state: &AppState,
    principal: &Principal,
    source: &CopySource,
    conditions: ReadConditions,
    range: Option<ByteRange>,
) -> S3Result<Read> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = source
    else {
        return Err(s3_error!(NotImplemented, "Copies from access points are not supported"));
    };
    if version_id.is_some() {
        return Err(s3_error!(
            NotImplemented,
            "Buckets have no versioning; copy without versionId"
        ));
    }
    read(state, Some(principal), bucket, key, |get| GetObject {
        conditions,
        range,
        ..get
    })
    .await
    .map_err(|e| {
        if *e.code() == S3ErrorCode::NotModified {
            s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            )
        } else {
            e
        }
    })
}

async fn read(
    state: &AppState,
    principal: Option<&Principal>,
    bucket: &str,
    key: &str,
    get: impl FnOnce(GetObject) -> GetObject,
) -> S3Result<Read> {
    let request = get(GetObject {
        bucket: bucket_ref(bucket)?,
        key: object_key(key)?,
        conditions: ReadConditions::default(),
        range: None,
        with_body: true,
    });
    match state.service.get_object(principal, request).await {
        Ok(ObjectRead::Content { object, span, body }) => Ok(Read { object, span, body }),
        Ok(ObjectRead::NotModified(_)) => Err(S3Error::new(S3ErrorCode::NotModified)),
        Err(e) => Err(from_service(e, Some(bucket), Some(key))),
    }
}

fn content_range(read: &Read) -> Option<String> {
    read.span
        .map(|(first, last)| format!("bytes {first}-{last}/{}", read.object.size_bytes))
}

fn length(read: &Read) -> Option<i64> {
    i64::try_from(ObjectRead::length(&read.object, read.span)).ok()
}

pub(super) async fn get_object(state: &AppState, req: S3Request<GetObjectInput>) -> S3Result<GetObjectOutput> {
    let principal = req.extensions.get::<Principal>();
    let input = &req.input;
    // `s3s` puts the overrides on GetObject's answer itself.
    refuse_anonymous_overrides(principal, overrides_given!(input))?;
    let read = read(state, principal, &input.bucket, &input.key, |get| GetObject {
        conditions: read_conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ),
        range: byte_range(input.range),
        ..get
    })
    .await?;
    let content_range = content_range(&read);
    let content_length = length(&read);
    Ok(GetObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        content_length,
        content_range,
        content_type: Some(read.object.content_type.clone()),
        e_tag: Some(etag(&read.object)),
        last_modified: Some(s3_time(read.object.last_modified)),
        cache_control: read.object.content_headers.cache_control.clone(),
        content_disposition: read.object.content_headers.content_disposition.clone(),
        content_encoding: read.object.content_headers.content_encoding.clone(),
        content_language: read.object.content_headers.content_language.clone(),
        metadata: metadata_headers(&read.object),
        body: Some(match read.body {
            Some(body) => streaming(body),
            None => streaming(futures_util::stream::empty().boxed()),
        }),
        ..Default::default()
    })
}

/// The `response-*` overrides of a read: S3 allows them on signed requests only, so that
/// nobody can make a public object's link answer with headers of their choice.
fn refuse_anonymous_overrides(principal: Option<&Principal>, given: bool) -> S3Result<()> {
    if principal.is_none() && given {
        return Err(s3_error!(
            InvalidRequest,
            "Request specific response headers cannot be used for anonymous GET requests."
        ));
    }
    Ok(())
}

pub(super) async fn head_object(state: &AppState, req: S3Request<HeadObjectInput>) -> S3Result<HeadObjectOutput> {
    let principal = req.extensions.get::<Principal>();
    let input = &req.input;
    // HeadObject's overrides are applied here (`s3s` applies GetObject's only).
    refuse_anonymous_overrides(principal, overrides_given!(input))?;
    let read = read(state, principal, &input.bucket, &input.key, |get| GetObject {
        conditions: read_conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        ),
        range: byte_range(input.range),
        with_body: false,
        ..get
    })
    .await?;
    let stored = &read.object.content_headers;
    let or_stored = |given: &Option<String>, kept: &Option<String>| given.clone().or_else(|| kept.clone());
    Ok(HeadObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        content_length: length(&read),
        content_range: content_range(&read),
        content_type: Some(
            input
                .response_content_type
                .clone()
                .unwrap_or_else(|| read.object.content_type.clone()),
        ),
        e_tag: Some(etag(&read.object)),
        last_modified: Some(s3_time(read.object.last_modified)),
        cache_control: or_stored(&input.response_cache_control, &stored.cache_control),
        content_disposition: or_stored(&input.response_content_disposition, &stored.content_disposition),
        content_encoding: or_stored(&input.response_content_encoding, &stored.content_encoding),
        content_language: or_stored(&input.response_content_language, &stored.content_language),
        expires: input.response_expires.clone(),
        metadata: metadata_headers(&read.object),
        ..Default::default()
    })
}

pub(super) async fn delete_object(state: &AppState, req: S3Request<DeleteObjectInput>) -> S3Result<DeleteObjectOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    state
        .service
        .delete_object(principal, &bucket_ref(&input.bucket)?, &object_key(&input.key)?)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(DeleteObjectOutput::default())
}

/// Deletes each key in turn; a key that fails is reported in `Errors` and the rest go on, as S3
/// does. A missing bucket fails the whole request.
pub(super) async fn delete_objects(
    state: &AppState,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<DeleteObjectsOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let bucket = bucket_ref(&input.bucket)?;
    let quiet = input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for identifier in &input.delete.objects {
        let outcome = match object_key(&identifier.key) {
            Ok(key) => state
                .service
                .delete_object(principal, &bucket, &key)
                .await
                .map_err(|e| from_service(e, Some(&input.bucket), Some(&identifier.key))),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) if quiet => {}
            Ok(()) => deleted.push(DeletedObject {
                key: Some(identifier.key.clone()),
                ..Default::default()
            }),
            Err(e) if *e.code() == S3ErrorCode::NoSuchBucket => return Err(e),
            Err(e) => errors.push(S3ObjectError {
                code: Some(e.code().as_str().to_owned()),
                key: Some(identifier.key.clone()),
                message: e.message().map(str::to_owned),
                version_id: None,
            }),
        }
    }
    Ok(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    })
}

/// Copies by reading the source and writing the target through the service, so the copy is a
/// durable object of its own with its own usage; the ETag is the same MD5.
pub(super) async fn copy_object(state: &AppState, req: S3Request<CopyObjectInput>) -> S3Result<CopyObjectOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let conditions = read_conditions(
        input.copy_source_if_match.as_ref(),
        input.copy_source_if_none_match.as_ref(),
        input.copy_source_if_modified_since.as_ref(),
        input.copy_source_if_unmodified_since.as_ref(),
    );
    let source = read_source(state, principal, &input.copy_source, conditions, None).await?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == s3s::dto::MetadataDirective::REPLACE);
    // COPY (the default) keeps the source's Content-Type, content headers and metadata;
    // REPLACE takes the request's, none given meaning none.
    let (content_type, content_headers, user_metadata) = if replace {
        (
            content_type(input.content_type.clone())?,
            content_headers!(input)?,
            user_metadata(input.metadata.as_ref())?,
        )
    } else {
        (
            source.object.content_type.clone(),
            source.object.content_headers.clone(),
            source.object.user_metadata.clone(),
        )
    };
    let put = PutObject {
        bucket: bucket_ref(&input.bucket)?,
        key: object_key(&input.key)?,
        content_type,
        content_headers,
        user_metadata,
        declared_length: Some(source.object.size_bytes),
        content_md5: None,
        conditions: PutConditions::default(),
    };
    let body = source.into_body();
    let stored = state
        .service
        .put_object(principal, put, body)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(etag(&stored.object)),
            last_modified: Some(s3_time(stored.object.last_modified)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// One page of a listing, whichever list version asked.
struct Listed {
    contents: Vec<S3Object>,
    prefixes: Vec<CommonPrefix>,
    /// The cursor of the next page, when there is one.
    next_cursor: Option<String>,
    /// The last key or common prefix of the page (V1's `NextMarker`).
    last: Option<String>,
}

struct ListParams<'a> {
    bucket: &'a str,
    prefix: Option<String>,
    delimiter: Option<String>,
    max_keys: Option<i32>,
    cursor: Option<String>,
    start_after: Option<ObjectPosition>,
    url_encoded: bool,
}

async fn list(state: &AppState, principal: &Principal, p: ListParams<'_>) -> S3Result<Listed> {
    let max_keys = p.max_keys.unwrap_or(MAX_KEYS);
    if max_keys < 0 {
        return Err(s3_error!(InvalidArgument, "max-keys must be from 0 to 1000"));
    }
    let bucket = bucket_ref(p.bucket)?;
    let query = ObjectQuery {
        prefix: p.prefix.unwrap_or_default(),
        delimiter: p.delimiter.filter(|d| !d.is_empty()),
        limit: max_keys.clamp(1, MAX_KEYS).unsigned_abs(),
        cursor: p.cursor,
        start_after: p.start_after,
    };
    let listing = state
        .service
        .list_objects(principal, &bucket, query)
        .await
        .map_err(|e| from_service(e, Some(p.bucket), None))?;
    if max_keys == 0 {
        // The bucket exists and may be read; S3 answers an empty, untruncated page.
        return Ok(Listed {
            contents: Vec::new(),
            prefixes: Vec::new(),
            next_cursor: None,
            last: None,
        });
    }
    let encode = |s: &str| if p.url_encoded { url_encode(s) } else { s.to_owned() };
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    let mut last = None;
    for entry in listing.entries {
        match entry {
            ObjectEntry::Object(o) => {
                last = Some(o.key.as_str().to_owned());
                contents.push(S3Object {
                    key: Some(encode(o.key.as_str())),
                    e_tag: Some(etag(&o)),
                    last_modified: Some(s3_time(o.last_modified)),
                    size: i64::try_from(o.size_bytes).ok(),
                    storage_class: Some(s3s::dto::ObjectStorageClass::from_static(
                        s3s::dto::ObjectStorageClass::STANDARD,
                    )),
                    ..Default::default()
                });
            }
            ObjectEntry::CommonPrefix(prefix) => {
                last = Some(prefix.clone());
                prefixes.push(CommonPrefix {
                    prefix: Some(encode(&prefix)),
                });
            }
        }
    }
    Ok(Listed {
        contents,
        prefixes,
        next_cursor: listing.next_cursor,
        last,
    })
}

/// Percent-encodes what a listing returns when the client asked for `encoding-type=url` (every
/// byte but unreserved characters and `/`), so keys with any bytes reach it intact.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn wants_url_encoding(encoding: Option<&s3s::dto::EncodingType>) -> S3Result<bool> {
    match encoding {
        None => Ok(false),
        Some(e) if e.as_str() == s3s::dto::EncodingType::URL => Ok(true),
        Some(e) => Err(s3_error!(
            InvalidArgument,
            "Invalid Encoding Method specified in Request: {}",
            e.as_str()
        )),
    }
}

pub(super) async fn list_objects_v2(
    state: &AppState,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<ListObjectsV2Output> {
    let principal = &principal(&req)?;
    let input = req.input.clone();
    let url_encoded = wants_url_encoding(input.encoding_type.as_ref())?;
    let start_after = match (&input.continuation_token, &input.start_after) {
        (None, Some(key)) if !key.is_empty() => Some(ObjectPosition {
            key: key.clone(),
            is_prefix: false,
        }),
        _ => None,
    };
    let listed = list(
        state,
        principal,
        ListParams {
            bucket: &input.bucket,
            prefix: input.prefix.clone(),
            delimiter: input.delimiter.clone(),
            max_keys: input.max_keys,
            cursor: input.continuation_token.clone(),
            start_after,
            url_encoded,
        },
    )
    .await?;
    let encode = |s: Option<String>| if url_encoded { s.map(|s| url_encode(&s)) } else { s };
    let key_count = i32::try_from(listed.contents.len() + listed.prefixes.len()).unwrap_or(i32::MAX);
    Ok(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: encode(Some(input.prefix.unwrap_or_default())),
        delimiter: encode(input.delimiter),
        start_after: encode(input.start_after),
        max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS)),
        key_count: Some(key_count),
        continuation_token: input.continuation_token,
        is_truncated: Some(listed.next_cursor.is_some()),
        next_continuation_token: listed.next_cursor,
        contents: Some(listed.contents),
        common_prefixes: Some(listed.prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    })
}

pub(super) async fn list_objects(state: &AppState, req: S3Request<ListObjectsInput>) -> S3Result<ListObjectsOutput> {
    let principal = &principal(&req)?;
    let input = req.input.clone();
    let url_encoded = wants_url_encoding(input.encoding_type.as_ref())?;
    // A marker that is a common prefix of this listing (V1's NextMarker under a delimiter)
    // continues after every key under it.
    let start_after = input
        .marker
        .as_ref()
        .filter(|m| !m.is_empty())
        .map(|marker| ObjectPosition {
            key: marker.clone(),
            is_prefix: input.delimiter.as_deref().is_some_and(|d| {
                !d.is_empty() && marker.ends_with(d) && marker.starts_with(input.prefix.as_deref().unwrap_or(""))
            }),
        });
    let listed = list(
        state,
        principal,
        ListParams {
            bucket: &input.bucket,
            prefix: input.prefix.clone(),
            delimiter: input.delimiter.clone(),
            max_keys: input.max_keys,
            cursor: None,
            start_after,
            url_encoded,
        },
    )
    .await?;
    let encode = |s: Option<String>| if url_encoded { s.map(|s| url_encode(&s)) } else { s };
    let truncated = listed.next_cursor.is_some();
    Ok(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: encode(Some(input.prefix.unwrap_or_default())),
        delimiter: encode(input.delimiter),
        marker: encode(Some(input.marker.unwrap_or_default())),
        max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS)),
        is_truncated: Some(truncated),
        next_marker: if truncated { encode(listed.last) } else { None },
        contents: Some(listed.contents),
        common_prefixes: Some(listed.prefixes),
        encoding_type: input.encoding_type,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_slashes_and_unreserved_characters() {
        assert_eq!(url_encode("a/b-c_d.e~f"), "a/b-c_d.e~f");
        assert_eq!(url_encode("a b+c%d"), "a%20b%2Bc%25d");
        assert_eq!(url_encode("é"), "%C3%A9");
    }

    #[test]
    fn content_md5_must_be_sixteen_bytes_of_base64() {
        assert_eq!(content_md5(None).unwrap(), None);
        assert_eq!(content_md5(Some("AAAAAAAAAAAAAAAAAAAAAA==")).unwrap(), Some([0; 16]));
        assert!(content_md5(Some("not base64")).is_err());
        assert!(content_md5(Some("AAAA")).is_err());
    }
}
