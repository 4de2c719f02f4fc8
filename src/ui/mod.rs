//! The desktop app (eframe + egui).

pub mod decimate;
pub mod model;

use std::process::ExitCode;

/// Opens the main window.
pub fn run_app() -> ExitCode {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("rmscope")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    match eframe::run_native("rmscope", options, Box::new(|_cc| Ok(Box::new(App)))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmscope: cannot open a window: {e}");
            ExitCode::from(2)
        }
    }
}

struct App;

impl eframe::App for App {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        ui.heading("rmscope");
        ui.label(format!("version {}", env!("CARGO_PKG_VERSION")));
    }
}
