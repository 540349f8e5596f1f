//! Public identifiers: a fixed prefix plus ten characters of `a-z0-9`, as the reference page's
//! `bkt_7x92m4k1p0`. The prefix makes an id recognisable in logs and unambiguous against names.

use rand::Rng;
use std::fmt;

/// Characters of the random part of every id.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Length of the random part of every id.
pub const ID_RANDOM_LEN: usize = 10;

/// Returns `n` random characters of `a-z0-9`.
pub fn random_lower_alnum(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char)
        .collect()
}

/// 32 random bytes, for the server's signing secrets.
pub fn random_secret() -> [u8; 32] {
    rand::random()
}

/// The id of a value is not of the form `<prefix><10 x a-z0-9>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be `{prefix}` followed by {ID_RANDOM_LEN} characters of a-z and 0-9")]
pub struct IdError {
    pub prefix: &'static str,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, random_lower_alnum(ID_RANDOM_LEN)))
            }

            /// Parses an id, checking its prefix and random part.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                Self::check(s)?;
                Ok(Self(s.to_owned()))
            }

            /// [`Self::parse`] keeping the string it is given rather than copying it.
            pub fn parse_owned(s: String) -> Result<Self, IdError> {
                Self::check(&s)?;
                Ok(Self(s))
            }

            /// Checks an id's prefix and random part without keeping it.
            pub fn check(s: &str) -> Result<(), IdError> {
                let rest = s.strip_prefix(Self::PREFIX).ok_or(IdError { prefix: Self::PREFIX })?;
                let well_formed = rest.len() == ID_RANDOM_LEN
                    && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if well_formed {
                    Ok(())
                } else {
                    Err(IdError { prefix: Self::PREFIX })
                }
            }

            /// The random part after the prefix.
            pub fn random_part(&self) -> &str {
                &self.0[Self::PREFIX.len()..]
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A bucket's id, `bkt_` + 10 characters.
    BucketId,
    "bkt_"
);
/// A bucket id borrowed from where it was read (a listing's row), already checked: it becomes a
/// [`BucketId`] without being checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketIdRef<'a>(&'a str);

impl<'a> BucketIdRef<'a> {
    /// Checks `s` as [`BucketId::parse`] does, keeping the borrow.
    pub fn parse(s: &'a str) -> Result<Self, IdError> {
        BucketId::check(s)?;
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The id, copied.
    pub fn to_id(self) -> BucketId {
        BucketId(self.0.to_owned())
    }
}

impl BucketId {
    /// This id, borrowed.
    pub fn borrowed(&self) -> BucketIdRef<'_> {
        BucketIdRef(&self.0)
    }

    /// Becomes `id`, reusing this id's allocation.
    pub fn assign(&mut self, id: BucketIdRef<'_>) {
        self.0.clear();
        self.0.push_str(id.0);
    }
}

prefixed_id!(
    /// A project's id, `prj_` + 10 characters.
    ProjectId,
    "prj_"
);
prefixed_id!(
    /// A multipart upload's id, `upl_` + 10 characters (only its project's credentials can use
    /// it, and only with its bucket and key).
    UploadId,
    "upl_"
);
prefixed_id!(
    /// An API key's public id, `key_` + 10 characters (the secret is separate).
    ApiKeyId,
    "key_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_bucket_id_is_checked_once_and_copied_as_it_is() {
        for bad in [
            "",
            "bkt_",
            "bkt_7x92m4k1p",
            "bkt_7X92m4k1p0",
            "prj_7x92m4k1p0",
            "bkt_7x92m4k1p00",
        ] {
            assert!(BucketIdRef::parse(bad).is_err(), "{bad} should be rejected");
        }
        let read = BucketIdRef::parse("bkt_7x92m4k1p0").unwrap();
        assert_eq!(read.as_str(), "bkt_7x92m4k1p0");
        let mut id = read.to_id();
        assert_eq!(id, BucketId::parse("bkt_7x92m4k1p0").unwrap());
        assert_eq!(id.borrowed(), read);

        let other = BucketId::generate();
        id.assign(other.borrowed());
        assert_eq!(id, other);
    }

    #[test]
    fn generated_ids_parse_back() {
        let id = BucketId::generate();
        assert_eq!(BucketId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.as_str().len(), 14);
        assert!(id.as_str().starts_with("bkt_"));
    }

    #[test]
    fn the_reference_page_example_id_is_valid() {
        assert!(BucketId::parse("bkt_7x92m4k1p0").is_ok());
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "bkt_",
            "bkt_7x92m4k1p",
            "bkt_7x92m4k1p00",
            "bkt_7X92m4k1p0",
            "prj_7x92m4k1p0",
            "bkt_7x92m4k1p-",
        ] {
            assert!(BucketId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
