//! JSON bodies of the API: any bytes parse into a request or are refused, never a panic.
#![no_main]

use cloudnexus_api::extract::parse_json;
use cloudnexus_api::routes::buckets::create::CreateBucketRequest;
use cloudnexus_api::routes::buckets::update::UpdateBucketRequest;
use cloudnexus_api::routes::tokens::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = parse_json::<CreateBucketRequest>(body);
    let _ = parse_json::<UpdateBucketRequest>(body);
    let _ = parse_json::<TokenRequest>(body);
});
