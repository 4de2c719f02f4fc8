//! What the views show, independent of egui: the loaded timeline with its analysis, the
//! message-list filter, row texts, and lookups for selection.

use crate::analysis::{self, Analysis, Finding};
use crate::capture::Stats;
use crate::trace::{SeqIdx, Time, Timeline, Wire, WireFlags, WireKind};
use std::path::PathBuf;

/// Where the data comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Live,
    /// One capture file, or several read as one (merged by time).
    Capture(Vec<PathBuf>),
    /// WCF message logs read together (one or both ends, rolled files).
    Logs(Vec<PathBuf>),
}

impl Origin {
    /// The file names, for the title and the toolbar ("client.svclog + service.svclog").
    pub fn label(&self) -> String {
        let name = |p: &PathBuf| {
            p.file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
        };
        match self {
            Origin::Live => "live".to_string(),
            Origin::Capture(ps) => ps.iter().map(name).collect::<Vec<_>>().join(" + "),
            Origin::Logs(ps) => ps.iter().map(name).collect::<Vec<_>>().join(" + "),
        }
    }
}

/// What message logs add to a dataset: read alone (`Origin::Logs`) or with the capture of the
/// same session (`Origin::Capture`).
#[derive(Clone, Debug, Default)]
pub struct LogInfo {
    pub paths: Vec<PathBuf>,
    pub stats: crate::svclog::LogStats,
    /// Logs with a capture: each logging process's clock against the capture's.
    pub clocks: Vec<crate::svclog::ClockEstimate>,
    /// Wire → origin of the service-level record of the same message (decrypted body).
    pub service_level: rustc_hash::FxHashMap<u32, u64>,
    /// Wire → origins of the (other) log records of the same message.
    pub records: rustc_hash::FxHashMap<u32, Vec<u64>>,
}

/// A timeline and everything derived from it.
pub struct Dataset {
    /// Unique per dataset (views cache on `(id, version)`).
    pub id: u64,
    pub origin: Origin,
    pub timeline: Timeline,
    pub analysis: Analysis,
    /// Decoder findings (captures) and analysis findings, by frame then time.
    pub findings: Vec<Finding>,
    decoder_findings: Vec<Finding>,
    pub stats: Option<Stats>,
    /// Message logs: counts, clocks and the other records of each message.
    pub log: Option<Box<LogInfo>>,
    /// Live sessions: each wire's envelope bytes, by `Wire::origin`.
    pub payloads: Vec<bytes::Bytes>,
    pub inactivity_timeout: std::time::Duration,
    /// Live sessions: wires the link dropped.
    pub lost: rustc_hash::FxHashSet<u32>,
    /// Live sessions: of those, the ones a drop rule or the user's "Drop next" asked for.
    pub dropped: rustc_hash::FxHashSet<u32>,
    /// Live sessions: the configuration the run uses.
    pub config: Option<Box<crate::sim::SimConfig>>,
    /// Live sessions: how far the run has got (the plots extend to here).
    pub now: Time,
    /// Bumped whenever the data changes (views cache on it).
    pub version: u64,
    /// The recording is complete: a file, or a live run that finished (end-of-session findings).
    pub ended: bool,
    analysed_wires: usize,
}

impl Dataset {
    pub fn new(
        origin: Origin,
        timeline: Timeline,
        decoder_findings: Vec<Finding>,
        stats: Option<Stats>,
    ) -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut d = Dataset {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            origin,
            timeline,
            analysis: Analysis::default(),
            findings: Vec::new(),
            decoder_findings,
            stats,
            log: None,
            payloads: Vec::new(),
            inactivity_timeout: std::time::Duration::from_secs(600),
            lost: Default::default(),
            dropped: Default::default(),
            config: None,
            now: Time::ZERO,
            version: 0,
            ended: true,
            analysed_wires: usize::MAX,
        };
        d.reanalyse();
        d
    }

    /// A live session's dataset, empty until the driver streams into it.
    pub fn live(config: crate::sim::SimConfig) -> Self {
        let mut d = Dataset::new(Origin::Live, Timeline::new(), Vec::new(), None);
        d.inactivity_timeout = config.settings.inactivity_timeout;
        d.config = Some(Box::new(config));
        d.ended = false;
        d
    }

    /// A finished virtual-time run (A/B compare, tests).
    pub fn from_run(config: crate::sim::SimConfig, timeline: Timeline) -> Self {
        let mut d = Dataset::live(config);
        d.timeline = timeline;
        d.now = d.end_time();
        d.ended = true;
        d.reanalyse();
        d
    }

    /// A dataset read from message logs.
    pub fn from_logs(data: crate::svclog::LogData) -> Self {
        let mut d = Dataset::new(
            Origin::Logs(data.paths.clone()),
            data.timeline,
            data.findings,
            None,
        );
        d.log = Some(Box::new(LogInfo {
            paths: data.paths,
            stats: data.stats,
            clocks: Vec::new(),
            service_level: data.service_level,
            records: data.other_end.into_iter().map(|(w, o)| (w, vec![o])).collect(),
        }));
        d
    }

    /// A capture with the message logs of the same session attached to its messages.
    pub fn from_capture_and_logs(
        path: PathBuf,
        cap: crate::capture::CaptureData,
        logs: crate::svclog::Attached,
    ) -> Self {
        let mut findings = cap.findings;
        findings.extend(logs.findings);
        let mut d = Dataset::new(
            Origin::Capture(vec![path]),
            cap.timeline,
            findings,
            Some(cap.stats),
        );
        d.log = Some(Box::new(LogInfo {
            paths: logs.paths,
            stats: logs.stats,
            clocks: logs.clocks,
            service_level: logs.service_level,
            records: logs.records,
        }));
        d
    }

    /// When wire `i` arrived, where both ends' logs tell (it is timed when it left).
    pub fn arrival(&self, i: u32) -> Option<Time> {
        let a = &self.timeline.arrivals;
        a.binary_search_by_key(&i, |&(w, _)| w).ok().map(|k| a[k].1)
    }

    /// How a lost wire was lost, for the list and tooltips.
    pub fn loss_label(&self, i: u32) -> Option<&'static str> {
        if self.dropped.contains(&i) {
            Some("dropped on request")
        } else if self.lost.contains(&i) {
            Some("lost on the link")
        } else {
            None
        }
    }

    /// What `Wire::frame` counts: capture frames, or records of a message log.
    pub fn frame_unit(&self) -> &'static str {
        match self.origin {
            Origin::Logs(_) => "record",
            _ => "frame",
        }
    }

    /// The last time the data covers.
    pub fn end_time(&self) -> Time {
        let last = self.timeline.wires.last().map_or(Time::ZERO, |w| w.time);
        let ev = self.timeline.events.last().map_or(Time::ZERO, |e| e.time);
        self.now.max(last).max(ev)
    }

    /// Display number of a wire: its frame in a capture, its position (from 1) live.
    pub fn number_of(&self, i: u32) -> u64 {
        match self.wire(i) {
            Some(w) if w.frame > 0 => w.frame as u64,
            _ => i as u64 + 1,
        }
    }

    /// Recomputes the analysis (call after the timeline grew).
    pub fn reanalyse(&mut self) {
        self.analysis = analysis::analyze(
            &self.timeline,
            &analysis::Options {
                inactivity_timeout: self.inactivity_timeout,
                ended: self.ended,
                series: true,
            },
        );
        let mut f = self.decoder_findings.clone();
        f.extend(self.analysis.findings.iter().cloned());
        f.sort_by_key(|f| (f.frame, f.time));
        self.findings = f;
        self.lost.clear();
        self.dropped.clear();
        for e in &self.timeline.events {
            if let crate::trace::EventKind::Lost { wire, scripted } = e.kind {
                self.lost.insert(wire);
                if scripted {
                    self.dropped.insert(wire);
                }
            }
        }
        self.analysed_wires = self.timeline.wires.len();
        self.version += 1;
    }

    /// More of a capture being taken: the timeline's growth, new decoder findings, the counts.
    pub fn extend_capture(&mut self, delta: crate::trace::Delta, findings: Vec<Finding>, stats: Stats) {
        self.timeline.apply(delta);
        self.decoder_findings.extend(findings);
        self.stats = Some(stats);
        self.now = self.end_time();
        self.version += 1;
    }

    /// Have the analysis run again on the next chance (its inputs changed, not the timeline).
    pub fn mark_stale(&mut self) {
        self.analysed_wires = usize::MAX;
    }

    /// Whether the timeline grew since the last analysis.
    pub fn stale(&self) -> bool {
        self.analysed_wires != self.timeline.wires.len()
    }

    pub fn wire(&self, i: u32) -> Option<Wire> {
        self.timeline.wires.get(i as usize)
    }

    /// The wire a finding points at: its frame (captures) or the wire sent at its time.
    pub fn wire_of_finding(&self, f: &Finding) -> Option<u32> {
        if f.frame > 0 {
            let i = self.timeline.wires.partition_point(|w| w.frame < f.frame);
            return self
                .timeline
                .wires
                .get(i)
                .filter(|w| w.frame == f.frame)
                .map(|_| i as u32);
        }
        self.wire_near(f.time, f.seq)
    }

    /// The wire closest in time to `t` (of sequence `seq` when given).
    pub fn wire_near(&self, t: Time, seq: SeqIdx) -> Option<u32> {
        let w = &self.timeline.wires;
        let i = w.partition_point(|x| x.time < t);
        (i.saturating_sub(64)..(i + 64).min(w.len()))
            .map(|k| (k, w.at(k)))
            .filter(|(_, x)| seq.is_none() || x.seq == seq || self.timeline.ack_seq(x) == seq)
            .min_by_key(|(_, x)| x.time.as_nanos().abs_diff(t.as_nanos()))
            .map(|(k, _)| k as u32)
    }

    pub fn endpoint(&self, e: u16) -> &str {
        self.timeline
            .endpoints
            .get(e as usize)
            .map_or("?", |s| s.as_str())
    }

    pub fn sequence_name(&self, s: SeqIdx) -> &str {
        self.timeline.seq_info(s).map_or("", |i| i.identifier.as_str())
    }

    /// The Info column: what a wire says, briefly.
    pub fn info(&self, index: u32) -> String {
        let Some(w) = self.wire(index) else {
            return String::new();
        };
        let mut parts: Vec<String> = Vec::new();
        match w.kind {
            WireKind::Data | WireKind::LastMessage => {
                let copy = if w.attempt() > 0 {
                    format!(" (copy {})", w.attempt() + 1)
                } else {
                    String::new()
                };
                parts.push(format!("#{}{copy}", w.number));
                if w.flags.has(WireFlags::LAST_MESSAGE) {
                    parts.push("LastMessage".into());
                }
                // A message of a return sequence: the reply to a request, or a callback.
                let is_return = self
                    .timeline
                    .seq_info(w.seq)
                    .is_some_and(|i| i.offered_by.is_some());
                if is_return && w.kind == WireKind::Data {
                    match self.timeline.request_of(index).and_then(|r| self.wire(r)) {
                        Some(rq) => parts.push(format!("reply to #{}", rq.number)),
                        None => parts.push("callback".into()),
                    }
                }
            }
            WireKind::CloseSequence | WireKind::TerminateSequence if w.number > 0 => {
                parts.push(format!("LastMsgNumber {}", w.number))
            }
            WireKind::Fault => parts.push(
                w.fault_code()
                    .map_or("SOAP fault".into(), |c| format!("wsrm:{}", c.name())),
            ),
            WireKind::Http if let Some(line) = self.timeline.http_line(index) => {
                parts.push(line.to_string());
            }
            WireKind::Http if w.flags.has(WireFlags::RESPONSE) && w.number > 0 => {
                let status = w.number as u16;
                let reason = http_reason(status);
                parts.push(format!("{status} {reason}").trim_end().to_string());
            }
            WireKind::Http => {
                if let Some(m) = crate::capture::http::method_name(w.method()) {
                    parts.push(format!("{m} (no SOAP body)"));
                }
            }
            _ => {}
        }
        if w.flags.has(WireFlags::ACK_REQUESTED) && w.kind != WireKind::AckRequested {
            parts.push("AckRequested".into());
        }
        if w.flags.has(WireFlags::HAS_ACK) {
            let ranges = self.timeline.ack_ranges(&w);
            let text = if w.flags.has(WireFlags::ACK_NONE) {
                "none".to_string()
            } else if w.flags.has(WireFlags::NACK) {
                "nack".to_string()
            } else {
                ranges
                    .iter()
                    .take(8)
                    .map(|r| {
                        if r.lower == r.upper {
                            r.lower.to_string()
                        } else {
                            format!("{}-{}", r.lower, r.upper)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
                    + if ranges.len() > 8 { ",…" } else { "" }
            };
            parts.push(format!("ack {text}"));
            if let Some(b) = self.timeline.buffer_remaining(&w) {
                parts.push(format!("BufferRemaining {b}"));
            }
            if w.flags.has(WireFlags::FINAL) {
                parts.push("Final".into());
            }
        }
        parts.join("  ")
    }
}

/// The standard reason phrase of an HTTP status (what Wireshark's Info shows).
fn http_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The message-list filter: free words match kind, sequence or info; `seq:TEXT`,
/// `kind:TEXT`, `msg:N` or `msg:N-M` narrow further (`msg:` matches a message with that number
/// and an acknowledgement whose ranges cover one of them). All terms must match; a `name:`
/// term the filter does not know is an error, not an empty list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
    /// A display filter in Wireshark's style (`wsrm.msgnum == 5 && …`), instead of terms.
    expr: Option<crate::trace::filter::Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Seq(String),
    Kind(String),
    Numbers(u64, u64),
    Word(String),
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        if crate::trace::filter::looks_like_expression(text) {
            return crate::trace::filter::Expr::parse(text).map(|e| Filter {
                terms: Vec::new(),
                expr: Some(e),
            });
        }
        let mut terms = Vec::new();
        for t in text.split_whitespace() {
            let lower = t.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("seq:") {
                terms.push(Term::Seq(v.to_string()));
            } else if let Some(v) = lower.strip_prefix("kind:") {
                terms.push(Term::Kind(v.to_string()));
            } else if let Some(v) = lower.strip_prefix("msg:") {
                let (a, b) = v.split_once('-').unwrap_or((v, v));
                let parse = |x: &str| {
                    x.parse::<u64>()
                        .map_err(|_| format!("msg:{v} is not a number or range N-M"))
                };
                let (lo, hi) = (parse(a)?, parse(b)?);
                terms.push(Term::Numbers(lo.min(hi), lo.max(hi)));
            } else if let Some((field, rest)) = lower.split_once(':')
                && !field.is_empty()
                && field.chars().all(|c| c.is_ascii_alphabetic())
                // URLs and urn:uuid: identifiers are words to search for.
                && !rest.starts_with("//")
                && field != "urn"
            {
                return Err(format!(
                    "unknown filter field \"{field}:\" (use seq:, kind: or msg:, or plain words)"
                ));
            } else {
                terms.push(Term::Word(lower));
            }
        }
        Ok(Filter { terms, expr: None })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.expr.is_none()
    }

    pub fn matches(&self, d: &Dataset, i: u32, w: &Wire) -> bool {
        if let Some(e) = &self.expr {
            return e.matches(&d.timeline, i);
        }
        self.terms.iter().all(|t| match t {
            Term::Seq(s) => {
                d.sequence_name(w.seq).to_ascii_lowercase().contains(s)
                    || d.sequence_name(d.timeline.ack_seq(w))
                        .to_ascii_lowercase()
                        .contains(s)
            }
            Term::Kind(k) => w.kind.label().to_ascii_lowercase().contains(k),
            Term::Numbers(lo, hi) => {
                (w.number >= *lo && w.number <= *hi && w.number > 0)
                    || (w.flags.has(WireFlags::HAS_ACK)
                        && !w.flags.has(WireFlags::NACK)
                        && d.timeline
                            .ack_ranges(w)
                            .iter()
                            .any(|r| r.lower.get() <= *hi && r.upper.get() >= *lo))
            }
            Term::Word(x) => {
                w.kind.label().to_ascii_lowercase().contains(x)
                    || d.sequence_name(w.seq).to_ascii_lowercase().contains(x)
                    || d.info(i).to_ascii_lowercase().contains(x)
            }
        })
    }

    /// Indexes of the wires that match.
    pub fn apply(&self, d: &Dataset) -> Vec<u32> {
        (0..d.timeline.wires.len() as u32)
            .filter(|&i| self.is_empty() || self.matches(d, i, &d.timeline.wires.at(i as usize)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, Simulation};

    fn dataset() -> Dataset {
        let mut c = SimConfig::default();
        c.workload.messages = 20;
        c.forward_script = vec![crate::netsim::DropRule::Message {
            number: 5,
            attempt: 0,
        }];
        let mut sim = Simulation::new(c).unwrap();
        sim.run();
        Dataset::new(Origin::Live, sim.take_timeline(), Vec::new(), None)
    }

    #[test]
    fn display_filters_in_wiresharks_style() {
        let d = dataset();
        let f = |t: &str| Filter::parse(t).unwrap().apply(&d);
        // The same rows as the short forms.
        assert_eq!(f("wsrm.msgnum == 5"), f("msg:5 kind:message"));
        assert_eq!(
            f("wsrm.msgnum >= 3 && wsrm.msgnum <= 4 && !wsrm.retransmission").len(),
            2
        );
        assert_eq!(f("wsrm.retransmission").len(), 1, "message 5's second copy");
        assert_eq!(f("wsrm.retransmission"), f("wsrm.copy == 2"));
        let covers5 = f("wsrm.ack.range == 5");
        assert_eq!(
            covers5,
            f("kind:ack msg:5")
                .into_iter()
                .filter(|&i| d.wire(i).unwrap().flags.has(WireFlags::HAS_ACK))
                .collect::<Vec<_>>()
        );
        let id = d.timeline.sequences[0].identifier.to_string();
        let tail = &id[id.len() - 4..];
        assert_eq!(
            f(&format!("wsrm.seq contains \"{tail}\"")).len(),
            d.timeline.wires.len()
        );
        assert!(f("frame.time_relative > 1000").is_empty());
        assert_eq!(f("wsrm.ack || !wsrm.ack").len(), d.timeline.wires.len());
        assert_eq!(
            f("(wsrm.kind == Ack) and wsrm.buffer_remaining >= 0"),
            f("wsrm.kind == \"Ack\"")
        );
        let e = Filter::parse("wsrm.msgnum == ").unwrap_err();
        assert!(e.starts_with("column "), "{e}");
    }

    #[test]
    fn filters() {
        let d = dataset();
        let all = Filter::parse("").unwrap().apply(&d);
        assert_eq!(all.len(), d.timeline.wires.len());
        let five = Filter::parse("msg:5 kind:message").unwrap().apply(&d);
        assert_eq!(five.len(), 2, "first copy and the retransmission");
        // msg:5 alone also lists the acknowledgements that cover 5 (issue 18).
        let about5 = Filter::parse("msg:5").unwrap().apply(&d);
        assert!(about5.len() > 2);
        assert!(about5.iter().all(|&i| {
            let w = d.wire(i).unwrap();
            w.number == 5 || w.flags.has(WireFlags::HAS_ACK)
        }));
        assert!(d.info(five[1]).contains("copy 2"));
        let acks = Filter::parse("kind:ack").unwrap().apply(&d);
        assert!(
            acks.iter()
                .all(|&i| d.wire(i).unwrap().kind.label().contains("Ack"))
        );
        assert_eq!(Filter::parse("msg:3-4 kind:message").unwrap().apply(&d).len(), 2);
        assert!(Filter::parse("msg:x").is_err());
        // An acknowledgement matches the numbers its ranges cover.
        let ack5 = Filter::parse("kind:ack msg:5").unwrap().apply(&d);
        assert!(!ack5.is_empty());
        for &i in &ack5 {
            let w = d.wire(i).unwrap();
            assert!(
                d.timeline
                    .ack_ranges(&w)
                    .iter()
                    .any(|r| r.lower.get() <= 5 && r.upper.get() >= 5)
            );
        }
        let before5 = Filter::parse("kind:ack msg:5").unwrap().apply(&d).len();
        let acks_total = Filter::parse("kind:ack").unwrap().apply(&d).len();
        assert!(before5 < acks_total, "the acks before 5 arrived do not cover it");
        // An unknown field says so instead of listing nothing; URLs stay words.
        let e = Filter::parse("kind:ack foo:3").unwrap_err();
        assert!(e.contains("foo:"), "{e}");
        assert!(Filter::parse("http://client1.example").is_ok());
        let urn = d.timeline.sequences[0].identifier.to_string();
        assert_eq!(
            Filter::parse(&urn).unwrap().apply(&d).len(),
            d.timeline.wires.len(),
            "a pasted urn:uuid: identifier is a word"
        );
        let id = d.timeline.sequences[0].identifier.to_string();
        assert_eq!(
            Filter::parse(&format!("seq:{}", &id[9..20]))
                .unwrap()
                .apply(&d)
                .len(),
            d.timeline.wires.len()
        );
    }

    #[test]
    fn finding_points_at_its_wire() {
        let d = dataset();
        let f = d
            .findings
            .iter()
            .find(|f| f.text.contains("retransmission"))
            .unwrap();
        let w = d.wire(d.wire_of_finding(f).unwrap()).unwrap();
        assert_eq!((w.number, w.attempt()), (5, 1));
    }
}
