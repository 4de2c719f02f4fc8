//! net.tcp captures: .NET Message Framing ([MC-NMF]) + binary XML, recognised by content.
//! `captures/nettcp-mono.pcapng` is real traffic from Mono's WCF (captures/mono/README.md is
//! its ground truth: calls, actions, bodies, frames).

mod common;

use common::*;
use rmscope::capture::nmf::{Encoding, NmfStream};
use rmscope::capture::tcp::Chunk;
use rmscope::capture::writer::Format;
use rmscope::capture::{self, CaptureData};
use rmscope::trace::Time;
use rmscope::wsrm::{self, Body, binary};

fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn read(path: &std::path::Path) -> CaptureData {
    capture::read_file(path, &mut |_| {}, &Default::default()).unwrap()
}

#[test]
fn the_mono_nettcp_capture_decodes_every_envelope() {
    let d = read(&sample("nettcp-mono.pcapng"));
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!((d.stats.nmf_connections, d.stats.nmf_envelopes), (1, 5));
    assert_eq!(d.stats.soap_messages, 5);
    let frames: Vec<u32> = d.timeline.wires.iter().map(|w| w.frame).collect();
    assert_eq!(
        frames,
        [8, 10, 12, 14, 16],
        "tshark -r captures/nettcp-mono.pcapng -Y mc-nmf"
    );
    let to_service: Vec<bool> = d
        .timeline
        .wires
        .iter()
        .map(|w| d.timeline.endpoints[w.to as usize].ends_with(":8808"))
        .collect();
    assert_eq!(to_service, [true, false, true, true, false]);
}

/// Each direction's TCP payload in order (the capture is one clean loopback connection).
fn streams(path: &std::path::Path) -> [Vec<(Vec<u8>, u32)>; 2] {
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let link = cap.get_datalink().0;
    let mut out: [Vec<(Vec<u8>, u32)>; 2] = [Vec::new(), Vec::new()];
    let mut frame = 0;
    while let Ok(p) = cap.next_packet() {
        frame += 1;
        let Ok(seg) = capture::packet::tcp_segment(link, p.data) else {
            continue;
        };
        if !seg.payload.is_empty() {
            out[usize::from(seg.src.port() == 8808)].push((seg.payload.to_vec(), frame));
        }
    }
    out
}

#[test]
fn actions_and_bodies_are_what_the_mono_program_sent() {
    let opts = wsrm::Options {
        keep_body: true,
        ..wsrm::Options::default()
    };
    let mut seen = Vec::new();
    for (dir, chunks) in streams(&sample("nettcp-mono.pcapng")).into_iter().enumerate() {
        let mut s = if dir == 0 {
            NmfStream::new()
        } else {
            NmfStream::responder(Encoding::BinarySession)
        };
        for (bytes, frame) in chunks {
            let chunk = Chunk::Data {
                bytes: &bytes,
                frame,
                time: Time::ZERO,
                skip: 0,
            };
            s.feed(
                chunk,
                &mut |e, session| {
                    assert_eq!(e.encoding, Encoding::BinarySession);
                    let d = binary::decode_binary(e.payload, Some(session), &opts).unwrap();
                    let action = d.envelope.addressing.action.unwrap().uri().into_owned();
                    let Body::Application(b) = &d.envelope.body else {
                        panic!("an application body")
                    };
                    let body = String::from_utf8_lossy(&b.xml).into_owned();
                    seen.push((e.last_frame, action, body));
                },
                &mut |p| panic!("{}", p.why),
            );
        }
    }
    seen.sort();
    let expect = [
        (8, "http://tempuri.org/IRmDemo/Echo", "hello 1"),
        (10, "http://tempuri.org/IRmDemo/EchoResponse", "echo: hello 1"),
        (12, "http://tempuri.org/IRmDemo/Notify", "note 2"),
        (14, "http://tempuri.org/IRmDemo/Echo", "hello 3"),
        (16, "http://tempuri.org/IRmDemo/EchoResponse", "echo: hello 3"),
    ];
    assert_eq!(seen.len(), expect.len());
    for ((frame, action, body), (f, a, text)) in seen.iter().zip(expect) {
        assert_eq!((*frame, action.as_str()), (f, a));
        assert!(body.contains(&format!(">{text}<")), "frame {frame}: {body}");
    }
}

#[test]
fn the_mono_msbin1_over_http_capture_decodes() {
    let d = read(&sample("http-msbin1-mono.pcapng"));
    assert_eq!(d.stats.soap_messages, 5, "{:?}", d.findings);
    assert!(
        d.findings.iter().all(|f| !f.text.contains("does not decode")),
        "{:?}",
        d.findings
    );
}

#[test]
fn the_detail_view_rereads_net_tcp_and_msbin1_envelopes_as_xml() {
    // net.tcp: the 4th envelope uses strings the session dictionary got from earlier ones.
    let path = sample("nettcp-mono.pcapng");
    let d = read(&path);
    let calls = [
        ("Echo", "hello 1"),
        ("EchoResponse", "echo: hello 1"),
        ("Notify", "note 2"),
        ("Echo", "hello 3"),
        ("EchoResponse", "echo: hello 3"),
    ];
    for (w, (op, text)) in d.timeline.wires.iter().zip(calls) {
        let m = capture::extract::read_message(&path, &w).unwrap();
        assert_eq!(m.problem, None);
        assert!(m.head.contains("application/soap+msbinsession1"), "{}", m.head);
        assert_eq!(
            m.is_request,
            d.timeline.endpoints[w.to as usize].ends_with(":8808")
        );
        // The initiator's preamble names the via.
        let via = "net.tcp envelope record to net.tcp://";
        assert_eq!(m.head.starts_with(via), m.is_request, "{}", m.head);
        let xml = String::from_utf8(m.body).unwrap();
        assert!(xml.starts_with("<s:Envelope"), "{xml}");
        assert!(xml.contains(&format!(">{text}<")), "{xml}");
        let env = wsrm::decode(xml.as_bytes()).unwrap();
        let action = env.addressing.action.unwrap().uri().into_owned();
        assert_eq!(action, format!("http://tempuri.org/IRmDemo/{op}"));
    }
    // msbin1 over HTTP: the body is transcoded, the HTTP head kept.
    let path = sample("http-msbin1-mono.pcapng");
    let d = read(&path);
    let soap: Vec<_> = d
        .timeline
        .wires
        .iter()
        .filter(|w| w.kind == rmscope::trace::WireKind::OtherSoap)
        .collect();
    assert_eq!(soap.len(), 5);
    for w in soap {
        let m = capture::extract::read_message(&path, &w).unwrap();
        assert!(
            m.head
                .to_ascii_lowercase()
                .contains("content-type: application/soap+msbin1"),
            "{}",
            m.head
        );
        assert_eq!(m.problem, None);
        assert!(String::from_utf8(m.body).unwrap().starts_with("<s:Envelope"));
    }
}

/// Client preamble: version 1.0, duplex, via, known encoding.
fn preamble(encoding: u8) -> Vec<u8> {
    let via = b"net.tcp://host:9000/svc";
    let mut v = vec![0x00, 0x01, 0x00, 0x01, 0x02, 0x02, via.len() as u8];
    v.extend_from_slice(via);
    v.extend([0x03, encoding]);
    v
}

#[test]
fn framing_problems_are_findings_on_any_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    // 1: upgraded to TLS — the rest is encrypted.
    let mut c = b.connect("10.0.0.1:40000", "10.0.0.2:9000");
    let mut p = preamble(0x08);
    p.push(0x09);
    p.push(19);
    p.extend_from_slice(b"application/ssl-tls");
    b.raw(&mut c, true, &p);
    b.raw(&mut c, false, &[0x0A]);
    b.raw(&mut c, true, &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    b.close(&mut c);
    // 2: a framing fault from the service.
    let mut c = b.connect("10.0.0.1:40001", "10.0.0.2:9001");
    let mut p = preamble(0x08);
    p.push(0x0C);
    b.raw(&mut c, true, &p);
    let fault = b"http://schemas.microsoft.com/ws/2006/05/framing/faults/EndpointNotFound";
    let mut f = vec![0x08, fault.len() as u8];
    f.extend_from_slice(fault);
    b.raw(&mut c, false, &f);
    b.close(&mut c);
    // 3: an unknown record after a good envelope ([MC-NBFS] §3's, msbin1).
    let mut c = b.connect("10.0.0.1:40002", "10.0.0.2:9002");
    let mut p = preamble(0x07);
    p.push(0x0C);
    b.raw(&mut c, true, &p);
    b.raw(&mut c, false, &[0x0B]);
    let doc: &[u8] = &[
        0x56, 0x02, 0x0B, 0x01, 0x61, 0x06, 0x0B, 0x01, 0x73, 0x04, 0x56, 0x08, 0x44, 0x0A, 0x1E, 0x00, 0x82,
        0x99, 0x06, 0x61, 0x63, 0x74, 0x69, 0x6F, 0x6E, 0x01, 0x56, 0x0E, 0x40, 0x09, 0x49, 0x6E, 0x76, 0x65,
        0x6E, 0x74, 0x6F, 0x72, 0x79, 0x81, 0x01, 0x01,
    ];
    let mut env = vec![0x06, doc.len() as u8];
    env.extend_from_slice(doc);
    env.push(0x42);
    b.raw(&mut c, true, &env);
    b.close(&mut c);
    let path = temp_path(&dir, "nmf.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = read(&path);
    assert_eq!(d.stats.nmf_connections, 3);
    assert_eq!(d.stats.nmf_envelopes, 1);
    assert_eq!(d.stats.soap_messages, 1);
    let texts: Vec<&str> = d.findings.iter().map(|f| f.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("upgraded to application/ssl-tls")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains(
            "framing fault: http://schemas.microsoft.com/ws/2006/05/framing/faults/EndpointNotFound"
        )),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("unknown .NET Message Framing record 0x42")),
        "{texts:?}"
    );
    // Every prefix of the stream: findings or envelopes, never a panic.
    for cut in 0..env.len() {
        let mut s = NmfStream::new();
        let mut bytes = preamble(0x07);
        bytes.extend_from_slice(&env[..cut]);
        s.feed(
            Chunk::Data {
                bytes: &bytes,
                frame: 1,
                time: Time::ZERO,
                skip: 0,
            },
            &mut |_, _| {},
            &mut |_| {},
        );
        s.feed(
            Chunk::End {
                frame: 2,
                time: Time::ZERO,
            },
            &mut |_, _| {},
            &mut |_| {},
        );
    }
}
