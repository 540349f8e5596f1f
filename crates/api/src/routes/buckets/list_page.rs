//! A list page's JSON, written straight from the store's buckets into one buffer
//! ([`render_page`]), and a rendered page with holes where each bucket's `size_bytes` and
//! `object_count` go ([`PageTemplate`]), so a page kept by the list cache can be served again
//! with the buckets' live usage spliced in, without rendering anything else. Both write exactly
//! what serde would write for [`ListBucketsResponse`](super::list::ListBucketsResponse): the
//! same fields in the same order (the tests below compare them).

#[cfg(test)]
use super::BucketResponse;
use super::StorageClassName;
use crate::routes::buckets::list::Pagination;
use bytes::{BufMut, Bytes, BytesMut};
use cloudnexus_core::{Bucket, BucketId, Tags, Timestamp};
use cloudnexus_store::BucketUsage;
use serde::Serialize;

/// A bucket's fields before its usage, in the reference page's order.
#[derive(Serialize)]
struct Head<'a> {
    id: &'a str,
    name: &'a str,
    region: &'a str,
    storage_class: StorageClassName,
    created_at: Timestamp,
}

/// A bucket's fields after its usage.
#[derive(Serialize)]
struct Tail<'a> {
    public: bool,
    tags: TagsView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_at: Option<Timestamp>,
}

/// A bucket as a page lists it: [`BucketResponse`](super::BucketResponse)'s fields, borrowed
/// from the bucket rather than copied into strings first.
#[derive(Serialize)]
struct BucketView<'a> {
    id: &'a str,
    name: &'a str,
    region: &'a str,
    storage_class: StorageClassName,
    created_at: Timestamp,
    size_bytes: u64,
    object_count: u64,
    public: bool,
    tags: TagsView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_at: Option<Timestamp>,
}

/// Tags as a JSON object, in key order.
struct TagsView<'a>(&'a Tags);

impl Serialize for TagsView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

#[derive(Serialize)]
struct PageView<'a> {
    data: Vec<BucketView<'a>>,
    pagination: &'a Pagination,
}

/// The JSON of a page of `buckets` with this pagination, written once into one buffer.
pub fn render_page(buckets: &[Bucket], pagination: &Pagination) -> Bytes {
    let page = PageView {
        data: buckets
            .iter()
            .map(|b| BucketView {
                id: b.id.as_str(),
                name: b.name.as_str(),
                region: b.region.as_str(),
                storage_class: b.storage_class.into(),
                created_at: b.created_at,
                size_bytes: b.size_bytes,
                object_count: b.object_count,
                public: b.public,
                tags: TagsView(&b.tags),
                deleted_at: b.deleted_at,
                purge_at: b.purge_at,
            })
            .collect(),
        pagination,
    };
    let mut out = BytesMut::with_capacity(128 + 320 * buckets.len()).writer();
    serde_json::to_writer(&mut out, &page).expect("list pages serialize");
    out.into_inner().freeze()
}

/// A page's JSON with two holes per bucket.
#[derive(Debug)]
pub struct PageTemplate {
    /// The page's buckets, in order: the usage to splice in is theirs.
    pub ids: Vec<BucketId>,
    /// `2 * ids.len() + 1` pieces of JSON; the holes are between them.
    pieces: Vec<Bytes>,
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("list pages serialize")
}

impl PageTemplate {
    /// The template of a page of `buckets` with this pagination, and the usage they had.
    pub fn new(buckets: &[Bucket], pagination: &Pagination) -> (Self, Vec<BucketUsage>) {
        let mut pieces = Vec::with_capacity(2 * buckets.len() + 1);
        let mut piece = BytesMut::with_capacity(256 * (buckets.len() + 1));
        piece.put_slice(b"{\"data\":[");
        for (i, b) in buckets.iter().enumerate() {
            if i > 0 {
                piece.put_u8(b',');
            }
            let head = json(&Head {
                id: b.id.as_str(),
                name: b.name.as_str(),
                region: b.region.as_str(),
                storage_class: b.storage_class.into(),
                created_at: b.created_at,
            });
            // `{"id":...,"created_at":"..."}` without its closing brace.
            piece.put_slice(&head[..head.len() - 1]);
            piece.put_slice(b",\"size_bytes\":");
            pieces.push(piece.split().freeze());
            piece.put_slice(b",\"object_count\":");
            pieces.push(piece.split().freeze());
            let tail = json(&Tail {
                public: b.public,
                tags: TagsView(&b.tags),
                deleted_at: b.deleted_at,
                purge_at: b.purge_at,
            });
            // `{"public":...}` without its opening brace: its closing one closes the bucket.
            piece.put_u8(b',');
            piece.put_slice(&tail[1..]);
        }
        piece.put_slice(b"],\"pagination\":");
        piece.put_slice(&json(pagination));
        piece.put_u8(b'}');
        pieces.push(piece.freeze());
        let usage = buckets
            .iter()
            .map(|b| BucketUsage {
                size_bytes: b.size_bytes,
                object_count: b.object_count,
            })
            .collect();
        let ids = buckets.iter().map(|b| b.id.clone()).collect();
        (Self { ids, pieces }, usage)
    }

    /// The page with `usage` (one per bucket, in order) in its holes.
    pub fn render(&self, usage: &[BucketUsage]) -> Bytes {
        debug_assert_eq!(usage.len(), self.ids.len());
        let length = self.pieces.iter().map(Bytes::len).sum::<usize>() + 40 * usage.len();
        let mut out = BytesMut::with_capacity(length);
        let mut numbers = itoa::Buffer::new();
        let mut pieces = self.pieces.iter();
        for u in usage {
            for n in [u.size_bytes, u.object_count] {
                out.put_slice(pieces.next().expect("a piece before each hole"));
                out.put_slice(numbers.format(n).as_bytes());
            }
        }
        out.put_slice(pieces.next().expect("a piece after the last hole"));
        out.freeze()
    }
}

/// The page's body as serde writes the response type (for the test below).
#[cfg(test)]
fn serde_body(buckets: &[Bucket], pagination: Pagination) -> Vec<u8> {
    let response = super::list::ListBucketsResponse {
        data: buckets.iter().cloned().map(BucketResponse::from).collect(),
        pagination,
    };
    json(&response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudnexus_core::{BucketName, ProjectId, RegionSet, StorageClass, Tags, Timestamp};

    fn bucket(name: &str, tags: &[(&str, &str)], deleted: bool, usage: (u64, u64)) -> Bucket {
        let at = Timestamp::from_unix_seconds(1_723_473_120);
        Bucket {
            id: BucketId::generate(),
            project_id: ProjectId::generate(),
            name: BucketName::parse(name).unwrap(),
            region: RegionSet::default().parse("eu-west-2").unwrap(),
            storage_class: StorageClass::Glacier,
            public: true,
            tags: Tags::parse(tags.iter().copied()).unwrap(),
            created_at: at,
            size_bytes: usage.0,
            object_count: usage.1,
            deleted_at: deleted.then_some(at),
            purge_at: deleted.then(|| at.plus_seconds(60)),
        }
    }

    fn pagination(next: Option<&str>) -> Pagination {
        Pagination {
            total: 47,
            limit: 25,
            offset: 3,
            next_cursor: next.map(str::to_owned),
        }
    }

    #[test]
    fn a_rendered_template_is_what_serde_writes() {
        let buckets = vec![
            bucket(
                "first",
                &[("env", "prod"), ("quote", "\"<tag>\"")],
                false,
                (48_291_034_880, 12_847),
            ),
            bucket("second", &[], true, (0, 0)),
            bucket("third", &[("a", "b")], false, (u64::MAX, 1)),
        ];
        for next in [None, Some("abc")] {
            let (template, usage) = PageTemplate::new(&buckets, &pagination(next));
            assert_eq!(
                template.render(&usage),
                Bytes::from(serde_body(&buckets, pagination(next))),
            );
        }
        let (empty, usage) = PageTemplate::new(&[], &pagination(None));
        assert!(usage.is_empty());
        assert_eq!(empty.render(&[]), Bytes::from(serde_body(&[], pagination(None))));
    }

    #[test]
    fn a_page_written_straight_from_the_buckets_is_what_serde_writes() {
        let buckets = vec![
            bucket(
                "first",
                &[("env", "prod"), ("quote", "\"<tag>\\")],
                false,
                (48_291_034_880, 12_847),
            ),
            bucket("second", &[], true, (0, 0)),
            bucket("third", &[("b", "1"), ("a", "2")], false, (u64::MAX, 1)),
        ];
        for next in [None, Some("abc")] {
            assert_eq!(
                render_page(&buckets, &pagination(next)),
                Bytes::from(serde_body(&buckets, pagination(next))),
            );
        }
        assert_eq!(
            render_page(&[], &pagination(None)),
            Bytes::from(serde_body(&[], pagination(None)))
        );
    }

    #[test]
    fn new_usage_changes_only_the_usage() {
        let mut buckets = vec![
            bucket("first", &[], false, (1, 1)),
            bucket("second", &[], false, (2, 2)),
        ];
        let (template, _) = PageTemplate::new(&buckets, &pagination(None));
        buckets[1].size_bytes = 123_456;
        buckets[1].object_count = 7;
        let usage = [
            BucketUsage {
                size_bytes: 1,
                object_count: 1,
            },
            BucketUsage {
                size_bytes: 123_456,
                object_count: 7,
            },
        ];
        assert_eq!(
            template.render(&usage),
            Bytes::from(serde_body(&buckets, pagination(None)))
        );
    }
}
