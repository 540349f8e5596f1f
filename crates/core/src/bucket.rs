//! Buckets: their names (S3's rules for general-purpose buckets), storage classes, the way a
//! path names one (`{bucket}` is an id or a name), and the bucket record itself.

use crate::{BucketId, ProjectId, Region, Tags, Timestamp};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Prefixes S3 reserves, which a bucket name may not start with.
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
/// Suffixes S3 reserves, which a bucket name may not end with.
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// A bucket name that follows every rule; obtained only through [`BucketName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BucketName(String);

/// The rule a candidate bucket name broke. The message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketNameError {
    #[error("must be between 3 and 63 characters long (got {0})")]
    Length(usize),
    #[error("may contain only lowercase letters a-z, digits 0-9, '.' and '-' (found {0:?})")]
    InvalidCharacter(char),
    #[error("must start and end with a lowercase letter or a digit")]
    BadEdge,
    #[error("must not contain two adjacent periods ('..')")]
    AdjacentPeriods,
    #[error("must not be formatted as an IP address (such as 192.168.5.4)")]
    IpAddress,
    #[error("must not start with the reserved prefix {0:?}")]
    ReservedPrefix(&'static str),
    #[error("must not end with the reserved suffix {0:?}")]
    ReservedSuffix(&'static str),
}

impl BucketName {
    /// Checks `s` against S3's naming rules for general-purpose buckets.
    pub fn parse(s: &str) -> Result<Self, BucketNameError> {
        Self::check(s)?;
        Ok(Self(s.to_owned()))
    }

    /// [`BucketName::parse`] keeping the string it is given rather than copying it.
    pub fn parse_owned(s: String) -> Result<Self, BucketNameError> {
        Self::check(&s)?;
        Ok(Self(s))
    }

    fn check(s: &str) -> Result<(), BucketNameError> {
        let len = s.chars().count();
        if !(3..=63).contains(&len) {
            return Err(BucketNameError::Length(len));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
        {
            return Err(BucketNameError::InvalidCharacter(c));
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = s.as_bytes();
        if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
            return Err(BucketNameError::BadEdge);
        }
        if s.contains("..") {
            return Err(BucketNameError::AdjacentPeriods);
        }
        if s.parse::<std::net::Ipv4Addr>().is_ok() || looks_like_dotted_quad(s) {
            return Err(BucketNameError::IpAddress);
        }
        if let Some(p) = RESERVED_PREFIXES.iter().find(|p| s.starts_with(*p)) {
            return Err(BucketNameError::ReservedPrefix(p));
        }
        if let Some(x) = RESERVED_SUFFIXES.iter().find(|x| s.ends_with(*x)) {
            return Err(BucketNameError::ReservedSuffix(x));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Four dot-separated groups of 1-3 digits, such as `999.1.1.1`, which S3 also refuses.
fn looks_like_dotted_quad(s: &str) -> bool {
    let mut groups = 0;
    s.split('.').all(|p| {
        groups += 1;
        groups <= 4 && (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    }) && groups == 4
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How `{bucket}` in a path names a bucket. Names cannot hold `_`, so the two never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketRef {
    Id(BucketId),
    Name(BucketName),
}

/// `{bucket}` is neither a bucket id nor a valid bucket name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketRefError {
    #[error("looks like a bucket id but is not one: ids are `bkt_` followed by 10 characters of a-z and 0-9")]
    MalformedId,
    #[error("is neither a bucket id (`bkt_` + 10 characters) nor a valid bucket name: a name {0}")]
    MalformedName(BucketNameError),
}

impl BucketRef {
    pub fn parse(s: &str) -> Result<Self, BucketRefError> {
        if s.starts_with(BucketId::PREFIX) {
            BucketId::parse(s)
                .map(Self::Id)
                .map_err(|_| BucketRefError::MalformedId)
        } else {
            BucketName::parse(s)
                .map(Self::Name)
                .map_err(BucketRefError::MalformedName)
        }
    }
}

/// How often a bucket's objects are expected to be read, which sets their price and latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StorageClass {
    #[default]
    Standard,
    Infrequent,
    Glacier,
}

/// A storage class that is not one of `STANDARD`, `INFREQUENT`, `GLACIER`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown storage class {0:?}; valid storage classes are: STANDARD, INFREQUENT, GLACIER")]
pub struct UnknownStorageClass(pub String);

impl StorageClass {
    pub const ALL: [StorageClass; 3] = [Self::Standard, Self::Infrequent, Self::Glacier];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Infrequent => "INFREQUENT",
            Self::Glacier => "GLACIER",
        }
    }
}

impl FromStr for StorageClass {
    type Err = UnknownStorageClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownStorageClass(s.to_owned()))
    }
}

/// A bucket as stored: what the API shows plus the project that owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub id: BucketId,
    pub project_id: ProjectId,
    pub name: BucketName,
    pub region: Region,
    pub storage_class: StorageClass,
    pub public: bool,
    pub tags: Tags,
    pub created_at: Timestamp,
    pub size_bytes: u64,
    pub object_count: u64,
    /// Set while the bucket is soft-deleted.
    pub deleted_at: Option<Timestamp>,
    /// When a soft-deleted bucket will be purged for good.
    pub purge_at: Option<Timestamp>,
}

impl Bucket {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_reference_page_names() {
        for ok in [
            "prod-assets-us-east",
            "backup-snapshots",
            "abc",
            "a.b.c",
            "1bucket",
            &"a".repeat(63),
            // Digits and dots that are not four groups of one to three digits.
            "1.2.3",
            "1.2.3.4.5",
            "1234.1.1.1",
            "1.2.3.4a",
        ] {
            assert!(BucketName::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn each_rule_is_named_when_broken() {
        use BucketNameError::*;
        let cases: &[(&str, BucketNameError)] = &[
            ("ab", Length(2)),
            (&"a".repeat(64), Length(64)),
            ("My-Bucket", InvalidCharacter('M')),
            ("my_bucket", InvalidCharacter('_')),
            ("-bucket", BadEdge),
            ("bucket.", BadEdge),
            ("my..bucket", AdjacentPeriods),
            ("192.168.5.4", IpAddress),
            ("999.1.1.1", IpAddress),
            ("0.00.000.9", IpAddress),
            ("xn--bucket", ReservedPrefix("xn--")),
            ("sthree-bucket", ReservedPrefix("sthree-")),
            ("amzn-s3-demo-bucket", ReservedPrefix("amzn-s3-demo-")),
            ("bucket-s3alias", ReservedSuffix("-s3alias")),
            ("bucket--ol-s3", ReservedSuffix("--ol-s3")),
            ("bucket.mrap", ReservedSuffix(".mrap")),
            ("bucket--x-s3", ReservedSuffix("--x-s3")),
            ("bucket--table-s3", ReservedSuffix("--table-s3")),
        ];
        for (name, rule) in cases {
            assert_eq!(BucketName::parse(name).as_ref(), Err(rule), "{name}");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(BucketName::parse("é"), Err(BucketNameError::Length(1)));
        assert_eq!(BucketName::parse("ééé"), Err(BucketNameError::InvalidCharacter('é')));
    }

    #[test]
    fn bucket_refs_are_ids_or_names() {
        assert!(matches!(BucketRef::parse("bkt_7x92m4k1p0"), Ok(BucketRef::Id(_))));
        assert!(matches!(BucketRef::parse("backup-snapshots"), Ok(BucketRef::Name(_))));
        assert_eq!(BucketRef::parse("bkt_short"), Err(BucketRefError::MalformedId));
        assert!(matches!(
            BucketRef::parse("Bad_Name"),
            Err(BucketRefError::MalformedName(_))
        ));
    }

    #[test]
    fn storage_classes_round_trip() {
        for c in StorageClass::ALL {
            assert_eq!(c.as_str().parse::<StorageClass>(), Ok(c));
        }
        assert!("standard".parse::<StorageClass>().is_err());
        assert_eq!(StorageClass::default(), StorageClass::Standard);
    }
}
