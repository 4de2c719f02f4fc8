//! The desktop app (eframe + egui): live and capture views over the one timeline.

pub mod app;
pub mod compare;
pub mod decimate;
pub mod detail;
pub mod dialogs;
pub mod findings;
pub mod ladder;
pub mod live_capture;
pub mod live_source;
pub mod loader;
pub mod model;
pub mod plots;
pub mod profile_panel;
pub mod rerun_view;
pub mod saver;
pub mod settings_form;
pub mod style;
pub mod sweep_view;
pub mod table;

pub use app::{App, StartOptions, Tab};

use crate::cli::AppArgs;
use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the main window (`rmscope [FILE…]`).
pub fn run_app(files: Vec<PathBuf>, args: AppArgs) -> ExitCode {
    let opts = StartOptions {
        files,
        view: args.view,
        preset: args.preset,
        speed: args.speed,
        capture: args.capture.map(|i| (i, args.filter)),
    };
    let options = eframe::NativeOptions {
        // Explicit: test builds also compile wgpu (egui_kittest), which would flip the default.
        renderer: eframe::Renderer::Glow,
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("rmscope")
            .with_app_id("rmscope")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    match eframe::run_native(
        "rmscope",
        options,
        Box::new(move |cc| Ok(Box::new(App::new(cc, opts)))),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmscope: cannot open a window: {e}");
            ExitCode::from(2)
        }
    }
}
