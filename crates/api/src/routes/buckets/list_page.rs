//! A list page's JSON, written from the buckets as the store reads them from their rows
//! (the sinks of `MetadataStore::list_buckets_into`) into one buffer: [`PageWriter`] writes the
//! page, [`TemplateWriter`] a [`PageTemplate`] with holes where each bucket's `size_bytes` and
//! `object_count` go, so a page kept by the list cache can be served again with the buckets'
//! live usage spliced in, without rendering anything else. Both write exactly what serde would
//! write for [`ListBucketsResponse`](super::list::ListBucketsResponse): the same fields in the
//! same order (the tests below compare them).
//!
//! A bucket comes either as the two pieces of JSON its row keeps (`RenderedBucketRef`), copied
//! around its live usage, or, from a row without them, as its fields, written by hand by
//! `cloudnexus_core::bucket_json` without building a `Bucket`.

#[cfg(test)]
use super::BucketResponse;
use crate::routes::buckets::list::Pagination;
use bytes::{BufMut, Bytes, BytesMut};
use cloudnexus_core::BucketId;
use cloudnexus_core::bucket_json::{self, RenderedBucketRef};
use cloudnexus_core::listing::ListedBucket;
use cloudnexus_store::{BucketUsage, PageSink, StoreResult};

/// Room for one bucket of a page, most of the time.
const BUCKET_BYTES: usize = 320;

/// The separator before a bucket of a page: nothing before the `first`.
fn put_separator(out: &mut BytesMut, first: bool) {
    if !first {
        out.put_u8(b',');
    }
}

/// The start of a page, before its first bucket.
const PAGE_START: &[u8] = b"{\"data\":[";

/// The end of a page, after its last bucket: `],"pagination":{...}}`.
fn put_end(out: &mut BytesMut, pagination: &Pagination) {
    out.put_slice(b"],\"pagination\":");
    serde_json::to_writer(out.writer(), pagination).expect("list pages serialize");
    out.put_u8(b'}');
}

/// Writes a page's JSON as the store hands it the buckets, then its pagination
/// ([`PageWriter::finish`]).
pub struct PageWriter {
    out: BytesMut,
    buckets: usize,
    numbers: itoa::Buffer,
}

impl PageWriter {
    /// A writer with room for `limit` buckets.
    pub fn new(limit: u32) -> Self {
        let mut out = BytesMut::with_capacity(128 + BUCKET_BYTES * limit as usize);
        out.put_slice(PAGE_START);
        Self {
            out,
            buckets: 0,
            numbers: itoa::Buffer::new(),
        }
    }

    /// The whole page, with this pagination after the buckets.
    pub fn finish(mut self, pagination: &Pagination) -> Bytes {
        put_end(&mut self.out, pagination);
        self.out.freeze()
    }
}

impl PageSink for PageWriter {
    fn push(&mut self, bucket: ListedBucket<'_>) -> StoreResult<()> {
        put_separator(&mut self.out, self.buckets == 0);
        let numbers = &mut self.numbers;
        bucket_json::put_bucket(&mut self.out, &bucket, |out, n| {
            out.put_slice(numbers.format(n).as_bytes());
        });
        self.buckets += 1;
        Ok(())
    }

    fn takes_rendered(&self) -> bool {
        true
    }

    fn push_rendered(&mut self, bucket: RenderedBucketRef<'_>) -> StoreResult<()> {
        put_separator(&mut self.out, self.buckets == 0);
        let numbers = &mut self.numbers;
        bucket.put(&mut self.out, |out, n| out.put_slice(numbers.format(n).as_bytes()));
        self.buckets += 1;
        Ok(())
    }
}

/// A page's JSON with two holes per bucket.
#[derive(Debug)]
pub struct PageTemplate {
    /// The page's buckets, in order: the usage to splice in is theirs.
    pub ids: Vec<BucketId>,
    /// `2 * ids.len() + 1` pieces of JSON; the holes are between them.
    pieces: Vec<Bytes>,
}

/// Writes a [`PageTemplate`] as the store hands it the buckets, noting the usage each had.
#[derive(Debug)]
pub struct TemplateWriter {
    ids: Vec<BucketId>,
    usage: Vec<BucketUsage>,
    pieces: Vec<Bytes>,
    piece: BytesMut,
}

impl TemplateWriter {
    /// A writer with room for `limit` buckets.
    pub fn new(limit: u32) -> Self {
        let limit = limit as usize;
        let mut piece = BytesMut::with_capacity(128 + BUCKET_BYTES * limit);
        piece.put_slice(PAGE_START);
        Self {
            ids: Vec::with_capacity(limit),
            usage: Vec::with_capacity(limit),
            pieces: Vec::with_capacity(2 * limit + 1),
            piece,
        }
    }

    /// The template, with this pagination after the buckets, and the usage they had.
    pub fn finish(mut self, pagination: &Pagination) -> (PageTemplate, Vec<BucketUsage>) {
        put_end(&mut self.piece, pagination);
        self.pieces.push(self.piece.freeze());
        let template = PageTemplate {
            ids: self.ids,
            pieces: self.pieces,
        };
        (template, self.usage)
    }
}

impl TemplateWriter {
    /// Notes a bucket written into the template.
    fn noted(&mut self, id: BucketId, size_bytes: u64, object_count: u64) {
        self.ids.push(id);
        self.usage.push(BucketUsage {
            size_bytes,
            object_count,
        });
    }
}

impl PageSink for TemplateWriter {
    fn push(&mut self, bucket: ListedBucket<'_>) -> StoreResult<()> {
        put_separator(&mut self.piece, self.ids.is_empty());
        let pieces = &mut self.pieces;
        bucket_json::put_bucket(&mut self.piece, &bucket, |piece, _| {
            pieces.push(piece.split().freeze());
        });
        self.noted(bucket.id.to_id(), bucket.size_bytes, bucket.object_count);
        Ok(())
    }

    fn takes_rendered(&self) -> bool {
        true
    }

    fn push_rendered(&mut self, bucket: RenderedBucketRef<'_>) -> StoreResult<()> {
        put_separator(&mut self.piece, self.ids.is_empty());
        let pieces = &mut self.pieces;
        bucket.put(&mut self.piece, |piece, _| pieces.push(piece.split().freeze()));
        self.noted(bucket.id.to_id(), bucket.size_bytes, bucket.object_count);
        Ok(())
    }
}

impl PageTemplate {
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
fn serde_body(buckets: &[cloudnexus_core::Bucket], pagination: Pagination) -> Vec<u8> {
    let response = super::list::ListBucketsResponse {
        data: buckets.iter().cloned().map(BucketResponse::from).collect(),
        pagination,
    };
    serde_json::to_vec(&response).expect("list pages serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudnexus_core::bucket_json::RenderedBucket;
    use cloudnexus_core::{Bucket, BucketName, ProjectId, RegionSet, StorageClass, StoredTags, Tags, Timestamp};

    /// The forms in which a store hands a page its buckets.
    #[derive(Debug, Clone, Copy)]
    enum Form {
        /// Fields, with the tags as stored (plain unless a character needs escaping).
        Stored,
        /// Fields, with the tags already parsed.
        Parsed,
        /// The JSON pieces the bucket's row keeps.
        Rendered,
    }

    /// Hands `buckets` to `sink` as a store does, in `form`.
    fn push_all(sink: &mut dyn PageSink, buckets: &[Bucket], form: Form) {
        for b in buckets {
            let json = serde_json::to_string(&b.tags).unwrap();
            let tags = match form {
                Form::Stored => StoredTags::from_stored_json(&json).unwrap(),
                Form::Parsed => b.tags.clone().into(),
                Form::Rendered => {
                    let rendered = RenderedBucket::of(b);
                    sink.push_rendered(RenderedBucketRef {
                        id: b.id.borrowed(),
                        created_at: b.created_at,
                        size_bytes: b.size_bytes,
                        object_count: b.object_count,
                        head: rendered.head.as_bytes(),
                        tail: rendered.tail.as_bytes(),
                    })
                    .unwrap();
                    continue;
                }
            };
            sink.push(ListedBucket {
                tags,
                ..ListedBucket::of(b)
            })
            .unwrap();
        }
    }

    /// The page `PageWriter` writes, the same from buckets in every form.
    fn render_page(buckets: &[Bucket], pagination: &Pagination) -> Bytes {
        let [stored, parsed, rendered] = [Form::Stored, Form::Parsed, Form::Rendered].map(|form| {
            let mut writer = PageWriter::new(25);
            push_all(&mut writer, buckets, form);
            writer.finish(pagination)
        });
        assert_eq!(stored, parsed);
        assert_eq!(stored, rendered);
        stored
    }

    /// The template `TemplateWriter` writes, and the usage it noted: the same from buckets as
    /// fields and as their rows' JSON.
    fn template(buckets: &[Bucket], pagination: &Pagination) -> (PageTemplate, Vec<BucketUsage>) {
        let [stored, rendered] = [Form::Stored, Form::Rendered].map(|form| {
            let mut writer = TemplateWriter::new(25);
            push_all(&mut writer, buckets, form);
            writer.finish(pagination)
        });
        assert_eq!(stored.0.pieces, rendered.0.pieces);
        assert_eq!(stored.0.ids, rendered.0.ids);
        assert_eq!(stored.0.render(&stored.1), rendered.0.render(&rendered.1));
        stored
    }

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
            let (template, usage) = template(&buckets, &pagination(next));
            assert_eq!(
                template.render(&usage),
                Bytes::from(serde_body(&buckets, pagination(next))),
            );
        }
        let (empty, usage) = template(&[], &pagination(None));
        assert!(usage.is_empty());
        assert_eq!(empty.render(&[]), Bytes::from(serde_body(&[], pagination(None))));
    }

    #[test]
    fn a_page_written_straight_from_the_buckets_is_what_serde_writes() {
        let buckets = vec![
            bucket(
                "first",
                &[("env", "prod"), ("quote", "\"<tag>\\"), ("unicode", "ünï \\\"q\\\" ✓")],
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
    fn tags_stored_in_any_form_are_written_as_serde_writes_them() {
        let b = bucket("tagged", &[], false, (1, 2));
        for stored in [
            "{}",
            r#"{"a":"1","b":"2"}"#,
            r#"{"b":"1","a":"2"}"#,
            r#"{"a": "x", "b" : "y"}"#,
            r#"{"a":"1","a":"2"}"#,
            "{\"a\":\"del\u{7f} line\u{2028} \u{e9}\",\"b\":\"\"}",
            r#"{"q":"say \"hi\"","u":"\u0041\n"}"#,
        ] {
            let tags = Tags::from_stored_json(stored).unwrap();
            let expected = serde_body(&[Bucket { tags, ..b.clone() }], pagination(None));
            for writer_kind in ["page", "template"] {
                let listed = ListedBucket {
                    tags: StoredTags::from_stored_json(stored).unwrap(),
                    ..ListedBucket::of(&b)
                };
                let body = if writer_kind == "page" {
                    let mut writer = PageWriter::new(1);
                    writer.push(listed).unwrap();
                    writer.finish(&pagination(None))
                } else {
                    let mut writer = TemplateWriter::new(1);
                    writer.push(listed).unwrap();
                    let (template, usage) = writer.finish(&pagination(None));
                    template.render(&usage)
                };
                assert_eq!(body, Bytes::from(expected.clone()), "{writer_kind}: {stored}");
            }
            let tags = Tags::from_stored_json(stored).unwrap();
            let mut writer = PageWriter::new(1);
            push_all(&mut writer, &[Bucket { tags, ..b.clone() }], Form::Rendered);
            assert_eq!(
                writer.finish(&pagination(None)),
                Bytes::from(expected),
                "rendered: {stored}"
            );
        }
    }

    #[test]
    fn every_storage_class_private_buckets_and_far_times_are_written_as_serde_writes() {
        let mut buckets = Vec::new();
        for (i, class) in StorageClass::ALL.into_iter().enumerate() {
            let mut b = bucket(&format!("bucket-{i}"), &[("k", "v")], i == 1, (i as u64, 1));
            b.storage_class = class;
            b.public = i % 2 == 0;
            buckets.push(b);
        }
        // Times outside the years 0 to 9999 take the general formatter.
        for seconds in [-62_167_219_201, 253_402_300_800, i64::MIN, i64::MAX] {
            let mut b = bucket("far-time", &[], true, (0, 0));
            b.created_at = Timestamp::from_unix_seconds(seconds);
            b.deleted_at = Some(Timestamp::from_unix_seconds(seconds));
            b.public = false;
            buckets.push(b);
        }
        assert_eq!(
            render_page(&buckets, &pagination(Some("next"))),
            Bytes::from(serde_body(&buckets, pagination(Some("next"))))
        );
        let (template, usage) = template(&buckets, &pagination(None));
        assert_eq!(
            template.render(&usage),
            Bytes::from(serde_body(&buckets, pagination(None)))
        );
    }

    #[test]
    fn new_usage_changes_only_the_usage() {
        let mut buckets = vec![
            bucket("first", &[], false, (1, 1)),
            bucket("second", &[], false, (2, 2)),
        ];
        let (template, _) = template(&buckets, &pagination(None));
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
