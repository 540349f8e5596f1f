//! The standard HTTP headers an object is served with besides its `Content-Type`, as S3 keeps
//! them: `Cache-Control`, `Content-Disposition`, `Content-Encoding` and `Content-Language`.
//! Set by the writer (the JSON API's PUT; the S3 protocol's PutObject, CreateMultipartUpload
//! and CopyObject), answered by every read of the object, replaced whole by the next write of
//! its key.

use serde::{Deserialize, Serialize};

/// The most bytes one header's value may hold.
pub const MAX_CONTENT_HEADER_BYTES: usize = 1024;

/// Valid content headers; `None` where the writer gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentHeaderError {
    #[error("{0} must be at most {MAX_CONTENT_HEADER_BYTES} bytes")]
    TooLong(&'static str),
    #[error("{0} must be visible ASCII, spaces or tabs")]
    Characters(&'static str),
}

/// The transfer encoding of a streaming signed upload, which describes the request's body and
/// not the object: S3 does not keep it, and neither does this service.
const AWS_CHUNKED: &str = "aws-chunked";

impl ContentHeaderError {
    /// The header whose value was refused.
    pub fn header(&self) -> &'static str {
        match self {
            Self::TooLong(name) | Self::Characters(name) => name,
        }
    }
}

impl ContentHeaders {
    /// Checks the headers a writer gave. An empty value counts as none; `aws-chunked` is taken
    /// out of `Content-Encoding`, as S3 does.
    pub fn new(
        cache_control: Option<String>,
        content_disposition: Option<String>,
        content_encoding: Option<String>,
        content_language: Option<String>,
    ) -> Result<Self, ContentHeaderError> {
        let content_encoding = content_encoding.map(|value| {
            if !Self::names_aws_chunked(&value) {
                return value;
            }
            let others: Vec<_> = value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case(AWS_CHUNKED))
                .collect();
            others.join(",")
        });
        Ok(Self {
            cache_control: checked("Cache-Control", cache_control)?,
            content_disposition: checked("Content-Disposition", content_disposition)?,
            content_encoding: checked("Content-Encoding", content_encoding)?,
            content_language: checked("Content-Language", content_language)?,
        })
    }

    /// Whether the `Content-Encoding` value `encoding` lists `aws-chunked` among its codings.
    pub fn names_aws_chunked(encoding: &str) -> bool {
        encoding
            .split(',')
            .any(|coding| coding.trim().eq_ignore_ascii_case(AWS_CHUNKED))
    }

    /// The headers by name, those given only.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("cache-control", &self.cache_control),
            ("content-disposition", &self.content_disposition),
            ("content-encoding", &self.content_encoding),
            ("content-language", &self.content_language),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    }

    /// The JSON object the headers are stored as (`{}` when none).
    pub fn to_stored_json(&self) -> String {
        serde_json::to_string(self).expect("strings serialize")
    }

    /// Headers read back from storage (checked when they were written).
    pub fn from_stored_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// A value an HTTP answer can carry again as it is: visible ASCII, spaces and tabs (RFC 9110's
/// field value without obsolete text), at most [`MAX_CONTENT_HEADER_BYTES`] once the spaces and
/// tabs around it are taken away (as HTTP parsers take them away); none if nothing is left.
fn checked(name: &'static str, value: Option<String>) -> Result<Option<String>, ContentHeaderError> {
    let Some(value) = value
        .map(|v| v.trim_matches([' ', '\t']).to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.len() > MAX_CONTENT_HEADER_BYTES {
        return Err(ContentHeaderError::TooLong(name));
    }
    if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return Err(ContentHeaderError::Characters(name));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn given_headers_are_kept_and_round_trip_through_storage() {
        let headers = ContentHeaders::new(
            some("public, max-age=3600"),
            some("attachment; filename=\"report.pdf\""),
            some("gzip"),
            some("en-GB"),
        )
        .unwrap();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            [
                ("cache-control", "public, max-age=3600"),
                ("content-disposition", "attachment; filename=\"report.pdf\""),
                ("content-encoding", "gzip"),
                ("content-language", "en-GB"),
            ]
        );
        assert_eq!(
            ContentHeaders::from_stored_json(&headers.to_stored_json()).unwrap(),
            headers
        );
        assert_eq!(ContentHeaders::default().to_stored_json(), "{}");
        assert_eq!(
            ContentHeaders::from_stored_json("{}").unwrap(),
            ContentHeaders::default()
        );
    }

    #[test]
    fn aws_chunked_is_not_kept_and_empty_values_are_none() {
        let only_chunked = ContentHeaders::new(some(" "), None, some("aws-chunked"), some("")).unwrap();
        assert_eq!(only_chunked, ContentHeaders::default());
        let both = ContentHeaders::new(None, None, some("aws-chunked, gzip"), None).unwrap();
        assert_eq!(both.content_encoding.as_deref(), Some("gzip"));
        let two = ContentHeaders::new(None, None, some("gzip,br"), None).unwrap();
        assert_eq!(two.content_encoding.as_deref(), Some("gzip,br"), "kept as given");
        let three = ContentHeaders::new(None, None, some("gzip, AWS-CHUNKED ,br"), None).unwrap();
        assert_eq!(three.content_encoding.as_deref(), Some("gzip,br"));
        let gaps = ContentHeaders::new(None, None, some("gzip,,aws-chunked"), None).unwrap();
        assert_eq!(gaps.content_encoding.as_deref(), Some("gzip"));
    }

    #[test]
    fn values_must_be_visible_ascii_of_at_most_1024_bytes() {
        let at_limit = "a".repeat(MAX_CONTENT_HEADER_BYTES);
        assert!(ContentHeaders::new(Some(at_limit.clone()), None, None, None).is_ok());
        assert_eq!(
            ContentHeaders::new(None, Some(at_limit + "a"), None, None),
            Err(ContentHeaderError::TooLong("Content-Disposition"))
        );
        for bad in ["line\nbreak", "caf\u{e9}", "nul\0"] {
            assert_eq!(
                ContentHeaders::new(None, None, None, some(bad)),
                Err(ContentHeaderError::Characters("Content-Language")),
                "{bad:?}"
            );
        }
        assert!(ContentHeaders::new(some("no-cache,\tno-store"), None, None, None).is_ok());
        // Spaces and tabs around a value are not part of it (nor of its length).
        let padded = format!(" \t{}\t ", "b".repeat(MAX_CONTENT_HEADER_BYTES));
        let kept = ContentHeaders::new(None, None, None, Some(padded)).unwrap();
        assert_eq!(kept.content_language.map(|v| v.len()), Some(MAX_CONTENT_HEADER_BYTES));
    }
}
