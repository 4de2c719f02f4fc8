//! The app's side of the live driver: the tokio runtime it runs on, the commands the toolbar
//! sends, and the dataset the streamed deltas build up.

use super::model::Dataset;
use crate::live::{self, Command, LiveHandle, Update};
use crate::sim::{Report, SimConfig};
use crate::trace::Time;
use std::time::{Duration, Instant};

pub struct LiveSource {
    _rt: tokio::runtime::Runtime,
    handle: LiveHandle,
    pub data: Dataset,
    generation: u64,
    pub now: Time,
    pub report: Report,
    pub done: bool,
    pub paused: bool,
    /// "Drop next" requests not yet carried out: [messages, acks].
    pub armed: [u32; 2],
    pub speed: f64,
    /// Settings the driver refused.
    pub error: Option<String>,
    /// When the analysis last ran and how long it took (it is throttled on big sessions).
    analysed_at: Instant,
    analysis_cost: Duration,
}

impl LiveSource {
    pub fn start(mut config: SimConfig, speed: f64, ctx: &eframe::egui::Context) -> LiveSource {
        // The views need the whole timeline.
        config.record = true;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rmscope-live")
            .enable_all()
            .build()
            .expect("a tokio runtime (threads available)");
        let wake = ctx.clone();
        let handle = live::spawn(rt.handle(), config.clone(), speed, move || wake.request_repaint());
        LiveSource {
            _rt: rt,
            handle,
            data: Dataset::live(config),
            generation: 0,
            now: Time::ZERO,
            report: Report::default(),
            done: false,
            paused: false,
            armed: [0, 0],
            speed,
            error: None,
            analysed_at: Instant::now(),
            analysis_cost: Duration::ZERO,
        }
    }

    /// Takes what the driver sent; returns whether anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(u) = self.handle.updates.try_recv() {
            changed = true;
            match u {
                Update::Started { generation, config } => {
                    self.generation = generation;
                    self.data = Dataset::live(*config);
                    self.done = false;
                    self.armed = [0, 0];
                    self.error = None;
                    self.now = Time::ZERO;
                    self.report = Report::default();
                }
                Update::Progress(p) if p.generation == self.generation => {
                    self.data.timeline.apply(p.delta);
                    self.data.payloads.extend(p.payloads);
                    self.data.now = p.now;
                    self.now = p.now;
                    self.report = p.report;
                    self.done = p.done;
                    self.paused = p.paused;
                    self.armed = p.armed;
                    if self.data.ended != p.done {
                        // End-of-session findings appear (or go) with the end of the run.
                        self.data.ended = p.done;
                        self.data.mark_stale();
                    }
                }
                Update::Progress(_) => {}
                Update::Error(e) => self.error = Some(e),
            }
        }
        if changed {
            self.data.now = self.now;
        }
        self.maybe_reanalyse();
        changed
    }

    /// Re-runs the analysis when the timeline grew, at most as often as it is cheap to.
    fn maybe_reanalyse(&mut self) {
        if !self.data.stale() && !self.done {
            return;
        }
        let gap = (self.analysis_cost * 4).max(Duration::from_millis(50));
        if self.data.stale() && (self.done || self.analysed_at.elapsed() >= gap) {
            let t = Instant::now();
            self.data.reanalyse();
            self.analysis_cost = t.elapsed();
            self.analysed_at = Instant::now();
        }
    }

    /// Whether the view still changes on its own (the app keeps repainting).
    pub fn running(&self) -> bool {
        !self.done && !self.paused
    }

    pub fn restart(&mut self, mut config: SimConfig) {
        config.record = true;
        self.handle.send(Command::Restart(Box::new(config)));
        self.handle.send(Command::Resume);
    }

    pub fn pause(&mut self) {
        self.handle.send(Command::Pause);
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.handle.send(Command::Resume);
        self.paused = false;
    }

    pub fn toggle_pause(&mut self) {
        if self.real_time() {
            return;
        }
        if self.paused { self.resume() } else { self.pause() }
    }

    /// Whether the session runs over real sockets (real time: no pause, step or speed).
    pub fn real_time(&self) -> bool {
        self.config()
            .is_some_and(|c| matches!(c.transport, crate::sim::Transport::Http { .. }))
    }

    pub fn step(&mut self) {
        self.handle.send(Command::Step);
        self.paused = true;
    }

    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed.clamp(live::MIN_SPEED, live::MAX_SPEED);
        self.handle.send(Command::Speed(self.speed));
    }

    pub fn drop_next_message(&mut self) {
        self.armed[0] += 1;
        self.handle.send(Command::DropNextMessage);
    }

    pub fn drop_next_ack(&mut self) {
        self.armed[1] += 1;
        self.handle.send(Command::DropNextAck);
    }

    /// The configuration of the current run.
    pub fn config(&self) -> Option<&SimConfig> {
        self.data.config.as_deref()
    }
}
