//! A live (simulated) session saved as a capture: reopening it gives the same per-sequence
//! summary as the live run, and tshark reads it without malformed or bad-checksum packets.

mod common;

use rmscope::analysis::{self, SequenceSummary};
use rmscope::capture::{self, export, writer::Format};
use rmscope::netsim::LinkConfig;
use rmscope::sim::{SimConfig, Simulation};
use rmscope::wsrm::RmVersion;
use std::process::Command;
use std::sync::atomic::AtomicBool;

fn session(version: RmVersion, loss: f64, seed: u64) -> Simulation {
    let mut c = SimConfig::default();
    c.settings.reliable_messaging_version = version;
    c.workload.messages = 120;
    c.seed = seed;
    c.forward = LinkConfig {
        loss,
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    let mut sim = Simulation::new(c).unwrap();
    sim.run();
    sim
}

/// The parts of a summary that do not depend on where time was measured.
fn key(s: &SequenceSummary) -> impl PartialEq + std::fmt::Debug {
    (
        s.id.clone(),
        s.version,
        s.soap,
        s.messages,
        s.transmissions,
        s.retransmissions,
        s.retransmitted_numbers.clone(),
        s.last_message_number,
        s.acks,
        s.final_ack_ranges.clone(),
        (s.closed, s.terminated, s.faults, s.max_in_flight),
    )
}

#[test]
fn reopened_capture_has_the_live_summary() {
    let dir = tempfile::tempdir().unwrap();
    for (version, loss, seed) in [
        (RmVersion::Feb2005, 0.05, 7),
        (RmVersion::V1_1, 0.1, 8),
        (RmVersion::Feb2005, 0.0, 9),
    ] {
        let sim = session(version, loss, seed);
        let live = analysis::analyze(sim.timeline(), &analysis::Options::default());
        assert!(live.sequences[0].retransmissions > 0 || loss == 0.0);
        for framing in [export::Framing::Http(sim.config().soap), export::Framing::NetTcp] {
            let path = save(&sim, framing, dir.path(), &format!("{seed}-{framing:?}.pcap"));
            let data = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
            assert!(data.findings.is_empty(), "{:?}", data.findings);
            if framing == export::Framing::NetTcp {
                assert_eq!(data.stats.nmf_connections, 1);
                assert_eq!(data.stats.nmf_envelopes as usize, sim.timeline().wires.len());
            }
            same_summary(&live, &data, &format!("{version:?} loss {loss} {framing:?}"));
        }
    }
}

fn same_summary(live: &analysis::Analysis, data: &capture::CaptureData, what: &str) {
    let captured = analysis::analyze(&data.timeline, &analysis::Options::default());
    let live_keys: Vec<_> = live.sequences.iter().map(key).collect();
    let cap_keys: Vec<_> = captured.sequences.iter().map(key).collect();
    assert_eq!(live_keys, cap_keys, "{what}");
    // The same findings, frame numbers aside — but for what only the engine knows: a send
    // that timed out in the wait queue never reached the wire.
    let texts = |a: &analysis::Analysis| {
        a.findings
            .iter()
            .filter(|f| !f.text.starts_with("Send timed out"))
            .map(|f| (f.severity, f.text.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(live), texts(&captured), "{what}");
}

/// Saves `sim` as a pcap in `dir`.
fn save(sim: &Simulation, framing: export::Framing, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    export::write_session(sim.timeline(), sim.payloads(), framing, file, Format::Pcap).unwrap();
    path
}

/// How many frames of `path` match the display `filter` (checksums verified; `decode_as`: extra
/// `-d` rules).
fn tshark_count(path: &std::path::Path, decode_as: &[&str], filter: &str) -> usize {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-n",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ]);
    for rule in decode_as {
        cmd.args(["-d", rule]);
    }
    let out = cmd
        .arg("-r")
        .arg(path)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark is installed (make test installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn tshark_reads_the_export_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sim = session(RmVersion::V1_1, 0.05, 3);
    let path = save(
        &sim,
        export::Framing::Http(sim.config().soap),
        dir.path(),
        "s.pcap",
    );
    let tshark = |filter: &str| tshark_count(&path, &[], filter);
    let bad = tshark(
        "_ws.malformed || ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || tcp.analysis.flags",
    );
    assert_eq!(
        bad, 0,
        "tshark found malformed, bad-checksum or TCP-problem frames"
    );
    let requests = tshark("http.request");
    let soap_wires = sim.timeline().wires.len();
    assert_eq!(requests, soap_wires, "one HTTP request per message on the wire");
    assert_eq!(tshark("http.response.code == 202"), soap_wires);
}

#[test]
fn tshark_reads_the_net_tcp_export_as_message_framing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = session(RmVersion::V1_1, 0.05, 3);
    let path = save(&sim, export::Framing::NetTcp, dir.path(), "nettcp.pcap");
    let tshark = |filter: &str| tshark_count(&path, &["tcp.port==808,mc-nmf"], filter);
    let bad = tshark(
        "_ws.malformed || _ws.expert.severity >= warning || ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || tcp.analysis.flags",
    );
    assert_eq!(bad, 0, "tshark found malformed or bad frames");
    // tshark's MC-NMF dissector: one preamble, one PreambleAck, a sized envelope per message.
    assert_eq!(
        tshark("mc-nmf.via contains \"net.tcp://\" && mc-nmf.known_encoding == 8"),
        1
    );
    assert_eq!(tshark("mc-nmf.record_type == 11"), 1);
    assert_eq!(tshark("mc-nmf.payload_length"), sim.timeline().wires.len());
}

/// Issue 17: a WCF-over-HTTP capture whose source opens a new TCP connection every few
/// messages (a new ephemeral port each time) and gets its acks on HTTP responses. Silence and
/// the Inactivity plot follow the RM role, not the first socket: they match the live run.
#[test]
fn a_source_on_many_connections_is_one_source() {
    let mut c = SimConfig::default();
    c.workload.messages = 60;
    c.workload.rate = Some(20.0);
    c.workload.rich_body = true;
    c.workload.body_size = 3000;
    c.seed = 3;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reconnects.pcap");
    let layout = export::HttpLayout {
        reconnect_every: 3,
        acks_on_responses: true,
        replies_on_responses: false,
    };
    let sim = common::simulated_http_pcap(c, layout, &path);
    let live = analysis::analyze(sim.timeline(), &analysis::Options::default());
    let data = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(data.findings.is_empty(), "{:?}", data.findings);
    assert!(data.stats.tcp_connections >= 20, "{}", data.stats.tcp_connections);
    assert_eq!(data.stats.http_connections, data.stats.tcp_connections);
    // Some acks rode on responses.
    let on_responses = data
        .timeline
        .wires
        .iter()
        .filter(|w| {
            w.kind == rmscope::trace::WireKind::Ack && w.flags.has(rmscope::trace::WireFlags::RESPONSE)
        })
        .count();
    assert!(on_responses > 0);
    let captured = analysis::analyze(&data.timeline, &analysis::Options::default());
    assert!(
        captured
            .findings
            .iter()
            .all(|f| f.severity != analysis::Severity::Error),
        "{:?}",
        captured.findings
    );
    let (ls, cs) = (
        live.sequences[0].longest_silence,
        captured.sequences[0].longest_silence,
    );
    assert!(
        ls > 0.02 && (cs - ls).abs() < 0.01,
        "live {ls} s, captured {cs} s"
    );
    // The plot's sawtooth: never above the longest silence.
    let d = rmscope::ui::model::Dataset::new(
        rmscope::ui::model::Origin::Capture(vec![path.clone()]),
        data.timeline,
        data.findings,
        Some(data.stats),
    );
    let seq = rmscope::ui::plots::data::default_sequence(&d);
    let p = rmscope::ui::plots::data::build(&d, seq, false);
    assert_eq!(p.inactivity.lines.len(), 2);
    assert!(
        p.inactivity.max_gap < ls + 0.2,
        "plot {} s, silence {ls} s",
        p.inactivity.max_gap
    );
}

/// Request-reply and duplex sessions saved as captures — request-reply with its replies on the
/// HTTP responses, duplex as POSTs both ways (composite duplex) and on one net.tcp connection —
/// reopen with the live per-sequence summary of both sequences and the same findings.
#[test]
fn sessions_with_a_return_sequence_reopen_with_both_sequences_summarised() {
    use rmscope::engine::Shape;
    let dir = tempfile::tempdir().unwrap();
    for (shape, version, seed) in [
        (Shape::RequestReply, RmVersion::Feb2005, 21),
        (Shape::Duplex, RmVersion::Feb2005, 22),
        (Shape::Duplex, RmVersion::V1_1, 23),
        (Shape::RequestReply, RmVersion::V1_1, 24),
    ] {
        let mut c = SimConfig {
            shape,
            seed,
            ..SimConfig::default()
        };
        c.settings.reliable_messaging_version = version;
        c.workload.messages = 60;
        c.workload.two_way = true;
        c.forward = LinkConfig {
            loss: 0.05,
            ..LinkConfig::default()
        };
        c.backward = c.forward.clone();
        let mut sim = Simulation::new(c).unwrap();
        let report = sim.run();
        assert_eq!(
            (report.delivered, report.replies),
            (60, 60),
            "{shape:?} {version:?}"
        );
        let live = analysis::analyze(sim.timeline(), &analysis::Options::default());
        assert_eq!(live.sequences.len(), 2, "{shape:?}: both sequences");
        let layout = export::HttpLayout {
            replies_on_responses: shape == Shape::RequestReply,
            ..Default::default()
        };
        for framing in [export::Framing::Http(sim.config().soap), export::Framing::NetTcp] {
            let path = dir.path().join(format!("{seed}-{framing:?}.pcap"));
            let file = std::fs::File::create(&path).unwrap();
            export::write_session_with(
                sim.timeline(),
                sim.payloads(),
                framing,
                layout,
                file,
                Format::Pcap,
            )
            .unwrap();
            let data = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
            assert!(
                data.findings.is_empty(),
                "{shape:?} {framing:?}: {:?}",
                data.findings
            );
            if framing != export::Framing::NetTcp && shape == Shape::RequestReply {
                // Every message of the service is the response to a request of the client.
                let t = &data.timeline;
                // (The export puts the service at 10.0.0.2; the client's connections have
                // ports of their own.)
                let service = t
                    .wires
                    .iter()
                    .filter(|w| t.endpoints[w.from as usize].starts_with("10.0.0.2:"));
                let posted: Vec<u32> = service
                    .filter(|w| !w.flags.has(rmscope::trace::WireFlags::RESPONSE))
                    .map(|w| w.frame)
                    .collect();
                assert!(
                    posted.is_empty(),
                    "{shape:?} {version:?}: POSTed by the service: frames {posted:?}"
                );
            }
            same_summary(&live, &data, &format!("{shape:?} {version:?} {framing:?}"));
        }
    }
}
