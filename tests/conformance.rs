//! Decodes every message in ../shared/fixtures/wsrm-messages and checks the values that
//! SOURCES.md lists for it; the files marked BAD must give a clear error or warning.

mod common;

use rmscope::wsrm::{
    self, AckContent, Action, Body, DecodeError, Decoded, ErrorKind, FaultCode, IncompleteSequenceBehavior,
    NetRmFault, RmAction, RmFault, RmVersion, SoapVersion,
};
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/wsrm-messages")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Lenient decode, assuming the WS-RM version the document's own page is about (the WCF
/// pages bind `wsrm` only in a table, so a bare 1.1 fragment cannot tell by itself).
fn lenient(name: &str) -> Decoded {
    let assume_rm = name.starts_with("wcf-doc-1.1").then_some(RmVersion::V1_1);
    let opts = wsrm::Options {
        assume_rm,
        ..wsrm::Options::lenient()
    };
    wsrm::decode_with(&read(name), &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn lenient_err(name: &str) -> DecodeError {
    wsrm::decode_with(&read(name), &wsrm::Options::lenient()).expect_err(name)
}

fn strict(name: &str) -> Result<wsrm::Envelope, DecodeError> {
    wsrm::decode(&read(name))
}

fn ranges(content: &AckContent) -> Vec<(u64, u64)> {
    content
        .ranges()
        .iter()
        .map(|r| (r.lower.get(), r.upper.get()))
        .collect()
}

fn has_warning(d: &Decoded, needle: &str) -> bool {
    d.warnings.iter().any(|w| w.message.contains(needle))
}

#[test]
fn all_31_fixtures_are_covered() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 31);
    let source = std::fs::read_to_string(file!()).unwrap();
    for n in &names {
        assert!(source.contains(&format!("\"{n}\"")), "{n} has no test here");
    }
}

#[test]
fn cxf_message1() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("cxf-message1.xml").unwrap();
    assert_eq!(e.soap, Some(SoapVersion::V1_1));
    assert_eq!(e.rm_version, Some(RmVersion::Feb2005));
    let s = e.sequence.unwrap();
    assert_eq!(s.identifier, "http://Business456.com/RM/ABC");
    assert_eq!(s.message_number.get(), 1);
    assert_eq!(
        e.addressing.action,
        Some(Action::Other(
            "http://fabrikam123.com/serviceB/123/request".into()
        ))
    );
    assert_eq!(e.addressing.version, Some(wsrm::AddressingVersion::Aug2004));
    assert!(e.addressing.message_id.is_some() && e.addressing.to.is_some() && e.addressing.from.is_some());
}

#[test]
fn cxf_retransmission() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("cxf-retransmission.xml").unwrap();
    let s = e.sequence.unwrap();
    assert_eq!(
        (s.identifier.as_str(), s.message_number.get()),
        ("http://Business456.com/RM/ABC", 2)
    );
    assert_eq!(e.ack_requested.len(), 1);
    assert_eq!(e.ack_requested[0].identifier, "http://Business456.com/RM/ABC");
}

#[test]
fn cxf_acknowledgment() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("cxf-acknowledgment.xml").unwrap();
    assert_eq!(e.rm_action(), Some(RmAction::SequenceAcknowledgement));
    assert_eq!(e.acks[0].identifier, "http://Business456.com/RM/ABC");
    assert_eq!(ranges(&e.acks[0].content), vec![(1, 1), (3, 3)]);
    assert_eq!(e.body, Body::Empty);
}

#[test]
fn cxf_acknowledgment2_tolerates_padded_attributes() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("cxf-acknowledgment2.xml").unwrap();
    assert_eq!(ranges(&e.acks[0].content), vec![(1, 3)]);
}

#[test]
fn metro_rm11_terminatesequence_fragment() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("metro-rm11-terminatesequence.xml");
    assert_eq!(d.envelope.soap, None);
    assert_eq!(d.envelope.rm_version, Some(RmVersion::V1_1));
    let Body::TerminateSequence(t) = &d.envelope.body else {
        panic!("{:?}", d.envelope.body)
    };
    assert_eq!(t.identifier, "uuid:839aabc1-fcfd-4402-9f88-0462c01a01ed");
    assert_eq!(t.last_msg_number.map(|n| n.get()), Some(3));
    assert!(has_warning(&d, "fragment"));
    // Strict mode wants an envelope.
    assert_eq!(
        strict("metro-rm11-terminatesequence.xml").unwrap_err().kind,
        ErrorKind::NotEnvelope
    );
}

#[test]
fn sandesha2_createsequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("sandesha2-createsequence.xml").unwrap();
    let Body::CreateSequence(cs) = &e.body else {
        panic!()
    };
    assert_eq!(
        cs.offer.as_ref().unwrap().identifier,
        "uuid:c3671020-15e0-11da-9b3b-f0439d4867bd"
    );
    assert_eq!(
        cs.acks_to.address,
        "http://127.0.0.1:9090/axis/services/RMService"
    );
    assert_eq!(
        e.addressing.reply_to.as_ref().unwrap().address,
        "http://127.0.0.1:9090/axis/services/RMService"
    );
    assert_eq!(
        e.addressing.to.as_deref(),
        Some("http://localhost:8070/axis/services/TestService")
    );
    assert!(
        e.addressing
            .from
            .as_ref()
            .unwrap()
            .address
            .starts_with("http://192.168.1.4:9090/")
    );
    assert!(
        e.addressing
            .message_id
            .as_deref()
            .unwrap()
            .starts_with("uuid:c3671020-15e0-11da-9b3a-")
    );
    assert_eq!(e.rm_version, Some(RmVersion::Feb2005));
    assert_eq!(e.addressing.version, Some(wsrm::AddressingVersion::V1_0));
}

#[test]
fn sandesha2_createsequenceresponse_is_odd() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = wsrm::decode_with(
        &read("sandesha2-createsequenceresponse.xml"),
        &wsrm::Options::default(),
    )
    .unwrap();
    let Body::CreateSequenceResponse(r) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(r.identifier, "uuid:88754b00-161a-11da-b6d6-8198de3c47c5");
    assert_eq!(
        r.accept.as_ref().unwrap().address,
        "http://localhost:8070/axis/services/TestService"
    );
    assert!(
        d.envelope
            .addressing
            .relates_to
            .as_ref()
            .unwrap()
            .message_id
            .starts_with("uuid:872e4c10-")
    );
    assert!(has_warning(&d, "xmlns:http is not an absolute URI"));
    assert!(has_warning(&d, "RelationshipType"));
}

#[test]
fn sandesha2_sequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = wsrm::decode_with(&read("sandesha2-sequence.xml"), &wsrm::Options::default()).unwrap();
    let e = &d.envelope;
    let s = e.sequence.as_ref().unwrap();
    assert_eq!(
        (s.identifier.as_str(), s.message_number.get()),
        ("uuid:879da420-1624-11da-bed9-84d13db13902", 1)
    );
    assert_eq!(
        e.addressing.action,
        Some(Action::Other("urn:wsrm:echoStringResponse".into()))
    );
    let Body::Application(app) = &e.body else { panic!() };
    assert_eq!(app.name.local, "echoStringResponse");
    assert!(String::from_utf8_lossy(&app.xml).contains("Sandesha Echo 1"));
    assert!(has_warning(&d, "\"wsa:Reply\" is a QName"));
}

#[test]
fn sandesha2_sequenceacknowledgement_ranges_with_nack_is_an_error() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let err = lenient_err("sandesha2-sequenceacknowledgement.xml");
    assert_eq!(err.kind, ErrorKind::InvalidContent);
    assert!(
        err.message.contains("AcknowledgementRange together with Nack"),
        "{err}"
    );
    assert!(
        err.element
            .as_deref()
            .unwrap()
            .ends_with("SequenceAcknowledgement")
    );
    assert!(err.offset > 0);
}

#[test]
fn sandesha2_ackrequested() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let e = strict("sandesha2-ackrequested.xml").unwrap();
    assert_eq!(
        e.ack_requested[0].identifier,
        "uuid:897ee740-1624-11da-a28e-b3b9c4e71445"
    );
    assert_eq!(e.rm_action(), Some(RmAction::AckRequested));
    assert_eq!(e.body, Body::Empty);
}

#[test]
fn sandesha2_terminatesequence_mixes_versions() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let err = lenient_err("sandesha2-terminatesequence.xml");
    assert_eq!(err.kind, ErrorKind::VersionMismatch);
    assert!(
        err.message.contains("1.1 element under a WS-RM 2005/02 action"),
        "{err}"
    );
    assert_eq!(err.element.as_deref(), Some("wsrm:TerminateSequence"));
}

#[test]
fn sandesha2_makeconnection_is_not_wsrm() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = wsrm::decode_with(&read("sandesha2-makeconnection.xml"), &wsrm::Options::default()).unwrap();
    let Body::Application(app) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(app.name.local, "MakeConnection");
    assert_eq!(
        app.name.namespace.as_deref(),
        Some("http://docs.oasis-open.org/ws-rx/wsmc/200702")
    );
    assert_eq!(d.envelope.rm_version, None);
    assert!(has_warning(&d, "WS-MakeConnection"));
    assert!(has_warning(&d, "Action"));
}

#[test]
fn sandesha2_messagepending_sequence_without_message_number() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let err = lenient_err("sandesha2-messagepending.xml");
    assert_eq!(err.kind, ErrorKind::Missing);
    assert!(err.message.contains("MessageNumber"), "{err}");
    assert_eq!(err.element.as_deref(), Some("wsrm:Sequence"));
}

#[test]
fn wcf_docs_fail_strict_with_unbound_prefix() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    for name in ["wcf-doc-1.0-createsequence.xml", "wcf-doc-1.1-closesequence.xml"] {
        let err = strict(name).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnboundPrefix, "{name}: {err}");
    }
}

#[test]
fn wcf_doc_10_createsequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-createsequence.xml");
    let e = &d.envelope;
    assert_eq!(e.soap, Some(SoapVersion::V1_2));
    assert_eq!(e.rm_version, Some(RmVersion::Feb2005));
    let Body::CreateSequence(cs) = &e.body else {
        panic!()
    };
    assert_eq!(
        cs.offer.as_ref().unwrap().identifier,
        "urn:uuid:0afb8d36-bf26-4776-b8cf-8c91fddb5496"
    );
    assert_eq!(cs.acks_to.address, "http://Business456.com/clientA");
    assert_eq!(
        e.addressing.message_id.as_deref(),
        Some("urn:uuid:addabbbf-60cb-44d3-8c5b-9e0841629a36")
    );
    assert_eq!(
        e.addressing.reply_to.as_ref().unwrap().address,
        "http://Business456.com/clientA"
    );
    assert_eq!(e.addressing.to.as_deref(), Some("http://Business456.com/clientA"));
    for prefix in ["'s'", "'a'", "'wsrm'", "'wsa'"] {
        assert!(has_warning(&d, prefix), "no warning for {prefix}");
    }
}

#[test]
fn wcf_doc_10_createsequenceresponse_unqualified_children() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-createsequenceresponse.xml");
    let Body::CreateSequenceResponse(r) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(r.identifier, "urn:uuid:eea0a36c-b38a-43e8-8c76-2fabe2d76386");
    assert_eq!(
        r.accept.as_ref().unwrap().address,
        "http://BusinessABC.com/serviceA"
    );
    assert_eq!(
        d.envelope.addressing.relates_to.as_ref().unwrap().message_id,
        "urn:uuid:addabbbf-60cb-44d3-8c5b-9e0841629a36"
    );
    assert!(has_warning(&d, "<Identifier> has no namespace"));
    assert!(has_warning(&d, "<Accept> has no namespace"));
}

#[test]
fn wcf_doc_10_sequence_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-sequence-header.xml");
    let s = d.envelope.sequence.as_ref().unwrap();
    assert_eq!(s.identifier, "urn:uuid:addabbbf-60cb-44d3-8c5b-9e0841629a36");
    assert_eq!(s.message_number.get(), 10);
    assert!(s.last_message);
    assert_eq!(d.envelope.rm_version, Some(RmVersion::Feb2005));
}

#[test]
fn wcf_doc_10_ackrequested_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-ackrequested-header.xml");
    assert_eq!(
        d.envelope.ack_requested[0].identifier,
        "urn:uuid:addabbbf-60cb-44d3-8c5b-9e0841629a36"
    );
    assert!(has_warning(
        &d,
        "assumed http://schemas.xmlsoap.org/ws/2005/02/rm"
    ));
}

#[test]
fn wcf_doc_10_ack_0_0_means_none() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-sequenceacknowledgement-0-0-header.xml");
    assert_eq!(d.envelope.acks[0].content, AckContent::None);
    assert!(has_warning(&d, "0-0"));
}

#[test]
fn wcf_doc_10_fault_createsequencerefused() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-fault-createsequencerefused.xml");
    let f = d.envelope.fault().unwrap();
    assert_eq!(f.code, FaultCode::Receiver);
    assert_eq!(f.rm_fault, Some(RmFault::CreateSequenceRefused));
    assert_eq!(f.netrm_fault, Some(NetRmFault::ConnectionLimitReached));
    assert_eq!(f.reason, "[Reason]");
    // The docs' fault action uses the non-existent 2005/08 addressing URI.
    assert_eq!(
        d.envelope.addressing.action,
        Some(Action::Other(
            "http://schemas.xmlsoap.org/ws/2005/08/addressing/fault".into()
        ))
    );
}

#[test]
fn wcf_doc_10_bufferremaining() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.0-sequenceacknowledgement-bufferremaining-header.xml");
    let ack = &d.envelope.acks[0];
    assert_eq!(ack.identifier, "http://fabrikam123.com/abc");
    assert_eq!(ranges(&ack.content), vec![(1, 1)]);
    assert_eq!(ack.buffer_remaining, Some(8));
}

#[test]
fn wcf_doc_11_createsequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-createsequence.xml");
    let e = &d.envelope;
    assert_eq!(e.rm_version, Some(RmVersion::V1_1));
    let Body::CreateSequence(cs) = &e.body else {
        panic!()
    };
    let offer = cs.offer.as_ref().unwrap();
    assert_eq!(offer.identifier, "urn:uuid:066b4730-fc82-458a-a5c1-210be4fb4e4e");
    assert_eq!(
        offer.endpoint.as_ref().unwrap().address,
        "http://Business456.com/clientA"
    );
    assert_eq!(
        offer.incomplete_sequence_behavior,
        Some(IncompleteSequenceBehavior::DiscardFollowingFirstGap)
    );
    assert_eq!(
        e.addressing.message_id.as_deref(),
        Some("urn:uuid:949cca61-8813-42ff-ab33-18d9e3fa82fa")
    );
    assert_eq!(cs.acks_to.address, "http://Business456.com/clientA");
    assert_eq!(
        e.addressing.to.as_deref(),
        Some("http://BusinessABC.com/serviceA")
    );
}

#[test]
fn wcf_doc_11_createsequenceresponse() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-createsequenceresponse.xml");
    let Body::CreateSequenceResponse(r) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(r.identifier, "urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27");
    assert!(r.incomplete_sequence_behavior.is_some());
    assert_eq!(
        r.accept.as_ref().unwrap().address,
        "http://BusinessABC.com/serviceA"
    );
    assert!(
        d.envelope
            .addressing
            .relates_to
            .as_ref()
            .unwrap()
            .message_id
            .starts_with("urn:uuid:949cca61-")
    );
}

#[test]
fn wcf_doc_11_closesequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-closesequence.xml");
    let Body::CloseSequence(c) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(c.identifier, "urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27");
    assert_eq!(c.last_msg_number.unwrap().get(), 30);
    assert_eq!(
        d.envelope.addressing.message_id.as_deref(),
        Some("urn:uuid:6ce1d4c3-e1c1-474f-a8c9-4210e37f7877")
    );
}

#[test]
fn wcf_doc_11_closesequenceresponse() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-closesequenceresponse.xml");
    let e = &d.envelope;
    assert!(
        matches!(&e.body, Body::CloseSequenceResponse { identifier } if identifier == "urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27")
    );
    let ack = &e.acks[0];
    assert_eq!(ranges(&ack.content), vec![(1, 30)]);
    assert!(ack.final_ack);
    assert_eq!(ack.buffer_remaining, Some(8));
    assert!(
        e.addressing
            .relates_to
            .as_ref()
            .unwrap()
            .message_id
            .starts_with("urn:uuid:6ce1d4c3-")
    );
}

#[test]
fn wcf_doc_11_terminatesequence() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-terminatesequence.xml");
    let Body::TerminateSequence(t) = &d.envelope.body else {
        panic!()
    };
    assert_eq!(t.identifier, "urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27");
    assert_eq!(t.last_msg_number.unwrap().get(), 30);
    assert_eq!(
        d.envelope.addressing.message_id.as_deref(),
        Some("urn:uuid:3597a398-4f3c-40f4-9335-8f1515572fdf")
    );
}

#[test]
fn wcf_doc_11_terminatesequenceresponse_bad_to() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-terminatesequenceresponse.xml");
    let e = &d.envelope;
    assert!(matches!(&e.body, Body::TerminateSequenceResponse { .. }));
    assert_eq!(ranges(&e.acks[0].content), vec![(1, 30)]);
    assert!(e.acks[0].final_ack);
    assert_eq!(e.acks[0].buffer_remaining, Some(8));
    assert_eq!(e.addressing.to.as_deref(), Some("://Business456.com/clientA"));
    assert!(has_warning(
        &d,
        "To \"://Business456.com/clientA\" is not an absolute URI"
    ));
}

#[test]
fn wcf_doc_11_sequence_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-sequence-header.xml");
    let s = d.envelope.sequence.as_ref().unwrap();
    assert_eq!(
        (s.identifier.as_str(), s.message_number.get()),
        ("urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27", 1)
    );
    assert_eq!(d.envelope.rm_version, Some(RmVersion::V1_1));
}

#[test]
fn wcf_doc_11_ackrequested_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-ackrequested-header.xml");
    assert_eq!(
        d.envelope.ack_requested[0].identifier,
        "urn:uuid:656652b8-9af2-4e94-9d07-2dc21c05ed27"
    );
    assert_eq!(d.envelope.rm_version, Some(RmVersion::V1_1));
}

#[test]
fn wcf_doc_11_sequenceacknowledgement_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-sequenceacknowledgement-header.xml");
    assert_eq!(ranges(&d.envelope.acks[0].content), vec![(1, 1)]);
}

#[test]
fn wcf_doc_11_fault_createsequencerefused() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-fault-createsequencerefused.xml");
    let e = &d.envelope;
    assert_eq!(
        e.addressing.action,
        Some(Action::Rm(RmVersion::V1_1, RmAction::Fault))
    );
    let f = e.fault().unwrap();
    assert_eq!(f.code, FaultCode::Receiver);
    assert_eq!(f.rm_fault, Some(RmFault::CreateSequenceRefused));
    assert_eq!(f.netrm_fault, Some(NetRmFault::ConnectionLimitReached));
    assert!(
        f.reason
            .starts_with("Server 'http://BusinessABC.com/serviceA' is too busy")
    );
}

#[test]
fn wcf_doc_11_bufferremaining_header() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let d = lenient("wcf-doc-1.1-sequenceacknowledgement-bufferremaining-header.xml");
    assert_eq!(ranges(&d.envelope.acks[0].content), vec![(1, 1)]);
    assert_eq!(d.envelope.acks[0].buffer_remaining, Some(8));
}

#[test]
fn version_is_inferred_from_content_when_not_told() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    // Without the page context the bare 1.1 fragment falls back to WCF's default and says so.
    let d = wsrm::decode_with(
        &read("wcf-doc-1.1-sequence-header.xml"),
        &wsrm::Options::lenient(),
    )
    .unwrap();
    assert_eq!(d.envelope.rm_version, Some(RmVersion::Feb2005));
    assert!(has_warning(&d, "--rm-version 1.1"));
    // A 1.1 page that names its namespace in the Action is recognised on its own.
    let d = wsrm::decode_with(&read("wcf-doc-1.1-closesequence.xml"), &wsrm::Options::lenient()).unwrap();
    assert_eq!(d.envelope.rm_version, Some(RmVersion::V1_1));
}
