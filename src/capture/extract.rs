//! Re-reads one message from a capture file for the detail view: the timeline keeps no XML,
//! only where each message starts (first frame, offset in it) and the frame that completed it.
//! An HTTP message is re-read from its first frame on; a net.tcp envelope needs the session
//! dictionary its connection built up before it, so that capture is decoded again up to it.

use super::file::Frames;
use super::http::{HttpStream, Message, Start};
use super::nmf;
use super::packet;
use super::reader::{StreamDecoder, split_origin};
use super::tcp::Reassembler;
use crate::trace::{Time, Wire};
use crate::wsrm::binary::{self, Session};
use std::path::Path;

/// One message as it was on the wire, its body as XML text (de-chunked, decompressed, binary
/// XML transcoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// The HTTP head, or a line describing the net.tcp record.
    pub head: String,
    pub body: Vec<u8>,
    pub is_request: bool,
    /// Why the body could not be turned into XML text (it is then empty).
    pub problem: Option<String>,
}

/// Finds the message `wire` in the capture at `path`.
pub fn read_message(path: &Path, wire: &Wire) -> Result<Extracted, String> {
    read_message_from(&[path.to_path_buf()], wire)
}

/// Finds the message `wire` in the capture made of `paths` (merged as when it was opened).
pub fn read_message_from(paths: &[std::path::PathBuf], wire: &Wire) -> Result<Extracted, String> {
    let (first, _) = split_origin(wire.origin);
    if first == 0 || wire.frame < first {
        return Err("this message was not read from a capture".into());
    }
    match read_http(paths, wire)? {
        Some(m) => Ok(m),
        None => read_by_decoding(paths, wire),
    }
}

/// An HTTP message, read from its first frame on (it needs no earlier state).
fn read_http(paths: &[std::path::PathBuf], wire: &Wire) -> Result<Option<Extracted>, String> {
    let (first, offset) = split_origin(wire.origin);
    let mut frames = Frames::open(paths)?;
    let mut frame: u32 = 0;
    let mut flow = None;
    let mut reasm = Reassembler::new();
    let mut http = HttpStream::new();
    let mut found: Option<Extracted> = None;
    while frame < wire.frame && found.is_none() {
        let Some(f) = frames.next_frame() else { break };
        let pkt = f.packet;
        let link = pkt.link;
        frame += 1;
        if frame < first {
            continue;
        }
        let Ok(seg) = packet::tcp_segment(link, pkt.data) else {
            continue;
        };
        let (seq, payload) = match flow {
            None => {
                // The message starts `offset` bytes into this frame's payload.
                flow = Some((seg.src, seg.dst));
                let skip = (offset as usize).min(seg.payload.len());
                (seg.seq.wrapping_add(skip as u32), &seg.payload[skip..])
            }
            Some((src, dst)) if src == seg.src && dst == seg.dst => (seg.seq, seg.payload),
            Some(_) => continue,
        };
        reasm.push(seq, false, false, payload, 0, frame, Time::ZERO, &mut |chunk| {
            http.feed(
                chunk,
                &mut |m| {
                    if found.is_none() {
                        found = Some(from_http(&m));
                    }
                },
                &mut |_| {},
            )
        });
    }
    Ok(found)
}

/// Anything else (net.tcp): decode the capture again up to the message's last frame.
fn read_by_decoding(paths: &[std::path::PathBuf], wire: &Wire) -> Result<Extracted, String> {
    let (first, _) = split_origin(wire.origin);
    let mut frames = Frames::open(paths)?;
    let mut dec = StreamDecoder::new(packet::linktype::ETHERNET);
    dec.want(wire.origin);
    while dec.frames() < wire.frame {
        let Some(f) = frames.next_frame() else { break };
        let p = f.packet;
        dec.push_link(p.link, p.ts_ns, p.wire_len, p.data);
        if dec.found().is_some() {
            break;
        }
    }
    dec.finish_found()
        .ok_or_else(|| format!("message not found at frame {first} (file changed since it was opened?)"))
}

/// An HTTP message; a binary-encoded body (msbin1 / msbinsession1) becomes XML text.
pub(super) fn from_http(m: &Message<'_>) -> Extracted {
    let content_type = m.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    // No session scope over HTTP: each msbinsession1 body carries its own StringTable.
    let (body, problem) = match binary::content_type_session(&content_type) {
        Some(session) => transcode(m.body, session.then(Session::new)),
        None => (m.body.to_vec(), None),
    };
    Extracted {
        head: String::from_utf8_lossy(m.head).trim_end().to_string(),
        body,
        is_request: matches!(m.start, Start::Request { .. }),
        problem,
    }
}

/// A net.tcp envelope; `session` is its direction's dictionary as it was before this envelope.
pub(super) fn from_envelope(e: &nmf::Envelope<'_>, session: &Session, is_request: bool) -> Extracted {
    let (name, (body, problem)) = match e.encoding {
        nmf::Encoding::Text => ("SOAP text", (e.payload.to_vec(), None)),
        nmf::Encoding::Binary => (binary::MSBIN1, transcode(e.payload, None)),
        nmf::Encoding::BinarySession => (binary::MSBINSESSION1, transcode(e.payload, Some(session.clone()))),
        nmf::Encoding::Unsupported => (
            "a compressed or unknown encoding",
            (
                Vec::new(),
                Some("the envelope's encoding is not one rmscope decodes".into()),
            ),
        ),
    };
    let via = if e.via.is_empty() {
        String::new()
    } else {
        format!(" to {}", e.via)
    };
    Extracted {
        head: format!(
            "net.tcp envelope record{via}: {} bytes on the wire, {name}, frames {}–{}",
            e.wire_len, e.first_frame, e.last_frame
        ),
        body,
        is_request,
        problem,
    }
}

/// Binary XML → XML text; with a session the payload starts with its StringTable ([MC-NBFSE] §2).
fn transcode(payload: &[u8], mut session: Option<Session>) -> (Vec<u8>, Option<String>) {
    match binary::payload_to_xml(payload, session.as_mut()) {
        Ok(xml) => (xml.into_bytes(), None),
        Err(e) => (
            Vec::new(),
            Some(format!("binary XML at byte {}: {}", e.offset, e.what)),
        ),
    }
}
