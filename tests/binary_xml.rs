//! WCF's binary message encoding ([MC-NBFX] + [MC-NBFS] + [MC-NBFSE]): the specs' own examples
//! decode to the XML they give and to the same envelope model as text; bad input is an error
//! naming the byte, never a panic.

use rmscope::wsrm::binary::{self, Dictionaries, Session};
use rmscope::wsrm::{self, SoapVersion};

fn xml(doc: &[u8], session: Option<&Session>) -> String {
    binary::to_xml(doc, &Dictionaries { session }).unwrap()
}

/// [MC-NBFS] §3: a SOAP 1.2 envelope with the static dictionary only.
const NBFS_EXAMPLE: &[u8] = &[
    0x56, 0x02, 0x0B, 0x01, 0x61, 0x06, 0x0B, 0x01, 0x73, 0x04, 0x56, 0x08, 0x44, 0x0A, 0x1E, 0x00, 0x82,
    0x99, 0x06, 0x61, 0x63, 0x74, 0x69, 0x6F, 0x6E, 0x01, 0x56, 0x0E, 0x40, 0x09, 0x49, 0x6E, 0x76, 0x65,
    0x6E, 0x74, 0x6F, 0x72, 0x79, 0x81, 0x01, 0x01,
];

#[test]
fn the_nbfs_example_gives_the_specs_xml_and_an_envelope() {
    assert_eq!(
        xml(NBFS_EXAMPLE, None),
        "<s:Envelope xmlns:a=\"http://www.w3.org/2005/08/addressing\" \
         xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Header>\
         <a:Action s:mustUnderstand=\"1\">action</a:Action></s:Header><s:Body>\
         <Inventory>0</Inventory></s:Body></s:Envelope>"
    );
    let d = binary::decode_binary(NBFS_EXAMPLE, None, &wsrm::Options::default()).unwrap();
    assert_eq!(d.envelope.soap, Some(SoapVersion::V1_2));
    assert_eq!(d.envelope.addressing.action.as_ref().unwrap().uri(), "action");
}

/// [MC-NMF] §4.1: a SizedEnvelope's payload under msbinsession1 — a StringTable, then the
/// document referring to its strings by odd ids.
fn nmf_example_payload() -> Vec<u8> {
    let strings = [
        "http://tempuri.org/IOneWayContract/Execute",
        "net.tcp://SampleServer/SampleApp/",
        "Execute",
        "http://tempuri.org/",
        "sendString",
    ];
    let mut table = Vec::new();
    for s in strings {
        table.push(s.len() as u8);
        table.extend_from_slice(s.as_bytes());
    }
    let mut p = vec![table.len() as u8];
    p.extend(table);
    p.extend([
        0x56, 0x02, 0x0B, 0x01, 0x73, 0x04, 0x0B, 0x01, 0x61, 0x06, 0x56, 0x08, 0x44, 0x0A, 0x1E, 0x00, 0x82,
        0xAB, 0x01, 0x44, 0x0C, 0x1E, 0x00, 0x82, 0xAB, 0x03, 0x01, 0x56, 0x0E, 0x42, 0x05, 0x0A, 0x07, 0x42,
        0x09, 0x99, 0x0D,
    ]);
    p.extend(b"Test message1");
    p.extend([0x01, 0x01, 0x01]);
    p
}

#[test]
fn the_nmf_example_envelope_decodes_with_its_session_strings() {
    let payload = nmf_example_payload();
    assert_eq!(payload.len(), 170, "the spec's SizedEnvelope size");
    let mut session = Session::new();
    let d = binary::decode_binary(&payload, Some(&mut session), &wsrm::Options::default()).unwrap();
    assert_eq!(session.len(), 5);
    let a = &d.envelope.addressing;
    assert_eq!(
        a.action.as_ref().unwrap().uri(),
        "http://tempuri.org/IOneWayContract/Execute"
    );
    assert_eq!(a.to.as_deref(), Some("net.tcp://SampleServer/SampleApp/"));
    // The next envelope of the direction may use the strings without redefining them.
    let mut again = vec![0x00];
    again.extend_from_slice(&payload[117..]);
    let d2 = binary::decode_binary(&again, Some(&mut session), &wsrm::Options::default()).unwrap();
    assert_eq!(d2.envelope.addressing.action, d.envelope.addressing.action);
}

#[test]
fn the_nbfse_example_table() {
    // [MC-NBFSE] §3: "action" → 1, "Inventory" → 3.
    let mut s = Session::new();
    let table = [
        0x11, 0x06, 0x61, 0x63, 0x74, 0x69, 0x6F, 0x6E, 0x09, 0x49, 0x6E, 0x76, 0x65, 0x6E, 0x74, 0x6F, 0x72,
        0x79,
    ];
    assert_eq!(s.read_table(&table).unwrap(), table.len());
    assert_eq!(s.get(1), Some("action"));
    assert_eq!(s.get(3), Some("Inventory"));
    assert_eq!(
        xml(&[0x42, 0x03, 0xAB, 0x01], Some(&s)),
        "<Inventory>action</Inventory>"
    );
}

#[test]
fn nbfx_record_examples() {
    // [MC-NBFX] §3, with names spelled out instead of the spec's strN dictionary.
    assert_eq!(xml(&[0x40, 0x03, b'd', b'o', b'c', 0x01], None), "<doc/>");
    assert_eq!(
        xml(
            &[
                0x41, 0x03, b'p', b'r', b'e', 0x03, b'd', b'o', b'c', 0x09, 0x03, b'p', b'r', b'e', 0x03,
                b'a', b'b', b'c', 0x01
            ],
            None
        ),
        "<pre:doc xmlns:pre=\"abc\"/>"
    );
    assert_eq!(
        xml(
            &[
                0x40, 0x03, b'd', b'o', b'c', 0x04, 0x04, b'a', b't', b't', b'r', 0x84, 0x01
            ],
            None
        ),
        "<doc attr=\"false\"/>"
    );
    // A list attribute value, a comment and text needing escapes.
    assert_eq!(
        xml(
            &[
                0x40, 0x01, b'a', 0x04, 0x01, b'l', 0xA4, 0x88, 0x7B, 0x98, 0x03, b'a', b'&', b'"', 0xA6,
                0x02, 0x01, b'c', 0x99, 0x01, b'<'
            ],
            None
        ),
        "<a l=\"123 a&amp;&quot;\"><!--c-->&lt;</a>"
    );
    // [MC-NBFX] §3.2.7 Array: three Int16 values.
    assert_eq!(
        xml(
            &[
                0x03, 0x40, 0x03, b'a', b'r', b'r', 0x01, 0x8B, 0x03, 0x33, 0x33, 0x88, 0x88, 0xDD, 0xDD
            ],
            None
        ),
        "<arr>13107</arr><arr>-30584</arr><arr>-8739</arr>"
    );
}

#[test]
fn bad_input_names_the_byte_and_never_panics() {
    let err = |doc: &[u8]| binary::to_xml(doc, &Dictionaries { session: None }).unwrap_err();
    let e = err(&[0x40, 0x01, b'a', 0xC0]);
    assert_eq!((e.offset, e.what.as_str()), (3, "unknown record type 0xC0"));
    let e = err(&[0x42, 0x07]);
    assert!(e.what.contains("dictionary string 7 was never defined"), "{e}");
    let e = err(&[0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert!(e.what.contains("MultiByteInt31"), "{e}");
    let e = err(&[0x40, 0x01, b'a']);
    assert!(e.what.contains("still open"), "{e}");
    let e = err(&[0x40, 0x01, b'a', 0x9C, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert!(e.what.starts_with("truncated"), "{e}");
    // Deep nesting is refused, not followed.
    let mut deep = Vec::new();
    for _ in 0..100 {
        deep.extend([0x40, 0x01, b'a']);
    }
    assert!(err(&deep).what.contains("nested deeper"));
    // An array claiming more items than there are bytes.
    let e = err(&[0x03, 0x40, 0x01, b'a', 0x01, 0x8D, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert!(e.what.contains("truncated"), "{e}");
    // Every prefix of a valid document and every byte flipped: errors or XML, no panic.
    let payload = nmf_example_payload();
    for cut in 0..payload.len() {
        let _ = binary::decode_binary(
            &payload[..cut],
            Some(&mut Session::new()),
            &wsrm::Options::default(),
        );
        let mut m = payload.clone();
        m[cut] ^= 0xFF;
        let _ = binary::decode_binary(&m, Some(&mut Session::new()), &wsrm::Options::default());
    }
}

mod common;

/// A WS-RM 2005/02 data message in binary XML, written record by record: dictionary strings
/// for SOAP and WS-Addressing, literal strings for WS-RM (not in the static dictionary).
fn binary_rm_message(number: u8) -> Vec<u8> {
    fn s(v: &mut Vec<u8>, text: &str) {
        v.push(text.len() as u8);
        v.extend_from_slice(text.as_bytes());
    }
    let mut v = vec![0x56, 0x02]; // <s:Envelope>
    v.extend([0x0B, 0x01, b's', 0x04]); // xmlns:s = soap-envelope (1.2)
    v.extend([0x0B, 0x01, b'a', 0x06]); // xmlns:a = addressing 1.0
    v.push(0x09); // xmlns:r = WS-RM 2005/02
    s(&mut v, "r");
    s(&mut v, "http://schemas.xmlsoap.org/ws/2005/02/rm");
    v.extend([0x56, 0x08]); // <s:Header>
    v.push(0x6F); // <r:Sequence> (PrefixElement r: 0x5E + 17)
    s(&mut v, "Sequence");
    v.push(0x6F);
    s(&mut v, "Identifier");
    v.push(0x99); // Chars8TextWithEndElement
    s(&mut v, "urn:uuid:0b1e7a5e-0000-4000-8000-000000000001");
    v.push(0x6F);
    s(&mut v, "MessageNumber");
    v.extend([0x89, number]); // Int8TextWithEndElement
    v.push(0x01); // </r:Sequence>
    v.extend([0x44, 0x0A, 0x1E, 0x00, 0x82]); // <a:Action s:mustUnderstand="1">
    v.push(0x99);
    s(&mut v, "http://tempuri.org/IService/Notify");
    v.push(0x01); // </s:Header>
    v.extend([0x56, 0x0E]); // <s:Body>
    v.push(0x40);
    s(&mut v, "Notify");
    v.push(0x99);
    s(&mut v, "note 2");
    v.extend([0x01, 0x01]); // </s:Body></s:Envelope>
    v
}

#[test]
fn msbin1_over_http_in_a_capture_decodes_like_text() {
    use common::*;
    use rmscope::capture::writer::Format;
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new();
    let mut c = b.connect("10.0.0.1:50000", "10.0.0.2:8080");
    for n in 1..=3u8 {
        let body = binary_rm_message(n);
        let mut req = format!(
            "POST /svc HTTP/1.1\r\nContent-Type: application/soap+msbin1\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        b.raw(&mut c, true, &req);
        b.raw(
            &mut c,
            false,
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        );
    }
    // A body that is not valid binary XML is a finding, not a failure.
    let junk = [0x56, 0x02, 0xC0];
    let mut req = format!(
        "POST /svc HTTP/1.1\r\nContent-Type: application/soap+msbin1\r\nContent-Length: {}\r\n\r\n",
        junk.len()
    )
    .into_bytes();
    req.extend_from_slice(&junk);
    b.raw(&mut c, true, &req);
    b.close(&mut c);
    let path = temp_path(&dir, "msbin1.pcap");
    b.write(&path, Format::Pcap, Link::Ethernet);
    let d = rmscope::capture::read_file(&path, &mut |_| {}, &Default::default()).unwrap();
    assert_eq!(data_numbers(&d.timeline), [1, 2, 3]);
    assert_eq!(d.stats.wsrm_messages, 3);
    let id = &d.timeline.sequences[0].identifier;
    assert_eq!(id.as_str(), "urn:uuid:0b1e7a5e-0000-4000-8000-000000000001");
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    assert!(
        d.findings[0].text.contains("unknown record type 0xC0"),
        "{}",
        d.findings[0].text
    );
}

#[test]
fn inspect_reads_a_binary_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rmscope"))
            .args(args)
            .output()
            .unwrap()
    };
    let f = dir.path().join("m.bin");
    std::fs::write(&f, binary_rm_message(7)).unwrap();
    let o = run(&["inspect", "--binary", "--json", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rm_version"], "2005/02");
    assert_eq!(v["sequence"]["message_number"], 7);
    assert_eq!(v["action"], "http://tempuri.org/IService/Notify");
    // msbinsession1: the StringTable in front, or the strings from a dictionary file.
    let p = dir.path().join("session.bin");
    std::fs::write(&p, nmf_example_payload()).unwrap();
    let o = run(&["inspect", "--binary", "--session", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("http://tempuri.org/IOneWayContract/Execute"));
    let doc = dir.path().join("doc.bin");
    std::fs::write(&doc, &nmf_example_payload()[117..]).unwrap();
    let dict = dir.path().join("dict.txt");
    std::fs::write(
        &dict,
        "http://tempuri.org/IOneWayContract/Execute\nnet.tcp://SampleServer/SampleApp/\nExecute\nhttp://tempuri.org/\nsendString\n",
    )
    .unwrap();
    let o = run(&[
        "inspect",
        "--binary",
        "--dictionary",
        dict.to_str().unwrap(),
        doc.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Without the strings: a one-line error naming the id.
    let o = run(&["inspect", "--binary", doc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1);
    assert!(err.contains("dictionary string 1 was never defined"), "{err}");
}

/// Every shared fixture that decodes as text decodes to the same model once written as binary
/// XML (static dictionary, and with a session dictionary carried across all of them).
#[test]
fn the_fixtures_encoded_as_binary_decode_to_the_same_model() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/wsrm-messages");
    // Lenient: the WCF doc's examples are header fragments, not envelopes.
    let opts = wsrm::Options {
        keep_body: false,
        lenient: true,
        ..wsrm::Options::default()
    };
    let mut writer = binary::WriterSession::new();
    let mut reader = Session::new();
    let mut checked = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "xml")) {
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(expect) = wsrm::decode_with(text.as_bytes(), &opts) else {
            continue; // inconsistent on purpose (SOURCES.md)
        };
        let plain = binary::encode(&text, None).unwrap();
        assert!(plain.len() < text.len(), "{}: binary is smaller", path.display());
        let got = binary::decode_binary(&plain, None, &opts).unwrap();
        assert_eq!(got.envelope, expect.envelope, "{}", path.display());
        let with_session = binary::encode(&text, Some(&mut writer)).unwrap();
        let got = binary::decode_binary(&with_session, Some(&mut reader), &opts).unwrap();
        assert_eq!(got.envelope, expect.envelope, "{} (session)", path.display());
        checked += 1;
    }
    assert!(checked >= 25, "{checked}");
}
