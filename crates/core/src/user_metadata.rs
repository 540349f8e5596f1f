//! User-defined metadata of an object, as S3 carries it in `x-amz-meta-*` headers: names in
//! lower case (as HTTP/2 and the `http` crate give header names) to UTF-8 values, at most
//! [`MAX_USER_METADATA_BYTES`] of names and values together, S3's limit. Kept with the object,
//! replaced whole by the next write of its key, carried by copies and multipart uploads.

use std::collections::BTreeMap;

/// The most bytes of UTF-8 the names and values of one object's metadata may hold together.
pub const MAX_USER_METADATA_BYTES: usize = 2048;

/// Valid user metadata, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserMetadata(BTreeMap<String, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserMetadataError {
    #[error("user metadata must be at most {MAX_USER_METADATA_BYTES} bytes of names and values together (got {0})")]
    TooLarge(usize),
    #[error("metadata name {0:?} must be lower-case letters, digits and -_.!#$%&'*+^`|~")]
    Name(String),
    #[error("the value of metadata {0:?} must not contain control characters")]
    Value(String),
}

impl UserMetadata {
    /// Checks `entries` (names without the `x-amz-meta-` prefix).
    pub fn new(entries: impl IntoIterator<Item = (String, String)>) -> Result<Self, UserMetadataError> {
        let map: BTreeMap<String, String> = entries.into_iter().collect();
        for (name, value) in &map {
            let token = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.!#$%&'*+^`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err(UserMetadataError::Name(name.clone()));
            }
            // A line break (which an RFC 2047-encoded value can carry) could not be answered as
            // a header again, and a tab would come back encoded: neither round-trips.
            if value.chars().any(char::is_control) {
                return Err(UserMetadataError::Value(name.clone()));
            }
        }
        let bytes = map.iter().map(|(name, value)| name.len() + value.len()).sum();
        if bytes > MAX_USER_METADATA_BYTES {
            return Err(UserMetadataError::TooLarge(bytes));
        }
        Ok(Self(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The JSON object the metadata is stored as (`{}` when empty).
    pub fn to_stored_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of strings serializes")
    }

    /// Metadata read back from storage as the JSON object it was stored as (checked when it
    /// was written).
    pub fn from_stored_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn names_and_values_are_kept_in_name_order_and_round_trip_through_storage() {
        let metadata = UserMetadata::new(entries(&[("mtime", "1700000000.5"), ("author", "Zoë Ø")])).unwrap();
        assert_eq!(
            metadata.iter().collect::<Vec<_>>(),
            [("author", "Zoë Ø"), ("mtime", "1700000000.5")]
        );
        let stored = metadata.to_stored_json();
        assert_eq!(UserMetadata::from_stored_json(&stored).unwrap(), metadata);
        assert_eq!(UserMetadata::default().to_stored_json(), "{}");
    }

    #[test]
    fn the_limit_counts_names_and_values_in_bytes() {
        // "é" is two bytes: 4 + 1022 * 2 = 2048.
        let at_limit = entries(&[("name", &"é".repeat(1022))]);
        assert!(UserMetadata::new(at_limit).is_ok());
        let over = entries(&[("name", &"é".repeat(1022)), ("a", "")]);
        assert_eq!(UserMetadata::new(over), Err(UserMetadataError::TooLarge(2049)));
    }

    #[test]
    fn names_must_be_lower_case_header_tokens_and_values_free_of_controls() {
        for name in ["", "Upper", "with space", "colon:", "ü"] {
            assert!(
                matches!(
                    UserMetadata::new(entries(&[(name, "v")])),
                    Err(UserMetadataError::Name(_))
                ),
                "{name:?}"
            );
        }
        assert!(UserMetadata::new(entries(&[("odd-but.valid_~name", "v")])).is_ok());
        for value in ["line\nbreak", "cr\r", "tab\there", "nul\0", "del\u{7f}"] {
            assert_eq!(
                UserMetadata::new(entries(&[("n", value)])),
                Err(UserMetadataError::Value("n".to_owned()))
            );
        }
    }
}
