//! What the S3 listener reads from clients and from the database about credentials: access key
//! ids of any shape, and sealed secrets of any bytes, are refused or read without a panic.
#![no_main]

use cloudnexus_core::ApiKeyId;
use cloudnexus_core::s3_key::{AccessKeyId, MasterKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &[u8])| {
    let (presented, sealed) = input;
    if let Some(id) = AccessKeyId::key_id(presented) {
        assert_eq!(AccessKeyId::of(&id).as_str(), presented);
    }
    let master = MasterKey::from_bytes([3; 32]);
    let id = ApiKeyId::parse("key_fuzzfuzz01").unwrap();
    // Bytes not sealed by this key never open (AES-GCM authenticates them).
    assert!(master.unseal(&id, sealed).is_err());
});
