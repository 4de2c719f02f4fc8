//! Capturing on `lo` while the embedded pair runs over HTTP loopback: what the capture decodes
//! matches the pair's own counters. Needs the right to capture (CI runs as root); without it
//! the capture must fail with the message that says how to grant it.

use rmscope::analysis;
use rmscope::capture::live::{self, LiveCapture, Update};
use rmscope::sim::{Report, SimConfig, Transport};
use rmscope::trace::Timeline;
use std::time::Duration;

mod common;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn run_pair(messages: u64) -> (Timeline, Report) {
    let cfg = SimConfig {
        transport: Transport::Http { port: 0 },
        record: true,
        workload: rmscope::sim::Workload {
            messages,
            ..Default::default()
        },
        ..SimConfig::default()
    };
    let run = common::run_live(cfg);
    (run.timeline, run.report)
}

#[test]
fn capture_on_lo_matches_the_pairs_counters() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("lo.pcapng");
    let cap = LiveCapture::start(
        live::Options {
            interface: "lo".into(),
            filter: "tcp and host 127.0.0.1".into(),
            save: Some(saved.clone()),
        },
        || {},
    );
    let cap = match cap {
        Ok(c) => c,
        Err(e) if !is_root() => {
            assert!(e.contains("setcap cap_net_raw,cap_net_admin=eip"), "{e}");
            eprintln!("skipped: not root and no capture capability ({e})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let (pair, report) = run_pair(500);
    assert_eq!(report.delivered, 500);
    // Frames reach the capture within the ring's block timeout (50 ms).
    std::thread::sleep(Duration::from_millis(400));
    cap.stop();
    let mut frames_seen = false;
    let data = loop {
        match cap
            .updates
            .recv_timeout(Duration::from_secs(10))
            .expect("the capture stops")
        {
            Update::Frames { stats, .. } => frames_seen |= stats.frames > 0,
            Update::Stopped { data, error } => {
                assert_eq!(error, None);
                break data;
            }
        }
    };
    assert!(frames_seen, "frames were reported while capturing");
    let opts = analysis::Options::default();
    let captured = analysis::analyze(&data.timeline, &opts);
    let own = analysis::analyze(&pair, &opts);
    let id = &own.sequences[0].id;
    let s = captured
        .sequences
        .iter()
        .find(|s| &s.id == id)
        .expect("the pair's sequence is in the capture");
    assert_eq!(
        s.transmissions, report.transmissions,
        "sequence messages on the wire"
    );
    assert_eq!(s.retransmissions, report.retransmissions);
    assert_eq!(s.acks, report.acks, "acknowledgements");
    assert_eq!(s.last_message_number, own.sequences[0].last_message_number);
    assert_eq!(s.final_ack_ranges, own.sequences[0].final_ack_ranges);
    assert!(s.terminated);
    assert!(data.findings.is_empty(), "no gaps or drops: {:?}", data.findings);
    // The frames were also written, and read back the same.
    let reread = rmscope::capture::read_file(&saved, &mut |_| {}, &Default::default()).unwrap();
    assert_eq!(reread.stats.frames, data.stats.frames);
    assert_eq!(reread.timeline.wires.len(), data.timeline.wires.len());
}

#[test]
fn a_bad_interface_or_filter_is_a_clear_error() {
    let open = |interface: &str, filter: &str| {
        LiveCapture::start(
            live::Options {
                interface: interface.into(),
                filter: filter.into(),
                save: None,
            },
            || {},
        )
        .err()
        .expect("refused")
    };
    let e = open("no-such-interface0", "tcp");
    assert!(e.contains("no-such-interface0"), "{e}");
    if is_root() {
        let e = open("lo", "tcp and and");
        assert!(e.starts_with("BPF filter \"tcp and and\""), "{e}");
    }
}

/// wsHttpBinding's shape over real HTTP: every reply rides on the HTTP response of the request
/// it answers — a capture of the service's port alone holds both sequences whole, and every
/// service message in it is a response.
#[test]
fn request_reply_over_http_answers_each_request_on_its_response() {
    const PORT: u16 = 47391;
    let cap = LiveCapture::start(
        live::Options {
            interface: "lo".into(),
            filter: format!("tcp port {PORT}"),
            save: None,
        },
        || {},
    );
    let cap = match cap {
        Ok(c) => c,
        Err(e) if !is_root() => {
            eprintln!("skipped: not root and no capture capability ({e})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let mut cfg = SimConfig {
        transport: Transport::Http { port: PORT },
        record: true,
        shape: rmscope::engine::Shape::RequestReply,
        ..SimConfig::default()
    };
    cfg.workload.messages = 20;
    cfg.workload.two_way = true;
    // The operation takes 20 ms: the response waits for it.
    cfg.workload.service_time = Duration::from_millis(20);
    let run = common::run_live(cfg);
    let report = run.report;
    assert!(report.finished && report.faults.is_empty(), "{report:?}");
    assert_eq!((report.delivered, report.replies), (20, 20));
    std::thread::sleep(Duration::from_millis(400));
    cap.stop();
    let data = loop {
        match cap
            .updates
            .recv_timeout(Duration::from_secs(10))
            .expect("the capture stops")
        {
            Update::Frames { .. } => {}
            Update::Stopped { data, error } => {
                assert_eq!(error, None);
                break data;
            }
        }
    };
    let t = &data.timeline;
    let a = analysis::analyze(t, &analysis::Options::default());
    let requests = a
        .sequences
        .iter()
        .find(|s| s.return_sequence.is_some())
        .expect("the client's sequence");
    let replies = a
        .sequences
        .iter()
        .find(|s| s.offered_by.is_some())
        .expect("the reply sequence");
    assert_eq!(requests.transmissions, report.transmissions);
    assert_eq!(
        replies.transmissions, report.reply_transmissions,
        "every reply on the service's port"
    );
    let service = t
        .wires
        .iter()
        .filter(|w| w.seq == replies.index || (w.kind == rmscope::trace::WireKind::CreateSequenceResponse));
    assert!(
        service.clone().count() > 20
            && service
                .clone()
                .all(|w| w.flags.has(rmscope::trace::WireFlags::RESPONSE)),
        "replies are HTTP responses"
    );
}
