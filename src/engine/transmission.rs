//! The RM source's transfer window: congestion window, slow start / congestion avoidance,
//! flow-control quota, retransmission bookkeeping — WCF's TransmissionStrategy rule for rule
//! (ProcessAcknowledgement, ProcessTransferred, OnRetryElapsed, AddToWindow, CanAdd,
//! DequeuePending, UpdateStats).

use super::rtt::{RttEstimator, units};
use crate::trace::Time;
use crate::wsrm::{AckRange, Envelope};
use std::collections::VecDeque;
use std::time::Duration;

/// A message in the window (WCF TransmissionInfo).
#[derive(Clone, Debug)]
pub struct Slot {
    pub number: u64,
    /// The buffered copy, with its Sequence and (if any) AckRequested headers.
    pub envelope: Envelope,
    pub last_attempt: Time,
    /// 0 on first send; +1 per retransmission (timer- or ack-driven).
    pub retries: u32,
    /// Acknowledged out of order (SACKed) but not yet slid out.
    pub transferred: bool,
}

/// What an acknowledgement did to the window. The RTT samples it gave and the numbers it
/// queued for retransmission are in [`Transmission::samples`] / [`Transmission::retransmit`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AckOutcome {
    /// The ack covers a number never sent, or contradicts an earlier one
    /// (ProcessAcknowledgement: invalidAck, inconsistentAck → InvalidAcknowledgement).
    pub invalid: bool,
    /// Messages slid out of the window (newly acknowledged in order).
    pub slid: u64,
}

#[derive(Clone, Debug)]
pub struct Transmission {
    slots: VecDeque<Slot>,
    /// Number of `slots[0]` (the oldest unacknowledged message).
    window_start: u64,
    pub cwnd: u32,
    pub ssthresh: u32,
    loss_window: u32,
    max: u32,
    ca_acks: u32,
    /// True until the first timeout (WCF `startup`): no ack-driven retransmissions yet.
    startup: bool,
    /// Receiver quota: BufferRemaining minus messages in flight (starts unlimited).
    pub quota: i64,
    pub rtt: RttEstimator,
    request_acks: bool,
    flow_control: bool,
    /// RTT samples taken by the last ack: every message that slid out, from its last attempt.
    pub samples: Vec<Duration>,
    /// Numbers the last ack queued for retransmission (after the first timeout only).
    pub retransmit: Vec<u64>,
}

impl Transmission {
    /// Window starts at 1, ssthresh and loss window at the maximum (TransmissionStrategy ctor).
    pub fn new(max_window: u32, initial_rtt: Duration, flow_control: bool) -> Self {
        Transmission {
            slots: VecDeque::with_capacity(max_window as usize),
            window_start: 1,
            cwnd: 1,
            ssthresh: max_window,
            loss_window: max_window,
            max: max_window,
            ca_acks: 0,
            startup: true,
            quota: i32::MAX as i64,
            rtt: RttEstimator::new(initial_rtt),
            request_acks: true,
            flow_control,
            samples: Vec::new(),
            retransmit: Vec::new(),
        }
    }

    /// Off where every message is answered anyway (ReliableOutputSessionChannelOverRequest
    /// .RequestAcks is false).
    pub fn set_request_acks(&mut self, on: bool) {
        self.request_acks = on;
    }

    pub fn in_flight(&self) -> u32 {
        self.slots.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The next number `add` will use.
    pub fn next_number(&self) -> u64 {
        self.window_start + self.slots.len() as u64
    }

    /// Highest number handed out so far.
    pub fn last_sent(&self) -> u64 {
        self.next_number() - 1
    }

    /// Number of the oldest unacknowledged message.
    pub fn window_start(&self) -> u64 {
        self.window_start
    }

    /// The message fits the window and the receiver has quota (CanAdd; the wait-queue
    /// condition is the caller's).
    pub fn can_add(&self) -> bool {
        (self.slots.len() as u32) < self.cwnd && self.quota > 0
    }

    /// How many blocked sends an ack releases: `min(windowSize, quotaRemaining) − window.Count`
    /// (DequeuePending). The quota already excludes what is in flight, so this counts the
    /// messages in flight twice — WCF's arithmetic, kept.
    pub fn release_count(&self) -> i64 {
        i64::from(self.cwnd).min(self.quota) - self.slots.len() as i64
    }

    /// Whether the next message must carry AckRequested: it fills the window or uses the last
    /// unit of quota (AddToWindow: `window.Count == windowSize - 1 || quotaRemaining == 1`).
    pub fn next_needs_ack_request(&self) -> bool {
        self.request_acks && (self.slots.len() as u32 + 1 == self.cwnd || self.quota == 1)
    }

    /// Buffers a message; returns true when the window was empty (the retry timer starts).
    pub fn add(&mut self, envelope: Envelope, now: Time) -> bool {
        let was_empty = self.slots.is_empty();
        self.slots.push_back(Slot {
            number: self.next_number(),
            envelope,
            last_attempt: now,
            retries: 0,
            transferred: false,
        });
        self.quota -= 1;
        was_empty
    }

    pub fn slot(&self, number: u64) -> Option<&Slot> {
        let i = number.checked_sub(self.window_start)?;
        self.slots.get(usize::try_from(i).ok()?)
    }

    /// Timer expiry: only the oldest message is resent; ssthresh = max(1, window/2),
    /// window = 1, timeout doubles (OnRetryElapsed). Returns (number, retries after this one).
    pub fn on_timeout(&mut self, now: Time) -> Option<(u64, u32)> {
        let oldest = self.slots.front_mut()?;
        oldest.retries += 1;
        oldest.last_attempt = now;
        let resend = (oldest.number, oldest.retries);
        self.ca_acks = 0;
        self.ssthresh = (self.cwnd >> 1).max(1);
        self.loss_window = self.cwnd;
        self.cwnd = 1;
        self.rtt.backoff();
        self.startup = false;
        Some(resend)
    }

    fn transferred_in(&self, begin: usize, end: usize) -> usize {
        self.slots.range(begin..=end).filter(|s| s.transferred).count()
    }

    /// ProcessAcknowledgement: an ack for a number never sent is invalid; one that says less
    /// than an earlier ack (a range below what slid out, or a SACKed message missing) while
    /// also saying something new is inconsistent. Both fault with InvalidAcknowledgement.
    pub(crate) fn is_invalid(&self, ranges: &[AckRange]) -> bool {
        let last_sent = self.last_sent();
        let last_acked = self.window_start - 1;
        let ws = self.window_start;
        let mut transferred_in_window = self.slots.iter().filter(|s| s.transferred).count();
        let (mut old_ack, mut new_ack) = (false, false);
        for r in ranges {
            let (lo, hi) = (r.lower.get(), r.upper.get());
            if hi > last_sent {
                return true;
            }
            if (lo > 1 && lo <= last_acked) || hi < last_acked {
                old_ack = true;
            }
            if hi >= ws {
                if lo <= ws {
                    new_ack = true;
                }
                let end = (hi - ws) as usize;
                if !new_ack {
                    let begin = (lo - ws) as usize;
                    new_ack = self.transferred_in(begin, end) < end - begin + 1;
                }
                if transferred_in_window > 0 && !old_ack {
                    let begin = lo.saturating_sub(ws) as usize;
                    transferred_in_window =
                        transferred_in_window.saturating_sub(self.transferred_in(begin, end));
                }
            }
        }
        if transferred_in_window > 0 {
            old_ack = true;
        }
        old_ack && new_ack
    }

    /// Processes one acknowledgement's ranges (ascending), with its BufferRemaining.
    /// Request-reply: request `number` got its own reply — marked transferred, and the window
    /// slides when it is the oldest (ProcessTransferred(Int64, int): no consistency check of
    /// the reply's ranges, only this number counts).
    pub fn on_transferred(&mut self, number: u64, buffer_remaining: Option<u32>, now: Time) -> AckOutcome {
        let mut out = AckOutcome::default();
        self.samples.clear();
        self.retransmit.clear();
        let ws = self.window_start;
        let Some(slot) = number
            .checked_sub(ws)
            .and_then(|k| self.slots.get_mut(usize::try_from(k).ok()?))
        else {
            return out; // transferred already, or never sent
        };
        slot.transferred = true;
        if number == ws {
            let remaining = if self.flow_control {
                buffer_remaining.map(i64::from)
            } else {
                None
            };
            self.slide(number, remaining, now, &mut out);
        }
        out
    }

    pub fn on_ack(&mut self, ranges: &[AckRange], buffer_remaining: Option<u32>, now: Time) -> AckOutcome {
        let mut out = AckOutcome::default();
        self.samples.clear();
        self.retransmit.clear();
        // WCF reads an ack's ranges into a SequenceRangeCollection, which keeps them sorted
        // and merges overlapping and touching ones (SequenceRangeCollection.MergeWith); a
        // peer's ack need be neither.
        let merged: Vec<AckRange>;
        let ranges = if ranges
            .windows(2)
            .all(|w| w[1].lower.get() > w[0].upper.get().saturating_add(1))
        {
            ranges
        } else {
            merged = merge_ranges(ranges);
            &merged
        };
        if self.is_invalid(ranges) {
            out.invalid = true;
            return out;
        }
        // ReliableOutputSessionChannel.ProcessMessage: BufferRemaining only with flow control.
        let remaining = if self.flow_control {
            buffer_remaining.map(i64::from)
        } else {
            None
        };
        for r in ranges {
            let (lo, hi) = (r.lower.get(), r.upper.get());
            if hi < self.window_start {
                // A pure quota update from an old range (ProcessTransferred(SequenceRange)).
                if let Some(br) = remaining
                    && hi + 1 == self.window_start
                    && br > self.quota
                {
                    self.quota = br - i64::from(self.cwnd.min(self.in_flight()));
                }
            } else if lo <= self.window_start {
                self.slide(hi, remaining, now, &mut out);
            } else {
                // Out of order: only marked; sampled when it slides (no sample now).
                let ws = self.window_start;
                for slot in self.slots.range_mut((lo - ws) as usize..=(hi - ws) as usize) {
                    slot.transferred = true;
                }
            }
        }
        out
    }

    fn slide(&mut self, hi: u64, remaining: Option<i64>, now: Time, out: &mut AckOutcome) {
        let mut slide = hi - self.window_start + 1;
        // Request-reply marks replies transferred one at a time: a slide of one takes the
        // already-transferred followers with it (ProcessTransferred, `if (slide == 1)`).
        if slide == 1 {
            slide += self.slots.iter().skip(1).take_while(|s| s.transferred).count() as u64;
        }
        let now_units = units(now);
        let old_window_end = self.window_start + u64::from(self.cwnd);
        // UpdateStats for every message that slides, from its last attempt: retransmitted and
        // SACKed ones too (no Karn).
        for slot in self.slots.iter().take(slide as usize) {
            let measured = self.rtt.sample(now_units, units(slot.last_attempt));
            self.samples.push(super::rtt::units_to_duration(measured));
        }
        if let Some(br) = remaining {
            let in_flight_after = i64::from(self.cwnd.min(self.in_flight())) - slide as i64;
            self.quota = br - in_flight_after.max(0);
        }
        self.slots.drain(..slide as usize);
        self.window_start += slide;
        out.slid += slide;
        let send_begin = if self.cwnd <= self.ssthresh {
            // Slow start: window := min(max, ssthresh + 1, window + newly acked).
            self.cwnd = self.max.min(self.ssthresh + 1).min(self.cwnd + slide as u32);
            if self.startup {
                old_window_end.saturating_sub(self.window_start)
            } else {
                0
            }
        } else {
            // Congestion avoidance: segment = max(1, (lossWindow − ssthresh)/8); grow by one once
            // the acked count exceeds (window − ssthresh)·window/segment.
            self.ca_acks += slide as u32;
            let segment = (self.loss_window.saturating_sub(self.ssthresh) / 8).max(1);
            let threshold = (self.cwnd - self.ssthresh) * self.cwnd / segment;
            if self.ca_acks > threshold {
                self.ca_acks = 0;
                self.cwnd = self.max.min(self.cwnd + 1);
            }
            // From the end of the window as it was before this ack (oldWindowEnd), so messages
            // are resent as they re-enter the growing window.
            old_window_end.saturating_sub(self.window_start)
        };
        // Ack-driven retransmission of unacked messages inside the new window.
        let end = (self.cwnd as usize).min(self.slots.len());
        for i in send_begin as usize..end {
            let slot = &mut self.slots[i];
            if !slot.transferred && !self.retransmit.contains(&slot.number) {
                slot.retries += 1;
                slot.last_attempt = now;
                self.retransmit.push(slot.number);
            }
        }
    }
}

/// Sorted, with overlapping and touching ranges joined.
fn merge_ranges(ranges: &[AckRange]) -> Vec<AckRange> {
    let mut v = ranges.to_vec();
    v.sort_unstable_by_key(|r| r.lower);
    let mut out: Vec<AckRange> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.lower.get() <= last.upper.get().saturating_add(1) => {
                if r.upper > last.upper {
                    last.upper = r.upper;
                }
            }
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsrm::{AddressingVersion, RmVersion, SoapVersion};

    fn env() -> Envelope {
        Envelope::new(SoapVersion::V1_2, RmVersion::Feb2005, AddressingVersion::V1_0)
    }

    fn range(lo: u64, hi: u64) -> AckRange {
        AckRange::new(lo, hi).unwrap()
    }

    #[test]
    fn slow_start_then_congestion_avoidance() {
        let mut t = Transmission::new(8, Duration::from_millis(100), true);
        let now = Time::ZERO;
        assert!(t.can_add());
        assert!(
            t.next_needs_ack_request(),
            "window of 1 ⇒ every message requests an ack"
        );
        t.add(env(), now);
        assert!(!t.can_add());
        let out = t.on_ack(&[range(1, 1)], Some(8), Time::from_millis(100));
        assert_eq!(out.slid, 1);
        assert_eq!(t.cwnd, 2);
        // Fill 2, ack both: window 4.
        t.add(env(), now);
        t.add(env(), now);
        t.on_ack(&[range(1, 3)], Some(8), Time::from_millis(200));
        assert_eq!(t.cwnd, 4);
        // A timeout at window 4: ssthresh 2, window 1.
        for _ in 0..4 {
            t.add(env(), now);
        }
        assert_eq!(t.on_timeout(Time::from_millis(300)), Some((4, 1)));
        assert_eq!((t.cwnd, t.ssthresh), (1, 2));
        // Slow start capped at ssthresh + 1 = 3.
        t.on_ack(&[range(1, 7)], Some(8), Time::from_millis(400));
        assert_eq!(t.cwnd, 3);
    }

    #[test]
    fn congestion_avoidance_grows_by_one_once_acked_count_exceeds_threshold() {
        let mut t = Transmission::new(8, Duration::from_millis(100), true);
        let mut acked = 0u64;
        // Keeps the window full and acknowledges one more message.
        let mut step = |t: &mut Transmission| {
            while t.can_add() {
                t.add(env(), Time::ZERO);
            }
            acked += 1;
            t.on_ack(&[range(1, acked)], Some(8), Time::ZERO);
            t.cwnd
        };
        while step(&mut t) < 8 {}
        // Loss at window 8: ssthresh = 4, lossWindow = 8, segment = max(1, (8−4)/8) = 1.
        while t.can_add() {
            t.add(env(), Time::ZERO);
        }
        t.on_timeout(Time::ZERO);
        assert_eq!((t.cwnd, t.ssthresh), (1, 4));
        let windows: Vec<u32> = (0..60).map(|_| step(&mut t)).collect();
        // Slow start 2, 3, 4, 5 (capped at ssthresh + 1), then congestion avoidance: growth
        // once the acked count exceeds (w − 4)·w/1 = 5, 12, 21.
        let grew_to = |w: u32| windows.iter().position(|&x| x == w).map(|i| i + 1);
        assert_eq!(&windows[..4], &[2, 3, 4, 5]);
        assert_eq!(grew_to(6), Some(4 + 6));
        assert_eq!(grew_to(7), Some(4 + 6 + 13));
        assert_eq!(grew_to(8), Some(4 + 6 + 13 + 22));
    }

    #[test]
    fn invalid_ack_of_unsent_message() {
        let mut t = Transmission::new(8, Duration::from_millis(100), true);
        t.add(env(), Time::ZERO);
        assert!(t.on_ack(&[range(1, 2)], None, Time::ZERO).invalid);
    }

    #[test]
    fn an_ack_that_forgets_a_sacked_message_while_saying_something_new_is_invalid() {
        // ProcessAcknowledgement: 3 was acknowledged out of order; [1–2] acks 1–2 (new) but
        // no longer covers 3 (old) ⇒ inconsistent ⇒ InvalidAcknowledgement.
        let mut t = Transmission::new(8, Duration::from_millis(100), false);
        t.cwnd = 8;
        for _ in 0..3 {
            t.add(env(), Time::ZERO);
        }
        assert!(!t.on_ack(&[range(3, 3)], None, Time::ZERO).invalid);
        assert!(t.slot(3).unwrap().transferred);
        assert!(t.on_ack(&[range(1, 2)], None, Time::ZERO).invalid);
        // The consistent version is fine and slides all three.
        assert_eq!(t.on_ack(&[range(1, 3)], None, Time::ZERO).slid, 3);
        // An old ack repeating what slid out is no news, not a contradiction.
        assert!(!t.on_ack(&[range(1, 2)], None, Time::ZERO).invalid);
    }

    #[test]
    fn overlapping_and_touching_ranges_count_as_one_as_in_a_sequence_range_collection() {
        let mut t = Transmission::new(8, Duration::from_millis(100), false);
        t.cwnd = 8;
        for _ in 0..6 {
            t.add(env(), Time::ZERO);
        }
        assert!(!t.on_ack(&[range(3, 4), range(6, 6)], None, Time::ZERO).invalid);
        // The same ranges twice, and touching ones: no contradiction, one slide.
        assert!(!t.on_ack(&[range(3, 4), range(3, 4)], None, Time::ZERO).invalid);
        assert_eq!(
            merge_ranges(&[range(3, 4), range(1, 2), range(6, 6)]),
            vec![range(1, 4), range(6, 6)]
        );
        // Touching ranges slide once; dropping the SACKed 6 would be a contradiction.
        let out = t.on_ack(&[range(1, 2), range(3, 4), range(6, 6)], None, Time::ZERO);
        assert_eq!((out.invalid, out.slid), (false, 4));
        assert!(t.on_ack(&[range(1, 5)], None, Time::ZERO).invalid, "6 forgotten");
    }

    #[test]
    fn dequeue_pending_counts_the_messages_in_flight_twice() {
        // DequeuePending: min(windowSize, quotaRemaining) − window.Count; the quota already
        // excludes what is in flight.
        let mut t = Transmission::new(8, Duration::from_millis(100), true);
        t.cwnd = 8;
        for _ in 0..4 {
            t.add(env(), Time::ZERO);
        }
        t.on_ack(&[range(1, 1)], Some(7), Time::ZERO);
        // 3 in flight, quota 7 − 3 = 4: CanAdd would allow 4, the wait queue gets 4 − 3 = 1.
        assert_eq!((t.in_flight(), t.quota), (3, 4));
        assert!(t.can_add());
        assert_eq!(t.release_count(), 1);
    }

    #[test]
    fn quota_from_buffer_remaining() {
        let mut t = Transmission::new(8, Duration::from_millis(100), true);
        t.add(env(), Time::ZERO);
        t.on_ack(&[range(1, 1)], Some(0), Time::from_millis(10));
        assert_eq!(t.quota, 0);
        assert!(!t.can_add(), "receiver quota 0 blocks sending");
        // A fresh ack for the same range with room again reopens it.
        t.on_ack(&[range(1, 1)], Some(5), Time::from_millis(20));
        assert_eq!(t.quota, 5);
        assert!(t.can_add());
    }
}
