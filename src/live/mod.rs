//! The live driver: runs the simulated pair in a tokio task in real time (scaled by a speed
//! factor) and streams timeline deltas to whoever watches (the app). Commands pause, resume,
//! step, change speed, restart with new settings, and script drops. The engine inside is the
//! same sans-IO code the virtual-time simulator runs.

use crate::engine::Shape;
use crate::netsim::DropRule;
use crate::sim::{Outgoing, Report, SimConfig, Simulation, Target, Transport};
use crate::trace::{Delta, DeltaCursor, Time};
use crate::transport::http::{HttpTransport, Incoming, Reply};
use crate::wsrm::Text;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::mpsc as tmpsc;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Speed factors the app offers.
pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 100.0;

#[derive(Debug)]
pub enum Command {
    Pause,
    Resume,
    /// Advance to the next event (while paused).
    Step,
    /// Virtual seconds per real second.
    Speed(f64),
    /// Start over with these settings.
    Restart(Box<SimConfig>),
    /// Drop the next message the source sends.
    DropNextMessage,
    /// Drop the next acknowledgement the destination sends.
    DropNextAck,
    Shutdown,
}

/// The state of the current run after a step.
#[derive(Debug)]
pub struct Progress {
    pub generation: u64,
    pub delta: Delta,
    /// Encoded envelopes of the new wires (for the detail view and pcap export).
    pub payloads: Vec<bytes::Bytes>,
    pub now: Time,
    pub report: Report,
    pub done: bool,
    pub paused: bool,
    /// "Drop next" requests not yet carried out: [messages, acks].
    pub armed: [u32; 2],
}

/// What the driver sends back.
#[derive(Debug)]
pub enum Update {
    /// A new run began (after start or restart): the watcher clears its timeline.
    Started { generation: u64, config: Box<SimConfig> },
    /// More of the current run.
    Progress(Box<Progress>),
    /// The settings were refused.
    Error(String),
}

pub struct LiveHandle {
    commands: tmpsc::UnboundedSender<Command>,
    pub updates: mpsc::Receiver<Update>,
}

impl LiveHandle {
    pub fn send(&self, c: Command) {
        let _ = self.commands.send(c);
    }
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

/// Starts the driver on `rt`; `wake` is called after each update (e.g. to repaint the UI).
pub fn spawn(
    rt: &tokio::runtime::Handle,
    config: SimConfig,
    speed: f64,
    wake: impl Fn() + Send + Sync + 'static,
) -> LiveHandle {
    let (ctx, crx) = tmpsc::unbounded_channel();
    let (utx, urx) = mpsc::channel();
    rt.spawn(run(config, speed, crx, utx, Box::new(wake)));
    LiveHandle {
        commands: ctx,
        updates: urx,
    }
}

/// Real-time pacing: virtual time = base + (wall − wall_base) × speed, frozen while paused.
struct Clock {
    wall_base: Instant,
    virtual_base: Time,
    speed: f64,
    paused: bool,
}

impl Clock {
    fn now(&self) -> Time {
        if self.paused {
            return self.virtual_base;
        }
        self.virtual_base + self.wall_base.elapsed().mul_f64(self.speed)
    }
    fn rebase(&mut self, at: Time) {
        self.virtual_base = at;
        self.wall_base = Instant::now();
    }
    /// Real time until virtual time `t`.
    fn wall_until(&self, t: Time) -> Duration {
        if self.paused {
            return Duration::MAX;
        }
        t.since(self.now()).div_f64(self.speed)
    }
}

/// Keeps the steps per wake bounded so commands stay responsive at 100×.
const MAX_STEPS_PER_WAKE: usize = 20_000;
/// Updates at most this often.
const FRAME: Duration = Duration::from_millis(33);

struct Run {
    sim: Simulation,
    cursor: DeltaCursor,
    payloads_sent: usize,
    /// Real SOAP/HTTP on loopback, when the configuration asks for it.
    http: Option<HttpTransport>,
    last_update: Instant,
    /// The watcher has been told the run is over.
    told_done: bool,
    /// Request-reply over HTTP: requests whose response waits for the service's answer (its
    /// reply, once the operation ran), by MessageID, oldest first.
    held: Vec<(Text, oneshot::Sender<Reply>)>,
}

/// 64 bits that differ from run to run, for the identifiers of a session on a real transport:
/// std's per-process random hash keys, the clock and a counter.
fn fresh_identity() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    h.write_u64(now);
    h.finish()
}

impl Run {
    async fn new(config: SimConfig) -> Result<Run, String> {
        let (sim, http) = match config.transport {
            Transport::Simulated => (Simulation::new(config)?, None),
            Transport::Http { port } => {
                let soap = config.soap;
                let mut sim = Simulation::new_external(config, fresh_identity())?;
                let mut t = HttpTransport::bind(port, sim.sources(), soap)
                    .await
                    .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
                // Name the endpoints by address, as a capture of this traffic would.
                sim.rename_endpoint(None, &t.destination.to_string());
                for (i, a) in t.sources.iter().enumerate() {
                    sim.rename_endpoint(Some(i), &a.to_string());
                }
                for o in sim.take_outbox() {
                    t.send(o);
                }
                (sim, Some(t))
            }
        };
        Ok(Run {
            sim,
            cursor: DeltaCursor::default(),
            payloads_sent: 0,
            http,
            last_update: Instant::now(),
            told_done: false,
            held: Vec::new(),
        })
    }

    /// A message (or a failure) from the HTTP side: into the engines, then whatever they send
    /// back — on the HTTP response when it answers the requester, as its own request otherwise.
    fn on_incoming(&mut self, inc: Incoming) {
        let Some(t) = &mut self.http else { return };
        let now = t.now();
        let message_id = inc.env.as_ref().and_then(|e| e.addressing.message_id.clone());
        match inc.env {
            Some(env) => self
                .sim
                .deliver_answering(now, inc.to, inc.wire, env, inc.answers),
            None => self.sim.undeliverable(inc.wire),
        }
        let mut out = self.sim.take_outbox();
        let shape = self.sim.config().shape;
        if let Some(reply) = inc.reply {
            let pick = match inc.to {
                // Composite duplex (wsDualHttpBinding): one-way HTTP both ways, every request
                // answered 202; the service POSTs to the client's own address.
                Target::Listener if shape == Shape::Duplex => None,
                // Request-reply: a request with a MessageID is answered by what names it.
                Target::Listener if shape == Shape::RequestReply && message_id.is_some() => {
                    let named = |o: &Outgoing| {
                        let relates = o.env.addressing.relates_to.as_ref().map(|r| &r.message_id);
                        relates.or(o.answers.as_ref()) == message_id.as_ref()
                    };
                    let named = out.iter().position(|o| o.to == inc.from && named(o));
                    let owed = message_id
                        .as_ref()
                        .is_some_and(|m| self.sim.service_owes_response(m));
                    // Nothing names it and nothing is owed: what answers it carries no
                    // RelatesTo (a fault on its context: SequenceClosed, UnknownSequence).
                    named.or_else(|| {
                        (!owed)
                            .then(|| {
                                out.iter().position(|o| {
                                    o.to == inc.from
                                        && o.env.addressing.relates_to.is_none()
                                        && o.answers.is_none()
                                })
                            })
                            .flatten()
                    })
                }
                Target::Listener => out.iter().position(|o| o.to == inc.from),
                Target::Source(_) => None,
            };
            let owed = pick.is_none()
                && inc.to == Target::Listener
                && message_id
                    .as_ref()
                    .is_some_and(|m| shape == Shape::RequestReply && self.sim.service_owes_response(m));
            if owed {
                // The operation is still running: the response waits (WCF's reply channel holds
                // the request context until the reply).
                self.held.push((message_id.expect("checked"), reply));
                self.dispatch(out);
                return;
            }
            let answer = match pick {
                Some(k) => {
                    let o = out.remove(k);
                    Reply::Soap {
                        wire: o.wire,
                        at: t.instant(o.at),
                        env: Box::new(o.env),
                    }
                }
                None => Reply::Accepted,
            };
            if let Err(Reply::Soap { wire, .. }) = reply.send(answer) {
                self.sim.undeliverable(wire);
            }
        }
        self.dispatch(out);
    }

    /// Puts what the engines sent on the wire: a reply answering a held request on its HTTP
    /// response, anything else as a request of its own.
    fn dispatch(&mut self, out: Vec<Outgoing>) {
        let Some(t) = &mut self.http else { return };
        for o in out {
            let relates = o.env.addressing.relates_to.as_ref().map(|r| &r.message_id);
            let names = relates.or(o.answers.as_ref());
            let held = names.and_then(|m| self.held.iter().position(|(h, _)| h == m));
            match held {
                Some(k) if o.from == Target::Listener => {
                    let (_, reply) = self.held.remove(k);
                    let answer = Reply::Soap {
                        wire: o.wire,
                        at: t.instant(o.at),
                        env: Box::new(o.env),
                    };
                    if let Err(Reply::Soap { wire, .. }) = reply.send(answer) {
                        self.sim.undeliverable(wire);
                    }
                }
                _ => t.send(o),
            }
        }
        // A held request whose answer can no longer come (its session ended, or the reply went
        // out above) gets its 202.
        let sim = &self.sim;
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(m, _)| !sim.service_owes_response(m));
        self.held = kept;
        for (_, reply) in gone {
            let _ = reply.send(Reply::Accepted);
        }
    }

    /// Timers and the applications up to real time now (HTTP mode).
    fn advance_http(&mut self) {
        let Some(t) = &mut self.http else { return };
        self.sim.advance(t.now());
        let out = self.sim.take_outbox();
        self.dispatch(out);
    }
}

async fn next_incoming(run: &mut Option<Run>) -> Option<Incoming> {
    match run.as_mut().and_then(|r| r.http.as_mut()) {
        Some(t) => t.recv().await,
        None => std::future::pending().await,
    }
}

async fn run(
    config: SimConfig,
    speed: f64,
    mut commands: tmpsc::UnboundedReceiver<Command>,
    updates: mpsc::Sender<Update>,
    wake: Box<dyn Fn() + Send + Sync>,
) {
    let mut generation = 0u64;
    let mut clock = Clock {
        wall_base: Instant::now(),
        virtual_base: Time::ZERO,
        speed: speed.clamp(MIN_SPEED, MAX_SPEED),
        paused: false,
    };
    let send = |u: Update| {
        let ok = updates.send(u).is_ok();
        wake();
        ok
    };
    let mut run = match Run::new(config.clone()).await {
        Ok(r) => Some(r),
        Err(e) => {
            send(Update::Error(e));
            None
        }
    };
    if run.is_some()
        && !send(Update::Started {
            generation,
            config: Box::new(config),
        })
    {
        return;
    }
    let mut force = true;
    loop {
        // Advance the simulation to "now".
        let mut stepped_to = None;
        if let Some(r) = run.as_mut() {
            if r.http.is_some() {
                r.advance_http();
            } else {
                let target = clock.now();
                let mut steps = 0;
                while steps < MAX_STEPS_PER_WAKE
                    && r.sim.next_time().is_some_and(|t| t <= target)
                    && r.sim.step()
                {
                    steps += 1;
                }
                if steps == MAX_STEPS_PER_WAKE {
                    stepped_to = Some(r.sim.now());
                }
            }
        }
        if let Some(r) = run.as_mut() {
            let done = r.sim.is_done() || (r.http.is_none() && r.sim.next_time().is_none());
            // Over real HTTP messages come in thousands per second: one update per frame.
            let due = r.http.is_none() || r.last_update.elapsed() >= FRAME || done;
            if due {
                let delta = r.sim.timeline().delta(&mut r.cursor);
                // The end can come without a new event (the last message delivered over HTTP).
                if !delta.is_empty() || force || (done && !r.told_done) {
                    force = false;
                    r.told_done = done;
                    r.last_update = Instant::now();
                    let payloads = r.sim.payloads()[r.payloads_sent..].to_vec();
                    r.payloads_sent = r.sim.payloads().len();
                    let now = match &r.http {
                        Some(t) => t.now().max(r.sim.now()),
                        None if clock.paused => r.sim.now(),
                        None => clock.now().max(r.sim.now()),
                    };
                    let u = Update::Progress(Box::new(Progress {
                        generation,
                        delta,
                        payloads,
                        now,
                        report: r.sim.report(),
                        done,
                        paused: clock.paused && r.http.is_none(),
                        armed: r.sim.armed_drops(),
                    }));
                    if !send(u) {
                        return;
                    }
                }
            }
        }
        // Sleep until the next event is due (or a frame passes, or a command or message comes).
        let next = run.as_ref().and_then(|r| r.sim.next_time());
        let wait = match run.as_ref().and_then(|r| r.http.as_ref()) {
            Some(t) => next
                .map_or(FRAME, |n| t.instant(n).saturating_duration_since(Instant::now()))
                .min(FRAME),
            None if stepped_to.is_some() => Duration::ZERO,
            None => next
                .map_or(Duration::from_secs(3600), |t| clock.wall_until(t))
                .max(FRAME)
                .min(Duration::from_secs(3600)),
        };
        let cmd = tokio::select! {
            c = commands.recv() => c,
            inc = next_incoming(&mut run) => {
                if let (Some(inc), Some(r)) = (inc, run.as_mut()) {
                    r.on_incoming(inc);
                }
                continue;
            }
            _ = tokio::time::sleep(wait) => continue,
        };
        let Some(cmd) = cmd else { return };
        // Whatever the command did, report the state after it.
        force = true;
        let real = run.as_ref().is_some_and(|r| r.http.is_some());
        match cmd {
            Command::Shutdown => return,
            // Real sockets run in real time: pause, step and speed apply to the simulated link.
            Command::Pause | Command::Step | Command::Speed(_) if real => {}
            Command::Pause => {
                let now = clock.now();
                clock.paused = true;
                clock.rebase(now);
            }
            Command::Resume => {
                clock.paused = false;
                let at = run
                    .as_ref()
                    .map_or(clock.virtual_base, |r| r.sim.now().max(clock.virtual_base));
                clock.rebase(at);
            }
            Command::Step => {
                if let Some(r) = run.as_mut() {
                    r.sim.step();
                    clock.paused = true;
                    clock.rebase(r.sim.now());
                }
            }
            Command::Speed(s) => {
                let now = clock.now();
                clock.speed = s.clamp(MIN_SPEED, MAX_SPEED);
                clock.rebase(now);
            }
            Command::Restart(cfg) => {
                run = None; // Free the old ports first.
                match Run::new((*cfg).clone()).await {
                    Ok(r) => {
                        generation += 1;
                        run = Some(r);
                        clock.rebase(Time::ZERO);
                        if !send(Update::Started {
                            generation,
                            config: cfg,
                        }) {
                            return;
                        }
                    }
                    Err(e) => {
                        send(Update::Error(e));
                    }
                }
            }
            Command::DropNextMessage => {
                if let Some(r) = run.as_mut() {
                    r.sim.push_rule(true, DropRule::Next);
                }
            }
            Command::DropNextAck => {
                if let Some(r) = run.as_mut() {
                    r.sim.push_rule(false, DropRule::NextAcks { count: 1 });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Timeline;

    #[test]
    fn every_real_transport_run_gets_an_identity_of_its_own() {
        let ids: std::collections::HashSet<u64> = (0..64).map(|_| fresh_identity()).collect();
        assert_eq!(ids.len(), 64);
    }

    fn collect(handle: &LiveHandle, until: impl Fn(&Timeline, bool) -> bool) -> (Timeline, bool) {
        let mut t = Timeline::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let u = handle
                .updates
                .recv_timeout(Duration::from_secs(5))
                .expect("an update");
            if let Update::Progress(p) = u {
                let done = p.done;
                t.apply(p.delta);
                if until(&t, done) {
                    return (t, done);
                }
            }
            assert!(std::time::Instant::now() < deadline, "timed out");
        }
    }

    #[test]
    fn streams_the_same_timeline_as_the_virtual_time_run() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut cfg = SimConfig::default();
        cfg.workload.messages = 30;
        cfg.forward.loss = 0.1;
        cfg.backward.loss = 0.1;
        let handle = spawn(rt.handle(), cfg.clone(), MAX_SPEED, || {});
        let (live, done) = collect(&handle, |_, done| done);
        assert!(done);
        let mut reference = Simulation::new(cfg).unwrap();
        reference.run();
        let r = reference.timeline();
        assert_eq!(
            live.wires, r.wires,
            "live and virtual-time runs put the same messages on the wire"
        );
        assert_eq!(live.events, r.events);
        assert_eq!(live.sequences, r.sequences);
    }

    #[test]
    fn pause_step_and_restart() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut cfg = SimConfig::default();
        cfg.workload.messages = 1000;
        let handle = spawn(rt.handle(), cfg.clone(), 1.0, || {});
        handle.send(Command::Pause);
        // Drain until the pause shows.
        let paused_at = loop {
            if let Update::Progress(p) = handle.updates.recv_timeout(Duration::from_secs(5)).unwrap()
                && p.paused
            {
                break p.now;
            }
        };
        handle.send(Command::Step);
        let stepped = loop {
            if let Update::Progress(p) = handle.updates.recv_timeout(Duration::from_secs(5)).unwrap() {
                break p.now;
            }
        };
        assert!(stepped >= paused_at);
        cfg.workload.messages = 5;
        handle.send(Command::Restart(Box::new(cfg)));
        let generation = loop {
            if let Update::Started { generation, .. } =
                handle.updates.recv_timeout(Duration::from_secs(5)).unwrap()
            {
                break generation;
            }
        };
        assert_eq!(generation, 1);
    }
}
