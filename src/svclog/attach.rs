//! A capture and the message logs of the same session, opened together: the capture stays the
//! timeline (it is what was on the wire) and each logged record of a captured message becomes
//! part of that message — the detail pane shows the record and, where WCF logged it, the
//! decrypted service-level copy. Each logging process's clock is estimated against the
//! capture's as two ends are (merge.rs): from its sends (logged, then captured) and its
//! receives (captured, then logged), the quickest of each.

use super::build::{LogError, LogStats, Msg, read_records};
use super::merge::{ClockEstimate, describe};
use super::origin;
use crate::analysis::{Finding, Severity};
use crate::capture::{CaptureData, Progress};
use crate::trace::{SeqIdx, Time};
use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// What the logs add to a capture.
#[derive(Clone, Debug, Default)]
pub struct Attached {
    pub paths: Vec<PathBuf>,
    pub stats: LogStats,
    /// Per logging process: its clock against the capture's (`reference` = "capture").
    pub clocks: Vec<ClockEstimate>,
    /// Capture wire → the log records of that message (the sender's, the receiver's), by origin.
    pub records: FxHashMap<u32, Vec<u64>>,
    /// Capture wire → the service-level record of the same message (decrypted body).
    pub service_level: FxHashMap<u32, u64>,
    /// Traces, reading problems, and messages logged but not in the capture.
    pub findings: Vec<Finding>,
    /// Log records matched to a captured message.
    pub matched: u64,
}

/// Records within this of a capture frame may be the same message despite the estimate's error.
const SLACK_NS: i128 = 2_000_000;

/// Reads the logs at `paths` and attaches them to `cap` (read with fingerprints).
pub fn attach(
    cap: &CaptureData,
    paths: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Attached, LogError> {
    let reader = read_records(paths, progress, cancel)?;
    let names: Vec<String> = reader.processes.iter().map(|p| p.label()).collect();
    let t = &cap.timeline;
    let start = cap.stats.start_ns as i128;
    let cap_time = |w: u32| start + t.wires.at(w as usize).time.0 as i128;
    let mut by_fp: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for &(w, fp) in &cap.fingerprints {
        by_fp.entry(fp).or_default().push(w);
    }
    let msgs = &reader.msgs;
    let live: Vec<usize> = (0..msgs.len()).filter(|&i| !msgs[i].folded).collect();
    let mut out = Attached {
        paths: paths.to_vec(),
        ..Attached::default()
    };
    // Clock of each process against the capture.
    let mut offsets = vec![0i128; names.len()];
    for (p, name) in names.iter().enumerate() {
        let mine = |send: bool| {
            live.iter()
                .copied()
                .filter(move |&i| msgs[i].process as usize == p && msgs[i].send == send)
        };
        let delays = |send: bool| -> Vec<i128> {
            let mut seen: FxHashMap<u64, (usize, u32)> = FxHashMap::default();
            for i in mine(send) {
                seen.entry(msgs[i].fingerprint).or_insert((i, 0)).1 += 1;
            }
            seen.values()
                .filter(|(_, n)| *n == 1)
                .filter_map(
                    |&(i, _)| match by_fp.get(&msgs[i].fingerprint).map(Vec::as_slice) {
                        Some([w]) => {
                            let lt = msgs[i].time_ns as i128;
                            Some(if send {
                                cap_time(*w) - lt
                            } else {
                                lt - cap_time(*w)
                            })
                        }
                        _ => None,
                    },
                )
                .collect()
        };
        let (sends, recvs) = (delays(true), delays(false));
        // θ = capture clock − process clock: d_send = δ + θ, d_recv = δ' − θ.
        let theta = match (sends.iter().min(), recvs.iter().min()) {
            (Some(&a), Some(&b)) => (a - b) / 2,
            (Some(&a), None) => a,
            (None, Some(&b)) => -b,
            (None, None) => continue,
        };
        offsets[p] = theta;
        out.clocks.push(ClockEstimate {
            reference: "capture".into(),
            other: name.clone(),
            offset_ms: -theta as f64 / 1e6,
            round_trip_ms: match (sends.iter().min(), recvs.iter().min()) {
                (Some(&a), Some(&b)) => (a + b) as f64 / 1e6,
                _ => 0.0,
            },
            delay_ms: [0.0, 0.0],
            pairs: [sends.len() as u64, recvs.len() as u64],
            one_way_only: sends.is_empty() || recvs.is_empty(),
        });
    }
    // Each record to the captured copy nearest its (corrected) time: a send before the frame, a
    // receive after it; a frame takes one sender's and one receiver's record.
    let mut taken: FxHashMap<(u32, bool), ()> = FxHashMap::default();
    let mut order = live.clone();
    order.sort_by_key(|&i| (msgs[i].time_ns as i128 + offsets[msgs[i].process as usize], i));
    let rel = |ns: i128| Time((ns - start).max(0) as u64);
    // Per process, corrected delays: capture after send, receive after capture.
    let mut delays: Vec<[Vec<i128>; 2]> = vec![[Vec::new(), Vec::new()]; names.len()];
    for i in order {
        let m: &Msg = &msgs[i];
        let at = m.time_ns as i128 + offsets[m.process as usize];
        let cands = by_fp.get(&m.fingerprint).map_or(&[][..], Vec::as_slice);
        let fits = |w: u32| {
            let c = cap_time(w);
            if m.send {
                c + SLACK_NS >= at
            } else {
                c <= at + SLACK_NS
            }
        };
        let pick = cands
            .iter()
            .copied()
            .filter(|&w| !taken.contains_key(&(w, m.send)))
            .min_by_key(|&w| (!fits(w), (cap_time(w) - at).abs()));
        match pick {
            Some(w) => {
                taken.insert((w, m.send), ());
                out.matched += 1;
                let d = if m.send {
                    cap_time(w) - at
                } else {
                    at - cap_time(w)
                };
                delays[m.process as usize][usize::from(!m.send)].push(d);
                out.records
                    .entry(w)
                    .or_default()
                    .push(origin(m.file as usize, m.offset));
                if let Some(twin) = m.twin {
                    out.service_level.insert(w, twin);
                }
            }
            None => out.findings.push(Finding::new(
                Severity::Note,
                0,
                rel(at),
                SeqIdx::NONE,
                format!(
                    "{} logged {} {} (record {}); it is not in the capture",
                    names[m.process as usize],
                    if m.send { "sending" } else { "receiving" },
                    describe(m),
                    m.record
                ),
            )),
        }
    }
    for tr in &reader.traces {
        out.findings.push(Finding::new(
            tr.severity,
            0,
            rel(tr.time_ns as i128 + offsets[tr.process as usize]),
            SeqIdx::NONE,
            format!("{}: {}", names[tr.process as usize], tr.text),
        ));
    }
    for (_, _, sev, text) in &reader.findings {
        out.findings
            .push(Finding::new(*sev, 0, Time::ZERO, SeqIdx::NONE, text.clone()));
    }
    for c in &mut out.clocks {
        if let Some(p) = names.iter().position(|n| *n == c.other) {
            for (k, v) in delays[p].iter_mut().enumerate() {
                v.sort_unstable();
                c.delay_ms[k] = v.get(v.len() / 2).map_or(0.0, |&d| d as f64 / 1e6);
            }
        }
    }
    out.findings.sort_by_key(|f| f.time);
    out.stats = reader.stats;
    out.stats.matched = out.matched;
    Ok(out)
}
