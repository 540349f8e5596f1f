//! Cursors are opaque, signed tokens from clients: any text is refused or decoded without a
//! panic, and only a cursor this key minted for this project and filter decodes.
#![no_main]

use cloudnexus_core::listing::{BucketFilter, CursorKey, Position};
use cloudnexus_core::{BucketId, ProjectId, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, i64)| {
    let (presented, seconds) = input;
    let key = CursorKey::from_bytes([7; 32]);
    let project = ProjectId::parse("prj_fuzzfuzz01").unwrap();
    let filter = BucketFilter::new(None, None, vec![], false);
    let _ = key.decode(presented, &project, &filter);

    let position = Position {
        created_at: Timestamp::from_unix_seconds(seconds),
        id: BucketId::parse("bkt_fuzzfuzz01").unwrap(),
    };
    let minted = key.encode(&project, &filter, &position);
    assert_eq!(key.decode(&minted, &project, &filter).unwrap(), position);
    let other = ProjectId::parse("prj_fuzzfuzz02").unwrap();
    assert!(
        key.decode(&minted, &other, &filter).is_err(),
        "a cursor of another project"
    );
    let deleted_too = BucketFilter::new(None, None, vec![], true);
    assert!(
        key.decode(&minted, &project, &deleted_too).is_err(),
        "a cursor of another filter"
    );
});
