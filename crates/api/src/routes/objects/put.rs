//! `PUT /v1/buckets/{bucket}/objects/{key}`: stream a body into an object.
//!
//! The bytes go to a durable blob first (temp file, fsync, rename, fsync of the folder); then
//! one transaction records the object and the bucket's new usage. Only then is the write
//! acknowledged. A body over the size limit, a wrong `Content-MD5`, a failed precondition or a
//! client that goes away leaves nothing behind.

use super::{ObjectPath, ObjectResponse, collect_garbage, etag_list, header_str, quoted, writable_bucket};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::routes::buckets::change_failed;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cloudnexus_core::{BlobId, Object};
use cloudnexus_store::{BlobWriteError, PutConditions, StoreError};
use futures_util::{StreamExt, TryStreamExt};

/// The content type of an object stored without one.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// `Content-MD5` is the base64 of the body's 16-byte digest.
fn decode_md5(value: &str) -> Option<[u8; 16]> {
    STANDARD.decode(value.trim()).ok()?.try_into().ok()
}

/// Removes a blob that will not be recorded (a rejected or failed PUT).
async fn discard(state: &AppState, blob: BlobId) {
    if let Err(e) = state.blobs.delete(&blob).await {
        tracing::error!(error = %e, blob.id = %blob, "removing an unused blob failed");
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "object_too_large",
        "Payload too large",
        format!("objects can be at most {max} bytes; nothing was stored"),
    )
}

fn precondition_failed() -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "Precondition failed",
        "the object's current state does not match If-Match / If-None-Match; nothing was stored",
    )
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

/// Store an object
///
/// Streams the body into the object `key` (1-1024 bytes of UTF-8; `/` allowed), replacing any
/// object with that key. Answered once bytes and metadata are on stable storage.
#[utoipa::path(
    put,
    path = "/v1/buckets/{bucket}/objects/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "The bucket's id or name"),
        ("key" = String, Path, description = "The object key; may contain `/`"),
        ("Content-MD5" = Option<String>, Header, description = "Base64 MD5 of the body; checked"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: create only, 412 when the key exists"),
        ("If-Match" = Option<String>, Header, description = "Replace only an object with one of these ETags"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The object's bytes; its Content-Type is stored"),
    responses(
        (status = 201, description = "Created", body = ObjectResponse, headers(("ETag" = String))),
        (status = 200, description = "Replaced an object with that key", body = ObjectResponse, headers(("ETag" = String))),
        (status = 400, description = "Bad key, bad header, or Content-MD5 mismatch (`bad_digest`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credential lacks `storage:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-None-Match / If-Match failed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the largest object allowed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["storage:write"]), ("api_key" = ["storage:write"]))
)]
pub async fn put_object(
    State(state): State<AppState>,
    principal: Principal,
    ObjectPath { bucket, key }: ObjectPath,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let target = writable_bucket(&state, &principal, &bucket).await?;
    let max = state.settings.max_object_bytes;
    let declared = header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let conditions = conditions(&headers)?;
    let expected_md5 = match header_str(&headers, "content-md5".parse().expect("header name")) {
        None => None,
        Some(v) => Some(decode_md5(v).ok_or_else(|| {
            ApiError::invalid(
                "Content-MD5",
                "must be the base64 encoding of the body's 16-byte MD5 digest",
            )
        })?),
    };
    let content_type = content_type(&headers)?;
    // Fail fast, before reading the body, when a precondition already does not hold.
    let existing = state.store.get_object(&target.id, &key).await?;
    if !conditions.allow(existing.as_ref().map(|o| o.etag.as_str())) {
        return Err(precondition_failed());
    }

    let stream = body.into_data_stream().map_err(std::io::Error::other).boxed();
    let written = state.blobs.write(stream, max).await.map_err(|e| match e {
        BlobWriteError::TooLarge(max) => too_large(max),
        BlobWriteError::Body(e) => {
            ApiError::bad_request("invalid_body", format!("the request body could not be read: {e}"))
        }
        BlobWriteError::Storage(e) => ApiError::internal(format!("writing a blob failed: {e}")),
    })?;
    if expected_md5.is_some_and(|m| m != written.md5) {
        discard(&state, written.id).await;
        return Err(ApiError::validation(vec![FieldError::new(
            "Content-MD5",
            "does not match the MD5 of the body received; nothing was stored, send the body again",
        )])
        .with_code("bad_digest"));
    }
    let object = Object {
        bucket_id: target.id.clone(),
        key,
        blob_id: written.id.clone(),
        size_bytes: written.size,
        etag: written.md5.iter().map(|b| format!("{b:02x}")).collect(),
        content_type,
        last_modified: state.clock.now(),
    };
    let replaced = match state
        .store
        .put_object(&principal.project_id, object.clone(), &conditions)
        .await
    {
        Ok(replaced) => replaced,
        Err(e) => {
            discard(&state, written.id).await;
            return Err(match e {
                StoreError::PreconditionFailed => precondition_failed(),
                other => change_failed(other, &bucket),
            });
        }
    };
    let created = replaced.is_none();
    if replaced.is_some() {
        collect_garbage(&state).await;
    }
    tracing::info!(bucket.id = %object.bucket_id, size = object.size_bytes, created, "object stored");
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let etag = HeaderValue::from_str(&quoted(&object.etag)).expect("hex etag");
    Ok((
        status,
        [(header::ETAG, etag)],
        axum::Json(ObjectResponse::from(&object)),
    )
        .into_response())
}
