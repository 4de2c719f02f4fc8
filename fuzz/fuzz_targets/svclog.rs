//! Any bytes as a WCF message log through the whole reader (records → envelopes → codec →
//! merge → timeline → analysis), and as a pasted record for `inspect`: no panic, no hang,
//! bounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::{analysis, svclog};
use std::sync::atomic::AtomicBool;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("rmscope-fuzz-{}.svclog", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    if let Ok(d) = svclog::read_files(&[path.clone()], &mut |_| {}, &AtomicBool::new(false)) {
        let a = analysis::analyze(&d.timeline, &analysis::Options::default());
        assert!(a.sequences.len() <= d.timeline.sequences.len());
        assert!(d.stats.records >= d.stats.transport_records + d.stats.service_records);
    }
    if let Some(Ok((_, range))) = svclog::envelope_of(data) {
        assert!(range.end <= data.len());
    }
    let _ = rmscope::wsrm::security::summarize(data);
});
