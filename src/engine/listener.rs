//! The service side: answers CreateSequence, holds sessions until the application accepts
//! them (maxPendingChannels), routes messages to their destination by identifier
//! (WCF ReliableChannelListener). A session of a shape with an offer also owns the offered
//! sequence: over duplex an RM source (ServerReliableDuplexSessionChannel), over request-reply
//! the reply cache (ReliableReplySessionChannel).

use super::destination::{AckPolicy, Destination, DestinationState};
use super::event::{EngineEvent, SendError};
use super::messages::{Dialect, uuid_urn};
use super::replies::{Repeat, ReplyCache};
use super::settings::{BindingTimeouts, Settings, SettingsError};
use super::shape::Shape;
use super::source::{Source, SourceConfig, names_sequence};
use crate::trace::{EventKind, FaultCause, Time};
use crate::wsrm::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

/// The service's half of the offered sequence of one session.
enum Output {
    /// One-way shapes: nothing goes back but acks.
    None,
    Duplex(Box<Source>),
    Replies(ReplyCache),
}

/// Per session: the offered sequence, the requests' MessageIds (for RelatesTo) and whether the
/// service has begun closing its side.
struct Back {
    output: Output,
    request_ids: HashMap<u64, Text>,
    /// Delivered two-way requests whose reply the application still owes.
    owed: u32,
    closing: bool,
    /// Duplex: the close was scheduled (ShutdownCallback runs after the message that completed
    /// the input was acknowledged) and starts at the next transmit.
    close_due: bool,
}

pub struct Listener {
    settings: Settings,
    dialect: Dialect,
    /// The service's address (for faults that cannot go to an AcksTo).
    address: Text,
    rng: Pcg64Mcg,
    sessions: Vec<Destination>,
    by_id: HashMap<Text, usize>,
    /// Sessions created but not yet accepted by the application.
    pending: VecDeque<usize>,
    accepted: Vec<usize>,
    /// What the listener itself sends, each with the MessageID of the request it answers when
    /// only the transport pairs them (a request-reply service's bare ack: the HTTP response).
    out: VecDeque<(Envelope, Option<Text>)>,
    events: VecDeque<EngineEvent>,
    /// Round-robin position for `receive`.
    next_receive: usize,
    detailed_events: bool,
    shape: Shape,
    /// Parallel to `sessions`.
    backs: Vec<Back>,
    /// Sessions by the identifier they offered (a repeated CreateSequence finds its session).
    by_offer: HashMap<Text, usize>,
    /// The application answers requests (two-way operations); else a request-reply service
    /// answers each request with a bare ack (a one-way operation).
    two_way: bool,
    timeouts: BindingTimeouts,
    reply_action: Text,
}

impl Listener {
    pub fn new(
        settings: Settings,
        dialect: Dialect,
        address: Text,
        seed: u64,
    ) -> Result<Self, SettingsError> {
        settings.validate()?;
        Ok(Listener {
            settings,
            dialect,
            address,
            rng: Pcg64Mcg::seed_from_u64(seed),
            sessions: Vec::new(),
            by_id: HashMap::default(),
            pending: VecDeque::new(),
            accepted: Vec::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            next_receive: 0,
            detailed_events: true,
            shape: Shape::default(),
            backs: Vec::new(),
            by_offer: HashMap::default(),
            two_way: false,
            timeouts: BindingTimeouts::default(),
            reply_action: "http://rmscope.example/Workload/SubmitResponse".into(),
        })
    }

    /// Whether the application answers requests (two-way operations).
    pub fn with_two_way(mut self, on: bool) -> Self {
        self.two_way = on;
        self
    }

    /// The binding's timeouts, for the service's own sequences (duplex).
    pub fn with_timeouts(mut self, timeouts: BindingTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The channel pair its sessions use (one-way over duplex unless told).
    pub fn with_shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    /// Turns buffer, delivery and timer events on or off for every session.
    pub fn set_detailed_events(&mut self, on: bool) {
        self.detailed_events = on;
        for s in &mut self.sessions {
            s.detailed_events = on;
        }
        for b in &mut self.backs {
            if let Output::Duplex(o) = &mut b.output {
                o.set_detailed_events(on);
            }
        }
    }

    /// The offered sequence's identifier of the session whose input is `id`.
    pub fn offered_identifier(&self, id: &str) -> Option<&Text> {
        let i = *self.by_id.get(id)?;
        match &self.backs[i].output {
            Output::Duplex(o) => o.identifier(),
            Output::Replies(r) => Some(r.identifier()),
            Output::None => None,
        }
    }

    pub fn sessions(&self) -> &[Destination] {
        &self.sessions
    }

    pub fn session(&self, id: &str) -> Option<&Destination> {
        self.by_id.get(id).map(|&i| &self.sessions[i])
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// The application accepts the oldest waiting session (IChannelListener.AcceptChannel).
    pub fn accept(&mut self) -> Option<Text> {
        let i = self.pending.pop_front()?;
        self.accepted.push(i);
        Some(self.sessions[i].identifier().clone())
    }

    /// Whether an accepted session has a message ready for the application.
    pub fn has_ready(&self) -> bool {
        self.accepted.iter().any(|&i| self.sessions[i].has_ready())
    }

    /// The application takes the next delivered message of any accepted session.
    pub fn receive(&mut self, now: Time) -> Option<(Text, u64, AppBody)> {
        let n = self.accepted.len();
        for k in 0..n {
            let i = self.accepted[(self.next_receive + k) % n];
            if let Some((number, body)) = self.sessions[i].receive(now) {
                self.next_receive = (self.next_receive + k + 1) % n;
                if self.two_way && self.shape.offers() {
                    self.backs[i].owed += 1;
                }
                let id = self.sessions[i].identifier().clone();
                self.maybe_close_output(i, now);
                return Some((id, number, body));
            }
        }
        None
    }

    pub fn handle_incoming(&mut self, now: Time, env: Envelope) {
        if let Body::CreateSequence(cs) = &env.body {
            self.on_create_sequence(now, &env, cs.acks_to.address.clone());
            return;
        }
        let id = env
            .sequence
            .as_ref()
            .map(|s| &s.identifier)
            .or_else(|| env.ack_requested.first().map(|a| &a.identifier))
            .or(match &env.body {
                Body::CloseSequence(e) | Body::TerminateSequence(e) => Some(&e.identifier),
                Body::Fault(f) => f.identifier.as_ref(),
                Body::CloseSequenceResponse { identifier }
                | Body::TerminateSequenceResponse { identifier } => Some(identifier),
                _ => None,
            })
            // A bare ack for the service's own sequence (duplex).
            .or_else(|| env.acks.first().map(|a| &a.identifier))
            .cloned();
        let Some(id) = id else { return };
        let live = self.by_id.get(&id).copied().filter(|&i| !self.session_done(i));
        match live {
            Some(i) => self.route(i, now, env),
            // A terminated or faulted sequence is forgotten: later messages get UnknownSequence.
            None if !matches!(env.body, Body::Fault(_)) => {
                // ReliableChannelListener: a message for no known sequence.
                let to = env
                    .addressing
                    .reply_to
                    .as_ref()
                    .map_or(self.address.clone(), |r| r.address.clone());
                let f = self.dialect.fault(
                    &to,
                    FaultCode::Sender,
                    RmFault::UnknownSequence,
                    None,
                    FaultCause::UnknownSequence.text(),
                    Some(&id),
                );
                self.out.push_back((f, None));
            }
            None => {}
        }
    }

    fn on_create_sequence(&mut self, now: Time, env: &Envelope, acks_to: Text) {
        let reply_to = env
            .addressing
            .reply_to
            .as_ref()
            .map_or(acks_to.clone(), |r| r.address.clone());
        let relates = env.addressing.message_id.clone();
        let offer = match &env.body {
            Body::CreateSequence(cs) => cs.offer.as_ref().map(|o| o.identifier.clone()),
            _ => None,
        };
        if let Some(&i) = offer.as_ref().and_then(|o| self.by_offer.get(o)) {
            // The same offer again: the session's CreateSequenceResponse again, same identifier
            // (ReliableChannelListener.ProcessCreateSequence finds the channel by its output).
            let id = self.sessions[i].identifier().clone();
            let mut csr =
                self.dialect
                    .create_sequence_response(&reply_to, relates, &id, self.settings.ordered);
            self.dialect.accept(&mut csr, &self.address);
            self.out.push_back((csr, None));
            return;
        }
        if self.shape.offers() && offer.is_none() {
            // WsrmUtilities.ValidateCreateSequence: a duplex or reply listener needs an offer.
            let mut f = self.dialect.fault(
                &reply_to,
                FaultCode::Sender,
                RmFault::CreateSequenceRefused,
                None,
                "The CreateSequence request does not offer a return sequence, which this session \
                 shape requires. The channel could not be opened.",
                None,
            );
            f.addressing.relates_to = relates.map(|m| RelatesTo {
                message_id: m,
                relationship: None,
            });
            self.out.push_back((f, None));
            return;
        }
        // maxPendingChannels: a listener holding that many unaccepted sessions refuses with
        // CreateSequenceRefused / netrm:ConnectionLimitReached, a Receiver fault
        // (ReliableChannelListener.ProcessCreateSequence → CreateCSRefusedServerTooBusyFault).
        // The reason is SR.ServerTooBusy inside SR.CSRefused; SOAP 1.1 has no subcodes, so the
        // faultcode itself is wsrm:CreateSequenceRefused (WsrmUtilities.CreateCSRefusedFault).
        if self.pending.len() >= self.settings.max_pending_channels as usize {
            let reason = format!(
                "The request to create a reliable session has been refused by the RM Destination. \
                 Server '{}' is too busy to process this request. Try again later. \
                 The channel could not be opened.",
                self.address
            );
            // (In the model a SOAP 1.1 RM-QName faultcode is Sender + the RM fault; the
            // encoder writes it as wsrm:CreateSequenceRefused.)
            let code = match self.dialect.soap {
                SoapVersion::V1_1 => FaultCode::Sender,
                SoapVersion::V1_2 => FaultCode::Receiver,
            };
            let mut f = self.dialect.fault(
                &reply_to,
                code,
                RmFault::CreateSequenceRefused,
                Some(NetRmFault::ConnectionLimitReached),
                &reason,
                None,
            );
            f.addressing.relates_to = relates.map(|m| RelatesTo {
                message_id: m,
                relationship: None,
            });
            self.out.push_back((f, None));
            self.events.push_back(EngineEvent {
                time: now,
                seq: None,
                kind: EventKind::Fault {
                    code: RmFault::CreateSequenceRefused,
                    cause: FaultCause::ConnectionLimitReached,
                },
            });
            return;
        }
        // Simplex listeners create a new sequence for every CreateSequence, duplicates too.
        let id = uuid_urn(self.rng.random());
        let mut dest = Destination::new(
            now,
            self.settings.clone(),
            self.dialect.clone(),
            id.clone(),
            acks_to,
        )
        .with_shape(self.shape);
        dest.detailed_events = self.detailed_events;
        if self.shape == Shape::RequestReply {
            // The reply channel enqueues in order only (isEnqueueInOrder): an early request is
            // dropped and must come again.
            dest.set_in_order_only();
        }
        let index = self.sessions.len();
        let output = match (self.shape, offer.clone()) {
            (Shape::Duplex, Some(offered)) => {
                let cfg = SourceConfig {
                    dialect: self.dialect.clone(),
                    to: reply_to.clone(),
                    reply_to: self.address.clone(),
                    action: self.reply_action.clone(),
                    timeouts: self.timeouts.clone(),
                    shape: self.shape,
                    seed: self.rng.random(),
                };
                let mut o = Source::accepted_offer(self.settings.clone(), cfg, offered.clone(), now)
                    .expect("settings validated by Listener::new");
                o.set_detailed_events(self.detailed_events);
                self.by_id.insert(offered, index);
                Output::Duplex(Box::new(o))
            }
            (Shape::RequestReply, Some(offered)) => {
                self.by_id.insert(offered.clone(), index);
                Output::Replies(ReplyCache::new(offered))
            }
            _ => Output::None,
        };
        if let Some(o) = offer {
            self.by_offer.insert(o, index);
        }
        self.by_id.insert(id.clone(), index);
        self.pending.push_back(index);
        self.sessions.push(dest);
        self.backs.push(Back {
            output,
            request_ids: HashMap::default(),
            owed: 0,
            closing: false,
            close_due: false,
        });
        let mut csr = self
            .dialect
            .create_sequence_response(&reply_to, relates, &id, self.settings.ordered);
        if self.shape.offers() {
            self.dialect.accept(&mut csr, &self.address);
        }
        self.out.push_back((csr, None));
        self.events.push_back(EngineEvent {
            time: now,
            seq: Some(id),
            kind: EventKind::Opened,
        });
    }

    pub fn handle_timeout(&mut self, now: Time) {
        for (s, b) in self.sessions.iter_mut().zip(&mut self.backs) {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                s.handle_timeout(now);
            }
            if let Output::Duplex(o) = &mut b.output {
                if o.poll_timeout().is_some_and(|t| t <= now) {
                    o.handle_timeout(now);
                }
                tie_fates(s, o, now);
            }
        }
    }

    pub fn poll_transmit(&mut self, now: Time) -> Option<Envelope> {
        self.poll_transmit_answering(now).map(|(e, _)| e)
    }

    /// The next envelope, and the MessageID of the request it is the response to when nothing
    /// in it says so (a request-reply service's bare ack): what HTTP's request/response pairing
    /// carries, for the driver to pass on (`Source::handle_response`).
    pub fn poll_transmit_answering(&mut self, now: Time) -> Option<(Envelope, Option<Text>)> {
        if let Some(e) = self.out.pop_front() {
            return Some(e);
        }
        self.poll_sessions(now).map(|e| (e, None))
    }

    fn poll_sessions(&mut self, now: Time) -> Option<Envelope> {
        for (s, b) in self.sessions.iter_mut().zip(&mut self.backs) {
            // The offered sequence's messages first, each taking the pending ack with it; then
            // the immediate acks still owed (sent only if none rode out: dispatch comes first).
            if let Output::Duplex(o) = &mut b.output
                && let Some(mut env) = o.poll_transmit(now)
            {
                if env.sequence.is_some() && s.policy() == AckPolicy::Piggyback {
                    env.acks.extend(s.take_pending_ack(now));
                }
                return Some(env);
            }
            s.send_deferred_acks(now);
            if let Some(env) = s.poll_transmit(now) {
                return Some(env);
            }
            if let Output::Duplex(o) = &mut b.output
                && std::mem::take(&mut b.close_due)
            {
                o.close(now);
                if let Some(env) = o.poll_transmit(now) {
                    return Some(env);
                }
            }
        }
        None
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        let inputs = self.sessions.iter().filter_map(|s| s.poll_timeout());
        let outputs = self.backs.iter().filter_map(|b| match &b.output {
            Output::Duplex(o) => o.poll_timeout(),
            _ => None,
        });
        inputs.chain(outputs).min()
    }

    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        for (s, b) in self.sessions.iter_mut().zip(&mut self.backs) {
            if let Some(e) = s.poll_event() {
                return Some(e);
            }
            if let Output::Duplex(o) = &mut b.output
                && let Some(e) = o.poll_event()
            {
                return Some(e);
            }
        }
        None
    }

    /// Both halves of session `i` ended (its input, and its offered sequence if it has one).
    fn session_done(&self, i: usize) -> bool {
        self.sessions[i].is_finished()
            && match &self.backs[i].output {
                Output::Duplex(o) => o.is_finished(),
                _ => true,
            }
    }

    /// A message for session `i`: the offered sequence takes its acks, the input its messages.
    fn route(&mut self, i: usize, now: Time, env: Envelope) {
        let input_id = self.sessions[i].identifier().clone();
        // Any message of the session restarts its one inactivity timer.
        self.sessions[i].note_activity(now);
        let for_input = names_sequence(&env, &input_id);
        match &mut self.backs[i].output {
            Output::None => return self.sessions[i].handle_incoming(now, env),
            Output::Duplex(o) => {
                let out_id = o.identifier().cloned();
                let for_output = env.acks.iter().any(|a| Some(&a.identifier) == out_id.as_ref())
                    || matches!(&env.body,
                        Body::CloseSequenceResponse { identifier } | Body::TerminateSequenceResponse { identifier }
                        if Some(identifier) == out_id.as_ref())
                    // A fault naming the service's own sequence faults the session.
                    || matches!(&env.body, Body::Fault(f) if f.identifier.is_some() && f.identifier == out_id);
                if for_output {
                    if for_input {
                        o.handle_incoming(now, acks_only(&env));
                    } else {
                        o.handle_incoming(now, env.clone());
                    }
                }
                if for_input {
                    self.note_request_id(i, &env);
                    self.sessions[i].handle_incoming(now, env);
                }
                if let Output::Duplex(o) = &mut self.backs[i].output {
                    tie_fates(&mut self.sessions[i], o, now);
                }
            }
            Output::Replies(cache) => {
                let reply_id = cache.identifier().clone();
                if let Some(ack) = env.acks.iter().find(|a| a.identifier == reply_id) {
                    cache.on_ack(ack.content.ranges());
                }
                if for_input {
                    self.request_reply(i, now, env);
                }
            }
        }
        self.maybe_close_output(i, now);
    }

    fn note_request_id(&mut self, i: usize, env: &Envelope) {
        if let (Some(seq), Some(mid)) = (&env.sequence, &env.addressing.message_id) {
            let number = seq.message_number.get();
            if !self.sessions[i].received().contains(number) {
                self.backs[i].request_ids.insert(number, mid.clone());
            }
        }
    }

    /// A request-reply service's answer to one request (ReliableReplySessionChannel
    /// .ProcessRequest / ProcessSequencedMessage): every request gets exactly one response.
    fn request_reply(&mut self, i: usize, now: Time, env: Envelope) {
        let input = &mut self.sessions[i];
        let number = env.sequence.as_ref().map(|s| s.message_number.get());
        let last_message = env.rm_action() == Some(RmAction::LastMessage);
        let terminate = matches!(&env.body, Body::TerminateSequence(_));
        // A poll: AckRequested alone (a CloseSequence, TerminateSequence or fault is answered
        // by the destination itself).
        let poll = number.is_none() && !env.ack_requested.is_empty() && matches!(env.body, Body::Empty);
        let message_id = env.addressing.message_id.clone();
        let before = number.is_some_and(|n| input.received().contains(n));
        // Closing (1.1 CloseSequence, 2005/02 TerminateSequence) needs every reply acknowledged;
        // the request's own ack of the replies was applied already.
        let closing = matches!(&env.body, Body::CloseSequence(_) | Body::TerminateSequence(_));
        let unacked = match &self.backs[i].output {
            Output::Replies(cache) => cache.unacknowledged(),
            _ => 0,
        };
        if closing && unacked > 0 && !input.is_finished() {
            input.note_activity(now);
            input.refuse(now, FaultCause::NotAllRepliesAcknowledged);
            return;
        }
        // A new request while maxTransferWindowSize replies wait for their ack is dropped
        // unanswered (ProcessSequencedMessage: the reply window is full).
        let full = match &self.backs[i].output {
            Output::Replies(cache) => {
                cache.unacknowledged() >= self.settings.max_transfer_window_size as usize
            }
            _ => false,
        };
        if full && number.is_some() && !before && !last_message {
            input.note_activity(now);
            return;
        }
        input.handle_incoming(now, env);
        if let DestinationState::Faulted(_) = input.state {
            return; // the destination answered with its fault
        }
        let after = number.is_some_and(|n| input.received().contains(n));
        let Output::Replies(cache) = &mut self.backs[i].output else {
            return;
        };
        let reply = match number {
            Some(_) if last_message && !before && after => {
                cache.hold_last(message_id);
                return;
            }
            Some(n) if before => match cache.on_repeat(n) {
                Repeat::Resend(rn, body, mid) => Answer::Reply(rn, Some(body), mid, false),
                Repeat::Parked => return,
                Repeat::Ack => Answer::Ack(message_id),
            },
            Some(n) if after => {
                if self.two_way {
                    cache.on_request(n, message_id);
                    return; // answered when the application replies
                }
                Answer::Ack(message_id)
            }
            Some(_) => return, // dropped: the HTTP response is empty, nothing acknowledged
            None if terminate && self.settings.reliable_messaging_version == RmVersion::Feb2005 => {
                // 2005/02: TerminateSequence is answered with the reply sequence's
                // TerminateSequence (ProcessTerminateSequenceFeb2005).
                Answer::Terminate
            }
            None if poll => Answer::Ack(None), // a bare AckRequested: a bare ack
            None => return, // 1.1 close and terminate: the destination answered with the response
        };
        self.answer(i, now, reply);
    }

    /// The application's reply to request `number` of session `id` (a two-way operation).
    pub fn reply(&mut self, now: Time, id: &str, number: u64, body: AppBody) -> Result<(), SendError> {
        let Some(&i) = self.by_id.get(id) else {
            return Err(SendError::Closed);
        };
        let b = &mut self.backs[i];
        b.owed = b.owed.saturating_sub(1);
        let relates = b.request_ids.remove(&number);
        match &mut b.output {
            Output::None => return Err(SendError::Closed),
            Output::Duplex(o) => {
                o.send_reply(now, body, relates)?;
            }
            Output::Replies(cache) => {
                if let Some(made) = cache.reply(number, body.clone()) {
                    for _ in 0..made.copies {
                        let a =
                            Answer::Reply(made.number, Some(body.clone()), made.relates_to.clone(), false);
                        self.answer(i, now, a);
                    }
                }
            }
        }
        self.maybe_close_output(i, now);
        Ok(())
    }

    /// Request-reply: whether the response to the request with this MessageId is still owed
    /// (the HTTP request waits for it, as WCF's reply channel holds the request context).
    pub fn owes_response(&self, message_id: &str) -> bool {
        self.backs
            .iter()
            .zip(&self.sessions)
            .any(|(b, input)| match &b.output {
                Output::Replies(cache) => !input.is_finished() && cache.owes(message_id),
                _ => false,
            })
    }

    /// Duplex: a one-way callback of the service on session `id`'s return sequence.
    pub fn callback(&mut self, now: Time, id: &str, body: AppBody) -> Result<(), SendError> {
        let Some(&i) = self.by_id.get(id) else {
            return Err(SendError::Closed);
        };
        match &mut self.backs[i].output {
            Output::Duplex(o) => o.send_reply(now, body, None).map(|_| ()),
            _ => Err(SendError::Closed),
        }
    }

    /// Whether session `id` can take a reply now (its return sequence is open).
    pub fn can_reply(&self, id: &str) -> bool {
        self.by_id.get(id).is_some_and(|&i| match &self.backs[i].output {
            Output::Duplex(o) => o.can_send(),
            Output::Replies(_) => !self.sessions[i].is_finished(),
            Output::None => false,
        })
    }

    /// The service closes its side once its input is complete and every reply is made: the
    /// receive returns nothing more and ServiceModel closes the channel (ServiceChannel
    /// .DecrementActivity → Close).
    fn maybe_close_output(&mut self, i: usize, now: Time) {
        let input = &self.sessions[i];
        let b = &mut self.backs[i];
        if b.closing
            || !input.all_added()
            || input.has_ready()
            || b.owed > 0
            || input.is_finished() && !matches!(input.state, DestinationState::Terminated)
        {
            return;
        }
        match &mut b.output {
            Output::None => {}
            Output::Duplex(o) => {
                if o.can_send() {
                    b.closing = true;
                    b.close_due = true;
                    self.sessions[i].stop_ack_timer(now);
                }
            }
            Output::Replies(cache) => {
                if cache.owed() > 0 {
                    return;
                }
                b.closing = true;
                if let Some((number, mid)) = cache.close() {
                    self.answer(i, now, Answer::Reply(number, None, mid, true));
                }
            }
        }
    }

    /// Puts one response of a request-reply session on the wire.
    fn answer(&mut self, i: usize, now: Time, a: Answer) {
        let _ = now;
        let input = &mut self.sessions[i];
        let Output::Replies(cache) = &self.backs[i].output else {
            return;
        };
        let reply_id = cache.identifier().clone();
        let to = input.acks_to().clone();
        let ack = input.ack_header();
        let env = match a {
            Answer::Ack(request) => {
                // WCF's ack-only reply names no request: the HTTP response is the pairing.
                self.out.push_back((self.dialect.ack(&to, ack), request));
                return;
            }
            Answer::Terminate => {
                let mut e = self
                    .dialect
                    .sequence_end(&to, RmAction::TerminateSequence, &reply_id, 0, None);
                e.acks.push(ack);
                e
            }
            Answer::Reply(number, body, relates, last) => {
                let mut e = match body {
                    Some(body) => self
                        .dialect
                        .data(&to, &self.reply_action, &reply_id, number, false, body),
                    None => self.dialect.last_message(&to, &reply_id, number, false),
                };
                if let (true, Some(seq)) = (last, e.sequence.as_mut()) {
                    seq.last_message = true;
                }
                e.addressing.relates_to = relates.map(|m| RelatesTo {
                    message_id: m,
                    relationship: None,
                });
                e.acks.push(ack);
                e
            }
        };
        self.out.push_back((env, None));
    }
}

/// One response of a request-reply service.
enum Answer {
    /// A bare SequenceAcknowledgement; as the response to a request, that request's MessageID
    /// travels beside it (`poll_transmit_answering`), as HTTP pairs a response with its request.
    Ack(Option<Text>),
    /// A reply: reply number, body (none: the LastMessage reply), RelatesTo, LastMessage.
    Reply(u64, Option<AppBody>, Option<Text>, bool),
    /// 2005/02: the reply sequence's TerminateSequence with the final ack.
    Terminate,
}

/// The acknowledgements of an envelope, alone (what the service's own sequence needs of a
/// request that also carries the client's sequence).
fn acks_only(env: &Envelope) -> Envelope {
    Envelope {
        soap: env.soap,
        rm_version: env.rm_version,
        addressing: env.addressing.clone(),
        sequence: None,
        ack_requested: Vec::new(),
        acks: env.acks.clone(),
        body: Body::Empty,
    }
}

/// A duplex session is one session: when either half faults, the other ends with it.
fn tie_fates(input: &mut Destination, output: &mut Source, now: Time) {
    let input_faulted = matches!(input.state, DestinationState::Faulted(_));
    if input_faulted && !output.is_finished() {
        output.fail(now, FaultCause::Remote);
    } else if let super::SourceState::Faulted(cause) = output.state()
        && !input.is_finished()
    {
        input.end(DestinationState::Faulted(*cause));
    }
}
