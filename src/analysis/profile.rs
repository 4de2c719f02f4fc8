//! A recorded sequence's profile: the link it ran on, what the application sent, and the RM
//! source's `<reliableSession>` settings as far as the traffic shows them — each with its
//! evidence and how sure the inference is. Reads only the timeline and the sequence's summary.

use super::{LatencyStats, SequenceSummary};
use crate::ranges::Ranges;
use crate::trace::{SeqIdx, Side, Timeline, WireFlags, WireKind};
use rustc_hash::FxHashMap;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub sequence: String,
    pub link: Link,
    pub workload: Workload,
    pub settings: Vec<Inferred>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    /// Round trips (s): the handshake, and every ack that answered an AckRequested — WCF's
    /// destination answers one at once instead of waiting for acknowledgementInterval (as the
    /// engine's destination does: `engine/destination.rs`, after ReliableInputSessionChannel).
    pub rtt: Option<LatencyStats>,
    /// Copies on the wire, first copies and retransmissions of the sequence's messages.
    pub transmissions: u64,
    pub retransmissions: u64,
    /// Copies the destination never acknowledged before the next copy went out: the source's
    /// side of the loss (first copies lost, or their acks).
    pub unacknowledged_copies: u64,
    /// Retransmissions of a message an ack already covered when the copy was sent (the
    /// source had not seen that ack yet): resent for nothing.
    pub spurious_retransmissions: u64,
    /// Application messages acknowledged per second, first send to last ack.
    pub goodput: f64,
    /// Both ends recorded (the message logs of both, merged): what each end saw of the other.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub both_ends: Option<BothEnds>,
}

/// The link seen from both ends: every message logged as sent and, unless the link lost it, as
/// received. The delays rest on the merge's clock estimate (svclog/merge.rs), which takes the
/// two directions' fastest messages as equally fast.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BothEnds {
    /// One-way delays (s): the sequence's messages to the destination, its acks back.
    pub forward: Option<LatencyStats>,
    pub back: Option<LatencyStats>,
    /// Copies logged as sent and never as received: lost on the way.
    pub lost_forward: u64,
    pub lost_back: u64,
    /// Messages that arrived after a higher-numbered one had (reordered on the link).
    pub reordered: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    pub messages: u64,
    /// Envelope sizes of the application messages' first copies (bytes).
    pub mean_size: f64,
    pub max_size: u32,
    /// Application messages first sent per second, first to last.
    pub send_rate: f64,
    /// The application's own pace: one over the median gap between first sends (stalls of
    /// the transfer, which hold messages back, do not lower it as they lower `send_rate`).
    pub offered_rate: f64,
    /// Longest time without a message of the sequence (s).
    pub longest_idle: f64,
    /// Messages the application sent (the sequence's messages less 2005/02's empty
    /// LastMessage, which is the channel's).
    pub application_messages: u64,
    /// Request-reply and duplex calls: the median time the service took to reply — from a
    /// request to the reply naming it (RelatesTo), less the median round trip; None without
    /// paired replies.
    pub service_time: Option<f64>,
    /// Spells of at least [`IDLE_SPELL`] with nothing of the sequence on the wire: (start,
    /// length) in seconds, the longest [`MAX_IDLE_SPELLS`], in time order.
    pub idle_periods: Vec<[f64; 2]>,
    /// Share of the application's first sends that left within [`RELEASED_BY_ACK`] of an ack
    /// arriving: a sender the window holds back sends when an ack frees a slot, a paced one
    /// whenever its application does.
    pub sent_on_ack: f64,
}

/// A send this soon after an ack was released by it (s).
pub const RELEASED_BY_ACK: f64 = 0.001;

/// The shortest silence listed as an idle period (s).
pub const IDLE_SPELL: f64 = 1.0;
/// The most idle periods listed.
pub const MAX_IDLE_SPELLS: usize = 10;

/// How sure an inferred setting is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// The traffic says so.
    Exact,
    /// The most likely value; the evidence says why.
    Likely,
    /// The setting is at least this.
    AtLeast,
    /// An estimate from timings.
    Estimate,
    /// The traffic does not show it.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inferred {
    /// The `<reliableSession>` attribute.
    pub setting: &'static str,
    pub value: String,
    pub certainty: Certainty,
    pub evidence: String,
}

fn inferred(setting: &'static str, value: String, certainty: Certainty, evidence: String) -> Inferred {
    Inferred {
        setting,
        value,
        certainty,
        evidence,
    }
}

/// What one pass over the sequence's wires measures.
#[derive(Default)]
struct Walk {
    rtt: Vec<f64>,
    /// Ack delays not asked for: from the earliest copy that got through of the messages an ack
    /// newly covers, to the ack.
    unasked: Vec<f64>,
    unacknowledged: u64,
    spurious: u64,
    copies: FxHashMap<u64, u32>,
    /// The application messages' first copies: how many, their bytes, the largest.
    data_count: u64,
    data_bytes: u64,
    data_max: u32,
    max_buffer: Option<u32>,
    last_ack: f64,
    acks: u64,
    /// Acks that rode on an HTTP response (the request-reply pair under one-way over HTTP).
    acks_on_responses: u64,
    /// Acks that rode on a message of another sequence (a session's return sequence).
    piggybacked: u64,
    /// Standalone AckRequested polls: after activity (the first poll of an idle spell), and
    /// after a poll nothing answered (the repeats).
    first_polls: Vec<f64>,
    repeat_polls: Vec<f64>,
    first_send: Option<f64>,
    last_first_send: f64,
    /// Silences between wires of the sequence: (start, length).
    idle: Vec<[f64; 2]>,
    /// First sends of application messages right after an ack.
    sent_on_ack: u64,
    /// Gaps between consecutive first sends of application messages.
    send_gaps: Vec<f64>,
}

fn walk(t: &Timeline, seq: SeqIdx) -> Walk {
    let mut m = Walk::default();
    let mut acked = Ranges::default();
    // Per message number: (first send, last copy, whether a copy asked for an ack).
    let mut sent: FxHashMap<u64, (f64, f64, bool)> = FxHashMap::default();
    // The latest copy that asked for an ack and is not covered yet: (number, time).
    let mut asked: Option<(u64, f64)> = None;
    // For the keep-alive polls: the last thing the source sent and received for the sequence,
    // the last poll, and the destination's last BufferRemaining.
    let (mut last_local, mut last_remote, mut last_poll) = (None::<f64>, None::<f64>, None::<f64>);
    let mut last_buffer: Option<u32> = None;
    let mut last_wire: Option<f64> = None;
    for w in &t.wires {
        if w.seq != seq && t.ack_seq(&w) != seq {
            continue;
        }
        let time = w.time.as_secs_f64();
        if let Some(prev) = last_wire.replace(time)
            && time - prev >= IDLE_SPELL
        {
            m.idle.push([prev, time - prev]);
        }
        let side = t.side_for(&w, seq);
        if side == Side::Destination {
            last_remote = Some(time);
        }
        if w.kind == WireKind::AckRequested && w.seq == seq {
            poll(&mut m, time, last_local, last_remote, last_poll, last_buffer);
            last_poll = Some(time);
            // A standalone AckRequested: the ack answering it is a round trip too.
            asked = Some((u64::MAX, time));
        }
        if side == Side::Source {
            last_local = Some(time);
        }
        if t.ack_seq(&w) == seq
            && let Some(b) = t.buffer_remaining(&w)
        {
            last_buffer = Some(b);
        }
        if w.seq == seq && w.kind.is_sequenced() && side == Side::Source {
            let n = w.number;
            let copy = m.copies.entry(n).or_insert(0);
            *copy += 1;
            let ask = w.flags.has(WireFlags::ACK_REQUESTED);
            match sent.get_mut(&n) {
                Some(e) => {
                    if acked.contains(n) {
                        m.spurious += 1;
                    } else {
                        m.unacknowledged += 1;
                    }
                    e.1 = time;
                    e.2 |= ask;
                }
                None => {
                    sent.insert(n, (time, time, ask));
                    m.first_send.get_or_insert(time);
                    // The application's messages: 2005/02's empty LastMessage is the channel's.
                    if w.kind == WireKind::Data {
                        if m.acks > 0 && time - m.last_ack <= RELEASED_BY_ACK {
                            m.sent_on_ack += 1;
                        }
                        if m.data_count > 0 {
                            m.send_gaps.push(time - m.last_first_send);
                        }
                        m.last_first_send = time;
                        m.data_count += 1;
                        m.data_bytes += u64::from(w.size);
                        m.data_max = m.data_max.max(w.size);
                    }
                }
            }
            if ask {
                asked = Some((n, time));
            }
        }
        if t.ack_seq(&w) == seq && w.flags.has(WireFlags::HAS_ACK) && !w.flags.has(WireFlags::NACK) {
            if let Some(b) = t.buffer_remaining(&w) {
                m.max_buffer = Some(m.max_buffer.map_or(b, |x| x.max(b)));
            }
            let mut earliest_new: Option<f64> = None;
            let mut answers = false;
            for r in t.ack_ranges(&w) {
                let (lo, hi) = (r.lower.get(), r.upper.get());
                // Only the numbers this ack newly covers: each is visited once in the whole
                // walk, however often later acks repeat the ranges.
                for (a, b) in uncovered(&acked, lo, hi) {
                    for n in a..=b.min(a.saturating_add(100_000)) {
                        // WCF's ack timer starts when the destination receives a message it
                        // has not acknowledged: the copy that got through, the last one sent.
                        if let Some(&(_, last, _)) = sent.get(&n) {
                            earliest_new = Some(earliest_new.map_or(last, |e: f64| e.min(last)));
                        }
                        if asked.is_some_and(|(x, _)| x == n) {
                            answers = true;
                        }
                    }
                }
                acked.insert_range(lo, hi);
            }
            if let Some((n, at)) = asked
                && (answers || (n == u64::MAX && time >= at))
            {
                m.rtt.push(time - at);
                asked = None;
            } else if let Some(first) = earliest_new
                && w.kind == WireKind::Ack
            {
                // Only standalone acks: one riding on a reply or callback went when that did.
                m.unasked.push(time - first);
            }
            m.last_ack = time;
            m.acks += 1;
            if w.flags.has(WireFlags::RESPONSE) {
                m.acks_on_responses += 1;
            }
            if w.seq != seq && !w.seq.is_none() {
                m.piggybacked += 1;
            }
        }
    }
    m
}

/// The parts of `lo..=hi` that `acked` does not hold yet.
fn uncovered(acked: &Ranges, lo: u64, hi: u64) -> Vec<(u64, u64)> {
    let mut gaps = Vec::new();
    let mut next = lo;
    for (a, b) in acked.iter() {
        if b < next {
            continue;
        }
        if a > hi {
            break;
        }
        if a > next {
            gaps.push((next, a - 1));
        }
        next = b.saturating_add(1);
        if next > hi || b == u64::MAX {
            return gaps;
        }
    }
    gaps.push((next, hi));
    gaps
}

/// A standalone AckRequested from the source: WCF's keep-alive poll. The client polls
/// inactivityTimeout/2 after the later of its last send and the last message it received, then,
/// while nothing answers, every inactivityTimeout/(2·maxRetryCount); with the destination's
/// quota at 0 it polls faster (the engine's `poll_interval`, after ClientReliableSession's
/// GetPollingInterval and CalculateKeepAliveInterval). A quota-0 spell is not sampled.
fn poll(
    m: &mut Walk,
    time: f64,
    local: Option<f64>,
    remote: Option<f64>,
    prev: Option<f64>,
    buffer: Option<u32>,
) {
    let since = match (local, remote) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return,
    };
    let answered = prev.is_none_or(|p| remote.is_some_and(|r| r > p));
    if !answered {
        m.repeat_polls.push(time - since);
    } else if buffer != Some(0) {
        m.first_polls.push(time - since);
    }
}

/// Delays, losses and reordering from the arrival times a merge of both ends' logs gives.
fn both_ends(t: &Timeline, seq: SeqIdx) -> Option<BothEnds> {
    if t.arrivals.is_empty() {
        return None;
    }
    let arrival: FxHashMap<u32, f64> = t.arrivals.iter().map(|&(w, at)| (w, at.as_secs_f64())).collect();
    let (mut forward, mut back) = (Vec::new(), Vec::new());
    let (mut lost_forward, mut lost_back) = (0u64, 0u64);
    // (arrival, number) of each message's first copy that arrived.
    let mut arrived: Vec<(f64, u64)> = Vec::new();
    let mut seen = Ranges::default();
    for (i, w) in t.wires.iter().enumerate() {
        let at = arrival.get(&(i as u32)).copied();
        let time = w.time.as_secs_f64();
        if w.seq == seq && w.kind.is_sequenced() && t.side_for(&w, seq) == Side::Source {
            match at {
                Some(a) => {
                    forward.push(a - time);
                    if !seen.contains(w.number) {
                        seen.insert_range(w.number, w.number);
                        arrived.push((a, w.number));
                    }
                }
                None => lost_forward += 1,
            }
        } else if t.ack_seq(&w) == seq
            && w.flags.has(WireFlags::HAS_ACK)
            && t.side_for(&w, seq) == Side::Destination
        {
            match at {
                Some(a) => back.push(a - time),
                None => lost_back += 1,
            }
        }
    }
    arrived.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut highest = 0;
    let mut reordered = 0;
    for &(_, n) in &arrived {
        if n < highest {
            reordered += 1;
        }
        highest = highest.max(n);
    }
    Some(BothEnds {
        forward: LatencyStats::of(forward),
        back: LatencyStats::of(back),
        lost_forward,
        lost_back,
        reordered,
    })
}

/// The longest `MAX_IDLE_SPELLS` silences, back in time order.
fn longest_spells(mut idle: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    idle.sort_by(|a, b| b[1].total_cmp(&a[1]));
    idle.truncate(MAX_IDLE_SPELLS);
    idle.sort_by(|a, b| a[0].total_cmp(&b[0]));
    idle
}

/// The median time from a request of `seq` to the reply naming it, less the round trip
/// (a capture at the client sees both ends of it), for a sequence whose CreateSequence
/// offered a return sequence.
fn service_time(t: &Timeline, seq: SeqIdx, rtt: f64) -> Option<f64> {
    let gaps: Vec<f64> = t
        .replies
        .iter()
        .filter_map(|&(reply, request)| {
            let (r, q) = (t.wires.get(reply as usize)?, t.wires.get(request as usize)?);
            (q.seq == seq && r.time >= q.time).then(|| r.time.since(q.time).as_secs_f64())
        })
        .collect();
    median(&gaps).map(|g| (g - rtt).max(0.0))
}

fn median(v: &[f64]) -> Option<f64> {
    LatencyStats::of(v.to_vec()).map(|s| s.median)
}

/// The profile of sequence `s` of timeline `t`.
pub fn profile(t: &Timeline, s: &SequenceSummary) -> Profile {
    let mut m = walk(t, s.index);
    let mut rtt = std::mem::take(&mut m.rtt);
    rtt.extend(s.handshake_rtt);
    let rtt_stats = LatencyStats::of(rtt);
    let first = m.first_send.unwrap_or(s.first_time);
    let span = (m.last_ack - first).max(1e-9);
    let link = Link {
        rtt: rtt_stats.clone(),
        transmissions: s.transmissions,
        retransmissions: s.retransmissions,
        unacknowledged_copies: m.unacknowledged,
        spurious_retransmissions: m.spurious,
        goodput: if m.last_ack > first {
            s.messages as f64 / span
        } else {
            0.0
        },
        both_ends: both_ends(t, s.index),
    };
    let (count, total, max_size) = (m.data_count, m.data_bytes, m.data_max);
    let send_span = m.last_first_send - first;
    let workload = Workload {
        messages: s.messages,
        mean_size: if count > 0 {
            total as f64 / count as f64
        } else {
            0.0
        },
        max_size,
        send_rate: if send_span > 0.0 {
            (count.saturating_sub(1)) as f64 / send_span
        } else {
            0.0
        },
        longest_idle: s.longest_silence,
        offered_rate: median(&m.send_gaps).filter(|g| *g > 0.0).map_or(0.0, |g| 1.0 / g),
        application_messages: count,
        service_time: service_time(t, s.index, rtt_stats.as_ref().map_or(0.0, |r| r.median)),
        idle_periods: longest_spells(std::mem::take(&mut m.idle)),
        sent_on_ack: if count > 0 {
            m.sent_on_ack as f64 / count as f64
        } else {
            0.0
        },
    };
    let mut settings = Vec::new();
    settings.push(match s.version {
        Some("2005/02") => inferred(
            "reliableMessagingVersion",
            "WSReliableMessagingFebruary2005".into(),
            Certainty::Exact,
            "the WS-RM 2005/02 namespace".into(),
        ),
        Some("1.1") => inferred(
            "reliableMessagingVersion",
            "WSReliableMessaging11".into(),
            Certainty::Exact,
            "the WS-RM 1.1 namespace".into(),
        ),
        _ => inferred(
            "reliableMessagingVersion",
            "?".into(),
            Certainty::Unknown,
            "no WS-RM header seen".into(),
        ),
    });
    // WCF's destination writes netrm:BufferRemaining only with flow control on (as the
    // engine's acks: `engine/messages.rs`, after WsrmUtilities).
    settings.push(match m.max_buffer {
        Some(_) => inferred(
            "flowControlEnabled",
            "true".into(),
            Certainty::Exact,
            "acks carry netrm:BufferRemaining".into(),
        ),
        None if s.acks > 0 => inferred(
            "flowControlEnabled",
            "false".into(),
            Certainty::Likely,
            format!("none of the {} acks carries netrm:BufferRemaining", s.acks),
        ),
        None => inferred(
            "flowControlEnabled",
            "?".into(),
            Certainty::Unknown,
            "no ack seen".into(),
        ),
    });
    // BufferRemaining is maxTransferWindowSize less what the destination holds for the
    // application (ReliableInputSessionChannel: MaxTransferWindowSize − EnqueuedCount), so its
    // ceiling is the window; the source never has more than the window in flight.
    settings.push(match m.max_buffer {
        Some(b) if b >= s.max_in_flight && b > 0 => inferred(
            "maxTransferWindowSize",
            b.to_string(),
            Certainty::Likely,
            format!(
                "BufferRemaining's ceiling is {b}; at most {} in flight",
                s.max_in_flight
            ),
        ),
        _ => inferred(
            "maxTransferWindowSize",
            s.max_in_flight.to_string(),
            Certainty::AtLeast,
            format!("at most {} messages in flight", s.max_in_flight),
        ),
    });
    // A few immediate acks (a duplicate, the last message, a full window) say nothing of the
    // timer: an estimate needs several samples.
    const MIN_SAMPLES: usize = 3;
    let enough = m.unasked.len() >= MIN_SAMPLES;
    let interval = median(&m.unasked)
        .filter(|_| enough)
        .map(|d| (d - rtt_stats.as_ref().map_or(0.0, |r| r.median)).max(0.0));
    // Over request-reply every request is answered with an ack at once and the interval is
    // unused (ReliableInputSessionChannelOverReply.ProcessMessage).
    let replies = m.acks > 0 && m.acks_on_responses == m.acks;
    settings.push(match interval {
        _ if replies => inferred(
            "acknowledgementInterval",
            "?".into(),
            Certainty::Unknown,
            "every ack rides on the HTTP response to a request (request-reply: the interval is unused)"
                .into(),
        ),
        Some(d) => inferred(
            "acknowledgementInterval",
            format!("{:.0} ms", d * 1e3),
            Certainty::Estimate,
            format!(
                "median delay of the {} standalone acks not asked for, less the median round trip",
                m.unasked.len()
            ),
        ),
        None => inferred(
            "acknowledgementInterval",
            "?".into(),
            Certainty::Unknown,
            format!(
                "{} standalone acks came without an AckRequested; {MIN_SAMPLES} are needed",
                m.unasked.len()
            ),
        ),
    });
    // Keep-alive polls give inactivityTimeout (twice the first poll's delay) and, when polls
    // went unanswered, maxRetryCount (inactivityTimeout / 2 / the repeat delay).
    let polls = m.first_polls.len();
    // Two first polls, or one and its repeats, make the pattern.
    let inactivity = median(&m.first_polls)
        .filter(|_| polls >= 2 || !m.repeat_polls.is_empty())
        .map(|d| 2.0 * d)
        .filter(|&it| it >= s.longest_silence);
    let repeat = median(&m.repeat_polls);
    let retry_from_polls = inactivity.zip(repeat).and_then(|(it, d)| {
        let n = (it / 2.0 / d).round();
        (n >= 1.0 && d > 0.0).then_some(n as u32)
    });
    let most_copies = m.copies.values().copied().max().unwrap_or(0);
    settings.push(if let Some(n) = retry_from_polls.filter(|&n| n + 1 >= most_copies) {
        inferred(
            "maxRetryCount",
            n.to_string(),
            Certainty::Estimate,
            format!(
                "{} keep-alive polls went unanswered and were repeated after a median {:.3} s = inactivityTimeout / 2 / maxRetryCount",
                m.repeat_polls.len(),
                repeat.unwrap_or(0.0)
            ),
        )
    } else if s.faults > 0 && most_copies > 1 {
        inferred(
            "maxRetryCount",
            (most_copies - 1).to_string(),
            Certainty::Likely,
            format!(
                "the most retransmissions of one message is {}, and the sequence faulted",
                most_copies - 1
            ),
        )
    } else {
        inferred(
            "maxRetryCount",
            most_copies.saturating_sub(1).max(1).to_string(),
            Certainty::AtLeast,
            format!(
                "the most retransmissions of one message is {} with no fault",
                most_copies.saturating_sub(1)
            ),
        )
    });
    settings.push(match inactivity {
        Some(it) => inferred(
            "inactivityTimeout",
            format!("{it:.1} s"),
            Certainty::Estimate,
            format!(
                "{polls} keep-alive AckRequested polls came a median {:.3} s after the last activity: inactivityTimeout / 2",
                it / 2.0
            ),
        ),
        None => inferred(
            "inactivityTimeout",
            format!("{:.3} s", s.longest_silence),
            Certainty::AtLeast,
            format!("the longest silence, {:.3} s, did not fault the session", s.longest_silence),
        ),
    });
    // A session of two sequences says its shape for certain: the offer accepted, and whether
    // the replies came as HTTP responses (request-reply) or as messages of their own (duplex).
    let info = t.seq_info(s.index);
    let other = info.and_then(|i| i.return_sequence.or(i.offered_by));
    let session_shape = other.map(|o| {
        // Which of the two is the client's sequence and which the return sequence it offered.
        let (client_idx, offered_idx) = match info.and_then(|i| i.return_sequence) {
            Some(r) => (s.index, r),
            None => (o, s.index),
        };
        let name = |x: SeqIdx| t.seq_info(x).map_or(String::new(), |i| i.identifier.to_string());
        let (n, on_responses) = t
            .wires
            .iter()
            .filter(|w| w.seq == offered_idx && w.kind.is_sequenced())
            .fold((0u64, 0u64), |(n, r), w| {
                (n + 1, r + u64::from(w.flags.has(crate::trace::WireFlags::RESPONSE)))
            });
        // Requests never ask for an ack (requestAcks false); a duplex client's first message
        // always does (its window starts at 1).
        let asked = t
            .wires
            .iter()
            .filter(|w| {
                w.seq == client_idx && w.kind.is_sequenced() && w.flags.has(crate::trace::WireFlags::ACK_REQUESTED)
            })
            .count();
        let request_reply = (n > 0 && on_responses == n) || asked == 0;
        let value = if request_reply {
            "request-reply (wsHttpBinding)"
        } else {
            "duplex (netTcpBinding, wsDualHttpBinding)"
        };
        let evidence = format!(
            "{}'s CreateSequence offered {} and the response accepted it; {asked} of its messages ask for an ack; {on_responses} of the {n} messages of the return sequence are HTTP responses",
            name(client_idx),
            name(offered_idx)
        );
        (value, evidence)
    });
    if let Some((value, evidence)) = session_shape {
        settings.push(inferred(
            "session shape",
            value.into(),
            Certainty::Exact,
            evidence,
        ));
    } else {
        settings.push(inferred(
            "session shape",
            if m.acks == 0 {
                "?".into()
            } else if m.piggybacked > 0 {
                "two sequences (request-reply or duplex)".into()
            } else if replies {
                "one-way over HTTP request-reply".into()
            } else if m.acks_on_responses > 0 {
                "mixed".into()
            } else {
                "one-way over a duplex channel".into()
            },
            if m.acks == 0 {
                Certainty::Unknown
            } else {
                Certainty::Likely
            },
            format!(
                "of {} acks, {} ride on HTTP responses and {} on messages of another sequence",
                m.acks, m.acks_on_responses, m.piggybacked
            ),
        ));
    }
    settings.push(inferred(
        "ordered",
        "?".into(),
        Certainty::Unknown,
        "delivery order is the destination's business: not on the wire".into(),
    ));
    Profile {
        sequence: s.id.clone(),
        link,
        workload,
        settings,
    }
}
