//! The header scanner (the capture and log readers' fast decoder) gives exactly what the full
//! decoder gives wherever it does not decline — on simulated WCF traffic of every session
//! shape and version, the shared real-world messages and WCF logs, hand-written variants, and
//! tens of thousands of mutations of them. It must also take the common messages (else it is
//! never used), and it must never accept what the full decoder refuses.

mod common;

use rmscope::engine::Shape;
use rmscope::sim::{SimConfig, Simulation};
use rmscope::wsrm::{Options, RmVersion, SoapVersion, decode_scanned, decode_unscanned};

fn opts() -> Options {
    Options {
        keep_body: false,
        ..Options::default()
    }
}

/// Holds the scanner to the full decoder on one input; `true` if the scanner took it.
fn agree(input: &[u8]) -> bool {
    let o = opts();
    let Some(fast) = decode_scanned(input, &o) else {
        return false;
    };
    match decode_unscanned(input, &o) {
        Ok(full) => assert_eq!(
            fast,
            full,
            "scanner and full decoder differ on:\n{}",
            String::from_utf8_lossy(input)
        ),
        Err(e) => panic!(
            "scanner took what the full decoder refuses ({e}):\n{}",
            String::from_utf8_lossy(input)
        ),
    }
    true
}

fn simulated(cfg: impl FnOnce(&mut SimConfig)) -> Vec<Vec<u8>> {
    let mut c = SimConfig::default();
    c.workload.messages = 60;
    c.workload.rich_body = true;
    c.workload.body_size = 2000;
    c.forward.loss = 0.05;
    c.backward.loss = 0.05;
    c.seed = 11;
    cfg(&mut c);
    let mut sim = Simulation::new(c).unwrap();
    sim.run();
    sim.payloads().iter().map(|p| p.to_vec()).collect()
}

/// Every envelope in a text (a WCF message log, a document with several).
fn envelopes_in(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<s:Envelope") {
        let Some(len) = rest[start..].find("</s:Envelope>") else {
            break;
        };
        let end = start + len + "</s:Envelope>".len();
        out.push(rest.as_bytes()[start..end].to_vec());
        rest = &rest[end..];
    }
    out
}

const NS: &str =
    r#"xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing""#;

/// WCF's shapes the simulator does not write: inline declarations, pretty printing, several
/// ranges, Nacks, LastMessage, SOAP 1.1, anonymous ReplyTo, extensions, empty Body forms.
fn hand_written() -> Vec<Vec<u8>> {
    let rm = "http://schemas.xmlsoap.org/ws/2005/02/rm";
    let id = "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let v = [
        format!(
            r#"<s:Envelope {NS}><s:Header><r:Sequence s:mustUnderstand="1" xmlns:r="{rm}"><r:Identifier>{id}</r:Identifier><r:MessageNumber>3</r:MessageNumber></r:Sequence><r:SequenceAcknowledgement xmlns:r="{rm}"><r:Identifier>{id}</r:Identifier><r:AcknowledgementRange Lower="1" Upper="2"></r:AcknowledgementRange><r:AcknowledgementRange Upper="9" Lower="4"/><netrm:BufferRemaining xmlns:netrm="http://schemas.microsoft.com/ws/2006/05/rm">8</netrm:BufferRemaining></r:SequenceAcknowledgement><a:Action s:mustUnderstand="1">http://tempuri.org/IService/Op</a:Action><a:MessageID>urn:uuid:1</a:MessageID><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo><a:To s:mustUnderstand="1">net.tcp://host/svc</a:To></s:Header><s:Body><Op xmlns="http://tempuri.org/"><x>1</x></Op></s:Body></s:Envelope>"#
        ),
        format!(
            "<s:Envelope {NS} xmlns:r=\"{rm}\">\n  <s:Header>\n    <r:Sequence>\n      <r:Identifier> {id} </r:Identifier>\n      <r:MessageNumber>7</r:MessageNumber>\n      <r:LastMessage/>\n    </r:Sequence>\n    <a:Action>{rm}/LastMessage</a:Action>\n  </s:Header>\n  <s:Body/>\n</s:Envelope>\n"
        ),
        format!(
            r#"<s:Envelope {NS} xmlns:r="{rm}"><s:Header><r:SequenceAcknowledgement><r:Identifier>{id}</r:Identifier><r:Nack>2</r:Nack><r:Nack>5</r:Nack></r:SequenceAcknowledgement><r:AckRequested><r:Identifier>{id}</r:Identifier><r:MessageNumber>9</r:MessageNumber></r:AckRequested><a:Action>{rm}/SequenceAcknowledgement</a:Action><x:Ext xmlns:x="urn:ext"><x:y a="1">t</x:y></x:Ext></s:Header><s:Body></s:Body></s:Envelope>"#
        ),
        format!(
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsrm="http://docs.oasis-open.org/ws-rx/wsrm/200702"><soap:Header><wsrm:SequenceAcknowledgement><wsrm:Identifier>{id}</wsrm:Identifier><wsrm:None/><wsrm:Final/></wsrm:SequenceAcknowledgement><wsa:RelatesTo>urn:uuid:2</wsa:RelatesTo><wsa:From><wsa:Address>http://client/</wsa:Address><wsa:ReferenceParameters><p:k xmlns:p="urn:p">v</p:k></wsa:ReferenceParameters></wsa:From></soap:Header><soap:Body><m:Get xmlns:m='urn:m'/></soap:Body></soap:Envelope>"#
        ),
    ];
    v.into_iter().map(String::into_bytes).collect()
}

fn seeds() -> Vec<Vec<u8>> {
    let mut all = hand_written();
    all.extend(simulated(|_| {}));
    all.extend(simulated(|c| {
        c.settings.reliable_messaging_version = RmVersion::V1_1;
        c.soap = SoapVersion::V1_1;
        c.shape = Shape::RequestReply;
    }));
    all.extend(simulated(|c| {
        c.shape = Shape::Duplex;
        c.settings.flow_control_enabled = false;
    }));
    all.extend(simulated(|c| c.shape = Shape::OneWayOverRequest));
    if let Some(dir) = common::shared("wsrm-messages") {
        for e in std::fs::read_dir(dir).unwrap() {
            all.push(std::fs::read(e.unwrap().path()).unwrap());
        }
    }
    if let Some(dir) = common::shared("wcf-svclog") {
        for e in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            all.extend(envelopes_in(&text));
            all.push(bytes);
        }
    }
    all
}

#[test]
fn scanner_agrees_with_the_full_decoder_on_every_sample() {
    let seeds = seeds();
    let taken = seeds.iter().filter(|s| agree(s)).count();
    // The simulated sessions are mostly data and ack messages: the scanner must take them.
    assert!(
        taken * 2 > seeds.len(),
        "the scanner took only {taken} of {} messages",
        seeds.len()
    );
    // Each hand-written WCF shape is taken (they are what the scanner is for).
    for (i, m) in hand_written().iter().enumerate() {
        assert!(agree(m), "hand-written message {i} declined");
    }
}

/// A small deterministic generator (xorshift) for the mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes and snippets that stress the scanner's rules: markup, quotes, references, line ends,
/// comments, CDATA, declarations, non-ASCII and invalid UTF-8, names of the other versions.
const SNIPPETS: &[&[u8]] = &[
    b"<",
    b">",
    b"/",
    b"\"",
    b"'",
    b"=",
    b":",
    b" ",
    b"\t",
    b"\r\n",
    b"&amp;",
    b"&#65;",
    b"&bogus;",
    b"]]>",
    b"]",
    b"<!-- c -->",
    b"<![CDATA[x]]>",
    b"<?pi x?>",
    b" xmlns:q=\"urn:q\"",
    b" xmlns=\"urn:d\"",
    b" xmlns:r=\"\"",
    b" xmlns:r=\"rel\"",
    b" a=\"1\" a=\"2\"",
    b"<q:x/>",
    b"<x/>",
    b"\xC2\xA0",
    b"\xFF",
    b"\xE2\x82",
    b"0",
    b"-1",
    b"18446744073709551616",
    b"Lower=\"0\" Upper=\"0\"",
    b"http://docs.oasis-open.org/ws-rx/wsrm/200702",
    b"http://schemas.xmlsoap.org/ws/2005/02/rm",
    b"http://schemas.xmlsoap.org/ws/2004/08/addressing",
    b"Body",
    b"Envelope",
    b"Header",
    b"Sequence",
    b"MessageNumber",
    b"Identifier",
    b"AcknowledgementRange",
    b"\x00",
    b"x",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        // Mostly in the header, where the scanner reads.
        let span = m.len().min(if rng.below(4) == 0 { usize::MAX } else { 1500 });
        let at = rng.below(span + 1).min(m.len());
        match rng.below(5) {
            0 if at < m.len() => m[at] = SNIPPETS[rng.below(SNIPPETS.len())][0],
            1 => {
                let s = SNIPPETS[rng.below(SNIPPETS.len())];
                m.splice(at..at, s.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(24)).min(m.len());
                m.drain(at..end);
            }
            3 => {
                // Repeat a piece (a second header block, a duplicate attribute or child).
                let end = (at + 1 + rng.below(200)).min(m.len());
                let piece = m[at..end].to_vec();
                let to = rng.below(m.len() + 1);
                m.splice(to..to, piece);
            }
            _ => m.truncate(at.max(1)),
        }
    }
    m
}

#[test]
fn scanner_agrees_with_the_full_decoder_on_mutated_messages() {
    // RMSCOPE_MUTATION_ROUNDS raises it for a longer search (each round mutates every seed).
    let rounds: usize = std::env::var("RMSCOPE_MUTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seeds = seeds();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut tried, mut taken) = (0, 0);
    for round in 0..rounds {
        for seed in &seeds {
            if round > 2 && seed.len() > 20_000 {
                continue; // the big logs: a few rounds are enough
            }
            let m = mutate(&mut rng, seed);
            tried += 1;
            if agree(&m) {
                taken += 1;
            }
        }
    }
    // Many mutants stay plain (a changed identifier, an added extension): the comparison is
    // only worth something if the scanner takes a fair share of them.
    assert!(taken * 10 > tried, "the scanner took {taken} of {tried} mutants");
    eprintln!("mutants: {tried}, taken by the scanner: {taken}");
}

#[test]
fn scanner_declines_what_it_does_not_read_and_refusals_stay_refusals() {
    let o = opts();
    let id = "urn:uuid:1";
    let rm = "http://schemas.xmlsoap.org/ws/2005/02/rm";
    let head = format!("<s:Envelope {NS} xmlns:r=\"{rm}\"><s:Header>");
    let cases = [
        // A WS-RM body (decoded only by the full decoder).
        format!(
            "{head}</s:Header><s:Body><r:TerminateSequence><r:Identifier>{id}</r:Identifier></r:TerminateSequence></s:Body></s:Envelope>"
        ),
        // A comment, an entity, a CR LF.
        format!("{head}<!-- x --></s:Header><s:Body/></s:Envelope>"),
        format!("{head}<a:To>http://h/&amp;</a:To></s:Header><s:Body/></s:Envelope>"),
        format!("{head}<a:To>http://h/\r\n</a:To></s:Header><s:Body/></s:Envelope>"),
        // Warnings of the full decoder: a relative To, a 0-0 range, a duplicate.
        format!("{head}<a:To>relative</a:To></s:Header><s:Body/></s:Envelope>"),
        format!(
            "{head}<r:SequenceAcknowledgement><r:Identifier>{id}</r:Identifier><r:AcknowledgementRange Lower=\"0\" Upper=\"0\"/></r:SequenceAcknowledgement></s:Header><s:Body/></s:Envelope>"
        ),
        format!(
            "{head}<a:MessageID>1</a:MessageID><a:MessageID>2</a:MessageID></s:Header><s:Body/></s:Envelope>"
        ),
        // Errors: an unbound prefix, mixed versions, a bad number, mismatched end tag.
        format!("{head}<q:X/></s:Header><s:Body/></s:Envelope>"),
        format!(
            "{head}<r:Sequence><r:Identifier>{id}</r:Identifier><r:MessageNumber>0</r:MessageNumber></r:Sequence></s:Header><s:Body/></s:Envelope>"
        ),
        format!(
            "{head}<a:Action>http://docs.oasis-open.org/ws-rx/wsrm/200702/AckRequested</a:Action><r:AckRequested><r:Identifier>{id}</r:Identifier></r:AckRequested></s:Header><s:Body/></s:Envelope>"
        ),
        format!("{head}</s:Headr><s:Body/></s:Envelope>"),
    ];
    for c in &cases {
        assert!(decode_scanned(c.as_bytes(), &o).is_none(), "scanner took:\n{c}");
        // And the public entry point still says what the full decoder says.
        assert_eq!(
            rmscope::wsrm::decode_with(c.as_bytes(), &o),
            decode_unscanned(c.as_bytes(), &o)
        );
    }
    // Lenient or body-keeping decodes never use the scanner.
    let plain = format!("{head}</s:Header><s:Body><x:A xmlns:x=\"urn:x\"/></s:Body></s:Envelope>");
    assert!(decode_scanned(plain.as_bytes(), &o).is_some());
    assert!(decode_scanned(plain.as_bytes(), &Options::default()).is_none());
    assert!(
        decode_scanned(
            plain.as_bytes(),
            &Options {
                keep_body: false,
                ..Options::lenient()
            }
        )
        .is_none()
    );
}
