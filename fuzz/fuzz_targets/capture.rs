//! Any bytes as a capture file through the whole pipeline (libpcap → TCP → HTTP → SOAP →
//! WS-RM → analysis): no panic, no hang, bounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::{analysis, capture};
use std::sync::atomic::AtomicBool;

fuzz_target!(|data: &[u8]| {
    // libpcap reads files: hand it one on tmpfs.
    let path = std::env::temp_dir().join(format!("rmscope-fuzz-{}.pcap", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    if let Ok(d) = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)) {
        let a = analysis::analyze(&d.timeline, &analysis::Options::default());
        assert!(a.sequences.len() <= d.timeline.sequences.len());
    }
});
