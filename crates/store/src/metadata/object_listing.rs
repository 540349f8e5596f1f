//! A page of a bucket's objects in key order, with keys under a delimiter rolled up into common
//! prefixes, the same on every backend: the backend reads batches of keys in order
//! ([`KeyBatches`]); this module walks them, and after each common prefix skips straight past
//! every key under it instead of reading them.

use crate::StoreResult;
use crate::metadata::{ObjectEntry, ObjectListRequest, ObjectPage, ObjectPosition};
use async_trait::async_trait;
use cloudnexus_core::Object;

/// The smallest string greater than every string starting with `prefix` (UTF-8 byte order is
/// code point order), or `None` when no such string exists.
pub(crate) fn after_all_starting_with(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Reads keys of one bucket in order.
#[async_trait]
pub(crate) trait KeyBatches: Send {
    /// Up to `n` objects whose keys start with `prefix` and come after `from` (or at it, when
    /// `inclusive`), in key order. `from` is never before `prefix`.
    async fn batch(&mut self, prefix: &str, from: &str, inclusive: bool, n: usize) -> StoreResult<Vec<Object>>;
}

/// Reads one page of `request` through `batches`.
pub(crate) async fn list(batches: &mut dyn KeyBatches, request: &ObjectListRequest) -> StoreResult<ObjectPage> {
    let limit = request.limit as usize;
    let prefix = request.prefix.as_str();
    let delimiter = request.delimiter.as_deref().filter(|d| !d.is_empty());
    // Where to read from: after the last key, or past every key under the last common prefix.
    let (mut from, mut inclusive) = match &request.after {
        None => (prefix.to_owned(), true),
        Some(ObjectPosition { key, is_prefix: false }) => (key.clone(), false),
        Some(ObjectPosition { key, is_prefix: true }) => match after_all_starting_with(key) {
            Some(next) => (next, true),
            None => {
                return Ok(ObjectPage {
                    entries: Vec::new(),
                    next: None,
                });
            }
        },
    };
    if from.as_str() < prefix {
        // Never read before the prefix itself.
        (from, inclusive) = (prefix.to_owned(), true);
    }
    let mut entries: Vec<ObjectEntry> = Vec::new();
    'batches: while entries.len() <= limit {
        let objects = batches
            .batch(prefix, &from, inclusive, limit + 1 - entries.len())
            .await?;
        if objects.is_empty() {
            break;
        }
        for o in objects {
            let rest = &o.key.as_str()[prefix.len()..];
            let rolled = delimiter.and_then(|d| {
                rest.find(d)
                    .map(|i| o.key.as_str()[..prefix.len() + i + d.len()].to_owned())
            });
            match rolled {
                Some(common) => {
                    // Skip every other key under this common prefix.
                    let next = after_all_starting_with(&common);
                    entries.push(ObjectEntry::CommonPrefix(common));
                    match next {
                        Some(n) => {
                            (from, inclusive) = (n, true);
                            continue 'batches;
                        }
                        None => break 'batches,
                    }
                }
                None => {
                    (from, inclusive) = (o.key.as_str().to_owned(), false);
                    entries.push(ObjectEntry::Object(Box::new(o)));
                    if entries.len() > limit {
                        break 'batches;
                    }
                }
            }
        }
    }
    let has_more = entries.len() > limit;
    entries.truncate(limit);
    let next = if has_more {
        entries.last().map(|e| match e {
            ObjectEntry::Object(o) => ObjectPosition {
                key: o.key.as_str().to_owned(),
                is_prefix: false,
            },
            ObjectEntry::CommonPrefix(p) => ObjectPosition {
                key: p.clone(),
                is_prefix: true,
            },
        })
    } else {
        None
    };
    Ok(ObjectPage { entries, next })
}

#[cfg(test)]
mod tests {
    use super::after_all_starting_with as after;

    #[test]
    fn the_bound_after_a_prefix() {
        assert_eq!(after("abc").as_deref(), Some("abd"));
        assert_eq!(after("a/").as_deref(), Some("a0"));
        assert_eq!(after("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(after("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(after(""), None);
        assert_eq!(after("\u{10FFFF}"), None);
    }
}
