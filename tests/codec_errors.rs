//! Bad input gives an error naming the element and the byte offset; never a panic.

use rmscope::wsrm::{self, ErrorKind};

const RM10: &str = "http://schemas.xmlsoap.org/ws/2005/02/rm";
const RM11: &str = "http://docs.oasis-open.org/ws-rx/wsrm/200702";

fn envelope(rm: &str, action: &str, headers: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:r="{rm}"><s:Header><a:Action>{action}</a:Action>{headers}</s:Header><s:Body/></s:Envelope>"#
    )
}

fn ack(rm: &str, inner: &str) -> String {
    envelope(
        rm,
        &format!("{rm}/SequenceAcknowledgement"),
        &format!(
            "<r:SequenceAcknowledgement><r:Identifier>urn:x</r:Identifier>{inner}</r:SequenceAcknowledgement>"
        ),
    )
}

fn err(xml: &str) -> wsrm::DecodeError {
    wsrm::decode(xml.as_bytes()).expect_err(xml)
}

#[test]
fn lower_greater_than_upper() {
    let xml = ack(RM10, r#"<r:AcknowledgementRange Lower="5" Upper="3"/>"#);
    let e = err(&xml);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert_eq!(e.element.as_deref(), Some("r:AcknowledgementRange"));
    assert_eq!(e.offset, xml.find("<r:AcknowledgementRange").unwrap());
    assert!(e.message.contains("Lower 5 is greater than Upper 3"), "{e}");
}

#[test]
fn overlapping_ranges() {
    let xml = ack(
        RM10,
        r#"<r:AcknowledgementRange Lower="1" Upper="5"/><r:AcknowledgementRange Lower="4" Upper="9"/>"#,
    );
    let e = err(&xml);
    assert_eq!(e.kind, ErrorKind::InvalidContent);
    assert_eq!(e.offset, xml.rfind("<r:AcknowledgementRange").unwrap());
    assert!(e.message.contains("overlaps"), "{e}");
}

#[test]
fn message_number_zero_and_too_big() {
    for (n, _) in [
        ("0", ()),
        ("9223372036854775808", ()),
        ("18446744073709551616", ()),
        ("-1", ()),
        ("x", ()),
    ] {
        let xml = envelope(
            RM10,
            "urn:app",
            &format!(
                "<r:Sequence><r:Identifier>urn:x</r:Identifier><r:MessageNumber>{n}</r:MessageNumber></r:Sequence>"
            ),
        );
        let e = err(&xml);
        assert_eq!(e.kind, ErrorKind::InvalidValue, "{n}: {e}");
        assert_eq!(e.element.as_deref(), Some("r:MessageNumber"));
        assert_eq!(e.offset, xml.find("<r:MessageNumber>").unwrap());
    }
    // The largest legal number decodes.
    let xml = envelope(
        RM10,
        "urn:app",
        "<r:Sequence><r:Identifier>urn:x</r:Identifier><r:MessageNumber>9223372036854775807</r:MessageNumber></r:Sequence>",
    );
    assert_eq!(
        wsrm::decode(xml.as_bytes())
            .unwrap()
            .sequence
            .unwrap()
            .message_number
            .get(),
        i64::MAX as u64
    );
}

#[test]
fn ranges_with_nack() {
    let xml = ack(
        RM10,
        r#"<r:AcknowledgementRange Lower="1" Upper="2"/><r:Nack>3</r:Nack>"#,
    );
    let e = err(&xml);
    assert_eq!(e.kind, ErrorKind::InvalidContent);
    assert!(e.message.contains("together with Nack"));
}

#[test]
fn none_with_ranges_and_none_in_2005() {
    let e = err(&ack(
        RM11,
        r#"<r:None/><r:AcknowledgementRange Lower="1" Upper="2"/>"#,
    ));
    assert_eq!(e.kind, ErrorKind::InvalidContent);
    let e = err(&ack(RM10, "<r:None/>"));
    assert_eq!(e.kind, ErrorKind::VersionMismatch);
    assert_eq!(e.element.as_deref(), Some("r:None"));
}

#[test]
fn rm11_element_under_2005_action() {
    let xml = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:r="{RM11}"><s:Header><a:Action>{RM10}/TerminateSequence</a:Action></s:Header><s:Body><r:TerminateSequence><r:Identifier>urn:x</r:Identifier></r:TerminateSequence></s:Body></s:Envelope>"#
    );
    let e = err(&xml);
    assert_eq!(e.kind, ErrorKind::VersionMismatch);
    assert_eq!(e.element.as_deref(), Some("r:TerminateSequence"));
    assert_eq!(e.offset, xml.find("<r:TerminateSequence>").unwrap());
    // 1.1-only elements in the 2005/02 namespace are refused too.
    let xml = ack(RM10, r#"<r:AcknowledgementRange Lower="1" Upper="2"/><r:Final/>"#);
    assert_eq!(err(&xml).kind, ErrorKind::VersionMismatch);
}

#[test]
fn missing_identifier() {
    let xml = envelope(
        RM10,
        "urn:app",
        "<r:Sequence><r:MessageNumber>1</r:MessageNumber></r:Sequence>",
    );
    let e = err(&xml);
    assert_eq!(e.kind, ErrorKind::Missing);
    assert_eq!(e.element.as_deref(), Some("r:Sequence"));
    assert!(e.message.contains("Identifier"));
    let xml = ack(RM10, "");
    assert!(err(&xml).message.contains("needs AcknowledgementRange"));
}

#[test]
fn dtd_and_entities_are_refused() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&b;</s:Body></s:Envelope>"#;
    assert_eq!(err(xml).kind, ErrorKind::Dtd);
    let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing">&b;</a:Action></s:Header><s:Body/></s:Envelope>"#;
    assert_eq!(err(xml).kind, ErrorKind::UnknownEntity);
    // Predefined and character references are fine.
    let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing">urn:a&amp;b&#x41;</a:Action></s:Header><s:Body/></s:Envelope>"#;
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    assert_eq!(env.addressing.action.unwrap().uri(), "urn:a&bA");
}

#[test]
fn size_and_depth_limits() {
    let opts = wsrm::Options {
        max_size: 100,
        ..Default::default()
    };
    let xml = ack(RM10, r#"<r:AcknowledgementRange Lower="1" Upper="2"/>"#);
    let e = wsrm::decode_with(xml.as_bytes(), &opts).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(e.to_string().contains("limit is 100"));

    let deep = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>{}{}</s:Body></s:Envelope>"#,
        "<x>".repeat(100),
        "</x>".repeat(100)
    );
    let e = err(&deep);
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert!(e.message.contains("64"));
}

#[test]
fn truncated_garbage_and_encoding() {
    let xml = ack(RM10, r#"<r:AcknowledgementRange Lower="1" Upper="2"/>"#);
    for cut in [1, 10, xml.len() / 2, xml.len() - 1] {
        let e = err(&xml[..cut]);
        assert!(
            matches!(e.kind, ErrorKind::Syntax | ErrorKind::NotEnvelope),
            "{cut}: {e}"
        );
    }
    assert_eq!(err("").kind, ErrorKind::NotEnvelope);
    assert!(matches!(
        err("hello world").kind,
        ErrorKind::Syntax | ErrorKind::NotEnvelope
    ));
    let e = wsrm::decode(b"<s:Envelope \xff\xfe>").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Encoding);
    assert_eq!(e.offset, 12);
    let mismatched = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><a><b></a></b></s:Body></s:Envelope>"#;
    assert_eq!(err(mismatched).kind, ErrorKind::Syntax);
}

#[test]
fn strict_refuses_what_lenient_accepts() {
    let frag = "<wsrm:AckRequested><wsrm:Identifier>urn:x</wsrm:Identifier></wsrm:AckRequested>";
    assert_eq!(err(frag).kind, ErrorKind::UnboundPrefix);
    let d = wsrm::decode_with(frag.as_bytes(), &wsrm::Options::lenient()).unwrap();
    assert_eq!(d.envelope.ack_requested[0].identifier, "urn:x");
    // Unknown prefixes stay errors even in lenient mode.
    let e = wsrm::decode_with(b"<zz:Foo/>", &wsrm::Options::lenient()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnboundPrefix);
}

#[test]
fn attribute_order_and_whitespace_are_free() {
    let xml = ack(RM10, r#"<r:AcknowledgementRange  Upper = " 7 "	Lower="  2"/>"#);
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    assert_eq!(env.acks[0].content.ranges()[0].lower.get(), 2);
    assert_eq!(env.acks[0].content.ranges()[0].upper.get(), 7);
}

#[test]
fn prefixes_do_not_matter_only_namespaces() {
    let xml = format!(
        r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><q:Sequence xmlns:q="{RM11}"><q:Identifier>urn:x</q:Identifier><q:MessageNumber>4</q:MessageNumber></q:Sequence></Header><Body/></Envelope>"#
    );
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    assert_eq!(env.soap, Some(wsrm::SoapVersion::V1_1));
    assert_eq!(env.rm_version, Some(wsrm::RmVersion::V1_1));
    assert_eq!(env.sequence.unwrap().message_number.get(), 4);
    // The same prefix bound to a non-RM namespace is not WS-RM.
    let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsrm="urn:other"><s:Header><wsrm:Sequence/></s:Header><s:Body/></s:Envelope>"#;
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    assert!(env.sequence.is_none());
}

#[test]
fn soap11_fault_with_sequence_fault_header() {
    let xml = format!(
        r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:r="{RM10}"><S:Header><r:SequenceFault><r:FaultCode>r:UnknownSequence</r:FaultCode><r:Detail><r:Identifier>urn:seq</r:Identifier></r:Detail></r:SequenceFault></S:Header><S:Body><S:Fault><faultcode>S:Client</faultcode><faultstring>The value of wsrm:Identifier is not a known Sequence identifier.</faultstring></S:Fault></S:Body></S:Envelope>"#
    );
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    let f = env.fault().unwrap();
    assert_eq!(f.code, wsrm::FaultCode::Sender);
    assert_eq!(f.rm_fault, Some(wsrm::RmFault::UnknownSequence));
    assert_eq!(f.identifier.as_deref(), Some("urn:seq"));
    assert!(f.reason.starts_with("The value of wsrm:Identifier"));
}
