//! Extractors that turn malformed input into the same problem+json answers as every other
//! error, each naming what to fix, instead of the framework's plain-text rejections.

use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use cloudnexus_core::BucketRef;
use serde::de::DeserializeOwned;

/// A JSON body: `Content-Type: application/json`, within the body limit, well-formed, of the
/// expected shape, with no unknown fields (types use `deny_unknown_fields`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match content_type.as_deref() {
            Some(ct) if is_json(ct) => {}
            Some(ct) => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    format!("the body must be JSON sent with `Content-Type: application/json` (got {ct:?})"),
                ));
            }
            None => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "the body must be JSON sent with `Content-Type: application/json`; the header is missing",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            "the request body is larger than this endpoint accepts; send a smaller body",
        )
    } else {
        ApiError::bad_request(
            "invalid_body",
            format!("the request body could not be read: {rejection}"),
        )
    }
}

/// Parses `bytes` as `T`, naming the field at fault when the shape is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; send a JSON object",
        ));
    }
    // Every body of the API is an object; serde would also take a struct written as an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(_) => ApiError::validation(vec![FieldError::new("body", "must be a JSON object (`{...}`)")]),
            Err(e) => invalid_json(&e),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let param = if path == "." { "body".to_owned() } else { path };
                ApiError::validation(vec![FieldError::new(param, describe_data_error(&inner))])
            }
            _ => invalid_json(&inner),
        }
    })?;
    de.end().map_err(|e| invalid_json(&e))?;
    Ok(value)
}

fn invalid_json(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!("the request body is not valid JSON ({e}); send a JSON object"),
    )
}

/// serde's message without its trailing position, which means little to a caller.
fn describe_data_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
    text.replace("unknown field", "is not a known field: unknown field")
}

/// The `{bucket}` path segment: a bucket id or a bucket name.
#[derive(Debug)]
pub struct BucketParam(pub BucketRef);

impl<S: Send + Sync> FromRequestParts<S> for BucketParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw): Path<String> = Path::from_request_parts(parts, state).await.map_err(path_rejection)?;
        BucketRef::parse(&raw)
            .map(BucketParam)
            .map_err(|e| ApiError::invalid("bucket", format!("{raw:?} {e}")))
    }
}

pub fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::invalid(
        "path",
        format!("a path segment could not be read: {}", rejection.body_text()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        public: Option<bool>,
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = parse_json::<Sample>(br#"{"name":"a","public":"yes"}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.code(), "validation_failed");
        let e = format!("{e:?}");
        assert!(e.contains("public"), "{e}");
    }

    #[test]
    fn unknown_fields_and_malformed_json_are_refused() {
        let e = parse_json::<Sample>(br#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert!(format!("{e:?}").contains("colour"));
        assert_eq!(parse_json::<Sample>(br#"{"name":"#).unwrap_err().code(), "invalid_json");
        assert_eq!(parse_json::<Sample>(b"").unwrap_err().code(), "invalid_json");
        assert_eq!(
            parse_json::<Sample>(br#"{"name":"a"} trailing"#).unwrap_err().code(),
            "invalid_json"
        );
    }
}
