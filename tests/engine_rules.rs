//! One test per WCF reliable-session rule, asserting exact virtual times.
//! Link: 50 ms each way unless a test says otherwise, so the CreateSequence round trip
//! (RTT₀) is 100 ms.

use rmscope::engine::*;
use rmscope::netsim::{DropRule, LinkConfig};
use rmscope::sim::{SimConfig, Simulation};
use rmscope::trace::*;
use rmscope::wsrm::{self, RmFault, RmVersion, Text};
use std::time::Duration;

fn config(messages: u64) -> SimConfig {
    let mut c = SimConfig::default();
    c.workload.messages = messages;
    c.through_codec = true;
    c
}

fn run(c: SimConfig) -> (rmscope::sim::Report, Timeline) {
    let mut sim = Simulation::new(c).expect("valid config");
    let r = sim.run();
    (r, sim.take_timeline())
}

fn ms(t: Time) -> f64 {
    t.as_nanos() as f64 / 1e6
}

/// Times and attempts of every transmission of sequence message `n`.
fn sends(t: &Timeline, n: u64) -> Vec<(f64, u16)> {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { wire, attempt } => {
                let w = &t.wires.at(wire as usize);
                (w.kind.is_sequenced() && w.number == n && e.side == Side::Source)
                    .then_some((ms(e.time), attempt))
            }
            _ => None,
        })
        .collect()
}

fn wires_of(t: &Timeline, kind: WireKind) -> Vec<(f64, Wire)> {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { wire, .. } if t.wires.at(wire as usize).kind == kind => {
                Some((ms(e.time), t.wires.at(wire as usize)))
            }
            _ => None,
        })
        .collect()
}

fn windows(t: &Timeline) -> Vec<(f64, u16, u16, u16, i32)> {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Window {
                window,
                in_flight,
                ssthresh,
                quota,
            } => Some((ms(e.time), window, in_flight, ssthresh, quota)),
            _ => None,
        })
        .collect()
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-3, "{actual} ms != {expected} ms");
}

#[test]
fn retransmission_timer_initial_rto_is_max_of_400ms_plus_rtt0_and_3_rtt0() {
    // RTT₀ = 100 ms ⇒ RTO₀ = max(400 + 100, 300) = 500 ms.
    let mut c = config(1);
    c.forward_script = vec![DropRule::Message {
        number: 1,
        attempt: 0,
    }];
    let (_, t) = run(c);
    let s = sends(&t, 1);
    assert_eq!(s[0].1, 0);
    assert_eq!(s[1].1, 1);
    assert_close(s[1].0 - s[0].0, 500.0);

    // RTT₀ = 600 ms (300 ms each way) ⇒ RTO₀ = max(1000, 1800) = 1800 ms.
    let mut c = config(1);
    c.forward = LinkConfig {
        delay: Duration::from_millis(300),
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    c.forward_script = vec![DropRule::Message {
        number: 1,
        attempt: 0,
    }];
    let (_, t) = run(c);
    let s = sends(&t, 1);
    assert_close(s[0].0, 600.0);
    assert_close(s[1].0 - s[0].0, 1800.0);
}

#[test]
fn retransmission_timer_rtt0_includes_create_sequence_retries() {
    // The first CreateSequence is lost; the second, 10 s later, gets through: RTT₀ = 10.1 s.
    let mut c = config(1);
    c.forward_script = vec![DropRule::NextOfKind {
        kind: WireKind::CreateSequence,
        count: 1,
    }];
    c.forward_script.push(DropRule::Message {
        number: 1,
        attempt: 0,
    });
    let (_, t) = run(c);
    let cs = wires_of(&t, WireKind::CreateSequence);
    assert_eq!(cs.len(), 2);
    assert_close(cs[1].0, 10_000.0);
    let s = sends(&t, 1);
    assert_close(s[0].0, 10_100.0);
    // RTO₀ = max(400 + 10100, 3 × 10100) ms
    assert_close(s[1].0 - s[0].0, 30_300.0);
}

#[test]
fn retransmission_timer_resends_only_the_oldest_window_to_one_and_timeout_doubles() {
    // Grow the window to 8, then lose 20, 21, 22 (first transmissions) and 20's first retry.
    let mut c = config(40);
    c.forward_script = vec![
        DropRule::Message {
            number: 20,
            attempt: 0,
        },
        DropRule::Message {
            number: 20,
            attempt: 1,
        },
        DropRule::Message {
            number: 21,
            attempt: 0,
        },
        DropRule::Message {
            number: 22,
            attempt: 0,
        },
    ];
    let (r, t) = run(c);
    assert_eq!(r.delivered, 40);
    let fired: Vec<f64> = t
        .events
        .iter()
        .filter(|e| {
            e.kind
                == EventKind::TimerFired {
                    timer: Timer::Retransmission,
                }
        })
        .map(|e| ms(e.time))
        .collect();
    let s20 = sends(&t, 20);
    // Each expiry resends 20 only; 21 and 22 wait for acks.
    assert_close(s20[1].0, fired[0]);
    assert_close(s20[2].0, fired[1]);
    assert!(
        sends(&t, 21)
            .iter()
            .all(|(time, _)| !fired.iter().any(|f| (f - time).abs() < 1e-6))
    );
    // The second timeout is twice the first (no RTT sample in between: 20 was never acked).
    let armed: Vec<(f64, f64)> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::TimerArmed {
                timer: Timer::Retransmission,
                at,
            } => Some((ms(e.time), ms(at))),
            _ => None,
        })
        .collect();
    let first = armed
        .iter()
        .rev()
        .find(|(set, _)| *set < fired[0])
        .map(|(s, a)| a - s)
        .unwrap();
    let second = armed
        .iter()
        .find(|(set, _)| (*set - fired[0]).abs() < 1e-6)
        .map(|(s, a)| a - s)
        .unwrap();
    assert_close(second, 2.0 * first);
    // Window := 1 and ssthresh := max(1, window/2) at the expiry.
    let before = windows(&t).into_iter().rfind(|w| w.0 < fired[0]).unwrap();
    let after = windows(&t)
        .into_iter()
        .find(|w| (w.0 - fired[0]).abs() < 1e-6)
        .unwrap();
    assert_eq!(before.1, 8);
    assert_eq!((after.1, after.3), (1, 4));
}

#[test]
fn retransmission_timer_samples_a_retransmitted_message_from_its_last_attempt() {
    // WCF applies no Karn rule: UpdateStats measures from the slot's LastAttemptTime, which
    // RecordRetry moved to the retry (TransmissionStrategy.ProcessTransferred, OnRetryElapsed).
    // WS-RM 1.1, so no LastMessage follows message 1.
    let mut c = config(1);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    c.forward_script = vec![DropRule::Message {
        number: 1,
        attempt: 0,
    }];
    let (_, t) = run(c);
    // The CreateSequence round trip, then message 1: resent at 600 ms, acked at 700 ms.
    let samples: Vec<u32> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Rtt { sample_us, .. } => Some(sample_us),
            _ => None,
        })
        .collect();
    assert_eq!(samples, vec![100_000, 100_000]);
}

#[test]
fn max_retry_count_faults_after_exactly_one_plus_max_retry_count_sends() {
    // RTO₀ = 500 ms; sends at 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5, 127.5 s after the first;
    // the 9th expiry, at 511 × 0.5 s = 255.5 s, faults instead of sending a 10th copy.
    let mut c = config(1);
    c.forward_script = vec![DropRule::AllOf { number: 1 }];
    // The application does not close: Close's one-minute budget would end the session first
    // (ReliableOutputSessionChannel.OnClose; see wcf_conformance.rs).
    c.workload.close = false;
    let (r, t) = run(c);
    let s = sends(&t, 1);
    assert_eq!(s.len(), 1 + 8);
    let first = s[0].0;
    let offsets: Vec<f64> = s.iter().map(|(time, _)| time - first).collect();
    for (o, want) in offsets.iter().zip([
        0.0, 500.0, 1500.0, 3500.0, 7500.0, 15500.0, 31500.0, 63500.0, 127500.0,
    ]) {
        assert_close(*o, want);
    }
    let fault = r
        .faults
        .iter()
        .find(|f| f.side == Side::Source)
        .expect("source faulted");
    assert_eq!(fault.code, RmFault::SequenceTerminated);
    assert_eq!(fault.cause, FaultCause::MaxRetryCountExceeded);
    assert_close(fault.time * 1000.0 - first, 255_500.0);
    // The destination hears about it.
    assert!(
        r.faults
            .iter()
            .any(|f| f.side == Side::Destination && f.code == RmFault::SequenceTerminated)
    );
}

#[test]
fn max_retry_count_docs_example_one_second_start_faults_after_about_8_5_minutes() {
    // WCF docs: initial 1 s, 8 retries ⇒ ≈ 8.5 min. RTO₀ = 3·RTT₀ ≈ 1 s with RTT₀ = 333 ms
    // (WCF keeps whole milliseconds: 999 ms), so the fault comes 511 × 0.999 s after the first.
    let mut c = config(1);
    c.forward = LinkConfig {
        delay: Duration::from_micros(166_500),
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    c.forward_script = vec![DropRule::AllOf { number: 1 }];
    c.workload.close = false;
    let (r, t) = run(c);
    let first = sends(&t, 1)[0].0;
    let fault = r.faults.iter().find(|f| f.side == Side::Source).unwrap();
    let minutes = (fault.time * 1000.0 - first) / 60_000.0;
    assert!((minutes - 511.0 * 0.999 / 60.0).abs() < 1e-6, "{minutes} min");
}

#[test]
fn window_starts_at_one_grows_in_slow_start_and_never_exceeds_max() {
    let (r, t) = run(config(100));
    let w = windows(&t);
    assert_eq!(w[0].1, 1);
    let sizes: Vec<u16> = w.iter().map(|x| x.1).collect();
    // Slow start: window + newly acked (1 → 2 → 4 → 8), capped at maxTransferWindowSize.
    let mut distinct = sizes.clone();
    distinct.dedup();
    assert_eq!(&distinct[..4], &[1, 2, 4, 8]);
    assert!(sizes.iter().all(|&s| s <= 8));
    assert_eq!(r.max_window, 8);

    let mut c = config(50);
    c.settings.max_transfer_window_size = 3;
    let (r, _) = run(c);
    assert_eq!(r.max_window, 3);
}

#[test]
fn send_would_block_while_the_window_is_full() {
    let (dialect, mut src) = source_2005();
    let body = || {
        wsrm::AppBody::new(
            wsrm::ExpandedName {
                namespace: None,
                local: "x".into(),
            },
            bytes::Bytes::from_static(b"<x/>"),
            Vec::new(),
        )
    };
    assert_eq!(src.send(Time::ZERO, body()), Err(SendError::NotOpen));
    src.open(Time::ZERO);
    let cs = src.poll_transmit(Time::ZERO).unwrap();
    let mut listener = Listener::new(Settings::default(), dialect, "http://s".into(), 1).unwrap();
    listener.handle_incoming(Time::ZERO, cs);
    let csr = listener.poll_transmit(Time::ZERO).unwrap();
    src.handle_incoming(Time::from_millis(10), csr);
    assert_eq!(src.send(Time::from_millis(10), body()), Ok(Sent::Now(1)));
    // Window 1: the second send waits in the wait queue (TransmissionStrategy.InternalAdd) and
    // the application cannot hand over a third meanwhile.
    assert_eq!(src.send(Time::from_millis(10), body()), Ok(Sent::Queued));
    assert!(!src.can_send());
    let m1 = src.poll_transmit(Time::from_millis(10)).unwrap();
    assert!(
        src.poll_transmit(Time::from_millis(10)).is_none(),
        "message 2 is not sent yet"
    );
    listener.handle_incoming(Time::from_millis(20), m1);
    let ack = listener.poll_transmit(Time::from_millis(20)).unwrap();
    // Built before message 1 is dispatched: BufferRemaining 8 − 1.
    assert_eq!(ack.acks[0].buffer_remaining, Some(7));
    src.handle_incoming(Time::from_millis(30), ack);
    // DequeuePending: min(window 2, quota 7) − 0 in flight ⇒ the blocked send goes out as 2.
    assert_eq!(src.blocked_sends(), 0);
    assert!(src.can_send());
    let m2 = src.poll_transmit(Time::from_millis(30)).unwrap();
    assert_eq!(m2.sequence.unwrap().message_number.get(), 2);
}

#[test]
fn ack_requested_rides_on_the_message_that_fills_the_window_or_uses_the_last_quota() {
    let (_, t) = run(config(30));
    // Per instant: the first transmissions in order, and the window states after each add.
    let (mut checked, mut by_quota) = (0, 0);
    let times: std::collections::BTreeSet<u64> = t.events.iter().map(|e| e.time.as_nanos()).collect();
    for at in times {
        let sent: Vec<Wire> = t
            .events
            .iter()
            .filter(|e| e.time.as_nanos() == at)
            .filter_map(|e| match e.kind {
                EventKind::Sent { wire, attempt: 0 } if t.wires.at(wire as usize).kind.is_sequenced() => {
                    Some(t.wires.at(wire as usize))
                }
                _ => None,
            })
            .collect();
        let mut prev = u16::MAX;
        let adds: Vec<(u16, u16, i32)> = windows(&t)
            .into_iter()
            .filter(|w| (w.0 * 1e6).round() as u64 == at)
            .filter_map(|(_, window, in_flight, _, quota)| {
                let added = prev != u16::MAX && in_flight == prev + 1;
                prev = in_flight;
                added.then_some((window, in_flight, quota))
            })
            .collect();
        for (wire, (window, in_flight, quota)) in sent.iter().zip(adds) {
            // AddToWindow: `window.Count == windowSize - 1 || quotaRemaining == 1` before the
            // add = a full window or a quota of 0 after it.
            let want = in_flight == window || quota == 0;
            assert_eq!(
                wire.flags.has(WireFlags::ACK_REQUESTED),
                want,
                "message {}",
                wire.number
            );
            by_quota += usize::from(quota == 0 && in_flight < window);
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
    // Acks advertise at most 7 (the triggering message is still queued), so the quota, not
    // the window, asks for most acks once the window reached 8.
    assert!(by_quota > 0, "no AckRequested from the quota");
}

#[test]
fn flow_control_buffer_remaining_quota_and_fresh_ack_after_zero() {
    // The receiving application takes 2 messages/s: the buffer fills, BufferRemaining drops to
    // 0, the source stops, and each message taken triggers a fresh ack.
    let mut c = config(20);
    c.workload.consume_rate = Some(2.0);
    let (r, t) = run(c);
    assert_eq!(r.delivered, 20);
    let acks = wires_of(&t, WireKind::Ack);
    assert!(acks.iter().any(|(_, w)| t.buffer_remaining(w) == Some(0)));
    let w = windows(&t);
    assert!(w.iter().any(|x| x.4 <= 0), "source quota reached 0");
    // After advertising 0, the next ack leaves at the instant the application takes a message.
    let zero_at = acks
        .iter()
        .find(|(_, w)| t.buffer_remaining(w) == Some(0))
        .unwrap()
        .0;
    let delivered_after: f64 = t
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Delivered { .. }) && ms(e.time) > zero_at)
        .map(|e| ms(e.time))
        .next()
        .unwrap();
    assert!(
        acks.iter()
            .any(|(time, w)| (*time - delivered_after).abs() < 1e-6 && t.buffer_remaining(w) == Some(1))
    );
    // BufferRemaining = maxTransferWindowSize − messages queued for the application.
    for e in &t.events {
        if let EventKind::Buffer {
            queued,
            buffer_remaining,
        } = e.kind
        {
            assert_eq!(buffer_remaining, 8 - queued as i32);
        }
    }
    // Flow control off: no BufferRemaining at all.
    let mut c = config(10);
    c.settings.flow_control_enabled = false;
    let (_, t) = run(c);
    assert!(
        wires_of(&t, WireKind::Ack)
            .iter()
            .all(|(_, w)| t.buffer_remaining(w).is_none())
    );
}

#[test]
fn acks_immediate_on_ack_requested_otherwise_after_acknowledgement_interval() {
    // One message at a time, 1/s: message 1 fills window 1 (AckRequested ⇒ ack at arrival);
    let mut c = config(3);
    c.workload.rate = Some(1.0);
    c.workload.close = false; // a known last message would make every ack immediate
    c.time_limit = Duration::from_secs(10);
    let (_, t) = run(c);
    let arrivals: Vec<(f64, u64, bool)> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Arrived { wire } if t.wires.at(wire as usize).kind == WireKind::Data => {
                let w = &t.wires.at(wire as usize);
                Some((ms(e.time), w.number, w.flags.has(WireFlags::ACK_REQUESTED)))
            }
            _ => None,
        })
        .collect();
    let acks = wires_of(&t, WireKind::Ack);
    for (time, number, ack_requested) in arrivals {
        let ack = acks
            .iter()
            .find(|(at, w)| *at >= time && t.ack_ranges(w).iter().any(|r| r.contains(number)))
            .unwrap();
        let delay = ack.0 - time;
        if ack_requested {
            assert_close(delay, 0.0);
        } else {
            assert_close(delay, 200.0);
        }
    }
    // A different acknowledgementInterval (still below the 500 ms RTO).
    let mut c = config(3);
    c.workload.rate = Some(1.0);
    c.workload.close = false;
    c.time_limit = Duration::from_secs(10);
    c.settings.acknowledgement_interval = Duration::from_millis(350);
    let (r, t) = run(c);
    assert_eq!(r.retransmissions, 0);
    let acks = wires_of(&t, WireKind::Ack);
    let late: Vec<f64> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Arrived { wire }
                if t.wires.at(wire as usize).kind == WireKind::Data
                    && !t.wires.at(wire as usize).flags.has(WireFlags::ACK_REQUESTED) =>
            {
                Some(ms(e.time))
            }
            _ => None,
        })
        .collect();
    assert!(!late.is_empty());
    for a in late {
        assert!(
            acks.iter().any(|(at, _)| (at - a - 350.0).abs() < 1e-3),
            "no ack 350 ms after {a}"
        );
    }
    // Above the RTO the source times out first: a spurious retransmission, answered at once
    // because it is a duplicate.
    let mut c = config(3);
    c.workload.rate = Some(1.0);
    c.workload.close = false;
    c.time_limit = Duration::from_secs(10);
    c.settings.acknowledgement_interval = Duration::from_millis(750);
    let (r, t) = run(c);
    assert!(r.retransmissions >= 1);
    assert!(
        t.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Duplicate { number: 2 }))
    );
}

fn destination(settings: Settings) -> Destination {
    let dialect = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: settings.reliable_messaging_version,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    Destination::new(Time::ZERO, settings, dialect, "urn:seq".into(), "http://c".into())
}

fn data(n: u64, ack_requested: bool, rm: RmVersion) -> wsrm::Envelope {
    let d = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let body = wsrm::AppBody::new(
        wsrm::ExpandedName {
            namespace: None,
            local: "x".into(),
        },
        bytes::Bytes::from_static(b"<x/>"),
        Vec::new(),
    );
    d.data(
        &Text::from("http://s"),
        &Text::from("urn:a"),
        &Text::from("urn:seq"),
        n,
        ack_requested,
        body,
    )
}

fn drain(d: &mut Destination, now: Time) -> Vec<wsrm::Envelope> {
    std::iter::from_fn(|| d.poll_transmit(now)).collect()
}

fn ack_ranges(env: &wsrm::Envelope) -> Vec<(u64, u64)> {
    env.acks[0]
        .content
        .ranges()
        .iter()
        .map(|r| (r.lower.get(), r.upper.get()))
        .collect()
}

#[test]
fn acks_immediate_on_duplicate_and_when_unacked_arrivals_reach_the_window() {
    let mut d = destination(Settings {
        max_transfer_window_size: 4,
        ..Settings::default()
    });
    let now = Time::from_millis(5);
    for n in 1..=3 {
        d.handle_incoming(now, data(n, false, RmVersion::Feb2005));
        assert!(drain(&mut d, now).is_empty(), "no ack yet after {n}");
        while d.receive(now).is_some() {}
    }
    d.handle_incoming(now, data(4, false, RmVersion::Feb2005));
    let out = drain(&mut d, now);
    assert_eq!(
        out.len(),
        1,
        "4 unacked arrivals = maxTransferWindowSize ⇒ ack now"
    );
    assert_eq!(ack_ranges(&out[0]), vec![(1, 4)]);
    d.handle_incoming(now, data(2, false, RmVersion::Feb2005));
    assert_eq!(drain(&mut d, now).len(), 1, "duplicate ⇒ ack now");
}

#[test]
fn ranges_are_coalesced_and_unordered_mode_keeps_at_most_128() {
    let mut d = destination(Settings {
        ordered: false,
        max_transfer_window_size: 4096,
        ..Settings::default()
    });
    let now = Time::ZERO;
    // Every other number: each makes a new range.
    for k in 0..130u64 {
        d.handle_incoming(now, data(2 * k + 1, false, RmVersion::Feb2005));
    }
    assert_eq!(d.received().len(), 128);
    assert!(!d.received().contains(2 * 128 + 1), "the 129th range was refused");
    // Filling a gap coalesces two ranges into one, which is allowed.
    d.handle_incoming(now, data(2, false, RmVersion::Feb2005));
    assert_eq!(d.received().len(), 127);
    d.handle_incoming(now, data(2 * 128 + 1, false, RmVersion::Feb2005));
    assert_eq!(d.received().len(), 128);
}

#[test]
fn ordered_buffer_drops_what_does_not_fit_without_ack() {
    let mut d = destination(Settings {
        max_transfer_window_size: 4,
        ..Settings::default()
    });
    let now = Time::ZERO;
    // 1 is missing: 2, 3, 4 fit (0 queued + (n − 1) < 4), 5 does not.
    for n in 2..=5 {
        d.handle_incoming(now, data(n, false, RmVersion::Feb2005));
    }
    assert!(d.received().contains(4));
    assert!(!d.received().contains(5));
    d.handle_incoming(now, data(6, true, RmVersion::Feb2005));
    let out = drain(&mut d, now);
    assert_eq!(ack_ranges(out.last().unwrap()), vec![(2, 4)]);
    assert!(d.receive(now).is_none(), "nothing deliverable before 1");
    d.handle_incoming(now, data(1, false, RmVersion::Feb2005));
    let got: Vec<u64> = std::iter::from_fn(|| d.receive(now).map(|(n, _)| n)).collect();
    assert_eq!(got, vec![1, 2, 3, 4]);
}

#[test]
fn unordered_delivers_on_arrival_and_never_twice() {
    let mut d = destination(Settings {
        ordered: false,
        ..Settings::default()
    });
    let now = Time::ZERO;
    for n in [3, 1, 3, 2, 1] {
        d.handle_incoming(now, data(n, false, RmVersion::Feb2005));
    }
    let got: Vec<u64> = std::iter::from_fn(|| d.receive(now).map(|(n, _)| n)).collect();
    assert_eq!(got, vec![3, 1, 2]);
}

#[test]
fn inactivity_keep_alive_polls_at_half_then_every_timeout_over_twice_max_retry_then_faults() {
    // inactivityTimeout 60 s, maxRetryCount 4: polls at 30 s, then every 7.5 s; nothing comes
    // back (the return path is cut after the first ack), so the source faults at 60 s.
    let mut c = config(1);
    c.settings.inactivity_timeout = Duration::from_secs(60);
    c.settings.max_retry_count = 4;
    c.workload.close = false;
    c.backward_script = vec![DropRule::Outage {
        from: Time::from_millis(400),
        until: Time::from_secs(10_000),
    }];
    let (r, t) = run(c);
    let last_ack = t
        .events
        .iter()
        .filter(
            |e| matches!(e.kind, EventKind::Arrived { wire } if t.wires.at(wire as usize).kind == WireKind::Ack),
        )
        .map(|e| ms(e.time))
        .next_back()
        .unwrap();
    let polls: Vec<f64> = wires_of(&t, WireKind::AckRequested)
        .iter()
        .map(|(time, _)| time - last_ack)
        .collect();
    assert_close(polls[0], 30_000.0);
    for pair in polls.windows(2) {
        assert_close(pair[1] - pair[0], 7_500.0);
    }
    let f = r.faults.iter().find(|f| f.side == Side::Source).unwrap();
    assert_eq!(f.cause, FaultCause::InactivityTimeout);
    assert_close(f.time * 1000.0 - last_ack, 60_000.0);
    assert_eq!(polls.len(), 4, "30, 37.5, 45, 52.5 s");
}

#[test]
fn inactivity_destination_faults_when_nothing_arrives() {
    let mut d = destination(Settings {
        inactivity_timeout: Duration::from_secs(5),
        ..Settings::default()
    });
    d.handle_incoming(Time::from_secs(1), data(1, false, RmVersion::Feb2005));
    // The message restarted the timer: due 5 s after it (ack timer aside).
    d.handle_timeout(Time::from_millis(1200));
    drain(&mut d, Time::from_millis(1200));
    assert_eq!(d.poll_timeout(), Some(Time::from_secs(6)));
    d.handle_timeout(Time::from_secs(6));
    assert_eq!(d.state, DestinationState::Faulted(FaultCause::InactivityTimeout));
    let out = drain(&mut d, Time::from_secs(6));
    let f = out.iter().find_map(|e| e.fault()).expect("fault sent");
    assert_eq!(f.rm_fault, Some(RmFault::SequenceTerminated));
    assert!(f.reason.contains("inactivity timeout of (00:00:05)"));
}

#[test]
fn max_pending_channels_refuses_with_create_sequence_refused_connection_limit_reached() {
    let mut c = config(1);
    c.workload.sessions = 6;
    c.workload.accept = false;
    c.time_limit = Duration::from_secs(30);
    let (r, t) = run(c);
    assert_eq!(r.sessions_opened, 4);
    assert_eq!(r.sessions_refused, 2);
    let faults = wires_of(&t, WireKind::Fault);
    assert_eq!(faults.len(), 2);
    assert!(
        faults
            .iter()
            .all(|(_, w)| w.fault_code() == Some(RmFault::CreateSequenceRefused))
    );
}

#[test]
fn create_sequence_is_resent_every_10s_until_the_open_timeout() {
    let mut c = config(1);
    c.forward_script = vec![DropRule::Outage {
        from: Time::ZERO,
        until: Time::from_secs(1000),
    }];
    let (r, t) = run(c);
    let cs: Vec<f64> = wires_of(&t, WireKind::CreateSequence)
        .iter()
        .map(|(time, _)| *time)
        .collect();
    assert_eq!(cs, vec![0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 50_000.0]);
    assert_eq!(r.faults[0].cause, FaultCause::OpenTimeout);
    assert_close(r.faults[0].time * 1000.0, 60_000.0);
}

#[test]
fn feb2005_ends_with_last_message_then_terminate_sequence() {
    let (r, t) = run(config(5));
    assert!(r.finished && r.faults.is_empty());
    let last = wires_of(&t, WireKind::LastMessage);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].1.number, 6, "LastMessage takes the next number");
    let term = wires_of(&t, WireKind::TerminateSequence);
    assert_eq!(term.len(), 1);
    assert!(term[0].0 > last[0].0);
    // The destination acked LastMessage at once (last number known).
    assert!(
        wires_of(&t, WireKind::Ack)
            .iter()
            .any(|(time, w)| (*time - last[0].0 - 50.0).abs() < 1e-3
                && t.ack_ranges(w) == [wsrm::AckRange::new(1, 6).unwrap()])
    );
    assert_eq!(r.delivered, 5, "LastMessage is not delivered to the application");
}

#[test]
fn v11_waits_for_acks_then_close_sequence_with_final_ack_then_terminate_sequence() {
    let mut c = config(5);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    let (r, t) = run(c);
    assert!(r.finished && r.faults.is_empty(), "{:?}", r.faults);
    let order: Vec<WireKind> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { wire, .. } => Some(t.wires.at(wire as usize).kind),
            _ => None,
        })
        .filter(|k| {
            matches!(
                k,
                WireKind::CloseSequence
                    | WireKind::CloseSequenceResponse
                    | WireKind::TerminateSequence
                    | WireKind::TerminateSequenceResponse
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            WireKind::CloseSequence,
            WireKind::CloseSequenceResponse,
            WireKind::TerminateSequence,
            WireKind::TerminateSequenceResponse
        ]
    );
    let (_, close_resp) = wires_of(&t, WireKind::CloseSequenceResponse)[0];
    assert!(close_resp.flags.has(WireFlags::FINAL));
    assert_eq!(t.ack_ranges(&close_resp), [wsrm::AckRange::new(1, 5).unwrap()]);
    let (_, close) = wires_of(&t, WireKind::CloseSequence)[0];
    assert_eq!(close.number, 5, "LastMsgNumber");
    assert!(
        wires_of(&t, WireKind::LastMessage).is_empty(),
        "1.1 has no LastMessage"
    );
}

#[test]
fn invalid_acknowledgement_for_an_ack_of_an_unsent_message() {
    let mut c = config(3);
    c.workload.close = false;
    let mut sim = Simulation::new(c).unwrap();
    while sim.step() {
        if sim.timeline().wires.iter().any(|w| w.kind == WireKind::Ack) {
            break;
        }
    }
    let _ = sim;
    // Drive a source directly: open it, then feed an ack for 1..5 after sending one message.
    let (dialect, mut src) = source_2005();
    src.open(Time::ZERO);
    let cs = src.poll_transmit(Time::ZERO).unwrap();
    let mut listener = Listener::new(Settings::default(), dialect.clone(), "http://s".into(), 1).unwrap();
    listener.handle_incoming(Time::ZERO, cs);
    src.handle_incoming(Time::ZERO, listener.poll_transmit(Time::ZERO).unwrap());
    let id = src.identifier().unwrap().clone();
    let body = wsrm::AppBody::new(
        wsrm::ExpandedName {
            namespace: None,
            local: "x".into(),
        },
        bytes::Bytes::new(),
        Vec::new(),
    );
    src.send(Time::ZERO, body).unwrap();
    while src.poll_transmit(Time::ZERO).is_some() {}
    let bogus = dialect.ack(
        &"http://c".into(),
        dialect.ack_header(&id, vec![wsrm::AckRange::new(1, 5).unwrap()], false, None),
    );
    src.handle_incoming(Time::from_millis(1), bogus);
    assert_eq!(
        src.state(),
        &SourceState::Faulted(FaultCause::InvalidAcknowledgement)
    );
    let fault = std::iter::from_fn(|| src.poll_transmit(Time::from_millis(1)))
        .find_map(|e| e.fault().cloned())
        .unwrap();
    assert_eq!(fault.rm_fault, Some(RmFault::InvalidAcknowledgement));
}

#[test]
fn unknown_sequence_for_a_message_to_no_sequence() {
    let dialect = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let mut listener = Listener::new(Settings::default(), dialect, "http://s".into(), 1).unwrap();
    let mut msg = data(1, false, RmVersion::Feb2005);
    msg.addressing.reply_to = Some(wsrm::EndpointReference::new("http://c"));
    listener.handle_incoming(Time::ZERO, msg);
    let f = listener.poll_transmit(Time::ZERO).unwrap();
    assert_eq!(f.fault().unwrap().rm_fault, Some(RmFault::UnknownSequence));
    assert_eq!(f.fault().unwrap().identifier.as_deref(), Some("urn:seq"));
}

#[test]
fn last_message_number_exceeded_2005_and_sequence_closed_11() {
    let mut d = destination(Settings::default());
    let now = Time::ZERO;
    let d10 = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    d.handle_incoming(
        now,
        d10.last_message(&"http://s".into(), &"urn:seq".into(), 3, false),
    );
    d.handle_incoming(now, data(4, false, RmVersion::Feb2005));
    assert_eq!(
        d.state,
        DestinationState::Faulted(FaultCause::LastMessageNumberExceeded)
    );
    let faults: Vec<_> = drain(&mut d, now)
        .into_iter()
        .filter_map(|e| e.fault().cloned())
        .collect();
    assert_eq!(faults[0].rm_fault, Some(RmFault::LastMessageNumberExceeded));

    let settings = Settings {
        reliable_messaging_version: RmVersion::V1_1,
        ..Settings::default()
    };
    let mut d = destination(settings);
    let d11 = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: RmVersion::V1_1,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    d.handle_incoming(now, data(1, false, RmVersion::V1_1));
    d.handle_incoming(
        now,
        d11.sequence_end(
            &"http://s".into(),
            wsrm::RmAction::CloseSequence,
            &"urn:seq".into(),
            1,
            None,
        ),
    );
    d.handle_incoming(now, data(2, false, RmVersion::V1_1));
    let out = drain(&mut d, now);
    let closed = out.iter().find(|e| e.fault().is_some()).unwrap();
    assert_eq!(closed.fault().unwrap().rm_fault, Some(RmFault::SequenceClosed));
    assert!(closed.acks[0].final_ack, "SequenceClosed carries the final ack");
    assert_eq!(d.state, DestinationState::Closed, "the session itself carries on");
}

#[test]
fn a_fault_naming_another_sequence_faults_the_session_without_a_reply() {
    // ChannelReliableSession.ProcessInfo: a WS-RM fault whose identifier is neither of the
    // session's ⇒ OnLocalFault(WrongIdentifierFault), nothing sent.
    let (dialect, mut src, _listener) = open_pair();
    let other: Text = "urn:uuid:00000000-0000-4000-8000-000000000000".into();
    let fault = dialect.fault(
        &"http://c".into(),
        wsrm::FaultCode::Receiver,
        RmFault::SequenceTerminated,
        None,
        "not yours",
        Some(&other),
    );
    src.handle_incoming(Time::from_millis(20), fault);
    assert_eq!(*src.state(), SourceState::Faulted(FaultCause::WrongIdentifier));
    assert!(src.poll_transmit(Time::from_millis(20)).is_none(), "no reply");
}

#[test]
fn abort_tells_the_destination_with_sequence_terminated() {
    // ChannelReliableSession.Abort: a SequenceTerminated fault with SR.SequenceTerminatedOnAbort.
    let (_, mut src, mut listener) = open_pair();
    src.abort(Time::from_millis(20));
    assert_eq!(*src.state(), SourceState::Faulted(FaultCause::Aborted));
    let f = src
        .poll_transmit(Time::from_millis(20))
        .expect("a fault goes out");
    let wsrm::Body::Fault(fault) = &f.body else {
        panic!("{:?}", f.body)
    };
    assert_eq!(fault.rm_fault, Some(RmFault::SequenceTerminated));
    assert_eq!(
        fault.reason.as_str(),
        "Due to a user abort the reliable session cannot continue."
    );
    assert_eq!(fault.identifier.as_ref(), src.identifier());
    listener.handle_incoming(Time::from_millis(30), f);
    assert!(listener.sessions()[0].is_finished(), "the destination ends too");
}

/// A 2005/02 SOAP 1.2 source to http://s, not yet opened.
fn source_2005() -> (Dialect, Source) {
    let dialect = Dialect {
        soap: wsrm::SoapVersion::V1_2,
        rm: RmVersion::Feb2005,
        wsa: wsrm::AddressingVersion::V1_0,
    };
    let src = Source::new(
        Settings::default(),
        SourceConfig {
            dialect: dialect.clone(),
            to: "http://s".into(),
            reply_to: "http://c".into(),
            action: "urn:a".into(),
            timeouts: BindingTimeouts::default(),
            shape: Shape::default(),
            seed: 1,
        },
    )
    .unwrap();
    (dialect, src)
}

/// The source of [`source_2005`] with its sequence open at a listener (handshake done at 10 ms).
fn open_pair() -> (Dialect, Source, Listener) {
    let (dialect, mut src) = source_2005();
    src.open(Time::ZERO);
    let cs = src.poll_transmit(Time::ZERO).unwrap();
    let mut listener = Listener::new(Settings::default(), dialect.clone(), "http://s".into(), 1).unwrap();
    listener.handle_incoming(Time::ZERO, cs);
    src.handle_incoming(Time::from_millis(10), listener.poll_transmit(Time::ZERO).unwrap());
    assert_eq!(*src.state(), SourceState::Open);
    (dialect, src, listener)
}
