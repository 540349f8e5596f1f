//! Bucket tags and tag filters. Keys are 1-63 characters of `a-z 0-9 _ -` starting with a
//! letter, so a `key:value` filter is never ambiguous; values are at most 256 characters with
//! no control characters; a bucket has at most 50 tags.

use serde::Serialize;
use serde::de::{MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_KEY_LEN: usize = 63;
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// A valid tag key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TagKey(String);

/// A valid tag value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TagValue(String);

/// A tag, or a set of tags, breaks a rule. The message names the rule and the tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("tag key {0:?} must be 1-{MAX_TAG_KEY_LEN} characters of a-z, 0-9, '_' and '-', starting with a letter")]
    InvalidKey(String),
    #[error("value of tag {key:?} must be at most {MAX_TAG_VALUE_LEN} characters (got {len})")]
    ValueTooLong { key: String, len: usize },
    #[error("value of tag {0:?} must not contain control characters")]
    ControlCharacter(String),
    #[error("a bucket may have at most {MAX_TAGS} tags (got {0})")]
    TooMany(usize),
}

impl TagKey {
    pub fn parse(s: &str) -> Result<Self, TagError> {
        let well_formed = (1..=MAX_TAG_KEY_LEN).contains(&s.len())
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(TagError::InvalidKey(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TagValue {
    pub fn parse(key: &TagKey, s: &str) -> Result<Self, TagError> {
        let len = s.chars().count();
        if len > MAX_TAG_VALUE_LEN {
            return Err(TagError::ValueTooLong {
                key: key.0.clone(),
                len,
            });
        }
        if s.chars().any(char::is_control) {
            return Err(TagError::ControlCharacter(key.0.clone()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pairs of tags in their plain stored form, `{"key":"value",...}` (no spaces, escapes or
/// control characters), in the order written, with whether each key is greater than the one
/// before; `None` when `json` is not in that form. The whole text is checked, in one pass over
/// its bytes, before any pair is returned.
fn plain_pairs(json: &str) -> Option<(PlainPairs<'_>, bool)> {
    let inner = json.strip_prefix('{')?.strip_suffix('}')?;
    let mut rest = inner;
    let mut previous_key: Option<&str> = None;
    let mut ascending = true;
    while !rest.is_empty() {
        let ((key, _), after) = plain_pair(rest)?;
        ascending &= previous_key.is_none_or(|previous| previous < key);
        previous_key = Some(key);
        rest = match after.strip_prefix(',') {
            // A comma is followed by another pair.
            Some("") => return None,
            Some(next) => next,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some((PlainPairs(inner), ascending))
}

/// The `"key":"value"` at the start of `s`, and what follows it; `None` if either string has a
/// backslash or a control character.
fn plain_pair(s: &str) -> Option<((&str, &str), &str)> {
    /// The string between the quotes at the start of `s`, and what follows it.
    fn string(s: &str) -> Option<(&str, &str)> {
        let bytes = s.as_bytes();
        if bytes.first() != Some(&b'"') {
            return None;
        }
        let mut end = 1;
        loop {
            match *bytes.get(end)? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => end += 1,
            }
        }
        // Both ends are at an ASCII quote, so on character boundaries.
        Some((&s[1..end], &s[end + 1..]))
    }
    let (key, after) = string(s)?;
    let (value, after) = string(after.strip_prefix(':')?)?;
    Some(((key, value), after))
}

/// The pairs of `json`, tags in their plain form already checked by [`plain_pairs`].
fn plain_pairs_of(json: &str) -> PlainPairs<'_> {
    PlainPairs(&json[1..json.len() - 1])
}

/// The pairs between the braces of tags in their plain form, already checked by
/// [`plain_pairs`].
#[derive(Debug, Clone, Copy)]
struct PlainPairs<'a>(&'a str);

impl<'a> Iterator for PlainPairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (pair, after) = plain_pair(self.0)?;
        self.0 = after.strip_prefix(',').unwrap_or(after);
        Some(pair)
    }
}

/// Tags as a listing reads them back from storage: the stored text itself when it is in the
/// plain form with its keys in order (what serde writes for [`Tags`] when no character needs
/// escaping), which a page copies whole without building a map; anything else parsed into
/// [`Tags`].
#[derive(Debug, Clone)]
pub struct StoredTags<'a>(StoredForm<'a>);

#[derive(Debug, Clone)]
enum StoredForm<'a> {
    /// The stored text, exactly what serde writes for these tags.
    Plain(&'a str),
    Parsed(Tags),
}

impl<'a> StoredTags<'a> {
    /// Tags from the JSON object they were stored as (validated when they were written).
    pub fn from_stored_json(json: &'a str) -> Result<Self, serde_json::Error> {
        match plain_pairs(json) {
            Some((_, true)) => Ok(Self(StoredForm::Plain(json))),
            Some((pairs, false)) => Ok(Self(StoredForm::Parsed(Tags::from_pairs(pairs)))),
            None => Tags::from_stored_json(json).map(|tags| Self(StoredForm::Parsed(tags))),
        }
    }

    /// The stored JSON when it is exactly what serde_json writes for these tags (keys in order,
    /// once each, no character that JSON escapes), so it can be copied as it is.
    pub fn as_serde_json(&self) -> Option<&'a str> {
        match self.0 {
            StoredForm::Plain(json) => Some(json),
            StoredForm::Parsed(_) => None,
        }
    }

    /// Calls `f` with each key and value, in key order.
    pub fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        match &self.0 {
            StoredForm::Plain(json) => plain_pairs_of(json).for_each(|(k, v)| f(k, v)),
            StoredForm::Parsed(tags) => tags.iter().for_each(|(k, v)| f(k.as_str(), v.as_str())),
        }
    }

    /// The tags as the domain keeps them.
    pub fn into_tags(self) -> Tags {
        match self.0 {
            StoredForm::Plain(json) => Tags::from_pairs(plain_pairs_of(json)),
            StoredForm::Parsed(tags) => tags,
        }
    }
}

impl From<Tags> for StoredTags<'_> {
    fn from(tags: Tags) -> Self {
        Self(StoredForm::Parsed(tags))
    }
}

/// A bucket's tags, kept sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Tags(BTreeMap<TagKey, TagValue>);

impl Tags {
    /// Validates every key and value and the number of tags.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, TagError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            let key = TagKey::parse(k)?;
            let value = TagValue::parse(&key, v)?;
            map.insert(key, value);
        }
        if map.len() > MAX_TAGS {
            return Err(TagError::TooMany(map.len()));
        }
        Ok(Self(map))
    }

    /// Tags read back from storage as the JSON object they were stored as (validated when they
    /// were written), straight into their map.
    pub fn from_stored_json(json: &str) -> Result<Self, serde_json::Error> {
        /// Reads a JSON object of strings into tags.
        struct StoredTags;

        impl<'de> Visitor<'de> for StoredTags {
            type Value = Tags;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of tag keys and values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Tags, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((key, value)) = entries.next_entry::<String, String>()? {
                    map.insert(TagKey(key), TagValue(value));
                }
                Ok(Tags(map))
            }
        }

        if json == "{}" {
            return Ok(Self::default());
        }
        if let Some(tags) = Self::from_plain_json(json) {
            return Ok(tags);
        }
        let mut reader = serde_json::Deserializer::from_str(json);
        let tags = serde::Deserializer::deserialize_map(&mut reader, StoredTags)?;
        reader.end()?;
        Ok(tags)
    }

    /// The form tags are stored in, `{"key":"value",...}` without spaces, escapes or control
    /// characters, read without the JSON parser; `None` for anything else, which
    /// [`Tags::from_stored_json`] leaves to the parser.
    fn from_plain_json(json: &str) -> Option<Self> {
        let (pairs, _) = plain_pairs(json)?;
        Some(Self::from_pairs(pairs))
    }

    /// Tags from pairs read back from storage (validated when written); a later duplicate key
    /// wins, as with the JSON parser.
    fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .map(|(k, v)| (TagKey(k.to_owned()), TagValue(v.to_owned())))
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = (&TagKey, &TagValue)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&TagValue> {
        self.0.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    }

    /// Whether these tags satisfy a filter.
    pub fn matches(&self, filter: &TagFilter) -> bool {
        match self.get(filter.key.as_str()) {
            None => false,
            Some(v) => filter.value.as_ref().is_none_or(|want| want == v),
        }
    }
}

/// One `tag` query parameter: `key` (the bucket has that key) or `key:value` (with that value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagFilter {
    pub key: TagKey,
    pub value: Option<TagValue>,
}

impl TagFilter {
    /// Parses `key` or `key:value`; the value may itself contain `:`.
    pub fn parse(s: &str) -> Result<Self, TagError> {
        match s.split_once(':') {
            None => Ok(Self {
                key: TagKey::parse(s)?,
                value: None,
            }),
            Some((k, v)) => {
                let key = TagKey::parse(k)?;
                let value = TagValue::parse(&key, v)?;
                Ok(Self {
                    key,
                    value: Some(value),
                })
            }
        }
    }
}

impl fmt::Display for TagFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            None => write!(f, "{}", self.key),
            Some(v) => write!(f, "{}:{}", self.key, v.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json reads from `json`, as `from_stored_json` did before its fast path.
    fn parsed(json: &str) -> Option<Tags> {
        serde_json::from_str::<BTreeMap<String, String>>(json)
            .ok()
            .map(|map| Tags(map.into_iter().map(|(k, v)| (TagKey(k), TagValue(v))).collect()))
    }

    #[test]
    fn the_plain_form_reads_as_the_parser_reads_it_and_declines_the_rest() {
        for plain in [
            r#"{"a":"b"}"#,
            r#"{"env":"prod","team":"platform","cost-center":"cc-1"}"#,
            r#"{"a":"","b":"x y: {z}, 'w'"}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"}"}"#,
            "{\"a\":\"b\u{7f}\"}",
            "{\"k\":\"\u{e9}t\u{e9} \u{2713}\"}",
        ] {
            assert_eq!(Tags::from_plain_json(plain), parsed(plain), "{plain}");
            assert!(Tags::from_plain_json(plain).is_some(), "{plain}");
        }
        for other in [
            r#"{"a":"b\"c"}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"a": "b"}"#,
            r#" {"a":"b"}"#,
            r#"{"a":"b",}"#,
            r#"{"a":"b"}}"#,
            r#"{"a":"b"}{"c":"d"}"#,
            r#"{"a":1}"#,
            r#"{"a":"b""#,
            "{\"a\":\"b\tc\"}",
            r#"["a","b"]"#,
        ] {
            assert_eq!(Tags::from_plain_json(other), None, "{other}");
            assert_eq!(Tags::from_stored_json(other).ok(), parsed(other), "{other}");
        }
    }

    /// The pairs `StoredTags` gives, in order.
    fn pairs(tags: &StoredTags<'_>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        tags.for_each(|k, v| out.push((k.to_owned(), v.to_owned())));
        out
    }

    #[test]
    fn stored_tags_give_the_pairs_of_the_parsed_tags_in_key_order() {
        for json in [
            "{}",
            r#"{"a":"b"}"#,
            r#"{"cost-center":"cc-1","env":"prod","team":"platform"}"#,
            r#"{"env":"prod","team":"platform","cost-center":"cc-1"}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"","b":"x y: {z}, 'w'"}"#,
            r#"{"a":"}"}"#,
            "{\"k\":\"\u{e9}t\u{e9} \u{2713}\"}",
            r#"{"a":"b\"c","b":"\u0041"}"#,
            r#"{"b": "x", "a": "y"}"#,
        ] {
            let expected = parsed(json).unwrap();
            let stored = StoredTags::from_stored_json(json).unwrap();
            let from_map: Vec<_> = expected.iter().map(|(k, v)| (k.0.clone(), v.0.clone())).collect();
            assert_eq!(pairs(&stored), from_map, "{json}");
            if let Some(text) = stored.as_serde_json() {
                assert_eq!(text, serde_json::to_string(&expected).unwrap(), "{json}");
            }
            assert_eq!(stored.into_tags(), expected, "{json}");
        }
        // The stored text is kept as it is only when it is what serde writes for the map.
        let plain = |json| StoredTags::from_stored_json(json).unwrap().as_serde_json() == Some(json);
        assert!(plain(r#"{"a":"1","b":"2"}"#));
        assert!(plain("{}"));
        for not_as_serde_writes in [
            r#"{"b":"1","a":"2"}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a": "1"}"#,
            r#"{"a":"\u0041"}"#,
        ] {
            assert!(!plain(not_as_serde_writes), "{not_as_serde_writes}");
        }
        for broken in ["", "[]", "{\"a\":1}", "{\"a\":\"b\"} x", "{\"a\":\"b\""] {
            assert!(StoredTags::from_stored_json(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn stored_tags_read_back_as_written() {
        let tags = Tags::parse([("team", "frontend"), ("env", "prod \"a\" \u{e9}")]).unwrap();
        let json = serde_json::to_string(&tags).unwrap();
        assert_eq!(Tags::from_stored_json(&json).unwrap(), tags);
        assert_eq!(Tags::from_stored_json("{}").unwrap(), Tags::default());
        assert_eq!(Tags::from_stored_json(" { } ").unwrap(), Tags::default());
        for broken in ["", "[]", "{\"a\":1}", "{\"a\":\"b\"} x", "{\"a\":\"b\""] {
            assert!(Tags::from_stored_json(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn keys_follow_the_rule() {
        for ok in ["env", "team", "a", "cost_center", "x-1", &"k".repeat(63)] {
            assert!(TagKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Env", "1env", "_env", "env:x", "en v", &"k".repeat(64)] {
            assert!(TagKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_have_a_length_limit_and_no_control_characters() {
        let key = TagKey::parse("env").unwrap();
        assert!(TagValue::parse(&key, &"v".repeat(256)).is_ok());
        assert!(TagValue::parse(&key, "").is_ok());
        assert!(matches!(
            TagValue::parse(&key, &"v".repeat(257)),
            Err(TagError::ValueTooLong { len: 257, .. })
        ));
        assert!(matches!(
            TagValue::parse(&key, "a\nb"),
            Err(TagError::ControlCharacter(_))
        ));
        assert!(TagValue::parse(&key, "prod:eu/1 ü").is_ok());
    }

    #[test]
    fn at_most_fifty_tags() {
        let keys: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
        let fifty: Vec<(&str, &str)> = keys.iter().take(50).map(|k| (k.as_str(), "v")).collect();
        assert_eq!(Tags::parse(fifty).unwrap().len(), 50);
        let fifty_one: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
        assert_eq!(Tags::parse(fifty_one), Err(TagError::TooMany(51)));
    }

    #[test]
    fn filters_match_key_or_key_and_value() {
        let tags = Tags::parse([("env", "production"), ("team", "a:b")]).unwrap();
        assert!(tags.matches(&TagFilter::parse("env").unwrap()));
        assert!(tags.matches(&TagFilter::parse("env:production").unwrap()));
        assert!(!tags.matches(&TagFilter::parse("env:staging").unwrap()));
        assert!(!tags.matches(&TagFilter::parse("owner").unwrap()));
        assert!(tags.matches(&TagFilter::parse("team:a:b").unwrap()));
        assert!(TagFilter::parse("Env:x").is_err());
    }
}
