//! The virtual-time driver: one listener, one or more RM sources, a seeded link each way,
//! and the applications of the workload, run as fast as the CPU allows. Produces the
//! timeline and a [`Report`].

pub mod presets;
mod report;
mod workload;

pub use report::{FaultReport, Report};
pub use workload::Workload;

use crate::engine::EngineEvent;
use crate::engine::{BindingTimeouts, Dialect, Listener, Settings, Shape, Source, SourceConfig, SourceState};
use crate::netsim::{DropRule, Link, LinkConfig, Packet, Script};
use crate::ranges::Ranges;
use crate::trace::{Event, EventKind, Side, Time, Timeline, WireMeta, classify};
use crate::wsrm::{AddressingVersion, AppBody, Envelope, ExpandedName, SoapVersion, Text, decode, encode};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct SimConfig {
    pub settings: Settings,
    pub timeouts: BindingTimeouts,
    pub soap: SoapVersion,
    pub addressing: AddressingVersion,
    /// Source → destination.
    pub forward: LinkConfig,
    /// Destination → source.
    pub backward: LinkConfig,
    pub forward_script: Vec<DropRule>,
    pub backward_script: Vec<DropRule>,
    pub seed: u64,
    pub workload: Workload,
    /// Keep the full timeline (wires and events); off for benchmarks.
    pub record: bool,
    /// Pass every envelope through encode → decode on its way (slower; proves the bytes).
    pub through_codec: bool,
    /// Stop after this much virtual time.
    pub time_limit: Duration,
    /// What carries the messages (the live driver; the virtual-time run is always simulated).
    #[serde(default)]
    pub transport: Transport,
    /// Which WCF channel pair carries the session (how acks travel, whether AckRequested is
    /// used, whether the destination can send unasked).
    #[serde(default)]
    pub shape: Shape,
}

/// What carries the messages between the RM source and destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Transport {
    /// The seeded in-memory link only.
    #[default]
    Simulated,
    /// Real SOAP/HTTP on 127.0.0.1 (port 0: any free port); the simulated link's impairments
    /// still apply before a message reaches the socket.
    Http { port: u16 },
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            settings: Settings::default(),
            timeouts: BindingTimeouts::default(),
            soap: SoapVersion::V1_2,
            addressing: AddressingVersion::V1_0,
            forward: LinkConfig::default(),
            backward: LinkConfig::default(),
            forward_script: Vec::new(),
            backward_script: Vec::new(),
            seed: 1,
            workload: Workload::default(),
            record: true,
            through_codec: false,
            time_limit: Duration::from_secs(86_400),
            transport: Transport::Simulated,
            shape: Shape::OneWayOverDuplex,
        }
    }
}

impl SimConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.settings.validate().map_err(|e| e.to_string())?;
        self.forward
            .validate()
            .map_err(|e| format!("forward link: {e}"))?;
        self.backward
            .validate()
            .map_err(|e| format!("backward link: {e}"))?;
        self.workload.validate()?;
        if self.workload.callbacks > 0 && self.workload.messages == 0 {
            return Err(
                "callbacks need at least one call (the service calls back on a session it heard from)".into(),
            );
        }
        if self.workload.callbacks > 0 && self.shape != Shape::Duplex {
            return Err(format!(
                "callbacks need the duplex shape (the service sends on the return sequence), not {}",
                self.shape.name()
            ));
        }
        if self.workload.two_way && !self.shape.offers() {
            return Err(format!(
                "two-way calls need a shape with a return sequence (request-reply or duplex), not {}",
                self.shape.name()
            ));
        }
        Ok(())
    }
}

/// Where a message in flight is going: one of the RM sources, or the listener (the RM
/// destination side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Source(usize),
    Listener,
}

/// A message a real transport must carry (external-transport mode): due on the wire at `at`
/// (the simulated link's delay already added), recorded as wire `wire`, sent by `from`.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub at: Time,
    pub from: Target,
    pub to: Target,
    pub wire: u32,
    pub env: Envelope,
    /// The request this is the transport's response to, when nothing in the envelope says so
    /// (a request-reply service's bare ack): a real HTTP transport pairs it by sending it on
    /// that request's response.
    pub answers: Option<Text>,
}

/// A message on a link, ordered by arrival time; the envelope waits in `Simulation::slab`
/// so that heap operations move 32 bytes, not a whole envelope.
struct InFlight {
    at: Time,
    order: u64,
    to: Target,
    wire: u32,
    slot: u32,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

struct Sender {
    engine: Source,
    reply_to: Text,
    endpoint: u16,
    /// Application messages handed to the engine so far.
    sent: u64,
    next_send: Time,
    /// Transmissions seen per message number (index = number), for attempt counts.
    attempts: Vec<u16>,
    /// When each message number was first sent (index = number) and what the destination's
    /// acks have covered so far: the acknowledgement latency, measured without a timeline.
    first_sent: Vec<Time>,
    acked: Ranges,
    /// Two-way calls sent and not yet answered.
    outstanding: u64,
    /// Replies received, by reply number (to count any handed over twice).
    replies: Ranges,
    /// Duplex callbacks: sent by the service to this session, received by the client.
    callbacks_sent: u64,
    callbacks_received: u64,
    next_callback: Time,
}

#[derive(Default)]
struct Delivery {
    seen: Ranges,
    last: u64,
}

pub struct Simulation {
    cfg: SimConfig,
    now: Time,
    senders: Vec<Sender>,
    listener: Listener,
    listener_endpoint: u16,
    forward: Link,
    backward: Link,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    slab: Vec<Option<(Envelope, Option<Text>)>>,
    free: Vec<u32>,
    order: u64,
    timeline: Timeline,
    report: Report,
    body: AppBody,
    next_consume: Time,
    deliveries: HashMap<Text, Delivery>,
    finished_at: Option<Time>,
    done: bool,
    /// Encoded envelopes by `Wire::origin` (when recording).
    payloads: Vec<bytes::Bytes>,
    retained: usize,
    /// External-transport mode: messages leave through `outbox` instead of the in-memory links'
    /// arrival heap, and come back through [`Simulation::deliver`].
    external: bool,
    outbox: Vec<Outgoing>,
    /// Messages handed to the transport and not yet delivered or given up.
    external_pending: usize,
    /// Replies the service's operations will make: (due, order, session, request number).
    owed_replies: BinaryHeap<Reverse<(Time, u64, Text, u64)>>,
    reply_body: AppBody,
    callback_body: AppBody,
    /// Transmissions of each service-side sequence message (for attempt counts).
    service_attempts: HashMap<(Text, u64), u16>,
    /// Seconds from each client message's first send to the first ack that covered it (as
    /// the analysis measures it on the timeline: both at the instant they went on the wire).
    ack_latencies: Vec<f64>,
}

/// The median of `v` (None when empty).
fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// At most this many bytes of encoded envelopes are kept for export and the detail view.
pub const RETAIN_BUDGET: usize = 512 * 1024 * 1024;

/// Seeds for the parts of a run, derived from the one seed (splitmix64).
fn derive_seed(seed: u64, part: u64) -> u64 {
    let mut z = seed.wrapping_add(part.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const SERVICE: &str = "http://service.example/rmscope";

impl Simulation {
    pub fn new(cfg: SimConfig) -> Result<Simulation, String> {
        let identity = cfg.seed;
        Simulation::build(cfg, false, identity)
    }

    /// A simulation whose messages a real transport carries: they leave through
    /// [`Simulation::take_outbox`] and come back through [`Simulation::deliver`]; time is whatever
    /// the caller passes. The simulated links still decide losses and delays.
    ///
    /// `identity` seeds what the engines generate — sequence identifiers and message IDs — while
    /// the links keep `cfg.seed`. Sessions on a real network must not share identifiers across
    /// runs (WS-RM 1.1 §3.4: an Identifier is unique; WCF makes a fresh GUID), or two runs with
    /// the same seed captured together look like one sequence: the caller passes fresh
    /// randomness.
    pub fn new_external(cfg: SimConfig, identity: u64) -> Result<Simulation, String> {
        Simulation::build(cfg, true, identity)
    }

    fn build(cfg: SimConfig, external: bool, identity: u64) -> Result<Simulation, String> {
        cfg.validate()?;
        let dialect = Dialect {
            soap: cfg.soap,
            rm: cfg.settings.reliable_messaging_version,
            wsa: cfg.addressing,
        };
        let mut timeline = Timeline::new();
        let n = cfg.workload.sessions;
        let mut senders = Vec::new();
        // With a return sequence each end is source and destination: named by role instead.
        let (client, service) = if cfg.shape.offers() {
            ("client", "service")
        } else {
            ("RM source", "RM destination")
        };
        for i in 0..n {
            let name = if n == 1 {
                client.to_string()
            } else {
                format!("{client} {}", i + 1)
            };
            let endpoint = timeline.endpoint(&name);
            let reply_to: Text = format!("http://client{}.example/rmscope", i + 1).into();
            let engine = Source::new(
                cfg.settings.clone(),
                SourceConfig {
                    dialect: dialect.clone(),
                    to: SERVICE.into(),
                    reply_to: reply_to.clone(),
                    action: "http://rmscope.example/Workload/Submit".into(),
                    timeouts: cfg.timeouts.clone(),
                    shape: cfg.shape,
                    seed: derive_seed(identity, 100 + i as u64),
                },
            )
            .map_err(|e| e.to_string())?;
            senders.push(Sender {
                engine,
                reply_to,
                endpoint,
                sent: 0,
                next_send: Time::ZERO,
                attempts: Vec::new(),
                first_sent: Vec::new(),
                acked: Ranges::new(),
                outstanding: 0,
                replies: Ranges::new(),
                callbacks_sent: 0,
                callbacks_received: 0,
                next_callback: Time::ZERO,
            });
        }
        let listener_endpoint = timeline.endpoint(service);
        let listener = Listener::new(
            cfg.settings.clone(),
            dialect,
            SERVICE.into(),
            derive_seed(identity, 1),
        )
        .map_err(|e| e.to_string())?
        .with_shape(cfg.shape)
        .with_two_way(cfg.workload.two_way)
        .with_timeouts(cfg.timeouts.clone());
        let body = workload_body(cfg.workload.body_size, cfg.workload.rich_body);
        let reply_body = workload_body(cfg.workload.reply_size, cfg.workload.rich_body);
        let cfg_reply_size = cfg.workload.reply_size;
        let mut sim = Simulation {
            forward: Link::new(
                cfg.forward.clone(),
                Script::new(cfg.forward_script.clone()),
                derive_seed(cfg.seed, 2),
            ),
            backward: Link::new(
                cfg.backward.clone(),
                Script::new(cfg.backward_script.clone()),
                derive_seed(cfg.seed, 3),
            ),
            cfg,
            now: Time::ZERO,
            senders,
            listener,
            listener_endpoint,
            in_flight: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            order: 0,
            timeline,
            report: Report::default(),
            body,
            next_consume: Time::ZERO,
            deliveries: HashMap::default(),
            finished_at: None,
            done: false,
            payloads: Vec::new(),
            retained: 0,
            external,
            outbox: Vec::new(),
            external_pending: 0,
            owed_replies: BinaryHeap::new(),
            callback_body: callback_body(cfg_reply_size),
            reply_body,
            service_attempts: HashMap::default(),
            ack_latencies: Vec::new(),
        };
        let detailed = sim.cfg.record;
        sim.listener.set_detailed_events(detailed);
        for s in &mut sim.senders {
            s.engine.set_detailed_events(detailed);
            s.engine.open(Time::ZERO);
        }
        sim.flush();
        Ok(sim)
    }

    pub fn now(&self) -> Time {
        self.now
    }
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// Drops asked for and not yet done: [messages (forward), acks (backward)].
    pub fn armed_drops(&self) -> [u32; 2] {
        [self.forward.armed(), self.backward.armed()]
    }

    /// Adds a scripted drop to one direction while running ("drop next ack").
    pub fn push_rule(&mut self, forward: bool, rule: DropRule) {
        if forward {
            self.forward.push_rule(rule)
        } else {
            self.backward.push_rule(rule)
        }
    }

    /// Runs until every source has finished (or the time limit) and returns the report.
    pub fn run(&mut self) -> Report {
        while self.step() {}
        self.report()
    }

    /// The report as of now.
    pub fn report(&self) -> Report {
        let mut r = self.report.clone();
        let end = self.finished_at.unwrap_or(self.now);
        r.completion_time = end.as_secs_f64();
        r.finished = self.finished_at.is_some();
        if self.finished_at.is_some() {
            r.ack_latency_median = median(&self.ack_latencies);
        }
        if r.completion_time > 0.0 {
            r.goodput = r.delivered as f64 / r.completion_time;
            r.goodput_bytes = r.goodput * self.cfg.workload.body_size as f64;
        }
        r
    }

    /// When the next thing happens, if anything will.
    pub fn next_time(&self) -> Option<Time> {
        let mut next = self.in_flight.peek().map(|f| f.0.at);
        let mut consider = |t: Option<Time>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n: Time| n.min(t)));
            }
        };
        for s in &self.senders {
            consider(s.engine.poll_timeout());
            // (A two-way call waits for its reply before the next, whatever the rate.)
            let idle = !self.cfg.workload.two_way || s.outstanding == 0;
            if self.cfg.workload.rate.is_some()
                && s.engine.can_send()
                && idle
                && s.sent < self.cfg.workload.messages
            {
                consider(Some(s.next_send.max(self.now)));
            }
            let callback_due = self.cfg.workload.callback_rate.is_some()
                && s.callbacks_sent < self.cfg.workload.callbacks
                && s.engine
                    .identifier()
                    .is_some_and(|id| self.deliveries.contains_key(id) && self.listener.can_reply(id));
            if callback_due {
                consider(Some(s.next_callback.max(self.now)));
            }
        }
        consider(self.listener.poll_timeout());
        consider(self.owed_replies.peek().map(|r| r.0.0.max(self.now)));
        if self.cfg.workload.consume_rate.is_some() && self.listener.has_ready() {
            consider(Some(self.next_consume.max(self.now)));
        }
        next
    }

    /// Advances to the next instant something happens and processes it. False when done.
    pub fn step(&mut self) -> bool {
        if self.done {
            return false;
        }
        let limit = Time::from_duration(self.cfg.time_limit);
        let Some(t) = self.next_time().filter(|t| *t <= limit) else {
            self.now = self.now.max(self.next_time().map_or(self.now, |_| limit));
            self.done = true;
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        while self.in_flight.peek().is_some_and(|f| f.0.at <= now) {
            let Reverse(f) = self.in_flight.pop().expect("peeked");
            let (env, answers) = self.slab[f.slot as usize]
                .take()
                .expect("slot holds the envelope");
            self.free.push(f.slot);
            self.arrive(f.to, f.wire, env, answers.as_ref());
            // Messages arriving in the same instant still arrive one after the other: a
            // waiting receiver takes each before the next is processed (WCF dispatches each
            // message to a pending Receive as it is enqueued), so each ack sees only its own.
            if f.to == Target::Listener {
                self.consume();
            }
        }
        self.after_arrivals();
        true
    }

    /// Timers due now, the applications, and what the engines want to send.
    fn after_arrivals(&mut self) {
        let now = self.now;
        for s in &mut self.senders {
            if s.engine.poll_timeout().is_some_and(|t| t <= now) {
                s.engine.handle_timeout(now);
            }
        }
        if self.listener.poll_timeout().is_some_and(|t| t <= now) {
            self.listener.handle_timeout(now);
        }
        self.make_replies();
        self.run_applications();
        self.flush();
        if self.finished_at.is_none() && self.senders.iter().all(|s| s.engine.is_finished()) {
            self.finished_at = Some(now);
        }
        // Done once nothing is in flight and the receiving application has taken everything.
        let undelivered = self.cfg.workload.accept && self.listener.has_ready();
        if self.finished_at.is_some()
            && self.in_flight.is_empty()
            && self.external_pending == 0
            && !undelivered
        {
            self.done = true;
        }
    }

    /// Messages to put on the real wire, in the order they were sent.
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// A message the transport delivered, at `now` (not before anything already processed).
    pub fn deliver(&mut self, now: Time, to: Target, wire: u32, env: Envelope) {
        self.deliver_answering(now, to, wire, env, None);
    }

    /// [`Simulation::deliver`] of the transport's response to the request with MessageID
    /// `answers`.
    pub fn deliver_answering(
        &mut self,
        now: Time,
        to: Target,
        wire: u32,
        env: Envelope,
        answers: Option<Text>,
    ) {
        self.external_pending = self.external_pending.saturating_sub(1);
        if self.done {
            return;
        }
        self.now = self.now.max(now);
        self.arrive(to, wire, env, answers.as_ref());
        self.after_arrivals();
    }

    /// The transport could not deliver a message (connection refused, reset): like a loss.
    pub fn undeliverable(&mut self, wire: u32) {
        self.external_pending = self.external_pending.saturating_sub(1);
        self.report.lost_on_link += 1;
        if self.cfg.record && (wire as usize) < self.timeline.wires.len() {
            let w = &self.timeline.wires.at(wire as usize);
            let (seq, side) = (w.seq, self.timeline.side_of(w));
            self.timeline.push(Event {
                time: self.now,
                seq,
                side,
                kind: EventKind::Lost {
                    wire,
                    scripted: false,
                },
            });
        }
        self.after_arrivals();
    }

    /// Processes every timer and application step due by `now` (external transport).
    pub fn advance(&mut self, now: Time) {
        while !self.done && self.next_time().is_some_and(|t| t <= now) {
            self.step();
        }
        if !self.done {
            self.now = self.now.max(now);
            self.after_arrivals();
        }
    }

    /// Renames an endpoint in the timeline (a real transport names them by address).
    pub fn rename_endpoint(&mut self, source: Option<usize>, name: &str) {
        let e = match source {
            Some(i) => self.senders.get(i).map(|s| s.endpoint),
            None => Some(self.listener_endpoint),
        };
        if let Some(e) = e {
            self.timeline.rename_endpoint(e, name);
        }
    }

    /// Sequences the listener created (more than the sessions when a CreateSequence was
    /// answered twice: WCF's simplex listener makes a sequence per CreateSequence).
    pub fn sequences_created(&self) -> usize {
        self.listener.sessions().len()
    }

    /// Request-reply: the service still owes the response to this request (live HTTP holds
    /// the request's HTTP response until then).
    pub fn service_owes_response(&self, message_id: &str) -> bool {
        self.listener.owes_response(message_id)
    }

    /// Number of RM sources.
    pub fn sources(&self) -> usize {
        self.senders.len()
    }

    fn arrive(&mut self, to: Target, wire: u32, env: Envelope, answers: Option<&Text>) {
        let now = self.now;
        if self.cfg.record && wire != u32::MAX && (wire as usize) < self.timeline.wires.len() {
            let side = if to == Target::Listener {
                Side::Source
            } else {
                Side::Destination
            };
            let seq = self.timeline.wires.at(wire as usize).seq;
            self.timeline.push(Event {
                time: now,
                seq,
                side,
                kind: EventKind::Arrived { wire },
            });
        }
        match to {
            Target::Listener => self.listener.handle_incoming(now, env),
            Target::Source(i) => {
                if let Some(s) = self.senders.get_mut(i) {
                    s.engine.handle_response(now, env, answers)
                }
            }
        }
    }

    fn run_applications(&mut self) {
        let now = self.now;
        let w = &self.cfg.workload;
        for s in &mut self.senders {
            // Replies and callbacks reach the calling application (told apart by their body,
            // as WCF dispatches by action).
            while let Some((number, body)) = s.engine.receive(now) {
                if body.name.local.as_str() == CALLBACK {
                    self.report.callbacks += 1;
                    s.callbacks_received += 1;
                    continue;
                }
                if s.replies.insert(number) {
                    self.report.replies += 1;
                } else {
                    self.report.replies_twice += 1;
                }
                s.outstanding = s.outstanding.saturating_sub(1);
            }
            // A synchronous proxy: the next call waits for the reply to the last.
            let idle = |s: &Sender| !w.two_way || s.outstanding == 0;
            while s.sent < w.messages
                && s.engine.can_send()
                && idle(s)
                && (w.rate.is_none() || s.next_send <= now)
            {
                if s.engine.send(now, self.body.clone()).is_err() {
                    break;
                }
                s.sent += 1;
                if w.two_way {
                    s.outstanding += 1;
                }
                if let Some(rate) = w.rate {
                    s.next_send = s.next_send.max(now) + Duration::from_secs_f64(1.0 / rate);
                }
            }
            // The application closes once its last send returned (none blocked).
            // The service's callbacks: one-way messages on the session's return sequence,
            // once a message of the session reached it (its callback channel).
            if let Some(id) = s.engine.identifier().cloned()
                && self.deliveries.contains_key(&id)
            {
                while s.callbacks_sent < w.callbacks
                    && self.listener.can_reply(&id)
                    && (w.callback_rate.is_none() || s.next_callback <= now)
                {
                    if self
                        .listener
                        .callback(now, &id, self.callback_body.clone())
                        .is_err()
                    {
                        break;
                    }
                    s.callbacks_sent += 1;
                    if let Some(rate) = w.callback_rate {
                        s.next_callback = s.next_callback.max(now) + Duration::from_secs_f64(1.0 / rate);
                    }
                }
            }
            if w.close
                && s.sent >= w.messages
                && s.engine.blocked_sends() == 0
                && idle(s)
                && s.callbacks_received >= w.callbacks
                && *s.engine.state() == SourceState::Open
            {
                s.engine.close(now);
            }
        }
        self.consume();
    }

    /// The receiving application accepts waiting sessions and takes what it may now.
    fn consume(&mut self) {
        let now = self.now;
        let w = &self.cfg.workload;
        if w.accept {
            while self.listener.accept().is_some() {}
        }
        loop {
            if w.consume_rate.is_some() && self.next_consume > now {
                break;
            }
            let Some((id, number, _)) = self.listener.receive(now) else {
                break;
            };
            let reply_to = w.two_way.then(|| id.clone());
            let d = self.deliveries.entry(id).or_default();
            if !d.seen.insert(number) {
                self.report.delivered_twice += 1;
            } else {
                self.report.delivered += 1;
            }
            if self.cfg.settings.ordered && number != d.last + 1 {
                self.report.out_of_order += 1;
            }
            d.last = number;
            if let Some(rate) = w.consume_rate {
                self.next_consume = self.next_consume.max(now) + Duration::from_secs_f64(1.0 / rate);
            }
            if let Some(id) = reply_to {
                self.order += 1;
                let due = now + w.service_time;
                self.owed_replies.push(Reverse((due, self.order, id, number)));
            }
        }
        self.make_replies();
    }

    /// The service's operations that finished by now reply (at once, inside the dispatch, when
    /// the service time is zero — as a WCF operation running on the receive thread does).
    fn make_replies(&mut self) {
        let now = self.now;
        while self.owed_replies.peek().is_some_and(|r| r.0.0 <= now) {
            let Reverse((_, _, id, number)) = self.owed_replies.pop().expect("peeked");
            let _ = self.listener.reply(now, &id, number, self.reply_body.clone());
        }
    }

    /// Moves everything the engines want to send onto the links, and their events into
    /// the timeline.
    fn flush(&mut self) {
        for i in 0..self.senders.len() {
            while let Some(env) = self.senders[i].engine.poll_transmit(self.now) {
                self.transmit(Some(i), Target::Listener, env, None);
            }
            while let Some(ev) = self.senders[i].engine.poll_event() {
                self.engine_event(Side::Source, ev);
            }
            let window = self.senders[i].engine.window().map_or(0, |w| w.0);
            self.report.max_window = self.report.max_window.max(window);
        }
        while let Some((env, answers)) = self.listener.poll_transmit_answering(self.now) {
            let to = env.addressing.to.as_ref();
            // Replies go to the source whose address they name.
            if let Some(j) = self.senders.iter().position(|s| Some(&s.reply_to) == to) {
                self.transmit(None, Target::Source(j), env, answers);
            }
        }
        while let Some(ev) = self.listener.poll_event() {
            self.engine_event(Side::Destination, ev);
        }
    }

    fn engine_event(&mut self, side: Side, ev: EngineEvent) {
        if let EventKind::Fault { code, cause } = ev.kind {
            self.report.faults.push(FaultReport {
                time: ev.time.as_secs_f64(),
                side,
                sequence: ev.seq.as_ref().map(|s| s.to_string()),
                code,
                cause,
                text: cause.text(),
            });
            if side == Side::Source && cause == crate::trace::FaultCause::ConnectionLimitReached {
                self.report.sessions_refused += 1;
            }
        }
        if matches!(ev.kind, EventKind::SendTimedOut { .. }) {
            self.report.send_timeouts += 1;
        }
        if side == Side::Source && ev.kind == EventKind::Opened {
            self.report.sessions_opened += 1;
        }
        if self.cfg.record {
            let seq = ev
                .seq
                .as_ref()
                .map_or(crate::trace::SeqIdx::NONE, |id| self.timeline.sequence(id));
            self.timeline.push(Event {
                time: ev.time,
                seq,
                side,
                kind: ev.kind,
            });
        }
    }

    fn transmit(&mut self, from_source: Option<usize>, to: Target, env: Envelope, answers: Option<Text>) {
        let now = self.now;
        let (kind, flags, _) = classify(&env);
        let number = env.sequence.as_ref().map_or(0, |s| s.message_number.get());
        let mut attempt = 0u16;
        match from_source {
            Some(i) if env.sequence.is_some() => {
                let a = &mut self.senders[i].attempts;
                let idx = number as usize;
                if a.len() <= idx {
                    a.resize(idx + 1, 0);
                }
                attempt = a[idx];
                a[idx] = a[idx].saturating_add(1);
                let f = &mut self.senders[i].first_sent;
                if f.len() <= idx {
                    f.resize(idx + 1, Time::ZERO);
                }
                if attempt == 0 {
                    f[idx] = now;
                }
                self.report.transmissions += 1;
                if attempt > 0 {
                    self.report.retransmissions += 1;
                }
            }
            None if env.sequence.is_some() => {
                let seq = env.sequence.as_ref().expect("checked");
                let n = self
                    .service_attempts
                    .entry((seq.identifier.clone(), number))
                    .or_default();
                attempt = *n;
                *n = n.saturating_add(1);
                self.report.reply_transmissions += 1;
                if attempt > 0 {
                    self.report.reply_retransmissions += 1;
                }
                if !env.acks.is_empty() {
                    self.report.acks += 1;
                }
            }
            None if !env.acks.is_empty() => self.report.acks += 1,
            _ => {}
        }
        if let (None, Target::Source(j)) = (from_source, to) {
            self.sample_ack_latency(j, &env);
        }
        let link_rate = if from_source.is_some() {
            self.forward.config().rate
        } else {
            self.backward.config().rate
        };
        let bytes = (self.cfg.record || self.cfg.through_codec || link_rate.is_some()).then(|| encode(&env));
        let size = bytes.as_ref().map_or(0, |b| b.len() as u32);
        let env = match (&bytes, self.cfg.through_codec) {
            (Some(b), true) => {
                let back = decode(b).unwrap_or_else(|e| panic!("engine envelope does not decode: {e}"));
                debug_assert_eq!(back, env);
                back
            }
            _ => env,
        };
        // Keep the bytes of what went on the wire (detail view, pcap export), up to a budget.
        let origin = match bytes {
            Some(b) if self.cfg.record && self.retained + b.len() <= RETAIN_BUDGET => {
                self.retained += b.len();
                self.payloads.push(b.into());
                (self.payloads.len() - 1) as u64
            }
            _ => u64::MAX,
        };
        let (from_ep, to_ep) = match (from_source, to) {
            (Some(i), _) => (self.senders[i].endpoint, self.listener_endpoint),
            (None, Target::Source(j)) => (self.listener_endpoint, self.senders[j].endpoint),
            (None, Target::Listener) => (self.listener_endpoint, self.listener_endpoint),
        };
        let side = if from_source.is_some() {
            Side::Source
        } else {
            Side::Destination
        };
        let wire = if self.cfg.record {
            let w = self.timeline.add_wire(
                now,
                from_ep,
                to_ep,
                &env,
                WireMeta {
                    size,
                    origin,
                    ..WireMeta::default()
                },
            );
            let seq = self.timeline.wires.at(w as usize).seq;
            self.timeline.push(Event {
                time: now,
                seq,
                side,
                kind: EventKind::Sent { wire: w, attempt },
            });
            w
        } else {
            u32::MAX
        };
        let packet = Packet {
            kind,
            number,
            has_ack: flags.has(crate::trace::WireFlags::HAS_ACK),
            size,
        };
        let from = from_source.map_or(Target::Listener, Target::Source);
        let link = if from_source.is_some() {
            &mut self.forward
        } else {
            &mut self.backward
        };
        match link.transmit(now, packet) {
            Ok((times, copies)) => {
                if copies == 2 {
                    self.report.duplicated_on_link += 1;
                    self.schedule(times[1], from, to, wire, env.clone(), answers.clone());
                }
                self.schedule(times[0], from, to, wire, env, answers);
            }
            Err(why) => {
                self.report.lost_on_link += 1;
                if self.cfg.record {
                    let seq = self.timeline.wires.at(wire as usize).seq;
                    self.timeline.push(Event {
                        time: now,
                        seq,
                        side,
                        kind: EventKind::Lost {
                            wire,
                            scripted: why == crate::netsim::Drop::Scripted,
                        },
                    });
                }
            }
        }
    }

    /// The ack latencies of the messages an ack from the service to source `j` newly covers.
    fn sample_ack_latency(&mut self, j: usize, env: &Envelope) {
        let now = self.now;
        let s = &mut self.senders[j];
        let Some(id) = s.engine.identifier() else {
            return;
        };
        for ack in env.acks.iter().filter(|a| &a.identifier == id) {
            for r in ack.content.ranges() {
                let hi = r.upper.get().min(s.first_sent.len().saturating_sub(1) as u64);
                for (a, b) in s.acked.missing_within(r.lower.get(), hi) {
                    for n in a..=b {
                        if s.attempts.get(n as usize).is_some_and(|&c| c > 0) {
                            self.ack_latencies
                                .push(now.since(s.first_sent[n as usize]).as_secs_f64());
                        }
                    }
                }
                s.acked.insert_range(r.lower.get(), r.upper.get());
            }
        }
    }

    fn push_outgoing(
        &mut self,
        at: Time,
        from: Target,
        to: Target,
        wire: u32,
        env: Envelope,
        answers: Option<Text>,
    ) {
        self.external_pending += 1;
        self.outbox.push(Outgoing {
            at,
            from,
            to,
            wire,
            env,
            answers,
        });
    }

    fn schedule(
        &mut self,
        at: Time,
        from: Target,
        to: Target,
        wire: u32,
        env: Envelope,
        answers: Option<Text>,
    ) {
        if self.external {
            self.push_outgoing(at, from, to, wire, env, answers);
            return;
        }
        self.order += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some((env, answers));
                i
            }
            None => {
                self.slab.push(Some((env, answers)));
                (self.slab.len() - 1) as u32
            }
        };
        self.in_flight.push(Reverse(InFlight {
            at,
            order: self.order,
            to,
            wire,
            slot,
        }));
    }

    /// The encoded envelope of a wire, if it was kept.
    pub fn payload(&self, wire: &crate::trace::Wire) -> Option<&bytes::Bytes> {
        self.payloads.get(usize::try_from(wire.origin).ok()?)
    }

    /// Every kept envelope, indexed by `Wire::origin`.
    pub fn payloads(&self) -> &[bytes::Bytes] {
        &self.payloads
    }

    /// Takes the timeline out (the simulation keeps an empty one).
    pub fn take_timeline(&mut self) -> Timeline {
        std::mem::take(&mut self.timeline)
    }
}

/// The element a callback's body starts with (the client application tells callbacks from
/// replies by it).
const CALLBACK: &str = "Notify";

/// A duplex callback's body: a notification of about `size` bytes.
fn callback_body(size: usize) -> AppBody {
    let open = "<w:Notify xmlns:w=\"http://rmscope.example/Workload\">";
    let close = "</w:Notify>";
    let fill = size.saturating_sub(open.len() + close.len());
    AppBody::new(
        ExpandedName {
            namespace: Some("http://rmscope.example/Workload".into()),
            local: CALLBACK.into(),
        },
        format!("{open}{}{close}", "n".repeat(fill)).into_bytes().into(),
        Vec::new(),
    )
}

/// The application body every simulated message carries (shared, not copied).
fn workload_body(size: usize, rich: bool) -> AppBody {
    let xml = if rich {
        rich_body(size)
    } else {
        let open = "<w:Submit xmlns:w=\"http://rmscope.example/Workload\">";
        let close = "</w:Submit>";
        let fill = size.saturating_sub(open.len() + close.len());
        format!("{open}{}{close}", "x".repeat(fill))
    };
    AppBody::new(
        ExpandedName {
            namespace: Some("http://rmscope.example/Workload".into()),
            local: "Submit".into(),
        },
        xml.into_bytes().into(),
        Vec::new(),
    )
}

/// A body of about `size` bytes shaped as WCF's DataContractSerializer writes an order: the
/// operation element, a data contract in its own namespace with `i:` (XMLSchema-instance) and
/// array namespaces, then line items until the size is reached.
fn rich_body(size: usize) -> String {
    use std::fmt::Write;
    let mut xml = String::with_capacity(size + 512);
    xml.push_str(concat!(
        "<w:Submit xmlns:w=\"http://rmscope.example/Workload\">",
        "<w:order xmlns:a=\"http://schemas.datacontract.org/2004/07/Shop.Contracts\" ",
        "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">",
        "<a:Customer><a:Id>4711</a:Id><a:Name>Contoso Ltd.</a:Name>",
        "<a:Address><a:Street>1 Microsoft Way</a:Street><a:City>Redmond</a:City>",
        "<a:Country>US</a:Country></a:Address></a:Customer>",
        "<a:Discount i:nil=\"true\"/>",
        "<a:Lines xmlns:b=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">",
    ));
    let close = "</a:Lines><a:Placed>2026-12-02T10:00:00Z</a:Placed></w:order></w:Submit>";
    let mut n = 0u32;
    while xml.len() + close.len() < size {
        n += 1;
        let _ = write!(
            xml,
            "<a:OrderLine><a:Sku>SKU-{n:05}</a:Sku><a:Quantity>{}</a:Quantity>\
             <a:Price>{}.{:02}</a:Price><a:Tags><b:string>stock</b:string>\
             <b:string>express</b:string></a:Tags></a:OrderLine>",
            n % 7 + 1,
            n * 3 % 100,
            n * 17 % 100
        );
    }
    xml.push_str(close);
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsrm::Body;

    /// The sequence identifier the destination hands out when the messages of an external
    /// simulation are carried straight across.
    fn identifier_of_external_run(identity: u64) -> Text {
        let mut sim = Simulation::new_external(SimConfig::default(), identity).unwrap();
        for _ in 0..8 {
            for o in sim.take_outbox() {
                if let Body::CreateSequenceResponse(r) = &o.env.body {
                    return r.identifier.clone();
                }
                sim.deliver(o.at, o.to, o.wire, o.env);
            }
        }
        panic!("no CreateSequenceResponse");
    }

    #[test]
    fn external_runs_take_their_identifiers_from_the_identity_not_the_seed() {
        assert_eq!(identifier_of_external_run(7), identifier_of_external_run(7));
        assert_ne!(identifier_of_external_run(7), identifier_of_external_run(8));
    }
}
