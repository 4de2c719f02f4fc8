//! The RM destination of one sequence: accepts, buffers and delivers messages, and decides
//! when to acknowledge (WCF ReliableInputConnection, DeliveryStrategy and the input session
//! channels' ProcessMessage).

use super::Timers;
use super::event::EngineEvent;
use super::messages::Dialect;
use super::settings::{Settings, timespan};
use super::shape::Shape;
use crate::ranges::Ranges;
use crate::trace::{EventKind, FaultCause, Time, Timer};
use crate::wsrm::*;
use std::collections::{BTreeMap, VecDeque};

/// In unordered mode an ack lists at most this many ranges; a message that would make more
/// is dropped unacknowledged (ReliableMessagingConstants.MaxSequenceRanges).
pub const MAX_SEQUENCE_RANGES: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestinationState {
    Open,
    /// 1.1 CloseSequence received: no new messages.
    Closed,
    Terminated,
    Faulted(FaultCause),
}

/// How this destination's acknowledgements leave: decided by the session shape and by which
/// end the destination is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckPolicy {
    /// Acks are messages of their own: at once when asked, else after acknowledgementInterval
    /// (ReliableInputSessionChannelOverDuplex).
    Standalone,
    /// Every request is answered at once by an ack on its HTTP response
    /// (ReliableInputSessionChannelOverReply).
    EveryRequest,
    /// Duplex: an ack rides on the next message of the other sequence when there is one; an
    /// immediate ack waits until the message was dispatched and is skipped if one rode out
    /// meanwhile (ReliableDuplexSessionChannel.ProcessDuplexMessage, AddPendingAcknowledgements).
    Piggyback,
    /// Request-reply: the owner stamps the current ack on what it sends (the client on its
    /// requests, the service on its replies); the destination never sends one itself
    /// (ReliableRequestSessionChannel.OnConnectionSend, ReliableReplySessionChannel.PrepareReply).
    Owner,
}

pub struct Destination {
    settings: Settings,
    dialect: Dialect,
    id: Text,
    /// Where acknowledgements go (the CreateSequence's AcksTo).
    acks_to: Text,
    pub state: DestinationState,
    ranges: Ranges,
    /// Ordered mode: the next number the application gets.
    next: u64,
    /// Ordered mode: arrived out of order, waiting for the gap to fill.
    held: BTreeMap<u64, AppBody>,
    /// Ready for the application, not yet taken.
    ready: VecDeque<(u64, AppBody)>,
    /// Accepted since the last acknowledgement.
    pending_acks: u32,
    advertised_zero: bool,
    /// The last message number, once known (LastMessage, CloseSequence, TerminateSequence).
    last: u64,
    /// Whether `last` is known — also for an empty 1.1 sequence, whose last is 0
    /// (ReliableInputConnection.IsLastKnown).
    last_known: bool,
    timers: Timers,
    out: VecDeque<Envelope>,
    events: VecDeque<EngineEvent>,
    /// Emit buffer, delivery and timer events (off: only open/close/fault).
    pub detailed_events: bool,
    shape: Shape,
    policy: AckPolicy,
    /// Whether this destination runs the session's inactivity timer (false when the other
    /// half of its endpoint does: WCF keeps one timer per session, ChannelReliableSession).
    session_timer: bool,
    /// Bumped by every ack sent, on its own or riding (ReliableDuplexSessionChannel.ackVersion,
    /// starting at 1).
    ack_version: u64,
    /// Piggyback: immediate acks owed once the message is dispatched, each with the ack version
    /// when its message was enqueued (0: always owed — a duplicate or a bare AckRequested).
    deferred: Vec<u64>,
    in_order_only: bool,
    /// Closing: the acknowledgement timer is no longer armed.
    closing: bool,
}

impl Destination {
    pub fn new(now: Time, settings: Settings, dialect: Dialect, id: Text, acks_to: Text) -> Self {
        let mut d = Destination {
            settings,
            dialect,
            id,
            acks_to,
            state: DestinationState::Open,
            ranges: Ranges::new(),
            next: 1,
            held: BTreeMap::new(),
            ready: VecDeque::new(),
            pending_acks: 0,
            advertised_zero: false,
            last: 0,
            last_known: false,
            timers: Timers::default(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            detailed_events: true,
            shape: Shape::default(),
            policy: AckPolicy::Standalone,
            session_timer: true,
            ack_version: 1,
            deferred: Vec::new(),
            in_order_only: false,
            closing: false,
        };
        // ServerReliableSession.Open starts the inactivity timer when the channel is created.
        d.timers
            .set(Timer::Inactivity, now + d.settings.inactivity_timeout);
        d
    }

    pub fn with_shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self.policy = match shape {
            Shape::OneWayOverDuplex => AckPolicy::Standalone,
            Shape::OneWayOverRequest => AckPolicy::EveryRequest,
            Shape::Duplex => AckPolicy::Piggyback,
            Shape::RequestReply => AckPolicy::Owner,
        };
        self
    }

    /// The half of an endpoint whose other half runs the session timer (the client's return
    /// sequence): no inactivity timer of its own.
    pub fn without_session_timer(mut self) -> Self {
        self.session_timer = false;
        self.timers.clear(Timer::Inactivity);
        self
    }

    /// Something arrived for the session (either of its sequences): restart the inactivity
    /// timer (ChannelReliableSession.OnRemoteActivity).
    pub fn note_activity(&mut self, now: Time) {
        if self.session_timer && !self.is_finished() {
            self.timers
                .set(Timer::Inactivity, now + self.settings.inactivity_timeout);
        }
    }

    /// The last message number is known and everything up to it arrived (2005/02 LastMessage
    /// or 1.1 close): the sequence is complete.
    pub fn all_added(&self) -> bool {
        self.last_known && (self.last == 0 || self.ranges.is_exactly_one_to(self.last))
    }

    /// Piggyback: the ack for messages not yet acknowledged, to ride on an outgoing message
    /// of the other sequence; cancels the acknowledgement timer (AddPendingAcknowledgements).
    pub fn take_pending_ack(&mut self, now: Time) -> Option<SequenceAcknowledgement> {
        if self.pending_acks == 0 || self.is_finished() {
            return None;
        }
        self.pending_acks = 0;
        self.ack_version += 1;
        self.cancel_ack_timer(now);
        Some(self.ack_header())
    }

    /// Piggyback: sends the immediate acks still owed after the dispatch, unless an ack rode
    /// out since their message was enqueued (ProcessDuplexMessage: oldAckVersion check).
    pub fn send_deferred_acks(&mut self, now: Time) {
        for old in std::mem::take(&mut self.deferred) {
            if old != 0 && old != self.ack_version || self.is_finished() {
                continue;
            }
            self.send_ack(now);
        }
    }

    /// Only the next number in order is accepted; an early one is dropped unacknowledged
    /// (the request-reply service: DeliveryStrategy with isEnqueueInOrder).
    pub fn set_in_order_only(&mut self) {
        self.in_order_only = true;
    }

    pub fn policy(&self) -> AckPolicy {
        self.policy
    }

    /// The session ended elsewhere (its other half faulted, or Close gave up waiting): this half
    /// ends too, quietly — no timer of it fires any more.
    pub fn end(&mut self, state: DestinationState) {
        self.state = state;
        self.timers = Timers::default();
        self.deferred.clear();
    }

    fn cancel_ack_timer(&mut self, now: Time) {
        if self.timers.get(Timer::Acknowledgement).is_some() {
            self.timers.clear(Timer::Acknowledgement);
            self.emit(
                now,
                EventKind::TimerStopped {
                    timer: Timer::Acknowledgement,
                },
            );
        }
    }

    /// The channel is closing: no acknowledgement waits for the timer any more
    /// (ReliableDuplexSessionChannel.OnClosing).
    pub fn stop_ack_timer(&mut self, now: Time) {
        self.closing = true;
        self.cancel_ack_timer(now);
    }

    /// Whether anything has arrived (an ack would name at least one message).
    pub fn has_received(&self) -> bool {
        !self.ranges.is_empty()
    }

    pub fn identifier(&self) -> &Text {
        &self.id
    }

    pub fn acks_to(&self) -> &Text {
        &self.acks_to
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            DestinationState::Terminated | DestinationState::Faulted(_)
        )
    }

    /// Messages held for the application (delivered-not-taken plus out-of-order).
    pub fn enqueued(&self) -> usize {
        self.ready.len() + self.held.len()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn received(&self) -> &Ranges {
        &self.ranges
    }

    fn emit(&mut self, time: Time, kind: EventKind) {
        if !self.detailed_events && !kind.is_lifecycle() {
            return;
        }
        self.events.push_back(EngineEvent {
            time,
            seq: Some(self.id.clone()),
            kind,
        });
    }

    /// BufferRemaining = maxTransferWindowSize − messages queued for the application
    /// (ReliableInputSessionChannel: `MaxTransferWindowSize - deliveryStrategy.EnqueuedCount`).
    fn buffer_remaining(&self) -> Option<u32> {
        self.settings.flow_control_enabled.then(|| {
            self.settings
                .max_transfer_window_size
                .saturating_sub(self.enqueued() as u32)
        })
    }

    fn buffer_event(&mut self, now: Time) {
        if !self.detailed_events {
            return;
        }
        let kind = EventKind::Buffer {
            queued: self.enqueued().min(u16::MAX as usize) as u16,
            buffer_remaining: self.buffer_remaining().map_or(-1, |b| b as i32),
        };
        self.emit(now, kind);
    }

    /// The acknowledgement header as of now (final once the last number is known, 1.1).
    pub fn ack_header(&mut self) -> SequenceAcknowledgement {
        let br = self.buffer_remaining();
        self.advertised_zero = br == Some(0);
        self.dialect
            .ack_header(&self.id, self.ranges.to_ack_ranges(), self.last_known, br)
    }

    /// Sends an acknowledgement, built now: one per trigger, and before the message that
    /// triggered it is dispatched, so BufferRemaining still counts that message
    /// (ReliableInputSessionChannelOverDuplex.ProcessMessage: CreateAcknowledgmentMessage and
    /// Binder.Send come before Dispatch; the InputQueue counts an item until a reader takes it).
    fn send_ack(&mut self, now: Time) {
        self.pending_acks = 0;
        self.ack_version += 1;
        self.timers.clear(Timer::Acknowledgement);
        let ack = self.ack_header();
        self.buffer_event(now);
        let env = self.dialect.ack(&self.acks_to, ack);
        self.out.push_back(env);
    }

    /// The session refuses what the peer asked (its owner found the reason): a WS-RM fault to
    /// the peer, and this half faults.
    pub fn refuse(&mut self, now: Time, cause: FaultCause) {
        self.fault(
            now,
            cause,
            RmFault::SequenceTerminated,
            FaultCode::Sender,
            cause.text(),
        );
    }

    fn fault(&mut self, now: Time, cause: FaultCause, code: RmFault, soap: FaultCode, reason: &str) {
        if self.is_finished() {
            return;
        }
        let env = self
            .dialect
            .fault(&self.acks_to, soap, code, None, reason, Some(&self.id.clone()));
        self.out.push_back(env);
        self.emit(now, EventKind::Fault { code, cause });
        self.state = DestinationState::Faulted(cause);
        self.timers = Timers::default();
    }

    /// A message for this sequence arrived (already routed by identifier).
    pub fn handle_incoming(&mut self, now: Time, env: Envelope) {
        if self.is_finished() {
            return;
        }
        // Any valid message restarts the inactivity timer (OnRemoteActivity).
        self.note_activity(now);
        let mut ack_now = env.ack_requested.iter().any(|a| a.identifier == self.id);
        // The ack version when the message was enqueued; 0 when nothing was (a bare
        // AckRequested, a duplicate): such an immediate ack is always owed.
        let mut enqueued_at = 0;
        if let Some(seq) = env.sequence.as_ref().filter(|s| s.identifier == self.id) {
            let number = seq.message_number.get();
            let is_last = seq.last_message || env.rm_action() == Some(RmAction::LastMessage);
            let body = match &env.body {
                Body::Application(app) => Some(app.clone()),
                _ => None,
            };
            let pending_before = self.pending_acks;
            match self.on_sequence_message(now, number, is_last, body) {
                Some(now_please) => ack_now |= now_please,
                None => return,
            }
            if self.pending_acks > pending_before {
                enqueued_at = self.ack_version;
            }
        }
        match &env.body {
            Body::CloseSequence(end) if end.identifier == self.id => {
                self.on_close(now, end.last_msg_number, env.addressing.message_id.clone());
                return;
            }
            Body::TerminateSequence(end) if end.identifier == self.id => {
                self.on_terminate(now, end.last_msg_number, env.addressing.message_id.clone());
                return;
            }
            Body::Fault(f) if f.identifier.as_ref().is_none_or(|i| *i == self.id) => {
                let code = f.rm_fault.unwrap_or(RmFault::SequenceTerminated);
                self.emit(
                    now,
                    EventKind::Fault {
                        code,
                        cause: FaultCause::Remote,
                    },
                );
                self.state = DestinationState::Faulted(FaultCause::Remote);
                self.timers = Timers::default();
                return;
            }
            _ => {}
        }
        if self.is_finished() {
            return;
        }
        // Ack at once on AckRequested, a duplicate, a known last message, or a full window
        // of unacknowledged arrivals; otherwise after acknowledgementInterval. Over
        // request-reply every request is answered with an ack, built before the message is
        // dispatched (ReliableInputSessionChannelOverReply.ProcessMessage: `message == null`
        // ⇒ CreateAcknowledgmentMessage, then context.Reply); acknowledgementInterval is unused.
        let window_full = self.pending_acks >= self.settings.max_transfer_window_size;
        let immediate = ack_now || self.last_known || window_full;
        match self.policy {
            AckPolicy::Owner => return,
            AckPolicy::EveryRequest => return self.send_ack(now),
            AckPolicy::Standalone if immediate => return self.send_ack(now),
            AckPolicy::Piggyback if immediate => self.deferred.push(enqueued_at),
            AckPolicy::Standalone | AckPolicy::Piggyback => {}
        }
        // Duplex arms the timer for an immediate ack too (startTimer = tryAckNow || pending).
        let arm =
            !self.closing && (self.pending_acks > 0 || (immediate && self.policy == AckPolicy::Piggyback));
        if arm && self.timers.get(Timer::Acknowledgement).is_none() {
            // The timer is not restarted by later messages (acknowledgementScheduled).
            let at = now + self.settings.acknowledgement_interval;
            self.timers.set(Timer::Acknowledgement, at);
            self.emit(
                now,
                EventKind::TimerArmed {
                    timer: Timer::Acknowledgement,
                    at,
                },
            );
        }
    }

    /// `Some(true)` when the message calls for an immediate ack (duplicate, LastMessage);
    /// `None` when it was answered already (a fault) and nothing else should follow.
    fn on_sequence_message(
        &mut self,
        now: Time,
        number: u64,
        is_last: bool,
        body: Option<AppBody>,
    ) -> Option<bool> {
        match self.settings.reliable_messaging_version {
            RmVersion::Feb2005 => {
                // ReliableInputConnection.IsValid (2005/02): nothing beyond the LastMessage.
                let valid = if is_last {
                    if self.last == 0 {
                        number > self.ranges.highest()
                    } else {
                        number == self.last
                    }
                } else {
                    self.last == 0 || number < self.last
                };
                if !valid {
                    self.fault(
                        now,
                        FaultCause::LastMessageNumberExceeded,
                        RmFault::LastMessageNumberExceeded,
                        FaultCode::Sender,
                        FaultCause::LastMessageNumberExceeded.text(),
                    );
                    return None;
                }
            }
            RmVersion::V1_1 => {
                if self.state == DestinationState::Closed && !self.ranges.contains(number) {
                    // 1.1 §3.5: after CloseSequence, SequenceClosed with the final ack; the
                    // session itself carries on.
                    let ack = self.ack_header();
                    let mut env = self.dialect.fault(
                        &self.acks_to,
                        FaultCode::Sender,
                        RmFault::SequenceClosed,
                        None,
                        FaultCause::SequenceClosed.text(),
                        Some(&self.id.clone()),
                    );
                    env.acks.push(ack);
                    self.out.push_back(env);
                    return None;
                }
            }
        }
        if self.ranges.contains(number) {
            self.emit(now, EventKind::Duplicate { number });
            return Some(true);
        }
        if is_last && self.settings.reliable_messaging_version == RmVersion::Feb2005 {
            // LastMessage: merged, not delivered, acked at once.
            self.ranges.insert(number);
            self.last = number;
            self.last_known = true;
            return Some(true);
        }
        if !self.can_enqueue(number) {
            self.emit(now, EventKind::Discarded { number });
            return Some(false);
        }
        self.ranges.insert(number);
        self.pending_acks += 1;
        let body = body.unwrap_or_else(|| {
            AppBody::new(
                ExpandedName {
                    namespace: None,
                    local: "".into(),
                },
                bytes::Bytes::new(),
                Vec::new(),
            )
        });
        if self.settings.ordered {
            if number == self.next {
                // In order (the common case): straight to the application's queue.
                self.ready.push_back((number, body));
                self.next += 1;
            } else {
                self.held.insert(number, body);
            }
            while let Some(b) = self.held.remove(&self.next) {
                self.ready.push_back((self.next, b));
                self.next += 1;
            }
        } else {
            self.ready.push_back((number, body));
        }
        self.buffer_event(now);
        Some(false)
    }

    /// DeliveryStrategy.CanEnqueue: ordered — the queue holds at most maxTransferWindowSize and
    /// an out-of-order arrival must fit in it; unordered — room in the queue and at most 128
    /// ack ranges (ReliableInputConnection.CanMerge).
    fn can_enqueue(&self, number: u64) -> bool {
        let quota = self.settings.max_transfer_window_size as u64;
        if self.enqueued() as u64 >= quota {
            return false;
        }
        if self.settings.ordered && self.in_order_only {
            number == self.next
        } else if self.settings.ordered {
            (self.ready.len() as u64).saturating_add(number - self.next.min(number)) < quota
        } else {
            self.ranges.len_after_insert(number) <= MAX_SEQUENCE_RANGES
        }
    }

    /// The application takes the next message. If the last ack advertised a full buffer, a
    /// fresh ack goes out at once (OnDeliveryStrategyItemDequeued).
    pub fn receive(&mut self, now: Time) -> Option<(u64, AppBody)> {
        let (number, body) = self.ready.pop_front()?;
        self.emit(now, EventKind::Delivered { number });
        self.buffer_event(now);
        // Over request-reply it cannot: the source learns of room at its next poll.
        if self.advertised_zero && !self.is_finished() && self.shape.destination_can_push() {
            self.send_ack(now);
        }
        Some((number, body))
    }

    fn on_close(&mut self, now: Time, last: Option<MessageNumber>, message_id: Option<Text>) {
        let last = last.map_or(0, |n| n.get());
        // SetCloseSequenceLast: LastMsgNumber may not be below what arrived.
        if last > 0 && last < self.ranges.highest() {
            self.fault(
                now,
                FaultCause::LastMsgNumberTooSmall,
                RmFault::SequenceTerminated,
                FaultCode::Sender,
                FaultCause::LastMsgNumberTooSmall.text(),
            );
            return;
        }
        self.last = if last > 0 { last } else { self.ranges.highest() };
        self.last_known = true;
        self.state = DestinationState::Closed;
        let ack = self.ack_header();
        let env = self.dialect.sequence_end_response(
            &self.acks_to,
            RmAction::CloseSequenceResponse,
            &self.id.clone(),
            message_id,
            ack,
        );
        self.out.push_back(env);
        self.emit(now, EventKind::Closed);
    }

    fn on_terminate(&mut self, now: Time, last: Option<MessageNumber>, message_id: Option<Text>) {
        match self.settings.reliable_messaging_version {
            RmVersion::Feb2005 => {
                // 2005/02: terminating before 1..last all arrived faults the sequence.
                if self.last == 0 || !self.ranges.is_exactly_one_to(self.last) {
                    self.fault(
                        now,
                        FaultCause::TerminatedEarly,
                        RmFault::SequenceTerminated,
                        FaultCode::Sender,
                        FaultCause::TerminatedEarly.text(),
                    );
                    return;
                }
            }
            RmVersion::V1_1 => {
                if !self.last_known {
                    self.last = last.map_or(self.ranges.highest(), |n| n.get());
                    self.last_known = true;
                }
                let ack = self.ack_header();
                let env = self.dialect.sequence_end_response(
                    &self.acks_to,
                    RmAction::TerminateSequenceResponse,
                    &self.id.clone(),
                    message_id,
                    ack,
                );
                self.out.push_back(env);
            }
        }
        self.emit(now, EventKind::Terminated);
        self.state = DestinationState::Terminated;
        self.timers = Timers::default();
    }

    pub fn handle_timeout(&mut self, now: Time) {
        while let Some(timer) = self.timers.expired(now) {
            self.emit(now, EventKind::TimerFired { timer });
            match timer {
                Timer::Acknowledgement => self.send_ack(now),
                Timer::Inactivity if !self.shape.destination_can_push() => {
                    // Nobody asked: the fault stays local (OverReply only answers requests).
                    let cause = FaultCause::InactivityTimeout;
                    let code = RmFault::SequenceTerminated;
                    self.emit(now, EventKind::Fault { code, cause });
                    self.state = DestinationState::Faulted(cause);
                    self.timers = Timers::default();
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
                        FaultCode::Receiver,
                        &reason,
                    );
                }
                _ => {}
            }
        }
    }

    pub fn poll_transmit(&mut self, _now: Time) -> Option<Envelope> {
        self.out.pop_front()
    }
    pub fn poll_timeout(&self) -> Option<Time> {
        self.timers.next()
    }
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }
}
