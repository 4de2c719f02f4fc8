//! Any bytes as a capture file through the whole pipeline (pcap / pcapng / gzip reader → TCP →
//! HTTP or net.tcp → SOAP → WS-RM → analysis): no panic, no hang, bounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::{analysis, capture};
use std::sync::atomic::AtomicBool;

fuzz_target!(|data: &[u8]| {
    // The reader maps a file: hand it one on tmpfs.
    let path = std::env::temp_dir().join(format!("rmscope-fuzz-{}.pcap", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    // Odd lengths decode on a worker thread too: both paths see every input shape.
    let workers = data.len() % 2;
    let read = capture::read_files_on(&[path.clone()], &mut |_| {}, &AtomicBool::new(false), false, workers);
    if let Ok(d) = read {
        let a = analysis::analyze(&d.timeline, &analysis::Options::default());
        assert!(a.sequences.len() <= d.timeline.sequences.len());
    }
});
