//! Multipart uploads, as S3 defines them: an object sent in numbered parts (1 to 10,000) that
//! become one object when the upload is completed. Every part but the last is at least 5 MiB,
//! and the object's ETag is the MD5 of the parts' MD5s followed by `-` and the number of parts.

use crate::{BlobId, BucketId, ContentHeaders, ObjectKey, Timestamp, UploadId, UserMetadata};
use md5::{Digest, Md5};

/// The lowest and highest part numbers.
pub const PART_NUMBERS: std::ops::RangeInclusive<u32> = 1..=10_000;
/// The smallest part but the last.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    pub id: UploadId,
    pub bucket_id: BucketId,
    pub key: ObjectKey,
    /// The Content-Type the completed object will have.
    pub content_type: String,
    /// The content headers the completed object will have.
    pub content_headers: ContentHeaders,
    /// The user metadata the completed object will have.
    pub user_metadata: UserMetadata,
    pub initiated: Timestamp,
}

/// A part of an upload, its bytes in a durable blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    pub number: u32,
    pub blob_id: BlobId,
    pub size_bytes: u64,
    /// Hex MD5 of the part's bytes.
    pub etag: String,
    pub last_modified: Timestamp,
}

/// The ETag S3 gives an object completed from parts with these hex MD5s: the MD5 of their
/// digests, `-`, their number. `None` when an ETag is not 32 hex characters.
pub fn multipart_etag<'a>(part_etags: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut digests = Md5::new();
    let mut count = 0;
    for etag in part_etags {
        if etag.len() != 32 {
            return None;
        }
        let mut digest = [0u8; 16];
        for (i, byte) in digest.iter_mut().enumerate() {
            *byte = u8::from_str_radix(etag.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        digests.update(digest);
        count += 1;
    }
    let hex: String = digests.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("{hex}-{count}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_the_md5_of_the_part_digests_and_their_count() {
        let a = format!("{:x}", Md5::digest(b"first part"));
        let b = format!("{:x}", Md5::digest(b"second part"));
        let mut both = Md5::digest(b"first part").to_vec();
        both.extend_from_slice(&Md5::digest(b"second part"));
        let expected = format!("{:x}-2", Md5::digest(&both));
        assert_eq!(multipart_etag([a.as_str(), b.as_str()]), Some(expected));
        assert_eq!(multipart_etag(["zz"]), None);
        assert_eq!(multipart_etag(["g".repeat(32).as_str()]), None);
    }
}
