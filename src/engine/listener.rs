//! The service side: answers CreateSequence, holds sessions until the application accepts
//! them (maxPendingChannels), routes messages to their destination by identifier
//! (WCF ReliableChannelListener).

use super::destination::Destination;
use super::event::EngineEvent;
use super::messages::{Dialect, uuid_urn};
use super::settings::{Settings, SettingsError};
use super::shape::Shape;
use crate::trace::{EventKind, FaultCause, Time};
use crate::wsrm::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

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
    out: VecDeque<Envelope>,
    events: VecDeque<EngineEvent>,
    /// Round-robin position for `receive`.
    next_receive: usize,
    detailed_events: bool,
    shape: Shape,
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
        })
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
                return Some((self.sessions[i].identifier().clone(), number, body));
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
                _ => None,
            })
            .cloned();
        let Some(id) = id else { return };
        let live = self
            .by_id
            .get(&id)
            .copied()
            .filter(|&i| !self.sessions[i].is_finished());
        match live {
            Some(i) => self.sessions[i].handle_incoming(now, env),
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
                self.out.push_back(f);
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
            self.out.push_back(f);
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
        let dest = Destination::new(
            now,
            self.settings.clone(),
            self.dialect.clone(),
            id.clone(),
            acks_to,
        )
        .with_shape(self.shape);
        self.by_id.insert(id.clone(), self.sessions.len());
        self.pending.push_back(self.sessions.len());
        self.sessions.push(dest);
        let csr = self
            .dialect
            .create_sequence_response(&reply_to, relates, &id, self.settings.ordered);
        self.out.push_back(csr);
        self.events.push_back(EngineEvent {
            time: now,
            seq: Some(id),
            kind: EventKind::Opened,
        });
    }

    pub fn handle_timeout(&mut self, now: Time) {
        for s in &mut self.sessions {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                s.handle_timeout(now);
            }
        }
    }

    pub fn poll_transmit(&mut self, now: Time) -> Option<Envelope> {
        if let Some(e) = self.out.pop_front() {
            return Some(e);
        }
        self.sessions.iter_mut().find_map(|s| s.poll_transmit(now))
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.sessions.iter().filter_map(|s| s.poll_timeout()).min()
    }

    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        self.sessions.iter_mut().find_map(|s| s.poll_event())
    }
}
