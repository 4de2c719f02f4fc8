//! Both ends of a session: a message logged as sent by one process and as received by the
//! other is one message with two times. The two clocks differ; their offset is estimated as NTP
//! does from messages in both directions: for the pairs with the least delay,
//! offset = ((t₂ − t₁) − (t₄ − t₃)) / 2 and round trip = (t₂ − t₁) + (t₄ − t₃), which is exact
//! when the quickest message each way took as long as the other.

use super::build::{Msg, map};
use crate::analysis::Severity;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// How the second process's clock relates to the first's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClockEstimate {
    /// The process whose clock every time is shown in.
    pub reference: String,
    pub other: String,
    /// The other clock minus the reference clock.
    pub offset_ms: f64,
    /// Least delay there and back (the uncertainty of the offset is half of it).
    pub round_trip_ms: f64,
    /// Median one-way delay after correction: reference → other, other → reference (against a
    /// capture: from the process's send to the capture, from the capture to its receive).
    pub delay_ms: [f64; 2],
    /// Messages matched in each direction.
    pub pairs: [u64; 2],
    /// Only one direction had matches: the offset assumes no delay that way.
    pub one_way_only: bool,
}

/// A wire to add: a message, when it left (reference clock), when it arrived, and the record of
/// the other end.
pub(super) struct MergedWire {
    pub msg: usize,
    pub time_ns: i128,
    pub arrival_ns: Option<i128>,
    pub other: Option<usize>,
}

pub(super) struct Note {
    pub severity: Severity,
    pub time_ns: i128,
    pub text: String,
}

pub(super) struct Merged {
    pub wires: Vec<MergedWire>,
    /// Per process: its clock minus the reference clock, ns.
    pub offsets: Vec<i64>,
    pub clock: Option<ClockEstimate>,
    pub matched: u64,
    pub notes: Vec<Note>,
}

/// Messages within this of each other may be one message despite the estimate's error.
const SLACK_NS: i128 = 2_000_000;

pub(super) fn merge(msgs: &[Msg], names: &[String]) -> Merged {
    let mut out = Merged {
        wires: Vec::new(),
        offsets: vec![0; names.len()],
        clock: None,
        matched: 0,
        notes: Vec::new(),
    };
    let live: Vec<usize> = (0..msgs.len()).filter(|&i| !msgs[i].folded).collect();
    if names.len() == 2 {
        match_ends(msgs, &live, names, &mut out);
    } else {
        out.wires = each_alone(msgs, &live);
    }
    out.wires
        .sort_by_key(|w| (w.time_ns, msgs[w.msg].file, msgs[w.msg].record));
    out
}

/// Every message a wire of its own, at its own clock's time.
fn each_alone(msgs: &[Msg], live: &[usize]) -> Vec<MergedWire> {
    live.iter()
        .map(|&i| MergedWire {
            msg: i,
            time_ns: msgs[i].time_ns as i128,
            arrival_ns: None,
            other: None,
        })
        .collect()
}

type Index = FxHashMap<u64, Vec<usize>>;

fn index(msgs: &[Msg], live: &[usize], process: u16, send: bool) -> Index {
    let mut m: Index = FxHashMap::default();
    for &i in live {
        if msgs[i].process == process && msgs[i].send == send {
            m.entry(msgs[i].remote_key).or_default().push(i);
        }
    }
    m
}

/// Delays (receive − send, raw clocks) of messages seen exactly once at each end.
fn unique_delays(msgs: &[Msg], sends: &Index, recvs: &Index) -> Vec<i128> {
    sends
        .iter()
        .filter(|(_, s)| s.len() == 1)
        .filter_map(|(k, s)| match recvs.get(k) {
            Some(r) if r.len() == 1 => Some(msgs[r[0]].time_ns as i128 - msgs[s[0]].time_ns as i128),
            _ => None,
        })
        .collect()
}

fn median(v: &mut [i128]) -> i128 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

pub(super) fn describe(m: &Msg) -> String {
    if let Some(s) = &m.env.sequence {
        return format!("message #{} of {}", s.message_number.get(), s.identifier);
    }
    let (kind, _, _) = crate::trace::classify(&m.env);
    kind.label().to_string()
}

fn match_ends(msgs: &[Msg], live: &[usize], names: &[String], out: &mut Merged) {
    let sends = [index(msgs, live, 0, true), index(msgs, live, 1, true)];
    let recvs = [index(msgs, live, 0, false), index(msgs, live, 1, false)];
    // d_ab = δ_ab + θ and d_ba = δ_ba − θ, θ = clock(1) − clock(0).
    let ab = unique_delays(msgs, &sends[0], &recvs[1]);
    let ba = unique_delays(msgs, &sends[1], &recvs[0]);
    let theta: i128 = match (ab.iter().min(), ba.iter().min()) {
        (Some(&a), Some(&b)) => (a - b) / 2,
        (Some(&a), None) => a,
        (None, Some(&b)) => -b,
        (None, None) => {
            // Nothing in common: two unrelated logs, each in its own clock.
            out.wires = each_alone(msgs, live);
            return;
        }
    };
    let theta = theta.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    out.offsets = vec![0, theta];
    let span = |p: u16| {
        let times = live
            .iter()
            .filter(|&&i| msgs[i].process == p)
            .map(|&i| map(msgs[i].time_ns, out.offsets[p as usize]));
        let (lo, hi) = times.fold((i128::MAX, i128::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
        (lo, hi)
    };
    let spans = [span(0), span(1)];
    let mut delays: [Vec<i128>; 2] = [Vec::new(), Vec::new()];
    let mut matched_send = vec![false; msgs.len()];
    for s in 0..2u16 {
        let r = 1 - s;
        let (so, ro) = (out.offsets[s as usize], out.offsets[r as usize]);
        let mut receives: Vec<usize> = recvs[r as usize].values().flatten().copied().collect();
        receives.sort_by_key(|&i| (msgs[i].time_ns, msgs[i].file, msgs[i].record));
        for ri in receives {
            let rt = map(msgs[ri].time_ns, ro);
            let cands = sends[s as usize]
                .get(&msgs[ri].remote_key)
                .map_or(&[][..], Vec::as_slice);
            // The latest copy sent before it arrived; else the earliest not yet matched.
            let pick = cands
                .iter()
                .rev()
                .find(|&&c| !matched_send[c] && map(msgs[c].time_ns, so) <= rt + SLACK_NS)
                .or_else(|| cands.iter().find(|&&c| !matched_send[c]))
                .copied();
            match pick {
                Some(si) => {
                    matched_send[si] = true;
                    let st = map(msgs[si].time_ns, so);
                    delays[s as usize].push(rt - st);
                    out.matched += 1;
                    out.wires.push(MergedWire {
                        msg: si,
                        time_ns: st,
                        arrival_ns: Some(rt),
                        other: Some(ri),
                    });
                }
                None => {
                    if !cands.is_empty() {
                        out.notes.push(Note {
                            severity: Severity::Warn,
                            time_ns: rt,
                            text: format!(
                                "{} received {} twice; {} logged sending it {} time(s) (duplicated on the way)",
                                names[r as usize],
                                describe(&msgs[ri]),
                                names[s as usize],
                                cands.len()
                            ),
                        });
                    }
                    out.wires.push(MergedWire {
                        msg: ri,
                        time_ns: rt,
                        arrival_ns: None,
                        other: None,
                    });
                }
            }
        }
        // Sends nobody received: lost, when the receiver's log covers the time.
        let mut unsent: Vec<usize> = sends[s as usize]
            .values()
            .flatten()
            .copied()
            .filter(|&i| !matched_send[i])
            .collect();
        unsent.sort_unstable();
        for si in unsent {
            let st = map(msgs[si].time_ns, so);
            let (lo, hi) = spans[r as usize];
            if st >= lo && st <= hi {
                out.notes.push(Note {
                    severity: Severity::Warn,
                    time_ns: st,
                    text: format!(
                        "{} sent {}; {} never logged receiving it (lost on the way)",
                        names[s as usize],
                        describe(&msgs[si]),
                        names[r as usize]
                    ),
                });
            }
            out.wires.push(MergedWire {
                msg: si,
                time_ns: st,
                arrival_ns: None,
                other: None,
            });
        }
    }
    let rtt = match (ab.iter().min(), ba.iter().min()) {
        (Some(&a), Some(&b)) => a + b,
        _ => 0,
    };
    out.clock = Some(ClockEstimate {
        reference: names[0].clone(),
        other: names[1].clone(),
        offset_ms: theta as f64 / 1e6,
        round_trip_ms: rtt as f64 / 1e6,
        delay_ms: [
            median(&mut delays[0]) as f64 / 1e6,
            median(&mut delays[1]) as f64 / 1e6,
        ],
        pairs: [delays[0].len() as u64, delays[1].len() as u64],
        one_way_only: ab.is_empty() || ba.is_empty(),
    });
}
