//! `WireTable`: the timeline's rows, stored packed. A capture holds one row per SOAP or HTTP
//! message (1.7 per WS-RM message over HTTP: every request has its response), so the row's size
//! is most of what a loaded capture weighs: a [`Wire`] is 48 bytes, a packed row 24.
//!
//! A row keeps its time and frame relative to its block of 64 rows, its start (`Wire::origin`)
//! relative to its own frame, its two endpoints as one of the pairs seen (a capture has two per
//! connection), and its acknowledgement index as "the next one" (a bit per row of the block):
//! wires are added in time order and acks with them, so this is nearly always exact. A row
//! whose values do not fit (a time 4.3 s past its block's first, a frame before it or 65,536
//! past it, a message of 64 KiB or more, a message number above 2³², a 65,535th sequence, an
//! ack out of order, a live origin past 4 GiB) is kept whole beside the packed rows — nothing
//! is ever rounded; `get` returns exactly what `push` was given.

use super::{SeqIdx, Time, Wire, WireFlags, WireKind};
use serde::Serialize;

/// Rows per block: the block holds the base time, and the ack bitmask is one `u64`.
const BLOCK: usize = 64;
/// Rows per chunk. Rows live in chunks that never move, so growing the table never copies it
/// nor holds an outgrown copy beside the new one (with glibc's mmap threshold fixed in
/// `main` a single vector would grow by `mremap` as well: measured the same there).
const CHUNK: usize = 4096;
/// `Row::kind` of a row kept whole in `spilled` (`Row::number` is its index there).
const SPILLED: u8 = u8::MAX;
/// `Row::seq` for `SeqIdx::NONE`.
const NO_SEQ: u16 = u16::MAX;

/// One wire packed in 24 bytes (2-byte aligned: the u32 fields are read by value).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, packed(2))]
struct Row {
    /// Nanoseconds after the block's `base_time`.
    time: u32,
    /// Frames after the block's `base_frame`.
    frame: u16,
    /// Capture (frame ≠ 0): frames back to where the message starts << 16 | offset in that
    /// frame's payload (`capture::origin`); otherwise `Wire::origin` itself.
    origin: u32,
    number: u32,
    size: u16,
    seq: u16,
    /// (from, to) in `WireTable::pairs`.
    pair: u16,
    aux: u16,
    kind: u8,
    flags: u8,
}

#[derive(Clone, Copy, Debug)]
struct Block {
    base_time: u64,
    /// The frame of the block's first row.
    base_frame: u32,
    /// Ack index of the first row whose bit is set in `acked`.
    first_ack: u32,
    /// Row j of the block has ack `first_ack` + (bits below j) when bit j is set.
    acked: u64,
}

#[derive(Clone, Debug, Default)]
pub struct WireTable {
    /// Full chunks of `CHUNK` rows, the last one filling.
    rows: Vec<Vec<Row>>,
    len: usize,
    blocks: Vec<Block>,
    /// The (from, to) endpoint pairs rows name, and their indexes.
    pairs: Vec<(u16, u16)>,
    pair_index: rustc_hash::FxHashMap<(u16, u16), u16>,
    spilled: Vec<Wire>,
}

const KINDS: [WireKind; 14] = [
    WireKind::CreateSequence,
    WireKind::CreateSequenceResponse,
    WireKind::Data,
    WireKind::LastMessage,
    WireKind::Ack,
    WireKind::AckRequested,
    WireKind::CloseSequence,
    WireKind::CloseSequenceResponse,
    WireKind::TerminateSequence,
    WireKind::TerminateSequenceResponse,
    WireKind::Fault,
    WireKind::Security,
    WireKind::OtherSoap,
    WireKind::Http,
];

/// `origin` as the packed row stores it, if it fits.
fn pack_origin(frame: u32, origin: u64) -> Option<u32> {
    if frame == 0 {
        return u32::try_from(origin).ok();
    }
    let (first, offset) = ((origin >> 32) as u32, origin as u32);
    let back = frame.checked_sub(first)?;
    (back <= 0xFFFF && offset <= 0xFFFF).then_some((back << 16) | offset)
}

fn unpack_origin(frame: u32, packed: u32) -> u64 {
    if frame == 0 {
        return u64::from(packed);
    }
    (u64::from(frame - (packed >> 16)) << 32) | u64::from(packed & 0xFFFF)
}

impl WireTable {
    pub fn new() -> Self {
        WireTable::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn row(&self, i: usize) -> Option<Row> {
        self.rows.get(i / CHUNK)?.get(i % CHUNK).copied()
    }

    fn push_row(&mut self, row: Row) {
        if self.len.is_multiple_of(CHUNK) {
            self.rows.push(Vec::with_capacity(CHUNK));
        }
        self.rows.last_mut().expect("pushed above").push(row);
        self.len += 1;
    }

    /// The index of the pair (from, to), added on first use (none when 65,535 are taken).
    fn pair(&mut self, from: u16, to: u16) -> Option<u16> {
        if let Some(&i) = self.pair_index.get(&(from, to)) {
            return Some(i);
        }
        let i = u16::try_from(self.pairs.len()).ok().filter(|&i| i != u16::MAX)?;
        self.pairs.push((from, to));
        self.pair_index.insert((from, to), i);
        Some(i)
    }

    /// The row packed, if every value fits; `acked` says the row takes the block's next ack.
    fn pack(&mut self, block: usize, acked: bool, w: &Wire) -> Option<Row> {
        let block = self.blocks[block];
        let time = u32::try_from(w.time.0.checked_sub(block.base_time)?).ok()?;
        if w.has_ack() != acked {
            return None;
        }
        let seq = match w.seq {
            SeqIdx::NONE => NO_SEQ,
            s => u16::try_from(s.0).ok().filter(|&s| s != NO_SEQ)?,
        };
        Some(Row {
            time,
            frame: u16::try_from(w.frame.checked_sub(block.base_frame)?).ok()?,
            origin: pack_origin(w.frame, w.origin)?,
            number: u32::try_from(w.number).ok()?,
            size: u16::try_from(w.size).ok()?,
            seq,
            pair: self.pair(w.from, w.to)?,
            aux: w.aux_bits(),
            kind: w.kind as u8,
            flags: w.flags.0,
        })
    }

    fn spill(&mut self, w: Wire) -> Row {
        let at = self.spilled.len() as u32;
        self.spilled.push(w);
        Row {
            kind: SPILLED,
            number: at,
            ..Row::default()
        }
    }

    /// The ack the row at `i` takes if its bit is set.
    fn expected_ack(&self, i: usize) -> u32 {
        let b = &self.blocks[i / BLOCK];
        let below = b.acked & ((1u64 << (i % BLOCK)) - 1);
        b.first_ack.wrapping_add(below.count_ones())
    }

    pub fn push(&mut self, w: Wire) {
        let i = self.len;
        if i.is_multiple_of(BLOCK) {
            self.blocks.push(Block {
                base_time: w.time.0,
                base_frame: w.frame,
                first_ack: 0,
                acked: 0,
            });
        }
        // The row is the block's last, so every bit set so far is below it.
        let block = self.blocks.last_mut().expect("pushed above");
        if w.has_ack() && block.acked == 0 {
            block.first_ack = w.ack;
        }
        let acked = w.has_ack() && w.ack == block.first_ack.wrapping_add(block.acked.count_ones());
        if acked {
            block.acked |= 1u64 << (i % BLOCK);
        }
        let row = match self.pack(self.blocks.len() - 1, acked, &w) {
            Some(row) => row,
            None => self.spill(w),
        };
        self.push_row(row);
    }

    pub fn get(&self, i: usize) -> Option<Wire> {
        let row = self.row(i)?;
        if row.kind == SPILLED {
            return Some(self.spilled[row.number as usize]);
        }
        let b = &self.blocks[i / BLOCK];
        let frame = b.base_frame + u32::from(row.frame);
        let (from, to) = self.pairs[row.pair as usize];
        let mut w = Wire::new(
            Time(b.base_time + u64::from(row.time)),
            from,
            to,
            KINDS[row.kind as usize],
        );
        w.flags = WireFlags(row.flags);
        w.set_aux_bits(row.aux);
        w.seq = if row.seq == NO_SEQ {
            SeqIdx::NONE
        } else {
            SeqIdx(u32::from(row.seq))
        };
        w.number = u64::from(row.number);
        w.size = u32::from(row.size);
        w.frame = frame;
        w.origin = unpack_origin(frame, row.origin);
        if b.acked & (1u64 << (i % BLOCK)) != 0 {
            w.ack = self.expected_ack(i);
        }
        Some(w)
    }

    /// The time of the wire at `i`, without unpacking the rest of it (the analysis asks this
    /// once for every message an ack covers).
    pub fn time(&self, i: usize) -> Option<Time> {
        let row = self.row(i)?;
        if row.kind == SPILLED {
            return Some(self.spilled[row.number as usize].time);
        }
        Some(Time(self.blocks[i / BLOCK].base_time + u64::from(row.time)))
    }

    /// The wire at `i`; panics past the end, as indexing a slice does.
    pub fn at(&self, i: usize) -> Wire {
        match self.get(i) {
            Some(w) => w,
            None => panic!("wire {i} of {}", self.len()),
        }
    }

    pub fn last(&self) -> Option<Wire> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Replaces the wire at `i` (a CreateSequence learns its sequence). Its ack bit stays as
    /// it was, so the rows after it keep theirs; a wire that no longer packs is kept whole.
    pub fn set(&mut self, i: usize, w: Wire) {
        if i >= self.len() {
            return;
        }
        let acked = self.blocks[i / BLOCK].acked & (1u64 << (i % BLOCK)) != 0;
        let packed = if !acked || w.ack == self.expected_ack(i) {
            self.pack(i / BLOCK, acked, &w)
        } else {
            None
        };
        let old = self.row(i).expect("checked above");
        let new = match (packed, old) {
            (Some(row), _) => row,
            (None, old) if old.kind == SPILLED => {
                self.spilled[old.number as usize] = w;
                old
            }
            (None, _) => self.spill(w),
        };
        self.rows[i / CHUNK][i % CHUNK] = new;
    }

    /// Changes the wire at `i` in place.
    pub fn update(&mut self, i: usize, f: impl FnOnce(&mut Wire)) {
        if let Some(mut w) = self.get(i) {
            f(&mut w);
            self.set(i, w);
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// The wires from index `start` on.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        Iter {
            table: self,
            next: start.min(self.len()),
            end: self.len(),
        }
    }

    /// The first index whose wire does not satisfy `pred` (wires partitioned by it, e.g. by
    /// frame or time), as `slice::partition_point`.
    pub fn partition_point(&self, mut pred: impl FnMut(&Wire) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self.at(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Keeps the wires `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Wire) -> bool) {
        *self = self.iter().filter(|w| keep(w)).collect();
    }

    pub fn to_vec(&self) -> Vec<Wire> {
        self.iter().collect()
    }

    /// Gives back the room grown for rows never added (a loaded capture is kept for long).
    pub fn shrink_to_fit(&mut self) {
        if let Some(last) = self.rows.last_mut() {
            last.shrink_to_fit();
        }
        self.rows.shrink_to_fit();
        self.blocks.shrink_to_fit();
        self.spilled.shrink_to_fit();
    }

    /// Bytes the rows take (packed rows, blocks, rows kept whole).
    pub fn heap_bytes(&self) -> usize {
        self.rows.iter().map(Vec::capacity).sum::<usize>() * size_of::<Row>()
            + self.rows.capacity() * size_of::<Vec<Row>>()
            + self.blocks.capacity() * size_of::<Block>()
            + self.spilled.capacity() * size_of::<Wire>()
            + self.pairs.capacity() * size_of::<(u16, u16)>()
    }
}

impl PartialEq for WireTable {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Extend<Wire> for WireTable {
    fn extend<I: IntoIterator<Item = Wire>>(&mut self, iter: I) {
        for w in iter {
            self.push(w);
        }
    }
}

impl FromIterator<Wire> for WireTable {
    fn from_iter<I: IntoIterator<Item = Wire>>(iter: I) -> Self {
        let mut t = WireTable::new();
        t.extend(iter);
        t
    }
}

impl From<Vec<Wire>> for WireTable {
    fn from(v: Vec<Wire>) -> Self {
        v.into_iter().collect()
    }
}

impl Serialize for WireTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The wires of a table, by value.
#[derive(Clone)]
pub struct Iter<'a> {
    table: &'a WireTable,
    next: usize,
    end: usize,
}

impl Iterator for Iter<'_> {
    type Item = Wire;
    fn next(&mut self) -> Option<Wire> {
        if self.next >= self.end {
            return None;
        }
        self.next += 1;
        self.table.get(self.next - 1)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
    fn nth(&mut self, n: usize) -> Option<Wire> {
        self.next = self.next.saturating_add(n).min(self.end);
        self.next()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Wire> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.table.get(self.end)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a WireTable {
    type Item = Wire;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(i: u64) -> Wire {
        let mut w = Wire::new(Time(1_000_000 * i), 1, 2, WireKind::Data);
        w.seq = SeqIdx(0);
        w.number = i + 1;
        w.size = 4096;
        w.frame = 3 * i as u32 + 3;
        w.origin = (u64::from(w.frame - 2) << 32) | 54;
        w
    }

    #[test]
    fn kinds_are_in_declaration_order() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn rows_are_24_bytes() {
        assert_eq!(size_of::<Row>(), 24);
        assert_eq!(size_of::<Block>(), 24);
    }

    #[test]
    fn what_is_pushed_comes_back_exactly() {
        let mut t = WireTable::new();
        let mut want = Vec::new();
        let mut acks = 0;
        for i in 0..1000u64 {
            let mut w = wire(i);
            match i % 7 {
                0 => {
                    w.ack = acks;
                    acks += 1;
                }
                1 => w.time = Time(w.time.0 + 5_000_000_000), // past the block's 4.3 s
                2 => w.number = u64::MAX - i,
                3 => w.seq = SeqIdx(70_000),
                4 => {
                    w.origin = 7; // does not name an earlier frame
                    w.size = 70_000;
                }
                5 => {
                    w.ack = 1_000_000 + i as u32; // out of order
                }
                _ => {
                    w.kind = WireKind::Http;
                    w.set_method(3);
                    w.seq = SeqIdx::NONE;
                    w.frame = 0;
                    w.origin = u64::from(u32::MAX) + i; // a live origin past 4 GiB
                }
            }
            want.push(w);
            t.push(w);
        }
        assert_eq!(t.len(), 1000);
        assert!(t.iter().eq(want.iter().copied()));
        assert!(t.iter().rev().eq(want.iter().rev().copied()));
        assert!((0..1000).all(|i| t.time(i) == Some(want[i].time)));
        assert_eq!(t.last(), want.last().copied());
        assert!(t.spilled.len() < 1000 && !t.spilled.is_empty());
    }

    #[test]
    fn ordinary_rows_pack() {
        let mut t: WireTable = (0..10_000).map(wire).collect();
        assert!(t.spilled.is_empty());
        assert_eq!(t.at(9_999), wire(9_999));
        t.shrink_to_fit();
        assert!(t.heap_bytes() < 10_000 * 31, "{}", t.heap_bytes());
    }

    #[test]
    fn more_endpoint_pairs_than_fit_are_kept_whole() {
        let want: Vec<Wire> = (0..70_000u64)
            .map(|i| {
                let mut w = wire(i);
                (w.from, w.to) = ((i % 300) as u16, (i / 300) as u16);
                w
            })
            .collect();
        let t: WireTable = want.iter().copied().collect();
        assert_eq!(t.pairs.len(), 65_535);
        assert_eq!(t.spilled.len(), 70_000 - 65_535);
        assert!(t.iter().eq(want.iter().copied()));
    }

    #[test]
    fn rows_span_chunks() {
        let n = 3 * CHUNK as u64 + 5;
        let mut t: WireTable = (0..n).map(wire).collect();
        assert_eq!(t.len(), n as usize);
        assert_eq!(t.rows.len(), 4);
        assert!(t.iter().eq((0..n).map(wire)));
        t.update(CHUNK, |w| w.seq = SeqIdx(9));
        assert_eq!(t.at(CHUNK).seq, SeqIdx(9));
        assert_eq!(t.at(CHUNK - 1), wire(CHUNK as u64 - 1));
        assert_eq!(t.get(n as usize), None);
    }

    #[test]
    fn set_keeps_later_acks() {
        let mut t = WireTable::new();
        for i in 0..10u64 {
            let mut w = wire(i);
            if i % 2 == 0 {
                w.ack = i as u32 / 2;
            }
            t.push(w);
        }
        // The ack of wire 2 moves, wire 3 gains one, wire 4 loses its: the others keep theirs.
        t.update(2, |w| w.ack = 99);
        t.update(3, |w| w.ack = 1);
        t.update(4, |w| w.ack = Wire::NO_ACK);
        t.update(5, |w| w.seq = SeqIdx(3));
        let acks: Vec<u32> = t.iter().map(|w| w.ack).collect();
        let n = Wire::NO_ACK;
        assert_eq!(acks, [0, n, 99, 1, n, n, 3, n, 4, n]);
        assert_eq!(t.at(5).seq, SeqIdx(3));
        t.update(2, |w| w.ack = 1);
        assert_eq!(t.at(2).ack, 1);
        t.retain(|w| w.number % 2 == 1);
        assert_eq!(t.len(), 5);
        assert_eq!(t.at(1).number, 3);
        assert_eq!(t.at(1).ack, 1);
    }
}
