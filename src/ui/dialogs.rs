//! File dialogs: the desktop's (rfd over the xdg portal) where it works, rmscope's own where it
//! does not — rfd's portal backend returns nothing, silently, where no portal runs (minimal
//! desktops, remote X, Xvfb). egui-file-dialog, the well-kept in-app dialog, is not yet released
//! for egui 0.37, hence this small one. Tests queue scripted answers, or drive the in-app dialog
//! by its labels.

use eframe::egui;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const CAPTURES: (&str, &[&str]) = ("Captures", &["pcap", "pcapng", "cap"]);
/// What File → Open reads: captures and WCF message logs.
pub const RECORDINGS: (&str, &[&str]) = (
    "Captures and message logs",
    &["pcap", "pcapng", "cap", "svclog", "e2e", "xml"],
);
pub const CONFIGS: (&str, &[&str]) = ("WCF config", &["config", "xml"]);

/// What a picked path is for; the app carries it out when the answer comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Open,
    ImportConfig,
    SaveLive { net_tcp: bool },
    SaveLogs,
    ExportTimeline { json: bool },
    ExportPng,
    SaveSnippet,
    LiveCaptureFile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One file, or several (`multiple`).
    Open {
        multiple: bool,
    },
    Save,
    Folder,
}

/// One question to the user.
#[derive(Clone, Debug)]
pub struct Request {
    pub purpose: Purpose,
    pub title: String,
    pub kind: Kind,
    pub filter: (&'static str, &'static [&'static str]),
    pub name: String,
    pub dir: Option<PathBuf>,
}

impl Request {
    pub fn open(
        purpose: Purpose,
        title: &str,
        filter: (&'static str, &'static [&'static str]),
        dir: Option<&Path>,
    ) -> Self {
        Request {
            purpose,
            title: title.into(),
            kind: Kind::Open { multiple: false },
            filter,
            name: String::new(),
            dir: dir.map(Path::to_path_buf),
        }
    }
    pub fn open_many(
        purpose: Purpose,
        title: &str,
        filter: (&'static str, &'static [&'static str]),
        dir: Option<&Path>,
    ) -> Self {
        Request {
            kind: Kind::Open { multiple: true },
            ..Request::open(purpose, title, filter, dir)
        }
    }
    pub fn save(
        purpose: Purpose,
        title: &str,
        name: &str,
        filter: (&'static str, &'static [&'static str]),
        dir: Option<&Path>,
    ) -> Self {
        Request {
            kind: Kind::Save,
            name: name.into(),
            ..Request::open(purpose, title, filter, dir)
        }
    }
    pub fn folder(purpose: Purpose, title: &str, dir: Option<&Path>) -> Self {
        Request {
            kind: Kind::Folder,
            ..Request::open(purpose, title, ("Folders", &[]), dir)
        }
    }
}

/// A desktop dialog that comes back empty this fast was never shown (no portal answered).
const NOT_SHOWN: Duration = Duration::from_millis(150);
/// Directory entries listed at most.
const MAX_ENTRIES: usize = 5000;

#[derive(Default)]
pub struct Dialogs {
    /// Answers given instead of showing a dialog, in order (tests).
    pub scripted: VecDeque<Option<PathBuf>>,
    /// Use rmscope's own dialog (View menu; set on its own when the desktop shows none).
    pub in_app: bool,
    /// Said once when the desktop's dialog did not show.
    pub notice: Option<String>,
    open: Option<InApp>,
}

/// The in-app dialog while it is open.
struct InApp {
    req: Request,
    dir: PathBuf,
    dir_text: String,
    name: String,
    selected: Vec<PathBuf>,
    all_files: bool,
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl InApp {
    fn new(req: Request) -> Self {
        let dir = req
            .dir
            .clone()
            .filter(|d| d.is_dir())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut d = InApp {
            name: req.name.clone(),
            req,
            dir_text: dir.display().to_string(),
            dir,
            selected: Vec::new(),
            all_files: false,
            entries: Vec::new(),
            error: None,
        };
        d.list();
        d
    }

    /// Reads the directory: folders first, then the files the filter shows.
    fn list(&mut self) {
        self.entries.clear();
        self.selected.clear();
        self.error = None;
        match std::fs::read_dir(&self.dir) {
            Err(e) => self.error = Some(format!("{}: {e}", self.dir.display())),
            Ok(rd) => {
                let exts = self.req.filter.1;
                for e in rd.flatten().take(MAX_ENTRIES) {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let is_dir = e.path().is_dir();
                    let shown = is_dir
                        || (self.req.kind != Kind::Folder
                            && (self.all_files
                                || exts.is_empty()
                                || Path::new(&name)
                                    .extension()
                                    .is_some_and(|x| exts.iter().any(|f| x.eq_ignore_ascii_case(f)))));
                    if shown && !name.starts_with('.') {
                        self.entries.push((name, is_dir));
                    }
                }
                self.entries.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
                });
            }
        }
        self.dir_text = self.dir.display().to_string();
    }

    fn go(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.list();
    }

    /// Shows the window; `Some(answer)` when it closes (empty: cancelled).
    fn ui(&mut self, ctx: &egui::Context) -> Option<Vec<PathBuf>> {
        let mut answer = None;
        let mut open = true;
        let ok_label = match self.req.kind {
            Kind::Open { .. } => "Open",
            Kind::Save => "Save",
            Kind::Folder => "Choose this folder",
        };
        egui::Window::new(self.req.title.clone())
            .id(egui::Id::unique("rmscope-file-dialog"))
            .collapsible(false)
            .default_size([560.0, 420.0])
            .open(&mut open)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Up").clicked()
                        && let Some(p) = self.dir.parent()
                    {
                        self.go(p.to_path_buf());
                    }
                    let label = ui.label("Folder");
                    let r = ui
                        .add(egui::TextEdit::singleline(&mut self.dir_text).desired_width(360.0))
                        .labelled_by(label.id);
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        let p = PathBuf::from(self.dir_text.trim());
                        if p.is_dir() {
                            self.go(p);
                        } else {
                            self.error = Some(format!("{}: not a folder", p.display()));
                        }
                    }
                });
                if self.req.kind != Kind::Folder
                    && ui
                        .checkbox(
                            &mut self.all_files,
                            format!("All files (not only {})", self.req.filter.0),
                        )
                        .changed()
                {
                    self.list();
                }
                ui.separator();
                let mut enter = None;
                egui::ScrollArea::vertical()
                    .id_salt("file-dialog-entries")
                    .max_height(260.0)
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        for (name, is_dir) in &self.entries {
                            let path = self.dir.join(name);
                            let label = if *is_dir { format!("{name}/") } else { name.clone() };
                            let chosen = self.selected.contains(&path);
                            let r = ui.selectable_label(chosen, label);
                            if r.double_clicked() && *is_dir {
                                enter = Some(path.clone());
                            } else if r.clicked() {
                                if *is_dir {
                                    enter = Some(path.clone());
                                } else {
                                    let multi = matches!(self.req.kind, Kind::Open { multiple: true })
                                        && ui.input(|i| i.modifiers.command || i.modifiers.shift);
                                    if !multi {
                                        self.selected.clear();
                                    }
                                    if chosen && multi {
                                        self.selected.retain(|p| *p != path);
                                    } else {
                                        self.selected.push(path.clone());
                                    }
                                    self.name = name.clone();
                                }
                            }
                        }
                        if self.entries.is_empty() {
                            ui.weak("Nothing here.");
                        }
                    });
                if let Some(p) = enter {
                    self.go(p);
                }
                ui.separator();
                if self.req.kind != Kind::Folder {
                    ui.horizontal(|ui| {
                        let label = ui.label("File name");
                        ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(320.0))
                            .labelled_by(label.id);
                    });
                }
                if let Some(e) = &self.error {
                    ui.colored_label(super::style::LOST, e);
                }
                ui.horizontal(|ui| {
                    if ui.button(ok_label).clicked() {
                        match self.answer() {
                            Ok(paths) => answer = Some(paths),
                            Err(e) => self.error = Some(e),
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(Vec::new());
                    }
                });
            });
        if !open {
            answer = Some(Vec::new());
        }
        answer
    }

    fn answer(&self) -> Result<Vec<PathBuf>, String> {
        match self.req.kind {
            Kind::Folder => Ok(vec![self.dir.clone()]),
            Kind::Open { .. } => {
                let typed = self.dir.join(self.name.trim());
                let paths = if self.selected.len() > 1
                    || (!self.selected.is_empty() && self.name.trim().is_empty())
                {
                    self.selected.clone()
                } else {
                    vec![typed]
                };
                match paths.iter().find(|p| !p.is_file()) {
                    Some(p) => Err(format!("{}: no such file", p.display())),
                    None => Ok(paths),
                }
            }
            Kind::Save => {
                let name = self.name.trim();
                if name.is_empty() {
                    return Err("type a file name".into());
                }
                Ok(vec![self.dir.join(name)])
            }
        }
    }
}

impl Dialogs {
    pub fn with_in_app(in_app: bool) -> Self {
        Dialogs {
            in_app,
            ..Dialogs::default()
        }
    }

    /// Asks for paths: the answer now (scripted, or the desktop's dialog), `None` when cancelled
    /// or when the in-app dialog opened (its answer comes from `ui`).
    pub fn ask(&mut self, req: Request) -> Option<Vec<PathBuf>> {
        if let Some(answer) = self.scripted.pop_front() {
            return answer.map(|p| vec![p]);
        }
        if !self.in_app && desktop_has_portal() {
            let started = Instant::now();
            let got = desktop(&req);
            if got.is_some() || started.elapsed() >= NOT_SHOWN {
                return got;
            }
            self.notice = Some(
                "The desktop showed no file dialog (no xdg-desktop-portal answered): rmscope's own is used (View → In-app file dialogs).".into(),
            );
            self.in_app = true;
        }
        self.open = Some(InApp::new(req));
        None
    }

    /// Whether the in-app dialog is showing.
    pub fn showing(&self) -> bool {
        self.open.is_some()
    }

    /// Shows the in-app dialog; its answer, with what it is for, when the user closes it.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<(Purpose, Vec<PathBuf>)> {
        let d = self.open.as_mut()?;
        let answer = d.ui(ctx)?;
        let purpose = d.req.purpose;
        self.open = None;
        (!answer.is_empty()).then_some((purpose, answer))
    }
}

/// rfd's portal backend needs a session bus to reach xdg-desktop-portal.
fn desktop_has_portal() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

fn desktop(req: &Request) -> Option<Vec<PathBuf>> {
    let mut d = rfd::FileDialog::new().set_title(&req.title);
    if req.kind != Kind::Folder {
        d = d.add_filter(req.filter.0, req.filter.1);
    }
    if let Kind::Open { .. } = req.kind {
        d = d.add_filter("All files", &["*"]);
    }
    if let Some(dir) = &req.dir {
        d = d.set_directory(dir);
    }
    match req.kind {
        Kind::Open { multiple: false } => d.pick_file().map(|p| vec![p]),
        Kind::Open { multiple: true } => d.pick_files(),
        Kind::Save => d.set_file_name(&req.name).save_file().map(|p| vec![p]),
        Kind::Folder => d.pick_folder().map(|p| vec![p]),
    }
}
