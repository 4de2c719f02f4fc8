//! [MC-NMF] .NET Message Framing (net.tcp): one direction of a TCP stream as framing records —
//! the preamble (version, mode, via, encoding, upgrade), sized and unsized envelopes, end and
//! fault records. Envelopes go to the caller with the encoding and the direction's [MC-NBFSE]
//! session dictionary; what cannot be read becomes a problem at its frame.

use super::tcp::Chunk;
use crate::trace::Time;
use crate::wsrm::binary::Session;

/// Largest envelope accepted (the text codec's own limit).
const MAX_ENVELOPE: usize = 16 * 1024 * 1024;
/// Largest via, content type or upgrade protocol name (WCF allows 2048 / 256 / 256).
const MAX_STRING: usize = 4096;

/// [MC-NMF] §2.2.3.4.1 known encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// SOAP text (0x00–0x05), MTOM (0x06), or an extensible encoding naming text.
    Text,
    /// 0x07 `application/soap+msbin1`: binary XML, static dictionary only.
    Binary,
    /// 0x08 `application/soap+msbinsession1`: binary XML with the in-band dictionary.
    BinarySession,
    /// A compressed or otherwise unknown extensible encoding.
    Unsupported,
}

/// One envelope, with where it came from.
pub struct Envelope<'a> {
    pub payload: &'a [u8],
    pub encoding: Encoding,
    pub via: &'a str,
    /// Bytes the record took on the wire.
    pub wire_len: usize,
    pub first_frame: u32,
    pub first_offset: u32,
    pub last_frame: u32,
    pub time: Time,
}

/// Something to report at a frame.
pub struct Problem {
    pub frame: u32,
    pub time: Time,
    pub why: String,
}

/// Where each byte of the buffer came from (for frame numbers of records).
struct Mark {
    at: u64,
    frame: u32,
    skip: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Records,
    /// Upgraded to TLS / NegotiateStream, or lost its place: nothing more is decoded.
    Stopped,
}

pub struct NmfStream {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    buf_at: u64,
    marks: Vec<Mark>,
    state: State,
    encoding: Encoding,
    via: String,
    session: Session,
    /// This direction sent the preamble (the responder only acknowledges it).
    pub initiator: bool,
}

impl Default for NmfStream {
    fn default() -> Self {
        NmfStream {
            buf: Vec::new(),
            buf_at: 0,
            marks: Vec::new(),
            state: State::Records,
            encoding: Encoding::Binary,
            via: String::new(),
            session: Session::new(),
            initiator: true,
        }
    }
}

/// Whether a stream's first bytes are an NMF Version record followed by a Mode record.
pub fn starts_nmf(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[..3] == [0x00, 0x01, 0x00] && bytes[3] == 0x01
}

/// [MC-NMF] §2.2.2 record size: like MultiByteInt31 (≤ 5 bytes, the 5th ≤ 0x07).
/// `Ok(None)`: more bytes needed.
fn size(b: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let mut v: u64 = 0;
    for (i, &x) in b.iter().take(5).enumerate() {
        if i == 4 && x & 0xF8 != 0 {
            return Err("record size larger than 0x7FFFFFFF".into());
        }
        v |= u64::from(x & 0x7F) << (7 * i);
        if x & 0x80 == 0 {
            return Ok(Some((v as usize, i + 1)));
        }
    }
    Ok(None)
}

impl NmfStream {
    pub fn new() -> Self {
        NmfStream::default()
    }

    /// The responder's direction: no preamble of its own, it uses the initiator's encoding.
    pub fn responder(encoding: Encoding) -> Self {
        NmfStream {
            encoding,
            initiator: false,
            ..NmfStream::default()
        }
    }

    /// The encoding the preamble named (or the initiator's, for the responder).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn frame_of(&self, at: u64) -> (u32, u32) {
        let i = self.marks.partition_point(|m| m.at <= at).saturating_sub(1);
        self.marks
            .get(i)
            .map_or((0, 0), |m| (m.frame, (at - m.at) as u32 + m.skip))
    }

    /// Feeds one reassembled chunk; each envelope and problem goes to the callbacks in order.
    pub fn feed(
        &mut self,
        chunk: Chunk<'_>,
        on_envelope: &mut dyn FnMut(Envelope<'_>, &mut Session),
        on_problem: &mut dyn FnMut(Problem),
    ) {
        let (frame, time) = match chunk {
            Chunk::Data {
                bytes,
                frame,
                time,
                skip,
            } => {
                if self.state == State::Records {
                    self.marks.push(Mark {
                        at: self.buf_at + self.buf.len() as u64,
                        frame,
                        skip,
                    });
                    self.buf.extend_from_slice(bytes);
                }
                (frame, time)
            }
            Chunk::Gap { frame, time, .. } => {
                if self.state == State::Records {
                    // Record boundaries are lost: the session's dictionary cannot be followed.
                    self.stop();
                    on_problem(Problem {
                        frame,
                        time,
                        why: "bytes missing from a .NET Message Framing stream: the rest of it cannot be decoded".into(),
                    });
                }
                return;
            }
            Chunk::End { frame, time } => {
                if self.state == State::Records && !self.buf.is_empty() {
                    on_problem(Problem {
                        frame,
                        time,
                        why: format!(
                            ".NET Message Framing stream ends inside a record ({} bytes left)",
                            self.buf.len()
                        ),
                    });
                }
                self.stop();
                return;
            }
        };
        if let Err(why) = self.records(frame, time, on_envelope) {
            on_problem(Problem { frame, time, why });
            self.stop();
        }
        // Forget the marks of consumed bytes.
        let keep = self
            .marks
            .partition_point(|m| m.at <= self.buf_at)
            .saturating_sub(1);
        self.marks.drain(..keep);
    }

    fn stop(&mut self) {
        self.state = State::Stopped;
        self.buf = Vec::new();
        self.marks.clear();
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.buf_at += n as u64;
    }

    /// A length-prefixed UTF-8 string record body at `buf[1..]`: (text, bytes used), or None if
    /// incomplete.
    fn string_record(&self, what: &str) -> Result<Option<(String, usize)>, String> {
        let Some((n, k)) = size(&self.buf[1..])? else {
            return Ok(None);
        };
        if n == 0 || n > MAX_STRING {
            return Err(format!("{what} record of {n} bytes"));
        }
        if self.buf.len() < 1 + k + n {
            return Ok(None);
        }
        Ok(Some((
            String::from_utf8_lossy(&self.buf[1 + k..1 + k + n]).into_owned(),
            1 + k + n,
        )))
    }

    fn records(
        &mut self,
        frame: u32,
        time: Time,
        on_envelope: &mut dyn FnMut(Envelope<'_>, &mut Session),
    ) -> Result<(), String> {
        while self.state == State::Records && !self.buf.is_empty() {
            let t = self.buf[0];
            let used = match t {
                // Version: a new session on this connection starts a new dictionary.
                0x00 => {
                    if self.buf.len() < 3 {
                        return Ok(());
                    }
                    if self.buf[1..3] != [0x01, 0x00] {
                        return Err(format!(
                            ".NET Message Framing version {}.{} (only 1.0 exists)",
                            self.buf[1], self.buf[2]
                        ));
                    }
                    self.session = Session::new();
                    self.encoding = Encoding::Binary;
                    3
                }
                0x01 | 0x03 => {
                    if self.buf.len() < 2 {
                        return Ok(());
                    }
                    let v = self.buf[1];
                    if t == 0x01 && !(1..=4).contains(&v) {
                        return Err(format!("unknown .NET Message Framing mode 0x{v:02X}"));
                    }
                    if t == 0x03 {
                        self.encoding = match v {
                            0x00..=0x06 => Encoding::Text,
                            0x07 => Encoding::Binary,
                            0x08 => Encoding::BinarySession,
                            _ => return Err(format!("unknown .NET Message Framing encoding 0x{v:02X}")),
                        };
                    }
                    2
                }
                0x02 | 0x04 | 0x08 | 0x09 => {
                    let what = match t {
                        0x02 => "via",
                        0x04 => "content type",
                        0x08 => "fault",
                        _ => "upgrade",
                    };
                    let Some((s, n)) = self.string_record(what)? else {
                        return Ok(());
                    };
                    match t {
                        0x02 => self.via = s,
                        0x04 => {
                            let c = s.to_ascii_lowercase();
                            self.encoding = if c.contains("gzip") || c.contains("deflate") {
                                Encoding::Unsupported
                            } else if c.starts_with("application/soap+msbinsession1") {
                                Encoding::BinarySession
                            } else if c.starts_with("application/soap+msbin1") {
                                Encoding::Binary
                            } else if c.contains("xml") || c.contains("soap") {
                                Encoding::Text
                            } else {
                                Encoding::Unsupported
                            };
                        }
                        0x08 => return Err(format!("framing fault: {s}")),
                        _ => {
                            // The bytes after the UpgradeResponse are TLS or NegotiateStream.
                            self.consume(n);
                            self.stop();
                            return Err(format!(
                                "stream upgraded to {s}: the rest of this connection is encrypted and cannot be decoded"
                            ));
                        }
                    }
                    n
                }
                // UpgradeResponse: the responder's side of the same upgrade.
                0x0A => {
                    self.stop();
                    return Ok(());
                }
                0x05 => {
                    // Unsized envelope: chunks until a zero size.
                    let mut at = 1;
                    let mut payload = Vec::new();
                    loop {
                        let Some((n, k)) = size(&self.buf[at..])? else {
                            return Ok(());
                        };
                        at += k;
                        if n == 0 {
                            break;
                        }
                        if payload.len() + n > MAX_ENVELOPE {
                            return Err(format!("unsized envelope larger than {MAX_ENVELOPE} bytes"));
                        }
                        if self.buf.len() < at + n {
                            return Ok(());
                        }
                        payload.extend_from_slice(&self.buf[at..at + n]);
                        at += n;
                    }
                    self.emit(&payload, at, frame, time, on_envelope);
                    at
                }
                0x06 => {
                    let Some((n, k)) = size(&self.buf[1..])? else {
                        return Ok(());
                    };
                    if n == 0 || n > MAX_ENVELOPE {
                        return Err(format!("sized envelope of {n} bytes"));
                    }
                    if self.buf.len() < 1 + k + n {
                        return Ok(());
                    }
                    let payload = self.buf[1 + k..1 + k + n].to_vec();
                    self.emit(&payload, 1 + k + n, frame, time, on_envelope);
                    1 + k + n
                }
                // PreambleAck: the responder's side of a new session, with a new dictionary.
                0x0B => {
                    self.session = Session::new();
                    1
                }
                0x07 | 0x0C => 1,
                other => return Err(format!("unknown .NET Message Framing record 0x{other:02X}")),
            };
            self.consume(used);
        }
        Ok(())
    }

    fn emit(
        &mut self,
        payload: &[u8],
        wire_len: usize,
        last_frame: u32,
        time: Time,
        on_envelope: &mut dyn FnMut(Envelope<'_>, &mut Session),
    ) {
        let (first_frame, first_offset) = self.frame_of(self.buf_at);
        let e = Envelope {
            payload,
            encoding: self.encoding,
            via: &self.via,
            wire_len,
            first_frame,
            first_offset,
            last_frame,
            time,
        };
        on_envelope(e, &mut self.session);
    }
}
