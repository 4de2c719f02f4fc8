//! Per-sequence analysis: what the reliable session did, and what looks wrong, from wires only
//! (so it works for captures and live sessions alike).

use super::{Finding, Severity};
use crate::ranges::Ranges;
use crate::trace::{SeqIdx, Time, Timeline, Wire, WireFlags, WireKind};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One retransmission: a further copy of (sequence, number) on the wire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Retransmission {
    pub number: u64,
    /// 1 for the first retransmission, 2 for the second...
    pub copy: u16,
    /// Seconds since the first copy.
    pub delay: f64,
    pub frame: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    pub count: u64,
    pub min: f64,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

/// Time series the views plot (not serialised: they can be long).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Messages sent but not yet acknowledged (the window occupancy) after each change, by the
    /// wire that changed it (its time is the wire's: 8 bytes a point, not 16).
    pub in_flight: Vec<(u32, u32)>,
}

/// Which wire first carried each message number (its time is the wire's). Numbers of a
/// sequence are dense (1, 2, 3 …), so they index a vector — 4 bytes a message where a hash map
/// of times took about 30 at the analysis's peak; a number beyond what the sequence's wires
/// could hold (a capture that starts late, a forged number) goes to the map.
struct FirstSends {
    dense: Vec<u32>,
    limit: u64,
    sparse: FxHashMap<u64, u32>,
}

impl FirstSends {
    const UNSET: u32 = u32::MAX;

    fn new(wires: usize) -> Self {
        FirstSends {
            dense: Vec::new(),
            limit: wires as u64,
            sparse: FxHashMap::default(),
        }
    }
    fn insert(&mut self, n: u64, wire: u32) {
        match n.checked_sub(1).filter(|&i| i < self.limit) {
            Some(i) => {
                let i = i as usize;
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, Self::UNSET);
                }
                self.dense[i] = wire;
            }
            None => {
                self.sparse.insert(n, wire);
            }
        }
    }
    /// When `n` was first sent.
    fn get(&self, t: &Timeline, n: u64) -> Option<Time> {
        let wire = match n.checked_sub(1).filter(|&i| i < self.limit) {
            Some(i) => self.dense.get(i as usize).copied().filter(|&w| w != Self::UNSET),
            None => self.sparse.get(&n).copied(),
        }?;
        t.wires.time(wire as usize)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequenceSummary {
    #[serde(skip)]
    pub index: SeqIdx,
    pub id: String,
    pub version: Option<&'static str>,
    pub soap: Option<&'static str>,
    /// "addr:port" (captures) or the endpoint's name (live).
    pub source: Option<String>,
    pub destination: Option<String>,
    pub create_frame: Option<u32>,
    /// Seconds from CreateSequence to its response.
    pub handshake_rtt: Option<f64>,
    /// Distinct message numbers seen.
    pub messages: u64,
    pub transmissions: u64,
    pub retransmissions: u64,
    pub retransmitted_numbers: Vec<u64>,
    pub retransmission_details: Vec<Retransmission>,
    pub last_message_number: Option<u64>,
    pub acks: u64,
    pub final_ack_ranges: Vec<[u64; 2]>,
    pub ack_latency: Option<LatencyStats>,
    pub max_in_flight: u32,
    pub min_buffer_remaining: Option<u32>,
    /// Longest time an endpoint of the sequence received nothing of it, seconds.
    pub longest_silence: f64,
    pub closed: bool,
    pub terminated: bool,
    pub faults: u64,
    pub first_time: f64,
    pub last_time: f64,
    /// The session's other sequence: the return sequence this one's CreateSequence offered
    /// (request-reply, duplex), or — for a return sequence — the sequence that offered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_sequence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_by: Option<String>,
    /// Replies of this return sequence paired with their requests (RelatesTo).
    #[serde(skip_serializing_if = "is_zero")]
    pub replies: u64,
    #[serde(skip)]
    pub series: Series,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(super) fn summarise(
    t: &Timeline,
    seq: SeqIdx,
    wires: &[u32],
    opts: &super::Options,
    out: &mut Vec<Finding>,
) -> SequenceSummary {
    let inactivity = opts.inactivity_timeout;
    let info = t.seq_info(seq).expect("known sequence");
    let id = info.identifier.to_string();
    let name = |e: Option<u16>| e.and_then(|e| t.endpoints.get(e as usize)).map(|n| n.to_string());
    let mut s = SequenceSummary {
        index: seq,
        id: id.clone(),
        version: info.version.map(|v| v.label()),
        soap: info.soap.map(|v| v.label()),
        source: name(info.source),
        destination: name(info.destination),
        create_frame: None,
        handshake_rtt: None,
        messages: 0,
        transmissions: 0,
        retransmissions: 0,
        retransmitted_numbers: Vec::new(),
        retransmission_details: Vec::new(),
        last_message_number: None,
        acks: 0,
        final_ack_ranges: Vec::new(),
        ack_latency: None,
        max_in_flight: 0,
        min_buffer_remaining: None,
        longest_silence: 0.0,
        closed: false,
        terminated: false,
        faults: 0,
        first_time: 0.0,
        last_time: 0.0,
        return_sequence: info
            .return_sequence
            .and_then(|r| t.seq_info(r))
            .map(|i| i.identifier.to_string()),
        offered_by: info
            .offered_by
            .and_then(|r| t.seq_info(r))
            .map(|i| i.identifier.to_string()),
        // Counted once for all sequences by `analyze`.
        replies: 0,
        series: Series::default(),
    };
    let w = |i: u32| t.wires.at(i as usize);
    let mut finding = |sev: Severity, wire: &Wire, text: String| {
        out.push(Finding::new(sev, wire.frame, wire.time, seq, text))
    };
    if let Some((cs, csr)) = info.handshake {
        let rtt = w(csr).time.since(w(cs).time);
        s.create_frame = Some(w(cs).frame);
        s.handshake_rtt = Some(rtt.as_secs_f64());
        finding(
            Severity::Chat,
            &w(csr),
            format!(
                "sequence {id} created ({:.3} ms after the CreateSequence)",
                rtt.as_secs_f64() * 1e3
            ),
        );
        if let Some(ret) = &s.return_sequence {
            finding(
                Severity::Chat,
                &w(csr),
                format!("return sequence {ret} offered in {id}'s CreateSequence and accepted: one session"),
            );
        }
        if info.offer_refused {
            finding(
                Severity::Warn,
                &w(csr),
                format!(
                    "the CreateSequence of {id} offered a return sequence and the response did not accept it: \
                     WCF's request-reply and duplex clients fault the session (CSResponseWithoutOffer)"
                ),
            );
        }
    }
    let began_here = info.handshake.is_some();
    let mut sent = Ranges::new();
    let mut acked = Ranges::new();
    let mut first_send = FirstSends::new(wires.len());
    let mut in_flight: u32 = 0;
    let mut last_ack: Option<Ranges> = None;
    let mut last_ack_wire: Option<u32> = None;
    let mut last_known: Option<u64> = None;
    let mut close_at: Option<u64> = None;
    let mut last_rx: FxHashMap<crate::trace::Side, Time> = FxHashMap::default();
    let mut latencies = Latencies::default();
    if let Some(&first) = wires.first() {
        s.first_time = w(first).time.as_secs_f64();
    }
    for &i in wires {
        let wire = w(i);
        s.last_time = wire.time.as_secs_f64();
        // Silence: time a side of the sequence waited for anything of it — by RM role, not
        // socket: a source on a new ephemeral port per connection is still one source.
        let receiver = t.side_for(&wire, seq).peer();
        if let Some(prev) = last_rx.insert(receiver, wire.time) {
            let gap = wire.time.since(prev);
            if gap.as_secs_f64() > s.longest_silence {
                s.longest_silence = gap.as_secs_f64();
            }
            if gap > inactivity {
                let who = t
                    .endpoints
                    .get(wire.to as usize)
                    .map_or("?".into(), |n| n.to_string());
                finding(
                    Severity::Warn,
                    &wire,
                    format!(
                        "{who} received nothing of {id} for {:.1} s, longer than inactivityTimeout ({:.1} s): WCF would have faulted the session",
                        gap.as_secs_f64(),
                        inactivity.as_secs_f64()
                    ),
                );
            }
        }
        if wire.seq == seq && wire.kind.is_sequenced() {
            let n = wire.number;
            s.transmissions += 1;
            if wire.kind == WireKind::LastMessage || wire.flags.has(WireFlags::LAST_MESSAGE) {
                last_known = Some(n);
            }
            if let Some(last) = last_known.filter(|&l| n > l) {
                finding(
                    Severity::Error,
                    &wire,
                    format!("message {n} is beyond the last message number {last} of {id}"),
                );
            }
            if let Some(last) = close_at.filter(|&l| n > l || !sent.contains(n)) {
                finding(
                    Severity::Error,
                    &wire,
                    format!("message {n} sent after CloseSequence (LastMsgNumber {last}) of {id}"),
                );
            }
            if wire.attempt() > 0 {
                s.retransmissions += 1;
                let delay = first_send
                    .get(t, n)
                    .map_or(0.0, |f| wire.time.since(f).as_secs_f64());
                if s.retransmitted_numbers.last() != Some(&n) && !s.retransmitted_numbers.contains(&n) {
                    s.retransmitted_numbers.push(n);
                }
                s.retransmission_details.push(Retransmission {
                    number: n,
                    copy: wire.attempt(),
                    delay,
                    frame: wire.frame,
                });
                let already = if acked.contains(n) {
                    " (already acknowledged)"
                } else {
                    ""
                };
                finding(
                    Severity::Note,
                    &wire,
                    format!(
                        "retransmission of message {n} of {id}: copy {} after {:.3} s{already}",
                        wire.attempt() + 1,
                        delay
                    ),
                );
            } else if sent.insert(n) {
                first_send.insert(n, i);
                if !acked.contains(n) {
                    in_flight += 1;
                    if opts.series {
                        s.series.in_flight.push((i, in_flight));
                    }
                    s.max_in_flight = s.max_in_flight.max(in_flight);
                }
            }
        }
        match wire.kind {
            WireKind::CloseSequence if wire.seq == seq => {
                s.closed = true;
                close_at = Some(if wire.number > 0 {
                    wire.number
                } else {
                    sent.highest()
                });
                last_known = last_known.or(close_at);
            }
            WireKind::TerminateSequence if wire.seq == seq => {
                s.terminated = true;
                if wire.number > 0 {
                    last_known = last_known.or(Some(wire.number));
                }
                finding(Severity::Chat, &wire, format!("sequence {id} terminated"));
            }
            WireKind::Fault if wire.seq == seq => {
                s.faults += 1;
                let code = wire
                    .fault_code()
                    .map_or("a SOAP fault".to_string(), |c| format!("wsrm:{}", c.name()));
                finding(Severity::Error, &wire, format!("{code} for {id}"));
            }
            _ => {}
        }
        if t.ack_seq(&wire) == seq && wire.flags.has(WireFlags::HAS_ACK) {
            s.acks += 1;
            let ranges = t.ack_ranges(&wire);
            let now = Ranges::from_ranges(ranges);
            if let Some(br) = t.buffer_remaining(&wire) {
                s.min_buffer_remaining = Some(s.min_buffer_remaining.map_or(br, |m| m.min(br)));
            }
            // Acknowledging what was never sent (InvalidAcknowledgement, WS-RM 1.1 §4.3). A capture
            // that started mid-sequence only knows the numbers above what it saw.
            let mut unsent = Vec::new();
            for r in ranges {
                for (lo, hi) in sent.missing_within(r.lower.get(), r.upper.get()) {
                    let lo = if began_here {
                        lo
                    } else {
                        lo.max(sent.highest() + 1)
                    };
                    if lo <= hi && (began_here || hi > sent.highest()) {
                        unsent.push((lo, hi));
                    }
                }
            }
            if !unsent.is_empty() && !sent.is_empty() {
                finding(
                    Severity::Error,
                    &wire,
                    format!(
                        "acknowledgement for {id} covers {} never seen sent (InvalidAcknowledgement)",
                        list(&unsent)
                    ),
                );
            }
            if let Some(prev) = &last_ack {
                let mut dropped = Vec::new();
                for (lo, hi) in prev.iter() {
                    dropped.extend(now.missing_within(lo, hi));
                }
                if !dropped.is_empty() && !wire.flags.has(WireFlags::NACK) {
                    finding(
                        Severity::Warn,
                        &wire,
                        format!(
                            "acknowledgement ranges for {id} shrink: {} no longer acknowledged",
                            list(&dropped)
                        ),
                    );
                }
            }
            for r in ranges {
                for (lo, hi) in acked.missing_within(r.lower.get(), r.upper.get()) {
                    for n in lo..=hi {
                        if let Some(f) = first_send.get(t, n) {
                            latencies.push(wire.time.since(f));
                            in_flight = in_flight.saturating_sub(1);
                        }
                    }
                    acked.insert_range(lo, hi);
                }
            }
            if opts.series {
                s.series.in_flight.push((i, in_flight));
            }
            last_ack = Some(now);
            last_ack_wire = Some(i);
        }
    }
    s.messages = sent.count();
    s.last_message_number = last_known;
    if let Some(prev) = &last_ack {
        s.final_ack_ranges = prev.iter().map(|(lo, hi)| [lo, hi]).collect();
        // Holes below the highest acknowledged number that no ack ever filled.
        let holes = prev.missing_within(1, prev.highest());
        if opts.ended
            && !holes.is_empty()
            && let Some(i) = last_ack_wire
        {
            finding(
                Severity::Warn,
                &w(i),
                format!("gap never filled in {id}: {} never acknowledged", list(&holes)),
            );
        }
    }
    // A return sequence's replies the client never acknowledged by the end: the service keeps
    // each until an ack names it (ReliableReplySessionChannel), a duplex service resends it.
    if opts.ended
        && info.offered_by.is_some()
        && let Some(&i) = wires.last()
    {
        let mut never = Vec::new();
        for (lo, hi) in sent.iter() {
            never.extend(acked.missing_within(lo, hi));
        }
        if !never.is_empty() {
            finding(
                Severity::Note,
                &w(i),
                format!(
                    "{} of return sequence {id} never acknowledged by the end",
                    list(&never)
                ),
            );
        }
    }
    if opts.ended
        && !s.terminated
        && let Some(&i) = wires.last()
    {
        finding(
            Severity::Note,
            &w(i),
            format!("sequence {id} never terminated (no TerminateSequence seen)"),
        );
    }
    s.ack_latency = latencies.stats();
    s
}

/// Ack latencies of a sequence, one per message: 4 bytes each (nanoseconds) while under 4.29 s,
/// the rare longer ones apart — exact, and half of what a vector of seconds weighs.
#[derive(Default)]
struct Latencies {
    short: Vec<u32>,
    long: Vec<u64>,
}

impl Latencies {
    fn push(&mut self, d: std::time::Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match u32::try_from(ns) {
            Ok(n) => self.short.push(n),
            Err(_) => self.long.push(ns),
        }
    }

    /// As `LatencyStats::of` over the same samples in seconds: every long one is longer than
    /// every short one, so the two sorted lists read as one.
    fn stats(mut self) -> Option<LatencyStats> {
        let len = self.short.len() + self.long.len();
        if len == 0 {
            return None;
        }
        self.short.sort_unstable();
        self.long.sort_unstable();
        let at = |k: usize| {
            let ns = match self.short.get(k) {
                Some(&n) => u64::from(n),
                None => self.long[k - self.short.len()],
            };
            std::time::Duration::from_nanos(ns).as_secs_f64()
        };
        let pick = |q: f64| at(((len - 1) as f64 * q).round() as usize);
        Some(LatencyStats {
            count: len as u64,
            min: at(0),
            median: pick(0.5),
            p95: pick(0.95),
            max: at(len - 1),
        })
    }
}

impl LatencyStats {
    /// Min, median, 95th percentile and max of `samples` (seconds); None when there are none.
    pub fn of(mut samples: Vec<f64>) -> Option<LatencyStats> {
        if samples.is_empty() {
            return None;
        }
        // Unstable: no buffer of half the samples (equal latencies are interchangeable).
        samples.sort_unstable_by(|a, b| a.total_cmp(b));
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Some(LatencyStats {
            count: samples.len() as u64,
            min: samples[0],
            median: pick(0.5),
            p95: pick(0.95),
            max: samples[samples.len() - 1],
        })
    }
}

/// "3, 5-7" (at most 10 items).
fn list(ranges: &[(u64, u64)]) -> String {
    let mut parts: Vec<String> = ranges
        .iter()
        .take(10)
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    if ranges.len() > 10 {
        parts.push(format!("and {} more ranges", ranges.len() - 10));
    }
    let count: u64 = ranges.iter().map(|(lo, hi)| hi - lo + 1).sum();
    let noun = if count == 1 { "message" } else { "messages" };
    format!("{noun} {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_kept_small_give_the_same_stats() {
        use std::time::Duration;
        let samples: Vec<Duration> = (0..1000u64)
            .map(|i| Duration::from_nanos((i * 7_919_993_177 + 13) % 9_000_000_000))
            .collect();
        let mut l = Latencies::default();
        for &d in &samples {
            l.push(d);
        }
        assert!(!l.long.is_empty() && !l.short.is_empty());
        let want = LatencyStats::of(samples.iter().map(Duration::as_secs_f64).collect());
        assert_eq!(l.stats(), want);
        assert_eq!(Latencies::default().stats(), None);
    }
}
