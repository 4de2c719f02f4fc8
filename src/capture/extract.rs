//! Re-reads one message from a capture file for the detail view: the timeline keeps no XML,
//! only where each message starts (first frame, offset in it) and the frame that completed it.

use super::http::{HttpStream, Start};
use super::packet;
use super::reader::split_origin;
use super::tcp::Reassembler;
use crate::trace::{Time, Wire};
use std::path::Path;

/// One HTTP message as it was on the wire (body de-chunked and decompressed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    pub head: String,
    pub body: Vec<u8>,
    pub is_request: bool,
}

/// Finds the message `wire` in the capture at `path`.
pub fn read_message(path: &Path, wire: &Wire) -> Result<Extracted, String> {
    let (first, offset) = split_origin(wire.origin);
    if first == 0 || wire.frame < first {
        return Err("this message was not read from a capture".into());
    }
    let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let link = cap.get_datalink().0;
    let mut frame: u32 = 0;
    let mut flow = None;
    let mut reasm = Reassembler::new();
    let mut http = HttpStream::new();
    let mut found: Option<Extracted> = None;
    while frame < wire.frame && found.is_none() {
        let pkt = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
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
                        found = Some(Extracted {
                            head: String::from_utf8_lossy(m.head).trim_end().to_string(),
                            body: m.body.to_vec(),
                            is_request: matches!(m.start, Start::Request { .. }),
                        });
                    }
                },
                &mut |_| {},
            )
        });
    }
    found.ok_or_else(|| format!("message not found at frame {first} (file changed since it was opened?)"))
}
