//! Capture → Live: pick an interface and a BPF filter, Start/Stop; the frames are decoded as
//! they arrive and every view follows. The frames always go to a pcapng file (a temporary one
//! unless the user picked where), which is what the detail pane reads messages back from.

use super::model::{Dataset, Origin};
use crate::capture::live::{self, Interface, LiveCapture, Update};
use crate::trace::Timeline;
use eframe::egui;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct CaptureWindow {
    pub open: bool,
    interfaces: Option<Result<Vec<Interface>, String>>,
    pub interface: String,
    pub filter: String,
    /// Where to keep the frames; `None`: a temporary file.
    pub save_to: Option<PathBuf>,
    pub running: Option<Running>,
    /// Why the last capture could not start or stopped early.
    pub error: Option<String>,
}

pub struct Running {
    capture: LiveCapture,
    pub interface: String,
    pub path: PathBuf,
    pub frames: u64,
    pub stopping: bool,
    analysed_at: Instant,
    analysis_cost: Duration,
}

/// What the window asks the app to do.
pub enum CaptureAction {
    None,
    Start,
    Stop,
    /// The user wants to pick the file the frames go to.
    ChooseFile,
}

impl Default for CaptureWindow {
    fn default() -> Self {
        CaptureWindow {
            open: false,
            interfaces: None,
            interface: "lo".into(),
            filter: "tcp".into(),
            save_to: None,
            running: None,
            error: None,
        }
    }
}

fn temp_path(interface: &str) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let safe: String = interface
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::env::temp_dir().join(format!(
        "rmscope-live-{safe}-{stamp}-{}.pcapng",
        std::process::id()
    ))
}

impl CaptureWindow {
    /// Opens the capture; the dataset it fills comes back.
    pub fn start(&mut self, wake: &egui::Context) -> Option<Dataset> {
        self.error = None;
        let path = self.save_to.clone().unwrap_or_else(|| temp_path(&self.interface));
        let wake = wake.clone();
        let opts = live::Options {
            interface: self.interface.clone(),
            filter: self.filter.clone(),
            save: Some(path.clone()),
        };
        match LiveCapture::start(opts, move || wake.request_repaint()) {
            Ok(capture) => {
                self.running = Some(Running {
                    capture,
                    interface: self.interface.clone(),
                    path: path.clone(),
                    frames: 0,
                    stopping: false,
                    analysed_at: Instant::now(),
                    analysis_cost: Duration::ZERO,
                });
                Some(Dataset::new(
                    Origin::Capture(vec![path]),
                    Timeline::new(),
                    Vec::new(),
                    Some(Default::default()),
                ))
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    pub fn stop(&mut self) {
        if let Some(r) = self.running.as_mut() {
            r.capture.stop();
            r.stopping = true;
        }
    }

    /// Applies what the capture thread sent to `data`; returns whether anything changed.
    pub fn poll(&mut self, data: &mut Option<Dataset>) -> bool {
        let Some(r) = self.running.as_mut() else {
            return false;
        };
        let mut changed = false;
        let mut ended = None;
        while let Ok(u) = r.capture.updates.try_recv() {
            changed = true;
            match u {
                Update::Frames {
                    delta,
                    findings,
                    stats,
                } => {
                    r.frames = stats.frames;
                    if let Some(d) = data.as_mut() {
                        d.extend_capture(*delta, findings, *stats);
                    }
                }
                Update::Stopped { data, error } => {
                    ended = Some((data, error));
                    break;
                }
            }
        }
        if let Some((d, error)) = ended {
            let path = r.path.clone();
            self.running = None;
            self.error = error;
            *data = Some(Dataset::new(
                Origin::Capture(vec![path]),
                d.timeline,
                d.findings,
                Some(d.stats),
            ));
            return true;
        }
        // Re-analyse as the timeline grows, at most as often as it is cheap to.
        if let Some(d) = data.as_mut()
            && d.stale()
            && r.analysed_at.elapsed() >= (r.analysis_cost * 4).max(Duration::from_millis(100))
        {
            let t = Instant::now();
            d.reanalyse();
            r.analysis_cost = t.elapsed();
            r.analysed_at = Instant::now();
        }
        changed
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> CaptureAction {
        let mut action = CaptureAction::None;
        if !self.open {
            return action;
        }
        if self.interfaces.is_none() {
            self.interfaces = Some(live::interfaces());
        }
        let mut open = self.open;
        egui::Window::new("Live capture")
            .open(&mut open)
            .default_pos([ctx.content_rect().right() - 460.0, 90.0])
            .resizable(false)
            .show(ctx, |ui| {
                let running = self.running.is_some();
                ui.add_enabled_ui(!running, |ui| {
                    egui::Grid::new("live-capture-grid")
                        .num_columns(2)
                        .spacing([8.0, 6.0])
                        .show(ui, |ui| {
                            ui.label("Interface");
                            match &self.interfaces {
                                Some(Ok(list)) => {
                                    egui::ComboBox::from_id_salt("live-capture-interface")
                                        .selected_text(self.interface.clone())
                                        .show_ui(ui, |ui| {
                                            for i in list {
                                                let label = match &i.description {
                                                    Some(d) => format!("{} ({d})", i.name),
                                                    None => i.name.clone(),
                                                };
                                                ui.selectable_value(
                                                    &mut self.interface,
                                                    i.name.clone(),
                                                    label,
                                                );
                                            }
                                        });
                                }
                                Some(Err(e)) => {
                                    ui.colored_label(super::style::LOST, e);
                                }
                                None => {}
                            }
                            ui.end_row();
                            ui.label("Filter");
                            ui.add(
                                egui::TextEdit::singleline(&mut self.filter)
                                    .hint_text("BPF, e.g. tcp port 8080"),
                            )
                            .on_hover_text("A BPF capture filter (tcpdump syntax)");
                            ui.end_row();
                            ui.label("Save to");
                            ui.horizontal(|ui| {
                                let shown = self
                                    .save_to
                                    .as_ref()
                                    .map_or("a temporary file".to_string(), |p| p.display().to_string());
                                ui.label(shown);
                                if ui.button("Choose…").clicked() {
                                    action = CaptureAction::ChooseFile;
                                }
                            });
                            ui.end_row();
                        });
                });
                ui.horizontal(|ui| {
                    if ui.add_enabled(!running, egui::Button::new("Start")).clicked() {
                        action = CaptureAction::Start;
                    }
                    let stopping = self.running.as_ref().is_some_and(|r| r.stopping);
                    if ui
                        .add_enabled(running && !stopping, egui::Button::new("Stop"))
                        .clicked()
                    {
                        action = CaptureAction::Stop;
                    }
                    if let Some(r) = &self.running {
                        ui.label(format!("capturing on {}: {} frames", r.interface, r.frames));
                    }
                });
                if let Some(e) = &self.error {
                    ui.add(egui::Label::new(egui::RichText::new(e).color(super::style::LOST)).wrap());
                }
            });
        self.open = open;
        action
    }
}
