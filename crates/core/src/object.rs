//! Objects: their keys (1-1024 bytes of UTF-8, `/` allowed: a key is only ever a database
//! value, never a file path), the ids of the blobs holding their bytes, and byte ranges.

use crate::{BucketId, ContentHeaders, Timestamp, UserMetadata};
use serde::Serialize;
use std::fmt;

pub const MAX_KEY_BYTES: usize = 1024;

/// A valid object key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ObjectKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectKeyError {
    #[error("must be 1 to {MAX_KEY_BYTES} bytes of UTF-8 (got {0} bytes)")]
    Length(usize),
    #[error("must not contain the NUL character")]
    Nul,
}

impl ObjectKey {
    pub fn parse(s: &str) -> Result<Self, ObjectKeyError> {
        if s.is_empty() || s.len() > MAX_KEY_BYTES {
            return Err(ObjectKeyError::Length(s.len()));
        }
        if s.contains('\0') {
            return Err(ObjectKeyError::Nul);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a blob: 26 characters of `a-z0-9`, used as its file name, never derived from a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(String);

const BLOB_ID_LEN: usize = 26;

impl BlobId {
    pub fn generate() -> Self {
        Self(crate::ids::random_lower_alnum(BLOB_ID_LEN))
    }

    /// Accepts only the exact shape `generate` makes, so a blob id is always a safe file name.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == BLOB_ID_LEN && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
            .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket_id: BucketId,
    pub key: ObjectKey,
    pub blob_id: BlobId,
    pub size_bytes: u64,
    /// Hex MD5 of the bytes (the ETag without its quotes).
    pub etag: String,
    pub content_type: String,
    /// `Cache-Control`, `Content-Disposition` and the like, as the writer gave them.
    pub content_headers: ContentHeaders,
    /// What the writer gave as `x-amz-meta-*`.
    pub user_metadata: UserMetadata,
    pub last_modified: Timestamp,
}

/// A `Range: bytes=...` request, before it is checked against the object's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-` or `bytes=first-last`.
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a single-range `Range` header; `None` for anything else (several ranges, other
    /// units, malformed), which the server then ignores, as RFC 9110 allows.
    pub fn parse(header: &str) -> Option<Self> {
        let spec = header.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            return last.parse().ok().map(Self::Suffix);
        }
        let first: u64 = first.parse().ok()?;
        let last = if last.is_empty() {
            None
        } else {
            Some(last.parse::<u64>().ok()?)
        };
        if last.is_some_and(|l| l < first) {
            return None;
        }
        Some(Self::From { first, last })
    }

    /// The inclusive byte span within an object of `size` bytes; `None` when unsatisfiable (416).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            Self::From { first, .. } if first >= size => None,
            Self::From { first, last } => Some((first, last.map_or(size - 1, |l| l.min(size - 1)))),
            Self::Suffix(0) => None,
            Self::Suffix(_) if size == 0 => None,
            Self::Suffix(n) => Some((size.saturating_sub(n), size - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_any_utf8_of_1_to_1024_bytes() {
        for ok in [
            "a",
            "photos/2024/cat.jpg",
            "../../etc/passwd",
            "ünïcødé/ключ",
            &"k".repeat(1024),
        ] {
            assert!(ObjectKey::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(ObjectKey::parse(""), Err(ObjectKeyError::Length(0)));
        assert_eq!(ObjectKey::parse(&"k".repeat(1025)), Err(ObjectKeyError::Length(1025)));
        assert_eq!(ObjectKey::parse(&"é".repeat(513)), Err(ObjectKeyError::Length(1026)));
        assert_eq!(ObjectKey::parse("a\0b"), Err(ObjectKeyError::Nul));
    }

    #[test]
    fn blob_ids_are_safe_file_names() {
        let id = BlobId::generate();
        assert_eq!(BlobId::parse(id.as_str()), Some(id));
        for bad in ["../x", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abc/def"] {
            assert!(BlobId::parse(bad).is_none());
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(ByteRange::parse("bytes=0-9").unwrap().resolve(100), Some((0, 9)));
        assert_eq!(ByteRange::parse("bytes=90-").unwrap().resolve(100), Some((90, 99)));
        assert_eq!(ByteRange::parse("bytes=90-200").unwrap().resolve(100), Some((90, 99)));
        assert_eq!(ByteRange::parse("bytes=-10").unwrap().resolve(100), Some((90, 99)));
        assert_eq!(ByteRange::parse("bytes=-500").unwrap().resolve(100), Some((0, 99)));
        assert_eq!(ByteRange::parse("bytes=100-").unwrap().resolve(100), None);
        assert_eq!(ByteRange::parse("bytes=-0").unwrap().resolve(100), None);
        assert_eq!(ByteRange::parse("bytes=0-0").unwrap().resolve(0), None);
        for ignored in ["bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=a-b", "bytes"] {
            assert_eq!(ByteRange::parse(ignored), None, "{ignored}");
        }
    }
}
