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
