//! From log files to the timeline: every record read and parsed, the same message logged at
//! transport and at service level folded into one, both ends of a session matched (merge.rs),
//! and what is left added to the timeline in time order.

use super::merge::{self, ClockEstimate};
use super::record::{self, Content, Level, Process};
use super::split::{self, Splitter};
use super::{MAX_RECORD, origin};
use crate::analysis::{Finding, Severity};
use crate::capture::Progress;
use crate::trace::{SeqIdx, Time, Timeline, WireMeta};
use crate::wsrm::{self, Envelope};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// One file of a set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceFile {
    pub path: String,
    /// The process that wrote it ("Servis (7592) on BURAKSENYURT-PC").
    pub process: String,
    pub records: u64,
    /// Messages it logged (at any level).
    pub messages: u64,
    /// Its clock minus the first file's, in ms, once estimated from both ends.
    pub clock_offset_ms: Option<f64>,
    pub utf16: bool,
}

/// Counts of what the logs held.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LogStats {
    pub files: Vec<SourceFile>,
    pub records: u64,
    pub bytes: u64,
    /// Message records by level.
    pub transport_records: u64,
    pub service_records: u64,
    pub other_message_records: u64,
    /// Service-level records folded into the transport record of the same message.
    pub folded: u64,
    /// Message records whose envelope the codec could not read.
    pub undecoded: u64,
    /// Trace records that are not messages (warnings, errors, information).
    pub traces: u64,
    pub activity_boundaries: u64,
    /// Records that are not well-formed.
    pub malformed: u64,
    /// Messages logged at both ends, shown once.
    pub matched: u64,
    pub truncated: bool,
    /// Time of the first record, ns since the Unix epoch in the first file's clock.
    pub start_ns: u64,
    pub clock: Option<ClockEstimate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    Open(String),
    Cancelled,
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogError::Open(m) => f.write_str(m),
            LogError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for LogError {}

/// What a set of logs decodes to.
#[derive(Clone, Debug, Default)]
pub struct LogData {
    pub timeline: Timeline,
    /// Trace findings, reading problems, messages lost or duplicated between the ends.
    pub findings: Vec<Finding>,
    pub stats: LogStats,
    pub paths: Vec<PathBuf>,
    /// Wire → the service-level record of the same message (decrypted body), by origin.
    pub service_level: FxHashMap<u32, u64>,
    /// Wire → the record of the other end (a message logged sent and received), by origin.
    pub other_end: FxHashMap<u32, u64>,
}

/// A logged message, before it becomes a wire.
pub(super) struct Msg {
    pub file: u16,
    pub record: u32,
    pub offset: u64,
    pub process: u16,
    /// In the logging process's clock.
    pub time_ns: u64,
    pub send: bool,
    pub level: Level,
    pub env: Envelope,
    pub size: u32,
    /// Same message at another level of the same process (Action, MessageID)...
    pub local_key: u64,
    /// ... and RelatesTo (0 when none: WCF adds it to a reply below the service level).
    pub relates: u64,
    /// Same message at the other end (everything the wire carries).
    pub remote_key: u64,
    /// The headers' fingerprint alone (to match a capture, whose bodies may be binary XML).
    pub fingerprint: u64,
    /// Origin of the service-level twin folded into this record.
    pub twin: Option<u64>,
    pub folded: bool,
    /// `u:Timestamp/u:Created`: the sender's clock when it built the message (message security).
    pub stamped_ns: Option<u64>,
}

/// A trace record kept as a finding.
pub(super) struct Trace {
    pub time_ns: u64,
    pub process: u16,
    pub severity: Severity,
    pub text: String,
}

/// Reads and merges `paths`; `progress` is called now and then; setting `cancel` stops.
pub fn read_files(
    paths: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<LogData, LogError> {
    Ok(read_records(paths, progress, cancel)?.finish(paths))
}

/// Every record of `paths`, parsed, with the two levels of each message folded.
pub(super) fn read_records(
    paths: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Reader, LogError> {
    if paths.is_empty() {
        return Err(LogError::Open("no log to read".into()));
    }
    let mut total = 0;
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| LogError::Open(format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            return Err(LogError::Open(format!("{}: is a directory", p.display())));
        }
        total += meta.len();
    }
    let mut reader = Reader {
        processes: Vec::new(),
        first_ns: Vec::new(),
        msgs: Vec::new(),
        traces: Vec::new(),
        findings: Vec::new(),
        stats: LogStats::default(),
        done_bytes: 0,
        total,
    };
    for (i, p) in paths.iter().enumerate() {
        reader.read_one(i, p, progress, cancel)?;
    }
    fold_levels(&mut reader.msgs);
    reader.stats.folded = reader.msgs.iter().filter(|m| m.folded).count() as u64;
    Ok(reader)
}

pub(super) struct Reader {
    pub processes: Vec<Process>,
    /// Per process: the time of its first record of any kind (where the timeline starts).
    pub first_ns: Vec<u64>,
    pub msgs: Vec<Msg>,
    pub traces: Vec<Trace>,
    /// (file, record, severity, text) of reading problems, timed once the clocks are known.
    pub findings: Vec<(u16, u64, Severity, String)>,
    pub stats: LogStats,
    done_bytes: u64,
    total: u64,
}

impl Reader {
    fn process_index(&mut self, p: &Process) -> u16 {
        if let Some(i) = self.processes.iter().position(|q| q == p) {
            return i as u16;
        }
        self.processes.push(p.clone());
        (self.processes.len() - 1).min(u16::MAX as usize) as u16
    }

    fn read_one(
        &mut self,
        file: usize,
        path: &Path,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<(), LogError> {
        let (text, enc) =
            super::open_text(path).map_err(|e| LogError::Open(format!("{}: {e}", path.display())))?;
        let mut split = Splitter::new(text, MAX_RECORD);
        let mut src = SourceFile {
            path: path.display().to_string(),
            utf16: enc != split::Encoding::Utf8,
            ..SourceFile::default()
        };
        let file16 = file.min(u16::MAX as usize) as u16;
        let mut last_time = 0u64;
        let mut process: Option<u16> = None;
        // The records stopped at an error (a finding says where).
        let mut stopped = false;
        loop {
            if src.records.is_multiple_of(1024) {
                if cancel.load(Ordering::Relaxed) {
                    return Err(LogError::Cancelled);
                }
                progress(Progress {
                    bytes: (self.done_bytes + split.read).min(self.total),
                    total: self.total,
                    frames: self.stats.records + src.records,
                });
            }
            let raw = match split.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    stopped = true;
                    if matches!(e, split::SplitError::Truncated { .. }) {
                        self.stats.truncated = true;
                    }
                    self.findings.push((
                        file16,
                        src.records + 1,
                        Severity::Error,
                        format!("{}: {e}", file_name(path)),
                    ));
                    break;
                }
            };
            src.records += 1;
            let offset = raw.offset;
            let rec = match record::parse(raw.bytes) {
                Ok(r) => r,
                Err(e) => {
                    self.stats.malformed += 1;
                    self.findings.push((
                        file16,
                        src.records,
                        Severity::Warn,
                        format!("{} record {} (byte {offset}): {e}", file_name(path), src.records),
                    ));
                    continue;
                }
            };
            // Ties and records without a time keep file order.
            let time_ns = rec.time_ns.unwrap_or(last_time);
            last_time = time_ns;
            let proc_idx = self.process_index(&rec.process);
            process.get_or_insert(proc_idx);
            if self.first_ns.len() <= proc_idx as usize {
                self.first_ns.resize(proc_idx as usize + 1, u64::MAX);
            }
            if rec.time_ns.is_some() {
                let first = &mut self.first_ns[proc_idx as usize];
                *first = (*first).min(time_ns);
            }
            match rec.content {
                Content::Activity => self.stats.activity_boundaries += 1,
                Content::Trace(t) => {
                    self.stats.traces += 1;
                    let severity = match t.severity.as_str() {
                        "Critical" | "Error" => Severity::Error,
                        "Warning" => Severity::Warn,
                        _ => continue, // Information and Verbose traces are counted, not shown.
                    };
                    let mut text = if t.description.is_empty() {
                        format!("{} trace", t.severity)
                    } else {
                        t.description
                    };
                    if let Some(x) = t.exception {
                        text.push_str(" — ");
                        text.push_str(&x);
                    }
                    self.traces.push(Trace {
                        time_ns,
                        process: proc_idx,
                        severity,
                        text,
                    });
                }
                Content::Message(m) => {
                    src.messages += 1;
                    match m.level {
                        Level::Transport => self.stats.transport_records += 1,
                        Level::Service => self.stats.service_records += 1,
                        Level::Other => self.stats.other_message_records += 1,
                    }
                    let Some(span) = m.envelope else {
                        self.stats.undecoded += 1;
                        self.findings.push((
                            file16,
                            src.records,
                            Severity::Warn,
                            format!(
                                "{} record {}: a logged message without an envelope ({})",
                                file_name(path),
                                src.records,
                                m.source
                            ),
                        ));
                        continue;
                    };
                    let bytes = &raw.bytes[span.clone()];
                    let opts = wsrm::Options {
                        keep_body: false,
                        ..wsrm::Options::default()
                    };
                    let decoded = match wsrm::decode_with(bytes, &opts) {
                        Ok(d) => d,
                        Err(e) => {
                            self.stats.undecoded += 1;
                            self.findings.push((
                                file16,
                                src.records,
                                Severity::Warn,
                                format!(
                                    "{} record {}: envelope not decoded: {e}",
                                    file_name(path),
                                    src.records
                                ),
                            ));
                            continue;
                        }
                    };
                    let digest = decoded
                        .body_span
                        .clone()
                        .map_or(0, |r| wsrm::body_digest(&bytes[r]));
                    let stamped_ns = memchr::memmem::find(bytes, b"Timestamp")
                        .and_then(|_| wsrm::security::summarize(bytes))
                        .and_then(|s| s.created)
                        .and_then(|c| record::parse_system_time(&c));
                    let env = decoded.envelope;
                    self.msgs.push(Msg {
                        file: file16,
                        record: src.records.min(u32::MAX as u64) as u32,
                        offset,
                        process: proc_idx,
                        time_ns,
                        send: m.send,
                        level: m.level,
                        local_key: local_key(&env),
                        relates: env.addressing.relates_to.as_ref().map_or(0, |r| {
                            let mut h = rustc_hash::FxHasher::default();
                            r.message_id.hash(&mut h);
                            h.finish() | 1
                        }),
                        remote_key: remote_key(&env, digest),
                        fingerprint: wsrm::fingerprint(&env),
                        env,
                        size: bytes.len().min(u32::MAX as usize) as u32,
                        twin: None,
                        folded: false,
                        stamped_ns,
                    });
                }
            }
        }
        if src.records == 0 && !stopped {
            return Err(LogError::Open(format!(
                "{}: not a WCF message log (no <E2ETraceEvent> records)",
                path.display()
            )));
        }
        if let Some(p) = process {
            src.process = self.processes[p as usize].label();
        }
        self.stats.records += src.records;
        self.done_bytes += split.read;
        self.stats.bytes += split.read;
        self.stats.files.push(src);
        Ok(())
    }

    fn finish(mut self, paths: &[PathBuf]) -> LogData {
        // One clock: the first file's process is the reference.
        let names: Vec<String> = self.processes.iter().map(Process::label).collect();
        let merged = merge::merge(&self.msgs, &names);
        self.stats.clock = merged.clock.clone();
        self.stats.matched = merged.matched;
        let offset_of = |p: u16| merged.offsets.get(p as usize).copied().unwrap_or(0);
        for (f, src) in self.stats.files.iter_mut().enumerate() {
            let p = self.msgs.iter().find(|m| m.file as usize == f).map(|m| m.process);
            if let (Some(p), Some(_)) = (p, &merged.clock) {
                src.clock_offset_ms = Some(offset_of(p) as f64 / 1e6);
            }
        }
        let start = merged
            .wires
            .iter()
            .map(|w| w.time_ns)
            .chain(
                self.first_ns
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| **t != u64::MAX)
                    .map(|(p, t)| map(*t, offset_of(p as u16))),
            )
            .min()
            .unwrap_or(0);
        self.stats.start_ns = start.max(0) as u64;
        let rel = |t: i128| Time((t - start).max(0) as u64);

        let mut timeline = Timeline::new();
        let two = self.processes.len() == 2;
        // With one process's log, its peer is named by the first address it has that is not
        // anonymous (a Send's To, a Receive's From or ReplyTo), else "peer of …".
        let mut peer_names: Vec<Option<String>> = vec![None; names.len()];
        for m in self.msgs.iter().filter(|m| !m.folded) {
            let slot = &mut peer_names[m.process as usize];
            if slot.is_none() {
                *slot = peer_address(&m.env, m.send);
            }
        }
        let endpoint = |t: &mut Timeline, p: u16, peer: bool| -> u16 {
            match (peer, two) {
                (false, _) => t.endpoint(&names[p as usize]),
                (true, true) => t.endpoint(&names[1 - p as usize]),
                (true, false) => match &peer_names[p as usize] {
                    Some(a) => t.endpoint(a),
                    None => t.endpoint(&format!("peer of {}", names[p as usize])),
                },
            }
        };
        let mut data = LogData::default();
        for w in &merged.wires {
            let m = &self.msgs[w.msg];
            let (from, to) = if m.send {
                (
                    endpoint(&mut timeline, m.process, false),
                    endpoint(&mut timeline, m.process, true),
                )
            } else {
                (
                    endpoint(&mut timeline, m.process, true),
                    endpoint(&mut timeline, m.process, false),
                )
            };
            let meta = WireMeta {
                size: m.size,
                frame: m.record,
                origin: origin(m.file as usize, m.offset),
                ..WireMeta::default()
            };
            let idx = timeline.add_wire(rel(w.time_ns), from, to, &m.env, meta);
            if let Some(t) = w.arrival_ns {
                timeline.arrivals.push((idx, rel(t)));
            }
            let twin = m.twin.or_else(|| w.other.and_then(|o| self.msgs[o].twin));
            if let Some(t) = twin {
                data.service_level.insert(idx, t);
            }
            if let Some(o) = w.other {
                let om = &self.msgs[o];
                data.other_end.insert(idx, origin(om.file as usize, om.offset));
            }
        }
        let mut findings = resend_stamps(&timeline, &merged.wires, &self.msgs, &names);
        for t in &self.traces {
            findings.push(Finding::new(
                t.severity,
                0,
                rel(map(t.time_ns, offset_of(t.process))),
                SeqIdx::NONE,
                format!("{}: {}", names[t.process as usize], t.text),
            ));
        }
        for n in &merged.notes {
            findings.push(Finding::new(
                n.severity,
                0,
                rel(n.time_ns),
                SeqIdx::NONE,
                n.text.clone(),
            ));
        }
        let end = timeline.wires.last().map_or(Time::ZERO, |w| w.time);
        for (_, _, sev, text) in self.findings {
            findings.push(Finding::new(sev, 0, end, SeqIdx::NONE, text));
        }
        findings.sort_by_key(|f| f.time);
        data.timeline = timeline;
        data.findings = findings;
        data.stats = self.stats;
        data.paths = paths.to_vec();
        data
    }
}

/// A message sent again, with the times its sender stamped on the copies (u:Timestamp, the
/// sender's clock) beside the times they were logged: how long the sender waited, whatever the
/// logging end saw.
fn resend_stamps(
    t: &Timeline,
    wires: &[super::merge::MergedWire],
    msgs: &[Msg],
    names: &[String],
) -> Vec<Finding> {
    let mut first: FxHashMap<(SeqIdx, u64), usize> = FxHashMap::default();
    let mut out = Vec::new();
    for (i, w) in t.wires.iter().enumerate() {
        if !w.kind.is_sequenced() || w.seq.is_none() {
            continue;
        }
        let Some(&f) = first.get(&(w.seq, w.number)) else {
            first.insert((w.seq, w.number), i);
            continue;
        };
        let (a, b) = (&msgs[wires[f].msg], &msgs[wires[i].msg]);
        let logged = w.time.as_secs_f64() - t.wires.at(f).time.as_secs_f64();
        let stamped = match (a.stamped_ns, b.stamped_ns) {
            // The same stamp: one copy the network delivered twice, not a resend.
            (Some(x), Some(y)) if x != y => format!(
                "its sender stamped copy {} {:.3} s after copy 1 (u:Timestamp)",
                w.attempt() + 1,
                (y as f64 - x as f64) / 1e9
            ),
            _ => continue,
        };
        out.push(Finding::new(
            Severity::Note,
            w.frame,
            w.time,
            w.seq,
            format!(
                "message {} of {} sent again: {stamped}; {} logged it {:.3} s after the first",
                w.number,
                t.seq_info(w.seq).map_or("?", |s| s.identifier.as_str()),
                names[b.process as usize],
                logged
            ),
        ));
    }
    out
}

/// The other end's address as a message names it, unless anonymous.
fn peer_address(env: &Envelope, send: bool) -> Option<String> {
    let a = &env.addressing;
    let candidates: Vec<&str> = if send {
        a.to.iter().map(|t| t.as_str()).collect()
    } else {
        a.from
            .iter()
            .chain(a.reply_to.iter())
            .map(|r| r.address.as_str())
            .collect()
    };
    candidates
        .into_iter()
        .find(|u| !u.is_empty() && !u.ends_with("/anonymous") && !u.ends_with("/none"))
        .map(str::to_string)
}

/// A time of a process's clock in the reference clock.
pub(super) fn map(t: u64, offset: i64) -> i128 {
    t as i128 - offset as i128
}

pub(super) fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// WCF logs an incoming message at transport level (as received, still encrypted) and then at
/// service level (decrypted), an outgoing reply at service level and then at transport level
/// (secured). The pair is one message: the transport record stays (it is what travelled), the
/// service-level one is kept as its twin for the detail pane.
fn fold_levels(msgs: &mut [Msg]) {
    // Per process, the order each record was logged in.
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by_key(|&i| (msgs[i].process, msgs[i].time_ns, msgs[i].file, msgs[i].record));
    // Transport receives waiting for their service-level copy; service sends waiting for their
    // transport copy. Few are outstanding at a time; a bounded window keeps this linear.
    const WINDOW: usize = 256;
    let mut receives: VecDeque<usize> = VecDeque::new();
    let mut sends: VecDeque<usize> = VecDeque::new();
    let push_bounded = |q: &mut VecDeque<usize>, i: usize| {
        q.push_back(i);
        if q.len() > WINDOW {
            q.pop_front();
        }
    };
    let mut current = None;
    for &i in &order {
        if current != Some(msgs[i].process) {
            receives.clear();
            sends.clear();
            current = Some(msgs[i].process);
        }
        let (level, send, key) = (msgs[i].level, msgs[i].send, msgs[i].local_key);
        match (level, send) {
            (Level::Transport, false) => push_bounded(&mut receives, i),
            (Level::Service, false) => {
                let relates = msgs[i].relates;
                let same =
                    |t: usize| msgs[t].local_key == key && (relates == 0 || msgs[t].relates == relates);
                if let Some(pos) = receives.iter().rposition(|&t| same(t)) {
                    let t = receives.remove(pos).expect("found");
                    msgs[t].twin = Some(origin(msgs[i].file as usize, msgs[i].offset));
                    msgs[i].folded = true;
                }
            }
            (Level::Service, true) => push_bounded(&mut sends, i),
            (Level::Transport, true) => {
                let relates = msgs[i].relates;
                let same = |s: usize| {
                    msgs[s].local_key == key && (msgs[s].relates == 0 || msgs[s].relates == relates)
                };
                if let Some(pos) = sends.iter().position(|&s| same(s)) {
                    let s = sends.remove(pos).expect("found");
                    msgs[i].twin = Some(origin(msgs[s].file as usize, msgs[s].offset));
                    msgs[s].folded = true;
                }
            }
            _ => {}
        }
    }
}

/// What identifies a message between the levels of one process: security changes the body,
/// not the addressing (RelatesTo is compared apart: a reply gets it below the service level).
fn local_key(env: &Envelope) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    wsrm::action_uri(env).hash(&mut h);
    env.addressing.message_id.as_deref().unwrap_or("").hash(&mut h);
    h.finish()
}

/// What identifies a message between the two ends: its headers' fingerprint, and for messages
/// without a MessageID (WCF's replies and acks) the digest of their body too.
fn remote_key(env: &Envelope, body_digest: u64) -> u64 {
    let fp = wsrm::fingerprint(env);
    match env.addressing.message_id {
        Some(_) => fp,
        None => {
            let mut h = rustc_hash::FxHasher::default();
            (fp, body_digest).hash(&mut h);
            h.finish()
        }
    }
}
