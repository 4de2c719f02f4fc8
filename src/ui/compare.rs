//! A/B compare: the same workload over the same seeded link with two sets of
//! `<reliableSession>` settings, run to completion in virtual time, overlaid.

use super::decimate::{Viewport, decimate, thin_markers};
use super::model::Dataset;
use super::plots::data::{self, PlotData};
use super::settings_form::SettingsForm;
use super::style;
use crate::sim::{Report, SimConfig, Simulation};
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Corner, Legend, Line, MarkerShape, Plot, Points};
use std::sync::mpsc;

/// One side's outcome.
pub struct Run {
    pub report: Report,
    pub snippet: String,
    pub overlay: Overlay,
}

/// One run's sequence/time marks, thinned for an overlaid plot.
#[derive(Clone, Default)]
pub struct Overlay {
    pub first: Vec<[f64; 2]>,
    pub retransmitted: Vec<[f64; 2]>,
    /// Delivered (a run) or cumulatively acknowledged (a recording).
    pub delivered: Vec<[f64; 2]>,
}

impl Overlay {
    /// Sequence `seq` of `d` (`NONE`: the one the plots would pick).
    pub fn of(d: &Dataset, seq: crate::trace::SeqIdx) -> Overlay {
        let seq = if seq.is_none() {
            data::default_sequence(d)
        } else {
            seq
        };
        let p: PlotData = data::build(d, seq, false);
        let vp = Viewport {
            x0: p.t0,
            x1: p.t1.max(p.t0 + 1e-3),
            y0: 0.0,
            y1: p.max_number.max(1.0) + 1.0,
            columns: PLOT_CELLS.0,
            rows: PLOT_CELLS.1,
        };
        Overlay {
            first: thin_markers(&p.seq_time.first.pts, vp),
            retransmitted: thin_markers(&p.seq_time.retransmitted.pts, vp),
            delivered: decimate(&p.seq_time.delivered, vp.x0, vp.x1, vp.columns),
        }
    }
}

/// Colours of the second run in an overlay.
pub const B_FIRST: Color32 = Color32::from_rgb(60, 200, 200);
pub const B_RETRANSMIT: Color32 = Color32::from_rgb(235, 80, 160);

/// Two runs' sequence/time marks in one plot: (name, marks) for A and B, at least
/// `min_height` tall (the rest of the view scrolls).
pub fn overlay_plot(ui: &mut egui::Ui, id: &str, min_height: f32, a: (&str, &Overlay), b: (&str, &Overlay)) {
    // The curves rise from the bottom left: the legend goes where they are not.
    super::plots::axis::readable(Plot::new(id))
        .legend(Legend::default().position(Corner::RightBottom))
        // Inside the tab's scroll area: leave the scroll bar its room, or the plot is clipped.
        .width((ui.available_width() - ui.spacing().scroll.bar_width - 6.0).max(120.0))
        .height(ui.available_height().max(min_height))
        .x_axis_label("time [s]")
        .y_axis_label("message number")
        .show(ui, |pu| {
            let (an, a) = a;
            let (bn, b) = b;
            pu.line(Line::new(format!("{an} delivered"), a.delivered.clone()).color(style::DELIVERED));
            pu.line(Line::new(format!("{bn} delivered"), b.delivered.clone()).color(style::TIMER));
            pu.points(
                Points::new(format!("{an} first send"), a.first.clone())
                    .color(style::FIRST)
                    .radius(1.5),
            );
            pu.points(
                Points::new(format!("{an} retransmission"), a.retransmitted.clone())
                    .color(style::RETRANSMIT)
                    .shape(MarkerShape::Diamond)
                    .radius(2.5),
            );
            pu.points(
                Points::new(format!("{bn} first send"), b.first.clone())
                    .color(B_FIRST)
                    .shape(MarkerShape::Square)
                    .radius(1.5),
            );
            pu.points(
                Points::new(format!("{bn} retransmission"), b.retransmitted.clone())
                    .color(B_RETRANSMIT)
                    .shape(MarkerShape::Diamond)
                    .radius(2.5),
            );
        });
}

pub struct CompareResult {
    pub a: Run,
    pub b: Run,
}

/// Most points per series handed to the plot (runs can be long).
const PLOT_CELLS: (usize, usize) = (1600, 800);

fn run_one(cfg: SimConfig) -> Result<Run, String> {
    let snippet = cfg.settings.to_config_snippet();
    let mut sim = Simulation::new(cfg.clone())?;
    let report = sim.run();
    let d = Dataset::from_run(cfg, sim.take_timeline());
    Ok(Run {
        report,
        snippet,
        overlay: Overlay::of(&d, crate::trace::SeqIdx::NONE),
    })
}

pub struct CompareState {
    /// Settings of B (A is the settings panel).
    pub b: SettingsForm,
    running: Option<mpsc::Receiver<Result<CompareResult, String>>>,
    pub result: Option<CompareResult>,
    pub error: Option<String>,
    /// What A is when it is not the settings panel (a sweep's base).
    pub a_is: Option<String>,
}

impl Default for CompareState {
    fn default() -> Self {
        CompareState {
            // A first contrast that shows at once: acknowledgements five times slower.
            b: SettingsForm {
                acknowledgement_interval: "00:00:01".into(),
                ..SettingsForm::default()
            },
            running: None,
            result: None,
            error: None,
            a_is: None,
        }
    }
}

impl CompareState {
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Starts both runs: B takes A's link, seed and workload with its own attributes.
    pub fn start(&mut self, a: SimConfig, wake: egui::Context) {
        self.a_is = None;
        let b_settings = match self.b.parse() {
            Ok(c) => c.settings,
            Err(e) => {
                self.error = Some(format!(
                    "B: {}",
                    e.into_iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                return;
            }
        };
        let mut b = a.clone();
        b.settings = b_settings;
        self.run_pair(a, b, wake);
    }

    /// Runs `a` against `b` as given (a sweep's point against its base): B's form shows b's
    /// settings; the header says what A is.
    pub fn start_pair(&mut self, a: SimConfig, b: SimConfig, a_is: String, wake: egui::Context) {
        let keep = self.b.preset.clone();
        self.b = SettingsForm::from_config(&b, None);
        self.b.preset = keep;
        self.a_is = Some(a_is);
        self.run_pair(a, b, wake);
    }

    fn run_pair(&mut self, a: SimConfig, b: SimConfig, wake: egui::Context) {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let r = std::thread::scope(|s| {
                let ha = s.spawn(|| run_one(a));
                let hb = s.spawn(|| run_one(b));
                let a = ha.join().map_err(|_| "run A failed".to_string())??;
                let b = hb.join().map_err(|_| "run B failed".to_string())??;
                Ok(CompareResult { a, b })
            });
            let _ = tx.send(r);
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
                    self.error = Some("the comparison stopped unexpectedly".into());
                    self.running = None;
                }
            }
        }
    }

    /// Returns true when the user asked to run.
    pub fn ui(&mut self, ui: &mut egui::Ui, a: &SettingsForm) -> bool {
        let mut run = false;
        ui.horizontal(|ui| {
            ui.heading("A/B compare");
            match &self.a_is {
                Some(a) => ui.weak(format!(
                    "A = {a}; B = below. Same workload, same link, same seed."
                )),
                None => ui.weak("A = the settings panel; B = below. Same workload, same link, same seed."),
            };
        });
        let mut copy_a = false;
        // Side by side where there is room; else the summary below B's settings (the settings'
        // fixed-width fields would run into the summary).
        let wide = ui.available_width() >= 900.0;
        let busy = self.busy();
        let (b, error, result) = (&mut self.b, &self.error, &self.result);
        let mut settings_ui = |ui: &mut egui::Ui| {
            ui.strong("B settings");
            let problems = b.parse().err().unwrap_or_default();
            b.attributes_ui(ui, "b", &problems);
            ui.horizontal(|ui| {
                copy_a = ui.button("Copy A into B").clicked();
                let ok = problems.is_empty() && a.parse().is_ok();
                let label = if busy { "Running…" } else { "Run A and B" };
                if ui
                    .add_enabled(ok && !busy, egui::Button::new(RichText::new(label).strong()))
                    .clicked()
                {
                    run = true;
                }
            });
            if let Some(e) = error {
                ui.colored_label(style::LOST, e);
            }
        };
        let summary_ui = |ui: &mut egui::Ui, result: &Option<CompareResult>| match result {
            Some(r) => summary(ui, r),
            None => {
                ui.weak("Run both to see a summary and their sequence/time plots overlaid.");
            }
        };
        if wide {
            ui.columns(2, |cols| {
                egui::ScrollArea::horizontal()
                    .id_salt("compare-b")
                    .show(&mut cols[0], |ui| settings_ui(ui));
                summary_ui(&mut cols[1], result);
            });
        } else {
            settings_ui(ui);
            ui.separator();
            summary_ui(ui, result);
        }
        if copy_a {
            let keep = self.b.preset.clone();
            self.b = a.clone();
            self.b.preset = keep;
        }
        let Some(r) = &self.result else {
            return run;
        };
        ui.add_space(6.0);
        overlay_plot(
            ui,
            "compare-plot",
            180.0,
            ("A", &r.a.overlay),
            ("B", &r.b.overlay),
        );
        run
    }
}

fn summary(ui: &mut egui::Ui, r: &CompareResult) {
    egui::Grid::new("compare-summary")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for h in ["", "A", "B", "B − A"] {
                ui.strong(h);
            }
            ui.end_row();
            let mut row = |name: &str, a: f64, b: f64, digits: usize| {
                ui.label(name);
                ui.label(format!("{a:.digits$}"));
                ui.label(format!("{b:.digits$}"));
                ui.label(format!("{:+.digits$}", b - a));
                ui.end_row();
            };
            let (a, b) = (&r.a.report, &r.b.report);
            row("delivered", a.delivered as f64, b.delivered as f64, 0);
            row("transmissions", a.transmissions as f64, b.transmissions as f64, 0);
            row(
                "retransmissions",
                a.retransmissions as f64,
                b.retransmissions as f64,
                0,
            );
            row("acks", a.acks as f64, b.acks as f64, 0);
            row(
                "lost on the link",
                a.lost_on_link as f64,
                b.lost_on_link as f64,
                0,
            );
            row("max window", a.max_window as f64, b.max_window as f64, 0);
            row("completion time [s]", a.completion_time, b.completion_time, 3);
            row("goodput [msg/s]", a.goodput, b.goodput, 1);
            row("send timeouts", a.send_timeouts as f64, b.send_timeouts as f64, 0);
            row("faults", a.faults.len() as f64, b.faults.len() as f64, 0);
        });
    // A run that faulted says why (WCF's text and the fault sent or received).
    for (side, rep) in [("A", &r.a.report), ("B", &r.b.report)] {
        for f in &rep.faults {
            ui.colored_label(
                style::LOST,
                format!(
                    "{side} faulted at {:.3} s: wsrm:{} — {}",
                    f.time,
                    f.code.name(),
                    f.text
                ),
            );
        }
    }
    ui.collapsing("Settings compared", |ui| {
        ui.monospace(format!("A {}\nB {}", r.a.snippet, r.b.snippet));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wider_window_finishes_sooner() {
        let mut a = SimConfig::default();
        a.workload.messages = 200;
        a.forward.delay = std::time::Duration::from_millis(100);
        let mut b = a.clone();
        b.settings.max_transfer_window_size = 64;
        let (ra, rb) = (run_one(a).unwrap(), run_one(b).unwrap());
        assert_eq!((ra.report.delivered, rb.report.delivered), (200, 200));
        assert!(rb.report.completion_time < ra.report.completion_time);
        assert!(!ra.overlay.first.is_empty() && !ra.overlay.delivered.is_empty());
    }
}
