//! The list endpoint's query string: any text is a valid listing or a 400, never a panic, and a
//! valid one keeps the contract's bounds.
#![no_main]

use cloudnexus_api::routes::buckets::list_query;
use cloudnexus_core::RegionSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &str| {
    let regions = RegionSet::default();
    if let Ok(params) = list_query::parse(Some(query), &regions) {
        assert!((1..=100).contains(&params.limit), "{query:?}");
        assert!(!(params.offset.is_some() && params.cursor.is_some()), "{query:?}");
    }
});
