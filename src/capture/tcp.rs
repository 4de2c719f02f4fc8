//! TCP reassembly of one direction: in-order delivery, out-of-order buffering, retransmissions
//! and overlaps (first copy wins; differing bytes are reported), gaps (reported, then skipped),
//! sequence-number wrap, and streams already open when the capture starts.

use crate::trace::Time;
use std::collections::BTreeMap;

/// Out-of-order data held per direction before the hole is declared a gap.
const MAX_PENDING: usize = 8 * 1024 * 1024;
/// Delivered bytes remembered to compare retransmitted copies against.
const RECENT: usize = 64 * 1024;

/// What comes out of the reassembler, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, from the frame that carried them; `skip` is how many bytes at the start of
    /// that frame's TCP payload were already delivered (and are not repeated here).
    Data {
        bytes: &'a [u8],
        frame: u32,
        time: Time,
        skip: u32,
    },
    /// Bytes that were never captured: the consumer must resynchronise.
    Gap { len: u64, frame: u32, time: Time },
    /// The sender's FIN was reached in order.
    End { frame: u32, time: Time },
}

/// Something the reassembler noticed (becomes an expert finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// A retransmitted or overlapping segment whose bytes differ from the first copy.
    OverlapMismatch { frame: u32, len: usize },
}

struct Held {
    data: Vec<u8>,
    frame: u32,
    time: Time,
}

#[derive(Default)]
pub struct Reassembler {
    /// Next expected sequence number, once known.
    next: Option<u32>,
    /// Stream offset of `next`.
    offset: u64,
    /// Out-of-order segments by stream offset.
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
    /// Stream offset of the FIN, once seen.
    fin: Option<u64>,
    ended: bool,
    /// The last `RECENT` delivered bytes, as a ring indexed by stream offset.
    recent: Vec<u8>,
    /// Stream offset from which the ring holds what was delivered (past the last gap: bytes
    /// declared lost were never written there).
    known_from: u64,
    /// Whether the stream was already open when the capture started.
    pub mid_stream: bool,
    pub anomalies: Vec<Anomaly>,
}

impl Reassembler {
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// Stream offset of `seq`, relative to the next expected byte (wrap-safe for ±2 GiB).
    fn rel(&self, seq: u32) -> i64 {
        seq.wrapping_sub(self.next.unwrap_or(seq)) as i32 as i64
    }

    fn remember(&mut self, bytes: &[u8], at: u64) {
        if self.recent.len() < RECENT {
            self.recent.resize(RECENT, 0);
        }
        let tail = if bytes.len() > RECENT {
            &bytes[bytes.len() - RECENT..]
        } else {
            bytes
        };
        let start = at + (bytes.len() - tail.len()) as u64;
        let pos = (start % RECENT as u64) as usize;
        let first = tail.len().min(RECENT - pos);
        self.recent[pos..pos + first].copy_from_slice(&tail[..first]);
        self.recent[..tail.len() - first].copy_from_slice(&tail[first..]);
    }

    /// Compares bytes arriving again at stream offset `at` with what was delivered there
    /// (bytes from before the stream's known start are not compared).
    fn compare_recent(&mut self, bytes: &[u8], at: i64, frame: u32) {
        let (bytes, at) = if at < 0 {
            let cut = (at.unsigned_abs() as usize).min(bytes.len());
            (&bytes[cut..], 0u64)
        } else {
            (bytes, at as u64)
        };
        if self.recent.is_empty()
            || bytes.is_empty()
            || at < self.known_from
            || at.saturating_add(RECENT as u64) <= self.offset
            || at.saturating_add(bytes.len() as u64) > self.offset
        {
            return;
        }
        let differs = bytes
            .iter()
            .enumerate()
            .any(|(i, b)| self.recent[((at + i as u64) % RECENT as u64) as usize] != *b);
        if differs {
            self.anomalies.push(Anomaly::OverlapMismatch {
                frame,
                len: bytes.len(),
            });
        }
    }

    fn deliver<F: FnMut(Chunk<'_>)>(
        &mut self,
        bytes: &[u8],
        skip: usize,
        frame: u32,
        time: Time,
        sink: &mut F,
    ) {
        if bytes.is_empty() {
            return;
        }
        self.remember(bytes, self.offset);
        self.offset += bytes.len() as u64;
        self.next = self.next.map(|n| n.wrapping_add(bytes.len() as u32));
        sink(Chunk::Data {
            bytes,
            frame,
            time,
            skip: skip as u32,
        });
    }

    /// The FIN was reached (or the stream was finished).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Feeds one segment; in-order bytes (and any held bytes they unblock) go to `sink`.
    #[allow(clippy::too_many_arguments)]
    pub fn push<F: FnMut(Chunk<'_>)>(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        missing: u32,
        frame: u32,
        time: Time,
        sink: &mut F,
    ) {
        if self.ended {
            return;
        }
        let mut seq = seq;
        if syn {
            if self.next.is_none() {
                self.next = Some(seq.wrapping_add(1));
            }
            seq = seq.wrapping_add(1);
        } else if self.next.is_none() {
            // The connection was open before the capture started: begin here.
            self.next = Some(seq);
            self.mid_stream = true;
        }
        let rel = self.rel(seq);
        let at = (self.offset as i64 + rel).max(0) as u64;
        if fin {
            let fin_at = at.saturating_add(payload.len() as u64 + missing as u64);
            self.fin.get_or_insert(fin_at);
        }
        if rel < 0 {
            // A retransmission or an overlap: the first copy wins.
            let dup = ((-rel) as usize).min(payload.len());
            self.compare_recent(&payload[..dup], self.offset as i64 + rel, frame);
            let fresh = &payload[dup..];
            if !fresh.is_empty() {
                self.deliver(fresh, dup, frame, time, sink);
                if missing > 0 {
                    self.skip(missing as u64, frame, time, sink);
                }
            }
        } else if rel == 0 {
            self.deliver(payload, 0, frame, time, sink);
            if missing > 0 {
                self.skip(missing as u64, frame, time, sink);
            }
        } else if !payload.is_empty() {
            match self.held.get(&at) {
                Some(h) => {
                    let n = h.data.len().min(payload.len());
                    if h.data[..n] != payload[..n] {
                        self.anomalies.push(Anomaly::OverlapMismatch { frame, len: n });
                    }
                }
                None => {
                    self.held_bytes += payload.len();
                    self.held.insert(
                        at,
                        Held {
                            data: payload.to_vec(),
                            frame,
                            time,
                        },
                    );
                }
            }
            if self.held_bytes > MAX_PENDING {
                // The hole will not be filled in time: give up on it.
                self.jump_to_held(sink);
            }
        }
        self.drain_held(sink);
        self.check_end(frame, time, sink);
    }

    /// Declares `len` bytes lost at the current position.
    fn skip<F: FnMut(Chunk<'_>)>(&mut self, len: u64, frame: u32, time: Time, sink: &mut F) {
        self.offset += len;
        self.known_from = self.offset;
        self.next = self.next.map(|n| n.wrapping_add(len as u32));
        sink(Chunk::Gap { len, frame, time });
    }

    /// Delivers held segments that have become contiguous.
    fn drain_held<F: FnMut(Chunk<'_>)>(&mut self, sink: &mut F) {
        while let Some((&at, _)) = self.held.first_key_value() {
            if at > self.offset {
                break;
            }
            let h = self.held.remove(&at).expect("present");
            self.held_bytes -= h.data.len();
            let dup = (self.offset - at) as usize;
            if dup < h.data.len() {
                self.compare_recent(&h.data[..dup], at as i64, h.frame);
                self.deliver(&h.data[dup..], dup, h.frame, h.time, sink);
            }
        }
    }

    /// Skips the hole before the first held segment.
    fn jump_to_held<F: FnMut(Chunk<'_>)>(&mut self, sink: &mut F) {
        if let Some((&at, h)) = self.held.first_key_value()
            && at > self.offset
        {
            let (frame, time) = (h.frame, h.time);
            self.skip(at - self.offset, frame, time, sink);
        }
        self.drain_held(sink);
    }

    fn check_end<F: FnMut(Chunk<'_>)>(&mut self, frame: u32, time: Time, sink: &mut F) {
        if let Some(fin) = self.fin
            && self.offset >= fin
            && !self.ended
        {
            self.ended = true;
            // Nothing more comes in order: the ring of recent bytes (64 KiB a direction, for
            // comparing retransmitted data) is given back — a capture of thousands of short
            // connections would otherwise keep one for each.
            self.recent = Vec::new();
            sink(Chunk::End { frame, time });
        }
    }

    /// End of capture (or RST): whatever is held comes out after gaps; a FIN is honoured.
    pub fn finish<F: FnMut(Chunk<'_>)>(&mut self, frame: u32, time: Time, sink: &mut F) {
        while !self.held.is_empty() {
            self.jump_to_held(sink);
        }
        if let Some(fin) = self.fin
            && fin > self.offset
        {
            self.skip(fin - self.offset, frame, time, sink);
        }
        self.check_end(frame, time, sink);
        self.recent = Vec::new();
        self.held_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        D(Vec<u8>, u32),
        G(u64),
        E,
    }

    fn collect(r: &mut Reassembler, segs: &[(u32, bool, bool, &[u8], u32)]) -> Vec<Out> {
        let mut out = Vec::new();
        for &(seq, syn, fin, data, frame) in segs {
            r.push(seq, syn, fin, data, 0, frame, Time::ZERO, &mut |c| {
                out.push(match c {
                    Chunk::Data { bytes, frame, .. } => Out::D(bytes.to_vec(), frame),
                    Chunk::Gap { len, .. } => Out::G(len),
                    Chunk::End { .. } => Out::E,
                })
            });
        }
        out
    }

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut r = Reassembler::new();
        let out = collect(
            &mut r,
            &[
                (100, true, false, b"", 1),
                (101, false, false, b"abc", 2),
                (107, false, false, b"ghi", 3), // ahead of a hole
                (104, false, false, b"def", 4), // fills it
                (101, false, false, b"abc", 5), // retransmission
                (110, false, true, b"j", 6),
            ],
        );
        assert_eq!(
            out,
            vec![
                Out::D(b"abc".to_vec(), 2),
                Out::D(b"def".to_vec(), 4),
                Out::D(b"ghi".to_vec(), 3),
                Out::D(b"j".to_vec(), 6),
                Out::E
            ]
        );
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn overlap_with_different_bytes_first_copy_wins() {
        let mut r = Reassembler::new();
        let out = collect(
            &mut r,
            &[
                (0, true, false, b"", 1),
                (1, false, false, b"hello", 2),
                (4, false, false, b"XXworld", 3),
            ],
        );
        assert_eq!(
            out,
            vec![Out::D(b"hello".to_vec(), 2), Out::D(b"world".to_vec(), 3)]
        );
        assert_eq!(r.anomalies, vec![Anomaly::OverlapMismatch { frame: 3, len: 2 }]);
    }

    #[test]
    fn sequence_wrap_and_mid_stream_start() {
        let mut r = Reassembler::new();
        let out = collect(
            &mut r,
            &[
                (u32::MAX - 1, false, false, b"ab", 1),
                (0, false, false, b"cd", 2),
            ],
        );
        assert_eq!(out, vec![Out::D(b"ab".to_vec(), 1), Out::D(b"cd".to_vec(), 2)]);
        assert!(r.mid_stream);
    }

    #[test]
    fn segment_from_before_a_mid_stream_start() {
        // Found by fuzzing: the first segment seen is not the oldest; an earlier one follows.
        let mut r = Reassembler::new();
        let out = collect(
            &mut r,
            &[
                (1000, false, false, b"later", 1),
                (900, false, false, &[b'x'; 150], 2),
            ],
        );
        assert_eq!(out, vec![Out::D(b"later".to_vec(), 1), Out::D(vec![b'x'; 45], 2)]);
    }

    #[test]
    fn bytes_arriving_after_their_gap_are_not_compared_with_what_was_never_there() {
        let mut r = Reassembler::new();
        collect(&mut r, &[(0, true, false, b"", 1)]);
        // "ab", then 5 bytes the capture did not keep (a snap length): declared lost.
        r.push(1, false, false, b"ab", 5, 2, Time::ZERO, &mut |_| {});
        r.push(8, false, false, b"hij", 0, 3, Time::ZERO, &mut |_| {});
        // The lost bytes come again, as a retransmission would bring them.
        r.push(3, false, false, b"cdefg", 0, 4, Time::ZERO, &mut |_| {});
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        // Bytes that were delivered are still compared.
        r.push(8, false, false, b"hiX", 0, 5, Time::ZERO, &mut |_| {});
        assert_eq!(r.anomalies, vec![Anomaly::OverlapMismatch { frame: 5, len: 3 }]);
    }

    #[test]
    fn a_later_stream_compares_only_its_own_bytes() {
        let mut first = Reassembler::new();
        collect(
            &mut first,
            &[(0, true, false, b"", 1), (1, false, true, &[b'a'; 3000], 2)],
        );
        assert!(first.is_ended());
        // The next stream's retransmissions are compared with its own bytes.
        let mut next = Reassembler::new();
        collect(
            &mut next,
            &[
                (0, true, false, b"", 3),
                (1, false, false, &[b'b'; 3000], 4),
                (1, false, false, &[b'b'; 3000], 5),
            ],
        );
        assert!(next.anomalies.is_empty());
        collect(&mut next, &[(1, false, false, &[b'a'; 3000], 6)]);
        assert_eq!(
            next.anomalies,
            vec![Anomaly::OverlapMismatch { frame: 6, len: 3000 }]
        );
    }

    #[test]
    fn gap_reported_at_finish() {
        let mut r = Reassembler::new();
        let mut out = collect(
            &mut r,
            &[
                (0, true, false, b"", 1),
                (1, false, false, b"ab", 2),
                (10, false, false, b"xyz", 3),
            ],
        );
        r.finish(4, Time::ZERO, &mut |c| {
            out.push(match c {
                Chunk::Data { bytes, frame, .. } => Out::D(bytes.to_vec(), frame),
                Chunk::Gap { len, .. } => Out::G(len),
                Chunk::End { .. } => Out::E,
            })
        });
        assert_eq!(
            out,
            vec![Out::D(b"ab".to_vec(), 2), Out::G(7), Out::D(b"xyz".to_vec(), 3)]
        );
    }
}
