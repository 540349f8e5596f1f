//! The conditional headers of a read (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`): any values are read without a panic.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use cloudnexus_api::routes::objects::get::read_conditions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|values: (&[u8], &[u8], &[u8], &[u8])| {
    let mut headers = HeaderMap::new();
    let named = [
        (header::IF_MATCH, values.0),
        (header::IF_NONE_MATCH, values.1),
        (header::IF_MODIFIED_SINCE, values.2),
        (header::IF_UNMODIFIED_SINCE, values.3),
    ];
    for (name, value) in named {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    let conditions = read_conditions(&headers);
    // A date the header does not hold is never invented.
    if headers.get(header::IF_MODIFIED_SINCE).is_none() {
        assert!(conditions.if_modified_since.is_none());
    }
});
