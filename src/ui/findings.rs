//! Expert findings, coloured by severity as in Wireshark; a click selects the message.

use super::model::Dataset;
use super::style;
use crate::analysis::Severity;
use eframe::egui::{self, RichText};

pub struct FindingsState {
    /// Severities shown (chat, note, warn, error).
    pub show: [bool; 4],
    selected: Option<usize>,
}

impl Default for FindingsState {
    fn default() -> Self {
        FindingsState {
            show: [true; 4],
            selected: None,
        }
    }
}

const ORDER: [Severity; 4] = [Severity::Error, Severity::Warn, Severity::Note, Severity::Chat];

/// The text a finding's row shows (and is found by).
pub fn row_text(d: &Dataset, k: usize) -> String {
    let f = &d.findings[k];
    let at = if f.frame > 0 {
        format!("{} {}", d.frame_unit(), f.frame)
    } else {
        format!("{:.3} s", f.time.as_secs_f64())
    };
    format!("{}  {}", at, f.text)
}

impl FindingsState {
    /// Shows the panel; returns the wire to select when a finding was clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset) -> Option<u32> {
        ui.heading("Expert findings");
        let mut counts = [0usize; 4];
        for f in &d.findings {
            counts[f.severity as usize] += 1;
        }
        ui.horizontal_wrapped(|ui| {
            for s in ORDER {
                let text =
                    RichText::new(format!("{} {}", s.label(), counts[s as usize])).color(style::severity(s));
                ui.toggle_value(&mut self.show[s as usize], text);
            }
        });
        ui.separator();
        let visible: Vec<usize> = (0..d.findings.len())
            .filter(|&k| self.show[d.findings[k].severity as usize])
            .collect();
        if d.findings.is_empty() {
            ui.weak("Nothing to report.");
            return None;
        }
        let mut clicked = None;
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y + 2.0;
        egui::ScrollArea::vertical()
            .id_salt("findings")
            .auto_shrink([false, false])
            .show_rows(ui, row_h, visible.len(), |ui, range| {
                for &k in &visible[range] {
                    let f = &d.findings[k];
                    ui.horizontal(|ui| {
                        ui.colored_label(style::severity(f.severity), format!("{:>5}", f.severity.label()));
                        let r = ui
                            .add(
                                egui::Button::selectable(self.selected == Some(k), row_text(d, k))
                                    .truncate()
                                    .frame(false),
                            )
                            .on_hover_text(&f.text);
                        if r.clicked() {
                            self.selected = Some(k);
                            clicked = d.wire_of_finding(f);
                        }
                    });
                }
            });
        clicked
    }
}
