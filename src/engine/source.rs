//! The RM source: opens a sequence, sends application messages under WCF's window and
//! retransmission rules, keeps the session alive, and closes it. Pure state machine: time
//! arrives as an argument, envelopes leave through `poll_transmit`.

use super::event::{EngineEvent, SendError};
use super::messages::{Dialect, uuid_urn};
use super::settings::{BindingTimeouts, Settings, SettingsError, timespan};
use super::shape::Shape;
use super::transmission::Transmission;
use super::{HANDSHAKE_RETRY, Timers};
use crate::trace::{EventKind, FaultCause, Time, Timer};
use crate::wsrm::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;
use std::time::Duration;

/// Addresses and versions of the source's messages.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    pub dialect: Dialect,
    /// The destination's address (`wsa:To` of every message).
    pub to: Text,
    /// This endpoint's address: ReplyTo and AcksTo of the CreateSequence.
    pub reply_to: Text,
    /// The application messages' action.
    pub action: Text,
    pub timeouts: BindingTimeouts,
    /// Which WCF channel pair carries the session.
    pub shape: Shape,
    /// Seeds the generator of message ids (deterministic runs).
    pub seed: u64,
}

/// Where the source is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceState {
    Created,
    Opening,
    Open,
    Closing,
    Closed,
    Faulted(FaultCause),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Closing {
    /// 2005/02: the LastMessage waits in the wait queue for room in the window.
    LastPending,
    /// Waiting until every message is acknowledged.
    Draining,
    /// 1.1: CloseSequence sent (WS-RM 1.1 §3.5).
    CloseSent(Text),
    /// 1.1: TerminateSequence sent (WS-RM 1.1 §3.6).
    TerminateSent(Text),
}

/// Something waiting to be transmitted: a protocol message, or a message in the window
/// (cloned from its buffered copy when it leaves, skipped if acknowledged meanwhile).
#[derive(Clone, Debug)]
enum Outgoing {
    Envelope(Box<Envelope>),
    Buffered(u64),
}

/// A send blocked on a full window or zero quota, in WCF's wait queue (TransmissionStrategy
/// waitQueue: InternalAdd enqueues a WaitQueueAdder when CanAdd fails).
#[derive(Clone, Debug)]
enum Waiting {
    App(AppBody),
    /// 2005/02's LastMessage (AddLast).
    Last,
}

/// What `send` did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Added to the window under this number and on its way.
    Now(u64),
    /// Blocked in the wait queue until an acknowledgement makes room (DequeuePending).
    Queued,
}

/// Keep-alive polling (ClientReliableSession.GetPollingInterval).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Poll {
    Idle,
    KeepAlive,
    Fast,
}

pub struct Source {
    settings: Settings,
    cfg: SourceConfig,
    rng: Pcg64Mcg,
    state: SourceState,
    close: Option<Closing>,
    id: Option<Text>,
    tx: Option<Transmission>,
    out: VecDeque<Outgoing>,
    /// Sends blocked on the window or the quota, oldest first, each with the time its
    /// sendTimeout runs out (the LastMessage waits on Close's budget instead).
    waiting: VecDeque<(Waiting, Option<Time>)>,
    events: VecDeque<EngineEvent>,
    timers: Timers,
    /// The CreateSequence (or Close/Terminate) request resent by the handshake timer.
    request: Option<Envelope>,
    request_message_id: Option<Text>,
    request_started: Time,
    request_deadline: Time,
    /// When Close must be done: one closeTimeout shared by draining the window, CloseSequence
    /// and TerminateSequence (ReliableOutputSessionChannel.OnClose: one TimeoutHelper).
    close_deadline: Option<Time>,
    poll: Poll,
    /// Number of the last message (the LastMessage in 2005/02, the highest sent in 1.1).
    last: u64,
    /// Emit window, timer and RTT events (off: only open/close/fault).
    detailed_events: bool,
}

impl Source {
    pub fn new(settings: Settings, cfg: SourceConfig) -> Result<Source, SettingsError> {
        settings.validate()?;
        Ok(Source {
            rng: Pcg64Mcg::seed_from_u64(cfg.seed),
            settings,
            cfg,
            state: SourceState::Created,
            close: None,
            id: None,
            tx: None,
            out: VecDeque::new(),
            waiting: VecDeque::new(),
            events: VecDeque::new(),
            timers: Timers::default(),
            request: None,
            request_message_id: None,
            request_started: Time::ZERO,
            request_deadline: Time::ZERO,
            close_deadline: None,
            poll: Poll::Idle,
            last: 0,
            detailed_events: true,
        })
    }

    /// Turns window, timer and RTT events on or off (open/close/fault always come).
    pub fn set_detailed_events(&mut self, on: bool) {
        self.detailed_events = on;
    }

    pub fn state(&self) -> &SourceState {
        &self.state
    }
    pub fn identifier(&self) -> Option<&Text> {
        self.id.as_ref()
    }
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// Whether the application can hand over a message without waiting for an earlier one:
    /// the session is open and no send is blocked in the wait queue.
    pub fn can_send(&self) -> bool {
        self.state == SourceState::Open && self.close.is_none() && self.waiting.is_empty()
    }
    /// Sends blocked in the wait queue.
    pub fn blocked_sends(&self) -> usize {
        self.waiting.len()
    }
    /// (window, in flight, ssthresh, quota) of the transfer window, once open.
    pub fn window(&self) -> Option<(u32, u32, u32, i64)> {
        self.tx
            .as_ref()
            .map(|t| (t.cwnd, t.in_flight(), t.ssthresh, t.quota))
    }
    pub fn is_finished(&self) -> bool {
        matches!(self.state, SourceState::Closed | SourceState::Faulted(_))
    }

    fn emit(&mut self, time: Time, kind: EventKind) {
        if !self.detailed_events && !kind.is_lifecycle() {
            return;
        }
        self.events.push_back(EngineEvent {
            time,
            seq: self.id.clone(),
            kind,
        });
    }

    fn window_event(&mut self, now: Time) {
        if !self.detailed_events {
            return;
        }
        if let Some((window, in_flight, ssthresh, quota)) = self.window() {
            let kind = EventKind::Window {
                window: window.min(u16::MAX as u32) as u16,
                in_flight: in_flight.min(u16::MAX as u32) as u16,
                ssthresh: ssthresh.min(u16::MAX as u32) as u16,
                quota: quota.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            };
            self.emit(now, kind);
        }
    }

    fn message_id(&mut self) -> Text {
        uuid_urn(self.rng.random())
    }

    /// Starts the CreateSequence handshake; resent every 10 s until the open timeout
    /// (ReliableRequestor: RequestorIterationTime = 10 s).
    pub fn open(&mut self, now: Time) {
        if self.state != SourceState::Created {
            return;
        }
        self.state = SourceState::Opening;
        let mid = self.message_id();
        let cs = self
            .cfg
            .dialect
            .create_sequence(&self.cfg.to, mid.clone(), &self.cfg.reply_to);
        self.start_request(now, cs, mid, self.cfg.timeouts.open);
    }

    fn start_request(&mut self, now: Time, request: Envelope, message_id: Text, timeout: Duration) {
        self.out.push_back(Outgoing::Envelope(Box::new(request.clone())));
        self.request = Some(request);
        self.request_message_id = Some(message_id);
        self.request_started = now;
        self.request_deadline = now + timeout;
        self.arm_handshake(now);
    }

    fn arm_handshake(&mut self, now: Time) {
        let at = if self.cfg.shape.requestor_iterates() {
            (now + HANDSHAKE_RETRY).min(self.request_deadline)
        } else {
            self.request_deadline
        };
        self.timers.set(Timer::Handshake, at);
        self.emit(
            now,
            EventKind::TimerArmed {
                timer: Timer::Handshake,
                at,
            },
        );
    }

    /// Hands one application message to the channel: into the window when it fits and nobody
    /// waits before it, else into the wait queue (TransmissionStrategy.InternalAdd, CanAdd).
    pub fn send(&mut self, now: Time, body: AppBody) -> Result<Sent, SendError> {
        match (&self.state, &self.close) {
            (SourceState::Open, None) => {}
            (SourceState::Open, Some(_)) => return Err(SendError::Closing),
            (SourceState::Created | SourceState::Opening, _) => return Err(SendError::NotOpen),
            _ => return Err(SendError::Closed),
        }
        if self.tx.is_none() || self.id.is_none() {
            return Err(SendError::NotOpen);
        }
        Ok(self.offer(now, Waiting::App(body)))
    }

    /// CanAdd: room in the window, quota left, and nobody in the wait queue.
    fn offer(&mut self, now: Time, item: Waiting) -> Sent {
        let fits = self.waiting.is_empty() && self.tx.as_ref().is_some_and(|t| t.can_add());
        if fits {
            Sent::Now(self.add_to_window(now, item))
        } else {
            let deadline = match item {
                Waiting::App(_) => Some(now + self.cfg.timeouts.send),
                Waiting::Last => None,
            };
            self.waiting.push_back((item, deadline));
            Sent::Queued
        }
    }

    /// AddToWindow: numbers the message, adds AckRequested when it fills the window or uses
    /// the last unit of quota, buffers it and sends it.
    fn add_to_window(&mut self, now: Time, item: Waiting) -> u64 {
        let tx = self.tx.as_ref().expect("open");
        let id = self.id.as_ref().expect("open");
        let number = tx.next_number();
        let ack_requested = tx.next_needs_ack_request();
        let env = match item {
            Waiting::App(body) => {
                self.cfg
                    .dialect
                    .data(&self.cfg.to, &self.cfg.action, id, number, ack_requested, body)
            }
            Waiting::Last => {
                self.last = number;
                self.close = Some(Closing::Draining);
                self.cfg
                    .dialect
                    .last_message(&self.cfg.to, id, number, ack_requested)
            }
        };
        self.enqueue(now, env);
        number
    }

    /// Releases blocked sends after an acknowledgement: `min(windowSize, quotaRemaining) −
    /// window.Count` of them, oldest first (TransmissionStrategy.DequeuePending).
    fn dequeue_pending(&mut self, now: Time) {
        let Some(tx) = &self.tx else { return };
        if self.waiting.is_empty() || self.is_finished() {
            return;
        }
        let count = tx.release_count().min(self.waiting.len() as i64);
        for _ in 0..count.max(0) {
            let (item, _) = self.waiting.pop_front().expect("counted");
            self.add_to_window(now, item);
        }
    }

    /// Puts a sequenced envelope into the window and on the wire.
    fn enqueue(&mut self, now: Time, env: Envelope) {
        let tx = self.tx.as_mut().expect("open");
        self.out.push_back(Outgoing::Buffered(tx.next_number()));
        if tx.add(env, now) {
            self.arm_retransmission(now);
        }
        self.window_event(now);
        self.local_activity(now);
    }

    fn arm_retransmission(&mut self, now: Time) {
        let Some(tx) = &self.tx else { return };
        let at = now + tx.rtt.rto();
        self.timers.set(Timer::Retransmission, at);
        self.emit(
            now,
            EventKind::TimerArmed {
                timer: Timer::Retransmission,
                at,
            },
        );
    }

    /// Ends the sequence: 2005/02 sends LastMessage and then TerminateSequence (2005/02 §3.2,
    /// §3.5); 1.1 waits for every ack, then CloseSequence and TerminateSequence (1.1 §3.5–3.6).
    pub fn close(&mut self, now: Time) {
        if self.state != SourceState::Open || self.close.is_some() {
            return;
        }
        self.state = SourceState::Closing;
        self.close_deadline = Some(now + self.cfg.timeouts.close);
        match self.settings.reliable_messaging_version {
            RmVersion::Feb2005 => {
                // AddLast goes through the same wait queue as any send.
                self.close = Some(Closing::LastPending);
                self.offer(now, Waiting::Last);
            }
            RmVersion::V1_1 => {
                let tx = self.tx.as_ref().expect("open");
                self.last = tx.last_sent();
                if !tx.is_empty() {
                    // ReliableOutputConnection: SetLast, then an AckRequested to hurry the acks.
                    let id = self.id.clone().expect("open");
                    let ar = self.cfg.dialect.ack_requested(&self.cfg.to, &id);
                    self.out.push_back(Outgoing::Envelope(Box::new(ar)));
                }
                self.close = Some(Closing::Draining);
            }
        }
        self.progress_close(now);
    }

    fn progress_close(&mut self, now: Time) {
        let Some(tx) = &self.tx else { return };
        let id = self.id.clone().expect("open");
        match self.close {
            Some(Closing::Draining) if tx.is_empty() => match self.settings.reliable_messaging_version {
                RmVersion::Feb2005 => {
                    // Sent once, one-way, no response (ReliableOutputSessionChannel.OnClose).
                    let env = self.cfg.dialect.sequence_end(
                        &self.cfg.to,
                        RmAction::TerminateSequence,
                        &id,
                        self.last,
                        None,
                    );
                    self.out.push_back(Outgoing::Envelope(Box::new(env)));
                    self.finish(now, SourceState::Closed);
                }
                RmVersion::V1_1 => {
                    let mid = self.message_id();
                    let env = self.cfg.dialect.sequence_end(
                        &self.cfg.to,
                        RmAction::CloseSequence,
                        &id,
                        self.last,
                        Some(mid.clone()),
                    );
                    self.close = Some(Closing::CloseSent(mid.clone()));
                    let left = self.close_budget_left(now);
                    self.start_request(now, env, mid, left);
                }
            },
            _ => {}
        }
    }

    /// What is left of Close's one timeout (TimeoutHelper.RemainingTime).
    fn close_budget_left(&self, now: Time) -> Duration {
        self.close_deadline
            .map_or(self.cfg.timeouts.close, |d| d.since(now.min(d)))
    }

    /// Close's timeout ran out while the window was still draining (ReliableOutputConnection
    /// .Close: shutdownHandle.Wait(remaining) throws TimeoutException); a Close that fails
    /// aborts the channel (CommunicationObject.Close), and the abort tells the destination.
    fn close_timed_out(&mut self, now: Time) {
        self.send_abort_fault();
        self.emit(
            now,
            EventKind::Fault {
                code: RmFault::SequenceTerminated,
                cause: FaultCause::CloseTimeout,
            },
        );
        self.finish(now, SourceState::Faulted(FaultCause::CloseTimeout));
    }

    /// The application aborts the channel: a SequenceTerminated goes out if the sequence exists
    /// and nothing ends there (ChannelReliableSession.Abort: SequenceTerminatedOnAbort).
    pub fn abort(&mut self, now: Time) {
        if self.is_finished() {
            return;
        }
        self.send_abort_fault();
        self.emit(
            now,
            EventKind::Fault {
                code: RmFault::SequenceTerminated,
                cause: FaultCause::Aborted,
            },
        );
        self.finish(now, SourceState::Faulted(FaultCause::Aborted));
    }

    fn send_abort_fault(&mut self) {
        if let Some(id) = self.id.clone() {
            let env = self.cfg.dialect.fault(
                &self.cfg.to,
                FaultCode::Receiver,
                RmFault::SequenceTerminated,
                None,
                "Due to a user abort the reliable session cannot continue.",
                Some(&id),
            );
            self.out.push_back(Outgoing::Envelope(Box::new(env)));
        }
    }

    fn finish(&mut self, now: Time, state: SourceState) {
        if let SourceState::Faulted(_) = state {
        } else {
            self.emit(now, EventKind::Terminated);
            self.emit(now, EventKind::Closed);
        }
        self.state = state;
        self.close = None;
        self.request = None;
        self.close_deadline = None;
        self.waiting.clear();
        self.timers = Timers::default();
    }

    /// Faults the session; optionally tells the destination (SequenceTerminated etc.).
    fn fault(&mut self, now: Time, cause: FaultCause, code: RmFault, send: Option<(FaultCode, String)>) {
        if self.is_finished() {
            return;
        }
        if let (Some((soap_code, reason)), Some(id)) = (send, self.id.clone()) {
            let env = self
                .cfg
                .dialect
                .fault(&self.cfg.to, soap_code, code, None, &reason, Some(&id));
            self.out.push_back(Outgoing::Envelope(Box::new(env)));
        }
        self.emit(now, EventKind::Fault { code, cause });
        self.finish(now, SourceState::Faulted(cause));
    }

    /// Re-arms the keep-alive poll after the source sent something (OnLocalActivity).
    fn local_activity(&mut self, now: Time) {
        if matches!(self.state, SourceState::Open | SourceState::Closing) {
            let at = now + self.poll_interval();
            self.timers.set(Timer::KeepAlive, at);
        }
    }

    /// Something arrived for this sequence: restart the inactivity timer and the poll
    /// (ChannelReliableSession.OnRemoteActivity / ClientReliableSession.OnRemoteActivity).
    fn remote_activity(&mut self, now: Time) {
        if !matches!(self.state, SourceState::Open | SourceState::Closing) {
            return;
        }
        self.timers
            .set(Timer::Inactivity, now + self.settings.inactivity_timeout);
        let zero_quota = self.tx.as_ref().is_some_and(|t| t.quota <= 0);
        self.poll = if zero_quota { Poll::Fast } else { Poll::Idle };
        let at = now + self.poll_interval();
        self.timers.set(Timer::KeepAlive, at);
    }

    /// First poll at inactivityTimeout/2, then every inactivityTimeout/(2·maxRetryCount);
    /// with zero quota min(sendTimeout/2, that) (GetPollingInterval, CalculateKeepAliveInterval).
    fn poll_interval(&self) -> Duration {
        let keep_alive = self.settings.inactivity_timeout / 2 / self.settings.max_retry_count.max(1);
        match self.poll {
            Poll::Idle => self.settings.inactivity_timeout / 2,
            Poll::KeepAlive => keep_alive,
            Poll::Fast => (self.cfg.timeouts.send / 2).min(keep_alive),
        }
    }

    pub fn handle_incoming(&mut self, now: Time, env: Envelope) {
        if self.is_finished() {
            return;
        }
        if let Body::CreateSequenceResponse(csr) = &env.body {
            self.on_create_sequence_response(now, &env, csr.identifier.clone());
            return;
        }
        if let Body::Fault(f) = &env.body {
            self.on_fault(now, f.clone());
            return;
        }
        let ours = |id: &Text| self.id.as_ref() == Some(id);
        let ack = env.acks.iter().find(|a| ours(&a.identifier)).cloned();
        let is_close_response =
            matches!(&env.body, Body::CloseSequenceResponse { identifier } if ours(identifier));
        let is_terminate_response =
            matches!(&env.body, Body::TerminateSequenceResponse { identifier } if ours(identifier));
        if ack.is_none() && !is_close_response && !is_terminate_response {
            return;
        }
        self.remote_activity(now);
        if let Some(ack) = ack {
            self.on_ack(now, &ack);
        }
        if self.is_finished() {
            return;
        }
        if is_close_response && matches!(self.close, Some(Closing::CloseSent(_))) {
            self.on_close_response(now, env.acks.first());
        } else if is_terminate_response && matches!(self.close, Some(Closing::TerminateSent(_))) {
            self.finish(now, SourceState::Closed);
        }
    }

    fn on_create_sequence_response(&mut self, now: Time, env: &Envelope, id: Text) {
        let relates = env.addressing.relates_to.as_ref().map(|r| &r.message_id);
        if self.state != SourceState::Opening
            || (relates.is_some() && relates != self.request_message_id.as_ref())
        {
            return; // a duplicate or stray response (WCF ignores it once open)
        }
        // RTT₀ = the measured CreateSequence round trip, retries included (ClientReliableSession.Open).
        let rtt0 = now.since(self.request_started);
        self.id = Some(id);
        let mut tx = Transmission::new(
            self.settings.max_transfer_window_size,
            rtt0,
            self.settings.flow_control_enabled,
        );
        tx.set_request_acks(self.cfg.shape.requests_acks());
        self.tx = Some(tx);
        self.state = SourceState::Open;
        self.request = None;
        self.timers.clear(Timer::Handshake);
        self.emit(now, EventKind::Opened);
        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        let rto = self.tx.as_ref().map_or(0, |t| us(t.rtt.rto()));
        self.emit(
            now,
            EventKind::Rtt {
                sample_us: us(rtt0),
                srtt_us: us(rtt0),
                rto_us: rto,
            },
        );
        self.window_event(now);
        self.remote_activity(now);
    }

    fn on_ack(&mut self, now: Time, ack: &SequenceAcknowledgement) {
        let Some(tx) = self.tx.as_mut() else { return };
        let outcome = tx.on_ack(ack.content.ranges(), ack.buffer_remaining, now);
        if outcome.invalid {
            let reason = FaultCause::InvalidAcknowledgement.text().to_string();
            self.fault(
                now,
                FaultCause::InvalidAcknowledgement,
                RmFault::InvalidAcknowledgement,
                Some((FaultCode::Sender, reason)),
            );
            return;
        }
        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        let (srtt, rto) = (us(tx.rtt.srtt()), us(tx.rtt.rto()));
        let samples = std::mem::take(&mut tx.samples);
        let retransmit = std::mem::take(&mut tx.retransmit);
        for s in &samples {
            let kind = EventKind::Rtt {
                sample_us: us(*s),
                srtt_us: srtt,
                rto_us: rto,
            };
            self.emit(now, kind);
        }
        if outcome.slid > 0 {
            self.timers.clear(Timer::Retransmission);
            if !self.tx.as_ref().expect("open").is_empty() {
                self.arm_retransmission(now);
            } else {
                self.emit(
                    now,
                    EventKind::TimerStopped {
                        timer: Timer::Retransmission,
                    },
                );
            }
        }
        let mut ok = true;
        for &number in &retransmit {
            if !self.resend(now, number) {
                ok = false;
                break;
            }
        }
        if let Some(tx) = self.tx.as_mut() {
            // Hand the buffers back so the next ack does not allocate.
            tx.samples = samples;
            tx.retransmit = retransmit;
        }
        if !ok {
            return;
        }
        // CompleteSendRetries / OnTransferComplete: blocked sends get their turn after the
        // retries went out.
        self.window_event(now);
        self.dequeue_pending(now);
        self.progress_close(now);
    }

    /// Sends a buffered message again, or faults if it has used up maxRetryCount.
    fn resend(&mut self, now: Time, number: u64) -> bool {
        let Some(slot) = self.tx.as_ref().and_then(|t| t.slot(number)) else {
            return true;
        };
        // ReliableOutputSessionChannel: `if (attemptInfo.RetryCount > MaxRetryCount)` fault.
        if slot.retries > self.settings.max_retry_count {
            self.fault(
                now,
                FaultCause::MaxRetryCountExceeded,
                RmFault::SequenceTerminated,
                Some((
                    FaultCode::Receiver,
                    FaultCause::MaxRetryCountExceeded.text().to_string(),
                )),
            );
            return false;
        }
        self.out.push_back(Outgoing::Buffered(number));
        self.local_activity(now);
        true
    }

    fn on_close_response(&mut self, now: Time, ack: Option<&SequenceAcknowledgement>) {
        // ValidateFinalAck: the response's ack must be Final and cover exactly 1..last.
        let ok = ack.is_some_and(|a| {
            a.final_ack
                && match &a.content {
                    AckContent::None => self.last == 0,
                    AckContent::Ranges(r) => {
                        r.len() == 1 && r[0].lower.get() == 1 && r[0].upper.get() == self.last
                    }
                    AckContent::Nacks(_) => false,
                }
        });
        if !ok {
            let reason = FaultCause::InvalidAcknowledgement.text().to_string();
            self.fault(
                now,
                FaultCause::InvalidAcknowledgement,
                RmFault::InvalidAcknowledgement,
                Some((FaultCode::Sender, reason)),
            );
            return;
        }
        let id = self.id.clone().expect("open");
        let mid = self.message_id();
        let env = self.cfg.dialect.sequence_end(
            &self.cfg.to,
            RmAction::TerminateSequence,
            &id,
            self.last,
            Some(mid.clone()),
        );
        self.close = Some(Closing::TerminateSent(mid.clone()));
        let left = self.close_budget_left(now);
        self.start_request(now, env, mid, left);
    }

    fn on_fault(&mut self, now: Time, f: Fault) {
        if let (Some(theirs), Some(ours)) = (&f.identifier, &self.id)
            && theirs != ours
        {
            // A fault for another sequence over this session faults it, sending nothing
            // (ChannelReliableSession.ProcessInfo: WrongIdentifierFault → OnLocalFault).
            self.emit(
                now,
                EventKind::Fault {
                    code: f.rm_fault.unwrap_or(RmFault::SequenceTerminated),
                    cause: FaultCause::WrongIdentifier,
                },
            );
            self.finish(now, SourceState::Faulted(FaultCause::WrongIdentifier));
            return;
        }
        let code = f.rm_fault.unwrap_or(RmFault::SequenceTerminated);
        if self.state == SourceState::Opening {
            let cause = if f.netrm_fault == Some(NetRmFault::ConnectionLimitReached)
                || code == RmFault::CreateSequenceRefused
            {
                FaultCause::ConnectionLimitReached
            } else {
                FaultCause::Remote
            };
            self.emit(now, EventKind::Fault { code, cause });
            self.finish(now, SourceState::Faulted(cause));
            return;
        }
        // During close an UnknownSequence means the destination already let go (1.1: success).
        if self.close.is_some() && code == RmFault::UnknownSequence {
            self.finish(now, SourceState::Closed);
            return;
        }
        self.emit(
            now,
            EventKind::Fault {
                code,
                cause: FaultCause::Remote,
            },
        );
        self.finish(now, SourceState::Faulted(FaultCause::Remote));
    }

    pub fn handle_timeout(&mut self, now: Time) {
        let draining = matches!(self.close, Some(Closing::LastPending | Closing::Draining));
        if draining && self.close_deadline.is_some_and(|d| d <= now) {
            self.close_timed_out(now);
            return;
        }
        self.expire_blocked_sends(now);
        while let Some(timer) = self.timers.expired(now) {
            self.emit(now, EventKind::TimerFired { timer });
            match timer {
                Timer::Retransmission => self.on_retransmission_timeout(now),
                Timer::Handshake => self.on_handshake_timeout(now),
                Timer::KeepAlive => {
                    // ClientReliableSession.PollingCallback: Idle → KeepAlive, send AckRequested.
                    if self.poll == Poll::Idle {
                        self.poll = Poll::KeepAlive;
                    }
                    if let Some(id) = self.id.clone() {
                        let ar = self.cfg.dialect.ack_requested(&self.cfg.to, &id);
                        self.out.push_back(Outgoing::Envelope(Box::new(ar)));
                    }
                    self.local_activity(now);
                }
                Timer::Inactivity => {
                    let reason = format!(
                        "The inactivity timeout of ({}) has been exceeded.",
                        timespan(self.settings.inactivity_timeout)
                    );
                    self.fault(
                        now,
                        FaultCause::InactivityTimeout,
                        RmFault::SequenceTerminated,
                        Some((FaultCode::Receiver, reason)),
                    );
                }
                Timer::Acknowledgement => {}
            }
        }
    }

    /// Only the oldest unacknowledged message is resent; window := 1, timeout doubles
    /// (TransmissionStrategy.OnRetryElapsed).
    fn on_retransmission_timeout(&mut self, now: Time) {
        let Some(tx) = self.tx.as_mut() else { return };
        let Some((number, _)) = tx.on_timeout(now) else {
            return;
        };
        if self.resend(now, number) {
            self.arm_retransmission(now);
            self.window_event(now);
        }
    }

    fn on_handshake_timeout(&mut self, now: Time) {
        let Some(request) = self.request.clone() else {
            return;
        };
        if now >= self.request_deadline {
            if matches!(self.close, Some(Closing::TerminateSent(_))) {
                // The TerminateSequence requestor has no timeout message of its own
                // (CreateTerminateRequestor sets no TimeoutString1Index), so Request returns
                // null and Close completes normally (ReliableOutputSessionChannel
                // .TerminateSequence).
                self.finish(now, SourceState::Closed);
                return;
            }
            if self.close.is_some() {
                self.close_timed_out(now);
                return;
            }
            let cause = if self.state == SourceState::Opening {
                FaultCause::OpenTimeout
            } else {
                FaultCause::CloseTimeout
            };
            self.emit(
                now,
                EventKind::Fault {
                    code: RmFault::SequenceTerminated,
                    cause,
                },
            );
            self.finish(now, SourceState::Faulted(cause));
            return;
        }
        self.out.push_back(Outgoing::Envelope(Box::new(request)));
        self.arm_handshake(now);
    }

    pub fn poll_transmit(&mut self, _now: Time) -> Option<Envelope> {
        while let Some(next) = self.out.pop_front() {
            match next {
                Outgoing::Envelope(e) => return Some(*e),
                Outgoing::Buffered(n) => {
                    if let Some(slot) = self.tx.as_ref().and_then(|t| t.slot(n)) {
                        return Some(slot.envelope.clone());
                    }
                }
            }
        }
        None
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        let draining = matches!(self.close, Some(Closing::LastPending | Closing::Draining));
        let close = self.close_deadline.filter(|_| draining);
        // FIFO with one sendTimeout: the first deadline is the earliest.
        let send = self.waiting.iter().find_map(|(_, d)| *d);
        let mut next = self.timers.next();
        for t in [close, send].into_iter().flatten() {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        next
    }

    /// A send that waited sendTimeout leaves the queue with a TimeoutException for the
    /// application; the session goes on (WaitQueueAdder.Wait → RemoveAdder, TimeoutOnAddToWindow).
    fn expire_blocked_sends(&mut self, now: Time) {
        let send_timeout = self.cfg.timeouts.send;
        let before = self.waiting.len();
        self.waiting.retain(|(_, d)| d.is_none_or(|d| d > now));
        for _ in self.waiting.len()..before {
            let waited_ms = send_timeout.as_millis().min(u32::MAX as u128) as u32;
            self.emit(now, EventKind::SendTimedOut { waited_ms });
        }
    }

    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }
}
