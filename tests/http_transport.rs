//! The RM pair over real SOAP/HTTP on 127.0.0.1: everything arrives, in order, the link's
//! impairments still apply before the socket, and the session saved as a capture reopens with
//! the same per-sequence summary.

use rmscope::analysis::{self, SequenceSummary};
use rmscope::capture::{self, export, writer::Format};
use rmscope::netsim::DropRule;
use rmscope::sim::{SimConfig, Transport};
use rmscope::trace::WireKind;
use rmscope::wsrm::{RmVersion, SoapVersion};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

mod common;
use common::{LiveRun, run_live};

fn http_session(messages: u64, soap: SoapVersion, version: RmVersion, script: Vec<DropRule>) -> LiveRun {
    let mut cfg = SimConfig {
        transport: Transport::Http { port: 0 },
        record: true,
        soap,
        ..SimConfig::default()
    };
    cfg.settings.reliable_messaging_version = version;
    cfg.workload.messages = messages;
    cfg.workload.body_size = 1024;
    cfg.forward_script = script;
    // Real sockets have no simulated delay unless asked.
    cfg.forward.delay = Duration::ZERO;
    cfg.backward.delay = Duration::ZERO;
    run_live(cfg)
}

#[test]
fn every_message_arrives_once_and_in_order_over_http() {
    for (soap, version) in [
        (SoapVersion::V1_2, RmVersion::Feb2005),
        (SoapVersion::V1_1, RmVersion::V1_1),
    ] {
        let run = http_session(300, soap, version, Vec::new());
        let r = &run.report;
        assert!(r.finished, "{soap:?} {version:?}: {r:?}");
        assert_eq!(r.delivered, 300);
        assert_eq!((r.delivered_twice, r.out_of_order), (0, 0));
        // Requests of one direction travel on several connections but reach the engine in the
        // order they were sent: nothing looks lost, so nothing is sent twice.
        assert_eq!(r.retransmissions, 0, "{r:?}");
        assert_eq!(r.lost_on_link, 0);
        // Endpoints are named by their real socket addresses.
        assert!(run.timeline.endpoints.iter().all(|e| e.starts_with("127.0.0.1:")));
        let data = run
            .timeline
            .wires
            .iter()
            .filter(|w| w.kind == WireKind::Data)
            .count();
        assert_eq!(data, 300);
    }
}

#[test]
fn scripted_drops_apply_before_the_socket() {
    let run = http_session(
        40,
        SoapVersion::V1_2,
        RmVersion::Feb2005,
        vec![DropRule::Message {
            number: 5,
            attempt: 0,
        }],
    );
    let r = &run.report;
    assert!(r.finished);
    assert_eq!(r.delivered, 40);
    assert_eq!(r.lost_on_link, 1);
    assert_eq!(r.retransmissions, 1, "{r:?}");
    let resent: Vec<u64> = run
        .timeline
        .wires
        .iter()
        .filter(|w| w.kind == WireKind::Data && w.attempt() > 0)
        .map(|w| w.number)
        .collect();
    assert_eq!(resent, [5]);
}

fn key(s: &SequenceSummary) -> impl PartialEq + std::fmt::Debug {
    (
        s.id.clone(),
        s.version,
        s.soap,
        s.messages,
        s.transmissions,
        s.retransmissions,
        s.last_message_number,
        s.acks,
        s.final_ack_ranges.clone(),
        (s.closed, s.terminated, s.faults),
    )
}

#[test]
fn an_http_session_saved_as_pcap_reopens_with_the_same_summary() {
    let run = http_session(
        60,
        SoapVersion::V1_2,
        RmVersion::V1_1,
        vec![DropRule::Message {
            number: 9,
            attempt: 0,
        }],
    );
    let live = analysis::analyze(&run.timeline, &analysis::Options::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("http.pcap");
    let file = std::fs::File::create(&path).unwrap();
    export::write_session(
        &run.timeline,
        &run.payloads,
        export::Framing::Http(SoapVersion::V1_2),
        file,
        Format::Pcap,
    )
    .unwrap();
    let data = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(data.findings.is_empty(), "{:?}", data.findings);
    let captured = analysis::analyze(&data.timeline, &analysis::Options::default());
    assert_eq!(
        live.sequences.iter().map(key).collect::<Vec<_>>(),
        captured.sequences.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(live.sequences[0].retransmissions, 1);
    // The capture keeps the session's real addresses.
    assert!(
        data.timeline
            .endpoints
            .iter()
            .all(|e| e.starts_with("127.0.0.1:")),
        "{:?}",
        data.timeline.endpoints
    );
}

/// Issue 17: a saved HTTP session is in causal order — no ack ahead of the message it covers —
/// so the capture has no error the live run did not have, with and without loss, in both
/// framings.
#[test]
fn a_saved_http_session_is_causally_ordered_in_both_framings() {
    for (messages, loss) in [(200u64, 0.0), (300, 0.05)] {
        let mut cfg = SimConfig {
            transport: Transport::Http { port: 0 },
            record: true,
            seed: 17,
            ..SimConfig::default()
        };
        cfg.workload.messages = messages;
        cfg.workload.body_size = 512;
        cfg.forward.delay = Duration::ZERO;
        cfg.backward.delay = Duration::ZERO;
        cfg.forward.loss = loss;
        let run = run_live(cfg);
        let errors = |a: &analysis::Analysis| {
            a.findings
                .iter()
                .filter(|f| f.severity == analysis::Severity::Error)
                .map(|f| f.text.clone())
                .collect::<Vec<_>>()
        };
        let live = analysis::analyze(&run.timeline, &analysis::Options::default());
        let dir = tempfile::tempdir().unwrap();
        for framing in [export::Framing::Http(SoapVersion::V1_2), export::Framing::NetTcp] {
            let path = dir.path().join("saved.pcap");
            let file = std::fs::File::create(&path).unwrap();
            export::write_session(&run.timeline, &run.payloads, framing, file, Format::Pcap).unwrap();
            let data = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
            assert!(data.findings.is_empty(), "{framing:?}: {:?}", data.findings);
            let captured = analysis::analyze(&data.timeline, &analysis::Options::default());
            assert_eq!(
                errors(&captured),
                errors(&live),
                "{messages} messages, loss {loss}, {framing:?}"
            );
            // Every ack covers only what the capture already showed.
            let mut seen = std::collections::HashSet::new();
            for w in &data.timeline.wires {
                if w.kind.is_sequenced() {
                    seen.insert((w.seq, w.number));
                }
                if w.flags.has(rmscope::trace::WireFlags::HAS_ACK) {
                    for r in data.timeline.ack_ranges(&w) {
                        for n in r.lower.get()..=r.upper.get() {
                            assert!(
                                seen.contains(&(data.timeline.ack_seq(&w), n)),
                                "{framing:?}: ack of {n} before it"
                            );
                        }
                    }
                }
            }
        }
    }
}
