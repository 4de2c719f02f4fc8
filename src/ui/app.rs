//! The main window: menus, the live toolbar, settings on the left, findings on the right, the
//! message list and detail at the bottom, plots / ladder / A/B compare in the middle.
//! Data flows one way: live driver or capture loader → dataset → views; the views talk back to
//! the engine only through `LiveSource` commands.

use super::compare::CompareState;
use super::detail::DetailState;
use super::dialogs::{self, Dialogs, Purpose, Request};
use super::findings::FindingsState;
use super::ladder::LadderState;
use super::live_source::LiveSource;
use super::loader::Loader;
use super::model::{Dataset, Origin};
use super::plots::{PlotCmd, PlotsState, Which};
use super::saver::Saver;
use super::settings_form::{FormAction, SettingsForm};
use super::style;
use super::table::Step;
use super::table::TableState;
use crate::capture::export::Framing;
use crate::config::BindingSettings;
use crate::sim::{SimConfig, presets};
use crate::trace::Time;
use crate::wsrm::SoapVersion;
use eframe::egui::{self, Key, RichText};
use std::path::{Path, PathBuf};

/// The central view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Plots,
    Ladder,
    Compare,
    /// Recorded vs model (a recording on screen).
    Model,
    Sweep,
}

/// How the app starts (command line).
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub files: Vec<PathBuf>,
    /// plots, sequence, retransmissions, window, inactivity, ladder or compare.
    pub view: Option<String>,
    pub preset: Option<String>,
    pub speed: Option<f64>,
    /// Start a live capture: interface and BPF filter.
    pub capture: Option<(String, String)>,
}

/// What survives a restart (eframe persistence).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Persisted {
    theme: egui::ThemePreference,
    recent: Vec<PathBuf>,
    /// Files opened together (message logs of both ends), newest first.
    recent_sets: Vec<Vec<PathBuf>>,
    last_dir: Option<PathBuf>,
    speed: f64,
    form: SettingsForm,
    plots: PlotsState,
    tab: Tab,
    show_settings: bool,
    show_findings: bool,
    soap_only: bool,
    in_app_dialogs: bool,
}

impl Default for Persisted {
    fn default() -> Self {
        Persisted {
            theme: egui::ThemePreference::System,
            recent: Vec::new(),
            recent_sets: Vec::new(),
            last_dir: None,
            speed: 1.0,
            form: SettingsForm::default(),
            plots: PlotsState::default(),
            tab: Tab::Plots,
            show_settings: true,
            show_findings: true,
            soap_only: false,
            in_app_dialogs: false,
        }
    }
}

const MAX_RECENT: usize = 10;
/// Largest WCF config file read (config::parse refuses more anyway).
const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

pub struct App {
    pub live: LiveSource,
    pub capture: Option<Dataset>,
    /// Whether the capture (rather than the live session) is on screen.
    pub showing_capture: bool,
    pub loader: Option<Loader>,
    /// The live session being written as a capture.
    pub saver: Option<Saver>,
    /// Capture → Live: the window and the capture it runs.
    pub live_capture: super::live_capture::CaptureWindow,
    pub form: SettingsForm,
    pub plots: PlotsState,
    pub table: TableState,
    pub ladder: LadderState,
    pub detail: DetailState,
    pub findings: FindingsState,
    pub compare: CompareState,
    pub rerun: super::rerun_view::RerunState,
    pub sweep: super::sweep_view::SweepState,
    pub tab: Tab,
    pub selected: Option<u32>,
    selected_in: u64,
    /// Problems to show in the window (loading, saving, importing).
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub dialogs: Dialogs,
    /// The left panel while a recording is on screen.
    profile: super::profile_panel::ProfilePanel,
    /// The preset the live session runs, for its "what to watch" line.
    pub running_preset: Option<&'static presets::Preset>,
    theme: egui::ThemePreference,
    recent: Vec<PathBuf>,
    recent_sets: Vec<Vec<PathBuf>>,
    last_dir: Option<PathBuf>,
    show_settings: bool,
    show_findings: bool,
    title: String,
    /// Several bindings in an imported config: the user picks one.
    config_choice: Option<(String, Vec<BindingSettings>)>,
    snippet_open: bool,
    /// A plot PNG export waiting for the screenshot, and the area to cut out.
    png: Option<(
        PathBuf,
        egui::Rect,
        f32,
        std::sync::mpsc::Receiver<std::sync::Arc<egui::ColorImage>>,
    )>,
    central_rect: egui::Rect,
    /// Ctrl+G: the "Go to frame" box, while open.
    pub go_to: Option<GoTo>,
    /// The panels' rects of the last frame.
    pub layout: PanelRects,
}

/// Where the sample captures are: `captures/` here, next to the binary, or in the source tree.
pub fn sample_dir() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from("captures")];
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join("captures"));
        candidates.push(dir.join("../../captures"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"));
    candidates.into_iter().find(|p| p.is_dir())
}

/// The sample captures, by name.
pub fn samples() -> Vec<PathBuf> {
    let Some(dir) = sample_dir() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Each sample's one-line description: the "what happens" column of `captures/README.md`.
/// Read once: the menu asks every frame it is open.
pub fn sample_descriptions() -> &'static rustc_hash::FxHashMap<String, String> {
    static ABOUT: std::sync::OnceLock<rustc_hash::FxHashMap<String, String>> = std::sync::OnceLock::new();
    ABOUT.get_or_init(read_sample_descriptions)
}

fn read_sample_descriptions() -> rustc_hash::FxHashMap<String, String> {
    let text = sample_dir()
        .and_then(|d| std::fs::read_to_string(d.join("README.md")).ok())
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, what, ..] if name.starts_with('`') => {
                    Some((name.trim_matches('`').to_string(), what.replace('`', "")))
                }
                _ => None,
            }
        })
        .collect()
}

/// Where each panel was drawn last frame (tests check that none overlaps another).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PanelRects {
    pub settings: egui::Rect,
    pub findings: egui::Rect,
    pub list: egui::Rect,
    pub detail: egui::Rect,
    pub central: egui::Rect,
}

/// A small grip on each splitter, so that the panels' edges show they can be dragged.
fn draw_grips(ctx: &egui::Context, l: &PanelRects) {
    let layer = egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("rmscope-grips"));
    let painter = ctx.layer_painter(layer);
    let color = ctx
        .global_style()
        .visuals
        .widgets
        .noninteractive
        .fg_stroke
        .color
        .gamma_multiply(0.5);
    let grip = |center: egui::Pos2, horizontal: bool| {
        let size = if horizontal {
            egui::vec2(36.0, 4.0)
        } else {
            egui::vec2(4.0, 36.0)
        };
        painter.rect_filled(egui::Rect::from_center_size(center, size), 2.0, color);
    };
    if l.list.is_positive() {
        grip(egui::pos2(l.list.center().x, l.list.top()), true);
    }
    if l.detail.is_positive() {
        grip(egui::pos2(l.detail.left(), l.detail.center().y), false);
    }
    if l.settings.is_positive() {
        grip(egui::pos2(l.settings.right(), l.settings.center().y), false);
    }
    if l.findings.is_positive() {
        grip(egui::pos2(l.findings.left(), l.findings.center().y), false);
    }
}

impl Default for PanelRects {
    fn default() -> Self {
        let none = egui::Rect::NOTHING;
        PanelRects {
            settings: none,
            findings: none,
            list: none,
            detail: none,
            central: none,
        }
    }
}

/// Ctrl+G's box: the number typed, and why it was not found.
#[derive(Clone, Debug, Default)]
pub struct GoTo {
    pub text: String,
    pub error: Option<String>,
    focused: bool,
}

/// The toolbar's line about message logs: records by level, traces, the clocks.
fn log_counts(l: &super::model::LogInfo) -> String {
    let s = &l.stats;
    let mut t = format!(
        "{} records · {} transport + {} service level ({} folded) · {} traces · {} activity boundaries",
        s.records, s.transport_records, s.service_records, s.folded, s.traces, s.activity_boundaries
    );
    if let Some(c) = &s.clock {
        t.push_str(&format!(
            " · clock offset {:+.3} ms, one-way {:.3} / {:.3} ms",
            c.offset_ms, c.delay_ms[0], c.delay_ms[1]
        ));
    }
    if !l.clocks.is_empty() {
        t.push_str(&format!(" · {} matched to captured messages", s.matched));
        for c in &l.clocks {
            t.push_str(&format!(
                " · {} clock {:+.3} ms from the capture",
                c.other, c.offset_ms
            ));
        }
    }
    t
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl App {
    pub fn new(cc: &eframe::CreationContext<'_>, opts: StartOptions) -> App {
        let p: Persisted = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        App::with(cc.egui_ctx.clone(), p, opts)
    }

    /// An app without eframe (benchmarks, headless tests): no stored preferences.
    pub fn headless(ctx: egui::Context, opts: StartOptions) -> App {
        App::with(ctx, Persisted::default(), opts)
    }

    fn with(ctx: egui::Context, p: Persisted, opts: StartOptions) -> App {
        ctx.set_theme(p.theme);
        let mut form = p.form;
        let mut running_preset = None;
        if let Some(name) = &opts.preset
            && let Some(pr) = presets::find(name)
        {
            form = SettingsForm::from_config(&(pr.build)(), Some(pr.name));
            running_preset = Some(pr);
        }
        // The first run shows WCF defaults over a 5 % lossy link; later runs what was set.
        let config = form.parse().unwrap_or_else(|_| presets::live_default());
        let speed = opts
            .speed
            .unwrap_or(p.speed)
            .clamp(crate::live::MIN_SPEED, crate::live::MAX_SPEED);
        let live = LiveSource::start(config, speed, &ctx);
        let mut app = App {
            live,
            capture: None,
            showing_capture: false,
            loader: None,
            saver: None,
            form,
            plots: p.plots,
            table: TableState::with_soap_only(p.soap_only),
            ladder: LadderState::default(),
            detail: DetailState::default(),
            findings: FindingsState::default(),
            compare: CompareState::default(),
            rerun: Default::default(),
            sweep: Default::default(),
            tab: p.tab,
            selected: None,
            selected_in: 0,
            errors: Vec::new(),
            notice: None,
            dialogs: Dialogs::with_in_app(p.in_app_dialogs),
            profile: Default::default(),
            running_preset,
            theme: p.theme,
            recent: p.recent,
            recent_sets: p.recent_sets,
            last_dir: p.last_dir,
            show_settings: p.show_settings,
            show_findings: p.show_findings,
            title: String::new(),
            config_choice: None,
            snippet_open: false,
            live_capture: Default::default(),
            png: None,
            central_rect: egui::Rect::NOTHING,
            go_to: None,
            layout: PanelRects::default(),
        };
        if let Some(view) = &opts.view {
            app.set_view(view);
            // Opening on the comparison runs it (demos, screenshots).
            if app.tab == Tab::Compare
                && let Ok(a) = app.form.parse()
            {
                app.compare.start(a, ctx.clone());
            }
        }
        if !opts.files.is_empty() {
            app.open_files(&opts.files, &ctx);
        }
        if let Some((interface, filter)) = &opts.capture {
            let w = &mut app.live_capture;
            (w.open, w.interface, w.filter) = (true, interface.clone(), filter.clone());
            if let Some(d) = w.start(&ctx) {
                app.capture = Some(d);
                app.showing_capture = true;
            }
        }
        app
    }

    /// `--view`: a tab, or the plots tab with one plot.
    pub fn set_view(&mut self, view: &str) {
        self.tab = Tab::Plots;
        match view {
            "ladder" => self.tab = Tab::Ladder,
            "compare" => self.tab = Tab::Compare,
            "sweep" => {
                self.tab = Tab::Sweep;
                self.sweep.run_on_open = true;
            }
            "model" => {
                self.tab = Tab::Model;
                // Opening on the model runs it (demos, screenshots).
                self.rerun.run_on_open = true;
            }
            "sequence" => self.plots.show_only(Which::Sequence),
            "retransmissions" => self.plots.show_only(Which::Retransmissions),
            "window" => self.plots.show_only(Which::Window),
            "inactivity" => self.plots.show_only(Which::Inactivity),
            _ => self.plots.show = [true; 4],
        }
    }

    /// The dataset on screen.
    pub fn dataset(&self) -> &Dataset {
        match (&self.capture, self.showing_capture) {
            (Some(c), true) => c,
            _ => &self.live.data,
        }
    }

    /// Where the central view (plots, ladder, compare) was drawn last frame.
    pub fn central_rect(&self) -> egui::Rect {
        self.central_rect
    }

    pub fn select(&mut self, wire: Option<u32>) {
        self.selected = wire;
        self.table.scroll_to = wire;
        self.ladder.scroll_to = wire;
    }

    pub fn open_capture(&mut self, path: &Path, ctx: &egui::Context) {
        self.open_files(&[path.to_path_buf()], ctx);
    }

    /// Opens one capture, or message logs read together (both ends, rolled files).
    pub fn open_files(&mut self, paths: &[PathBuf], ctx: &egui::Context) {
        let Some(path) = paths.first() else { return };
        if let Some(l) = &self.loader {
            l.cancel();
        }
        // A file replaces the capture being taken: end it first.
        self.live_capture.running = None;
        self.loader = Some(Loader::start_many(paths, ctx.clone()));
        if let Some(dir) = path.parent() {
            self.last_dir = Some(dir.to_path_buf());
        }
    }

    /// Remembers what was opened: one file, or a set of logs opened together.
    fn remember_all(&mut self, paths: &[PathBuf]) {
        if let [one] = paths {
            return self.remember(one);
        }
        let abs: Vec<PathBuf> = paths
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .collect();
        self.recent_sets.retain(|s| *s != abs);
        self.recent_sets.insert(0, abs);
        self.recent_sets.truncate(MAX_RECENT);
    }

    fn remember(&mut self, path: &Path) {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != abs);
        self.recent.insert(0, abs);
        self.recent.truncate(MAX_RECENT);
    }

    pub fn apply(&mut self, config: SimConfig, preset: Option<&'static presets::Preset>) {
        self.live.restart(config);
        self.running_preset = preset;
        self.showing_capture = false;
        self.select(None);
    }

    pub fn load_preset(&mut self, p: &'static presets::Preset) {
        let c = (p.build)();
        self.form = SettingsForm::from_config(&c, Some(p.name));
        self.apply(c, Some(p));
    }

    /// Reads a WCF config; one binding with WS-RM is applied, several are offered.
    pub fn import_config(&mut self, path: &Path) {
        let name = file_name(path);
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_CONFIG_BYTES => {
                self.errors
                    .push(format!("{name}: larger than {MAX_CONFIG_BYTES} bytes"));
                return;
            }
            Ok(_) => match std::fs::read(path) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    self.errors.push(format!("{name}: {e}"));
                    return;
                }
            },
            Err(e) => {
                self.errors.push(format!("{name}: {e}"));
                return;
            }
        };
        match crate::config::parse(&text) {
            Err(e) => self.errors.push(format!("{name}: {e}")),
            Ok(bindings) if bindings.is_empty() => self
                .errors
                .push(format!("{name}: no binding with a <reliableSession> element")),
            Ok(bindings) if bindings.len() == 1 => self.use_binding(&name, &bindings[0]),
            Ok(bindings) => self.config_choice = Some((name, bindings)),
        }
    }

    fn use_binding(&mut self, file: &str, b: &BindingSettings) {
        self.form.set_settings(&b.settings);
        if let Some(binding) = b.binding {
            // The binding decides the channel shape (wsHttpBinding: request-reply, netTcp:
            // duplex).
            self.form.shape = binding.shape();
        }
        self.form.preset = None;
        let off = if b.enabled {
            ""
        } else {
            " (reliable sessions are disabled in this binding)"
        };
        self.notice = Some(format!(
            "Imported {} \"{}\" from {file} line {}{off}. Apply to run it.",
            b.kind, b.name, b.line
        ));
    }

    fn handle_form(&mut self, action: FormAction, ctx: &egui::Context) {
        match action {
            FormAction::None => {}
            FormAction::Apply(c) => self.apply(*c, None),
            FormAction::Preset(p) => self.load_preset(p),
            FormAction::ImportConfig => self.ask(
                Request::open(
                    Purpose::ImportConfig,
                    "Import WCF config",
                    dialogs::CONFIGS,
                    self.last_dir.as_deref(),
                ),
                ctx,
            ),
            FormAction::ExportSnippet => self.snippet_open = true,
        }
    }

    /// Asks for a path; what it is for happens now, or when the in-app dialog answers.
    fn ask(&mut self, req: Request, ctx: &egui::Context) {
        let purpose = req.purpose;
        if let Some(paths) = self.dialogs.ask(req) {
            self.picked(purpose, paths, ctx);
        }
        if let Some(n) = self.dialogs.notice.take() {
            self.notice = Some(n);
        }
    }

    /// Carries out what a picked path was asked for.
    fn picked(&mut self, purpose: Purpose, paths: Vec<PathBuf>, ctx: &egui::Context) {
        let Some(first) = paths.first().cloned() else {
            return;
        };
        if let Some(dir) = first.parent().filter(|d| !d.as_os_str().is_empty()) {
            self.last_dir = Some(if first.is_dir() {
                first.clone()
            } else {
                dir.to_path_buf()
            });
        }
        match purpose {
            Purpose::Open => self.open_files(&paths, ctx),
            Purpose::ImportConfig => self.import_config(&first),
            Purpose::SaveLive { net_tcp } => self.save_pcap_to(&first, net_tcp, ctx),
            Purpose::SaveLogs => self.save_logs_to(&first),
            Purpose::ExportTimeline { json } => self.export_timeline_to(&first, json),
            Purpose::ExportPng => self.export_png_to(first, ctx),
            Purpose::SaveSnippet => match self.form.snippet() {
                Ok(s) => match std::fs::write(&first, s + "\n") {
                    Ok(()) => self.notice = Some(format!("Saved {}", first.display())),
                    Err(e) => self.errors.push(format!("{}: {e}", first.display())),
                },
                Err(e) => self.errors.push(format!("Fix the settings first: {e}")),
            },
            Purpose::LiveCaptureFile => self.live_capture.save_to = Some(first),
        }
    }

    fn open_dialog(&mut self, ctx: &egui::Context) {
        let dir = self.last_dir.clone().or_else(sample_dir);
        self.ask(
            Request::open_many(
                Purpose::Open,
                "Open capture or message logs",
                dialogs::RECORDINGS,
                dir.as_deref(),
            ),
            ctx,
        );
    }

    /// Takes results from the background work.
    fn poll(&mut self, ctx: &egui::Context) {
        self.live.poll();
        self.live_capture.poll(&mut self.capture);
        self.compare.poll();
        self.rerun.poll();
        self.sweep.poll();
        if let Some(r) = self.saver.as_ref().and_then(|s| s.poll()) {
            let path = self.saver.take().expect("polled").path;
            match r {
                Ok(()) => self.notice = Some(format!("Saved {}", path.display())),
                Err(e) => self.errors.push(e),
            }
        }
        if let Some(r) = self.loader.as_ref().and_then(|l| l.poll()) {
            let loader = self.loader.take().expect("polled");
            let path = loader.path;
            match r {
                Ok(d) => {
                    self.remember_all(&loader.paths);
                    // A/B results are about the live settings, not about the file now open.
                    self.compare.result = None;
                    self.capture = Some(d);
                    self.showing_capture = true;
                    self.select(None);
                }
                Err(e) if e == "cancelled" => {
                    self.notice = Some(format!("Opening {} cancelled.", file_name(&path)))
                }
                Err(e) => self.errors.push(e),
            }
        }
        let id = self.dataset().id;
        if id != self.selected_in {
            self.selected_in = id;
            self.select(None);
        }
        let (selected, d) = (
            self.selected,
            match (&self.capture, self.showing_capture) {
                (Some(c), true) => c,
                _ => &self.live.data,
            },
        );
        self.detail.update(d, selected, ctx);
        // Dropped files.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            self.open_files(&dropped, ctx);
        }
        // The plot PNG arrives from the screenshot callback.
        if let Some((_, _, _, rx)) = &self.png
            && let Ok(image) = rx.try_recv()
        {
            let (path, rect, ppp, _) = self.png.take().expect("checked");
            match save_png(&image, rect, ppp, &path) {
                Ok(()) => self.notice = Some(format!("Saved {}", path.display())),
                Err(e) => self.errors.push(format!("{}: {e}", path.display())),
            }
        }
    }

    fn keys(&mut self, ctx: &egui::Context) {
        use egui::{KeyboardShortcut, Modifiers};
        const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        const GO_TO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::G);
        if ctx.input_mut(|i| i.consume_shortcut(&OPEN)) {
            self.open_dialog(ctx);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&FIND)) {
            self.table.focus_filter = true;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&GO_TO)) {
            self.go_to = Some(GoTo::default());
        }
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        // The list's keys, as in Wireshark; `/` finds, Esc clears the filter.
        let (slash, esc, steps) = ctx.input(|i| {
            let bare = i.modifiers.is_none();
            let p = |k| bare && i.key_pressed(k);
            let steps = [
                (p(Key::PageDown), Step::Pages(1)),
                (p(Key::PageUp), Step::Pages(-1)),
                (p(Key::Home), Step::First),
                (p(Key::End), Step::Last),
            ];
            (p(Key::Slash), p(Key::Escape), steps)
        });
        if slash {
            self.table.focus_filter = true;
        }
        if esc && !self.table.filter_text.is_empty() {
            self.table.filter_text.clear();
        }
        // Plot keys act while the pointer is on the plots; elsewhere Up/Down move the selection.
        let on_plots = self.tab == Tab::Plots
            && ctx
                .input(|i| i.pointer.hover_pos())
                .is_some_and(|p| self.central_rect.contains(p));
        let arrows = if on_plots {
            Vec::new()
        } else {
            ctx.input(|i| {
                let bare = i.modifiers.is_none();
                vec![
                    (bare && i.key_pressed(Key::ArrowDown), Step::By(1)),
                    (bare && i.key_pressed(Key::ArrowUp), Step::By(-1)),
                ]
            })
        };
        for (on, step) in steps.into_iter().chain(arrows) {
            if on {
                let d = match (&self.capture, self.showing_capture) {
                    (Some(c), true) => c,
                    _ => &self.live.data,
                };
                if let Some(w) = self.table.step(d, self.selected, step) {
                    self.select(Some(w));
                }
            }
        }
        if !on_plots {
            let g = ctx.input(|i| i.modifiers.is_none() && i.key_pressed(Key::G));
            if g && let Some(w) = self.plots.hovered {
                self.select(Some(w));
            }
            if ctx.input(|i| i.modifiers.is_none() && i.key_pressed(Key::Space)) && !self.showing_capture {
                self.live.toggle_pause();
            }
            return;
        }
        let mut cmds = Vec::new();
        let (plus, minus, zero, space, g, l, r, u, d) = ctx.input(|i| {
            let bare = i.modifiers.is_none() || i.modifiers == egui::Modifiers::SHIFT;
            let p = |k| bare && i.key_pressed(k);
            (
                p(Key::Plus) || p(Key::Equals),
                p(Key::Minus),
                p(Key::Num0),
                p(Key::Space),
                p(Key::G),
                p(Key::ArrowLeft),
                p(Key::ArrowRight),
                p(Key::ArrowUp),
                p(Key::ArrowDown),
            )
        });
        let shift = ctx.input(|i| i.modifiers.shift);
        if plus {
            cmds.push(if shift {
                PlotCmd::ZoomValueIn
            } else {
                PlotCmd::ZoomIn
            });
        }
        if minus {
            cmds.push(if shift {
                PlotCmd::ZoomValueOut
            } else {
                PlotCmd::ZoomOut
            });
        }
        if zero {
            cmds.push(PlotCmd::Reset);
        }
        for (on, dx, dy) in [(l, -0.1, 0.0), (r, 0.1, 0.0), (u, 0.0, 0.1), (d, 0.0, -0.1)] {
            if on {
                cmds.push(PlotCmd::Pan(dx, dy));
            }
        }
        self.plots.pending.extend(cmds);
        if space && !self.showing_capture {
            self.live.toggle_pause();
        }
        if g && let Some(w) = self.plots.hovered {
            self.select(Some(w));
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match (&self.dataset().origin, &self.loader) {
            (_, Some(l)) => format!("rmscope — opening {}", file_name(&l.path)),
            (Origin::Live, _) => "rmscope — live".to_string(),
            (o, _) => format!("rmscope — {}", o.label()),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn menu(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .add(egui::Button::new("Open capture or logs…").shortcut_text("Ctrl+O"))
                    .clicked()
                {
                    self.open_dialog(&ctx);
                }
                ui.menu_button("Open sample", |ui| {
                    let s = samples();
                    if s.is_empty() {
                        ui.weak("No captures/ folder found");
                    }
                    let about = sample_descriptions();
                    for p in s {
                        let name = file_name(&p);
                        ui.horizontal(|ui| {
                            if ui.button(&name).clicked() {
                                self.open_capture(&p, &ctx);
                            }
                            if let Some(d) = about.get(&name) {
                                ui.weak(d);
                            }
                        });
                    }
                });
                ui.menu_button("Open recent", |ui| {
                    for set in self.recent_sets.clone() {
                        let names: Vec<String> = set.iter().map(|p| file_name(p)).collect();
                        if ui.button(names.join(" + ")).clicked() {
                            self.open_files(&set, &ctx);
                        }
                    }
                    if self.recent.is_empty() && self.recent_sets.is_empty() {
                        ui.weak("Nothing yet");
                    }
                    for p in self.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.open_capture(&p, &ctx);
                        }
                    }
                });
                ui.separator();
                let live = !self.showing_capture && self.saver.is_none();
                let why_not = if self.saver.is_some() {
                    "A save is still being written"
                } else {
                    "Switch to the live session first"
                };
                if ui
                    .add_enabled(live, egui::Button::new("Save live session as pcapng…"))
                    .on_disabled_hover_text(why_not)
                    .clicked()
                {
                    self.save_pcap(false, &ui.ctx().clone());
                }
                if ui
                    .add_enabled(live, egui::Button::new("Save live session as net.tcp pcapng…"))
                    .on_hover_text("As WCF's netTcpBinding would carry it: .NET Message Framing, binary XML")
                    .on_disabled_hover_text(why_not)
                    .clicked()
                {
                    self.save_pcap(true, &ui.ctx().clone());
                }
                if ui
                    .add_enabled(live, egui::Button::new("Save live session as message logs…"))
                    .on_hover_text("The .svclog files WCF would write at transport level on each end")
                    .on_disabled_hover_text(why_not)
                    .clicked()
                {
                    self.save_logs(&ctx);
                }
                if ui.button("Export timeline as CSV…").clicked() {
                    self.export_timeline(false, &ctx);
                }
                if ui.button("Export timeline as JSON…").clicked() {
                    self.export_timeline(true, &ctx);
                }
                if ui.button("Export plot as PNG…").clicked() {
                    self.export_png(&ctx);
                }
                ui.separator();
                if ui.button("Import WCF config…").clicked() {
                    self.handle_form(FormAction::ImportConfig, &ctx);
                }
                if ui.button("Export settings snippet…").clicked() {
                    self.snippet_open = true;
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Capture", |ui| {
                if ui.button("Live from an interface…").clicked() {
                    self.live_capture.open = true;
                }
                if ui
                    .add_enabled(
                        self.live_capture.running.is_some(),
                        egui::Button::new("Stop live capture"),
                    )
                    .clicked()
                {
                    self.live_capture.stop();
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.show_settings, "Settings panel");
                ui.checkbox(&mut self.show_findings, "Findings panel");
                ui.checkbox(&mut self.dialogs.in_app, "In-app file dialogs")
                    .on_hover_text("rmscope's own Open/Save dialogs instead of the desktop's (used on their own where the desktop shows none)");
                ui.separator();
                let recording = self.showing_recording();
                for (t, name) in [
                    (Tab::Plots, "Plots"),
                    (Tab::Ladder, "Ladder diagram"),
                    (Tab::Compare, "A/B compare"),
                    (Tab::Model, "Recorded vs model"),
                    (Tab::Sweep, "Sweep"),
                ] {
                    if t == Tab::Model && !recording {
                        continue;
                    }
                    if ui.radio(self.tab == t, name).clicked() {
                        self.tab = t;
                    }
                }
                ui.separator();
                ui.label("Theme");
                let mut pref = self.theme;
                ui.radio_value(&mut pref, egui::ThemePreference::Dark, "Dark");
                ui.radio_value(&mut pref, egui::ThemePreference::Light, "Light");
                ui.radio_value(&mut pref, egui::ThemePreference::System, "System");
                if pref != self.theme {
                    self.theme = pref;
                    ctx.set_theme(pref);
                }
            });
            ui.menu_button("Help", |ui| {
                ui.label("Plots: drag pans, scroll zooms, right-drag zooms a box, double-click fits.");
                ui.label("Keys: + / − zoom, arrows pan, 0 fit, g go to the message under the pointer,");
                ui.label("Space pause/resume (live), Ctrl+O open a capture.");
                ui.label(format!("rmscope {}", env!("CARGO_PKG_VERSION")));
            });
        });
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        ui.horizontal_wrapped(|ui| {
            if ui.selectable_label(!self.showing_capture, "Live").clicked() {
                self.showing_capture = false;
            }
            if let Some(c) = &self.capture {
                let name = c.origin.label();
                if ui
                    .selectable_label(
                        self.showing_capture,
                        match c.origin {
                            Origin::Logs(_) => format!("Logs: {name}"),
                            _ => format!("Capture: {name}"),
                        },
                    )
                    .clicked()
                {
                    self.showing_capture = true;
                }
            }
            ui.separator();
            if let Some(sv) = &self.saver {
                ui.spinner();
                ui.label(format!("Saving {}", file_name(&sv.path)));
                ui.separator();
            }
            if let Some(l) = &self.loader {
                ui.label(format!("Opening {}", file_name(&l.path)));
                ui.add(
                    egui::ProgressBar::new(l.fraction())
                        .desired_width(160.0)
                        .show_percentage(),
                );
                if ui.button("Cancel").clicked() {
                    l.cancel();
                }
                ui.separator();
            }
            if self.showing_capture {
                if let Some(l) = self.capture.as_ref().and_then(|c| c.log.as_ref()) {
                    ui.label(log_counts(l));
                }
                if let Some(s) = self.capture.as_ref().and_then(|c| c.stats.as_ref()) {
                    let nettcp = if s.nmf_envelopes > 0 {
                        format!(" · {} net.tcp envelopes", s.nmf_envelopes)
                    } else {
                        String::new()
                    };
                    ui.label(format!(
                        "{} frames · {} TCP connections · {} HTTP messages{nettcp} · {} WS-RM messages",
                        s.frames, s.tcp_connections, s.http_messages, s.wsrm_messages
                    ));
                }
                return;
            }
            let live = &mut self.live;
            // Real sockets run in real time: pause, step and speed are for the simulated link.
            let simulated = !live.real_time();
            const REAL: &str = "The HTTP loopback link runs in real time";
            let pause = if live.paused { "Resume" } else { "Pause" };
            if ui
                .add_enabled(simulated, egui::Button::new(pause))
                .on_hover_text("Space")
                .on_disabled_hover_text(REAL)
                .clicked()
            {
                live.toggle_pause();
            }
            if ui
                .add_enabled(simulated, egui::Button::new("Step"))
                .on_hover_text("Advance to the next event")
                .on_disabled_hover_text(REAL)
                .clicked()
            {
                live.step();
            }
            if ui.button("Restart").clicked()
                && let Some(c) = live.config().cloned()
            {
                live.restart(c);
            }
            let mut speed = live.speed;
            let r = ui
                .add_enabled(
                    simulated,
                    egui::Slider::new(&mut speed, crate::live::MIN_SPEED..=crate::live::MAX_SPEED)
                        .logarithmic(true)
                        .text("speed ×")
                        .max_decimals(1),
                )
                .on_disabled_hover_text(REAL);
            if r.changed() {
                live.set_speed(speed);
            }
            if ui.button("Drop next message").clicked() {
                live.drop_next_message();
            }
            if ui.button("Drop next ack").clicked() {
                live.drop_next_ack();
            }
            // A drop asked for and not yet done is armed: say so until it happens.
            let armed: Vec<String> = [(live.armed[0], "message"), (live.armed[1], "ack")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| {
                    if n == 1 {
                        format!("next {what}")
                    } else {
                        format!("next {n} {what}s")
                    }
                })
                .collect();
            if !armed.is_empty() {
                ui.colored_label(style::LOST, format!("Drop armed: {}", armed.join(", ")));
            }
            ui.separator();
            let rep = &live.report;
            let total = live
                .config()
                .map_or(0, |c| c.workload.messages * c.workload.sessions as u64);
            let state = if live.done {
                "finished"
            } else if live.paused {
                "paused"
            } else if simulated {
                "running"
            } else {
                "running over HTTP on 127.0.0.1"
            };
            ui.label(format!(
                "t = {:.2} s · delivered {}/{} · retransmissions {} · lost on link {} · {state}",
                live.now.as_secs_f64(),
                rep.delivered,
                total,
                rep.retransmissions,
                rep.lost_on_link
            ));
            if !rep.faults.is_empty() {
                ui.colored_label(style::LOST, format!("{} fault(s)", rep.faults.len()));
            }
            if let Some(e) = &live.error {
                ui.colored_label(style::LOST, e);
            }
        });
        let _ = ctx;
    }

    fn messages_bar(&mut self, ui: &mut egui::Ui) {
        // Errors and notices stay until dismissed.
        let mut dismiss = None;
        for (k, e) in self.errors.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.colored_label(style::LOST, RichText::new(format!("Error: {e}")).strong());
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(k);
                }
            });
        }
        if let Some(k) = dismiss {
            self.errors.remove(k);
        }
        if let Some(n) = &self.notice {
            let mut close = false;
            ui.horizontal(|ui| {
                ui.label(n);
                close = ui.small_button("OK").clicked();
            });
            if close {
                self.notice = None;
            }
        }
        if !self.showing_capture
            && let Some(p) = self.running_preset
            && self.tab != Tab::Compare
        {
            ui.label(RichText::new(format!("{} — what to watch: {}", p.name, p.explain)).italics());
        }
    }

    /// Ctrl+G: a number, Enter selects that frame (capture) or message (live).
    fn go_to_window(&mut self, ctx: &egui::Context) {
        let Some(mut g) = self.go_to.take() else { return };
        let mut open = true;
        let mut chosen = None;
        let d = match (&self.capture, self.showing_capture) {
            (Some(c), true) => c,
            _ => &self.live.data,
        };
        let unit = if d.frame_unit() == "record" {
            "record"
        } else if d.stats.is_some() {
            "frame"
        } else {
            "message"
        };
        egui::Window::new("Go to")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label(format!("Go to {unit}"));
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut g.text).desired_width(100.0))
                        .labelled_by(label.id);
                    if !g.focused {
                        field.request_focus();
                        g.focused = true;
                    }
                    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                    if enter || ui.button("Go").clicked() {
                        match g.text.trim().parse::<u64>() {
                            Err(_) => g.error = Some(format!("'{}' is not a {unit} number", g.text.trim())),
                            Ok(n) => {
                                match (0..d.timeline.wires.len() as u32).find(|&i| d.number_of(i) == n) {
                                    Some(i) => chosen = Some(i),
                                    None => g.error = Some(format!("no message at {unit} {n}")),
                                }
                            }
                        }
                    }
                });
                if let Some(e) = &g.error {
                    ui.colored_label(style::LOST, e);
                }
            });
        let escaped = ctx.input(|i| i.key_pressed(Key::Escape));
        if let Some(i) = chosen {
            self.select(Some(i));
        } else if open && !escaped {
            self.go_to = Some(g);
        }
    }

    fn windows(&mut self, ctx: &egui::Context) {
        use super::live_capture::CaptureAction;
        match self.live_capture.ui(ctx) {
            CaptureAction::ChooseFile => {
                let req = Request::save(
                    Purpose::LiveCaptureFile,
                    "Save captured frames",
                    "live.pcapng",
                    dialogs::CAPTURES,
                    None,
                );
                self.ask(req, ctx);
            }
            CaptureAction::Start => {
                if let Some(d) = self.live_capture.start(ctx) {
                    self.capture = Some(d);
                    self.showing_capture = true;
                    self.select(None);
                }
            }
            CaptureAction::Stop => self.live_capture.stop(),
            CaptureAction::None => {}
        }
        if let Some((file, bindings)) = &self.config_choice {
            let mut chosen = None;
            let mut open = true;
            egui::Window::new("Choose a binding")
                .open(&mut open)
                .collapsible(false)
                .show(ctx, |ui| {
                    ui.label(format!(
                        "{file} has {} bindings with <reliableSession>:",
                        bindings.len()
                    ));
                    for (k, b) in bindings.iter().enumerate() {
                        let text = format!(
                            "{} \"{}\" (line {}){}",
                            b.kind,
                            b.name,
                            b.line,
                            if b.enabled {
                                ""
                            } else {
                                " — reliable session disabled"
                            }
                        );
                        if ui.button(text).clicked() {
                            chosen = Some(k);
                        }
                    }
                });
            if let Some(k) = chosen {
                let (file, bindings) = self.config_choice.take().expect("shown");
                self.use_binding(&file, &bindings[k]);
            } else if !open {
                self.config_choice = None;
            }
        }
        if self.snippet_open {
            let mut open = true;
            let snippet = self.form.snippet();
            let mut save = false;
            egui::Window::new("Settings snippet")
                .open(&mut open)
                .show(ctx, |ui| match &snippet {
                    Ok(s) => {
                        ui.label("Paste into a <binding> of your customBinding (WCF config):");
                        ui.add(egui::Label::new(RichText::new(s).monospace()).wrap());
                        ui.horizontal(|ui| {
                            if ui.button("Copy").clicked() {
                                ui.ctx().copy_text(s.clone());
                                self.notice = Some("Snippet copied to the clipboard.".into());
                            }
                            save = ui.button("Save…").clicked();
                        });
                    }
                    Err(e) => {
                        ui.colored_label(style::LOST, format!("Fix the settings first: {e}"));
                    }
                });
            if save && snippet.is_ok() {
                let req = Request::save(
                    Purpose::SaveSnippet,
                    "Save snippet",
                    "reliableSession.config",
                    dialogs::CONFIGS,
                    self.last_dir.as_deref(),
                );
                self.ask(req, ctx);
            }
            self.snippet_open = open;
        }
    }

    /// Saves the live session as a capture: SOAP over HTTP, or net.tcp.
    fn save_pcap(&mut self, net_tcp: bool, ctx: &egui::Context) {
        let name = if net_tcp {
            "live-session-nettcp.pcapng"
        } else {
            "live-session.pcapng"
        };
        let req = Request::save(
            Purpose::SaveLive { net_tcp },
            "Save live session",
            name,
            dialogs::CAPTURES,
            self.last_dir.as_deref(),
        );
        self.ask(req, ctx);
    }

    fn save_pcap_to(&mut self, p: &Path, net_tcp: bool, ctx: &egui::Context) {
        let d = &self.live.data;
        let framing = if net_tcp {
            Framing::NetTcp
        } else {
            Framing::Http(d.config.as_ref().map_or(SoapVersion::V1_2, |c| c.soap))
        };
        self.saver = Some(Saver::start(
            p,
            d.timeline.clone(),
            d.payloads.clone(),
            framing,
            ctx.clone(),
        ));
    }

    /// Saves the live session as one message log per endpoint, into a chosen folder.
    fn save_logs(&mut self, ctx: &egui::Context) {
        let req = Request::folder(
            Purpose::SaveLogs,
            "Save live session as message logs",
            self.last_dir.as_deref(),
        );
        self.ask(req, ctx);
    }

    fn save_logs_to(&mut self, dir: &Path) {
        let d = &self.live.data;
        match crate::svclog::write::write_logs(&d.timeline, &d.payloads, dir) {
            Ok(paths) => {
                let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
                self.notice = Some(format!("Saved {} in {}", names.join(", "), dir.display()));
            }
            Err(e) => self.errors.push(format!("{}: {e}", dir.display())),
        }
    }

    fn export_timeline(&mut self, json: bool, ctx: &egui::Context) {
        let (name, filter): (&str, (&'static str, &'static [&'static str])) = if json {
            ("timeline.json", ("JSON", &["json"]))
        } else {
            ("timeline.csv", ("CSV", &["csv"]))
        };
        let req = Request::save(
            Purpose::ExportTimeline { json },
            "Export timeline",
            name,
            filter,
            self.last_dir.as_deref(),
        );
        self.ask(req, ctx);
    }

    fn export_timeline_to(&mut self, p: &Path, json: bool) {
        let d = self.dataset();
        let text = if json {
            serde_json::to_string(&d.timeline).map_err(|e| e.to_string())
        } else {
            crate::trace::to_csv(&d.timeline).map_err(|e| e.to_string())
        };
        match text.and_then(|t| std::fs::write(p, t).map_err(|e| e.to_string())) {
            Ok(()) => self.notice = Some(format!("Saved {}", p.display())),
            Err(e) => self.errors.push(format!("{}: {e}", p.display())),
        }
    }

    fn export_png(&mut self, ctx: &egui::Context) {
        let req = Request::save(
            Purpose::ExportPng,
            "Export plot",
            "plot.png",
            ("PNG", &["png"]),
            self.last_dir.as_deref(),
        );
        self.ask(req, ctx);
    }

    fn export_png_to(&mut self, p: PathBuf, ctx: &egui::Context) {
        let (tx, rx) = std::sync::mpsc::channel();
        let wake = ctx.clone();
        let callback = egui::ScreenshotCallback::new(move |image| {
            let _ = tx.send(image);
            wake.request_repaint();
        });
        self.png = Some((p, self.central_rect, ctx.pixels_per_point(), rx));
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
    }

    /// A recording (not a capture running) is on screen: it has a profile and a model.
    fn showing_recording(&self) -> bool {
        self.capture.is_some() && self.showing_capture && self.live_capture.running.is_none()
    }

    fn central(&mut self, ui: &mut egui::Ui) {
        let recording = self.showing_recording();
        // On a narrow window the tabs wrap rather than widen the central panel.
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Plots, "Plots");
            ui.selectable_value(&mut self.tab, Tab::Ladder, "Ladder");
            ui.selectable_value(&mut self.tab, Tab::Compare, "A/B compare");
            if recording {
                ui.selectable_value(&mut self.tab, Tab::Model, "Recorded vs model");
            }
            ui.selectable_value(&mut self.tab, Tab::Sweep, "Sweep");
        });
        ui.separator();
        self.central_rect = ui.available_rect_before_wrap();
        let d = match (&self.capture, self.showing_capture) {
            (Some(c), true) => c,
            _ => &self.live.data,
        };
        let clicked = match self.tab {
            // On a small window the plots keep their minimum height and scroll, rather than
            // draw over the list below.
            Tab::Plots => {
                egui::ScrollArea::vertical()
                    .id_salt("plots-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.plots.ui(ui, d, self.selected).clicked)
                    .inner
            }
            Tab::Ladder => self.ladder.ui(ui, d, self.plots.visible, self.selected),
            Tab::Compare => {
                // Settings, summary and plot scroll together on a small window.
                let run = egui::ScrollArea::vertical()
                    .id_salt("compare-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.compare.ui(ui, &self.form))
                    .inner;
                if run && let Ok(a) = self.form.parse() {
                    self.compare.start(a, ui.ctx().clone());
                }
                None
            }
            Tab::Model if !recording => {
                ui.label("Open a capture or a WCF message log: the model is fitted to a recording.");
                None
            }
            Tab::Model => {
                if let Some(d) = &self.capture
                    && self.rerun.prepare(d, self.plots.seq)
                    && std::mem::take(&mut self.rerun.run_on_open)
                {
                    self.rerun.start(ui.ctx().clone());
                }
                let run = egui::ScrollArea::vertical()
                    .id_salt("rerun-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.rerun.ui(ui))
                    .inner;
                if run {
                    self.rerun.start(ui.ctx().clone());
                }
                None
            }
            Tab::Sweep => {
                // The recording's model, when one is on screen, else the settings panel.
                if recording && let Some(d) = &self.capture {
                    self.rerun.prepare(d, self.plots.seq);
                }
                let from_recording = recording && self.rerun.fitted().is_some();
                let (run, picked) = egui::ScrollArea::vertical()
                    .id_salt("sweep-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.sweep.ui(ui, self.form.parse().is_ok(), from_recording)
                    })
                    .inner;
                // Opening on the sweep runs it, once a recording being opened is there.
                let waiting = self.loader.is_some();
                let run = run || (!waiting && std::mem::take(&mut self.sweep.run_on_open));
                if run {
                    let base = match (from_recording && self.sweep.from_recording, self.rerun.fitted()) {
                        (true, Some(c)) => Some(c.clone()),
                        _ => self.form.parse().ok(),
                    };
                    if let Some(base) = base {
                        self.sweep.start(base, ui.ctx().clone());
                    }
                }
                if let Some((a, b, what)) = picked {
                    self.compare.start_pair(a, b, what, ui.ctx().clone());
                    self.tab = Tab::Compare;
                }
                None
            }
        };
        if clicked.is_some() {
            self.select(clicked);
        }
    }
}

fn save_png(image: &egui::ColorImage, rect: egui::Rect, ppp: f32, path: &Path) -> Result<(), String> {
    let [w, h] = image.size;
    let x0 = ((rect.min.x * ppp).max(0.0) as usize).min(w);
    let y0 = ((rect.min.y * ppp).max(0.0) as usize).min(h);
    let x1 = ((rect.max.x * ppp) as usize).clamp(x0, w);
    let y1 = ((rect.max.y * ppp) as usize).clamp(y0, h);
    let (cw, ch) = (x1 - x0, y1 - y0);
    if cw == 0 || ch == 0 {
        return Err("nothing to save".into());
    }
    let mut rgba = Vec::with_capacity(cw * ch * 4);
    for y in y0..y1 {
        for px in &image.pixels[y * w + x0..y * w + x1] {
            rgba.extend_from_slice(&px.to_array());
        }
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), cw as u32, ch as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let p = Persisted {
            theme: self.theme,
            recent: self.recent.clone(),
            recent_sets: self.recent_sets.clone(),
            last_dir: self.last_dir.clone(),
            speed: self.live.speed,
            form: self.form.clone(),
            plots: std::mem::take(&mut self.plots),
            tab: self.tab,
            show_settings: self.show_settings,
            show_findings: self.show_findings,
            soap_only: self.table.soap_only,
            in_app_dialogs: self.dialogs.in_app,
        };
        eframe::set_value(storage, eframe::APP_KEY, &p);
        self.plots = p.plots;
    }
}

impl App {
    /// One frame of the whole window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        self.keys(&ctx);
        self.go_to_window(&ctx);
        self.update_title(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu(ui));
        egui::Panel::top("toolbar").show(ui, |ui| {
            self.toolbar(ui);
            self.messages_bar(ui);
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            let d = self.dataset();
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} messages · {} sequences · {} findings",
                    d.timeline.wires.len(),
                    d.timeline.sequences.len(),
                    d.findings.len()
                ));
                if let Some(s) = d.stats.as_ref().filter(|s| s.truncated) {
                    ui.colored_label(
                        style::RETRANSMIT,
                        format!("capture truncated after frame {}", s.frames),
                    );
                }
                // A live run that has sent nothing for a second of its time: why.
                if !self.showing_capture
                    && !self.live.done
                    && let Some(why) =
                        crate::analysis::stall::why(&d.timeline, self.live.now, Time::from_secs(1))
                {
                    ui.colored_label(style::RETRANSMIT, why);
                }
            });
        });
        // Panels take shares of the window and keep a minimum, so that nothing overlaps from
        // 1024×600 up (tests/gui.rs checks three sizes).
        let area = ui.available_rect_before_wrap();
        let (w, h) = (area.width(), area.height());
        let mut layout = PanelRects::default();
        layout.list = egui::Panel::bottom("messages")
            .resizable(true)
            .default_size((h * 0.38).max(140.0))
            .size_range(120.0..=(h * 0.65).max(140.0))
            .show(ui, |ui| {
                let d = match (&self.capture, self.showing_capture) {
                    (Some(c), true) => c,
                    _ => &self.live.data,
                };
                layout.detail = egui::Panel::right("detail")
                    .resizable(true)
                    .default_size((w * 0.32).clamp(220.0, 520.0))
                    .size_range(200.0..=(w * 0.6).max(220.0))
                    .show(ui, |ui| {
                        self.detail.ui(ui, d, self.selected);
                    })
                    .response
                    .rect;
                // Columns wider than what is left scroll sideways instead of drawing over the
                // detail pane.
                egui::ScrollArea::horizontal()
                    .id_salt("messages-h")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        if let Some(w) = self.table.ui(ui, d, self.selected) {
                            self.selected = Some(w);
                            self.ladder.scroll_to = Some(w);
                        }
                    });
            })
            .response
            .rect;
        if self.show_settings {
            layout.settings = egui::Panel::left("settings")
                .resizable(true)
                .default_size((w * 0.24).clamp(200.0, 330.0))
                .size_range(180.0..=(w * 0.4).max(200.0))
                .show(ui, |ui| {
                    // A recording's own settings, as far as its traffic shows them; the live
                    // session's form does nothing for it (while an interface is captured, the
                    // pair is usually what runs on it: its form stays).
                    let recording = self.showing_capture && self.live_capture.running.is_none();
                    if let (Some(d), true) = (&self.capture, recording) {
                        let rerun = egui::ScrollArea::vertical()
                            .id_salt("profile-scroll")
                            .show(ui, |ui| self.profile.ui(ui, d, self.plots.seq))
                            .inner;
                        if rerun && self.rerun.prepare(d, self.plots.seq) {
                            self.rerun.start(ctx.clone());
                            self.tab = Tab::Model;
                        }
                        return;
                    }
                    let action = egui::ScrollArea::vertical()
                        .id_salt("settings-scroll")
                        .show(ui, |ui| self.form.ui(ui))
                        .inner;
                    self.handle_form(action, &ctx);
                })
                .response
                .rect;
        }
        if self.show_findings {
            layout.findings = egui::Panel::right("findings")
                .resizable(true)
                .default_size((w * 0.2).clamp(180.0, 300.0))
                .size_range(160.0..=(w * 0.35).max(180.0))
                .show(ui, |ui| {
                    let d = match (&self.capture, self.showing_capture) {
                        (Some(c), true) => c,
                        _ => &self.live.data,
                    };
                    if let Some(w) = self.findings.ui(ui, d) {
                        self.select(Some(w));
                    }
                })
                .response
                .rect;
        }
        layout.central = egui::CentralPanel::default()
            .show(ui, |ui| self.central(ui))
            .response
            .rect;
        draw_grips(&ctx, &layout);
        self.layout = layout;
        self.windows(&ctx);
        if let Some((purpose, paths)) = self.dialogs.ui(&ctx) {
            self.picked(purpose, paths, &ctx);
        }
        if self.detail.loading()
            || self.loader.is_some()
            || self.saver.is_some()
            || self.compare.busy()
            || self.rerun.busy()
            || self.sweep.busy()
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn settings_layout_theme_and_recent_files_survive_a_restart() {
        let ctx = egui::Context::default();
        let mut app = App::headless(ctx.clone(), StartOptions::default());
        app.theme = egui::ThemePreference::Light;
        app.form.max_transfer_window_size = "64".into();
        app.plots.show_only(Which::Window);
        app.tab = Tab::Ladder;
        app.show_findings = false;
        app.table.soap_only = true;
        app.remember(Path::new("captures/single-loss-2005.pcap"));
        app.remember_all(&[PathBuf::from("a.svclog"), PathBuf::from("b.svclog")]);
        app.live.set_speed(25.0);
        let mut storage = Memory::default();
        eframe::App::save(&mut app, &mut storage);

        let p: Persisted = eframe::get_value(&storage, eframe::APP_KEY).expect("stored and read back");
        let back = App::with(ctx, p, StartOptions::default());
        assert_eq!(back.theme, egui::ThemePreference::Light);
        assert_eq!(back.form.max_transfer_window_size, "64");
        assert_eq!(back.plots.show, [false, false, true, false]);
        assert_eq!(back.tab, Tab::Ladder);
        assert!(!back.show_findings);
        assert!(back.table.soap_only, "the SOAP-only toggle is remembered");
        assert!(back.recent[0].ends_with("captures/single-loss-2005.pcap"));
        assert_eq!(
            back.recent_sets[0],
            [PathBuf::from("a.svclog"), PathBuf::from("b.svclog")]
        );
        assert_eq!(back.live.speed, 25.0);
        // The restored settings are what the live session runs.
        assert_eq!(back.live.config().unwrap().settings.max_transfer_window_size, 64);
    }
}
