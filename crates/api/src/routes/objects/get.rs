//! `GET` and `HEAD /v1/buckets/{bucket}/objects/{key}`: the object's bytes, streamed, with
//! `Range` (206, 416) and the conditional headers `If-Match`, `If-None-Match`,
//! `If-Modified-Since` and `If-Unmodified-Since`, evaluated in RFC 9110's order.

use super::{ObjectPath, etag_list, header_str, quoted};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::{ByteRange, Object};
use cloudnexus_service::Principal;
use cloudnexus_service::objects::get::{GetObject, ObjectRead, ReadConditions};
use std::time::{Duration, UNIX_EPOCH};

fn http_date(o: &Object) -> String {
    let seconds = u64::try_from(o.last_modified.unix_seconds()).unwrap_or(0);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn parse_http_date(value: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(value).ok()?;
    i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()
}

/// The conditional headers of a read.
pub fn read_conditions(headers: &HeaderMap) -> ReadConditions {
    ReadConditions {
        if_match: header_str(headers, header::IF_MATCH).map(etag_list),
        if_none_match: header_str(headers, header::IF_NONE_MATCH).map(etag_list),
        if_modified_since: header_str(headers, header::IF_MODIFIED_SINCE).and_then(parse_http_date),
        if_unmodified_since: header_str(headers, header::IF_UNMODIFIED_SINCE).and_then(parse_http_date),
    }
}

/// The headers every answer about the object carries.
fn object_headers(o: &Object) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_str(&quoted(&o.etag)).expect("hex etag"));
    h.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(&http_date(o)).expect("http date"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Objects are stored bytes, shown on this origin (the console's): a browser opening one of
    // type text/html or image/svg+xml renders it in a sandbox, with an origin of its own and no
    // script, and never guesses another type.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Given by the object's writer (`Cache-Control`, `Content-Disposition`, ...); checked as
    // visible ASCII when written.
    for (name, value) in o.content_headers.iter() {
        if let Ok(value) = HeaderValue::from_str(value) {
            h.insert(name, value);
        }
    }
    h
}

/// Reads the object and renders the answer; `with_body` is false for HEAD.
async fn respond(
    state: &AppState,
    principal: Option<Principal>,
    path: ObjectPath,
    headers: &HeaderMap,
    with_body: bool,
) -> ApiResult<Response> {
    let get = GetObject {
        bucket: path.bucket,
        key: path.key,
        conditions: read_conditions(headers),
        range: header_str(headers, header::RANGE).and_then(ByteRange::parse),
        with_body,
    };
    let (object, span, body) = match state.service.get_object(principal.as_ref(), get).await? {
        ObjectRead::NotModified(o) => return Ok((StatusCode::NOT_MODIFIED, object_headers(&o)).into_response()),
        ObjectRead::Content { object, span, body } => (object, span, body),
    };
    let mut out = object_headers(&object);
    if let Some((first, last)) = span {
        let value = format!("bytes {first}-{last}/{}", object.size_bytes);
        out.insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).expect("ascii"));
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&object.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    out.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(ObjectRead::length(&object, span)),
    );
    let status = if span.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = body.map_or_else(Body::empty, Body::from_stream);
    Ok((status, out, body).into_response())
}

/// Read an object
///
/// Streams the object's bytes, with the `Cache-Control`, `Content-Disposition`,
/// `Content-Encoding` and `Content-Language` it was written with (by either protocol).
/// Objects of a public bucket can be read without credentials.
#[utoipa::path(
    get,
    path = "/v1/buckets/{bucket}/objects/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "The bucket's id or name"),
        ("key" = String, Path, description = "The object key: 1 to 1024 bytes of UTF-8 without NUL; may contain `/`"),
        ("Range" = Option<String>, Header, description = "One range: `bytes=first-last`, `bytes=first-` or `bytes=-suffix`"),
        ("If-Match" = Option<String>, Header, description = "412 unless the ETag matches"),
        ("If-None-Match" = Option<String>, Header, description = "304 when the ETag matches"),
        ("If-Modified-Since" = Option<String>, Header, description = "304 when not modified since (ignored with If-None-Match)"),
    ),
    responses(
        (status = 200, description = "The object's bytes", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Bad bucket or key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bucket in this project, or no object with that key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bucket is soft-deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match / If-Unmodified-Since failed", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the object", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn get_object(
    State(state): State<AppState>,
    caller: Option<Caller>,
    path: ObjectPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    respond(&state, caller.map(|c| c.0), path, &headers, true).await
}

/// Read an object's metadata
///
/// The headers a GET would answer, without the body.
#[utoipa::path(
    head,
    path = "/v1/buckets/{bucket}/objects/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "The bucket's id or name"),
        ("key" = String, Path, description = "The object key: 1 to 1024 bytes of UTF-8 without NUL; may contain `/`"),
    ),
    responses(
        (status = 200, description = "The object exists; its headers"),
        (status = 304, description = "Not modified"),
        (status = 401, description = "Credential missing or invalid"),
        (status = 404, description = "No such bucket or object"),
        (status = 412, description = "Precondition failed"),
        (status = 416, description = "The range is outside the object"),
    ),
    security((), ("bearer" = ["storage:read"]), ("api_key" = ["storage:read"]))
)]
pub async fn head_object(
    State(state): State<AppState>,
    caller: Option<Caller>,
    path: ObjectPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let response = respond(&state, caller.map(|c| c.0), path, &headers, false).await;
    // A HEAD answer has no body, errors included.
    Ok(match response {
        Ok(r) => r,
        Err(e) => {
            let (parts, _) = e.into_response().into_parts();
            Response::from_parts(parts, Body::empty())
        }
    })
}
