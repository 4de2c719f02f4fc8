//! Decoding on worker threads gives the timeline, findings and counts the single-thread path
//! gives — every sample capture, and generated ones with many connections, XML-rich bodies,
//! loss, acks on responses, net.tcp and a file cut short.

mod common;

use rmscope::capture::{self, CaptureData, export, writer::Format};
use rmscope::sim::{SimConfig, Simulation};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn read(path: &Path, workers: usize) -> CaptureData {
    capture::read_files_on(
        &[path.to_path_buf()],
        &mut |_| {},
        &AtomicBool::new(false),
        true,
        workers,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Everything a reader's result holds, as text (the timeline has no `PartialEq`).
fn dump(d: &CaptureData) -> [String; 4] {
    [
        serde_json::to_string(&d.timeline).unwrap(),
        format!("{:?}", d.findings),
        format!("{:?}", d.stats),
        format!("{:?}", d.fingerprints),
    ]
}

fn same_for_any_thread_count(path: &Path) -> CaptureData {
    let one = read(path, 0);
    let want = dump(&one);
    for workers in [1, 3] {
        let got = dump(&read(path, workers));
        for (what, (a, b)) in ["timeline", "findings", "stats", "fingerprints"]
            .iter()
            .zip(want.iter().zip(&got))
        {
            assert!(
                a == b,
                "{}: {what} differs with {workers} decoding threads",
                path.display()
            );
        }
    }
    one
}

fn wcf_style(seed: u64) -> SimConfig {
    let mut c = SimConfig::default();
    c.workload.messages = 1500;
    c.workload.rich_body = true;
    c.workload.body_size = 3000;
    c.forward.loss = 0.03;
    c.backward.loss = 0.03;
    c.seed = seed;
    c
}

#[test]
fn sample_captures_decode_the_same_on_workers() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("captures")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "sample captures: {paths:?}");
    for p in &paths {
        same_for_any_thread_count(p);
    }
}

#[test]
fn many_connections_with_loss_decode_the_same_on_workers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wcf-style.pcap");
    let layout = export::HttpLayout {
        reconnect_every: 7,
        acks_on_responses: true,
        replies_on_responses: false,
    };
    common::simulated_http_pcap(wcf_style(5), layout, &path);
    let d = same_for_any_thread_count(&path);
    // The batches really were decoded: far more messages than one batch, on many connections.
    assert!(d.stats.wsrm_messages > 1500, "{:?}", d.stats);
    assert!(d.stats.tcp_connections > 100, "{:?}", d.stats);
    assert!(
        d.timeline.wires.iter().any(|w| w.attempt() > 0),
        "no retransmission in the capture"
    );

    // The same file cut in the middle of a record: the error finding comes after what was read.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 5]).unwrap();
    let d = same_for_any_thread_count(&cut);
    assert!(d.stats.truncated);
}

#[test]
fn net_tcp_decodes_the_same_on_workers() {
    let mut sim = Simulation::new(wcf_style(6)).unwrap();
    sim.run();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nettcp.pcap");
    let file = std::fs::File::create(&path).unwrap();
    export::write_session(
        sim.timeline(),
        sim.payloads(),
        export::Framing::NetTcp,
        file,
        Format::Pcap,
    )
    .unwrap();
    let d = same_for_any_thread_count(&path);
    assert!(d.stats.nmf_envelopes > 1500, "{:?}", d.stats);
}
