//! Bucket names and references, object keys, project names, ids, tag filters and maps, scope
//! lists and presented API keys: no input panics, and what parses keeps its text.
#![no_main]

use cloudnexus_core::scope::Scopes;
use cloudnexus_core::tags::{TagFilter, Tags};
use cloudnexus_core::{ApiKeyId, ApiKeySecret, BlobId, BucketId, BucketName, BucketRef, ObjectKey, ProjectName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(name) = BucketName::parse(text) {
        assert_eq!(name.as_str(), text);
        assert!((3..=63).contains(&text.len()), "{text:?}");
        assert!(!text.contains(".."), "{text:?}");
    }
    let _ = BucketRef::parse(text);
    if let Ok(key) = ObjectKey::parse(text) {
        assert_eq!(key.as_str(), text);
        assert!(
            !text.is_empty() && text.len() <= 1024 && !text.contains('\0'),
            "{text:?}"
        );
    }
    let _ = ProjectName::parse(text);
    let _ = BucketId::parse(text);
    let _ = ApiKeyId::parse(text);
    let _ = BlobId::parse(text);
    let _ = ApiKeySecret::parse(text);
    let _ = Scopes::parse_list(text);
    if let Ok(filter) = TagFilter::parse(text) {
        assert!(text.starts_with(filter.key.as_str()), "{text:?}");
    }
    // A tag map from `k=v&k=v` text.
    let pairs: Vec<(&str, &str)> = text.split('&').filter_map(|pair| pair.split_once('=')).collect();
    if let Ok(tags) = Tags::parse(pairs.iter().copied()) {
        assert!(tags.len() <= 50);
    }
});
