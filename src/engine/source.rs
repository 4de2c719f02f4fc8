//! The RM source: opens a sequence, sends application messages under WCF's window and
//! retransmission rules, keeps the session alive, and closes it. Pure state machine: time
//! arrives as an argument, envelopes leave through `poll_transmit`.

use super::destination::{AckPolicy, Destination};
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
use rustc_hash::FxHashMap as HashMap;
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
    /// An application message; a duplex reply names the request it answers.
    App(AppBody, Option<Text>),
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
    /// The return sequence offered in CreateSequence (request-reply, duplex).
    offer_id: Option<Text>,
    /// The destination half of the offered sequence, once the service accepted it.
    inbound: Option<Destination>,
    /// The service's half of an offered duplex sequence: no keep-alive polls and no inactivity
    /// timer of its own (the server never polls; its input half runs the session's one timer).
    service: bool,
    /// Request-reply: the number of each outstanding request, by its MessageId.
    requests: HashMap<Text, u64>,
    /// Duplex: this sequence closed; Close waits for the return sequence until the rest of its
    /// timeout (ReliableDuplexSessionChannel.OnClose → ReliableInputConnection.Close).
    return_deadline: Option<Time>,
}

/// WCF's server never measures a round trip before its first send: its output sequence starts
/// from 2 s (ReliableMessagingConstants.UnknownInitiationTime).
pub const UNKNOWN_INITIATION_TIME: Duration = Duration::from_secs(2);

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
            offer_id: None,
            inbound: None,
            service: false,
            requests: HashMap::default(),
            return_deadline: None,
        })
    }

    /// The service's half of a duplex session: the sequence the client offered, open from
    /// the start (ServerReliableDuplexSessionChannel: the output connection exists once the
    /// CreateSequence is accepted; it never sends a CreateSequence of its own).
    pub fn accepted_offer(
        settings: Settings,
        cfg: SourceConfig,
        id: Text,
        now: Time,
    ) -> Result<Source, SettingsError> {
        let mut s = Source::new(settings, cfg)?;
        s.service = true;
        s.id = Some(id);
        s.start_transfer(UNKNOWN_INITIATION_TIME);
        s.emit(now, EventKind::Opened);
        s.window_event(now);
        Ok(s)
    }

    /// The sequence is open: the transfer window starts from the first round-trip estimate.
    fn start_transfer(&mut self, rtt0: Duration) {
        let mut tx = Transmission::new(
            self.settings.max_transfer_window_size,
            rtt0,
            self.settings.flow_control_enabled,
        );
        tx.set_request_acks(self.cfg.shape.requests_acks());
        self.tx = Some(tx);
        self.state = SourceState::Open;
    }

    /// The offered return sequence's identifier, once offered.
    pub fn offered_identifier(&self) -> Option<&Text> {
        self.offer_id.as_ref()
    }

    /// The return sequence's destination half (replies, callbacks), once accepted.
    pub fn inbound(&self) -> Option<&Destination> {
        self.inbound.as_ref()
    }

    /// The application takes the next reply or callback of the return sequence.
    pub fn receive(&mut self, now: Time) -> Option<(u64, AppBody)> {
        let got = self.inbound.as_mut()?.receive(now);
        self.take_inbound_output(now, true);
        got
    }

    /// Turns window, timer and RTT events on or off (open/close/fault always come).
    pub fn set_detailed_events(&mut self, on: bool) {
        self.detailed_events = on;
        if let Some(d) = &mut self.inbound {
            d.detailed_events = on;
        }
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
    /// Done: the sequence closed or faulted, and over duplex the return sequence ended too
    /// (the client's Close waits for the service's TerminateSequence:
    /// ReliableDuplexSessionChannel.OnClose → ReliableInputConnection.Close).
    pub fn is_finished(&self) -> bool {
        self.output_finished() && !self.inbound_alive()
    }

    fn output_finished(&self) -> bool {
        matches!(self.state, SourceState::Closed | SourceState::Faulted(_))
    }

    /// A duplex return sequence still running after this side's own sequence closed.
    fn inbound_alive(&self) -> bool {
        self.cfg.shape == Shape::Duplex
            && self.state == SourceState::Closed
            && self.inbound.as_ref().is_some_and(|d| !d.is_finished())
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
        let mut cs = self
            .cfg
            .dialect
            .create_sequence(&self.cfg.to, mid.clone(), &self.cfg.reply_to);
        if self.cfg.shape.offers() {
            // A fresh UniqueId per channel (ReliableChannelFactory.OnCreateChannel).
            let offered = self.message_id();
            let ordered = self.settings.ordered;
            self.cfg
                .dialect
                .offer(&mut cs, offered.clone(), &self.cfg.reply_to, ordered);
            self.offer_id = Some(offered);
        }
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
        self.check_can_send()?;
        Ok(self.offer(now, Waiting::App(body, None)))
    }

    fn check_can_send(&self) -> Result<(), SendError> {
        match (&self.state, &self.close) {
            (SourceState::Open, None) => {}
            (SourceState::Open, Some(_)) => return Err(SendError::Closing),
            (SourceState::Created | SourceState::Opening, _) => return Err(SendError::NotOpen),
            _ => return Err(SendError::Closed),
        }
        if self.tx.is_none() || self.id.is_none() {
            return Err(SendError::NotOpen);
        }
        Ok(())
    }

    /// A duplex reply: an application message on the return sequence naming the request it
    /// answers (RelatesTo; the RM layer does not correlate, ServiceModel does).
    pub fn send_reply(&mut self, now: Time, body: AppBody, request: Option<Text>) -> Result<Sent, SendError> {
        self.check_can_send()?;
        Ok(self.offer(now, Waiting::App(body, request)))
    }

    /// CanAdd: room in the window, quota left, and nobody in the wait queue.
    fn offer(&mut self, now: Time, item: Waiting) -> Sent {
        let fits = self.waiting.is_empty() && self.tx.as_ref().is_some_and(|t| t.can_add());
        if fits {
            Sent::Now(self.add_to_window(now, item))
        } else {
            let deadline = match item {
                Waiting::App(..) => Some(now + self.cfg.timeouts.send),
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
        let mut env = match item {
            Waiting::App(body, relates_to) => {
                let mut env =
                    self.cfg
                        .dialect
                        .data(&self.cfg.to, &self.cfg.action, id, number, ack_requested, body);
                env.addressing.relates_to = relates_to.map(|m| RelatesTo {
                    message_id: m,
                    relationship: None,
                });
                env
            }
            Waiting::Last => {
                self.last = number;
                self.close = Some(Closing::Draining);
                self.cfg
                    .dialect
                    .last_message(&self.cfg.to, id, number, ack_requested)
            }
        };
        if self.cfg.shape.offers() && !self.service {
            // A two-way call: MessageId and ReplyTo, so that the reply can name it.
            let mid = self.message_id();
            env.addressing.reply_to = Some(EndpointReference::new(self.cfg.reply_to.clone()));
            if self.cfg.shape == Shape::RequestReply {
                self.requests.insert(mid.clone(), number);
            }
            env.addressing.message_id = Some(mid);
        }
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
        if let Some(d) = self.inbound.as_mut() {
            // ReliableDuplexSessionChannel.OnClosing cancels the acknowledgement timer: while
            // closing only immediate acks (and acks riding on messages) go out.
            d.stop_ack_timer(now);
        }
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
        self.return_deadline = self.close_deadline.filter(|_| self.inbound_alive());
        self.close_deadline = None;
        self.waiting.clear();
        self.timers = Timers::default();
        if self.inbound_alive() && !self.service {
            // The session lives on until the return sequence ends: its one timer keeps running.
            self.timers
                .set(Timer::Inactivity, now + self.settings.inactivity_timeout);
        } else if let (SourceState::Faulted(_), Some(d)) = (&self.state, self.inbound.as_mut()) {
            // One session: a fault ends the return sequence too, without a message of its own.
            d.end(super::DestinationState::Faulted(FaultCause::Remote));
        }
    }

    /// Close's timeout ran out while the return sequence was still open. Complete up to the
    /// service's LastMessage, only its TerminateSequence is missing: over net.tcp the session's
    /// end (the connection closing) completes the input, so Close returns. Otherwise Close times
    /// out and the session faults.
    fn return_sequence_timed_out(&mut self, now: Time) {
        self.return_deadline = None;
        let Some(d) = self.inbound.as_mut() else { return };
        if d.all_added() {
            d.end(super::DestinationState::Terminated);
            return;
        }
        d.end(super::DestinationState::Faulted(FaultCause::CloseTimeout));
        self.emit(
            now,
            EventKind::Fault {
                code: RmFault::SequenceTerminated,
                cause: FaultCause::CloseTimeout,
            },
        );
        self.state = SourceState::Faulted(FaultCause::CloseTimeout);
        self.timers = Timers::default();
    }

    /// An acknowledgement WCF rejects: InvalidAcknowledgement to the destination, and the
    /// session faults.
    fn invalid_acknowledgement(&mut self, now: Time) {
        let reason = FaultCause::InvalidAcknowledgement.text().to_string();
        self.fault(
            now,
            FaultCause::InvalidAcknowledgement,
            RmFault::InvalidAcknowledgement,
            Some((FaultCode::Sender, reason)),
        );
    }

    /// The other half of the session faulted: this one ends with it, sending nothing.
    pub(crate) fn fail(&mut self, now: Time, cause: FaultCause) {
        self.fault(now, cause, RmFault::SequenceTerminated, None);
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
        if !self.service && matches!(self.state, SourceState::Open | SourceState::Closing) {
            let at = now + self.poll_interval();
            self.timers.set(Timer::KeepAlive, at);
        }
    }

    /// Something arrived for this sequence: restart the inactivity timer and the poll
    /// (ChannelReliableSession.OnRemoteActivity / ClientReliableSession.OnRemoteActivity).
    fn remote_activity(&mut self, now: Time) {
        if self.service {
            return;
        }
        if self.inbound_alive() {
            self.timers
                .set(Timer::Inactivity, now + self.settings.inactivity_timeout);
            return;
        }
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
        self.handle_response(now, env, None);
    }

    /// A message that is the transport's response to the request with MessageID `answers`
    /// (HTTP pairs them; a request-reply service's bare ack names no request of its own).
    pub fn handle_response(&mut self, now: Time, env: Envelope, answers: Option<&Text>) {
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
        let for_inbound = self
            .inbound
            .as_ref()
            .is_some_and(|d| names_sequence(&env, d.identifier()));
        if ack.is_none() && !is_close_response && !is_terminate_response && !for_inbound {
            return;
        }
        let is_reply = env
            .sequence
            .as_ref()
            .zip(self.inbound.as_ref())
            .is_some_and(|(s, d)| s.identifier == *d.identifier());
        if self.cfg.shape == Shape::RequestReply && is_reply && ack.is_none() && !self.output_finished() {
            // ReliableRequestSessionChannel.ProcessReply: a reply must acknowledge its request.
            let reason = FaultCause::ReplyMissingAcknowledgement.text().to_string();
            self.fault(
                now,
                FaultCause::ReplyMissingAcknowledgement,
                RmFault::SequenceTerminated,
                Some((FaultCode::Sender, reason)),
            );
            return;
        }
        self.remote_activity(now);
        // The return sequence first: a reply's ack may end this sequence, and what follows
        // (TerminateSequence) must already acknowledge the reply.
        if for_inbound && let Some(d) = self.inbound.as_mut() {
            d.handle_incoming(now, env.clone());
            // An immediate ack is built after the dispatch hands the message to the waiting
            // caller (ProcessDuplexMessage: Dispatch, then tryAckNow): at `receive`.
            self.take_inbound_output(now, false);
            let Some(d) = self.inbound.as_ref() else { return };
            if let super::DestinationState::Faulted(_) = d.state
                && !self.output_finished()
            {
                // The return sequence's fault is the session's.
                self.emit(
                    now,
                    EventKind::Fault {
                        code: RmFault::SequenceTerminated,
                        cause: FaultCause::Remote,
                    },
                );
                self.finish(now, SourceState::Faulted(FaultCause::Remote));
            }
        }
        if self.is_finished() {
            return;
        }
        if let Some(ack) = ack
            && !self.output_finished()
        {
            if self.cfg.shape == Shape::RequestReply {
                self.on_reply_ack(now, &env, &ack, answers);
            } else {
                self.on_ack(now, &ack);
            }
        }
        if self.output_finished() && !self.inbound_alive() {
            return;
        }
        if is_close_response && matches!(self.close, Some(Closing::CloseSent(_))) {
            self.on_close_response(now, env.acks.first());
        } else if is_terminate_response && matches!(self.close, Some(Closing::TerminateSent(_))) {
            self.finish(now, SourceState::Closed);
        }
    }

    /// Request-reply: a request counts as transferred only when its own reply arrives with an
    /// ack naming it; other numbers in the ack are only checked (ReliableOutputConnection
    /// .ProcessTransferred(Int64, ...): "state may not align with acks").
    fn on_reply_ack(
        &mut self,
        now: Time,
        env: &Envelope,
        ack: &SequenceAcknowledgement,
        answers: Option<&Text>,
    ) {
        let Some(tx) = self.tx.as_ref() else { return };
        // The request it answers: named in RelatesTo, or paired by the transport.
        let request = env
            .addressing
            .relates_to
            .as_ref()
            .map(|r| &r.message_id)
            .or(answers)
            .cloned();
        let Some(number) = request.as_ref().and_then(|m| self.requests.get(m).copied()) else {
            return; // a poll's answer, or a reply to a request transferred already
        };
        // The reply's ack must name its request and nothing unsent
        // (ReliableRequestSessionChannel.ProcessReply → InvalidAcknowledgement).
        let ranges = ack.content.ranges();
        let unsent = ranges.iter().any(|r| r.upper.get() > tx.last_sent());
        if unsent || !ranges.iter().any(|r| r.contains(number)) {
            self.invalid_acknowledgement(now);
            return;
        }
        if let Some(m) = &request {
            self.requests.remove(m);
        }
        let Some(tx) = self.tx.as_mut() else { return };
        let outcome = tx.on_transferred(number, ack.buffer_remaining, now);
        self.after_ack(now, outcome);
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
        if let Some(offered) = self.offer_id.clone() {
            let accept = match &env.body {
                Body::CreateSequenceResponse(csr) => csr.accept.is_some(),
                _ => false,
            };
            if !accept {
                // ClientReliableSession.ProcessCreateSequenceResponse: CSResponseWithoutOffer.
                self.id = Some(id);
                // …and tells the service with a SequenceTerminated for the new sequence.
                let reason = FaultCause::OfferRefused.text().to_string();
                self.fault(
                    now,
                    FaultCause::OfferRefused,
                    RmFault::SequenceTerminated,
                    Some((FaultCode::Sender, reason)),
                );
                return;
            }
            let mut d = Destination::new(
                now,
                self.settings.clone(),
                self.cfg.dialect.clone(),
                offered,
                self.cfg.to.clone(),
            )
            .with_shape(self.cfg.shape)
            .without_session_timer();
            d.detailed_events = self.detailed_events;
            self.inbound = Some(d);
        }
        self.id = Some(id);
        self.start_transfer(rtt0);
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
        self.after_ack(now, outcome);
    }

    /// What follows an acknowledgement: RTT events, the retransmission timer, resends, blocked
    /// sends, the close.
    fn after_ack(&mut self, now: Time, outcome: super::transmission::AckOutcome) {
        let Some(tx) = self.tx.as_mut() else { return };
        if outcome.invalid {
            self.invalid_acknowledgement(now);
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
            self.invalid_acknowledgement(now);
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
            && Some(theirs) != self.offer_id.as_ref()
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
        if self.return_deadline.is_some_and(|d| d <= now) && self.inbound_alive() {
            self.return_sequence_timed_out(now);
            return;
        }
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
        if let Some(d) = self.inbound.as_mut()
            && d.poll_timeout().is_some_and(|t| t <= now)
        {
            d.handle_timeout(now);
            self.take_inbound_output(now, true);
        }
    }

    /// What the return sequence built (acks sent at once, close responses, faults) joins this
    /// endpoint's queue in the order it was built: one connection, one order.
    fn take_inbound_output(&mut self, now: Time, with_owed_acks: bool) {
        let Some(d) = self.inbound.as_mut() else { return };
        if with_owed_acks {
            d.send_deferred_acks(now);
        }
        while let Some(env) = d.poll_transmit(now) {
            self.out.push_back(Outgoing::Envelope(Box::new(env)));
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

    pub fn poll_transmit(&mut self, now: Time) -> Option<Envelope> {
        while let Some(next) = self.out.pop_front() {
            let mut env = match next {
                Outgoing::Envelope(e) => *e,
                Outgoing::Buffered(n) => match self.tx.as_ref().and_then(|t| t.slot(n)) {
                    Some(slot) => slot.envelope.clone(),
                    None => continue,
                },
            };
            self.stamp_return_ack(&mut env, now);
            return Some(env);
        }
        // What the return sequence sends on its own: acks owed after the dispatch, close
        // responses, faults.
        let d = self.inbound.as_mut()?;
        d.send_deferred_acks(now);
        d.poll_transmit(now)
    }

    /// Puts the return sequence's ack on a message leaving this sequence: over duplex on
    /// sequenced messages while acks are pending (AddPendingAcknowledgements); a request-reply
    /// client on every request once a reply arrived, without BufferRemaining
    /// (ReliableRequestSessionChannel.OnConnectionSend / AddAcknowledgementHeader).
    fn stamp_return_ack(&mut self, env: &mut Envelope, now: Time) {
        let Some(d) = self.inbound.as_mut() else { return };
        let ack = match d.policy() {
            AckPolicy::Piggyback if env.sequence.is_some() => d.take_pending_ack(now),
            AckPolicy::Owner if d.has_received() => {
                let mut ack = d.ack_header();
                ack.buffer_remaining = None;
                let closing = matches!(
                    self.close,
                    Some(Closing::CloseSent(_) | Closing::TerminateSent(_))
                );
                ack.final_ack = closing && self.settings.reliable_messaging_version == RmVersion::V1_1;
                Some(ack)
            }
            _ => None,
        };
        env.acks.extend(ack);
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        let draining = matches!(self.close, Some(Closing::LastPending | Closing::Draining));
        let close = self
            .close_deadline
            .filter(|_| draining)
            .or(self.return_deadline.filter(|_| self.inbound_alive()));
        // FIFO with one sendTimeout: the first deadline is the earliest.
        let send = self.waiting.iter().find_map(|(_, d)| *d);
        let mut next = self.timers.next();
        let inbound = self.inbound.as_ref().and_then(|d| d.poll_timeout());
        for t in [close, send, inbound].into_iter().flatten() {
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
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        self.inbound.as_mut()?.poll_event()
    }
}

/// Whether a message is for a sequence as its destination sees it: a message of it, an
/// AckRequested, its close or terminate, or a fault naming it.
pub(crate) fn names_sequence(env: &Envelope, id: &Text) -> bool {
    env.sequence.as_ref().is_some_and(|s| s.identifier == *id)
        || env.ack_requested.iter().any(|a| a.identifier == *id)
        || match &env.body {
            Body::CloseSequence(e) | Body::TerminateSequence(e) => e.identifier == *id,
            Body::Fault(f) => f.identifier.as_ref() == Some(id),
            _ => false,
        }
}
