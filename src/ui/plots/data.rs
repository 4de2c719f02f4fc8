//! The series the four plots draw, computed from the timeline of one sequence (no egui here,
//! so it is tested and benchmarked on its own). Times are seconds since the start.

use crate::trace::{EventKind, SeqIdx, Side, Time, Timer, WireFlags, WireKind};
use crate::ui::model::Dataset;
use rustc_hash::FxHashSet;

/// Markers that stand for wire messages: positions and, in parallel, the wire each one is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    pub pts: Vec<[f64; 2]>,
    pub wires: Vec<u32>,
}

impl Marks {
    fn push(&mut self, x: f64, y: f64, wire: u32) {
        self.pts.push([x, y]);
        self.wires.push(wire);
    }

    /// Orders by time (captures can hold a frame whose clock stepped back).
    fn sort(&mut self) {
        if self.pts.windows(2).all(|w| w[0][0] <= w[1][0]) {
            return;
        }
        let mut idx: Vec<usize> = (0..self.pts.len()).collect();
        idx.sort_by(|&a, &b| self.pts[a][0].total_cmp(&self.pts[b][0]));
        self.pts = idx.iter().map(|&i| self.pts[i]).collect();
        self.wires = idx.iter().map(|&i| self.wires[i]).collect();
    }

    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pts.len()
    }

    /// The wire whose marker is nearest to `(x, y)` under the metric `dist` (pixels), within
    /// the x window `x0..=x1`; at most `budget` markers are examined, nearest in x first.
    pub fn nearest(
        &self,
        x: f64,
        x0: f64,
        x1: f64,
        budget: usize,
        dist: &dyn Fn([f64; 2]) -> f32,
    ) -> Option<(u32, f32)> {
        let start = self.pts.partition_point(|p| p[0] < x0);
        let end = self.pts.partition_point(|p| p[0] <= x1);
        if start >= end {
            return None;
        }
        let mid = self.pts[start..end].partition_point(|p| p[0] < x) + start;
        let (mut lo, mut hi) = (mid, mid);
        let mut best: Option<(u32, f32)> = None;
        for _ in 0..budget {
            let take_hi = hi < end && (lo <= start || self.pts[hi][0] - x <= x - self.pts[lo - 1][0]);
            let i = if take_hi {
                hi += 1;
                hi - 1
            } else if lo > start {
                lo -= 1;
                lo
            } else {
                break;
            };
            let d = dist(self.pts[i]);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((self.wires[i], d));
            }
        }
        best
    }
}

/// A value that changes at instants, drawn as steps.
#[derive(Default)]
struct Steps {
    pts: Vec<[f64; 2]>,
}

impl Steps {
    fn set(&mut self, t: f64, v: f64) {
        if let Some(&[_, prev]) = self.pts.last() {
            if prev == v {
                return;
            }
            self.pts.push([t, prev]);
        }
        self.pts.push([t, v]);
    }
    fn finish(mut self, end: f64) -> Vec<[f64; 2]> {
        if let Some(&[t, v]) = self.pts.last()
            && end > t
        {
            self.pts.push([end, v]);
        }
        self.pts
    }
}

/// Sequence numbers over time (Stevens / tcptrace style).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeqTime {
    pub first: Marks,
    pub retransmitted: Marks,
    /// Copies the link dropped (live only), messages and acks.
    pub lost: Marks,
    /// Copies dropped because a drop rule or the user asked for it (live), apart from `lost`.
    pub dropped: Marks,
    /// One vertical bar per acknowledged range, at the time the ack arrived: `[x, lo, x, hi]`.
    pub ack_bars: Vec<[f64; 4]>,
    /// The top of each ack's bars, to pick acks with the pointer.
    pub acks: Marks,
    /// Messages delivered to the application (live) or cumulatively acknowledged (captures).
    pub delivered: Vec<[f64; 2]>,
    pub delivered_label: &'static str,
    /// First sends of the session's other sequence (replies or callbacks of the return
    /// sequence, or the requests of the sequence that offered it), overlaid.
    pub other: Marks,
    pub other_label: &'static str,
}

/// Per message number: every copy, the time between them, and the retransmission timer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retransmissions {
    pub first: Marks,
    pub copies: Marks,
    pub lost: Marks,
    /// From the first copy to the last one of a number: `[t0, n, t1, n]`.
    pub spans: Vec<[f64; 4]>,
    /// Retransmission timer intervals, armed → fired/stopped/re-armed, on lane 0.
    pub rto: Vec<[f64; 4]>,
    pub fired: Vec<[f64; 2]>,
    /// Whether every message is shown or only those sent more than once.
    pub all: bool,
}

/// How full the pipe is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowSeries {
    pub in_flight: Vec<[f64; 2]>,
    /// The source's current transmission window (live).
    pub window: Vec<[f64; 2]>,
    /// Messages the destination holds for the application (live).
    pub queue: Vec<[f64; 2]>,
    /// netrm:BufferRemaining of each acknowledgement, as it arrived.
    pub advertised: Vec<[f64; 2]>,
    pub max_window: Option<f64>,
    /// In-flight comes from the engine (live) rather than inferred from the wire.
    pub from_engine: bool,
}

/// Seconds since each endpoint last received something of the session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inactivity {
    pub lines: Vec<(String, Vec<[f64; 2]>)>,
    pub keep_alive: Marks,
    pub faults: Vec<(f64, String)>,
    pub timeout: f64,
    pub max_gap: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlotData {
    pub seq: SeqIdx,
    pub t0: f64,
    pub t1: f64,
    pub max_number: f64,
    pub seq_time: SeqTime,
    pub retransmissions: Retransmissions,
    pub window: WindowSeries,
    pub inactivity: Inactivity,
}

/// The sequence a plot shows by default: the one with the most messages; of a session's two
/// equal ones, the client's (the return sequence is overlaid on it).
pub fn default_sequence(d: &Dataset) -> SeqIdx {
    d.analysis
        .sequences
        .iter()
        .max_by_key(|s| (s.messages, s.offered_by.is_none(), std::cmp::Reverse(s.index)))
        .map_or(SeqIdx::NONE, |s| s.index)
}

fn secs(t: Time) -> f64 {
    t.as_secs_f64()
}

pub fn build(d: &Dataset, seq: SeqIdx, all_retransmissions: bool) -> PlotData {
    let tl = &d.timeline;
    let n = tl.wires.len();
    // Live sessions know when each wire arrived and which were lost.
    let mut arrival = vec![f64::NAN; n];
    let mut lost = vec![false; n];
    // Of the lost, the copies a drop rule or the user asked to drop.
    let mut dropped = vec![false; n];
    let live = d.config.is_some();
    for e in &tl.events {
        match e.kind {
            EventKind::Arrived { wire } if (wire as usize) < n && arrival[wire as usize].is_nan() => {
                arrival[wire as usize] = secs(e.time);
            }
            EventKind::Lost { wire, scripted } if (wire as usize) < n => {
                lost[wire as usize] = true;
                dropped[wire as usize] = scripted;
            }
            _ => {}
        }
    }
    let at = |i: usize| {
        if arrival[i].is_nan() {
            secs(tl.wires.at(i).time)
        } else {
            arrival[i]
        }
    };
    let t1 = secs(d.end_time());
    let mut out = PlotData {
        seq,
        t0: 0.0,
        t1,
        ..PlotData::default()
    };

    // Sequence/time and the retransmitted numbers.
    let st = &mut out.seq_time;
    let mut again: FxHashSet<u64> = FxHashSet::default();
    let mut cumulative = Steps::default();
    let mut cum_top = 0u64;
    // The session's other sequence, overlaid on sequence/time.
    let info = tl.seq_info(seq);
    let other = match (
        info.and_then(|i| i.return_sequence),
        info.and_then(|i| i.offered_by),
    ) {
        (Some(r), _) => {
            st.other_label = "return sequence (replies)";
            r
        }
        (None, Some(b)) => {
            st.other_label = "offering sequence (requests)";
            b
        }
        _ => SeqIdx::NONE,
    };
    for (i, w) in tl.wires.iter().enumerate() {
        let t = secs(w.time);
        if !other.is_none() && w.seq == other && w.kind.is_sequenced() && w.number > 0 && w.attempt() == 0 {
            st.other.push(t, w.number as f64, i as u32);
            out.max_number = out.max_number.max(w.number as f64);
        }
        if w.seq == seq && w.kind.is_sequenced() && w.number > 0 {
            let y = w.number as f64;
            out.max_number = out.max_number.max(y);
            if dropped[i] {
                st.dropped.push(t, y, i as u32);
            } else if lost[i] {
                st.lost.push(t, y, i as u32);
            }
            if w.attempt() == 0 {
                st.first.push(t, y, i as u32);
            } else {
                st.retransmitted.push(t, y, i as u32);
            }
            if w.attempt() > 0 || lost[i] {
                again.insert(w.number);
            }
        }
        if tl.ack_seq(&w) == seq && w.flags.has(WireFlags::HAS_ACK) {
            let ranges = tl.ack_ranges(&w);
            let top = ranges.iter().map(|r| r.upper.get()).max().unwrap_or(0);
            if lost[i] {
                let marks = if dropped[i] { &mut st.dropped } else { &mut st.lost };
                marks.push(t, top as f64, i as u32);
                continue;
            }
            let x = at(i);
            for r in ranges {
                st.ack_bars
                    .push([x, r.lower.get() as f64, x, r.upper.get() as f64]);
            }
            if !ranges.is_empty() {
                st.acks.push(x, top as f64, i as u32);
            }
            if let Some(first) = ranges.iter().find(|r| r.lower.get() == 1)
                && first.upper.get() > cum_top
            {
                cum_top = first.upper.get();
                cumulative.set(x, cum_top as f64);
            }
        }
    }
    if live {
        let mut delivered = Steps::default();
        let mut count = 0u64;
        for e in &tl.events {
            if e.seq == seq && matches!(e.kind, EventKind::Delivered { .. }) {
                count += 1;
                delivered.set(secs(e.time), count as f64);
            }
        }
        st.delivered = delivered.finish(t1);
        st.delivered_label = "delivered to the application";
    } else {
        st.delivered = cumulative.finish(t1);
        st.delivered_label = "cumulatively acknowledged";
    }
    for m in [&mut st.first, &mut st.retransmitted, &mut st.lost, &mut st.acks] {
        m.sort();
    }

    // Retransmission timeline.
    let rt = &mut out.retransmissions;
    rt.all = all_retransmissions;
    let mut span: rustc_hash::FxHashMap<u64, (f64, f64)> = Default::default();
    for (i, w) in tl.wires.iter().enumerate() {
        if w.seq != seq || !w.kind.is_sequenced() || w.number == 0 {
            continue;
        }
        if !all_retransmissions && !again.contains(&w.number) {
            continue;
        }
        let (t, y) = (secs(w.time), w.number as f64);
        if lost[i] {
            rt.lost.push(t, y, i as u32);
        }
        if w.attempt() == 0 {
            rt.first.push(t, y, i as u32);
        } else {
            rt.copies.push(t, y, i as u32);
        }
        let s = span.entry(w.number).or_insert((t, t));
        s.0 = s.0.min(t);
        s.1 = s.1.max(t);
    }
    let mut spans: Vec<(u64, (f64, f64))> = span.into_iter().filter(|(_, (a, b))| b > a).collect();
    spans.sort_by_key(|(n, _)| *n);
    rt.spans = spans
        .into_iter()
        .map(|(n, (a, b))| [a, n as f64, b, n as f64])
        .collect();
    let mut armed: Option<f64> = None;
    // The retransmission timer is the sending end's: the service's for a return sequence.
    let sender = if tl.seq_info(seq).is_some_and(|i| i.offered_by.is_some()) {
        Side::Destination
    } else {
        Side::Source
    };
    for e in &tl.events {
        if e.side != sender || (e.seq != seq && !e.seq.is_none()) {
            continue;
        }
        let t = secs(e.time);
        match e.kind {
            EventKind::TimerArmed {
                timer: Timer::Retransmission,
                at,
            } => {
                if let Some(a) = armed.take() {
                    rt.rto.push([a, 0.0, t, 0.0]);
                }
                armed = Some(t);
                let _ = at;
            }
            EventKind::TimerStopped {
                timer: Timer::Retransmission,
            } => {
                if let Some(a) = armed.take() {
                    rt.rto.push([a, 0.0, t, 0.0]);
                }
            }
            EventKind::TimerFired {
                timer: Timer::Retransmission,
            } => {
                if let Some(a) = armed.take() {
                    rt.rto.push([a, 0.0, t, 0.0]);
                }
                rt.fired.push([t, 0.0]);
            }
            _ => {}
        }
    }
    if let Some(a) = armed {
        rt.rto.push([a, 0.0, t1.max(a), 0.0]);
    }
    for m in [&mut rt.first, &mut rt.copies, &mut rt.lost] {
        m.sort();
    }

    // Window occupancy.
    let win = &mut out.window;
    let mut in_flight = Steps::default();
    let mut window = Steps::default();
    let mut queue = Steps::default();
    let mut advertised = Steps::default();
    for e in &tl.events {
        if e.seq != seq {
            continue;
        }
        let t = secs(e.time);
        match e.kind {
            EventKind::Window {
                window: wnd,
                in_flight: f,
                ..
            } => {
                win.from_engine = true;
                in_flight.set(t, f as f64);
                window.set(t, wnd as f64);
            }
            EventKind::Buffer { queued, .. } => queue.set(t, queued as f64),
            _ => {}
        }
    }
    for (i, w) in tl.wires.iter().enumerate() {
        if tl.ack_seq(&w) == seq
            && !lost[i]
            && let Some(b) = tl.buffer_remaining(&w)
        {
            advertised.set(at(i), b as f64);
        }
    }
    if !win.from_engine
        && let Some(s) = d.analysis.sequences.iter().find(|s| s.index == seq)
    {
        for &(i, v) in &s.series.in_flight {
            if let Some(time) = tl.wires.time(i as usize) {
                in_flight.set(secs(time), v as f64);
            }
        }
    }
    win.in_flight = in_flight.finish(t1);
    win.window = window.finish(t1);
    win.queue = queue.finish(t1);
    win.advertised = advertised.finish(t1);
    win.max_window = d
        .config
        .as_ref()
        .map(|c| c.settings.max_transfer_window_size as f64);

    // Inactivity: per endpoint of the sequence, the time since it last received anything of it.
    let ina = &mut out.inactivity;
    ina.timeout = d.inactivity_timeout.as_secs_f64();
    let info = tl.seq_info(seq);
    // By RM role, not socket (issue 17): an HTTP source on a new ephemeral port per connection.
    let ends = [
        (info.and_then(|s| s.source), "RM source", Side::Source),
        (
            info.and_then(|s| s.destination),
            "RM destination",
            Side::Destination,
        ),
    ];
    for (ep, role, side) in ends {
        let Some(ep) = ep else { continue };
        let mut arrivals: Vec<f64> = tl
            .wires
            .iter()
            .enumerate()
            .filter(|(i, w)| {
                (w.seq == seq || tl.ack_seq(w) == seq) && !lost[*i] && tl.side_for(w, seq).peer() == side
            })
            .map(|(i, _)| at(i))
            .collect();
        arrivals.sort_by(f64::total_cmp);
        let mut pts = Vec::with_capacity(arrivals.len() * 2 + 2);
        let mut last = match arrivals.first() {
            Some(&t) => t,
            None => continue,
        };
        pts.push([last, 0.0]);
        for &t in &arrivals[1..] {
            ina.max_gap = ina.max_gap.max(t - last);
            pts.push([t, t - last]);
            pts.push([t, 0.0]);
            last = t;
        }
        if t1 > last {
            ina.max_gap = ina.max_gap.max(t1 - last);
            pts.push([t1, t1 - last]);
        }
        let name = d.endpoint(ep);
        let label = if name == role {
            role.to_string()
        } else {
            format!("{role} ({name})")
        };
        ina.lines.push((label, pts));
    }
    for (i, w) in tl.wires.iter().enumerate() {
        if w.seq == seq && w.kind == WireKind::AckRequested {
            ina.keep_alive.push(secs(w.time), 0.0, i as u32);
        }
        if w.kind == WireKind::Fault && (w.seq == seq || w.seq.is_none()) {
            let code = w
                .fault_code()
                .map_or("SOAP fault".into(), |c| c.name().to_string());
            ina.faults.push((secs(w.time), code));
        }
    }
    for e in &tl.events {
        if let EventKind::Fault { cause, .. } = e.kind
            && e.seq == seq
        {
            ina.faults
                .push((secs(e.time), format!("{} faults: {cause:?}", e.side.label())));
        }
    }
    ina.keep_alive.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, Simulation, presets};

    fn live(c: SimConfig) -> Dataset {
        let mut sim = Simulation::new(c.clone()).unwrap();
        sim.run();
        Dataset::from_run(c, sim.take_timeline())
    }

    #[test]
    fn single_loss_shows_one_retransmission_and_the_lost_copy() {
        let d = live((presets::find("single-loss").unwrap().build)());
        let seq = default_sequence(&d);
        let p = build(&d, seq, false);
        assert_eq!(
            p.seq_time.first.len(),
            31,
            "30 messages and the 2005/02 LastMessage"
        );
        assert_eq!(
            p.seq_time.retransmitted.pts,
            vec![[p.seq_time.retransmitted.pts[0][0], 5.0]]
        );
        // The preset drops it by rule: marked as dropped on request, not as a random loss.
        assert!(p.seq_time.dropped.pts.iter().any(|pt| pt[1] == 5.0));
        assert!(p.seq_time.lost.pts.is_empty());
        assert_eq!(p.seq_time.delivered.last().unwrap()[1], 30.0);
        // Only message 5 has a lane; the timer fired once.
        assert!(p.retransmissions.first.pts.iter().all(|pt| pt[1] == 5.0));
        assert_eq!(p.retransmissions.spans.len(), 1);
        assert_eq!(p.retransmissions.fired.len(), 1);
        // The ack bars cover 1..=30 by the end.
        assert!(p.seq_time.ack_bars.iter().any(|b| b[1] == 1.0 && b[3] == 31.0));
        assert!(p.window.from_engine && p.window.in_flight.iter().all(|v| v[1] <= 8.0));
        assert_eq!(p.window.max_window, Some(8.0));
        assert_eq!(p.inactivity.lines.len(), 2);
    }

    #[test]
    fn a_return_sequence_shows_the_service_s_retransmission_timer_and_the_requests_overlaid() {
        // netTcpBinding preset: reply 2 is lost and resent by the service after 6 s.
        let d = live((presets::find("nettcpbinding").unwrap().build)());
        let ret = d
            .timeline
            .sequences
            .iter()
            .position(|s| s.offered_by.is_some())
            .map(|i| SeqIdx(i as u32))
            .unwrap();
        let p = build(&d, ret, false);
        assert!(!p.retransmissions.rto.is_empty(), "the service's timer");
        assert_eq!(p.retransmissions.fired.len(), 1, "one expiry: reply 2");
        assert_eq!(p.seq_time.other.len(), 11, "the 10 requests and the LastMessage");
        assert_eq!(p.seq_time.other_label, "offering sequence (requests)");
    }

    #[test]
    fn picking_finds_the_nearest_marker() {
        let mut m = Marks::default();
        for i in 0..100 {
            m.push(i as f64, (i % 10) as f64, i);
        }
        let pick = |x: f64, y: f64| {
            m.nearest(x, x - 5.0, x + 5.0, 1000, &|p| {
                (((p[0] - x).powi(2) + (p[1] - y).powi(2)).sqrt()) as f32
            })
        };
        assert_eq!(pick(42.2, 2.0).unwrap().0, 42);
        assert_eq!(pick(-50.0, 0.0), None);
        assert_eq!(pick(99.4, 9.0).unwrap().0, 99);
    }

    #[test]
    fn inactivity_is_a_sawtooth_up_to_now() {
        let d = live((presets::find("inactivity-timeout").unwrap().build)());
        let p = build(&d, default_sequence(&d), false);
        assert!(!p.inactivity.keep_alive.is_empty(), "keep-alive AckRequested");
        assert!(!p.inactivity.faults.is_empty());
        assert!(p.inactivity.max_gap >= 10.0, "{}", p.inactivity.max_gap);
        assert_eq!(p.inactivity.timeout, 20.0);
    }
}
