//! Which protocol a TCP direction speaks, by content on any port: .NET Message Framing
//! (net.tcp), HTTP, or something else. Decided on the reassembled stream, never on the first
//! segment alone: a net.tcp sender may put its 3-byte Version record in a segment of its own, an
//! HTTP client may send "PO" and then "ST /". Until the first bytes decide, the chunks are held
//! (a handful of bytes) and then replayed, frames and offsets intact, to the parser chosen.

use super::tcp::Chunk;
use super::{http, nmf};
use crate::trace::Time;

/// An NMF stream starts with a Version record (0x00, major 1, minor 0) and a Mode record (0x01).
const NMF_START: [u8; 4] = [0x00, 0x01, 0x00, 0x01];
/// The longest start that still needs more bytes: HTTP's "OPTIONS " is 8.
const MAX_HELD: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// More bytes needed.
    Undecided,
    Nmf,
    /// HTTP or anything else: the HTTP parser tells them apart (it can resynchronise, and it
    /// counts what is not HTTP as other).
    NotNmf,
}

/// What the first bytes of a direction say.
pub fn sniff(prefix: &[u8]) -> Verdict {
    let n = prefix.len().min(NMF_START.len());
    if prefix[..n] == NMF_START[..n] {
        return if nmf::starts_nmf(prefix) {
            Verdict::Nmf
        } else {
            Verdict::Undecided
        };
    }
    if prefix.len() < MAX_HELD && http::could_be_start(prefix) && !http::looks_like_start(prefix) {
        return Verdict::Undecided;
    }
    Verdict::NotNmf
}

/// A chunk held while the protocol is undecided.
#[derive(Debug)]
pub struct Held {
    pub bytes: Vec<u8>,
    pub frame: u32,
    pub time: Time,
    pub skip: u32,
}

impl Held {
    pub fn chunk(&self) -> Chunk<'_> {
        Chunk::Data {
            bytes: &self.bytes,
            frame: self.frame,
            time: self.time,
            skip: self.skip,
        }
    }
}

/// The first bytes of one direction, until they decide.
#[derive(Debug, Default)]
pub struct Sniffer {
    held: Vec<Held>,
    prefix: Vec<u8>,
    decided: bool,
}

impl Sniffer {
    pub fn decided(&self) -> bool {
        self.decided
    }

    /// Adds a data chunk. Returns the verdict once the bytes so far decide it (or there are
    /// enough of them that nothing more would); then `take` gives back what was held, this
    /// chunk included, in order.
    pub fn push(&mut self, bytes: &[u8], frame: u32, time: Time, skip: u32) -> Verdict {
        let room = MAX_HELD.saturating_sub(self.prefix.len());
        self.prefix.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.held.push(Held {
            bytes: bytes.to_vec(),
            frame,
            time,
            skip,
        });
        let verdict = sniff(&self.prefix);
        if verdict != Verdict::Undecided {
            self.decided = true;
        }
        verdict
    }

    /// Ends the sniffing (a decision, a gap, the end of the stream): what was held, in order.
    pub fn take(&mut self) -> Vec<Held> {
        self.decided = true;
        self.prefix = Vec::new();
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_split_of_a_protocol_start_decides_as_the_whole_does() {
        let starts: [(&[u8], Verdict); 5] = [
            (&[0x00, 0x01, 0x00, 0x01, 0x02, 0x02], Verdict::Nmf),
            (b"POST /svc HTTP/1.1\r\n", Verdict::NotNmf),
            (b"OPTIONS * HTTP/1.1\r\n", Verdict::NotNmf),
            (b"HTTP/1.1 202 Accepted\r\n", Verdict::NotNmf),
            (b"SSH-2.0-OpenSSH_9.2\r\n", Verdict::NotNmf),
        ];
        for (bytes, want) in starts {
            for cut in 1..bytes.len() {
                let mut s = Sniffer::default();
                let mut got = s.push(&bytes[..cut], 1, Time::ZERO, 0);
                let mut pushed = cut;
                if got == Verdict::Undecided {
                    got = s.push(&bytes[cut..], 2, Time::ZERO, 0);
                    pushed = bytes.len();
                }
                assert_eq!(got, want, "{bytes:?} cut at {cut}");
                let held = s.take();
                let replay: Vec<u8> = held.iter().flat_map(|h| h.bytes.clone()).collect();
                assert_eq!(replay, &bytes[..pushed], "held bytes replay in order");
            }
        }
        // One byte at a time.
        let mut s = Sniffer::default();
        let mut got = Verdict::Undecided;
        for (i, b) in [0x00u8, 0x01, 0x00, 0x01].iter().enumerate() {
            assert_eq!(got, Verdict::Undecided, "decided too early at byte {i}");
            got = s.push(&[*b], i as u32 + 1, Time::ZERO, 0);
        }
        assert_eq!(got, Verdict::Nmf);
        assert_eq!(s.take().len(), 4);
    }
}
