//! What one HTTP message decodes to, before it goes onto the timeline.
//!
//! This half is a pure function of the message's bytes — the SOAP envelope's XML (or WCF's
//! binary XML) is decoded here — so it can run on a worker thread while the reader goes on with
//! the next frames (`super::parallel`). Putting the result onto the timeline, pairing it with
//! its request and any finding stay with the reader, in frame order.

use super::http::{self, Message, Start};
use crate::trace::{Time, WireFlags, WireMeta};
use crate::wsrm::{self, binary};

/// A decoded HTTP message, ready for the timeline.
pub struct Prepared {
    pub meta: WireMeta,
    pub start: Start,
    pub time: Time,
    pub last_frame: u32,
    pub envelope: Option<wsrm::Envelope>,
    /// The body claims to be SOAP and does not decode: the decoder's reason.
    pub not_soap: Option<String>,
    /// Wireshark's Info for a message shown as plain HTTP: the start line, and the content type
    /// when there is a body.
    pub line: Option<String>,
}

impl Prepared {
    pub fn is_response(&self) -> bool {
        matches!(self.start, Start::Response { .. })
    }
    pub fn status(&self) -> u16 {
        match self.start {
            Start::Response { status } => status,
            Start::Request { .. } => 0,
        }
    }
}

/// Decodes the message's body as a SOAP envelope when it looks like one.
pub fn prepare(m: &Message<'_>, opts: &wsrm::Options) -> Prepared {
    let mut meta = WireMeta {
        size: m.wire_len as u32,
        frame: m.last_frame,
        origin: super::reader::origin(m.first_frame, m.first_offset),
        ..WireMeta::default()
    };
    if matches!(m.start, Start::Response { .. }) {
        meta.flags.set(WireFlags::RESPONSE);
    }
    let mut p = Prepared {
        meta,
        start: m.start,
        time: m.time,
        last_frame: m.last_frame,
        envelope: None,
        not_soap: None,
        line: None,
    };
    if p.is_response() && p.status() < 200 {
        return p; // 100 Continue and friends: interim, no body to decode
    }
    let content_type = m.content_type.as_deref();
    // WCF's binary encoding over HTTP: msbin1, or msbinsession1 (no session scope on HTTP:
    // each body starts a dictionary of its own).
    let binary = content_type.and_then(binary::content_type_session);
    let body = if binary.is_some() {
        m.body
    } else {
        trim_start(m.body)
    };
    let looks_xml = body.first() == Some(&b'<')
        || content_type.is_some_and(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("xml") || c.contains("soap")
        });
    if !body.is_empty() && looks_xml {
        let decoded = match binary {
            Some(session) => {
                let mut s = binary::Session::new();
                binary::decode_binary(body, session.then_some(&mut s), opts)
            }
            None => wsrm::decode_with(body, opts),
        };
        match decoded {
            Ok(d) => p.envelope = Some(d.envelope),
            // A WSDL, a schema or any other XML is normal traffic: shown as XML, no warning.
            Err(_) if !claims_soap(m, binary.is_some(), body) => {}
            Err(e) => p.not_soap = Some(e.to_string()),
        }
    }
    if p.envelope.is_none() && (!p.is_response() || !m.body.is_empty()) {
        let mut line = http::start_line(m.head);
        if let Some(ct) = content_type.filter(|_| !m.body.is_empty()) {
            let ct = ct.split(';').next().unwrap_or(ct).trim();
            line = format!("{line}  ({ct})");
        }
        p.line = Some(line);
    }
    p
}

/// Whether an HTTP message says it carries SOAP: a SOAP content type (application/soap+xml),
/// a SOAPAction header, WCF's binary encoding, or a root element named Envelope. Only then is a
/// body that does not decode worth a warning.
fn claims_soap(m: &Message<'_>, binary: bool, body: &[u8]) -> bool {
    binary
        || m.soap_action.is_some()
        || m.content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("soap"))
        || root_is_envelope(body)
}

/// The first element's local name is `Envelope` (past the XML declaration, comments and
/// doctype; looks at the first 4 KiB only).
fn root_is_envelope(body: &[u8]) -> bool {
    let head = &body[..body.len().min(4096)];
    let mut at = 0;
    while let Some(lt) = head[at..].iter().position(|&b| b == b'<') {
        let tag = &head[at + lt + 1..];
        match tag.first() {
            Some(b'?' | b'!') => at += lt + 1,
            Some(_) => {
                let name_len = tag
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
                    .unwrap_or(tag.len());
                let name = &tag[..name_len];
                let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
                return local == b"Envelope";
            }
            None => return false,
        }
    }
    false
}

/// Past a byte-order mark and leading white space.
pub fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}
