//! Any bytes through the WS-RM decoder, strict and lenient: no panic, no hang; whatever
//! decodes must re-encode and decode to the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::wsrm;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = wsrm::decode(data) {
        let again = wsrm::decode(&wsrm::encode(&env)).expect("re-encoded envelope decodes");
        assert_eq!(again, env);
    }
    let _ = wsrm::decode_with(data, &wsrm::Options::lenient());
});
