//! WCF message logs as a source: the real logs in ../shared/fixtures/wcf-svclog (SOURCES.md
//! says what each holds), both ends merged with their clocks, live sessions saved as logs, and
//! bad input.

mod common;

use rmscope::analysis::{self, Severity};
use rmscope::svclog::{self, LogData, split::Splitter};
use rmscope::trace::{WireFlags, WireKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

const NETTCP: &str = "wcf-svclog-nettcp-rm10-secureconv-messages.svclog";
const WSHTTP: &str = "wcf-svclog-wshttp-rm10-msgsec-messages.svclog";
const ACTIVITIES: &str = "wcf-svclog-nettcp-rm10-secureconv-activities.svclog";
const CLIENT_SEQ: &str = "urn:uuid:3e4ef03d-2df2-48cd-8cb7-735260c182b8";
const OFFERED_SEQ: &str = "urn:uuid:94a80094-caf5-481a-8a13-b985c718ae4b";

fn read(paths: &[PathBuf]) -> LogData {
    svclog::read_files(paths, &mut |_| {}, &AtomicBool::new(false)).unwrap()
}

fn analyse(d: &LogData) -> analysis::Analysis {
    analysis::analyze(&d.timeline, &analysis::Options::default())
}

fn all_findings(d: &LogData) -> Vec<(Severity, String)> {
    let mut f: Vec<_> = d.findings.iter().map(|f| (f.severity, f.text.clone())).collect();
    f.extend(analyse(d).findings.into_iter().map(|f| (f.severity, f.text)));
    f
}

fn numbers(d: &LogData, seq: &str) -> Vec<u64> {
    let s = d.timeline.find_sequence(seq).unwrap();
    d.timeline
        .wires
        .iter()
        .filter(|w| w.seq == s && w.kind.is_sequenced())
        .map(|w| w.number)
        .collect()
}

#[test]
fn nettcp_session_two_sequences_a_real_retransmission_and_both_ends_terminated() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let d = read(&[dir.join(NETTCP)]);
    assert_eq!(d.stats.records, 25);
    assert_eq!(
        (d.stats.transport_records, d.stats.undecoded, d.stats.folded),
        (25, 0, 0)
    );
    assert_eq!(d.timeline.wires.len(), 25);
    // Client → service: #1 twice (the resend), then 2, 3 and LastMessage 4.
    assert_eq!(numbers(&d, CLIENT_SEQ), vec![1, 1, 2, 3, 4]);
    assert_eq!(numbers(&d, OFFERED_SEQ), vec![1, 2, 3, 4]);
    let t = &d.timeline;
    let kinds = |k: WireKind| t.wires.iter().filter(|w| w.kind == k).count();
    assert_eq!(
        kinds(WireKind::Security),
        8,
        "SPNEGO ×2 each way, SCT, Cancel both ways"
    );
    assert_eq!(kinds(WireKind::LastMessage), 2);
    assert_eq!(kinds(WireKind::TerminateSequence), 2);
    assert_eq!(t.endpoints[0], "peer of Servis (7592) on BURAKSENYURT-PC");
    // The resend: same Sequence #1 + AckRequested, answered by a standalone ack 1-1, not a reply.
    let resend = t
        .wires
        .iter()
        .position(|w| w.kind == WireKind::Data && w.attempt() == 1)
        .unwrap();
    assert!(t.wires.at(resend).flags.has(WireFlags::ACK_REQUESTED));
    let answer = &t.wires.at(resend + 1);
    assert_eq!(answer.kind, WireKind::Ack);
    assert_eq!(
        t.ack_ranges(answer)
            .iter()
            .map(|r| (r.lower.get(), r.upper.get()))
            .collect::<Vec<_>>(),
        [(1, 1)]
    );
    assert_eq!(t.buffer_remaining(answer), Some(8));
    // 540 ms between the copies by the sender's stamps, 541 ms between the receive times.
    let f = all_findings(&d);
    assert!(
        f.iter().any(|(_, t)| t.contains("message 1 of urn:uuid:3e4ef03d")
            && t.contains("stamped copy 2 0.540 s after copy 1")
            && t.contains("logged it 0.541 s after the first")),
        "{f:#?}"
    );
    let a = analyse(&d);
    for s in &a.sequences {
        assert!(s.terminated, "{} terminated", s.id);
        assert_eq!(s.last_message_number, Some(4));
    }
    let client = a.sequences.iter().find(|s| s.id == CLIENT_SEQ).unwrap();
    assert_eq!((client.messages, client.retransmissions), (4, 1));
}

#[test]
fn wshttp_session_folds_service_level_records_and_is_never_terminated() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let d = read(&[dir.join(WSHTTP)]);
    assert_eq!(d.stats.records, 22);
    assert_eq!(
        (d.stats.transport_records, d.stats.service_records, d.stats.folded),
        (12, 10, 10)
    );
    // Each message once: the transport records.
    assert_eq!(d.timeline.wires.len(), 12);
    assert_eq!(d.service_level.len(), 10);
    let t = &d.timeline;
    let reply = t
        .wires
        .iter()
        .find(|w| w.kind == WireKind::Data && w.flags.has(WireFlags::HAS_ACK))
        .unwrap();
    assert_eq!(
        t.seq_info(reply.seq).unwrap().identifier.as_str(),
        "urn:uuid:2c598273-38c7-4de7-a09a-2c36cf7d0559"
    );
    assert_eq!(reply.number, 1);
    assert_eq!(t.buffer_remaining(&reply), Some(8));
    let f = all_findings(&d);
    let never = f.iter().filter(|(_, t)| t.contains("never terminated")).count();
    assert_eq!(never, 2, "{f:#?}");
    // The request's service-level twin holds the decrypted body; the transport record does not.
    let req = t
        .wires
        .iter()
        .position(|w| w.kind == WireKind::Data && !w.flags.has(WireFlags::HAS_ACK))
        .unwrap();
    let (file, off) = svclog::split_origin(d.service_level[&(req as u32)]);
    let twin = svclog::read_record_at(&d.paths[file], off).unwrap();
    let (http, range) = svclog::envelope_of(&twin).unwrap().unwrap();
    assert!(http.unwrap().contains("Host: localhost:8402"));
    let env = &twin[range];
    assert!(memchr::memmem::find(env, b"EncryptedData").is_none());
    let (tf, toff) = svclog::split_origin(t.wires.at(req).origin);
    let transport = svclog::read_record_at(&d.paths[tf], toff).unwrap();
    let (_, r) = svclog::envelope_of(&transport).unwrap().unwrap();
    let sec = rmscope::wsrm::security::summarize(&transport[r]).unwrap();
    assert_eq!(sec.body_encryption.as_deref(), Some("aes256-cbc"));
}

#[test]
fn activity_trace_gives_no_messages_and_no_error() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let d = read(&[dir.join(ACTIVITIES)]);
    assert_eq!(d.stats.records, 169);
    assert_eq!(d.stats.activity_boundaries, 169);
    assert!(d.timeline.wires.is_empty());
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn logs_without_reliable_session_fold_every_call() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    for (name, records, wires) in [
        ("wcf-svclog-nettcp-norm-messages.svclog", 12, 6),
        ("wcf-svclog-nettcp-msgsec-norm-messages.svclog", 20, 10),
    ] {
        let d = read(&[dir.join(name)]);
        assert_eq!(d.stats.records, records, "{name}");
        assert_eq!(
            d.timeline.wires.len(),
            wires,
            "{name}: transport and service records counted once"
        );
        assert!(d.timeline.sequences.is_empty(), "{name}");
    }
}

#[test]
fn utf16_and_a_wrapper_root_read_the_same() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join(NETTCP)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let p16 = tmp.path().join("utf16.svclog");
    std::fs::write(&p16, le).unwrap();
    let wrapped = tmp.path().join("wrapped.svclog");
    std::fs::write(
        &wrapped,
        format!("<?xml version=\"1.0\"?>\r\n<Tracing>{text}</Tracing>"),
    )
    .unwrap();
    let base = read(&[dir.join(NETTCP)]);
    let without_origin = |d: &LogData| {
        let mut w = d.timeline.wires.to_vec();
        w.iter_mut().for_each(|w| w.origin = 0);
        w
    };
    for p in [p16, wrapped] {
        let d = read(std::slice::from_ref(&p));
        assert_eq!(without_origin(&d), without_origin(&base), "{}", p.display());
        // The detail pane reads records back by their offset, in UTF-16 files too.
        let w = d.timeline.wires.at(8);
        let (_, off) = svclog::split_origin(w.origin);
        let rec = svclog::read_record_at(&p, off).unwrap();
        assert!(svclog::envelope_of(&rec).unwrap().is_ok());
    }
    assert!(read(&[tmp.path().join("utf16.svclog")]).stats.files[0].utf16);
}

/// Rewrites the service's log as the client would have written it: Send ↔ Receive, another
/// process, times in a clock `offset_ns` ahead, each message `delay(i)` on the way.
fn mirror(service_log: &[u8], offset_ns: i64, delay: impl Fn(usize) -> u64) -> Vec<u8> {
    let mut recs: Vec<(u64, usize, String)> = Vec::new();
    let mut s = Splitter::new(service_log, 1 << 24);
    let mut i = 0;
    while let Some(r) = s.next_record().unwrap() {
        let text = std::str::from_utf8(r.bytes).unwrap();
        let t0 = text.find("SystemTime=\"").unwrap() + 12;
        let t1 = t0 + text[t0..].find('"').unwrap();
        let t = svclog::record::parse_system_time(&text[t0..t1]).unwrap();
        let send = text.contains("Source=\"TransportSend\"");
        // The client received what the service sent (later), and sent what it received (earlier).
        let t_client = if send {
            t as i64 + offset_ns + delay(i) as i64
        } else {
            t as i64 + offset_ns - delay(i) as i64
        } as u64;
        let flipped = text
            .replacen(&text[t0..t1], &svclog::write::system_time(t_client), 1)
            .replace("Source=\"TransportSend\"", "Source=\"X\"")
            .replace("Source=\"TransportReceive\"", "Source=\"TransportSend\"")
            .replace("Source=\"X\"", "Source=\"TransportReceive\"")
            .replace(
                "ProcessName=\"Servis\" ProcessID=\"7592\"",
                "ProcessName=\"Istemci\" ProcessID=\"4242\"",
            )
            .replace(
                "<Computer>BURAKSENYURT-PC</Computer>",
                "<Computer>CLIENT-PC</Computer>",
            );
        recs.push((t_client, i, flipped));
        i += 1;
    }
    recs.sort_by_key(|(t, i, _)| (*t, *i));
    recs.into_iter()
        .map(|(_, _, r)| r)
        .collect::<String>()
        .into_bytes()
}

fn records_of(log: &[u8]) -> Vec<String> {
    let mut s = Splitter::new(log, 1 << 24);
    let mut out = Vec::new();
    while let Some(r) = s.next_record().unwrap() {
        out.push(String::from_utf8(r.bytes.to_vec()).unwrap());
    }
    out
}

#[test]
fn both_ends_merge_into_one_timeline_with_the_clock_offset_recovered() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let service = std::fs::read(dir.join(NETTCP)).unwrap();
    let offset_ns: i64 = 1_234_567_800; // the client's clock runs 1.2345678 s ahead
    // 3 ms at least each way (the first exchange), up to 1.4 ms more.
    let client = mirror(&service, offset_ns, |i| {
        3_000_000 + ((i as u64 / 2) % 3) * 700_000
    });
    let tmp = tempfile::tempdir().unwrap();
    let (sp, cp) = (
        tmp.path().join("service.svclog"),
        tmp.path().join("client.svclog"),
    );
    std::fs::write(&sp, &service).unwrap();
    std::fs::write(&cp, &client).unwrap();
    let d = read(&[sp.clone(), cp.clone()]);
    let c = d.stats.clock.clone().unwrap();
    assert!((c.offset_ms - 1234.5678).abs() < 1.0, "{c:?}");
    assert!(
        (c.offset_ms - 1234.5678).abs() < 0.001,
        "exact with equal least delays: {c:?}"
    );
    assert!((c.round_trip_ms - 6.0).abs() < 0.001, "{c:?}");
    assert!(!c.one_way_only);
    // Every message is one wire with two times, client → service or back.
    assert_eq!(d.timeline.wires.len(), 25);
    assert_eq!(d.stats.matched, 25);
    assert_eq!(d.timeline.arrivals.len(), 25);
    assert_eq!(d.timeline.endpoints.len(), 2);
    assert!(
        d.timeline
            .endpoints
            .iter()
            .any(|e| e.contains("Istemci (4242) on CLIENT-PC"))
    );
    for &(w, at) in &d.timeline.arrivals {
        let sent = d.timeline.wires.at(w as usize).time;
        let delay = at.0 - sent.0;
        assert!((3_000_000..=4_400_000).contains(&delay), "wire {w}: {delay} ns");
    }
    assert_eq!(d.stats.files[1].clock_offset_ms, Some(c.offset_ms));
    let a = analyse(&d);
    assert_eq!(a.sequences.len(), 2);
    assert!(
        d.findings
            .iter()
            .all(|f| !f.text.contains("lost") && !f.text.contains("twice"))
    );

    // The service never logged request #2 (lost), and logged request #3 twice (duplicated).
    let recs = records_of(&service);
    let lost = recs
        .iter()
        .position(|r| r.contains("TransportReceive") && r.contains("<r:MessageNumber>2<"))
        .unwrap();
    let dup = recs
        .iter()
        .position(|r| r.contains("TransportReceive") && r.contains("<r:MessageNumber>3<"))
        .unwrap();
    let mut edited = String::new();
    for (i, r) in recs.iter().enumerate() {
        if i != lost {
            edited.push_str(r);
        }
        if i == dup {
            edited.push_str(r);
        }
    }
    std::fs::write(&sp, edited).unwrap();
    let d = read(&[sp, cp]);
    let texts: Vec<&str> = d.findings.iter().map(|f| f.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("sent message #2 of urn:uuid:3e4ef03d") && t.contains("lost on the way")),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("received message #3 of {CLIENT_SEQ} twice"))),
        "{texts:#?}"
    );
    assert!((d.stats.clock.unwrap().offset_ms - 1234.5678).abs() < 0.001);
}

#[test]
fn a_live_session_saved_as_logs_reopens_with_the_live_summary() {
    use rmscope::sim::{SimConfig, Simulation};
    let mut cfg = SimConfig::default();
    cfg.workload.messages = 60;
    cfg.forward.loss = 0.05;
    cfg.seed = 11;
    cfg.record = true;
    let mut sim = Simulation::new(cfg).unwrap();
    let report = sim.run();
    let payloads = sim.payloads().to_vec();
    let timeline = sim.take_timeline();
    let live = analysis::analyze(&timeline, &analysis::Options::default());
    let tmp = tempfile::tempdir().unwrap();
    let paths = svclog::write::write_logs(&timeline, &payloads, tmp.path()).unwrap();
    assert_eq!(paths.len(), 2);
    let d = read(&paths);
    let logged = analyse(&d);
    assert_eq!(logged.sequences.len(), live.sequences.len());
    for (a, b) in live.sequences.iter().zip(&logged.sequences) {
        assert_eq!(a.id, b.id);
        assert_eq!(
            (
                a.messages,
                a.transmissions,
                a.retransmissions,
                &a.retransmitted_numbers
            ),
            (
                b.messages,
                b.transmissions,
                b.retransmissions,
                &b.retransmitted_numbers
            )
        );
        assert_eq!(a.final_ack_ranges, b.final_ack_ranges);
        assert_eq!((a.terminated, a.closed), (b.terminated, b.closed));
    }
    // Each copy the link dropped is a message one end sent and the other never logged.
    let lost = d
        .findings
        .iter()
        .filter(|f| f.text.contains("lost on the way"))
        .count() as u64;
    assert_eq!(lost, report.lost_on_link);
    // The pair shares one clock: the estimate says so.
    assert!(d.stats.clock.unwrap().offset_ms.abs() < 0.001);
}

#[test]
fn bad_input_gives_errors_or_findings_and_what_came_before() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let full = std::fs::read(dir.join(NETTCP)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Truncated: the records before the cut are analysed; a finding says where it stops.
    let cut = tmp.path().join("cut.svclog");
    std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let d = read(std::slice::from_ref(&cut));
    assert!(d.stats.truncated);
    assert!(
        d.stats.records > 10 && d.stats.records < 25,
        "{}",
        d.stats.records
    );
    assert!(
        d.findings.iter().any(|f| f.severity == Severity::Error
            && f.text.contains("ends inside the record that starts at byte"))
    );
    // Garbage: one clear error.
    let junk = tmp.path().join("junk.svclog");
    std::fs::write(&junk, vec![b'x'; 10_000]).unwrap();
    let e = svclog::read_files(&[junk], &mut |_| {}, &AtomicBool::new(false)).unwrap_err();
    assert!(e.to_string().contains("not a WCF message log"), "{e}");
    // A missing file and a directory.
    assert!(
        svclog::read_files(
            &[tmp.path().join("nope.svclog")],
            &mut |_| {},
            &AtomicBool::new(false)
        )
        .is_err()
    );
    assert!(
        svclog::read_files(&[tmp.path().to_path_buf()], &mut |_| {}, &AtomicBool::new(false))
            .unwrap_err()
            .to_string()
            .contains("is a directory")
    );
    // An entity bomb: the record is refused, the others are read.
    let bomb = tmp.path().join("bomb.svclog");
    let evil = "<E2ETraceEvent><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]><ApplicationData>&b;</ApplicationData></E2ETraceEvent>";
    std::fs::write(&bomb, [evil.as_bytes(), &full].concat()).unwrap();
    let d = read(&[bomb]);
    assert_eq!(d.stats.malformed, 1);
    assert_eq!(d.timeline.wires.len(), 25);
    assert!(
        d.findings.iter().any(|f| f.text.contains("DOCTYPE")),
        "{:?}",
        d.findings
    );
    // A record larger than the limit: a clear error, what came before is kept.
    let huge = tmp.path().join("huge.svclog");
    let mut big = full.clone();
    big.extend_from_slice(b"<E2ETraceEvent><ApplicationData>");
    big.resize(big.len() + svclog::MAX_RECORD + 1024, b'a');
    std::fs::write(&huge, big).unwrap();
    let d = read(&[huge]);
    assert_eq!(d.timeline.wires.len(), 25);
    assert!(
        d.findings.iter().any(|f| f.text.contains("longer than 32 MiB")),
        "{:?}",
        d.findings
    );
}

#[test]
fn cancel_stops_a_read() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let r = svclog::read_files(&[dir.join(NETTCP)], &mut |_| {}, &AtomicBool::new(true));
    assert_eq!(r.unwrap_err(), svclog::LogError::Cancelled);
}

#[test]
fn looks_like_log_sniffs_content_not_names() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    assert!(svclog::looks_like_log(&dir.join(NETTCP)));
    assert!(svclog::looks_like_log(
        &dir.join("wcf-blog-nettcp-rm10-msg1-createsequence.xml")
    ));
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/single-loss-2005.pcap");
    assert!(!svclog::looks_like_log(&pcap));
}

#[test]
fn a_capture_and_the_logs_of_the_same_session_are_one_set_of_messages() {
    use rmscope::capture::{self, export};
    use rmscope::sim::{SimConfig, Simulation};
    let mut cfg = SimConfig::default();
    cfg.workload.messages = 40;
    cfg.forward.loss = 0.05;
    cfg.seed = 5;
    cfg.record = true;
    let soap = cfg.soap;
    let mut sim = Simulation::new(cfg).unwrap();
    let report = sim.run();
    let payloads = sim.payloads().to_vec();
    let timeline = sim.take_timeline();
    let tmp = tempfile::tempdir().unwrap();
    let pcap = tmp.path().join("session.pcap");
    let f = std::fs::File::create(&pcap).unwrap();
    export::write_session(
        &timeline,
        &payloads,
        export::Framing::Http(soap),
        f,
        capture::writer::Format::Pcap,
    )
    .unwrap();
    let logs = svclog::write::write_logs(&timeline, &payloads, tmp.path()).unwrap();
    let cap = capture::read_file_with(&pcap, &mut |_| {}, &AtomicBool::new(false), true).unwrap();
    let envelopes = cap.fingerprints.len();
    assert!(envelopes > 40);
    let att = svclog::attach(&cap, &logs, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    // Every captured envelope has its sender's record; all but the lost ones their receiver's.
    assert_eq!(att.records.len(), envelopes);
    let both = att.records.values().filter(|r| r.len() == 2).count() as u64;
    assert_eq!(both + report.lost_on_link, envelopes as u64);
    assert_eq!(att.matched, att.stats.transport_records);
    assert!(
        att.findings
            .iter()
            .all(|f| !f.text.contains("not in the capture")),
        "{:?}",
        att.findings
    );
    // The capture point is at each sender: NTP's estimate is off by half the 50 ms delay at most.
    assert_eq!(att.clocks.len(), 2);
    for c in &att.clocks {
        assert!(c.offset_ms.abs() <= 25.0 + 1e-6, "{c:?}");
        assert!(c.pairs[0] > 0 && c.pairs[1] > 0, "{c:?}");
    }
    // A record that the capture does not hold is a finding.
    let mut extra = std::fs::read(&logs[0]).unwrap();
    let last = Splitter::new(&extra[..], 1 << 24)
        .next_record()
        .unwrap()
        .unwrap()
        .bytes
        .to_vec();
    let edited = String::from_utf8(last)
        .unwrap()
        .replace("<a:MessageID>", "<a:MessageID>urn:edited-")
        .replace(
            "SystemTime=\"2026-01-01T00:00:00",
            "SystemTime=\"2026-01-01T00:00:09",
        );
    extra.extend_from_slice(edited.as_bytes());
    std::fs::write(&logs[0], extra).unwrap();
    let att = svclog::attach(&cap, &logs, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        att.findings
            .iter()
            .filter(|f| f.text.contains("it is not in the capture"))
            .count(),
        1,
        "{:?}",
        att.findings
    );
}

/// Element paths and attribute names of a record outside its envelope, in document order.
fn skeleton(record: &[u8]) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::reader::Reader::from_reader(record);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().0.ends_with("Envelope") => {
                out.push(format!("{}/Envelope", path.join("/")));
                break;
            }
            Event::Start(e) => {
                path.push(e.name().0.to_string());
                let attrs: Vec<String> = e.attributes().flatten().map(|a| a.key.0.to_string()).collect();
                out.push(format!("{} {}", path.join("/"), attrs.join(",")));
            }
            Event::Empty(e) => {
                let attrs: Vec<String> = e.attributes().flatten().map(|a| a.key.0.to_string()).collect();
                out.push(format!("{}/{} {}", path.join("/"), e.name().0, attrs.join(",")));
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn saved_records_have_the_structure_of_wcfs_own() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    let real = std::fs::read(dir.join(NETTCP)).unwrap();
    let real = records_of(&real).remove(0);
    let ours = svclog::write::record(
        1_767_225_600_000_000_000,
        "Servis",
        7592,
        false,
        1,
        b"<s:Envelope xmlns:s=\"s\"/>",
    );
    assert_eq!(skeleton(&ours), skeleton(real.as_bytes()));
}

#[test]
fn warnings_and_errors_in_a_trace_log_are_findings_at_their_time() {
    let ev = |t: &str, sub: &str, body: &str| {
        format!(
            "<E2ETraceEvent xmlns=\"http://schemas.microsoft.com/2004/06/E2ETraceEvent\"><System xmlns=\"http://schemas.microsoft.com/2004/06/windows/eventlog/system\"><SubType Name=\"{sub}\">0</SubType><TimeCreated SystemTime=\"{t}\" /><Source Name=\"System.ServiceModel\" /><Execution ProcessName=\"svc\" ProcessID=\"42\" ThreadID=\"1\" /><Computer>HOST</Computer></System><ApplicationData>{body}</ApplicationData></E2ETraceEvent>"
        )
    };
    let log = [
        ev("2010-01-01T00:00:00.0000000Z", "Start", "<TraceData><DataItem><TraceRecord Severity=\"Start\"><Description>Activity boundary.</Description></TraceRecord></DataItem></TraceData>"),
        ev("2010-01-01T00:00:01.0000000Z", "Information", "<TraceData><DataItem><TraceRecord Severity=\"Information\"><Description>Opened.</Description></TraceRecord></DataItem></TraceData>"),
        ev("2010-01-01T00:00:02.5000000Z", "Warning", "<TraceData><DataItem><TraceRecord Severity=\"Warning\"><Description>The reliable session is faulting.</Description></TraceRecord></DataItem></TraceData>"),
        ev("2010-01-01T00:00:03.0000000Z", "Error", "<TraceData><DataItem><TraceRecord Severity=\"Error\"><Description>Throwing an exception.</Description><Exception><ExceptionType>System.ServiceModel.CommunicationException</ExceptionType><Message>The sequence has been terminated by the remote endpoint.</Message></Exception></TraceRecord></DataItem></TraceData>"),
    ]
    .concat();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("traces.svclog");
    std::fs::write(&p, log).unwrap();
    let d = read(&[p]);
    assert_eq!(
        (d.stats.records, d.stats.traces, d.stats.activity_boundaries),
        (4, 3, 1)
    );
    let f: Vec<(Severity, f64, &str)> = d
        .findings
        .iter()
        .map(|f| (f.severity, f.time.as_secs_f64(), f.text.as_str()))
        .collect();
    assert_eq!(f.len(), 2, "{f:?}: information is counted, not shown");
    // Times count from the log's first record (the activity boundary at 00:00:00).
    assert_eq!((f[0].0, f[0].1), (Severity::Warn, 2.5));
    assert_eq!(f[0].2, "svc (42) on HOST: The reliable session is faulting.");
    assert_eq!((f[1].0, f[1].1), (Severity::Error, 3.0));
    assert!(f[1].2.ends_with("Throwing an exception. — System.ServiceModel.CommunicationException: The sequence has been terminated by the remote endpoint."), "{}", f[1].2);
}
