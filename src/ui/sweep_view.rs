//! The Sweep tab: a grid of settings (one or two parameters) × loss rates × seeds, each point a
//! virtual-time run of the embedded pair, on every core with a progress bar and Cancel; goodput,
//! median ack latency and retransmissions plotted against the parameter (a line per loss rate)
//! or, for two parameters, as a heatmap. Hover says the values; a click opens that point
//! against the base in A/B compare.

use super::style;
use crate::sim::SimConfig;
use crate::whatif::Cancelled;
use crate::whatif::sweep::{self, Cell, Param, Run, Spec};
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoint, PlotPoints, Points, Polygon};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// What the plots show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Goodput,
    AckLatency,
    Retransmissions,
}

impl Metric {
    const ALL: [Metric; 3] = [Metric::Goodput, Metric::AckLatency, Metric::Retransmissions];

    fn label(self) -> &'static str {
        match self {
            Metric::Goodput => "goodput [msg/s]",
            Metric::AckLatency => "median ack latency [ms]",
            Metric::Retransmissions => "retransmissions",
        }
    }

    fn of(self, c: &Cell) -> Option<f64> {
        match self {
            Metric::Goodput => Some(c.goodput),
            Metric::AckLatency => c.ack_latency_median.map(|l| l * 1e3),
            Metric::Retransmissions => Some(c.retransmissions),
        }
    }
}

struct Running {
    done: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    total: usize,
    rx: mpsc::Receiver<Result<Vec<Run>, Cancelled>>,
    spec: Spec,
}

pub struct Finished {
    pub spec: Spec,
    pub cells: Vec<Cell>,
    pub runs: usize,
}

pub struct SweepState {
    pub first: Param,
    pub first_values: String,
    pub second: Option<Param>,
    pub second_values: String,
    pub losses: String,
    pub seeds: String,
    pub messages: String,
    /// Start from the recording's model (when a recording is open) instead of the settings
    /// panel.
    pub from_recording: bool,
    /// The heatmap's measure (two parameters).
    pub metric: Metric,
    /// The loss rate the heatmap shows.
    pub heat_loss: usize,
    running: Option<Running>,
    pub result: Option<Finished>,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// Run as soon as the tab shows (`--view sweep`).
    pub run_on_open: bool,
    /// Where the last plot was drawn (tests point at it).
    pub plot_rect: Option<egui::Rect>,
}

impl Default for SweepState {
    fn default() -> Self {
        SweepState {
            first: Param::MaxTransferWindowSize,
            first_values: "1,2,4,8,16,32,64".into(),
            second: None,
            second_values: "50ms..200ms/4".into(),
            losses: "0,0.01,0.05".into(),
            seeds: "3".into(),
            messages: "1000".into(),
            from_recording: true,
            metric: Metric::Goodput,
            heat_loss: 0,
            running: None,
            result: None,
            error: None,
            notice: None,
            run_on_open: false,
            plot_rect: None,
        }
    }
}

/// A point the user picked: (base, the point), for A/B compare.
pub type Picked = (SimConfig, SimConfig, String);

impl SweepState {
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Runs done and to do, while running.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.running
            .as_ref()
            .map(|r| (r.done.load(Ordering::Relaxed), r.total))
    }

    /// The grid the form says, over `base`.
    pub fn spec(&self, mut base: SimConfig) -> Result<Spec, String> {
        let mut axes = vec![sweep::parse_axis(&format!(
            "{}={}",
            self.first.name(),
            self.first_values
        ))?];
        if let Some(p) = self.second {
            if p == self.first {
                return Err("the two parameters must differ".into());
            }
            axes.push(sweep::parse_axis(&format!(
                "{}={}",
                p.name(),
                self.second_values
            ))?);
        }
        let seeds: u32 = self
            .seeds
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=1000).contains(s))
            .ok_or("seeds: 1 to 1000")?;
        let messages: u64 = self
            .messages
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=10_000_000).contains(m))
            .ok_or("messages: 1 to 10,000,000")?;
        base.workload.messages = messages;
        base.workload.sessions = 1;
        // Random loss at each rate (a recording's replayed losses would come on top).
        base.forward_script.clear();
        base.backward_script.clear();
        base.record = false;
        let spec = Spec {
            base,
            axes,
            losses: sweep::parse_losses(&self.losses)?,
            seeds,
        };
        spec.validate()?;
        Ok(spec)
    }

    pub fn start(&mut self, base: SimConfig, wake: egui::Context) {
        let spec = match self.spec(base) {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let done = Arc::new(AtomicUsize::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (d, c, s) = (done.clone(), cancel.clone(), spec.clone());
        std::thread::spawn(move || {
            // Repaint while it runs, for the progress bar.
            let ticker = {
                let (wake, c) = (wake.clone(), c.clone());
                let finished = Arc::new(AtomicBool::new(false));
                let f = finished.clone();
                std::thread::spawn(move || {
                    while !f.load(Ordering::Relaxed) && !c.load(Ordering::Relaxed) {
                        wake.request_repaint();
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                });
                finished
            };
            let out = sweep::run(&s, &d, &c);
            ticker.store(true, Ordering::Relaxed);
            let _ = tx.send(out);
            wake.request_repaint();
        });
        self.error = None;
        self.notice = None;
        self.running = Some(Running {
            done,
            cancel,
            total: spec.runs(),
            rx,
            spec,
        });
    }

    pub fn cancel(&mut self) {
        if let Some(r) = &self.running {
            r.cancel.store(true, Ordering::Relaxed);
        }
    }

    pub fn poll(&mut self) {
        let Some(r) = &self.running else {
            return;
        };
        match r.rx.try_recv() {
            Ok(Ok(runs)) => {
                let r = self.running.take().expect("running");
                self.result = Some(Finished {
                    cells: sweep::cells(&runs),
                    runs: runs.len(),
                    spec: r.spec,
                });
                self.heat_loss = 0;
            }
            Ok(Err(Cancelled)) => {
                let done = r.done.load(Ordering::Relaxed);
                self.notice = Some(format!("cancelled after {done} of {} runs", r.total));
                self.running = None;
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                self.error = Some("the sweep stopped unexpectedly".into());
                self.running = None;
            }
        }
    }

    /// `live`: the settings panel's configuration; `recording`: the recording's model, when one
    /// is open. Returns (true when Run was pressed, a point picked for A/B).
    pub fn ui(&mut self, ui: &mut egui::Ui, live_ok: bool, recording: bool) -> (bool, Option<Picked>) {
        let mut run = false;
        ui.horizontal(|ui| {
            ui.heading("Sweep");
            ui.weak("Every point a virtual-time run of the embedded pair; the mean of its seeds.");
        });
        let busy = self.busy();
        ui.add_enabled_ui(!busy, |ui| {
            egui::Grid::new("sweep-form")
                .num_columns(2)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    let l = ui.label("parameter");
                    ui.horizontal(|ui| {
                        param_combo(ui, "sweep-p1", &mut self.first);
                        ui.add(egui::TextEdit::singleline(&mut self.first_values).desired_width(220.0))
                            .labelled_by(l.id)
                            .on_hover_text(
                                "v1,v2,… or FROM..TO/N (N values evenly), e.g. 1,2,4,8 or 20ms..200ms/4",
                            );
                    });
                    ui.end_row();
                    let l2 = ui.label("second parameter");
                    ui.horizontal(|ui| {
                        let mut on = self.second.is_some();
                        if ui
                            .checkbox(&mut on, "two")
                            .on_hover_text("Two parameters: a heatmap")
                            .changed()
                        {
                            self.second = on.then_some(if self.first == Param::AckInterval {
                                Param::MaxTransferWindowSize
                            } else {
                                Param::AckInterval
                            });
                        }
                        if let Some(p) = &mut self.second {
                            param_combo(ui, "sweep-p2", p);
                            ui.add(egui::TextEdit::singleline(&mut self.second_values).desired_width(220.0))
                                .labelled_by(l2.id);
                        }
                    });
                    ui.end_row();
                    let l = ui.label("loss rates");
                    ui.add(egui::TextEdit::singleline(&mut self.losses).desired_width(160.0))
                        .labelled_by(l.id)
                        .on_hover_text("Each direction, comma-separated: a line per rate");
                    ui.end_row();
                    let l = ui.label("seeds per point");
                    ui.add(egui::TextEdit::singleline(&mut self.seeds).desired_width(60.0))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("messages per run");
                    ui.add(egui::TextEdit::singleline(&mut self.messages).desired_width(80.0))
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("start from");
                    ui.horizontal(|ui| {
                        if recording {
                            ui.radio_value(&mut self.from_recording, true, "the recording's model");
                            ui.radio_value(&mut self.from_recording, false, "the settings panel");
                        } else {
                            ui.label("the settings panel (Live)");
                        }
                    });
                    ui.end_row();
                });
        });
        ui.horizontal(|ui| {
            if busy {
                if ui.button("Cancel").clicked() {
                    self.cancel();
                }
                if let Some((done, total)) = self.progress() {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .text(format!("{done} / {total} runs"))
                            .desired_width(260.0),
                    );
                }
            } else {
                let base_ok = live_ok || (recording && self.from_recording);
                if ui
                    .add_enabled(base_ok, egui::Button::new(RichText::new("Run sweep").strong()))
                    .clicked()
                {
                    run = true;
                }
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(style::LOST, e);
        }
        if let Some(n) = &self.notice {
            ui.label(n);
        }
        let mut picked = None;
        if let Some(f) = &self.result {
            ui.label(format!(
                "{} runs: {} points × {} loss rates × {} seeds, {} messages each",
                f.runs,
                f.spec.points().len(),
                f.spec.losses.len(),
                f.spec.seeds,
                f.spec.base.workload.messages
            ));
            let (p, rect) = if f.spec.axes.len() == 1 {
                lines(ui, f)
            } else {
                heatmap(ui, f, &mut self.metric, &mut self.heat_loss)
            };
            picked = p;
            self.plot_rect = Some(rect);
        }
        (run, picked)
    }
}

fn param_combo(ui: &mut egui::Ui, id: &str, p: &mut Param) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(p.label())
        .show_ui(ui, |ui| {
            for q in Param::ALL {
                ui.selectable_value(p, q, q.label());
            }
        });
}

/// A line per loss rate.
const LOSS_COLOURS: [Color32; 6] = [
    style::FIRST,
    style::RETRANSMIT,
    style::LOST,
    style::ACK,
    style::DELIVERED,
    style::TIMER,
];

/// The base and one grid point, for A/B.
fn pick(f: &Finished, c: &Cell) -> Picked {
    let a = SimConfig {
        record: true,
        ..f.spec.config(&[], c.loss, f.spec.base.seed)
    };
    let b = SimConfig {
        record: true,
        ..f.spec.config(&c.values, c.loss, f.spec.base.seed)
    };
    let what = f
        .spec
        .axes
        .iter()
        .zip(&c.values)
        .map(|(a, &v)| format!("{} {}", a.param.name(), a.param.show(v)))
        .collect::<Vec<_>>()
        .join(", ");
    (a, b, format!("the sweep's base (B: {what}, loss {})", c.loss))
}

fn describe(f: &Finished, c: &Cell) -> String {
    let mut s: Vec<String> = f
        .spec
        .axes
        .iter()
        .zip(&c.values)
        .map(|(a, &v)| format!("{} {}", a.param.name(), a.param.show(v)))
        .collect();
    s.push(format!("loss {}", c.loss));
    format!(
        "{}\ngoodput {:.1} msg/s · median ack latency {} · {:.1} retransmissions · {:.3} s{}\nclick: open in A/B compare",
        s.join(", "),
        c.goodput,
        c.ack_latency_median
            .map_or("–".into(), |l| format!("{:.1} ms", l * 1e3)),
        c.retransmissions,
        c.completion_time,
        if c.failed > 0 {
            format!(" · {} of {} runs failed", c.failed, c.runs)
        } else {
            String::new()
        }
    )
}

/// One parameter: three plots against it, a line per loss rate.
fn lines(ui: &mut egui::Ui, f: &Finished) -> (Option<Picked>, egui::Rect) {
    let axis = &f.spec.axes[0];
    let mut picked = None;
    let mut rect = egui::Rect::NOTHING;
    let height = ((ui.available_height() - 30.0) / 3.0).max(180.0);
    for metric in Metric::ALL {
        let resp = super::plots::axis::readable(Plot::new(("sweep-line", metric.label())))
            .legend(Legend::default())
            .height(height)
            .width((ui.available_width() - ui.spacing().scroll.bar_width - 6.0).max(120.0))
            .x_axis_label(axis.param.label())
            .y_axis_label(metric.label())
            .include_y(0.0)
            .show(ui, |pu| {
                for (i, &loss) in f.spec.losses.iter().enumerate() {
                    let pts: Vec<[f64; 2]> = f
                        .cells
                        .iter()
                        .filter(|c| c.loss == loss)
                        .filter_map(|c| Some([c.values[0], metric.of(c)?]))
                        .collect();
                    let colour = LOSS_COLOURS[i % LOSS_COLOURS.len()];
                    let name = format!("loss {loss}");
                    pu.line(Line::new(name.clone(), pts.clone()).color(colour));
                    pu.points(
                        Points::new(name, pts)
                            .color(colour)
                            .radius(3.0)
                            .shape(MarkerShape::Circle),
                    );
                }
            });
        let (t, response) = (resp.transform, resp.response);
        rect = response.rect;
        if let Some(pos) = response.hover_pos() {
            let near = f
                .cells
                .iter()
                .filter_map(|c| {
                    let v = metric.of(c)?;
                    let p = t.position_from_point(&PlotPoint::new(c.values[0], v));
                    Some((p.distance(pos), c))
                })
                .filter(|(d, _)| *d < 12.0)
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, c)) = near {
                response.clone().on_hover_text_at_pointer(describe(f, c));
                if response.clicked() {
                    picked = Some(pick(f, c));
                }
            }
        }
    }
    (picked, rect)
}

/// Two parameters: a cell per pair of values (by index), coloured by the chosen measure.
fn heatmap(
    ui: &mut egui::Ui,
    f: &Finished,
    metric: &mut Metric,
    loss: &mut usize,
) -> (Option<Picked>, egui::Rect) {
    let (ax, ay) = (&f.spec.axes[0], &f.spec.axes[1]);
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("sweep-metric")
            .selected_text(metric.label())
            .show_ui(ui, |ui| {
                for m in Metric::ALL {
                    ui.selectable_value(metric, m, m.label());
                }
            });
        egui::ComboBox::from_id_salt("sweep-heat-loss")
            .selected_text(format!(
                "loss {}",
                f.spec.losses.get(*loss).copied().unwrap_or(0.0)
            ))
            .show_ui(ui, |ui| {
                for (i, l) in f.spec.losses.iter().enumerate() {
                    ui.selectable_value(loss, i, format!("loss {l}"));
                }
            });
    });
    let l = f.spec.losses.get(*loss).copied().unwrap_or(0.0);
    let cells: Vec<&Cell> = f.cells.iter().filter(|c| c.loss == l).collect();
    let values: Vec<f64> = cells.iter().filter_map(|c| metric.of(c)).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let index = |vals: &[f64], v: f64| vals.iter().position(|&x| x == v).unwrap_or(0) as f64;
    let (xs, ys) = (ax.values.clone(), ay.values.clone());
    let (px, py) = (ax.param, ay.param);
    let resp = Plot::new("sweep-heatmap")
        .height(ui.available_height().max(200.0))
        .width((ui.available_width() - ui.spacing().scroll.bar_width - 6.0).max(120.0))
        .x_axis_label(ax.param.label())
        .y_axis_label(ay.param.label())
        .data_aspect(0.0)
        .x_axis_formatter({
            let xs = xs.clone();
            move |m, _| tick(&xs, px, m.value)
        })
        .y_axis_formatter({
            let ys = ys.clone();
            move |m, _| tick(&ys, py, m.value)
        })
        .show(ui, |pu| {
            for c in &cells {
                let (x, y) = (index(&xs, c.values[0]), index(&ys, c.values[1]));
                let colour = match metric.of(c) {
                    Some(v) => heat((v - lo) / (hi - lo).max(1e-12)),
                    None => Color32::GRAY,
                };
                let square = vec![
                    [x - 0.5, y - 0.5],
                    [x + 0.5, y - 0.5],
                    [x + 0.5, y + 0.5],
                    [x - 0.5, y + 0.5],
                ];
                pu.polygon(
                    Polygon::new("", PlotPoints::from(square))
                        .fill_color(colour)
                        .stroke(egui::Stroke::new(0.5, Color32::from_gray(40))),
                );
            }
        });
    ui.label(
        RichText::new(format!(
            "{}: dark {} – bright {}",
            metric.label(),
            fmt(lo),
            fmt(hi)
        ))
        .small(),
    );
    let (t, response) = (resp.transform, resp.response);
    let rect = response.rect;
    let hovered = response.hover_pos().and_then(|pos| {
        let at = t.value_from_position(pos);
        let (ix, iy) = (at.x.round(), at.y.round());
        cells
            .iter()
            .find(|c| index(&xs, c.values[0]) == ix && index(&ys, c.values[1]) == iy)
    });
    let Some(c) = hovered else {
        return (None, rect);
    };
    response.clone().on_hover_text_at_pointer(describe(f, c));
    (response.clicked().then(|| pick(f, c)), rect)
}

fn fmt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

/// An axis label at a cell's index: the value there.
fn tick(values: &[f64], p: Param, at: f64) -> String {
    let i = at.round();
    if (at - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    values.get(i as usize).map_or(String::new(), |&v| p.show(v))
}

/// Dark blue (0) to bright yellow (1).
fn heat(t: f64) -> Color32 {
    let t = t.clamp(0.0, 1.0) as f32;
    let lerp = |a: f32, b: f32| (a + (b - a) * t) as u8;
    Color32::from_rgb(lerp(30.0, 250.0), lerp(40.0, 220.0), lerp(120.0, 40.0))
}
