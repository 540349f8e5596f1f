//! Listing buckets: the filter, the page request, and the opaque cursor.
//!
//! Order is `created_at` then `id`. A cursor is a keyset position (the last bucket returned)
//! signed with HMAC-SHA256 under a server secret, and bound to the project and the filters it
//! was minted for, so a walk never repeats or skips a bucket however the set changes.

use crate::{
    Bucket, BucketId, BucketIdRef, BucketName, ProjectId, Region, RegionSet, StorageClass, StoredTags, TagFilter,
    Timestamp,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;
const CURSOR_VERSION: u8 = 1;
const MAC_LEN: usize = 16;

/// Which buckets a listing includes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketFilter {
    pub prefix: Option<String>,
    pub region: Option<Region>,
    /// ANDed; kept sorted and free of duplicates so equal filters compare equal.
    pub tags: Vec<TagFilter>,
    pub include_deleted: bool,
}

impl BucketFilter {
    pub fn new(
        prefix: Option<String>,
        region: Option<Region>,
        mut tags: Vec<TagFilter>,
        include_deleted: bool,
    ) -> Self {
        tags.sort();
        tags.dedup();
        Self {
            prefix: prefix.filter(|p| !p.is_empty()),
            region,
            tags,
            include_deleted,
        }
    }

    /// Whether a bucket passes this filter.
    pub fn matches(&self, b: &Bucket) -> bool {
        (self.include_deleted || !b.is_deleted())
            && self.prefix.as_deref().is_none_or(|p| b.name.as_str().starts_with(p))
            && self.region.as_ref().is_none_or(|r| &b.region == r)
            && self.tags.iter().all(|t| b.tags.matches(t))
    }

    /// A short digest of the filter, which a cursor carries to prove it is reused unchanged.
    fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prefix.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(self.region.as_ref().map_or("", |r| r.as_str()).as_bytes());
        for t in &self.tags {
            h.update([0]);
            h.update(t.to_string().as_bytes());
        }
        h.update([0, u8::from(self.include_deleted)]);
        hex8(&h.finalize())
    }
}

/// The first 8 bytes of `bytes` in lower-case hex (on every page with a next cursor, so without
/// the formatter).
fn hex8(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(16);
    for b in bytes.iter().take(8) {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    hex
}

/// A place in the listing order: just after the bucket created at `created_at` with `id`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub created_at: Timestamp,
    pub id: BucketId,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// Skip this many matching buckets.
    Offset(u64),
    /// Start after this position (from a cursor).
    After(Position),
}

/// One request for a page of buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub filter: BucketFilter,
    pub limit: u32,
    pub start: PageStart,
}

/// One page of buckets, as the store answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPage {
    pub buckets: Vec<Bucket>,
    /// Buckets matching the filter at the time of the request.
    pub total: u64,
    /// Matching buckets that come before the first one returned.
    pub offset: u64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
}

/// What a page says about itself besides its buckets, as the store answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    /// Buckets matching the filter at the time of the request.
    pub total: u64,
    /// Matching buckets that come before the first one returned.
    pub offset: u64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
}

/// A bucket of a page as the store read it, borrowed from its row: everything a page shows,
/// without building a [`Bucket`]. The id was checked as the row was read; the rest of the text
/// is as it was validated when written, and turning it into a `Bucket`
/// ([`ListedBucket::into_bucket`]) checks the name.
#[derive(Debug, Clone)]
pub struct ListedBucket<'a> {
    pub id: BucketIdRef<'a>,
    pub name: &'a str,
    pub region: &'a str,
    pub storage_class: StorageClass,
    pub public: bool,
    pub tags: StoredTags<'a>,
    pub created_at: Timestamp,
    pub size_bytes: u64,
    pub object_count: u64,
    pub deleted_at: Option<Timestamp>,
    pub purge_at: Option<Timestamp>,
}

/// A field of a listed bucket that does not parse as its domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value:?} does not parse: {reason}")]
pub struct ListedFieldError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl<'a> ListedBucket<'a> {
    /// The bucket of `project` (the project listed), with its name checked (the id was checked
    /// as it was read).
    pub fn into_bucket(self, project: &ProjectId) -> Result<Bucket, ListedFieldError> {
        fn invalid(field: &'static str, value: &str, reason: impl fmt::Display) -> ListedFieldError {
            ListedFieldError {
                field,
                value: value.to_owned(),
                reason: reason.to_string(),
            }
        }
        Ok(Bucket {
            id: self.id.to_id(),
            project_id: project.clone(),
            name: BucketName::parse(self.name).map_err(|e| invalid("bucket name", self.name, e))?,
            region: RegionSet::trusted(self.region.to_owned()),
            storage_class: self.storage_class,
            public: self.public,
            tags: self.tags.into_tags(),
            created_at: self.created_at,
            size_bytes: self.size_bytes,
            object_count: self.object_count,
            deleted_at: self.deleted_at,
            purge_at: self.purge_at,
        })
    }

    /// The listed form of `bucket` (its tags copied).
    pub fn of(bucket: &'a Bucket) -> Self {
        Self {
            id: bucket.id.borrowed(),
            name: bucket.name.as_str(),
            region: bucket.region.as_str(),
            storage_class: bucket.storage_class,
            public: bucket.public,
            tags: bucket.tags.clone().into(),
            created_at: bucket.created_at,
            size_bytes: bucket.size_bytes,
            object_count: bucket.object_count,
            deleted_at: bucket.deleted_at,
            purge_at: bucket.purge_at,
        }
    }
}

/// The server's secret for signing cursors. Its `Debug` does not show it.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

impl CursorKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Self {
        Self(crate::ids::random_secret())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// Signs a small value into an opaque, URL-safe string: base64url of its JSON followed by
    /// a 16-byte HMAC-SHA256.
    pub fn seal<T: Serialize>(&self, value: &T) -> String {
        let mut bytes = serde_json::to_vec(value).expect("cursor payload serializes");
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks the signature of a string made by [`CursorKey::seal`] and reads the value back.
    pub fn open<T: DeserializeOwned>(&self, sealed: &str) -> Result<T, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| CursorError::Malformed)?;
        if bytes.len() <= MAC_LEN {
            return Err(CursorError::Malformed);
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let expected = self.mac(payload);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], mac)) {
            return Err(CursorError::Tampered);
        }
        serde_json::from_slice(payload).map_err(|_| CursorError::Malformed)
    }

    /// Mints the opaque, URL-safe cursor for the page after `position`.
    pub fn encode(&self, project: &ProjectId, filter: &BucketFilter, position: &Position) -> String {
        self.seal(&CursorPayload {
            v: CURSOR_VERSION,
            p: project_digest(project),
            f: filter.fingerprint(),
            t: position.created_at.unix_seconds(),
            i: position.id.random_part().to_owned(),
        })
    }

    /// Checks a presented cursor and returns the position it stands for.
    pub fn decode(&self, cursor: &str, project: &ProjectId, filter: &BucketFilter) -> Result<Position, CursorError> {
        let payload: CursorPayload = self.open(cursor)?;
        if payload.v != CURSOR_VERSION {
            return Err(CursorError::Malformed);
        }
        if payload.p != project_digest(project) {
            return Err(CursorError::OtherProject);
        }
        if payload.f != filter.fingerprint() {
            return Err(CursorError::OtherFilters);
        }
        let id = BucketId::parse(&format!("{}{}", BucketId::PREFIX, payload.i)).map_err(|_| CursorError::Malformed)?;
        Ok(Position {
            created_at: Timestamp::from_unix_seconds(payload.t),
            id,
        })
    }
}

fn project_digest(project: &ProjectId) -> String {
    hex8(&Sha256::digest(project.as_str().as_bytes()))
}

#[derive(Serialize, Deserialize)]
struct CursorPayload {
    v: u8,
    p: String,
    f: String,
    t: i64,
    i: String,
}

/// Why a cursor was refused. Each message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error(
        "is not a cursor this API issued; pass the `next_cursor` value of an earlier page unchanged, or omit `cursor` to start from the first page"
    )]
    Malformed,
    #[error(
        "has been altered; pass the `next_cursor` value of an earlier page unchanged, or omit `cursor` to start from the first page"
    )]
    Tampered,
    #[error("was issued for another project; omit `cursor` to start from the first page")]
    OtherProject,
    #[error(
        "was issued for different filters; repeat the `prefix`, `region`, `tag` and `include` of the request that returned it, or omit `cursor` to start over"
    )]
    OtherFilters,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RegionSet, TagFilter};

    fn filter() -> BucketFilter {
        let region = RegionSet::default().parse("us-east-1").unwrap();
        BucketFilter::new(
            Some("prod".into()),
            Some(region),
            vec![TagFilter::parse("env").unwrap()],
            false,
        )
    }

    fn position() -> Position {
        Position {
            created_at: Timestamp::from_unix_seconds(1_723_473_120),
            id: BucketId::parse("bkt_7x92m4k1p0").unwrap(),
        }
    }

    #[test]
    fn a_listed_bucket_becomes_the_bucket_it_was_read_from_and_its_name_is_checked() {
        let project = ProjectId::generate();
        let bucket = Bucket {
            id: BucketId::generate(),
            project_id: project.clone(),
            name: BucketName::parse("logs-2026").unwrap(),
            region: RegionSet::default().parse("us-east-1").unwrap(),
            storage_class: StorageClass::Glacier,
            public: true,
            tags: crate::Tags::parse([("env", "prod"), ("team", "a \"b\"")]).unwrap(),
            created_at: Timestamp::from_unix_seconds(1_723_473_120),
            size_bytes: 42,
            object_count: 7,
            deleted_at: Some(Timestamp::from_unix_seconds(1_723_473_121)),
            purge_at: Some(Timestamp::from_unix_seconds(1_723_473_122)),
        };
        let json = serde_json::to_string(&bucket.tags).unwrap();
        for tags in [
            StoredTags::from(bucket.tags.clone()),
            StoredTags::from_stored_json(&json).unwrap(),
        ] {
            let listed = ListedBucket {
                tags,
                ..ListedBucket::of(&bucket)
            };
            assert_eq!(listed.into_bucket(&project).unwrap(), bucket);
        }

        let bad_name = ListedBucket {
            name: "Not A Name",
            ..ListedBucket::of(&bucket)
        };
        let error = bad_name.into_bucket(&project).unwrap_err();
        assert_eq!((error.field, error.value.as_str()), ("bucket name", "Not A Name"));
    }

    #[test]
    fn digests_are_the_first_eight_bytes_in_lower_case_hex() {
        assert_eq!(hex8(&[0x00, 0x0f, 0xa0, 0xff, 1, 2, 3, 0x4b, 0x99]), "000fa0ff0102034b");
        assert_eq!(hex8(&[0xab]), "ab");
        let expected: String = Sha256::digest(b"prj_x")
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex8(&Sha256::digest(b"prj_x")), expected);
    }

    #[test]
    fn cursor_round_trips_and_is_url_safe() {
        let key = CursorKey::generate();
        let project = ProjectId::generate();
        let c = key.encode(&project, &filter(), &position());
        assert!(
            c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{c}"
        );
        assert_eq!(key.decode(&c, &project, &filter()), Ok(position()));
    }

    #[test]
    fn tampered_cursor_is_refused() {
        let key = CursorKey::generate();
        let project = ProjectId::generate();
        let c = key.encode(&project, &filter(), &position());
        let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
        bytes[5] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(key.decode(&forged, &project, &filter()), Err(CursorError::Tampered));
        assert_eq!(
            key.decode("not a cursor!", &project, &filter()),
            Err(CursorError::Malformed)
        );
        assert_eq!(
            CursorKey::generate().decode(&c, &project, &filter()),
            Err(CursorError::Tampered)
        );
    }

    #[test]
    fn cursor_is_bound_to_project_and_filters() {
        let key = CursorKey::generate();
        let project = ProjectId::generate();
        let c = key.encode(&project, &filter(), &position());
        assert_eq!(
            key.decode(&c, &ProjectId::generate(), &filter()),
            Err(CursorError::OtherProject)
        );
        let mut other = filter();
        other.include_deleted = true;
        assert_eq!(key.decode(&c, &project, &other), Err(CursorError::OtherFilters));
        assert_eq!(
            key.decode(&c, &project, &BucketFilter::default()),
            Err(CursorError::OtherFilters)
        );
    }

    #[test]
    fn equal_filters_share_a_fingerprint_whatever_the_tag_order() {
        let a = BucketFilter::new(
            None,
            None,
            vec![TagFilter::parse("a").unwrap(), TagFilter::parse("b:1").unwrap()],
            false,
        );
        let b = BucketFilter::new(
            None,
            None,
            vec![
                TagFilter::parse("b:1").unwrap(),
                TagFilter::parse("a").unwrap(),
                TagFilter::parse("a").unwrap(),
            ],
            false,
        );
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a, b);
    }
}
