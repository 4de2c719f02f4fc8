//! Inputs the fuzzer found: whatever decodes re-encodes to a document that decodes the same.

mod common;

use rmscope::wsrm;

fn round_trips(bytes: &[u8]) {
    let env = wsrm::decode(bytes).expect("decodes");
    let again = wsrm::decode(&wsrm::encode(&env)).expect("re-encoded envelope decodes");
    assert_eq!(again, env);
}

#[test]
fn application_body_using_envelope_prefixes() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    // Sandesha2's MakeConnection body uses prefixes declared on the Envelope.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/wsrm-messages/sandesha2-makeconnection.xml"
    );
    round_trips(&std::fs::read(path).unwrap());
}

#[test]
fn escaped_characters_in_namespace_uri() {
    let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:a&amp;b"><S:Body><x:Op/></S:Body></S:Envelope>"#;
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    let wsrm::Body::Application(app) = &env.body else {
        panic!()
    };
    assert_eq!(app.name.namespace.as_deref(), Some("urn:a&b"));
    round_trips(xml.as_bytes());
    // A namespace written with character references is still recognised.
    let xml =
        r#"<S:Envelope xmlns:S="&#x68;ttp://schemas.xmlsoap.org/soap/envelope/"><S:Body/></S:Envelope>"#;
    assert_eq!(
        wsrm::decode(xml.as_bytes()).unwrap().soap,
        Some(wsrm::SoapVersion::V1_1)
    );
}

#[test]
fn malformed_attribute_list_is_an_error_not_a_half_read_declaration() {
    // The namespace resolver stops at the first bad attribute; the decoder must not see
    // declarations after it that the resolver ignored.
    let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x:A xmlns:y="urn:y"* xmlns:x="urn:x"/></S:Body></S:Envelope>"#;
    let e = wsrm::decode(xml.as_bytes()).unwrap_err();
    assert_eq!(e.kind, wsrm::ErrorKind::Syntax);
    assert!(e.message.contains("bad attribute"), "{e}");
}

#[test]
fn reserved_prefixes() {
    // Elements may not use the xmlns prefix; the xml prefix needs (and allows) no declaration.
    let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><a xmlns="urn:a"><xmlns:t/></a></S:Body></S:Envelope>"#;
    assert_eq!(
        wsrm::decode(xml.as_bytes()).unwrap_err().kind,
        wsrm::ErrorKind::Syntax
    );
    let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><a xmlns="urn:a" xml:lang="en"/></S:Body></S:Envelope>"#;
    round_trips(xml.as_bytes());
}

#[test]
fn unknown_addressing_header_does_not_set_the_version() {
    let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing"><S:Header><wsa:Unknown>x</wsa:Unknown></S:Header><S:Body/></S:Envelope>"#;
    let env = wsrm::decode(xml.as_bytes()).unwrap();
    assert_eq!(env.addressing.version, None);
    round_trips(xml.as_bytes());
}
