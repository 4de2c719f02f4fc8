//! The capture decoder on captures built here: every link type and file format, TCP
//! segmentation, reordering, retransmission, gaps, HTTP framing, and broken files.

mod common;

use common::*;
use rmscope::analysis::{self, Severity};
use rmscope::capture::writer::Format;
use rmscope::capture::{self, CaptureData};
use rmscope::trace::WireKind;
use std::sync::atomic::AtomicBool;

fn read(path: &std::path::Path) -> CaptureData {
    capture::read_file(path, &mut |_| {}, &AtomicBool::new(false)).unwrap_or_else(|e| panic!("{e}"))
}

/// A CreateSequence / response and three messages with an ack, as WCF's docs show them.
fn session(b: &mut Builder, client: &str, server: &str) {
    let mut c = b.connect(client, server);
    b.exchange(
        &mut c,
        &fixture("sandesha2-createsequence.xml"),
        200,
        &fixture("sandesha2-createsequenceresponse.xml"),
    );
    b.exchange(&mut c, &fixture("cxf-message1.xml"), 202, b"");
    b.exchange(
        &mut c,
        &fixture("cxf-retransmission.xml"),
        200,
        &fixture("cxf-acknowledgment.xml"),
    );
    b.close(&mut c);
}

fn kinds(d: &CaptureData) -> Vec<WireKind> {
    d.timeline.wires.iter().map(|w| w.kind).collect()
}

#[test]
fn every_format_and_link_type_decodes_the_same() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    session(&mut b, "10.0.0.1:50000", "10.0.0.2:8080");
    let mut reference = None;
    for format in [Format::Pcap, Format::PcapNano, Format::PcapNg] {
        for link in [
            Link::Ethernet,
            Link::Vlan,
            Link::RawIp,
            Link::Sll,
            Link::Sll2,
            Link::Null,
        ] {
            let path = temp_path(&dir, &format!("{format:?}-{link:?}.cap"));
            b.write(&path, format, link);
            let d = read(&path);
            assert_eq!(d.stats.frames as usize, b.frames.len(), "{format:?} {link:?}");
            assert_eq!(d.stats.http_messages, 6, "{format:?} {link:?}");
            assert_eq!(d.stats.soap_messages, 5);
            assert!(d.findings.is_empty(), "{format:?} {link:?}: {:?}", d.findings);
            let k = kinds(&d);
            assert_eq!(
                k,
                vec![
                    WireKind::CreateSequence,
                    WireKind::CreateSequenceResponse,
                    WireKind::Data,
                    WireKind::Http,
                    WireKind::Data,
                    WireKind::Ack
                ]
            );
            let ep = &d.timeline.endpoints;
            assert_eq!(ep[d.timeline.wires.at(0).from as usize], "10.0.0.1:50000");
            assert_eq!(ep[d.timeline.wires.at(0).to as usize], "10.0.0.2:8080");
            match &reference {
                None => reference = Some(d.timeline.wires.clone()),
                Some(r) => {
                    // Same wires whatever the container; only µs rounding may differ.
                    assert_eq!(r.len(), d.timeline.wires.len());
                    for (a, b) in r.iter().zip(&d.timeline.wires) {
                        assert_eq!(
                            (a.kind, a.frame, a.number, a.size),
                            (b.kind, b.frame, b.number, b.size)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn ipv6_and_timestamps_in_nanoseconds() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    session(&mut b, "[2001:db8::1]:50000", "[2001:db8::2]:80");
    let path = temp_path(&dir, "v6.pcapng");
    b.write(&path, Format::PcapNg, Link::Ethernet);
    let d = read(&path);
    assert_eq!(d.stats.soap_messages, 5);
    assert_eq!(d.timeline.endpoints[0], "[2001:db8::1]:50000");
    assert_eq!(d.stats.start_ns, EPOCH);
    // Frames are 1 µs apart inside an exchange: nanosecond precision is kept.
    assert_eq!(d.timeline.wires.at(0).time.as_nanos() % 1_000, 0);
}

#[test]
fn body_split_across_segments_and_frame_numbers() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    c.mss = 100; // the CreateSequence spans many segments
    b.exchange(
        &mut c,
        &fixture("sandesha2-createsequence.xml"),
        200,
        &fixture("sandesha2-createsequenceresponse.xml"),
    );
    let path = temp_path(&dir, "seg.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    let cs = &d.timeline.wires.at(0);
    assert_eq!(cs.kind, WireKind::CreateSequence);
    // 3 handshake frames, then the request: it completes in its last data segment.
    let request_len = cs.size as usize;
    let segments = request_len.div_ceil(100);
    assert_eq!(cs.frame as usize, 3 + segments);
    let (first, offset) = capture::reader::split_origin(cs.origin);
    assert_eq!((first, offset), (4, 0));
}

#[test]
fn out_of_order_and_retransmitted_segments() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    c.mss = 200;
    b.exchange(&mut c, &fixture("cxf-message1.xml"), 202, b"");
    // Swap two data segments and repeat one (a retransmission).
    b.frames.swap(3, 4);
    let again = b.frames[5].clone();
    b.frames.insert(7, again);
    let path = temp_path(&dir, "ooo.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!(kinds(&d), vec![WireKind::Data, WireKind::Http]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn retransmission_with_different_bytes_is_a_finding() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    b.exchange(&mut c, &fixture("cxf-message1.xml"), 202, b"");
    let mut bad = b.frames[3].clone();
    let n = bad.data.len();
    bad.data[n - 10] ^= 0x20; // same sequence numbers, different payload (checksum not checked)
    b.frames.insert(4, bad);
    let path = temp_path(&dir, "diff.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!(d.stats.soap_messages, 1, "first copy wins");
    assert!(d.findings.iter().any(|f| f.severity == Severity::Warn
        && f.text.contains("differs from the first copy")
        && f.frame == 5));
}

#[test]
fn chunked_gzip_keep_alive_and_continue() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    let body = fixture("cxf-acknowledgment2.xml");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let gz = gz.finish().unwrap();
    let mut req = format!("POST /s HTTP/1.1\r\nContent-Type: text/xml\r\nExpect: 100-continue\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", gz.len()).into_bytes();
    req.extend_from_slice(&gz);
    b.raw(&mut c, false, b"HTTP/1.1 100 Continue\r\n\r\n");
    b.raw(&mut c, true, &req);
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let msg = fixture("cxf-message1.xml");
    for part in msg.chunks(300) {
        resp.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        resp.extend_from_slice(part);
        resp.extend_from_slice(b"\r\n");
    }
    resp.extend_from_slice(b"0\r\n\r\n");
    b.raw(&mut c, false, &resp);
    // Keep-alive: a second exchange on the same connection.
    b.exchange(&mut c, &fixture("cxf-retransmission.xml"), 202, b"");
    let path = temp_path(&dir, "chunked.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    // The interim 100 Continue is a row of its own, as in Wireshark (issue 17), not an answer.
    assert_eq!(
        kinds(&d),
        vec![
            WireKind::Http,
            WireKind::Ack,
            WireKind::Data,
            WireKind::Data,
            WireKind::Http
        ]
    );
    assert_eq!(d.timeline.wires.at(0).number, 100);
    assert_eq!(d.stats.tcp_connections, 1);
}

#[test]
fn pipelined_requests_are_matched_to_responses_in_order() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    use rmscope::capture::synth::{http_response, soap_request};
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    // Two requests back to back, then both responses in one segment burst.
    let cs = soap_request("/s", "h", false, "a", &fixture("sandesha2-createsequence.xml"));
    let msg = soap_request("/s", "h", false, "a", &fixture("cxf-message1.xml"));
    b.raw(&mut c, true, &[cs, msg].concat());
    let csr = http_response(
        200,
        "OK",
        Some("text/xml"),
        &fixture("sandesha2-createsequenceresponse.xml"),
    );
    let accepted = http_response(202, "Accepted", None, b"");
    b.raw(&mut c, false, &[csr, accepted].concat());
    let path = temp_path(&dir, "pipe.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!(
        kinds(&d),
        vec![
            WireKind::CreateSequence,
            WireKind::Data,
            WireKind::CreateSequenceResponse,
            WireKind::Http
        ]
    );
    // Sandesha2's RelatesTo does not match, so the pairing comes from HTTP order.
    let seq = d.timeline.wires.at(2).seq;
    assert_eq!(d.timeline.seq_info(seq).unwrap().handshake, Some((0, 2)));
    assert!(
        d.timeline
            .wires
            .at(2)
            .flags
            .has(rmscope::trace::WireFlags::RESPONSE)
    );
}

#[test]
fn gap_is_reported_and_the_parser_resynchronises() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    c.mss = 300;
    b.exchange(&mut c, &fixture("cxf-message1.xml"), 202, b"");
    let lost_at = b.frames.len() - 1;
    b.exchange(&mut c, &fixture("cxf-retransmission.xml"), 202, b"");
    b.exchange(&mut c, &fixture("cxf-acknowledgment.xml"), 202, b"");
    // Lose the second segment of the second request.
    let idx = b
        .frames
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > lost_at)
        .nth(1)
        .unwrap()
        .0;
    b.frames.remove(idx);
    let path = temp_path(&dir, "gap.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert!(
        d.findings.iter().any(|f| f.text.contains("were not captured")),
        "{:?}",
        d.findings
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.text.contains("cut by missing TCP segments"))
    );
    // The first and third requests are intact.
    assert_eq!(data_numbers(&d.timeline), vec![1]);
    assert!(d.timeline.wires.iter().any(|w| w.kind == WireKind::Ack));
}

#[test]
fn truncated_file_gives_what_is_there() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    session(&mut b, "10.0.0.1:1", "10.0.0.2:2");
    let path = temp_path(&dir, "t.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() - 50]).unwrap();
    let d = read(&path);
    assert!(d.stats.truncated);
    assert!(
        d.findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.text.contains("cut short"))
    );
    assert!(d.stats.soap_messages >= 4, "{:?}", d.stats);
}

#[test]
fn garbage_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "garbage.pcap");
    std::fs::write(&path, b"this is not a capture at all, just some text").unwrap();
    let e = capture::read_file(&path, &mut |_| {}, &AtomicBool::new(false)).unwrap_err();
    assert!(e.to_string().contains("not a pcap or pcapng capture"), "{e}");
    let e = capture::read_file(
        &temp_path(&dir, "none.pcap"),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("No such file"), "{e}");
    let empty = temp_path(&dir, "empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    assert!(capture::read_file(&empty, &mut |_| {}, &AtomicBool::new(false)).is_err());
}

#[test]
fn non_http_tcp_and_non_tcp_are_skipped_and_counted() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:22");
    b.raw(&mut c, false, b"SSH-2.0-OpenSSH_9.2\r\n");
    b.raw(&mut c, true, &[0u8, 0, 1, 2, 3, 250, 251]);
    session(&mut b, "10.0.0.1:2", "10.0.0.2:80");
    // A UDP datagram.
    let mut udp = Vec::new();
    etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(53, 53)
        .write(&mut udp, b"dns")
        .unwrap();
    b.frames.push(rmscope::capture::synth::Frame {
        ts_ns: b.t,
        data: udp,
    });
    let path = temp_path(&dir, "mixed.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!(d.stats.tcp_connections, 2);
    assert_eq!(d.stats.http_connections, 1);
    assert_eq!(d.stats.other_connections, 1);
    assert_eq!(d.stats.skipped_not_tcp, 1);
    assert_eq!(d.stats.soap_messages, 5);
}

#[test]
fn connection_open_before_the_capture_starts() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    session(&mut b, "10.0.0.1:1", "10.0.0.2:2");
    // Drop the handshake and the first request's frames: the capture starts mid-stream,
    // inside a message.
    let frames: Vec<_> = b.frames.drain(..).skip(4).collect();
    b.frames = frames;
    let path = temp_path(&dir, "mid.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert!(
        d.timeline
            .wires
            .iter()
            .any(|w| w.kind == WireKind::Data && w.number == 2)
    );
}

#[test]
fn cancel_and_progress() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    for i in 0..50 {
        session(&mut b, &format!("10.0.0.1:{}", 1000 + i), "10.0.0.2:80");
    }
    let path = temp_path(&dir, "many.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let mut last = capture::Progress::default();
    let d = capture::read_file(&path, &mut |p| last = p, &AtomicBool::new(false)).unwrap();
    assert_eq!(last.bytes, last.total);
    assert_eq!(last.frames, d.stats.frames);
    let cancel = AtomicBool::new(true);
    assert_eq!(
        capture::read_file(&path, &mut |_| {}, &cancel).unwrap_err(),
        capture::CaptureError::Cancelled
    );
}

#[test]
fn fixtures_in_a_capture_analyse_as_their_table_says() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    session(&mut b, "10.0.0.1:50000", "10.0.0.2:8080");
    let path = temp_path(&dir, "fixtures.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    let a = analysis::analyze(&d.timeline, &analysis::Options::default());
    let abc = a
        .sequences
        .iter()
        .find(|s| s.id == "http://Business456.com/RM/ABC")
        .unwrap();
    assert_eq!(abc.version, Some("2005/02"));
    assert_eq!(abc.soap, Some("1.1"));
    assert_eq!(abc.messages, 2);
    assert_eq!(abc.transmissions, 2);
    assert_eq!(abc.retransmissions, 0);
    assert_eq!(abc.acks, 1);
    assert_eq!(abc.final_ack_ranges, vec![[1, 1], [3, 3]]);
    assert_eq!(abc.source.as_deref(), Some("10.0.0.1:50000"));
    assert_eq!(abc.destination.as_deref(), Some("10.0.0.2:8080"));
    // The ack covers 3, which was never sent: InvalidAcknowledgement.
    assert!(
        a.findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.text.contains("message 3 never seen sent"))
    );
    assert!(a.findings.iter().any(|f| f.text.contains("never terminated")));
    // The Sandesha2 handshake: paired through HTTP (its RelatesTo does not match).
    let created = a
        .sequences
        .iter()
        .find(|s| s.id == "uuid:88754b00-161a-11da-b6d6-8198de3c47c5")
        .unwrap();
    assert!(created.handshake_rtt.unwrap() > 0.0);
    assert_eq!(created.create_frame, Some(d.timeline.wires.at(0).frame));
}

#[test]
fn detail_view_rereads_a_message_from_the_file() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:1", "10.0.0.2:2");
    c.mss = 300; // spread over several frames
    b.exchange(&mut c, &fixture("cxf-message1.xml"), 202, b"");
    b.exchange(
        &mut c,
        &fixture("cxf-retransmission.xml"),
        200,
        &fixture("cxf-acknowledgment.xml"),
    );
    let path = temp_path(&dir, "detail.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    for (i, want) in [
        (0, fixture("cxf-message1.xml")),
        (2, fixture("cxf-retransmission.xml")),
        (3, fixture("cxf-acknowledgment.xml")),
    ] {
        let w = &d.timeline.wires.at(i);
        let m = capture::extract::read_message(&path, w).unwrap();
        assert_eq!(m.body, want, "wire {i}");
        assert_eq!(m.is_request, i != 3);
    }
    let m = capture::extract::read_message(&path, &d.timeline.wires.at(1)).unwrap();
    assert!(m.head.starts_with("HTTP/1.1 202 Accepted"));
}

/// Issue 17: the protocol of a connection is recognised on the reassembled stream, not on its
/// first segment: net.tcp's preamble and an HTTP request split at every byte of their start
/// decode as the whole does.
#[test]
fn a_protocol_start_split_at_every_byte_is_still_recognised() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    use rmscope::capture::synth::soap_request;
    use rmscope::wsrm::binary;
    let dir = tempfile::tempdir().unwrap();
    let xml = String::from_utf8(fixture("cxf-message1.xml")).unwrap();
    // [MC-NMF] preamble: Version 1.0, Mode duplex, Via, KnownEncoding msbinsession1, PreambleEnd.
    let via = "net.tcp://10.0.0.2:808/svc";
    let mut preamble = vec![0x00, 0x01, 0x00, 0x01, 0x02, 0x02];
    binary::encode::mb31(&mut preamble, via.len());
    preamble.extend_from_slice(via.as_bytes());
    preamble.extend_from_slice(&[0x03, 0x08, 0x0C]);
    let mut session = binary::WriterSession::new();
    let doc = binary::encode(&xml, Some(&mut session)).unwrap();
    let mut record = vec![0x06];
    binary::encode::mb31(&mut record, doc.len());
    record.extend_from_slice(&doc);
    for cut in 1..preamble.len() + 2 {
        let mut b = Builder::new();
        let mut c = b.connect("10.0.0.1:50000", "10.0.0.2:808");
        let stream = [preamble.clone(), record.clone()].concat();
        b.raw(&mut c, true, &stream[..cut]);
        b.raw(&mut c, true, &stream[cut..]);
        b.raw(&mut c, false, &[0x0B]);
        b.raw(&mut c, true, &[0x07]);
        b.raw(&mut c, false, &[0x07]);
        b.close(&mut c);
        let path = temp_path(&dir, &format!("nmf-{cut}.pcap"));
        b.write(&path, Format::Pcap, Link::Ethernet);
        let d = read(&path);
        assert_eq!(d.stats.nmf_connections, 1, "cut at {cut}");
        assert_eq!(kinds(&d), vec![WireKind::Data], "cut at {cut}: {:?}", d.findings);
        assert!(d.findings.is_empty(), "cut at {cut}: {:?}", d.findings);
    }
    let request = soap_request("/svc", "h", false, "urn:a", xml.as_bytes());
    for cut in 1..12 {
        let mut b = Builder::new();
        let mut c = b.connect("10.0.0.1:50000", "10.0.0.2:8080");
        b.raw(&mut c, true, &request[..cut]);
        b.raw(&mut c, true, &request[cut..]);
        b.raw(
            &mut c,
            false,
            &rmscope::capture::synth::http_response(202, "Accepted", None, b""),
        );
        b.close(&mut c);
        let path = temp_path(&dir, &format!("http-{cut}.pcap"));
        b.write(&path, Format::Pcap, Link::Ethernet);
        let d = read(&path);
        assert_eq!(
            (d.stats.http_connections, d.stats.http_messages),
            (1, 2),
            "cut at {cut}"
        );
        assert_eq!(kinds(&d), vec![WireKind::Data, WireKind::Http], "cut at {cut}");
    }
}

/// Issue 17: a client fetching `?wsdl` before it POSTs. The WSDL is XML, not SOAP: shown with
/// Wireshark's Info (request and status line), no warning. A body that claims SOAP and does
/// not decode still warns. A plain TCP exchange is "other", not HTTP.
#[test]
fn wsdl_and_other_xml_are_normal_traffic() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    use rmscope::capture::synth::{http_response, soap_request};
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:50000", "10.0.0.2:8080");
    let get = b"GET /Service.svc?wsdl HTTP/1.1\r\nHost: h\r\n\r\n";
    let wsdl = br#"<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="S"><wsdl:types/></wsdl:definitions>"#;
    b.raw(&mut c, true, get);
    b.raw(
        &mut c,
        false,
        &http_response(200, "OK", Some("text/xml; charset=UTF-8"), wsdl),
    );
    let broken = soap_request(
        "/Service.svc",
        "h",
        false,
        "urn:a",
        b"<s:Envelope xmlns:s=\"x\"><s:Body>",
    );
    b.raw(&mut c, true, &broken);
    b.raw(&mut c, false, &http_response(202, "Accepted", None, b""));
    b.close(&mut c);
    let mut other = b.connect("10.0.0.1:50001", "10.0.0.2:2222");
    b.raw(&mut other, true, b"hello there\n");
    b.raw(&mut other, false, b"general kenobi\n");
    b.close(&mut other);
    let path = temp_path(&dir, "wsdl.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!((d.stats.http_connections, d.stats.other_connections), (1, 1));
    let warnings: Vec<_> = d.findings.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(warnings.len(), 1, "only the broken SOAP body warns: {warnings:?}");
    assert!(warnings[0].contains("does not decode as SOAP"));
    assert_eq!(d.timeline.http_line(0), Some("GET /Service.svc?wsdl HTTP/1.1"));
    assert_eq!(d.timeline.http_line(1), Some("HTTP/1.1 200 OK  (text/xml)"));
    let ds = rmscope::ui::model::Dataset::new(
        rmscope::ui::model::Origin::Capture(vec![path.clone()]),
        d.timeline.clone(),
        d.findings.clone(),
        Some(d.stats.clone()),
    );
    assert_eq!(ds.info(0), "GET /Service.svc?wsdl HTTP/1.1");
    let by_uri = rmscope::trace::filter::Expr::parse("http.request.uri contains \"wsdl\"").unwrap();
    assert!(by_uri.matches(&d.timeline, 0) && !by_uri.matches(&d.timeline, 1));
}
