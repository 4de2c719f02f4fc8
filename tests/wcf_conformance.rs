//! The embedded pair against WCF's own code (microsoft/referencesource,
//! System.ServiceModel/System/ServiceModel/Channels). Each test is one scenario with the times
//! and counts WCF's code gives; its comment shows the derivation.
//!
//! All runs: 50 ms each way (RTT₀ = the CreateSequence round trip = 100 ms, so the first
//! timeout is max(400 + 100, 3·100) = 500 ms), the application hands its messages to the
//! channel as fast as it accepts them, takes each delivered message at once, and closes after
//! its last send returned.

use rmscope::netsim::{DropRule, LinkConfig};
use rmscope::sim::{Report, SimConfig, Simulation};
use rmscope::trace::*;
use rmscope::wsrm::{self, AckContent, RmFault, RmVersion};
use std::time::Duration;

fn config(messages: u64) -> SimConfig {
    let mut c = SimConfig::default();
    c.workload.messages = messages;
    c.forward = LinkConfig {
        delay: Duration::from_millis(50),
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    c.through_codec = true;
    c
}

fn drop_first(numbers: impl IntoIterator<Item = u64>) -> Vec<DropRule> {
    numbers
        .into_iter()
        .map(|number| DropRule::Message { number, attempt: 0 })
        .collect()
}

fn run(c: SimConfig) -> (Report, Timeline) {
    let mut sim = Simulation::new(c).expect("valid config");
    let r = sim.run();
    (r, sim.take_timeline())
}

fn ms(t: Time) -> f64 {
    t.as_nanos() as f64 / 1e6
}

fn assert_ms(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{actual} ms, WCF: {expected} ms"
    );
}

/// Times (ms) of every transmission of sequence message `n` by the source.
fn sends(t: &Timeline, n: u64) -> Vec<f64> {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { wire, .. } => {
                let w = &t.wires.at(wire as usize);
                (w.kind.is_sequenced() && w.number == n && e.side == Side::Source).then_some(ms(e.time))
            }
            _ => None,
        })
        .collect()
}

fn sends_of(t: &Timeline, kind: WireKind) -> Vec<f64> {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { wire, .. } if t.wires.at(wire as usize).kind == kind => Some(ms(e.time)),
            _ => None,
        })
        .collect()
}

fn most_in_flight(t: &Timeline) -> u16 {
    t.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Window { in_flight, .. } => Some(in_flight),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

fn source_fault(r: &Report) -> Option<(f64, FaultCause)> {
    r.faults
        .iter()
        .find(|f| f.side == Side::Source)
        .map(|f| (f.time * 1000.0, f.cause))
}

#[test]
fn defaults_1000_messages_keep_7_in_flight_and_take_14_6_s() {
    // The destination builds each immediate ack before it dispatches the message that asked
    // for it (ReliableInputSessionChannelOverDuplex.ProcessMessage: CreateAcknowledgmentMessage,
    // Binder.Send, then Dispatch), so BufferRemaining = 8 − 1 = 7. The source's quota is then
    // 7 − in flight (TransmissionStrategy.ProcessTransferred), AddToWindow asks for an ack when
    // quotaRemaining == 1: 7 messages per 100 ms round trip once the window is open.
    // Slow start 1, 2, 4 (0.1–0.4 s), then 7 per RTT: 1000 + LastMessage ⇒ 14.5 s, the
    // TerminateSequence at 14.6 s.
    let (r, t) = run(config(1000));
    assert_eq!(r.delivered, 1000);
    assert_eq!(r.retransmissions, 0);
    assert_eq!(most_in_flight(&t), 7);
    assert_ms(r.completion_time * 1000.0, 14_600.0);
    let acks: Vec<u32> = t
        .wires
        .iter()
        .filter(|w| w.kind == WireKind::Ack)
        .map(|w| t.buffer_remaining(&w).unwrap_or(u32::MAX))
        .collect();
    assert!(acks.iter().all(|&b| b <= 8), "{acks:?}");
    assert!(acks.iter().filter(|&&b| b == 7).count() > 100);
}

#[test]
fn defaults_100_messages_1_8_s_and_2_0_s_in_ws_rm_1_1() {
    // 2005/02: 1 + 2 + 4 + 7·13 = 98 by 1.6 s; 99, 100 and the LastMessage at 1.7 s, the
    // TerminateSequence at 1.8 s (ReliableOutputSessionChannel.TerminateSequence: one-way).
    let (r, _) = run(config(100));
    assert_ms(r.completion_time * 1000.0, 1_800.0);
    // 1.1: no LastMessage; 100 acked at 1.8 s, CloseSequence + response, TerminateSequence +
    // response: 2.0 s.
    let mut c = config(100);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    let (r, _) = run(c);
    assert_ms(r.completion_time * 1000.0, 2_000.0);
    assert!(r.faults.is_empty());
}

#[test]
fn rtt_samples_every_slid_message_from_its_last_attempt_and_the_backoff_ends_at_the_next_slide() {
    // Message 20 lost: 21–27 are acknowledged out of order and only marked transferred. The
    // timer (armed at 0.6 s, 500 ms) resends 20 at 1.1 s; the acknowledgement timer's ack
    // (1.35 s) slides 20–27 at 1.4 s, each sampled from its last attempt (UpdateStats, no
    // Karn): 300 ms for 20 (sent 1.1 s), 900 ms ×3 (21–23 sent at 0.5 s), 800 ms ×4 (24–27 at
    // 0.6 s). In 1/128 ms that gives meanRtt ≈ 554 ms and timeout 1682 ms, recomputed at every
    // slide, so the doubled 1 s of the expiry is gone. The next slide (1.5 s, two 100 ms
    // samples) re-arms with 1708 ms: 30, lost at 1.4 s, is resent at 1.5 + 1.708 = 3.208 s.
    let mut c = config(40);
    c.settings.flow_control_enabled = false;
    c.forward_script = drop_first([20, 30]);
    let (r, t) = run(c);
    assert_eq!(sends(&t, 20), vec![500.0, 1100.0]);
    assert_eq!(sends(&t, 30), vec![1400.0, 3208.0]);
    let timeouts: Vec<u32> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Rtt { rto_us, .. } if (ms(e.time) - 1400.0).abs() < 1e-6 => Some(rto_us),
            _ => None,
        })
        .collect();
    assert_eq!(timeouts.len(), 8, "one sample per slid message");
    assert!(timeouts.iter().all(|&us| us == 1_682_000));
    assert_ms(r.completion_time * 1000.0, 3_808.0);
}

#[test]
fn max_retry_count_1_faults_when_the_second_copy_is_lost() {
    // Messages 2 and 3 go at 0.2 s, 3 is lost. 2 is acknowledged by the acknowledgement
    // timer (0.25 + 0.2 s) and slides at 0.5 s with a 300 ms sample: mean 100 + 200/8 =
    // 125 ms, serr 50 + (200 − 50)/8 = 68.75 ms, timeout max(525, 400) = 525 ms, re-armed at
    // that slide (ProcessTransferred: retryTimer.Set). 3 is resent at 1.025 s (lost too), the
    // timeout doubles to 1050 ms, and the next expiry at 2.075 s finds RetryCount 2 >
    // MaxRetryCount 1 (ReliableOutputSessionChannel.OnRetryTimeoutElapsed). rmscope faulted at
    // 2.063 s before it followed WCF.
    let mut c = config(100);
    c.settings.max_retry_count = 1;
    c.forward_script = vec![
        DropRule::Message {
            number: 3,
            attempt: 0,
        },
        DropRule::Message {
            number: 3,
            attempt: 1,
        },
    ];
    let (r, _) = run(c);
    let (at, cause) = source_fault(&r).expect("source faults");
    assert_eq!(cause, FaultCause::MaxRetryCountExceeded);
    assert_ms(at, 2_075.0);
}

#[test]
fn close_has_one_budget_and_times_out_60_s_after_it_began() {
    // Every copy of message 10 lost. The application closes at 0.4 s (after its last send);
    // OnClose gives connection.Close, CloseSequence and TerminateSequence one TimeoutHelper of
    // closeTimeout = 1 min. Message 10 goes at 0.4, 1, 2, 4, 8, 16, 32 s (7 sends; the 8th
    // would be at 64 s), so Close times out at 60.4 s and the channel aborts with
    // SequenceTerminated — before maxRetryCount (8 retries) would end it at 256 s.
    let mut c = config(10);
    c.forward_script = vec![DropRule::AllOf { number: 10 }];
    let (r, t) = run(c);
    assert_eq!(sends(&t, 10).len(), 7, "{:?}", sends(&t, 10));
    let (at, cause) = source_fault(&r).expect("source faults");
    assert_eq!(cause, FaultCause::CloseTimeout);
    assert_ms(at, 60_400.0);
    assert!(
        r.faults
            .iter()
            .any(|f| f.side == Side::Destination && f.code == RmFault::SequenceTerminated),
        "the destination is told"
    );
}

#[test]
fn a_lost_terminate_sequence_response_lets_close_return_normally() {
    // 1.1, one message, everything lost from 0.31 s on. Close starts at 0.1 s (deadline
    // 60.1 s); CloseSequence 0.2 s → response 0.3 s; TerminateSequence at 0.3 s gets through
    // but its response (0.35 s) is lost. The requestor resends every RequestorIterationTime
    // (10 s): 0.3, 10.3, …, 50.3 s = 6 sends; its last iteration waits out the budget and
    // Request returns null — the terminate requestor has no TimeoutString1Index, so Close
    // completes without an exception (ReliableOutputSessionChannel.TerminateSequence).
    let mut c = config(1);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    let outage = DropRule::Outage {
        from: Time::from_millis(310),
        until: Time::from_secs(100),
    };
    c.forward_script = vec![outage.clone()];
    c.backward_script = vec![outage];
    let (r, t) = run(c);
    assert_eq!(
        sends_of(&t, WireKind::TerminateSequence),
        vec![300.0, 10_300.0, 20_300.0, 30_300.0, 40_300.0, 50_300.0]
    );
    assert!(source_fault(&r).is_none(), "{:?}", r.faults);
    assert_ms(r.completion_time * 1000.0, 60_100.0);
}

#[test]
fn an_empty_1_1_sequence_closes_with_none_and_final() {
    // CloseSequence for a sequence that carried nothing: the response's ack is <None/> with
    // <Final/> (WsrmUtilities.AddAcknowledgementHeader with IsLastKnown once CloseSequence set
    // the last; TransmissionStrategy.IsFinalAckConsistent: nothing sent ⇒ empty ranges).
    let mut c = config(0);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    let mut sim = Simulation::new(c).expect("valid");
    let r = sim.run();
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    let t = sim.timeline();
    let csr = t
        .wires
        .iter()
        .find(|w| w.kind == WireKind::CloseSequenceResponse)
        .expect("a CloseSequenceResponse");
    let env = wsrm::decode(sim.payload(&csr).expect("kept")).expect("decodes");
    let ack = &env.acks[0];
    assert_eq!(ack.content, AckContent::None);
    assert!(ack.final_ack);
    assert_eq!(sends_of(t, WireKind::TerminateSequence).len(), 1);
}

#[test]
fn congestion_avoidance_resends_lost_messages_as_they_reenter_the_window() {
    // Window 64, the first transmissions of 64–103 lost. 2005/02 with flow control: acks
    // advertise 63 (the triggering message still queued), so at most 63 are in flight; the
    // recovery runs in slow start (sendBeginIndex 0 after the first timeout) and ends at 3.6 s.
    let mut c = config(300);
    c.settings.max_transfer_window_size = 64;
    c.forward_script = drop_first(64..=103);
    let (r, t) = run(c.clone());
    assert_eq!(most_in_flight(&t), 63);
    assert_ms(r.completion_time * 1000.0, 3_600.0);
    // Without flow control (agreeing before and after): 3.5 s.
    c.settings.flow_control_enabled = false;
    let (r, _) = run(c.clone());
    assert_ms(r.completion_time * 1000.0, 3_500.0);
    // Two more losses force a second timeout while ssthresh < window: congestion avoidance.
    // WCF takes oldWindowEnd = windowStart + windowSize before the slide, so each ack resends
    // the unacknowledged messages that its growth brings into the window
    // (ProcessTransferred: sendBeginIndex = oldWindowEnd − windowStart) instead of waiting for
    // a timeout per message: done at 8.025 s, last resend at 5.325 s.
    c.forward_script.push(DropRule::Message {
        number: 65,
        attempt: 1,
    });
    c.forward_script.push(DropRule::Message {
        number: 66,
        attempt: 1,
    });
    let (r, t) = run(c);
    assert_ms(r.completion_time * 1000.0, 8_025.0);
    let last_resend = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { attempt, wire }
                if attempt > 0 && t.wires.at(wire as usize).kind.is_sequenced() =>
            {
                Some(ms(e.time))
            }
            _ => None,
        })
        .fold(0.0, f64::max);
    assert_ms(last_resend, 5_325.0);
    assert_eq!(r.delivered, 300);
}

#[test]
fn scenarios_that_agreed_before_still_agree() {
    // One drop of message 20 without flow control: 1.7 s.
    let mut c = config(40);
    c.settings.flow_control_enabled = false;
    c.forward_script = drop_first([20]);
    assert_ms(run(c).0.completion_time * 1000.0, 1_700.0);
    // The first ack lost: 1.9 s.
    let mut c = config(40);
    c.backward_script = vec![DropRule::NextAcks { count: 1 }];
    assert_ms(run(c).0.completion_time * 1000.0, 1_900.0);
    // Every copy of message 5 lost with maxRetryCount 2: the fault at 3.9 s.
    let mut c = config(10);
    c.settings.max_retry_count = 2;
    c.forward_script = vec![DropRule::AllOf { number: 5 }];
    let r = run(c).0;
    assert_eq!(
        source_fault(&r).map(|f| f.1),
        Some(FaultCause::MaxRetryCountExceeded)
    );
    assert_ms(source_fault(&r).unwrap().0, 3_900.0);
    // WS-RM 1.1 with one drop: 1.9 s.
    let mut c = config(40);
    c.settings.reliable_messaging_version = RmVersion::V1_1;
    c.forward_script = drop_first([20]);
    assert_ms(run(c).0.completion_time * 1000.0, 1_900.0);
}

#[test]
fn one_drop_of_message_20_with_flow_control_takes_1_7_s_by_wcfs_code() {
    // The table says 1.8 s; WCF's code gives 1.7 s, as without flow control. At
    // 0.65 s the ack [1–19, 21–26] advertises 2 (six held out of order); range 1–19 is below
    // windowStart 20, so ProcessTransferred only raises the quota: 2 − min(8, 7) = −5. 20 is
    // resent at 1.1 s (timer armed at 0.6 s), the acknowledgement timer's ack (1.35 s,
    // BufferRemaining 8: the application took 20–26 at 1.15 s) slides 20–26 at 1.4 s and
    // sets the quota to 8 − max(0, min(1, 7) − 7) = 8: from there on the run is the one
    // without flow control.
    let mut c = config(40);
    c.forward_script = drop_first([20]);
    let (r, t) = run(c);
    assert_eq!(sends(&t, 20), vec![500.0, 1100.0]);
    assert_ms(r.completion_time * 1000.0, 1_700.0);
}

#[test]
fn a_send_blocked_on_zero_quota_times_out_after_send_timeout_and_the_session_goes_on() {
    // The receiving application takes one message per 100 s. By 0.45 s nine messages are
    // queued at the destination… the ack for 8–9 advertises 0 and the application's tenth
    // send, handed over at 0.4 s, waits in the wait queue. The source polls with AckRequested
    // every min(sendTimeout/2, keep-alive) = 30 s (ClientReliableSession.GetPollingInterval,
    // FastPolling). After sendTimeout (1 min) the send fails with TimeoutException
    // (WaitQueueAdder.Wait → TimeoutOnAddToWindow); the session is not faulted.
    let mut c = config(20);
    c.workload.consume_rate = Some(0.01);
    let (r, t) = run(c);
    let timed_out: Vec<f64> = t
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SendTimedOut { waited_ms } => {
                assert_eq!(waited_ms, 60_000);
                Some(ms(e.time))
            }
            _ => None,
        })
        .collect();
    assert_eq!(timed_out[0], 60_400.0);
    assert_eq!(r.send_timeouts, timed_out.len() as u64);
    assert_eq!(r.delivered + r.send_timeouts, 20);
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    let polls = sends_of(&t, WireKind::AckRequested);
    assert_eq!(&polls[..2], &[30_500.0, 60_600.0]);
    // The timeline's analysis reports it.
    let a = rmscope::analysis::analyze(&t, &Default::default());
    assert!(
        a.findings
            .iter()
            .any(|f| f.text.starts_with("Send timed out after 00:01:00")),
        "{:?}",
        a.findings
    );
}

#[test]
fn create_sequence_refused_carries_wcfs_sentences_and_the_soap_1_1_faultcode() {
    // ReliableChannelListener refuses beyond maxPendingChannels with SR.CSRefused around
    // SR.ServerTooBusy; over SOAP 1.1 the faultcode is wsrm:CreateSequenceRefused
    // (WsrmUtilities.CreateCSRefusedFault), over SOAP 1.2 Receiver with that subcode.
    for soap in [wsrm::SoapVersion::V1_1, wsrm::SoapVersion::V1_2] {
        let mut c = config(1);
        c.soap = soap;
        c.workload.sessions = 5;
        c.workload.accept = false;
        c.time_limit = Duration::from_secs(5);
        let mut sim = Simulation::new(c).expect("valid");
        let r = sim.run();
        assert_eq!(r.sessions_refused, 1, "{soap:?}");
        let t = sim.timeline();
        let w = t
            .wires
            .iter()
            .find(|w| w.kind == WireKind::Fault)
            .expect("a fault on the wire");
        let env = wsrm::decode(sim.payload(&w).expect("kept")).expect("decodes");
        let wsrm::Body::Fault(f) = &env.body else {
            panic!("{:?}", env.body)
        };
        assert_eq!(
            f.reason.as_str(),
            "The request to create a reliable session has been refused by the RM Destination. \
             Server 'http://service.example/rmscope' is too busy to process this request. Try \
             again later. The channel could not be opened."
        );
        assert_eq!(f.rm_fault, Some(RmFault::CreateSequenceRefused));
        let xml = String::from_utf8_lossy(sim.payload(&w).expect("kept")).into_owned();
        match soap {
            wsrm::SoapVersion::V1_1 => {
                assert!(
                    xml.contains("<faultcode>r:CreateSequenceRefused</faultcode>"),
                    "{xml}"
                );
                assert!(!xml.contains("SequenceFault"), "{xml}");
            }
            wsrm::SoapVersion::V1_2 => {
                assert_eq!(f.code, wsrm::FaultCode::Receiver);
                assert!(xml.contains("ConnectionLimitReached"), "{xml}");
            }
        }
    }
}

#[test]
fn a_1_1_create_sequence_response_always_says_its_incomplete_sequence_behavior() {
    // CreateSequenceResponse.OnWriteBodyContents (1.1): DiscardFollowingFirstGap when ordered,
    // NoDiscard when not.
    for (ordered, want) in [
        (true, wsrm::IncompleteSequenceBehavior::DiscardFollowingFirstGap),
        (false, wsrm::IncompleteSequenceBehavior::NoDiscard),
    ] {
        let mut c = config(1);
        c.settings.reliable_messaging_version = RmVersion::V1_1;
        c.settings.ordered = ordered;
        let mut sim = Simulation::new(c).expect("valid");
        sim.run();
        let w = sim
            .timeline()
            .wires
            .iter()
            .find(|w| w.kind == WireKind::CreateSequenceResponse)
            .expect("a response");
        let env = wsrm::decode(sim.payload(&w).expect("kept")).expect("decodes");
        let wsrm::Body::CreateSequenceResponse(csr) = &env.body else {
            panic!("{:?}", env.body)
        };
        assert_eq!(csr.incomplete_sequence_behavior, Some(want));
    }
}

fn over_http(messages: u64) -> SimConfig {
    let mut c = config(messages);
    c.shape = rmscope::engine::Shape::OneWayOverRequest;
    c
}

#[test]
fn one_way_over_http_answers_every_message_and_a_full_buffer_waits_for_the_poll() {
    // ReliableOutputSessionChannelOverRequest: RequestAcks false. ReliableInputSessionChannel
    // OverReply: every request answered with an ack built before the message is dispatched;
    // it cannot push the fresh ack when its buffer opens again, so a source stalled on
    // BufferRemaining 0 waits for its poll: FastPolling, min(sendTimeout/2, keep-alive) = 30 s
    // (ClientReliableSession.GetPollingInterval). The application takes 2 messages/s: after
    // each poll's ack (BufferRemaining 8) the source sends 8 at once, then one more on the
    // last unit of quota (the acks say 7, 7, 6, …, 1: the first message is taken as it
    // arrives, the others queue) — 9 per 30 s, 50 messages by 151.9 s.
    let mut c = over_http(50);
    c.workload.consume_rate = Some(2.0);
    let (r, t) = run(c);
    assert_eq!(r.delivered, 50);
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    assert_ms(r.completion_time * 1000.0, 151_900.0);
    let data: Vec<Wire> = t.wires.iter().filter(|w| w.kind == WireKind::Data).collect();
    assert!(data.iter().all(|w| !w.flags.has(WireFlags::ACK_REQUESTED)));
    // One ack per request: 50 data messages, the LastMessage and the polls.
    let polls = sends_of(&t, WireKind::AckRequested);
    assert_eq!(&polls[..3], &[30_500.0, 60_800.0, 91_100.0]);
    assert_eq!(r.acks as usize, 50 + 1 + polls.len());
    assert_eq!(sends(&t, 10), vec![30_600.0]);
    assert_eq!(sends(&t, 18), vec![30_700.0]);
}

#[test]
fn over_http_the_create_sequence_is_one_request_with_the_whole_timeout() {
    // RequestReliableRequestor: binder.Request(request, remaining timeout) — no resend every
    // RequestorIterationTime as over duplex; a lost request is simply never answered and Open
    // times out after openTimeout (1 min).
    let mut c = over_http(5);
    c.forward_script = vec![DropRule::NextOfKind {
        kind: WireKind::CreateSequence,
        count: 1,
    }];
    let (r, t) = run(c.clone());
    assert_eq!(sends_of(&t, WireKind::CreateSequence), vec![0.0]);
    let (at, cause) = source_fault(&r).expect("open fails");
    assert_eq!(cause, FaultCause::OpenTimeout);
    assert_ms(at, 60_000.0);
    // Over duplex the same loss costs one 10 s iteration.
    c.shape = rmscope::engine::Shape::OneWayOverDuplex;
    let (r, t) = run(c);
    assert_eq!(sends_of(&t, WireKind::CreateSequence), vec![0.0, 10_000.0]);
    assert_eq!(r.delivered, 5);
}
