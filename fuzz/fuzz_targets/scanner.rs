//! The header scanner against the full decoder: wherever the scanner takes an input, the full
//! decoder must take it too and build the same result (envelope, warnings, body span).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::wsrm;

fuzz_target!(|data: &[u8]| {
    let opts = wsrm::Options {
        keep_body: false,
        ..wsrm::Options::default()
    };
    // Twice: the second run meets the root tag the first one left in the per-thread cache.
    for _ in 0..2 {
        if let Some(fast) = wsrm::decode_scanned(data, &opts) {
            let full = wsrm::decode_unscanned(data, &opts).expect("the full decoder takes it too");
            assert_eq!(fast, full);
        }
    }
});
