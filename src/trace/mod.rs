//! The one timeline: simulator, live driver and capture decoder all produce it; analysis and
//! every view read only it. Data flows one way: source → timeline → analysis → views.

mod event;
mod export;
pub mod filter;
mod table;
mod time;
mod viewpoint;
mod wire;

pub use event::{Event, EventKind, FaultCause, Side, Timer};
pub use export::to_csv;
pub use table::WireTable;
pub use time::Time;
pub use wire::{AckRef, RangeRef, Wire, WireFlags, WireKind, classify};

use crate::wsrm::{AckContent, AckRange, Body, Envelope, RmVersion, SoapVersion, Text};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

/// Index of a sequence in [`Timeline::sequences`]; `NONE` when a record has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SeqIdx(pub u32);

impl Default for SeqIdx {
    fn default() -> Self {
        SeqIdx::NONE
    }
}

impl SeqIdx {
    pub const NONE: SeqIdx = SeqIdx(u32::MAX);
    pub fn is_none(self) -> bool {
        self == SeqIdx::NONE
    }
    pub fn index(self) -> Option<usize> {
        (!self.is_none()).then_some(self.0 as usize)
    }
}

/// Where a wire message came from: its size, for captures its frame and file offset, and what
/// the transport knows of it (`WireFlags::RESPONSE`: carried in an HTTP response).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireMeta {
    pub size: u32,
    pub frame: u32,
    pub origin: u64,
    pub flags: WireFlags,
}

/// What is known about one sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SequenceInfo {
    pub identifier: Text,
    pub version: Option<RmVersion>,
    pub soap: Option<SoapVersion>,
    /// Endpoints (indexes into `Timeline::endpoints`) of the RM source and destination.
    pub source: Option<u16>,
    pub destination: Option<u16>,
    /// The CreateSequence and CreateSequenceResponse wires, once paired.
    pub handshake: Option<(u32, u32)>,
    /// The return sequence this sequence's CreateSequence offered and its response accepted
    /// (request-reply, duplex): the session's other half.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_sequence: Option<SeqIdx>,
    /// For a return sequence: the sequence whose CreateSequence offered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_by: Option<SeqIdx>,
    /// The CreateSequence offered a return sequence and the response did not accept it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub offer_refused: bool,
    /// Source and destination come from a message of the sequence (not guessed from acks).
    #[serde(skip)]
    pub endpoints_certain: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Timeline {
    /// Endpoint names: "RM source", "10.0.0.5:8080", ...
    pub endpoints: Vec<Text>,
    pub sequences: Vec<SequenceInfo>,
    pub wires: WireTable,
    /// The acknowledgements wires carry, referenced by `Wire::ack`.
    pub acks: Vec<AckRef>,
    /// Ack ranges, referenced by `AckRef::ranges`.
    pub ranges: Vec<AckRange>,
    pub events: Vec<Event>,
    /// Message logs of both ends: when a wire arrived (it is timed when it left), by wire
    /// index, in wire order. Empty for other sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arrivals: Vec<(u32, Time)>,
    /// Captures: what Wireshark's Info column says of an HTTP message without SOAP — the
    /// request line ("GET /svc?wsdl HTTP/1.1"), or a response's status line when it has a body
    /// ("HTTP/1.1 200 OK  (text/xml)") — by wire index, in wire order. An empty 202 is not
    /// kept: its status in `Wire::number` says it all, and one-way HTTP has one per message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_lines: Vec<(u32, Text)>,
    /// Captures: pcapng packet comments, by frame number, in frame order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frame_comments: Vec<(u32, Text)>,
    #[serde(skip)]
    seq_by_id: HashMap<Text, SeqIdx>,
    #[serde(skip)]
    endpoint_by_name: HashMap<Text, u16>,
    /// CreateSequence wires waiting for their response, by MessageID.
    #[serde(skip)]
    pending_create: HashMap<Text, u32>,
    /// Per sequence: message numbers seen on the wire, and copies beyond the first.
    #[serde(skip)]
    copies: HashMap<SeqIdx, Copies>,
    /// Wires changed after they were added (a CreateSequence learns its sequence), for deltas.
    #[serde(skip)]
    patches: Vec<u32>,
    /// Replies of a return sequence and the request each names in RelatesTo: (reply wire,
    /// request wire), in reply order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<(u32, u32)>,
    /// CreateSequence wires that offered a return sequence, until their response is paired.
    #[serde(skip)]
    pending_offer: HashMap<u32, SeqIdx>,
    /// CreateSequenceResponse wires that accept an offer.
    #[serde(skip)]
    accepting: rustc_hash::FxHashSet<u32>,
    /// Requests of sequences with a return sequence, by MessageID, until a reply names them
    /// (at most `MAX_OPEN_REQUESTS`, oldest forgotten first).
    #[serde(skip)]
    open_requests: HashMap<Text, u32>,
    #[serde(skip)]
    open_order: std::collections::VecDeque<Text>,
}

/// Requests remembered for pairing with their replies (a bound for captures that never reply).
const MAX_OPEN_REQUESTS: usize = 4096;
/// Handshake halves waiting for their other half: a capture of endless unanswered
/// CreateSequences forgets them rather than grow without bound.
const MAX_UNPAIRED: usize = 65_536;

/// Called before an insert: the new entry is kept.
fn forget_if_too_many<K, V>(m: &mut HashMap<K, V>) {
    if m.len() >= MAX_UNPAIRED {
        m.clear();
    }
}

/// What was added to a timeline since a [`DeltaCursor`] last looked: how a live session streams
/// to the UI without copying what the UI already has.
#[derive(Clone, Debug, Default)]
pub struct Delta {
    pub endpoints: Vec<Text>,
    /// Every sequence (they are few, and their info grows as messages arrive).
    pub sequences: Vec<SequenceInfo>,
    pub wires: Vec<Wire>,
    pub acks: Vec<AckRef>,
    pub ranges: Vec<AckRange>,
    pub events: Vec<Event>,
    /// Earlier wires that changed.
    pub patched: Vec<(u32, Wire)>,
    /// Reply ↔ request pairs found since.
    pub replies: Vec<(u32, u32)>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
            && self.wires.is_empty()
            && self.events.is_empty()
            && self.patched.is_empty()
    }
}

/// How much of a timeline has been handed out.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeltaCursor {
    endpoints: usize,
    wires: usize,
    acks: usize,
    ranges: usize,
    events: usize,
    patches: usize,
    replies: usize,
}

/// Which message numbers of a sequence were seen, to count retransmissions without a map
/// entry per message (the set is nearly always one range).
#[derive(Clone, Debug, Default)]
struct Copies {
    seen: crate::ranges::Ranges,
    repeats: HashMap<u64, u16>,
}

impl Timeline {
    pub fn new() -> Self {
        Timeline::default()
    }

    /// The endpoint index for `name`, adding it on first use.
    pub fn endpoint(&mut self, name: &str) -> u16 {
        if let Some(&i) = self.endpoint_by_name.get(name) {
            return i;
        }
        let i = u16::try_from(self.endpoints.len()).unwrap_or(u16::MAX);
        let name = Text::from(name);
        self.endpoints.push(name.clone());
        self.endpoint_by_name.insert(name, i);
        i
    }

    /// Gives endpoint `i` a new name (a real transport learns its address after it started).
    pub fn rename_endpoint(&mut self, i: u16, name: &str) {
        let Some(old) = self.endpoints.get(i as usize).cloned() else {
            return;
        };
        self.endpoint_by_name.remove(&old);
        let name = Text::from(name);
        self.endpoints[i as usize] = name.clone();
        self.endpoint_by_name.insert(name, i);
    }

    /// The sequence index for `id`, adding it on first use.
    pub fn sequence(&mut self, id: &Text) -> SeqIdx {
        if let Some(&i) = self.seq_by_id.get(id) {
            return i;
        }
        let i = SeqIdx(self.sequences.len() as u32);
        self.sequences.push(SequenceInfo {
            identifier: id.clone(),
            version: None,
            soap: None,
            source: None,
            destination: None,
            handshake: None,
            return_sequence: None,
            offered_by: None,
            offer_refused: false,
            endpoints_certain: false,
        });
        self.seq_by_id.insert(id.clone(), i);
        i
    }

    pub fn find_sequence(&self, id: &str) -> Option<SeqIdx> {
        self.seq_by_id.get(id).copied()
    }

    pub fn seq_info(&self, idx: SeqIdx) -> Option<&SequenceInfo> {
        idx.index().and_then(|i| self.sequences.get(i))
    }

    /// The SequenceAcknowledgement `w` carries, if any.
    pub fn ack_of(&self, w: &Wire) -> Option<&AckRef> {
        self.acks.get(w.ack as usize)
    }

    /// The sequence `w`'s ack refers to (`SeqIdx::NONE`: it carries none).
    pub fn ack_seq(&self, w: &Wire) -> SeqIdx {
        self.ack_of(w).map_or(SeqIdx::NONE, |a| a.seq)
    }

    pub fn ack_ranges(&self, w: &Wire) -> &[AckRange] {
        let Some(a) = self.ack_of(w) else {
            return &[];
        };
        let start = a.ranges.start as usize;
        self.ranges
            .get(start..start + a.ranges.len as usize)
            .unwrap_or(&[])
    }

    /// `netrm:BufferRemaining` of `w`'s ack.
    pub fn buffer_remaining(&self, w: &Wire) -> Option<u32> {
        self.ack_of(w)
            .map(|a| a.buffer_remaining)
            .filter(|&b| b != u32::MAX)
    }

    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Records an envelope on the wire and returns its index. The side that sent it is
    /// learnt here: a sequence's source sends its Sequence headers, its destination its acks.
    pub fn add_wire(&mut self, time: Time, from: u16, to: u16, env: &Envelope, meta: WireMeta) -> u32 {
        let (kind, flags, fault) = classify(env);
        let mut wire = Wire::new(time, from, to, kind);
        wire.flags = WireFlags(flags.0 | meta.flags.0);
        wire.set_fault(fault);
        wire.size = meta.size;
        wire.frame = meta.frame;
        wire.origin = meta.origin;
        let body_id = match &env.body {
            Body::CreateSequenceResponse(r) => Some(&r.identifier),
            Body::CloseSequence(e) | Body::TerminateSequence(e) => {
                wire.number = e.last_msg_number.map_or(0, |n| n.get());
                Some(&e.identifier)
            }
            Body::CloseSequenceResponse { identifier } | Body::TerminateSequenceResponse { identifier } => {
                Some(identifier)
            }
            Body::Fault(f) => f.identifier.as_ref(),
            _ => None,
        };
        if let Some(s) = &env.sequence {
            wire.seq = self.sequence(&s.identifier);
            wire.number = s.message_number.get();
            self.learn(wire.seq, env, Some(from), Some(to));
            self.learn_endpoints(wire.seq, from, to);
        } else if let Some(id) = body_id {
            wire.seq = self.sequence(id);
            // A CreateSequenceResponse comes from the destination; Close/Terminate from the source.
            match kind {
                WireKind::CreateSequenceResponse
                | WireKind::CloseSequenceResponse
                | WireKind::TerminateSequenceResponse => self.learn(wire.seq, env, Some(to), Some(from)),
                WireKind::CloseSequence | WireKind::TerminateSequence => {
                    self.learn(wire.seq, env, Some(from), Some(to))
                }
                _ => self.learn(wire.seq, env, None, None),
            }
        } else if let Some(ar) = env.ack_requested.first() {
            wire.seq = self.sequence(&ar.identifier);
            self.learn(wire.seq, env, Some(from), Some(to));
        }
        if let Some(ack) = env.acks.first() {
            let ack_seq = self.sequence(&ack.identifier);
            self.learn(ack_seq, env, Some(to), Some(from));
            if wire.seq.is_none() {
                wire.seq = ack_seq;
            }
            let mut ranges = RangeRef {
                start: self.ranges.len() as u32,
                len: 0,
            };
            if let AckContent::Ranges(r) = &ack.content {
                ranges.len = r.len().min(u16::MAX as usize) as u16;
                self.ranges.extend_from_slice(&r[..ranges.len as usize]);
            }
            wire.ack = self.acks.len() as u32;
            self.acks.push(AckRef {
                seq: ack_seq,
                ranges,
                buffer_remaining: ack.buffer_remaining.unwrap_or(u32::MAX),
            });
        }
        if kind.is_sequenced() && !wire.seq.is_none() {
            let copy = self.copy_number(wire.seq, wire.number);
            wire.set_attempt(copy);
        }
        let idx = self.wires.len() as u32;
        if let Body::CreateSequence(cs) = &env.body
            && let Some(offer) = &cs.offer
        {
            // The offered sequence goes the other way: from the CreateSequence's receiver.
            let offered = self.sequence(&offer.identifier);
            self.learn(offered, env, Some(to), Some(from));
            forget_if_too_many(&mut self.pending_offer);
            self.pending_offer.insert(idx, offered);
        }
        if let Body::CreateSequenceResponse(r) = &env.body
            && r.accept.is_some()
        {
            if self.accepting.len() >= MAX_UNPAIRED {
                self.accepting.clear();
            }
            self.accepting.insert(idx);
        }
        self.pair_reply(idx, &wire, env);
        // Pair CreateSequence with its response through MessageID / RelatesTo.
        match (&env.body, &env.addressing) {
            (Body::CreateSequence(_), a) if a.message_id.is_some() => {
                forget_if_too_many(&mut self.pending_create);
                self.pending_create
                    .insert(a.message_id.clone().expect("checked"), idx);
            }
            (Body::CreateSequenceResponse(_), a) => {
                if let Some(cs) = a
                    .relates_to
                    .as_ref()
                    .and_then(|r| self.pending_create.remove(&r.message_id))
                {
                    self.pair_handshake_at(cs, idx, wire.seq);
                }
            }
            _ => {}
        }
        self.wires.push(wire);
        idx
    }

    /// Requests of a session with a return sequence are remembered by MessageID; a message of
    /// the return sequence naming one in RelatesTo is its reply.
    fn pair_reply(&mut self, idx: u32, wire: &Wire, env: &Envelope) {
        if !wire.kind.is_sequenced() {
            return;
        }
        let info = wire.seq.index().and_then(|i| self.sequences.get(i));
        let (has_return, is_return) = info.map_or((false, false), |i| {
            (i.return_sequence.is_some(), i.offered_by.is_some())
        });
        if has_return && let Some(mid) = &env.addressing.message_id {
            if self.open_requests.insert(mid.clone(), idx).is_none() {
                self.open_order.push_back(mid.clone());
            }
            while self.open_order.len() > MAX_OPEN_REQUESTS {
                if let Some(old) = self.open_order.pop_front() {
                    self.open_requests.remove(&old);
                }
            }
        }
        if is_return
            && let Some(r) = &env.addressing.relates_to
            && let Some(&request) = self.open_requests.get(&r.message_id)
        {
            self.replies.push((idx, request));
        }
    }

    /// The request a reply of a return sequence answers (its RelatesTo), if known.
    pub fn request_of(&self, reply: u32) -> Option<u32> {
        let i = self.replies.binary_search_by_key(&reply, |(r, _)| *r).ok()?;
        Some(self.replies[i].1)
    }

    /// Records an HTTP message that carries no SOAP envelope (shown, not analysed).
    pub fn add_plain(&mut self, time: Time, from: u16, to: u16, meta: WireMeta) -> u32 {
        self.add_plain_with(time, from, to, meta, |_| {})
    }

    /// `add_plain`, with `finish` filling in what the transport knows (a response's status in
    /// `number`, a request's method) before the wire is stored.
    pub fn add_plain_with(
        &mut self,
        time: Time,
        from: u16,
        to: u16,
        meta: WireMeta,
        finish: impl FnOnce(&mut Wire),
    ) -> u32 {
        let mut wire = Wire::new(time, from, to, WireKind::Http);
        wire.flags = meta.flags;
        wire.size = meta.size;
        wire.frame = meta.frame;
        wire.origin = meta.origin;
        finish(&mut wire);
        self.wires.push(wire);
        (self.wires.len() - 1) as u32
    }

    /// Comments on the frames `first..=last` (a message spans them).
    pub fn comments_between(&self, first: u32, last: u32) -> impl Iterator<Item = &(u32, Text)> {
        let i = self.frame_comments.partition_point(|(f, _)| *f < first);
        self.frame_comments[i..]
            .iter()
            .take_while(move |(f, _)| *f <= last)
    }

    /// The HTTP start line recorded for wire `w` (`http_lines`).
    pub fn http_line(&self, w: u32) -> Option<&str> {
        let i = self.http_lines.binary_search_by_key(&w, |(i, _)| *i).ok()?;
        Some(&self.http_lines[i].1)
    }

    /// 0 for the first copy of (sequence, number) on the wire, 1 for the next, ...
    fn copy_number(&mut self, seq: SeqIdx, number: u64) -> u16 {
        let c = self.copies.entry(seq).or_default();
        if c.seen.insert(number) {
            0
        } else {
            let r = c.repeats.entry(number).or_insert(0);
            *r = r.saturating_add(1);
            *r
        }
    }

    /// Pairs a CreateSequence wire with its response (HTTP request/response when RelatesTo
    /// does not tell).
    pub fn pair_handshake(&mut self, create: u32, response: u32) {
        let seq = self.wires.get(response as usize).map_or(SeqIdx::NONE, |w| w.seq);
        if self.seq_info(seq).is_some_and(|s| s.handshake.is_none()) {
            self.pair_handshake_at(create, response, seq);
        }
    }

    fn pair_handshake_at(&mut self, create: u32, response: u32, seq: SeqIdx) {
        if let Some(info) = seq.index().and_then(|i| self.sequences.get_mut(i)) {
            info.handshake = Some((create, response));
        }
        if let Some(offered) = self.pending_offer.remove(&create) {
            let accepted = self.accepting.remove(&response);
            if let Some(info) = seq.index().and_then(|i| self.sequences.get_mut(i)) {
                if accepted {
                    info.return_sequence = Some(offered);
                } else {
                    info.offer_refused = true;
                }
            }
            if accepted && let Some(info) = offered.index().and_then(|i| self.sequences.get_mut(i)) {
                info.offered_by = Some(seq);
            }
        }
        if (create as usize) < self.wires.len() {
            self.wires.update(create as usize, |w| w.seq = seq);
            self.patches.push(create);
        }
    }

    /// Everything added since `cursor`, which moves past it.
    pub fn delta(&self, cursor: &mut DeltaCursor) -> Delta {
        let d = Delta {
            endpoints: self.endpoints[cursor.endpoints..].to_vec(),
            sequences: self.sequences.clone(),
            wires: self.wires.iter_from(cursor.wires).collect(),
            acks: self.acks[cursor.acks..].to_vec(),
            ranges: self.ranges[cursor.ranges..].to_vec(),
            events: self.events[cursor.events..].to_vec(),
            patched: self.patches[cursor.patches..]
                .iter()
                .filter(|&&i| (i as usize) < cursor.wires)
                .map(|&i| (i, self.wires.at(i as usize)))
                .collect(),
            replies: self.replies[cursor.replies..].to_vec(),
        };
        *cursor = DeltaCursor {
            endpoints: self.endpoints.len(),
            wires: self.wires.len(),
            acks: self.acks.len(),
            ranges: self.ranges.len(),
            events: self.events.len(),
            patches: self.patches.len(),
            replies: self.replies.len(),
        };
        d
    }

    /// Appends a delta taken from another timeline (the UI's copy of a live session).
    pub fn apply(&mut self, d: Delta) {
        for e in d.endpoints {
            let i = self.endpoints.len() as u16;
            self.endpoint_by_name.insert(e.clone(), i);
            self.endpoints.push(e);
        }
        for (i, s) in d.sequences.iter().enumerate().skip(self.sequences.len()) {
            self.seq_by_id.insert(s.identifier.clone(), SeqIdx(i as u32));
        }
        self.sequences = d.sequences;
        self.wires.extend(d.wires);
        self.acks.extend(d.acks);
        self.ranges.extend(d.ranges);
        self.events.extend(d.events);
        for (i, w) in d.patched {
            self.wires.set(i as usize, w);
        }
        self.replies.extend(d.replies);
    }

    /// Fills in what an envelope tells about a sequence (first knowledge wins).
    fn learn(&mut self, idx: SeqIdx, env: &Envelope, source: Option<u16>, destination: Option<u16>) {
        let Some(info) = idx.index().and_then(|i| self.sequences.get_mut(i)) else {
            return;
        };
        info.version = info.version.or(env.rm_version);
        info.soap = info.soap.or(env.soap);
        info.source = info.source.or(source);
        info.destination = info.destination.or(destination);
    }

    /// A message of the sequence itself names its endpoints for certain (an HTTP endpoint that
    /// receives acks on another port than it sends from would otherwise be guessed first).
    fn learn_endpoints(&mut self, idx: SeqIdx, from: u16, to: u16) {
        if let Some(info) = idx.index().and_then(|i| self.sequences.get_mut(i))
            && !info.endpoints_certain
        {
            info.source = Some(from);
            info.destination = Some(to);
            info.endpoints_certain = true;
        }
    }

    /// Which side of its sequence sent a wire message.
    pub fn side_of(&self, w: &Wire) -> Side {
        let seq = if w.seq.is_none() { self.ack_seq(w) } else { w.seq };
        self.side_for(w, seq)
    }

    /// Which side of sequence `seq` sent `w`, by what the message is: the source sends the
    /// sequence's messages, AckRequested, Close and Terminate; the destination its responses and
    /// acks (also an ack riding on a message of the other sequence). The role follows the RM
    /// protocol, not the socket: an HTTP source that opens a new connection every few messages
    /// has a new ephemeral port each time (issue 17). Only what could come from either side (a
    /// fault) is placed by address — by host when the two sides are on different hosts.
    pub fn side_for(&self, w: &Wire, seq: SeqIdx) -> Side {
        if self.ack_seq(w) == seq && w.seq != seq && !seq.is_none() {
            return Side::Destination;
        }
        match w.kind {
            WireKind::Data
            | WireKind::LastMessage
            | WireKind::AckRequested
            | WireKind::CreateSequence
            | WireKind::CloseSequence
            | WireKind::TerminateSequence => return Side::Source,
            WireKind::Ack
            | WireKind::CreateSequenceResponse
            | WireKind::CloseSequenceResponse
            | WireKind::TerminateSequenceResponse => return Side::Destination,
            _ => {}
        }
        let info = self.seq_info(seq);
        let (Some(src), dst) = (info.and_then(|s| s.source), info.and_then(|s| s.destination)) else {
            return Side::Source;
        };
        if src == w.from {
            return Side::Source;
        }
        let host = |e: u16| {
            self.endpoints
                .get(e as usize)
                .and_then(|n| n.parse::<std::net::SocketAddr>().ok())
                .map(|a| a.ip())
        };
        let (hs, hd) = (host(src), dst.and_then(host));
        if hs.is_some() && hs != hd && host(w.from) == hs {
            Side::Source
        } else {
            Side::Destination
        }
    }
}
