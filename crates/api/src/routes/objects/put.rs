//! `PUT /v1/buckets/{bucket}/objects/{key}`: stream a body into an object. The headers are
//! read here; the service stores the object durably (`cloudnexus_service::objects::put`) and
//! answers only once bytes and metadata are on stable storage.

use super::{ObjectPath, ObjectResponse, etag_list, header_str, quoted};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cloudnexus_core::{ContentHeaders, UserMetadata};
use cloudnexus_service::objects::put::PutObject;
use cloudnexus_store::PutConditions;
use futures_util::{StreamExt, TryStreamExt};

/// The content type of an object stored without one.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// `Content-MD5` is the base64 of the body's 16-byte digest.
fn decode_md5(value: &str) -> Option<[u8; 16]> {
    STANDARD.decode(value.trim()).ok()?.try_into().ok()
}

/// Reads `If-None-Match` (only `*` makes sense on a PUT) and `If-Match`.
fn conditions(headers: &HeaderMap) -> ApiResult<PutConditions> {
    let if_none_match_any = match header_str(headers, header::IF_NONE_MATCH) {
        None => false,
        Some(v) if v.trim() == "*" => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "If-None-Match",
                "on a PUT only `If-None-Match: *` (create only if the key does not exist) is supported",
            ));
        }
    };
    let if_match = header_str(headers, header::IF_MATCH).map(etag_list);
    Ok(PutConditions {
        if_none_match_any,
        if_match,
    })
}

fn content_type(headers: &HeaderMap) -> ApiResult<String> {
    match headers.get(header::CONTENT_TYPE) {
        None => Ok(DEFAULT_CONTENT_TYPE.to_owned()),
        Some(v) => match v.to_str() {
            Ok(s) if !s.trim().is_empty() && s.len() <= 255 => Ok(s.trim().to_owned()),
            _ => Err(ApiError::invalid(
                "Content-Type",
                "must be a media type of at most 255 visible ASCII characters",
            )),
        },
    }
}

/// `Cache-Control`, `Content-Disposition`, `Content-Encoding` and `Content-Language`: not
/// instructions to this server but what the object is to be served with, as S3 takes them.
/// A header sent on several lines is one value, the lines joined by commas (RFC 9110).
fn content_headers(headers: &HeaderMap) -> ApiResult<ContentHeaders> {
    let value = |name: HeaderName, label: &str| -> ApiResult<Option<String>> {
        let lines = headers
            .get_all(name)
            .iter()
            .map(HeaderValue::to_str)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::invalid(label, "must be visible ASCII, spaces or tabs"))?;
        Ok((!lines.is_empty()).then(|| lines.join(", ")))
    };
    let encoding = value(header::CONTENT_ENCODING, "Content-Encoding")?;
    // This API takes a body as it comes; a client framing it as S3's streaming uploads do would
    // have the framing stored as the object's bytes.
    if encoding.as_deref().is_some_and(ContentHeaders::names_aws_chunked) {
        return Err(ApiError::invalid(
            "Content-Encoding",
            "aws-chunked bodies belong to the S3 protocol: send the bytes as they are",
        ));
    }
    ContentHeaders::new(
        value(header::CACHE_CONTROL, "Cache-Control")?,
        value(header::CONTENT_DISPOSITION, "Content-Disposition")?,
        encoding,
        value(header::CONTENT_LANGUAGE, "Content-Language")?,
    )
    .map_err(|e| ApiError::invalid(e.header(), e.to_string()))
}

/// Store an object
///
/// Streams the body into the object `key` (1-1024 bytes of UTF-8; `/` allowed), replacing any
/// object with that key. Answered once bytes and metadata are on stable storage. Its
/// `Content-Type`, `Cache-Control`, `Content-Disposition`, `Content-Encoding` and
/// `Content-Language` are kept and answered by every read of the object.
#[utoipa::path(
    put,
    path = "/v1/buckets/{bucket}/objects/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "The bucket's id or name"),
        ("key" = String, Path, description = "The object key: 1 to 1024 bytes of UTF-8 without NUL; may contain `/`"),
        ("Content-MD5" = Option<String>, Header, description = "Base64 MD5 of the body; checked"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: create only, 412 when the key exists"),
        ("If-Match" = Option<String>, Header, description = "Replace only an object with one of these ETags"),
        ("Cache-Control" = Option<String>, Header, description = "Kept, and answered by every read of the object"),
        ("Content-Disposition" = Option<String>, Header, description = "Kept, and answered by every read of the object (`attachment; filename=...` makes browsers download it)"),
        ("Content-Encoding" = Option<String>, Header, description = "Kept, and answered by every read: how the stored bytes are encoded (`gzip`); they are stored as sent, not decoded"),
        ("Content-Language" = Option<String>, Header, description = "Kept, and answered by every read of the object"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The object's bytes; its Content-Type is stored"),
    responses(
        (status = 201, description = "Created", body = ObjectResponse, headers(("ETag" = String))),
        (status = 200, description = "Replaced an object with that key", body = ObjectResponse, headers(("ETag" = String))),
        (status = 400, description = "Bad key, bad header, or Content-MD5 mismatch (`bad_digest`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-None-Match / If-Match failed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the largest object allowed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn put_object(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ObjectPath { bucket, key }: ObjectPath,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let content_md5 = match header_str(&headers, "content-md5".parse().expect("header name")) {
        None => None,
        Some(v) => Some(decode_md5(v).ok_or_else(|| {
            ApiError::invalid(
                "Content-MD5",
                "must be the base64 encoding of the body's 16-byte MD5 digest",
            )
        })?),
    };
    let put = PutObject {
        bucket,
        key,
        content_type: content_type(&headers)?,
        content_headers: content_headers(&headers)?,
        // User metadata is the S3 protocol's (`x-amz-meta-*`): a PUT here replaces the object
        // whole, leaving it none.
        user_metadata: UserMetadata::default(),
        declared_length: header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        content_md5,
        conditions: conditions(&headers)?,
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other).boxed();
    let stored = state.service.put_object(&principal, put, stream).await?;
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let etag = HeaderValue::from_str(&quoted(&stored.object.etag)).expect("hex etag");
    Ok((
        status,
        [(header::ETAG, etag)],
        axum::Json(ObjectResponse::from(&stored.object)),
    )
        .into_response())
}
