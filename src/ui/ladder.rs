//! The ladder (flow) diagram: one lifeline per endpoint, one arrow per message in the plots'
//! visible time range, as in Wireshark's Flow Graph. A lost message is an arrow ending in ✕.

use super::model::Dataset;
use super::style;
use eframe::egui::{self, Align2, FontId, Pos2, Sense, Stroke, vec2};

/// Endpoints drawn at most (captures with many connections: the rest are summarised).
const MAX_LIFELINES: usize = 8;

/// Lifeline names, and each endpoint's lifeline.
type Lanes = (Vec<String>, Vec<usize>);

pub struct LadderState {
    /// Only the messages of the plots' visible time range.
    pub follow_plots: bool,
    /// Scroll to this wire on the next frame.
    pub scroll_to: Option<u32>,
    /// Lifelines of the dataset (id, version) they were made for.
    lanes: Option<((u64, u64), Lanes)>,
}

impl Default for LadderState {
    fn default() -> Self {
        LadderState {
            follow_plots: true,
            scroll_to: None,
            lanes: None,
        }
    }
}

/// Wires in `range` (seconds), assuming wires are in time order (they are: capture order or
/// send order); at worst a clock step back shows a few rows more or less.
pub fn rows_in(d: &Dataset, range: Option<(f64, f64)>) -> std::ops::Range<usize> {
    let w = &d.timeline.wires;
    match range {
        None => 0..w.len(),
        Some((a, b)) => {
            let lo = w.partition_point(|x| x.time.as_secs_f64() < a);
            let hi = w.partition_point(|x| x.time.as_secs_f64() <= b);
            lo..hi.max(lo)
        }
    }
}

/// The ladder's lifelines: one per host (an endpoint named `host:port` joins its host's), and
/// each endpoint's lane. When two ends of one message share a host (loopback), every endpoint
/// keeps a lifeline of its own.
pub fn lanes(d: &Dataset) -> Lanes {
    let mut names: Vec<String> = Vec::new();
    let lane_of: Vec<usize> = d
        .timeline
        .endpoints
        .iter()
        .map(|e| {
            let host = match e.parse::<std::net::SocketAddr>() {
                Ok(a) => a.ip().to_string(),
                Err(_) => e.to_string(),
            };
            names.iter().position(|n| *n == host).unwrap_or_else(|| {
                names.push(host);
                names.len() - 1
            })
        })
        .collect();
    let lane = |e: u16| lane_of.get(e as usize).copied();
    let folds_a_message = d
        .timeline
        .wires
        .iter()
        .any(|w| w.from != w.to && lane(w.from) == lane(w.to));
    if folds_a_message {
        let names = d.timeline.endpoints.iter().map(|e| e.to_string()).collect();
        return (names, (0..d.timeline.endpoints.len()).collect());
    }
    (names, lane_of)
}

fn label(d: &Dataset, i: u32) -> String {
    let w = &d.timeline.wires.at(i as usize);
    let info = d.info(i);
    if info.is_empty() {
        w.kind.label().to_string()
    } else {
        format!("{}  {}", w.kind.label(), info)
    }
}

impl LadderState {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        d: &Dataset,
        range: Option<(f64, f64)>,
        selected: Option<u32>,
    ) -> Option<u32> {
        let rows = rows_in(d, if self.follow_plots { range } else { None });
        // One lifeline per host: a capture's ephemeral client ports share their host's.
        let key = (d.id, d.version);
        if self.lanes.as_ref().is_none_or(|(k, _)| *k != key) {
            self.lanes = Some((key, lanes(d)));
        }
        let (lanes, lane_of) = self.lanes.clone().expect("made").1;
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.follow_plots, "Only the plots' time range");
            ui.label(format!("{} messages", rows.len()));
            let hosts = lanes.len();
            if hosts > MAX_LIFELINES {
                ui.weak(format!(
                    "{hosts} hosts: the first {MAX_LIFELINES} have lifelines, arrows to others end at the edge"
                ));
            }
        });
        let n_ep = lanes.len().clamp(1, MAX_LIFELINES);
        let time_w = 96.0;
        let width = ui.available_width();
        let lane_w = ((width - time_w) / n_ep as f32).max(60.0);
        let x_of = |left: f32, e: u16| {
            let e = lane_of.get(e as usize).copied().unwrap_or(usize::MAX).min(n_ep);
            if e >= MAX_LIFELINES {
                left + time_w + lane_w * n_ep as f32 - 4.0
            } else {
                left + time_w + lane_w * (e as f32 + 0.5)
            }
        };
        // Header: endpoint names.
        let (head, _) = ui.allocate_exact_size(vec2(width, 22.0), Sense::hover());
        let painter = ui.painter();
        let text = ui.visuals().text_color();
        let line_color = ui.visuals().weak_text_color();
        painter.text(
            head.left_center() + vec2(4.0, 0.0),
            Align2::LEFT_CENTER,
            "Time [s]",
            FontId::proportional(13.0),
            text,
        );
        for (e, name) in lanes.iter().enumerate().take(n_ep) {
            painter.text(
                Pos2::new(head.left() + time_w + lane_w * (e as f32 + 0.5), head.center().y),
                Align2::CENTER_CENTER,
                name,
                FontId::proportional(13.0),
                text,
            );
        }
        let row_h = 30.0;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("ladder")
            .auto_shrink([false, false]);
        if let Some(w) = self.scroll_to.take()
            && rows.contains(&(w as usize))
        {
            let y = (w as usize - rows.start) as f32 * row_h;
            area = area.vertical_scroll_offset((y - ui.available_height() / 2.0).max(0.0));
        }
        let mut clicked = None;
        area.show_rows(ui, row_h, rows.len(), |ui, vis| {
            for r in vis {
                let i = (rows.start + r) as u32;
                let w = d.timeline.wires.at(i as usize);
                let (rect, resp) = ui.allocate_exact_size(vec2(width, row_h), Sense::click());
                let p = ui.painter();
                if selected == Some(i) {
                    p.rect_filled(rect, 2.0, ui.visuals().selection.bg_fill.gamma_multiply(0.6));
                } else if resp.hovered() {
                    p.rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
                }
                for e in 0..n_ep {
                    let x = rect.left() + time_w + lane_w * (e as f32 + 0.5);
                    p.vline(x, rect.y_range(), Stroke::new(1.0, line_color));
                }
                p.text(
                    rect.left_center() + vec2(4.0, 0.0),
                    Align2::LEFT_CENTER,
                    format!("{:.6}", w.time.as_secs_f64()),
                    FontId::monospace(12.0),
                    text,
                );
                let color = style::wire(&w);
                let (x0, x1) = (x_of(rect.left(), w.from), x_of(rect.left(), w.to));
                let (y0, y1) = (rect.top() + 17.0, rect.top() + 25.0);
                let lost = d.lost.contains(&i);
                let stroke = Stroke::new(1.6, color);
                if lost {
                    let xm = (x0 + x1) / 2.0;
                    let ym = (y0 + y1) / 2.0;
                    p.line_segment([Pos2::new(x0, y0), Pos2::new(xm, ym)], stroke);
                    cross(p, Pos2::new(xm, ym), 5.0, Stroke::new(2.0, style::LOST));
                } else {
                    arrow(p, Pos2::new(x0, y0), Pos2::new(x1, y1), stroke);
                }
                let mid = Pos2::new((x0 + x1) / 2.0, rect.top() + 1.0);
                p.text(
                    mid,
                    Align2::CENTER_TOP,
                    label(d, i),
                    FontId::proportional(11.5),
                    if lost { style::LOST } else { text },
                );
                let resp = resp.on_hover_text(super::table::describe(d, i));
                if resp.clicked() {
                    clicked = Some(i);
                }
            }
        });
        clicked
    }
}

/// A line with a fixed-size head (egui's arrow scales its head with the length).
fn arrow(p: &egui::Painter, from: Pos2, to: Pos2, s: Stroke) {
    p.line_segment([from, to], s);
    let dir = (to - from).normalized();
    let back = -dir * 9.0;
    let side = vec2(-dir.y, dir.x) * 4.0;
    p.line_segment([to, to + back + side], s);
    p.line_segment([to, to + back - side], s);
}

fn cross(p: &egui::Painter, c: Pos2, r: f32, s: Stroke) {
    p.line_segment([c + vec2(-r, -r), c + vec2(r, r)], s);
    p.line_segment([c + vec2(-r, r), c + vec2(r, -r)], s);
}
