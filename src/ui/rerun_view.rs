//! Recorded vs model: the embedded pair fitted to the recording's sequence on screen (its
//! settings, link and workload, its losses replayed), run in virtual time and shown next to
//! the recording — the summary table and the sequence/time plots overlaid, as in A/B compare —
//! with advice in the model's numbers. The user edits any setting or the link and runs the
//! model again (what-if).

use super::compare::{Overlay, overlay_plot};
use super::model::Dataset;
use super::settings_form::SettingsForm;
use super::style;
use crate::analysis::profile;
use crate::sim::SimConfig;
use crate::trace::SeqIdx;
use crate::whatif::advice::{self, Advice};
use crate::whatif::fit::{self, Fitted};
use crate::whatif::{Outcome, rerun};
use eframe::egui::{self, RichText};
use std::sync::mpsc;
use std::time::Duration;

/// What the model run gave.
pub struct ModelResult {
    pub outcome: Outcome,
    pub runs: usize,
    overlay: Overlay,
    /// Advice (only for the model as fitted: edits are what-ifs of their own).
    pub advice: Option<Vec<Advice>>,
    /// The what-if edits this run had, as text.
    pub changes: Vec<String>,
}

/// The recording's side, fixed while its sequence is on screen.
struct Recorded {
    key: (u64, u64, SeqIdx),
    sequence: String,
    fitted: Fitted,
    outcome: Outcome,
    overlay: Overlay,
    summary: crate::analysis::SequenceSummary,
    profile: profile::Profile,
}

pub struct RerunState {
    recorded: Option<Recorded>,
    /// The what-if settings (starts as the fit).
    pub form: SettingsForm,
    /// One-way delay of the model's link (ms).
    pub delay_ms: String,
    /// Replay the recording's losses, or lose at random at `loss_pct`.
    pub replay: bool,
    pub loss_pct: String,
    pub seeds: u32,
    running: Option<mpsc::Receiver<Result<ModelResult, String>>>,
    pub result: Option<ModelResult>,
    pub error: Option<String>,
    /// Run the model as soon as a recording is there (`--view model`).
    pub run_on_open: bool,
}

impl Default for RerunState {
    fn default() -> Self {
        RerunState {
            recorded: None,
            form: SettingsForm::default(),
            delay_ms: String::new(),
            replay: true,
            loss_pct: "0".into(),
            seeds: rerun::DEFAULT_SEEDS,
            running: None,
            result: None,
            error: None,
            run_on_open: false,
        }
    }
}

impl RerunState {
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// The model of the recording as fitted (for a sweep to start from).
    pub fn fitted(&self) -> Option<&SimConfig> {
        self.recorded.as_ref().map(|r| &r.fitted.config)
    }

    /// Fits the model to sequence `seq` of `d` (`NONE`: the busiest sequence no other one
    /// offered), unless it is the one already fitted. False when there is no sequence to fit.
    pub fn prepare(&mut self, d: &Dataset, seq: SeqIdx) -> bool {
        let pick = d
            .analysis
            .sequences
            .iter()
            .find(|s| s.index == seq && s.offered_by.is_none())
            .or_else(|| {
                // A return sequence on screen: its session's client sequence is the model's.
                let client = d.timeline.seq_info(seq).and_then(|i| i.offered_by);
                d.analysis.sequences.iter().find(|s| Some(s.index) == client)
            })
            .or_else(|| rerun::client_sequence(&d.analysis));
        let Some(s) = pick else {
            self.recorded = None;
            return false;
        };
        let key = (d.id, d.version, s.index);
        if self.recorded.as_ref().is_some_and(|r| r.key == key) {
            return true;
        }
        let p = profile::profile(&d.timeline, s);
        let fitted = fit::fit(&d.timeline, s, &p);
        self.reset_to(&fitted.config);
        self.recorded = Some(Recorded {
            key,
            sequence: s.id.clone(),
            outcome: Outcome::of(s),
            overlay: Overlay::of(d, s.index),
            fitted,
            summary: s.clone(),
            profile: p,
        });
        self.result = None;
        self.error = None;
        true
    }

    fn reset_to(&mut self, c: &SimConfig) {
        self.form = SettingsForm::from_config(c, None);
        self.delay_ms = format!("{:.3}", c.forward.delay.as_secs_f64() * 1e3);
        self.replay = true;
        self.loss_pct = "0".into();
    }

    /// The model as the form says: the fit with the edited settings and link.
    fn config(&self) -> Result<(SimConfig, Vec<String>), String> {
        let r = self.recorded.as_ref().ok_or("no recording to model")?;
        let mut c = r.fitted.config.clone();
        let edited = self.form.parse().map_err(|e| {
            e.into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mut changes = Vec::new();
        if edited.settings != c.settings {
            changes.push(format!("settings {}", edited.settings.to_config_snippet()));
        }
        c.settings = edited.settings;
        let delay: f64 = self
            .delay_ms
            .trim()
            .parse()
            .ok()
            .filter(|d: &f64| d.is_finite() && *d >= 0.0 && *d <= 3.6e6)
            .ok_or_else(|| format!("delay '{}' is not a number of milliseconds", self.delay_ms))?;
        let delay = Duration::from_secs_f64(delay / 1e3);
        if delay != c.forward.delay {
            changes.push(format!("delay {:.3} ms", delay.as_secs_f64() * 1e3));
        }
        c.forward.delay = delay;
        c.backward.delay = delay;
        if !self.replay {
            let pct: f64 = self
                .loss_pct
                .trim()
                .parse()
                .ok()
                .filter(|p: &f64| (0.0..100.0).contains(p))
                .ok_or_else(|| format!("loss '{}' is not a percentage below 100", self.loss_pct))?;
            c.forward_script.clear();
            c.forward.loss = pct / 100.0;
            c.backward.loss = pct / 100.0;
            changes.push(format!("random loss {pct} % each way"));
        }
        c.validate()?;
        Ok((c, changes))
    }

    /// Runs the model (in the background): advice too when nothing was edited.
    pub fn start(&mut self, wake: egui::Context) {
        let (cfg, changes) = match self.config() {
            Ok(c) => c,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let Some(r) = &self.recorded else {
            return;
        };
        let seeds = self.seeds;
        let with_advice = changes
            .is_empty()
            .then(|| (r.summary.clone(), r.profile.clone(), r.fitted.clone()));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let out = rerun::run_model_now(&cfg, seeds).map(|m| {
                let advice = with_advice.map(|(s, p, f)| advice::advise(&s, &p, &f, &m.outcome, seeds));
                let d = Dataset::from_run(cfg, m.timeline);
                ModelResult {
                    overlay: Overlay::of(&d, SeqIdx::NONE),
                    outcome: m.outcome,
                    runs: m.runs.len(),
                    advice,
                    changes,
                }
            });
            let _ = tx.send(out);
            wake.request_repaint();
        });
        self.error = None;
        self.running = Some(rx);
    }

    pub fn poll(&mut self) {
        if let Some(rx) = &self.running {
            match rx.try_recv() {
                Ok(Ok(r)) => {
                    self.result = Some(r);
                    self.running = None;
                }
                Ok(Err(e)) => {
                    self.error = Some(e);
                    self.running = None;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.error = Some("the model stopped unexpectedly".into());
                    self.running = None;
                }
            }
        }
    }

    /// Returns true when the user asked to run the model.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> bool {
        let mut run = false;
        ui.horizontal(|ui| {
            ui.heading("Recorded vs model");
            ui.weak("The embedded pair fitted to the recording, run in virtual time.");
        });
        let Some(rec) = &self.recorded else {
            ui.label("No WS-RM sequence in this recording to model.");
            return false;
        };
        ui.label(RichText::new(format!("Sequence {}", rec.sequence)).small());
        egui::CollapsingHeader::new("How the model was fitted")
            .id_salt("rerun-basis")
            .show(ui, |ui| {
                egui::Grid::new("rerun-basis-grid").striped(true).show(ui, |ui| {
                    for b in &rec.fitted.basis {
                        ui.label(b.what);
                        ui.label(&b.value).on_hover_text(&b.from);
                        ui.end_row();
                    }
                });
            });
        let busy = self.busy();
        let wide = ui.available_width() >= 900.0;
        let (form, delay, replay, loss, error, result) = (
            &mut self.form,
            &mut self.delay_ms,
            &mut self.replay,
            &mut self.loss_pct,
            &self.error,
            &self.result,
        );
        let mut reset = false;
        let mut edit_ui = |ui: &mut egui::Ui| {
            ui.strong("Model settings (what-if)");
            let problems = form.parse().err().unwrap_or_default();
            form.attributes_ui(ui, "rerun", &problems);
            egui::Grid::new("rerun-link").num_columns(2).show(ui, |ui| {
                let l = ui.label("one-way delay [ms]");
                ui.add(egui::TextEdit::singleline(delay).desired_width(80.0))
                    .labelled_by(l.id);
                ui.end_row();
                ui.label("losses");
                ui.horizontal(|ui| {
                    ui.radio_value(replay, true, "the recording's")
                        .on_hover_text("Every copy the recording resent is lost again: the same messages, at the same attempts");
                    ui.radio_value(replay, false, "random, % each way");
                    if !*replay {
                        ui.add(egui::TextEdit::singleline(loss).desired_width(50.0));
                    }
                });
                ui.end_row();
            });
            ui.horizontal(|ui| {
                let label = if busy { "Running…" } else { "Re-run model" };
                if ui
                    .add_enabled(
                        !busy && problems.is_empty(),
                        egui::Button::new(RichText::new(label).strong()),
                    )
                    .clicked()
                {
                    run = true;
                }
                reset = ui.button("Back to the fit").clicked();
            });
            if let Some(e) = error {
                ui.colored_label(style::LOST, e);
            }
        };
        let table_ui = |ui: &mut egui::Ui| match result {
            Some(m) => summary(ui, &rec.outcome, m),
            None => {
                ui.weak("Re-run the model to see it next to the recording.");
            }
        };
        if wide {
            ui.columns(2, |cols| {
                egui::ScrollArea::horizontal()
                    .id_salt("rerun-edit")
                    .show(&mut cols[0], |ui| edit_ui(ui));
                table_ui(&mut cols[1]);
            });
        } else {
            // Narrow: the comparison first; the what-if form folded under it.
            table_ui(ui);
            egui::CollapsingHeader::new("What-if: change the model's settings or link")
                .id_salt("rerun-what-if")
                .default_open(false)
                .show(ui, |ui| edit_ui(ui));
        }
        if reset {
            let c = rec.fitted.config.clone();
            self.reset_to(&c);
        }
        if let (Some(m), Some(rec)) = (&self.result, &self.recorded) {
            ui.add_space(6.0);
            overlay_plot(
                ui,
                "rerun-plot",
                320.0,
                ("recorded", &rec.overlay),
                ("model", &m.overlay),
            );
        }
        run
    }
}

fn summary(ui: &mut egui::Ui, recorded: &Outcome, m: &ModelResult) {
    egui::Grid::new("rerun-summary")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            let runs = if m.runs == 1 {
                "model".to_string()
            } else {
                format!("model (mean of {})", m.runs)
            };
            for h in ["", "recorded", &runs, "model / recorded"] {
                ui.strong(h);
            }
            ui.end_row();
            for ((name, r, digits), (_, v, _)) in recorded.rows().into_iter().zip(m.outcome.rows()) {
                let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
                ui.label(name);
                ui.label(show(r));
                ui.label(show(v));
                ui.label(match (r, v) {
                    (Some(r), Some(v)) if r != 0.0 => format!("{:.2}", v / r),
                    _ => "–".into(),
                });
                ui.end_row();
            }
        });
    for c in &m.changes {
        ui.label(RichText::new(format!("what-if: {c}")).small());
    }
    match &m.advice {
        Some(a) if a.is_empty() => {
            ui.weak("Advice: none — nothing the settings hold back.");
        }
        Some(a) => {
            ui.strong("Advice");
            for a in a {
                ui.label(format!("• {}", a.text));
            }
        }
        None => {}
    }
}
