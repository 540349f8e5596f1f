//! `Range` headers: no input panics, and a resolved range lies within the object.
#![no_main]

use cloudnexus_core::ByteRange;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64)| {
    let (header, size) = input;
    if let Some(range) = ByteRange::parse(header)
        && let Some((first, last)) = range.resolve(size)
    {
        assert!(
            first <= last && last < size,
            "{header:?} on {size} bytes gave {first}-{last}"
        );
    }
});
