//! Reads a capture file with libpcap and turns it into the timeline: frames → TCP streams →
//! HTTP messages → SOAP envelopes → wires. Reports progress, can be cancelled, keeps no XML.

use super::extract::{self, Extracted};
use super::http::{HttpStream, Message, Problem, Start};
use super::nmf::{self, NmfStream};
use super::packet::{self, Skip};
use super::parallel::{Op, Pipeline};
use super::prepare::{Prepared, prepare, trim_start};
use super::sniff::{Sniffer, Verdict};
use super::tcp::{Anomaly, Chunk, Reassembler};
use crate::analysis::{Finding, Severity};
use crate::trace::{SeqIdx, Time, Timeline, WireKind, WireMeta};
use crate::wsrm::{self, Body, binary};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Counts of what the capture held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub frames: u64,
    pub bytes: u64,
    /// libpcap link type of the file.
    pub link_type: i32,
    /// Frames skipped because the link type is not one rmscope reads.
    pub skipped_link: u64,
    pub skipped_not_tcp: u64,
    pub skipped_fragments: u64,
    pub skipped_malformed: u64,
    pub tcp_connections: u64,
    pub http_connections: u64,
    /// TCP connections that do not carry HTTP (not analysed).
    pub other_connections: u64,
    pub http_messages: u64,
    pub soap_messages: u64,
    pub wsrm_messages: u64,
    /// net.tcp ([MC-NMF]) connections and the envelopes they carried.
    pub nmf_connections: u64,
    pub nmf_envelopes: u64,
    /// The file ends in the middle of a record.
    pub truncated: bool,
    /// Absolute time of the first frame, ns since the Unix epoch (timeline times are relative).
    pub start_ns: u64,
    /// Link types of the file's interfaces (pcapng may mix them), in order of appearance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_types: Vec<i32>,
    /// A file was gzip-compressed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compressed: bool,
    /// Several files read as one: which frames came from which (`file:frame` names).
    #[serde(skip_serializing_if = "is_single_file")]
    pub frame_map: super::file::FrameMap,
    /// Copies dropped as the same packet captured at a second point.
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicates: u64,
}

fn is_single_file(m: &super::file::FrameMap) -> bool {
    m.files.len() < 2
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Stats {
    /// A frame as the user names it: `file:frame` when the capture is several files.
    pub fn frame_name(&self, frame: u32) -> String {
        self.frame_map.name(frame)
    }
}

/// Progress of a read, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    pub total: u64,
    pub frames: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureError {
    /// The file cannot be read, or is not a pcap/pcapng capture.
    Open(String),
    Cancelled,
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Open(m) => f.write_str(m),
            CaptureError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// What a capture decodes to.
#[derive(Clone, Debug, Default)]
pub struct CaptureData {
    pub timeline: Timeline,
    /// Findings of the decoding layers (TCP, HTTP, SOAP); protocol findings come from analysis.
    pub findings: Vec<Finding>,
    pub stats: Stats,
    /// (wire, fingerprint) of each envelope, when asked for (`read_file_with`).
    pub fingerprints: Vec<(u32, u64)>,
}

/// Where a message starts in the file: its first frame and the offset of its first byte in
/// that frame's TCP payload (stored in `Wire::origin`).
pub fn origin(first_frame: u32, offset: u32) -> u64 {
    (u64::from(first_frame) << 32) | u64::from(offset)
}

pub fn split_origin(origin: u64) -> (u32, u32) {
    ((origin >> 32) as u32, origin as u32)
}

/// A request waiting for its response (HTTP/1.1 answers in order).
struct Pending {
    wire: u32,
    kind: WireKind,
    seq: SeqIdx,
    number: u64,
}

/// What one direction's reassembled bytes go to.
struct Parser {
    http: HttpStream,
    /// Set when the stream turned out to be .NET Message Framing (net.tcp) instead of HTTP.
    nmf: Option<NmfStream>,
    /// The first bytes, held until they say which of the two it is.
    sniff: Sniffer,
    from: u16,
    to: u16,
}

struct Dir {
    reasm: Reassembler,
    parser: Parser,
    started: bool,
}

/// What both directions of a connection share.
#[derive(Default)]
struct Shared {
    /// The connection's index in `StreamDecoder::conns`.
    id: usize,
    requests: VecDeque<Pending>,
    /// The connection speaks .NET Message Framing, with this encoding (the initiator's preamble).
    nmf: Option<nmf::Encoding>,
}

struct Conn {
    a: SocketAddr,
    dirs: [Dir; 2],
    shared: Shared,
}

impl Conn {
    /// Flushes what reassembly still holds in both directions (a reset, the end of the capture).
    fn finish(&mut self, dec: &mut Decoder, frame: u32, time: Time) {
        let Conn { dirs, shared, .. } = self;
        for Dir { reasm, parser, .. } in dirs.iter_mut() {
            reasm.finish(frame, time, &mut |c| feed(dec, parser, shared, c));
            // A start too short to decide: what there is goes to the HTTP parser, which counts it.
            release_held(dec, parser, shared);
        }
    }

    fn is_closed(&self) -> bool {
        self.dirs
            .iter()
            .all(|d| d.parser.http.is_http() != Some(true) || d.reasm.is_ended())
    }
}

/// State shared by all connections while reading.
struct Decoder {
    timeline: Timeline,
    findings: Vec<Finding>,
    stats: Stats,
    /// Replies to sequence messages: (sequence, number) → (frame, the reply's own sequence number).
    replies: FxHashMap<(SeqIdx, u64), (u32, u64)>,
    opts: wsrm::Options,
    /// The detail view's re-read: the message starting at this origin is kept as text.
    want: Option<u64>,
    found: Option<Extracted>,
    /// Each envelope's fingerprint by wire, when the capture is to be matched with message logs.
    fingerprints: Option<Vec<(u32, u64)>>,
    /// Envelopes decoded on worker threads; timeline operations wait here in frame order.
    parallel: Option<Pipeline>,
}

/// A net.tcp envelope, decoded, on its way to the timeline.
pub(super) struct NmfEnvelope {
    meta: WireMeta,
    time: Time,
    from: u16,
    to: u16,
    /// None: an encoding rmscope does not decode; Err: why it did not decode.
    decoded: Option<Result<wsrm::Envelope, String>>,
}

fn endpoint_name(a: &SocketAddr) -> String {
    a.to_string()
}

impl Decoder {
    fn finding(&mut self, severity: Severity, frame: u32, time: Time, seq: SeqIdx, text: String) {
        let f = Finding::new(severity, frame, time, seq, text);
        match self.parallel.as_mut() {
            Some(par) => par.finding(f),
            None => self.findings.push(f),
        }
    }

    /// A decoded SOAP envelope onto the timeline, counted.
    fn add_envelope(&mut self, time: Time, from: u16, to: u16, env: &wsrm::Envelope, meta: WireMeta) -> u32 {
        self.stats.soap_messages += 1;
        if env.rm_version.is_some() {
            self.stats.wsrm_messages += 1;
        }
        let wire = self.timeline.add_wire(time, from, to, env, meta);
        if let Some(f) = self.fingerprints.as_mut() {
            f.push((wire, wsrm::fingerprint(env)));
        }
        wire
    }

    /// One complete HTTP message from `dir` of a connection: decoded here, or handed to the
    /// workers when decoding runs in parallel (then it reaches the timeline in frame order).
    fn on_message(&mut self, m: Message<'_>, from: u16, to: u16, shared: &mut Shared) {
        if self.want == Some(origin(m.first_frame, m.first_offset)) {
            self.found = Some(extract::from_http(&m));
        }
        if let Some(par) = self.parallel.as_mut() {
            par.message(m, shared.id, from, to);
            return;
        }
        let p = prepare(&m, &self.opts);
        self.apply(p, from, to, &mut shared.requests);
    }

    /// A decoded HTTP message onto the timeline, paired with its request.
    fn apply(&mut self, p: Prepared, from: u16, to: u16, requests: &mut VecDeque<Pending>) {
        self.stats.http_messages += 1;
        let meta = p.meta;
        let (is_response, status) = (p.is_response(), p.status());
        if is_response && status < 200 {
            // 100 Continue and friends: a row as in Wireshark, but interim, not the answer.
            self.timeline
                .add_plain_with(p.time, from, to, meta, |plain| plain.number = u64::from(status));
            return;
        }
        if let Some(why) = p.not_soap {
            self.finding(
                Severity::Warn,
                p.last_frame,
                p.time,
                SeqIdx::NONE,
                format!("HTTP body does not decode as SOAP: {why}"),
            );
        }
        let wire = match &p.envelope {
            Some(env) => self.add_envelope(p.time, from, to, env, meta),
            None => {
                // What Wireshark's Info says of it: the status, or the method.
                let w = self
                    .timeline
                    .add_plain_with(p.time, from, to, meta, |plain| match p.start {
                        Start::Response { status } => plain.number = u64::from(status),
                        Start::Request { method } => plain.set_method(super::http::method_code(method)),
                    });
                if let Some(line) = p.line {
                    self.timeline.http_lines.push((w, line.into()));
                }
                w
            }
        };
        if is_response {
            if let Some(req) = requests.pop_front() {
                self.pair(req, wire, status, p.envelope.as_ref(), p.last_frame, p.time);
            }
        } else {
            let w = &self.timeline.wires.at(wire as usize);
            requests.push_back(Pending {
                wire,
                kind: w.kind,
                seq: w.seq,
                number: w.number,
            });
            // Bound what an endless stream of unanswered requests can hold.
            if requests.len() > 4096 {
                requests.pop_front();
            }
        }
    }

    /// A response matched to its request.
    fn pair(
        &mut self,
        req: Pending,
        resp: u32,
        status: u16,
        env: Option<&wsrm::Envelope>,
        frame: u32,
        time: Time,
    ) {
        let resp_kind = self.timeline.wires.at(resp as usize).kind;
        if req.kind == WireKind::CreateSequence && resp_kind == WireKind::CreateSequenceResponse {
            self.timeline.pair_handshake(req.wire, resp);
        }
        // Two 200 answers with an application body to one sequence message: if they are not
        // the same reply resent, the service processed the message twice.
        let has_app_body = env.is_some_and(|e| matches!(e.body, Body::Application(_)));
        if req.kind == WireKind::Data && status == 200 && has_app_body {
            let reply_number = env
                .and_then(|e| e.sequence.as_ref())
                .map_or(0, |s| s.message_number.get());
            match self.replies.get(&(req.seq, req.number)) {
                Some(&(first_frame, first_reply)) if first_reply == 0 || first_reply != reply_number => {
                    let id = self
                        .timeline
                        .seq_info(req.seq)
                        .map_or(String::new(), |s| s.identifier.to_string());
                    self.finding(
                        Severity::Error,
                        frame,
                        time,
                        req.seq,
                        format!(
                            "message {} of {id} answered twice with different replies (first in frame {first_frame}): delivered to the application twice",
                            req.number
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.replies.insert((req.seq, req.number), (frame, reply_number));
                }
            }
        }
    }

    /// One net.tcp envelope, decoded by the encoding its preamble named. Decoded here, in
    /// order (a binary session's dictionary grows envelope by envelope); when decoding runs in
    /// parallel, it reaches the timeline in frame order with the HTTP messages.
    fn on_envelope(&mut self, e: nmf::Envelope<'_>, session: &mut binary::Session, dir: Direction) {
        self.stats.nmf_envelopes += 1;
        let meta = WireMeta {
            size: e.wire_len as u32,
            frame: e.last_frame,
            origin: origin(e.first_frame, e.first_offset),
            ..WireMeta::default()
        };
        if self.want == Some(meta.origin) {
            // Before decoding: that adds this envelope's StringTable to the session.
            self.found = Some(extract::from_envelope(&e, session, dir.initiator));
        }
        let decoded = match e.encoding {
            nmf::Encoding::Text => Some(wsrm::decode_with(trim_start(e.payload), &self.opts)),
            nmf::Encoding::Binary => Some(binary::decode_binary(e.payload, None, &self.opts)),
            nmf::Encoding::BinarySession => Some(binary::decode_binary(e.payload, Some(session), &self.opts)),
            nmf::Encoding::Unsupported => None,
        };
        let env = NmfEnvelope {
            meta,
            time: e.time,
            from: dir.from,
            to: dir.to,
            decoded: decoded.map(|d| d.map(|d| d.envelope).map_err(|e| e.to_string())),
        };
        match self.parallel.as_mut() {
            Some(par) => par.envelope(env),
            None => self.apply_envelope(env),
        }
    }

    fn apply_envelope(&mut self, e: NmfEnvelope) {
        let NmfEnvelope {
            meta,
            time,
            from,
            to,
            decoded,
        } = e;
        match decoded {
            None => {
                self.finding(
                    Severity::Note,
                    meta.frame,
                    time,
                    SeqIdx::NONE,
                    "net.tcp envelope in a compressed or unknown encoding: not decoded".into(),
                );
                self.timeline.add_plain(time, from, to, meta);
            }
            Some(Ok(env)) => {
                self.add_envelope(time, from, to, &env, meta);
            }
            Some(Err(err)) => {
                self.finding(
                    Severity::Warn,
                    meta.frame,
                    time,
                    SeqIdx::NONE,
                    format!("net.tcp envelope does not decode: {err}"),
                );
                self.timeline.add_plain(time, from, to, meta);
            }
        }
    }

    fn on_problem(&mut self, p: Problem, time: Time) {
        match p {
            Problem::NotHttp => {}
            Problem::Broken { frame, why } => self.finding(Severity::Warn, frame, time, SeqIdx::NONE, why),
        }
    }
}

/// One direction of a net.tcp connection: its endpoints, and whether it sent the preamble.
#[derive(Clone, Copy)]
struct Direction {
    from: u16,
    to: u16,
    initiator: bool,
}

/// Feeds one reassembled chunk of a direction to its parser: HTTP, or .NET Message Framing when
/// the stream starts with an NMF preamble (net.tcp, recognised by content on any port).
fn feed(dec: &mut Decoder, p: &mut Parser, shared: &mut Shared, chunk: Chunk<'_>) {
    if p.nmf.is_none() && !p.sniff.decided() {
        if let Some(encoding) = shared.nmf {
            // The initiator's preamble decided for both directions.
            p.sniff.take();
            p.nmf = Some(NmfStream::responder(encoding));
        } else if let Chunk::Data {
            bytes,
            frame,
            time,
            skip,
        } = chunk
        {
            match p.sniff.push(bytes, frame, time, skip) {
                Verdict::Undecided => return,
                Verdict::Nmf => {
                    dec.stats.nmf_connections += 1;
                    p.nmf = Some(NmfStream::new());
                }
                Verdict::NotNmf => {}
            }
            release_held(dec, p, shared);
            return;
        } else {
            // A gap or the end before the start decided: what was held goes first.
            release_held(dec, p, shared);
        }
    }
    deliver(dec, p, shared, chunk);
}

/// Ends the sniffing of a direction: what it held goes to the parser chosen, in order.
fn release_held(dec: &mut Decoder, p: &mut Parser, shared: &mut Shared) {
    for h in p.sniff.take() {
        deliver(dec, p, shared, h.chunk());
    }
}

/// Hands a chunk to the parser the direction's first bytes chose.
fn deliver(dec: &mut Decoder, p: &mut Parser, shared: &mut Shared, chunk: Chunk<'_>) {
    if let Chunk::Gap { len, frame, time } = chunk {
        dec.finding(
            Severity::Warn,
            frame,
            time,
            SeqIdx::NONE,
            format!("{len} bytes of the TCP stream were not captured before this frame"),
        );
    }
    let time = match chunk {
        Chunk::Data { time, .. } | Chunk::Gap { time, .. } | Chunk::End { time, .. } => time,
    };
    let (from, to) = (p.from, p.to);
    if let Some(nmf) = p.nmf.as_mut() {
        let mut problems = Vec::new();
        let dir = Direction {
            from,
            to,
            initiator: nmf.initiator,
        };
        nmf.feed(
            chunk,
            &mut |e, session| dec.on_envelope(e, session, dir),
            &mut |p| problems.push(p),
        );
        for p in problems {
            dec.finding(Severity::Warn, p.frame, p.time, SeqIdx::NONE, p.why);
        }
        // The initiator's preamble names the encoding both directions use.
        if nmf.initiator {
            shared.nmf = Some(nmf.encoding());
        }
        return;
    }
    let mut problems = Vec::new();
    p.http
        .feed(chunk, &mut |m| dec.on_message(m, from, to, shared), &mut |p| {
            problems.push(p)
        });
    for p in problems {
        dec.on_problem(p, time);
    }
}

/// Decodes frames as they come (a file being read, or a live interface): the timeline grows
/// with every complete HTTP message; `finish` flushes what the TCP reassembly still holds.
pub struct StreamDecoder {
    dec: Decoder,
    link: i32,
    conns: Vec<Conn>,
    by_key: FxHashMap<(SocketAddr, SocketAddr), usize>,
    start: Option<u64>,
    last_time: Time,
    frame: u32,
}

impl StreamDecoder {
    /// A decoder for frames of libpcap link type `link`.
    pub fn new(link: i32) -> StreamDecoder {
        let mut dec = Decoder {
            timeline: Timeline::new(),
            findings: Vec::new(),
            stats: Stats {
                link_type: link,
                ..Stats::default()
            },
            replies: FxHashMap::default(),
            opts: wsrm::Options {
                keep_body: false,
                ..wsrm::Options::default()
            },
            want: None,
            found: None,
            fingerprints: None,
            parallel: None,
        };
        if !packet::supported(link) {
            dec.findings.push(Finding::new(
                Severity::Note,
                1,
                Time::ZERO,
                SeqIdx::NONE,
                format!("link type {link} is not one rmscope reads; frames skipped"),
            ));
        }
        StreamDecoder {
            dec,
            link,
            conns: Vec::new(),
            by_key: FxHashMap::default(),
            start: None,
            last_time: Time::ZERO,
            frame: 0,
        }
    }

    /// Keep each envelope's fingerprint (`CaptureData::fingerprints`), to match the capture
    /// with message logs of the same session.
    pub fn keep_fingerprints(&mut self) {
        self.dec.fingerprints.get_or_insert_with(Vec::new);
    }

    pub fn timeline(&self) -> &Timeline {
        &self.dec.timeline
    }

    /// Decoder findings so far, in the order they were found.
    pub fn findings(&self) -> &[Finding] {
        &self.dec.findings
    }

    pub fn stats(&self) -> &Stats {
        &self.dec.stats
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u32 {
        self.frame
    }

    /// A record of the file is damaged: what came before it is kept.
    pub fn damaged(&mut self, why: &str) {
        self.file_stopped("is damaged", why);
    }

    /// The capture ended in the middle of a record.
    pub fn cut_short(&mut self, why: &str) {
        self.file_stopped("is cut short", why);
    }

    /// The file stopped before its end (an error finding at the last frame read).
    fn file_stopped(&mut self, how: &str, why: &str) {
        self.settle(true);
        self.dec.stats.truncated = true;
        self.dec.findings.push(Finding::new(
            Severity::Error,
            self.frame,
            self.last_time,
            SeqIdx::NONE,
            format!("capture file {how} after frame {}: {why}", self.frame),
        ));
    }

    /// One frame: its time (ns since the Unix epoch), its length on the wire, and the bytes
    /// captured of it.
    pub fn push(&mut self, ts_ns: u64, wire_len: u32, data: &[u8]) {
        self.push_link(self.link, ts_ns, wire_len, data);
    }

    /// `push` for a frame of its own link type (pcapng: each interface has one).
    pub fn push_link(&mut self, link: i32, ts_ns: u64, wire_len: u32, data: &[u8]) {
        self.frame += 1;
        let frame = self.frame;
        let dec = &mut self.dec;
        dec.stats.frames += 1;
        dec.stats.bytes += 16 + data.len() as u64;
        let t0 = *self.start.get_or_insert(ts_ns);
        let time = Time(ts_ns.saturating_sub(t0));
        self.last_time = self.last_time.max(time);
        if !packet::supported(link) {
            dec.stats.skipped_link += 1;
            return;
        }
        let mut seg = match packet::tcp_segment(link, data) {
            Ok(s) => s,
            Err(Skip::NotTcp) => {
                dec.stats.skipped_not_tcp += 1;
                return;
            }
            Err(Skip::Fragment) => {
                dec.stats.skipped_fragments += 1;
                return;
            }
            Err(Skip::Malformed) => {
                dec.stats.skipped_malformed += 1;
                return;
            }
        };
        seg.missing = wire_len.saturating_sub(data.len() as u32);
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let conns = &mut self.conns;
        // A new SYN on a finished 4-tuple starts a new connection.
        let idx = match self.by_key.get(&key) {
            Some(&i) if !(seg.syn && conns[i].dirs.iter().all(|d| d.started) && conns[i].is_closed()) => i,
            _ => {
                let a = key.0;
                let (ea, eb) = (
                    dec.timeline.endpoint(&endpoint_name(&key.0)),
                    dec.timeline.endpoint(&endpoint_name(&key.1)),
                );
                let dir = |from, to| Dir {
                    reasm: Reassembler::new(),
                    parser: Parser {
                        http: HttpStream::new(),
                        nmf: None,
                        sniff: Sniffer::default(),
                        from,
                        to,
                    },
                    started: false,
                };
                conns.push(Conn {
                    a,
                    dirs: [dir(ea, eb), dir(eb, ea)],
                    shared: Shared {
                        id: conns.len(),
                        ..Shared::default()
                    },
                });
                self.by_key.insert(key, conns.len() - 1);
                dec.stats.tcp_connections = conns.len() as u64;
                conns.len() - 1
            }
        };
        let conn = &mut conns[idx];
        let d = usize::from(seg.src != conn.a);
        let Conn { dirs, shared, .. } = conn;
        let Dir {
            reasm,
            parser,
            started,
        } = &mut dirs[d];
        if !*started {
            *started = true;
            if !seg.syn {
                // Joined mid-stream: no start to sniff; HTTP looks for the next message start.
                parser.sniff.take();
                parser.http.start_mid_stream();
            }
        }
        reasm.push(
            seg.seq,
            seg.syn,
            seg.fin,
            seg.payload,
            seg.missing,
            frame,
            time,
            &mut |c| feed(dec, parser, shared, c),
        );
        let anomalies: Vec<Anomaly> = reasm.anomalies.drain(..).collect();
        for a in anomalies {
            let Anomaly::OverlapMismatch { frame, len } = a;
            dec.finding(
                Severity::Warn,
                frame,
                time,
                SeqIdx::NONE,
                format!("retransmitted TCP data differs from the first copy ({len} bytes); the first copy was used"),
            );
        }
        if seg.rst {
            conn.finish(dec, frame, time);
        }
        self.settle(false);
    }

    /// Decode envelopes on `workers` threads besides this one (0: all on this thread). For a
    /// whole file: the timeline then lags the frames pushed until `finish`.
    pub fn decode_in_parallel(&mut self, workers: usize) {
        if workers > 0 && self.dec.want.is_none() {
            self.dec.parallel = Some(Pipeline::new(workers, &self.dec.opts));
        }
    }

    /// Applies the batches whose envelopes are back (`all`: every batch, waiting for them).
    fn settle(&mut self, all: bool) {
        while let Some(batch) = self.dec.parallel.as_mut().and_then(|p| p.poll(all)) {
            // Applying runs the single-thread code: what it finds goes straight to the findings.
            let pipeline = self.dec.parallel.take();
            let mut prepared = batch.prepared.into_iter();
            for op in batch.ops {
                match op {
                    Op::Finding(f) => self.dec.findings.push(f),
                    Op::Message { conn, from, to } => {
                        let p = prepared.next().expect("a decoded message per message operation");
                        self.dec.apply(p, from, to, &mut self.conns[conn].shared.requests);
                    }
                    Op::Envelope(e) => self.dec.apply_envelope(*e),
                }
            }
            self.dec.parallel = pipeline;
        }
    }

    /// Keep the message that starts at `origin` (see [`Wire::origin`]) as text.
    pub fn want(&mut self, origin: u64) {
        self.dec.want = Some(origin);
    }

    /// The message asked for with [`StreamDecoder::want`], once it was decoded.
    pub fn found(&self) -> Option<&Extracted> {
        self.dec.found.as_ref()
    }

    /// Flushes what reassembly holds and returns the wanted message.
    pub fn finish_found(mut self) -> Option<Extracted> {
        self.flush();
        self.dec.found
    }

    fn flush(&mut self) {
        let dec = &mut self.dec;
        for conn in self.conns.iter_mut() {
            conn.finish(dec, self.frame, self.last_time);
        }
    }

    /// The end of the capture: flushes what is still held and counts the connections.
    pub fn finish(mut self) -> CaptureData {
        self.flush();
        self.settle(true);
        self.dec.parallel = None;
        let dec = &mut self.dec;
        dec.stats.start_ns = self.start.unwrap_or(0);
        dec.stats.tcp_connections = self.conns.len() as u64;
        for c in &self.conns {
            let spoke = c.dirs.iter().any(|d| d.parser.http.spoke_http());
            let sent = c.dirs.iter().any(|d| d.parser.http.is_http().is_some());
            if c.shared.nmf.is_some() || c.dirs.iter().any(|d| d.parser.nmf.is_some()) {
                // Counted as net.tcp when first seen.
            } else if spoke {
                dec.stats.http_connections += 1;
            } else if sent {
                dec.stats.other_connections += 1;
            }
        }
        let mut dec = self.dec;
        dec.findings.sort_by_key(|f| f.frame);
        CaptureData {
            timeline: dec.timeline,
            findings: dec.findings,
            stats: dec.stats,
            fingerprints: dec.fingerprints.unwrap_or_default(),
        }
    }
}

/// Reads a capture file; `progress` is called now and then; setting `cancel` stops the read.
pub fn read_file(
    path: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<CaptureData, CaptureError> {
    read_file_with(path, progress, cancel, false)
}

/// `read_file`, keeping each envelope's fingerprint when `fingerprints` is set.
pub fn read_file_with(
    path: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
    fingerprints: bool,
) -> Result<CaptureData, CaptureError> {
    read_files(&[path.to_path_buf()], progress, cancel, fingerprints)
}

/// Several capture files as one capture, merged by time (one file: as it is), decoded on every
/// core the process may use.
pub fn read_files(
    paths: &[std::path::PathBuf],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
    fingerprints: bool,
) -> Result<CaptureData, CaptureError> {
    // The reader thread is one of them (affinity and cgroup limits are respected).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    read_files_on(paths, progress, cancel, fingerprints, cores - 1)
}

/// `read_files` with envelopes decoded on `workers` threads besides the reader (0: one thread
/// does everything); the result is the same for any number.
pub fn read_files_on(
    paths: &[std::path::PathBuf],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
    fingerprints: bool,
    workers: usize,
) -> Result<CaptureData, CaptureError> {
    let mut total = 0;
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| CaptureError::Open(format!("{}: {e}", path.display())))?;
        total += meta.len();
    }
    let mut frames = super::file::Frames::open(paths).map_err(CaptureError::Open)?;
    let mut dec = StreamDecoder::new(packet::linktype::ETHERNET);
    if fingerprints {
        dec.keep_fingerprints();
    }
    dec.decode_in_parallel(workers);
    let mut comments = Vec::new();
    loop {
        if dec.frames().is_multiple_of(4096) {
            if cancel.load(Ordering::Relaxed) {
                return Err(CaptureError::Cancelled);
            }
            progress(Progress {
                bytes: dec.stats().bytes.min(total),
                total,
                frames: dec.stats().frames,
            });
        }
        let Some(f) = frames.next_frame() else { break };
        let p = f.packet;
        dec.push_link(p.link, p.ts_ns, p.wire_len, p.data);
        if let Some(c) = p.comment.filter(|c| !c.is_empty()) {
            comments.push((dec.frames(), crate::wsrm::Text::from(c)));
        }
    }
    let links = frames.links();
    for (file, stop) in std::mem::take(&mut frames.stops) {
        let name = if paths.len() > 1 {
            format!("{}: ", frames.map.files[usize::from(file)])
        } else {
            String::new()
        };
        match stop {
            super::file::Stop::CutShort(why) => dec.cut_short(&format!("{name}{why}")),
            super::file::Stop::Malformed(why) => dec.damaged(&format!("{name}{why}")),
        }
    }
    let frame_count = dec.stats().frames;
    let mut data = dec.finish();
    data.stats.link_type = links.first().copied().unwrap_or(packet::linktype::ETHERNET);
    data.stats.link_types = links;
    data.stats.compressed = frames.compressed();
    data.stats.duplicates = frames.duplicates;
    data.stats.frame_map = std::mem::take(&mut frames.map);
    data.timeline.frame_comments = comments;
    progress(Progress {
        bytes: total,
        total,
        frames: frame_count,
    });
    Ok(data)
}

/// A libpcap record's time in ns since the Unix epoch (the handle is opened with nanosecond
/// precision, so `tv_usec` holds nanoseconds).
#[allow(clippy::unnecessary_cast)] // time_t and suseconds_t are 32-bit on some targets.
pub fn timestamp_ns(h: &pcap::PacketHeader) -> u64 {
    (h.ts.tv_sec as i64).max(0) as u64 * 1_000_000_000 + (h.ts.tv_usec as i64).max(0) as u64
}
