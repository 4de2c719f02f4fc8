//! A second opinion on TCP reassembly and HTTP framing (issue 17): for every sample capture and
//! for generated WCF-style ones, the frames where rmscope sees an HTTP request or response are
//! the frames tshark shows as HTTP (`tshark -T fields -e frame.number -Y http`).

mod common;

use rmscope::capture::{self, export};
use rmscope::sim::SimConfig;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

fn tshark_http_frames(path: &Path) -> Option<BTreeSet<u32>> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-Y", "http", "-T", "fields", "-e", "frame.number"])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
    )
}

fn our_http_frames(path: &Path) -> BTreeSet<u32> {
    let d = capture::read_file(path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    if d.stats.http_messages == 0 {
        return BTreeSet::new();
    }
    // Every wire of an HTTP capture is one HTTP message, at the frame that completed it.
    d.timeline.wires.iter().map(|w| w.frame).collect()
}

fn generated(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (name, layout, loss) in [
        ("keep-alive.pcap", export::HttpLayout::default(), 0.05),
        (
            "wcf-style.pcap",
            export::HttpLayout {
                reconnect_every: 4,
                acks_on_responses: true,
                replies_on_responses: false,
            },
            0.03,
        ),
    ] {
        let mut c = SimConfig::default();
        c.workload.messages = 120;
        c.workload.rich_body = true;
        c.workload.body_size = 6000;
        c.forward.loss = loss;
        c.seed = 11;
        let path = dir.join(name);
        common::simulated_http_pcap(c, layout, &path);
        out.push(path);
    }
    out
}

#[test]
fn http_frames_match_tshark() {
    if Command::new("tshark").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "tshark is missing in CI");
        eprintln!("skipped: tshark is not installed (scripts/install-deps.sh test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let samples = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/captures"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"));
    let mut checked = 0;
    for path in samples.chain(generated(dir.path())) {
        let theirs = tshark_http_frames(&path).unwrap();
        let ours = our_http_frames(&path);
        assert_eq!(ours, theirs, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 9, "{checked} captures");
}
