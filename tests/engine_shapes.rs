//! The session shapes with a return sequence — request-reply (wsHttpBinding) and duplex
//! (netTcpBinding) — message by message at exact virtual times derived from WCF's code, and
//! compared with the real WCF logs in ../shared/fixtures/wcf-svclog.

mod common;

use rmscope::engine::Shape;
use rmscope::netsim::{DropRule, LinkConfig};
use rmscope::sim::{Report, SimConfig, Simulation};
use rmscope::svclog;
use rmscope::trace::*;
use rmscope::wsrm::{self, Body};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// `calls` two-way calls over a 10 ms link each way, 2005/02 defaults.
fn config(shape: Shape, calls: u64, service_ms: u64) -> SimConfig {
    let mut c = SimConfig {
        shape,
        through_codec: true,
        ..SimConfig::default()
    };
    c.workload.messages = calls;
    c.workload.two_way = true;
    c.workload.service_time = Duration::from_millis(service_ms);
    c.forward = LinkConfig {
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    c
}

struct Run {
    report: Report,
    timeline: Timeline,
    envelopes: Vec<wsrm::Envelope>,
}

fn run(c: SimConfig) -> Run {
    let mut sim = Simulation::new(c).expect("valid config");
    let report = sim.run();
    let envelopes = sim
        .payloads()
        .iter()
        .map(|b| wsrm::decode(b).expect("the engine's envelopes decode"))
        .collect();
    Run {
        report,
        timeline: sim.take_timeline(),
        envelopes,
    }
}

/// One line per WS-RM message: what it is and the RM headers riding on it, sequences named
/// S1 (the client's: the first to carry a message) and S2 (the other).
fn pattern(t: &Timeline) -> Vec<String> {
    let mut named: Vec<SeqIdx> = Vec::new();
    for w in &t.wires {
        if w.kind.is_sequenced() && !named.contains(&w.seq) {
            named.push(w.seq);
        }
    }
    let name = |s: SeqIdx| match named.iter().position(|x| *x == s) {
        Some(i) => format!("S{}", i + 1),
        None => "S?".into(),
    };
    let mut out = Vec::new();
    for w in &t.wires {
        let mut line = match w.kind {
            WireKind::Security | WireKind::OtherSoap | WireKind::Http => continue,
            WireKind::Data | WireKind::LastMessage => {
                format!("{} {}#{}", w.kind.label(), name(w.seq), w.number)
            }
            WireKind::TerminateSequence | WireKind::CloseSequence => {
                format!("{} {}", w.kind.label(), name(w.seq))
            }
            k => k.label().to_string(),
        };
        if w.flags.has(WireFlags::ACK_REQUESTED) {
            line.push_str(" AckRequested");
        }
        if w.flags.has(WireFlags::HAS_ACK) {
            let ranges: Vec<String> = t
                .ack_ranges(&w)
                .iter()
                .map(|r| format!("{}-{}", r.lower.get(), r.upper.get()))
                .collect();
            line.push_str(&format!(" ack {} {}", name(t.ack_seq(&w)), ranges.join(",")));
            if let Some(br) = t.buffer_remaining(&w) {
                line.push_str(&format!(" BR{br}"));
            }
            if w.flags.has(WireFlags::FINAL) {
                line.push_str(" Final");
            }
        }
        out.push(line);
    }
    out
}

/// (ms, pattern line) of every wire, for exact-time assertions.
fn timed(t: &Timeline) -> Vec<(f64, String)> {
    let lines = pattern(t);
    let rm: Vec<Wire> = t
        .wires
        .iter()
        .filter(|w| !matches!(w.kind, WireKind::Security | WireKind::OtherSoap | WireKind::Http))
        .collect();
    rm.iter()
        .zip(lines)
        .map(|(w, l)| (w.time.as_nanos() as f64 / 1e6, l))
        .collect()
}

fn assert_timed(actual: &[(f64, String)], expected: &[(f64, &str)]) {
    let a: Vec<(f64, &str)> = actual.iter().map(|(t, l)| (*t, l.as_str())).collect();
    assert_eq!(a.len(), expected.len(), "{a:#?}");
    for (got, want) in a.iter().zip(expected) {
        assert!(
            (got.0 - want.0).abs() < 1e-6 && got.1 == want.1,
            "got {got:?}, WCF: {want:?}\nall: {a:#?}"
        );
    }
}

#[test]
fn request_reply_offers_replies_carry_the_ack_and_close_is_last_message_then_terminate_both() {
    let r = run(config(Shape::RequestReply, 3, 5));
    // CS at 0 → CSR at 10 → client at 20. Each request: 10 ms there, 5 ms of service time, the
    // reply 10 ms back (ReliableReplySessionChannel: the reply carries the ack of requests, no
    // AckRequested; ReliableRequestSessionChannel: requests carry no AckRequested and, once a
    // reply arrived, the ack of replies without BufferRemaining). Close (2005/02): the
    // LastMessage request is held and answered by the reply sequence's LastMessage at close;
    // TerminateSequence is answered by the reply sequence's TerminateSequence
    // (ProcessTerminateSequenceFeb2005).
    assert_timed(
        &timed(&r.timeline),
        &[
            (0.0, "CreateSequence"),
            (10.0, "CreateSequenceResponse"),
            (20.0, "Message S1#1"),
            (35.0, "Message S2#1 ack S1 1-1 BR8"),
            (45.0, "Message S1#2 ack S2 1-1"),
            (60.0, "Message S2#2 ack S1 1-2 BR8"),
            (70.0, "Message S1#3 ack S2 1-2"),
            (85.0, "Message S2#3 ack S1 1-3 BR8"),
            (95.0, "LastMessage S1#4 ack S2 1-3"),
            (105.0, "LastMessage S2#4 ack S1 1-4 BR8"),
            (115.0, "TerminateSequence S1 ack S2 1-4"),
            (125.0, "TerminateSequence S2 ack S1 1-4 BR8"),
        ],
    );
    // The offer and its acceptance; every reply names its request.
    let Body::CreateSequence(cs) = &r.envelopes[0].body else {
        panic!("first is CreateSequence")
    };
    let offered = cs.offer.as_ref().expect("an Offer").identifier.clone();
    let Body::CreateSequenceResponse(csr) = &r.envelopes[1].body else {
        panic!("second is the response")
    };
    assert!(csr.accept.is_some(), "the response accepts the offer");
    for pair in r.envelopes[2..8].chunks(2) {
        let (request, reply) = (&pair[0], &pair[1]);
        assert_eq!(reply.sequence.as_ref().unwrap().identifier, offered);
        assert_eq!(
            reply.addressing.relates_to.as_ref().map(|x| &x.message_id),
            request.addressing.message_id.as_ref()
        );
    }
    assert_eq!((r.report.delivered, r.report.replies), (3, 3));
    assert_eq!((r.report.delivered_twice, r.report.replies_twice), (0, 0));
    // The client's RTT samples include the service time: request #1 left at 20 ms, its reply
    // came at 45 ms (TransmissionStrategy.UpdateStats from the last attempt to the reply).
    let first_sample = r.timeline.events.iter().filter_map(|e| match e.kind {
        EventKind::Rtt { sample_us, .. } if e.side == Side::Source => Some(sample_us),
        _ => None,
    });
    assert_eq!(first_sample.take(2).collect::<Vec<_>>(), [20_000, 25_000]);
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
}

#[test]
fn request_reply_a_resent_request_gets_the_kept_reply_and_a_lost_reply_is_fetched_by_the_resend() {
    // Reply #1 lost: the client resends request #1 at its RTO (the service never sends on its
    // own); the service answers with the kept reply, same reply number, fresh acks.
    let mut c = config(Shape::RequestReply, 2, 0);
    c.backward_script = vec![DropRule::Message {
        number: 1,
        attempt: 0,
    }];
    let r = run(c);
    let t = timed(&r.timeline);
    let replies: Vec<&(f64, String)> = t.iter().filter(|(_, l)| l.starts_with("Message S2#1")).collect();
    assert_eq!(replies.len(), 2, "{t:#?}");
    // RTO₀ = max(400 ms + R, 3R) with R = 20 ms: 420 ms after the send at 20 ms.
    let resend = t
        .iter()
        .filter(|(_, l)| l.starts_with("Message S1#1"))
        .nth(1)
        .unwrap();
    assert!((resend.0 - 440.0).abs() < 1e-6, "{resend:?}");
    assert!((replies[1].0 - 450.0).abs() < 1e-6, "{:?}", replies[1]);
    assert_eq!((r.report.replies, r.report.replies_twice), (2, 0));
    assert_eq!(r.report.reply_retransmissions, 1);
    assert!(r.report.finished && r.report.faults.is_empty());
}

#[test]
fn duplex_acks_ride_on_the_other_sequence_and_both_sequences_close_in_wcfs_order() {
    let r = run(config(Shape::Duplex, 3, 0));
    // Request #1 fills the client's first window of 1: AckRequested. The service's operation
    // runs inside the dispatch, so its reply #1 (the first of its own window: AckRequested)
    // takes the pending ack and the immediate one is not sent (ProcessDuplexMessage:
    // oldAckVersion ≠ ackVersion). The client acks reply #1's AckRequested at once, before its
    // next call; later acks ride on the next message. Close: LastMessage S1, the service's
    // standalone ack (last known), its LastMessage S2, TerminateSequence S1, the client's ack
    // of S2, TerminateSequence S2.
    assert_timed(
        &timed(&r.timeline),
        &[
            (0.0, "CreateSequence"),
            (10.0, "CreateSequenceResponse"),
            (20.0, "Message S1#1 AckRequested"),
            (30.0, "Message S2#1 AckRequested ack S1 1-1 BR8"),
            (40.0, "Ack ack S2 1-1 BR8"),
            (40.0, "Message S1#2"),
            (50.0, "Message S2#2 ack S1 1-2 BR8"),
            (60.0, "Message S1#3 ack S2 1-2 BR8"),
            (70.0, "Message S2#3 ack S1 1-3 BR8"),
            (80.0, "LastMessage S1#4 ack S2 1-3 BR8"),
            (90.0, "Ack ack S1 1-4 BR8"),
            (90.0, "LastMessage S2#4"),
            (100.0, "TerminateSequence S1"),
            (100.0, "Ack ack S2 1-4 BR8"),
            (110.0, "TerminateSequence S2"),
        ],
    );
    assert_eq!((r.report.delivered, r.report.replies), (3, 3));
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
    // The client's Close returned once the service's TerminateSequence arrived.
    assert!(
        (r.report.completion_time - 0.120).abs() < 1e-9,
        "{}",
        r.report.completion_time
    );
}

#[test]
fn duplex_a_resent_request_is_answered_by_a_standalone_ack_and_the_service_resends_its_own() {
    // Reply #1 lost. The client resends request #1 at 440 ms (RTO₀ 420 ms); the service holds
    // it already: a duplicate, answered at once by a standalone ack — the reply is not resent
    // for it. The service's own sequence retransmits reply #1 at its first RTO, 6 s after it
    // left: it never measured a round trip, so RTT₀ = 2 s (UnknownInitiationTime) and
    // RTO₀ = max(400 ms + 2 s, 3 × 2 s).
    let mut c = config(Shape::Duplex, 1, 0);
    c.backward_script = vec![DropRule::Message {
        number: 1,
        attempt: 0,
    }];
    let r = run(c);
    let t = timed(&r.timeline);
    let at = |line: &str| -> Vec<f64> { t.iter().filter(|(_, l)| l == line).map(|(ms, _)| *ms).collect() };
    assert_eq!(at("Message S1#1 AckRequested"), [20.0, 440.0], "{t:#?}");
    assert_eq!(at("Ack ack S1 1-1 BR8"), [450.0], "{t:#?}");
    let replies: Vec<f64> = t
        .iter()
        .filter(|(_, l)| l.starts_with("Message S2#1"))
        .map(|(ms, _)| *ms)
        .collect();
    assert_eq!(replies, [30.0, 6030.0], "{t:#?}");
    assert_eq!((r.report.replies, r.report.reply_retransmissions), (1, 1));
    assert!(r.report.finished && r.report.faults.is_empty());
}

#[test]
fn a_listener_of_a_shape_with_a_return_sequence_refuses_a_create_sequence_without_offer() {
    use rmscope::engine::{Dialect, Listener, Settings};
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: wsrm::RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let mut l = Listener::new(Settings::default(), d.clone(), "http://svc".into(), 1)
        .unwrap()
        .with_shape(Shape::Duplex);
    let cs = d.create_sequence(&"http://svc".into(), "urn:uuid:m".into(), &"http://client".into());
    l.handle_incoming(Time::ZERO, cs);
    let f = l.poll_transmit(Time::ZERO).expect("a fault");
    let Body::Fault(f) = &f.body else { panic!("{f:?}") };
    assert_eq!(f.rm_fault, Some(wsrm::RmFault::CreateSequenceRefused));
    assert!(l.sessions().is_empty());
}

#[test]
fn two_way_calls_need_a_shape_with_a_return_sequence() {
    let mut c = config(Shape::OneWayOverDuplex, 1, 0);
    c.workload.two_way = true;
    let e = Simulation::new(c).err().expect("refused");
    assert!(e.contains("two-way calls need"), "{e}");
}

/// The real logs' RM pattern, security exchanges left out.
fn logged_pattern(file: &str) -> Option<(Vec<String>, Timeline)> {
    let dir = common::shared("wcf-svclog")?;
    let d = svclog::read_files(&[dir.join(file)], &mut |_| {}, &AtomicBool::new(false)).unwrap();
    Some((pattern(&d.timeline), d.timeline))
}

#[test]
fn a_simulated_duplex_session_matches_the_real_wcf_net_tcp_log_message_by_message() {
    let Some((mut logged, t)) = logged_pattern("wcf-svclog-nettcp-rm10-secureconv-messages.svclog") else {
        return;
    };
    // The log's one retransmission: request #1 again (the client was late taking reply #1),
    // answered by a standalone ack, not by the reply. Taken out here, checked as it is.
    let resend = t
        .wires
        .iter()
        .filter(|w| !matches!(w.kind, WireKind::Security))
        .position(|w| w.attempt() == 1)
        .expect("the log holds a resend");
    let taken: Vec<String> = logged.drain(resend..resend + 2).collect();
    assert_eq!(taken, ["Message S1#1 AckRequested", "Ack ack S1 1-1 BR8"]);
    // netTcpBinding's session: SOAP 1.2, WS-Addressing 1.0, WS-RM 2005/02, three calls.
    let simulated = pattern(&run(config(Shape::Duplex, 3, 0)).timeline);
    assert_eq!(simulated, logged);
}

#[test]
fn a_simulated_request_reply_session_matches_the_real_wcf_ws_http_log() {
    let Some((logged, t)) = logged_pattern("wcf-svclog-wshttp-rm10-msgsec-messages.svclog") else {
        return;
    };
    // The reply was never acknowledged before the log ends: a note, on the reply sequence.
    let f = rmscope::analysis::analyze(&t, &rmscope::analysis::Options::default()).findings;
    assert!(
        f.iter().any(|f| f.text
            == "message 1 of return sequence urn:uuid:2c598273-38c7-4de7-a09a-2c36cf7d0559 never acknowledged by the end"),
        "{f:#?}"
    );
    // The log holds the handshake and the first call, then stops.
    assert_eq!(
        logged,
        [
            "CreateSequence",
            "CreateSequenceResponse",
            "Message S1#1",
            "Message S2#1 ack S1 1-1 BR8"
        ]
    );
    let simulated = pattern(&run(config(Shape::RequestReply, 1, 0)).timeline);
    assert_eq!(simulated[..4], logged[..]);
}

/// Both directions lossy, duplicating and reordering: every call gets exactly one reply
/// delivered, every request is delivered once and in order, and the run ends in bounded time —
/// or faults for a reason the settings explain (maxRetryCount, the open and close timeouts).
#[test]
fn under_loss_duplication_and_reordering_every_call_gets_exactly_one_reply() {
    let link = LinkConfig {
        loss: 0.08,
        duplicate: 0.05,
        reorder: 0.1,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        ..LinkConfig::default()
    };
    let mut runs = 0;
    for shape in [Shape::RequestReply, Shape::Duplex] {
        for version in [wsrm::RmVersion::Feb2005, wsrm::RmVersion::V1_1] {
            for seed in 1..=12 {
                let mut c = config(shape, 40, 3);
                c.through_codec = false;
                c.seed = seed;
                c.settings.reliable_messaging_version = version;
                c.forward = link.clone();
                c.backward = link.clone();
                c.time_limit = Duration::from_secs(3600);
                // Several sessions against one listener on every other seed.
                let sessions = if seed % 2 == 0 { 3 } else { 1 };
                c.workload.sessions = sessions;
                let mut sim = Simulation::new(c).unwrap();
                let r = sim.run();
                let what = format!("{shape:?} {version:?} seed {seed}: {r:?}");
                assert_eq!(
                    (r.delivered_twice, r.replies_twice, r.out_of_order),
                    (0, 0, 0),
                    "{what}"
                );
                // Over request-reply a lost CreateSequence or close request is one HTTP request
                // that waits out its timeout (RequestReliableRequestor).
                let by_settings = |c: FaultCause| {
                    matches!(
                        c,
                        FaultCause::MaxRetryCountExceeded
                            | FaultCause::OpenTimeout
                            | FaultCause::CloseTimeout
                    )
                };
                // The service's side of such a fault: the client's SequenceTerminated arriving.
                let explained = r.faults.iter().all(|f| {
                    by_settings(f.cause)
                        || f.side == Side::Destination
                            && f.cause == FaultCause::Remote
                            && r.faults
                                .iter()
                                .any(|g| g.side == Side::Source && by_settings(g.cause))
                });
                if r.faults.is_empty() {
                    assert!(r.finished, "{what}");
                    assert_eq!(
                        (r.delivered, r.replies),
                        (40 * sessions as u64, 40 * sessions as u64),
                        "{what}"
                    );
                    assert!(r.completion_time < 300.0, "{what}");
                    runs += 1;
                } else {
                    assert!(explained, "{what}");
                }
            }
        }
    }
    assert!(runs >= 40, "most runs complete: {runs} of 48");
}

#[test]
fn duplex_an_operation_slower_than_the_acknowledgement_interval_leaves_its_request_acked_alone() {
    // 300 ms of service time > acknowledgementInterval (200 ms): request #2's ack goes alone
    // when the timer fires, and the reply that follows has nothing pending to carry. Request
    // #1 asked for an ack: the dispatch returns at once (the operation runs on), so that ack
    // goes alone too, before the reply.
    let r = run(config(Shape::Duplex, 2, 300));
    assert_timed(
        &timed(&r.timeline),
        &[
            (0.0, "CreateSequence"),
            (10.0, "CreateSequenceResponse"),
            (20.0, "Message S1#1 AckRequested"),
            (30.0, "Ack ack S1 1-1 BR8"),
            (330.0, "Message S2#1 AckRequested"),
            (340.0, "Ack ack S2 1-1 BR8"),
            (340.0, "Message S1#2"),
            (550.0, "Ack ack S1 1-2 BR8"),
            (650.0, "Message S2#2"),
            (660.0, "LastMessage S1#3 ack S2 1-2 BR8"),
            (670.0, "Ack ack S1 1-3 BR8"),
            (670.0, "LastMessage S2#3"),
            (680.0, "TerminateSequence S1"),
            (680.0, "Ack ack S2 1-3 BR8"),
            (690.0, "TerminateSequence S2"),
        ],
    );
}

#[test]
fn the_timeline_links_a_session_s_two_sequences_and_pairs_each_reply_with_its_request() {
    use rmscope::analysis::{self, Severity};
    for shape in [Shape::RequestReply, Shape::Duplex] {
        let r = run(config(shape, 3, 0));
        let t = &r.timeline;
        let client = t.wires.iter().find(|w| w.kind == WireKind::Data).unwrap().seq;
        let info = t.seq_info(client).unwrap();
        let ret = info.return_sequence.expect("linked");
        assert_eq!(t.seq_info(ret).unwrap().offered_by, Some(client), "{shape:?}");
        // Reply #n answers request #n here (one call at a time); over request-reply the
        // LastMessage request is answered too, by the reply sequence's LastMessage.
        let pairs: Vec<(u64, u64)> = t
            .replies
            .iter()
            .map(|&(rp, rq)| (t.wires.at(rp as usize).number, t.wires.at(rq as usize).number))
            .collect();
        let expected: &[(u64, u64)] = match shape {
            Shape::RequestReply => &[(1, 1), (2, 2), (3, 3), (4, 4)],
            _ => &[(1, 1), (2, 2), (3, 3)],
        };
        assert_eq!(pairs, expected, "{shape:?}");
        let a = analysis::analyze(t, &analysis::Options::default());
        let s1 = a.sequences.iter().find(|s| s.index == client).unwrap();
        let s2 = a.sequences.iter().find(|s| s.index == ret).unwrap();
        assert_eq!(s1.return_sequence.as_deref(), Some(s2.id.as_str()));
        assert_eq!(s2.offered_by.as_deref(), Some(s1.id.as_str()));
        assert_eq!(s2.replies, expected.len() as u64);
        assert!(
            a.findings.iter().all(|f| f.severity != Severity::Error),
            "{:?}",
            a.findings
        );
        assert!(
            a.findings
                .iter()
                .any(|f| f.text.contains("offered in") && f.text.contains("accepted"))
        );
        // The JSON names the link.
        let json = serde_json::to_value(s1).unwrap();
        assert_eq!(json["return_sequence"], s2.id.as_str(), "{shape:?}");
        let json = serde_json::to_value(s2).unwrap();
        assert_eq!(json["offered_by"], s1.id.as_str(), "{shape:?}");
    }
}

#[test]
fn a_refused_offer_and_a_request_answered_twice_are_findings() {
    use rmscope::analysis::{self, Severity};
    use rmscope::engine::Dialect;
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: wsrm::RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let (svc, cli): (wsrm::Text, wsrm::Text) = ("http://svc".into(), "http://client".into());
    let meta = WireMeta::default();
    // Refused: the response has no Accept.
    let mut t = Timeline::new();
    let (a, b) = (t.endpoint("client"), t.endpoint("service"));
    let mut cs = d.create_sequence(&svc, "urn:uuid:cs".into(), &cli);
    d.offer(&mut cs, "urn:uuid:s2".into(), &cli, true);
    t.add_wire(Time::ZERO, a, b, &cs, meta);
    let csr = d.create_sequence_response(&cli, Some("urn:uuid:cs".into()), &"urn:uuid:s1".into(), true);
    t.add_wire(Time::from_secs_f64(0.01), b, a, &csr, meta);
    let f = analysis::analyze(&t, &analysis::Options::default()).findings;
    assert!(
        f.iter()
            .any(|f| f.severity == Severity::Warn && f.text.contains("did not accept it")),
        "{f:?}"
    );
    // Accepted, then request #1 answered by replies #1 and #2.
    let mut t = Timeline::new();
    let (a, b) = (t.endpoint("client"), t.endpoint("service"));
    t.add_wire(Time::ZERO, a, b, &cs, meta);
    let mut csr = csr.clone();
    d.accept(&mut csr, &svc);
    t.add_wire(Time::from_secs_f64(0.01), b, a, &csr, meta);
    let body = || {
        wsrm::AppBody::new(
            wsrm::ExpandedName {
                namespace: None,
                local: "X".into(),
            },
            bytes::Bytes::from_static(b"<X/>"),
            Vec::new(),
        )
    };
    let mut request = d.data(&svc, &"urn:op".into(), &"urn:uuid:s1".into(), 1, false, body());
    request.addressing.message_id = Some("urn:uuid:r1".into());
    t.add_wire(Time::from_secs_f64(0.02), a, b, &request, meta);
    for n in [1, 2] {
        let mut reply = d.data(&cli, &"urn:op/r".into(), &"urn:uuid:s2".into(), n, false, body());
        reply.addressing.relates_to = Some(wsrm::RelatesTo {
            message_id: "urn:uuid:r1".into(),
            relationship: None,
        });
        t.add_wire(Time::from_secs_f64(0.03 * n as f64), b, a, &reply, meta);
    }
    let f = analysis::analyze(&t, &analysis::Options::default()).findings;
    assert!(
        f.iter().any(|f| f.severity == Severity::Error
            && f.text
                .contains("request #1 of urn:uuid:s1 answered twice: replies #1 and #2")),
        "{f:?}"
    );
}

#[test]
fn the_real_net_tcp_log_is_one_session_of_two_linked_sequences() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let path = dir.join("wcf-svclog-nettcp-rm10-secureconv-messages.svclog");
    let d = svclog::read_files(&[path], &mut |_| {}, &AtomicBool::new(false)).unwrap();
    let t = &d.timeline;
    let s1 = t
        .find_sequence("urn:uuid:3e4ef03d-2df2-48cd-8cb7-735260c182b8")
        .unwrap();
    let s2 = t
        .find_sequence("urn:uuid:94a80094-caf5-481a-8a13-b985c718ae4b")
        .unwrap();
    assert_eq!(t.seq_info(s1).unwrap().return_sequence, Some(s2));
    assert_eq!(t.seq_info(s2).unwrap().offered_by, Some(s1));
    // Three replies, each naming its request; the resent request #1 is the same request.
    let pairs: Vec<(u64, u64)> = t
        .replies
        .iter()
        .map(|&(rp, rq)| (t.wires.at(rp as usize).number, t.wires.at(rq as usize).number))
        .collect();
    assert_eq!(pairs, [(1, 1), (2, 2), (3, 3)]);
}

#[test]
fn duplex_callbacks_ride_the_return_sequence_and_the_client_closes_once_it_has_them() {
    // One call, then five callbacks from the service at 10 per second; the client waits for
    // them before it closes. The callbacks carry no RelatesTo: "callback" in the views.
    let mut c = config(Shape::Duplex, 1, 0);
    c.workload.callbacks = 5;
    c.workload.callback_rate = Some(10.0);
    let r = run(c);
    assert_eq!((r.report.replies, r.report.callbacks), (1, 5), "{:?}", r.report);
    assert!(r.report.finished && r.report.faults.is_empty());
    let t = &r.timeline;
    let ret = t.sequences.iter().position(|s| s.offered_by.is_some()).unwrap();
    let sent: Vec<u64> = t
        .wires
        .iter()
        .filter(|w| w.seq.index() == Some(ret) && w.kind == WireKind::Data)
        .map(|w| w.number)
        .collect();
    assert_eq!(sent, [1, 2, 3, 4, 5, 6], "the reply, then five callbacks");
    assert_eq!(t.replies.len(), 1, "only the reply names a request");
    // Callbacks begin once the call reached the service (its callback channel). The first
    // waits for the service's window of 1 to open (the ack of the reply, at 50 ms); then one
    // every 100 ms from the first attempt at 30 ms.
    let times: Vec<f64> = t
        .wires
        .iter()
        .filter(|w| w.seq.index() == Some(ret) && w.kind == WireKind::Data && w.number >= 2)
        .map(|w| w.time.as_secs_f64())
        .collect();
    let expected = [0.05, 0.13, 0.23, 0.33, 0.43];
    assert!(
        times.iter().zip(expected).all(|(t, e)| (t - e).abs() < 1e-9),
        "{times:?}"
    );
    let e = Simulation::new({
        let mut c = config(Shape::RequestReply, 1, 0);
        c.workload.callbacks = 1;
        c
    })
    .err()
    .unwrap();
    assert!(e.contains("callbacks need the duplex shape"), "{e}");
}

#[test]
fn ws_rm_1_1_request_reply_closes_and_terminates_the_client_sequence_with_final_acks_of_both() {
    // ws2007HttpBinding: after the last reply CloseSequence, then TerminateSequence, each
    // carrying the client's Final ack of the replies and answered (once) by its response with
    // the Final ack of the requests; the reply sequence is never closed or terminated of its
    // own (ReliableRequestSessionChannel.OnClose, ReliableReplySessionChannel.ProcessShutdown11).
    let mut c = config(Shape::RequestReply, 2, 5);
    c.settings.reliable_messaging_version = wsrm::RmVersion::V1_1;
    let r = run(c);
    assert_timed(
        &timed(&r.timeline),
        &[
            (0.0, "CreateSequence"),
            (10.0, "CreateSequenceResponse"),
            (20.0, "Message S1#1"),
            (35.0, "Message S2#1 ack S1 1-1 BR8"),
            (45.0, "Message S1#2 ack S2 1-1"),
            (60.0, "Message S2#2 ack S1 1-2 BR8"),
            (70.0, "CloseSequence S1 ack S2 1-2 Final"),
            (80.0, "CloseSequenceResponse ack S1 1-2 BR8 Final"),
            (90.0, "TerminateSequence S1 ack S2 1-2 Final"),
            (100.0, "TerminateSequenceResponse ack S1 1-2 BR8 Final"),
        ],
    );
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
}

#[test]
fn duplex_a_lost_terminate_of_the_return_sequence_ends_the_client_s_close_at_its_timeout() {
    // The service's TerminateSequence is one-way and sent once. The client's Close waits for it
    // until the rest of closeTimeout (1 min from the LastMessage at 80 ms); the return sequence
    // is complete (the service's LastMessage arrived), so Close returns without a fault — over
    // net.tcp the connection's end would have told it sooner.
    let mut c = config(Shape::Duplex, 3, 0);
    c.backward_script = vec![DropRule::NextOfKind {
        kind: WireKind::TerminateSequence,
        count: 1,
    }];
    let r = run(c);
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
    assert!(
        (r.report.completion_time - 60.080).abs() < 1e-9,
        "{}",
        r.report.completion_time
    );
}

#[test]
fn request_reply_with_many_requests_in_flight_counts_each_only_by_its_own_reply() {
    // One-way calls over request-reply: up to 8 requests in flight, each answered by an ack
    // naming it. The first answer (request 1's) is lost: request 1 is resent at its timeout
    // while later requests were answered — marked transferred, not a contradiction of the
    // window (ProcessTransferred(Int64)); the resend's answer slides the window over them all.
    let mut c = config(Shape::RequestReply, 40, 0);
    c.workload.two_way = false;
    c.backward_script = vec![DropRule::NextOfKind {
        kind: WireKind::Ack,
        count: 1,
    }];
    let r = run(c);
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
    assert_eq!(r.report.delivered, 40);
    assert_eq!(r.report.retransmissions, 1, "{:?}", r.report);
    assert!(r.report.max_window > 1, "{:?}", r.report);
    // As WCF's ack-only reply: no RelatesTo — the transport pairs it with its request.
    let bare_acks: Vec<&wsrm::Envelope> = r
        .envelopes
        .iter()
        .filter(|e| e.sequence.is_none() && !e.acks.is_empty() && matches!(e.body, Body::Empty))
        .collect();
    assert!(bare_acks.len() >= 40);
    assert!(bare_acks.iter().all(|e| e.addressing.relates_to.is_none()));
}

#[test]
fn two_way_calls_at_a_rate_wait_for_their_replies_and_the_run_ends() {
    // 50 calls/s, but each call waits for its reply (40 ms round trip + 30 ms of service time).
    let mut c = config(Shape::Duplex, 10, 30);
    c.workload.rate = Some(50.0);
    let r = run(c);
    assert!(
        r.report.finished && r.report.faults.is_empty(),
        "{:?}",
        r.report.faults
    );
    assert_eq!((r.report.delivered, r.report.replies), (10, 10));
}

/// The service side of a request-reply session, driven by hand: a CreateSequence with an offer,
/// then `requests` two-way requests, each replied to by the application, none of the replies
/// acknowledged by the client.
fn service_with_unacknowledged_replies(requests: u64) -> rmscope::engine::Listener {
    use rmscope::engine::{Dialect, Listener, Settings};
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: wsrm::RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let (svc, cli): (wsrm::Text, wsrm::Text) = ("http://svc".into(), "http://client".into());
    let mut l = Listener::new(Settings::default(), d.clone(), svc.clone(), 1)
        .unwrap()
        .with_shape(Shape::RequestReply)
        .with_two_way(true);
    let mut cs = d.create_sequence(&svc, "urn:uuid:cs".into(), &cli);
    d.offer(&mut cs, "urn:uuid:s2".into(), &cli, true);
    l.handle_incoming(Time::ZERO, cs);
    let Body::CreateSequenceResponse(csr) = l.poll_transmit(Time::ZERO).unwrap().body else {
        panic!("a CreateSequenceResponse")
    };
    let id = csr.identifier;
    l.accept();
    let body = || {
        wsrm::AppBody::new(
            wsrm::ExpandedName {
                namespace: None,
                local: "X".into(),
            },
            bytes::Bytes::from_static(b"<X/>"),
            Vec::new(),
        )
    };
    for n in 1..=requests {
        let mut r = d.data(&svc, &"urn:op".into(), &id, n, false, body());
        r.addressing.message_id = Some(format!("urn:uuid:r{n}").into());
        l.handle_incoming(Time::ZERO, r);
        if let Some((sid, number, _)) = l.receive(Time::ZERO) {
            l.reply(Time::ZERO, &sid, number, body()).unwrap();
        }
        while l.poll_transmit(Time::ZERO).is_some() {}
    }
    l
}

#[test]
fn a_request_reply_service_drops_new_requests_while_a_window_of_replies_is_unacknowledged() {
    // maxTransferWindowSize 8: replies 1–8 wait for the client's ack, so request 9 is dropped
    // unanswered (ReliableReplySessionChannel.ProcessSequencedMessage).
    let l = service_with_unacknowledged_replies(9);
    let received = l.sessions()[0].received();
    assert!(received.contains(8) && !received.contains(9), "{received:?}");
}

#[test]
fn a_request_reply_client_faults_on_a_reply_without_ack_and_on_a_refused_offer() {
    use rmscope::engine::{Dialect, Source, SourceConfig};
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: wsrm::RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let client = |d: &Dialect| {
        let mut s = Source::new(
            rmscope::engine::Settings::default(),
            SourceConfig {
                dialect: d.clone(),
                to: "http://svc".into(),
                reply_to: "http://client".into(),
                action: "urn:op".into(),
                timeouts: rmscope::engine::BindingTimeouts::default(),
                shape: Shape::RequestReply,
                seed: 1,
            },
        )
        .unwrap();
        s.open(Time::ZERO);
        let cs = s.poll_transmit(Time::ZERO).unwrap();
        (s, cs.addressing.message_id.unwrap())
    };
    // Refused: the response has no Accept → SequenceTerminated for the new sequence.
    let (mut s, mid) = client(&d);
    let csr = d.create_sequence_response(&"http://client".into(), Some(mid), &"urn:uuid:s1".into(), true);
    s.handle_incoming(Time::from_secs_f64(0.01), csr);
    assert_eq!(
        *s.state(),
        rmscope::engine::SourceState::Faulted(FaultCause::OfferRefused)
    );
    let f = s.poll_transmit(Time::from_secs_f64(0.01)).expect("a fault");
    let Body::Fault(f) = f.body else { panic!() };
    assert_eq!(
        (f.rm_fault, f.identifier.as_deref()),
        (Some(wsrm::RmFault::SequenceTerminated), Some("urn:uuid:s1"))
    );
    // Accepted, then a reply without an ack of the request.
    let (mut s, mid) = client(&d);
    let mut csr = d.create_sequence_response(&"http://client".into(), Some(mid), &"urn:uuid:s1".into(), true);
    d.accept(&mut csr, &"http://svc".into());
    s.handle_incoming(Time::from_secs_f64(0.01), csr);
    let offered = s.offered_identifier().unwrap().clone();
    let body = wsrm::AppBody::new(
        wsrm::ExpandedName {
            namespace: None,
            local: "X".into(),
        },
        bytes::Bytes::from_static(b"<X/>"),
        Vec::new(),
    );
    s.send(Time::from_secs_f64(0.01), body.clone()).unwrap();
    let request = s.poll_transmit(Time::from_secs_f64(0.01)).unwrap();
    let mut reply = d.data(
        &"http://client".into(),
        &"urn:op/r".into(),
        &offered,
        1,
        false,
        body,
    );
    reply.addressing.relates_to = Some(wsrm::RelatesTo {
        message_id: request.addressing.message_id.unwrap(),
        relationship: None,
    });
    s.handle_incoming(Time::from_secs_f64(0.02), reply);
    assert_eq!(
        *s.state(),
        rmscope::engine::SourceState::Faulted(FaultCause::ReplyMissingAcknowledgement)
    );
}

#[test]
fn a_request_reply_service_refuses_a_terminate_before_every_reply_is_acknowledged() {
    use rmscope::engine::Dialect;
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: wsrm::RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    // Request 1 replied, the reply never acknowledged; then LastMessage 2 and TerminateSequence.
    let mut l = service_with_unacknowledged_replies(1);
    let id = l.sessions()[0].identifier().clone();
    let mut last = d.last_message(&"http://svc".into(), &id, 2, false);
    last.addressing.message_id = Some("urn:uuid:last".into());
    l.handle_incoming(Time::ZERO, last);
    while l.poll_transmit(Time::ZERO).is_some() {}
    let terminate = d.sequence_end(
        &"http://svc".into(),
        wsrm::RmAction::TerminateSequence,
        &id,
        2,
        None,
    );
    l.handle_incoming(Time::ZERO, terminate);
    let f = l.poll_transmit(Time::ZERO).expect("an answer");
    let Body::Fault(f) = f.body else { panic!("{f:?}") };
    assert_eq!(f.rm_fault, Some(wsrm::RmFault::SequenceTerminated));
    assert!(
        f.reason.contains("before it acknowledged all the replies"),
        "{}",
        f.reason
    );
}
