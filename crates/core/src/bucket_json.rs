//! A bucket as a list page shows it, in JSON written by hand into a buffer: exactly what serde
//! writes for the API's bucket response (the API's tests compare the two), the same fields in
//! the same order.
//!
//! A bucket is written in two pieces around its usage (`size_bytes`, `object_count`): the
//! usage changes with every upload, the rest only when the bucket itself changes. The store
//! keeps both pieces in the bucket's row ([`RenderedBucket`], written with every change of the
//! bucket), so that a page can be written by copying them ([`RenderedBucketRef`]); a bucket
//! whose row holds no pieces is written from its fields ([`put_bucket`]).
//!
//! Strings are copied as they are unless they hold a character that JSON escapes (then serde
//! writes them), and tags stored exactly as serde writes them are copied without building a map.

use crate::listing::ListedBucket;
use crate::{Bucket, BucketIdRef, Timestamp};
use bytes::BufMut;

/// What comes between the head and the size: the key of the first usage number.
pub const SIZE_BYTES_KEY: &[u8] = b",\"size_bytes\":";
/// What comes between the two usage numbers.
pub const OBJECT_COUNT_KEY: &[u8] = b",\"object_count\":";

/// `text` as a JSON string: copied between quotes when none of its bytes needs escaping (ids,
/// names, regions, times and most tags), else as serde_json escapes it.
pub fn put_str(out: &mut impl BufMut, text: &str) {
    // A fold rather than `all`: without an early exit the loop is vectorized, and nearly every
    // string is plain.
    let plain = text
        .bytes()
        .fold(true, |plain, b| plain & (b >= 0x20 && b != b'"' && b != b'\\'));
    if plain {
        out.put_u8(b'"');
        out.put_slice(text.as_bytes());
        out.put_u8(b'"');
    } else {
        serde_json::to_writer(out.writer(), text).expect("strings serialize");
    }
}

fn put_time(out: &mut impl BufMut, at: Timestamp) {
    at.with_rfc3339(|text| put_str(out, text));
}

/// The piece of a bucket before its usage: `{"id":...` up to its `created_at`.
pub fn put_head(out: &mut impl BufMut, b: &ListedBucket<'_>) {
    out.put_slice(b"{\"id\":");
    put_str(out, b.id.as_str());
    out.put_slice(b",\"name\":");
    put_str(out, b.name);
    out.put_slice(b",\"region\":");
    put_str(out, b.region);
    out.put_slice(b",\"storage_class\":\"");
    out.put_slice(b.storage_class.as_str().as_bytes());
    out.put_slice(b"\",\"created_at\":");
    put_time(out, b.created_at);
}

/// The piece of a bucket after its usage: `,"public":...` to the closing `}`.
pub fn put_tail(out: &mut impl BufMut, b: &ListedBucket<'_>) {
    out.put_slice(if b.public {
        b",\"public\":true,\"tags\":"
    } else {
        b",\"public\":false,\"tags\":"
    });
    if let Some(json) = b.tags.as_serde_json() {
        out.put_slice(json.as_bytes());
    } else {
        out.put_u8(b'{');
        let mut first_tag = true;
        b.tags.for_each(|key, value| {
            if !first_tag {
                out.put_u8(b',');
            }
            first_tag = false;
            put_str(out, key);
            out.put_u8(b':');
            put_str(out, value);
        });
        out.put_u8(b'}');
    }
    if let Some(at) = b.deleted_at {
        out.put_slice(b",\"deleted_at\":");
        put_time(out, at);
    }
    if let Some(at) = b.purge_at {
        out.put_slice(b",\"purge_at\":");
        put_time(out, at);
    }
    out.put_u8(b'}');
}

/// A whole bucket from its fields, `put_usage` called where each of its two usage numbers goes
/// (with that number).
pub fn put_bucket<B: BufMut>(out: &mut B, b: &ListedBucket<'_>, mut put_usage: impl FnMut(&mut B, u64)) {
    put_head(out, b);
    out.put_slice(SIZE_BYTES_KEY);
    put_usage(out, b.size_bytes);
    out.put_slice(OBJECT_COUNT_KEY);
    put_usage(out, b.object_count);
    put_tail(out, b);
}

/// The two pieces of a bucket's JSON around its usage, as the store keeps them in its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedBucket {
    /// [`put_head`]'s piece.
    pub head: String,
    /// [`put_tail`]'s piece.
    pub tail: String,
}

impl RenderedBucket {
    /// The pieces of `bucket` as it is now.
    pub fn of(bucket: &Bucket) -> Self {
        let listed = ListedBucket::of(bucket);
        let mut head = Vec::with_capacity(160);
        put_head(&mut head, &listed);
        let mut tail = Vec::with_capacity(160);
        put_tail(&mut tail, &listed);
        let text = |json| String::from_utf8(json).expect("JSON written from text is text");
        Self {
            head: text(head),
            tail: text(tail),
        }
    }
}

/// A bucket of a page read from a row that holds its [`RenderedBucket`]: the pieces as
/// stored, and what a page needs besides them (the id and creation time for its cursor, the
/// live usage for the holes between the pieces). The pieces are bytes: they are copied into
/// the page as they are, as the store's own writes left them.
#[derive(Debug, Clone, Copy)]
pub struct RenderedBucketRef<'a> {
    pub id: BucketIdRef<'a>,
    pub created_at: Timestamp,
    pub size_bytes: u64,
    pub object_count: u64,
    pub head: &'a [u8],
    pub tail: &'a [u8],
}

impl RenderedBucketRef<'_> {
    /// The whole bucket, `put_usage` called where each of its two usage numbers goes.
    pub fn put<B: BufMut>(&self, out: &mut B, mut put_usage: impl FnMut(&mut B, u64)) {
        out.put_slice(self.head);
        out.put_slice(SIZE_BYTES_KEY);
        put_usage(out, self.size_bytes);
        out.put_slice(OBJECT_COUNT_KEY);
        put_usage(out, self.object_count);
        out.put_slice(self.tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BucketId, BucketName, ProjectId, RegionSet, StorageClass, Tags};

    fn bucket(tags: &[(&str, &str)], deleted: bool) -> Bucket {
        let at = Timestamp::from_unix_seconds(1_723_473_120);
        Bucket {
            id: BucketId::generate(),
            project_id: ProjectId::generate(),
            name: BucketName::parse("logs-2024").unwrap(),
            region: RegionSet::default().parse("eu-west-2").unwrap(),
            storage_class: StorageClass::Glacier,
            public: deleted,
            tags: Tags::parse(tags.iter().copied()).unwrap(),
            created_at: at,
            size_bytes: 1234,
            object_count: 7,
            deleted_at: deleted.then_some(at),
            purge_at: deleted.then(|| at.plus_seconds(60)),
        }
    }

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_pieces_with_the_usage_between_them_are_the_whole_bucket() {
        for b in [
            bucket(&[], false),
            bucket(&[("env", "prod"), ("team", "a \"quoted\" \\ line")], true),
        ] {
            let listed = ListedBucket::of(&b);
            let mut whole = Vec::new();
            put_bucket(&mut whole, &listed, |out, n| out.put_slice(n.to_string().as_bytes()));
            let rendered = RenderedBucket::of(&b);
            let mut pieced = Vec::new();
            RenderedBucketRef {
                id: b.id.borrowed(),
                created_at: b.created_at,
                size_bytes: b.size_bytes,
                object_count: b.object_count,
                head: rendered.head.as_bytes(),
                tail: rendered.tail.as_bytes(),
            }
            .put(&mut pieced, |out, n| out.put_slice(n.to_string().as_bytes()));
            assert_eq!(text(pieced), text(whole.clone()));
            let parsed: serde_json::Value = serde_json::from_slice(&whole).unwrap();
            assert_eq!(parsed["id"], b.id.as_str());
            assert_eq!(parsed["size_bytes"], 1234);
            assert_eq!(parsed["object_count"], 7);
            assert_eq!(parsed["deleted_at"].is_string(), b.deleted_at.is_some());
            assert!(rendered.head.starts_with("{\"id\":") && rendered.tail.ends_with('}'));
        }
    }
}
