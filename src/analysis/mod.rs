//! Analysis of a timeline (live or captured): per-sequence summaries and expert findings.

mod finding;
pub mod profile;
mod sequence;
pub mod stall;

pub use finding::{Finding, Severity};
pub use sequence::{LatencyStats, Retransmission, SequenceSummary, Series};

use crate::trace::{SeqIdx, Timeline, WireKind};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// Silences longer than this are reported (WCF's inactivityTimeout, default 10 min).
    pub inactivity_timeout: Duration,
    /// The recording is complete (a file, a finished run): what never happened by its end is a
    /// finding ("gap never filled", "never terminated"). A live session still running says
    /// nothing of the kind.
    pub ended: bool,
    /// Keep the series the plots draw (`SequenceSummary::series`); a summary alone (the CLI)
    /// does without them: 8 bytes for each change of the window, two a message.
    pub series: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inactivity_timeout: Duration::from_secs(600),
            ended: true,
            series: true,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub sequences: Vec<SequenceSummary>,
    /// Sorted by frame, then time.
    pub findings: Vec<Finding>,
}

/// Summarises every sequence of the timeline and collects the findings.
pub fn analyze(t: &Timeline, opts: &Options) -> Analysis {
    // Which wires concern which sequence (its own messages and the acks for it).
    let mut per_seq: Vec<Vec<u32>> = vec![Vec::new(); t.sequences.len()];
    let mut findings = Vec::new();
    for (i, w) in t.wires.iter().enumerate() {
        if let Some(s) = w.seq.index() {
            per_seq[s].push(i as u32);
        }
        let ack_seq = t.ack_seq(&w);
        if let Some(a) = ack_seq.index()
            && ack_seq != w.seq
        {
            per_seq[a].push(i as u32);
        }
        if w.kind == WireKind::Fault && w.seq.is_none() {
            let code = w
                .fault_code()
                .map_or("a SOAP fault".to_string(), |c| format!("wsrm:{}", c.name()));
            let severity = if w.fault_code() == Some(crate::wsrm::RmFault::CreateSequenceRefused) {
                Severity::Warn
            } else {
                Severity::Error
            };
            findings.push(Finding::new(
                severity,
                w.frame,
                w.time,
                SeqIdx::NONE,
                format!("{code} (no sequence identifier)"),
            ));
        }
    }
    answered_twice(t, &mut findings);
    // What only the engine knows (live and simulated sessions): sends that timed out.
    for e in &t.events {
        if let crate::trace::EventKind::SendTimedOut { waited_ms } = e.kind {
            findings.push(Finding::new(
                Severity::Error,
                0,
                e.time,
                e.seq,
                format!(
                    "Send timed out after {} with no space in the transfer window (TimeoutException to the application; the message was not sent)",
                    crate::engine::settings::timespan(std::time::Duration::from_millis(waited_ms.into()))
                ),
            ));
        }
    }
    let mut sequences = Vec::new();
    for (i, wires) in per_seq.iter().enumerate() {
        if wires.is_empty() {
            continue;
        }
        sequences.push(sequence::summarise(
            t,
            SeqIdx(i as u32),
            wires,
            opts,
            &mut findings,
        ));
    }
    // Replies per return sequence, counted once (not once per sequence: captures hold many).
    let mut replies = vec![0u64; t.sequences.len()];
    for &(reply, _) in &t.replies {
        if let Some(i) = t.wires.at(reply as usize).seq.index() {
            replies[i] += 1;
        }
    }
    for s in &mut sequences {
        s.replies = s.index.index().map_or(0, |i| replies[i]);
    }
    findings.sort_by_key(|f| (f.frame, f.time));
    Analysis {
        sequences: sessions_together(t, sequences),
        findings,
    }
}

/// Each return sequence right after the sequence that offered it (the offer names it first,
/// so it would come first), everything else in order.
fn sessions_together(t: &Timeline, sequences: Vec<SequenceSummary>) -> Vec<SequenceSummary> {
    let offered = |s: &SequenceSummary| t.seq_info(s.index).and_then(|i| i.offered_by);
    if sequences.iter().all(|s| offered(s).is_none()) {
        return sequences;
    }
    let total = sequences.len();
    let mut returns: rustc_hash::FxHashMap<SeqIdx, Vec<SequenceSummary>> = rustc_hash::FxHashMap::default();
    let mut rest = Vec::with_capacity(total);
    for s in sequences {
        match offered(&s) {
            Some(by) => returns.entry(by).or_default().push(s),
            None => rest.push(s),
        }
    }
    let mut out = Vec::with_capacity(total);
    for s in rest {
        let index = s.index;
        out.push(s);
        out.extend(returns.remove(&index).unwrap_or_default());
    }
    // A return sequence whose offering sequence has no summary (no wires of its own).
    let mut left: Vec<SequenceSummary> = returns.into_values().flatten().collect();
    left.sort_by_key(|s| s.index.0);
    out.extend(left);
    out
}

/// A request of a session with a return sequence answered by two different replies (two reply
/// numbers naming it in RelatesTo): the service ran the operation twice. The same reply resent
/// (request-reply's kept reply) is one answer.
fn answered_twice(t: &Timeline, out: &mut Vec<Finding>) {
    let mut first: rustc_hash::FxHashMap<(SeqIdx, u64), (SeqIdx, u64)> = rustc_hash::FxHashMap::default();
    for &(reply, request) in &t.replies {
        let (rq, rp) = (&t.wires.at(request as usize), &t.wires.at(reply as usize));
        let answer = (rp.seq, rp.number);
        match first.entry((rq.seq, rq.number)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(answer);
            }
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != answer => {
                let id = t.seq_info(rq.seq).map_or("", |s| s.identifier.as_str());
                out.push(Finding::new(
                    Severity::Error,
                    rp.frame,
                    rp.time,
                    rq.seq,
                    format!(
                        "request #{} of {id} answered twice: replies #{} and #{} (the operation ran twice)",
                        rq.number,
                        e.get().1,
                        rp.number
                    ),
                ));
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
        }
    }
}
