//! The message list: a virtualized table of every wire message with a filter box.

use super::model::{Dataset, Filter};
use super::style;
use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

/// Which wires the list shows.
enum Rows {
    All(usize),
    Some(Vec<u32>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::All(n) => *n,
            Rows::Some(v) => v.len(),
        }
    }
    fn get(&self, row: usize) -> u32 {
        match self {
            Rows::All(_) => row as u32,
            Rows::Some(v) => v[row],
        }
    }
    fn position(&self, wire: u32) -> Option<usize> {
        match self {
            Rows::All(n) => ((wire as usize) < *n).then_some(wire as usize),
            Rows::Some(v) => v.binary_search(&wire).ok(),
        }
    }
}

#[derive(Default)]
pub struct TableState {
    pub filter_text: String,
    filter_error: Option<String>,
    rows: Option<((u64, usize, String, bool), Rows)>,
    /// Hide HTTP messages without SOAP (202 Accepted and the like), remembered.
    pub soap_only: bool,
    /// Scroll to this wire on the next frame (selection made elsewhere).
    pub scroll_to: Option<u32>,
    /// Give the filter field the keyboard on the next frame (Ctrl+F, `/`).
    pub focus_filter: bool,
    /// Rows that fit in the list (a page for PageUp/PageDown).
    page: usize,
}

/// A move of the selection in the list, as Wireshark's packet list takes the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Rows down (positive) or up.
    By(isize),
    /// A page down (positive) or up.
    Pages(isize),
    First,
    Last,
}

impl TableState {
    /// Rows shown with the current filter.
    pub fn row_count(&self) -> usize {
        self.rows.as_ref().map_or(0, |(_, r)| r.len())
    }

    pub fn with_soap_only(soap_only: bool) -> Self {
        TableState {
            soap_only,
            ..TableState::default()
        }
    }

    /// The wire a key moves the selection to: from the selected row (or before the first one)
    /// within the rows the filter shows.
    pub fn step(&mut self, d: &Dataset, selected: Option<u32>, step: Step) -> Option<u32> {
        self.refresh(d);
        let rows = &self.rows.as_ref()?.1;
        let n = rows.len();
        if n == 0 {
            return None;
        }
        let at = selected.and_then(|w| rows.position(w));
        let target = match (step, at) {
            (Step::First, _) => 0,
            (Step::Last, _) => n - 1,
            (Step::By(k), None) | (Step::Pages(k), None) if k < 0 => n - 1,
            (Step::By(_), None) | (Step::Pages(_), None) => 0,
            (Step::By(k), Some(r)) => r.saturating_add_signed(k).min(n - 1),
            (Step::Pages(k), Some(r)) => r.saturating_add_signed(k * self.page.max(1) as isize).min(n - 1),
        };
        Some(rows.get(target))
    }

    fn refresh(&mut self, d: &Dataset) {
        let key = (
            d.id,
            d.timeline.wires.len(),
            self.filter_text.clone(),
            self.soap_only,
        );
        if self.rows.as_ref().is_some_and(|(k, _)| *k == key) {
            return;
        }
        let mut rows = match Filter::parse(&self.filter_text) {
            Ok(f) if f.is_empty() => {
                self.filter_error = None;
                Rows::All(d.timeline.wires.len())
            }
            Ok(f) => {
                self.filter_error = None;
                Rows::Some(f.apply(d))
            }
            Err(e) => {
                self.filter_error = Some(e);
                Rows::All(d.timeline.wires.len())
            }
        };
        if self.soap_only {
            let soap = |&w: &u32| d.wire(w).is_some_and(|x| x.kind != crate::trace::WireKind::Http);
            rows = Rows::Some(match rows {
                Rows::All(n) => (0..n as u32).filter(soap).collect(),
                Rows::Some(v) => v.into_iter().filter(soap).collect(),
            });
        }
        self.rows = Some((key, rows));
    }

    /// Shows the list; returns the wire the user selected, if any.
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset, selected: Option<u32>) -> Option<u32> {
        self.refresh(d);
        let mut clicked = None;
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter_text)
                        .hint_text("seq:ID  kind:ack  msg:5-9  words")
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_filter) {
                field.request_focus();
            }
            // Esc in the field clears it (and gives the keyboard back to the list).
            if field.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                self.filter_text.clear();
                field.surrender_focus();
            }
            field
            .on_hover_text(
                "Short forms, all of which must match: seq:TEXT (sequence id), kind:TEXT (Message, Ack, …), msg:N or msg:N-M (messages with those numbers and the acks that cover them), other words search kind, sequence and info.\nOr a display filter as in Wireshark: wsrm.msgnum == 5, wsrm.seq contains \"8b60\", wsrm.ack.range == 7, wsrm.retransmission, http.response.code == 503, frame.time_relative > 2, with && || ! and parentheses (fields in the README).",
            );
            if !self.filter_text.is_empty() && ui.small_button("Clear").clicked() {
                self.filter_text.clear();
            }
            ui.checkbox(&mut self.soap_only, "SOAP messages only")
                .on_hover_text("Hide HTTP messages without a SOAP envelope (202 Accepted, …)");
            let total = d.timeline.wires.len();
            let shown = self.row_count();
            if shown == total {
                ui.label(format!("{total} messages"));
            } else {
                ui.label(format!("{shown} of {total} messages"));
            }
            if let Some(e) = &self.filter_error {
                ui.colored_label(style::LOST, e);
            }
        });
        // The filter may have changed this frame.
        self.refresh(d);
        let rows = &self.rows.as_ref().expect("refreshed").1;
        let scroll_row = self.scroll_to.take().and_then(|w| rows.position(w));
        ui.style_mut().interaction.selectable_labels = false;
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        self.page = ((ui.available_height() / row_h) as usize)
            .saturating_sub(2)
            .max(1);
        let mut table = TableBuilder::new(ui)
            .id_salt("messages")
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(56.0).at_least(36.0))
            .column(Column::initial(84.0).at_least(60.0))
            .column(Column::initial(200.0).at_least(80.0).clip(true))
            .column(Column::initial(100.0).at_least(50.0).clip(true))
            .column(Column::initial(50.0).at_least(36.0))
            .column(Column::initial(130.0).at_least(60.0).clip(true))
            .column(Column::remainder().at_least(100.0).clip(true))
            .min_scrolled_height(0.0);
        if let Some(r) = scroll_row {
            table = table.scroll_to_row(r, Some(egui::Align::Center));
        }
        table
            .header(row_h, |mut h| {
                for title in [
                    "No.",
                    "Time",
                    "Source -> Destination",
                    "Sequence",
                    "Msg #",
                    "Kind",
                    "Info",
                ] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_h, rows.len(), |mut row| {
                    let i = rows.get(row.index());
                    let Some(w) = d.wire(i) else { return };
                    row.set_selected(selected == Some(i));
                    let color = style::wire(&w);
                    row.col(|ui| {
                        ui.label(d.number_of(i).to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.6}", w.time.as_secs_f64()));
                    });
                    row.col(|ui| {
                        ui.label(format!("{} -> {}", d.endpoint(w.from), d.endpoint(w.to)));
                    });
                    row.col(|ui| {
                        ui.label(super::plots::short_id(d.sequence_name(w.seq)));
                    });
                    row.col(|ui| {
                        if w.number > 0 && w.kind.is_sequenced() {
                            ui.label(w.number.to_string());
                        }
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(w.kind.label()).color(color));
                    });
                    row.col(|ui| {
                        let mut info = d.info(i);
                        if let Some(how) = d.loss_label(i) {
                            info.push_str(&format!("  [{how}]"));
                            ui.label(RichText::new(info).color(style::LOST));
                        } else {
                            ui.label(info);
                        }
                    });
                    if row.response().clicked() {
                        clicked = Some(i);
                    }
                });
            });
        clicked
    }
}

/// One line about a wire (plot tooltips, ladder hover).
pub fn describe(d: &Dataset, i: u32) -> String {
    let Some(w) = d.wire(i) else {
        return String::new();
    };
    let lost = d.loss_label(i).map_or(String::new(), |how| format!("  — {how}"));
    format!(
        "No. {}  t = {:.6} s\n{} -> {}\n{}  {}{lost}",
        d.number_of(i),
        w.time.as_secs_f64(),
        d.endpoint(w.from),
        d.endpoint(w.to),
        w.kind.label(),
        d.info(i)
    )
}
