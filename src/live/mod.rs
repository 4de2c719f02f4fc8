//! The live driver: runs the simulated pair in a tokio task in real time (scaled by a speed
//! factor) and streams timeline deltas to whoever watches (the app). Commands pause, resume,
//! step, change speed, restart with new settings, and script drops. The engine inside is the
//! same sans-IO code the virtual-time simulator runs.

use crate::netsim::DropRule;
use crate::sim::{Report, SimConfig, Simulation};
use crate::trace::{Delta, DeltaCursor, Time};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::mpsc as tmpsc;
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
}

impl Run {
    fn new(config: SimConfig) -> Result<Run, String> {
        let mut config = config;
        config.record = true;
        Ok(Run {
            sim: Simulation::new(config)?,
            cursor: DeltaCursor::default(),
            payloads_sent: 0,
        })
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
    let mut run = match Run::new(config.clone()) {
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
            let target = clock.now();
            let mut steps = 0;
            while steps < MAX_STEPS_PER_WAKE && r.sim.next_time().is_some_and(|t| t <= target) && r.sim.step()
            {
                steps += 1;
            }
            if steps == MAX_STEPS_PER_WAKE {
                stepped_to = Some(r.sim.now());
            }
        }
        if let Some(r) = run.as_mut() {
            let delta = r.sim.timeline().delta(&mut r.cursor);
            let payloads = r.sim.payloads()[r.payloads_sent..].to_vec();
            r.payloads_sent = r.sim.payloads().len();
            let done = r.sim.is_done() || r.sim.next_time().is_none();
            if !delta.is_empty() || force {
                force = false;
                let now = if clock.paused {
                    r.sim.now()
                } else {
                    clock.now().max(r.sim.now())
                };
                let u = Update::Progress(Box::new(Progress {
                    generation,
                    delta,
                    payloads,
                    now,
                    report: r.sim.report(),
                    done,
                    paused: clock.paused,
                }));
                if !send(u) {
                    return;
                }
            }
        }
        // Sleep until the next event is due (or a frame passes, or a command comes).
        let next = run.as_ref().and_then(|r| r.sim.next_time());
        let wait = if stepped_to.is_some() {
            Duration::ZERO
        } else {
            next.map_or(Duration::from_secs(3600), |t| clock.wall_until(t))
                .max(FRAME)
                .min(Duration::from_secs(3600))
        };
        let cmd = tokio::select! {
            c = commands.recv() => c,
            _ = tokio::time::sleep(wait) => continue,
        };
        let Some(cmd) = cmd else { return };
        // Whatever the command did, report the state after it.
        force = true;
        match cmd {
            Command::Shutdown => return,
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
            Command::Restart(cfg) => match Run::new((*cfg).clone()) {
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
            },
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
