//! The four time plots (sequence/time, retransmissions, window occupancy, inactivity), stacked
//! with linked time axes. Data is reduced per pixel before egui_plot sees it, and the reduction
//! is cached until the view or the data changes, so a million events stay interactive.

pub mod axis;
pub mod data;
mod segments;

use super::decimate::{Viewport, decimate, thin_markers};
use super::model::Dataset;
use super::style;
use crate::trace::SeqIdx;
use data::{Marks, PlotData};
use eframe::egui::{self, Color32, RichText, Stroke};
use egui_plot::{Line, LineStyle, MarkerShape, Plot, PlotPoint, Points, Text, VLine};
use segments::Segments;

/// One of the stacked plots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Which {
    Sequence,
    Retransmissions,
    Window,
    Inactivity,
}

impl Which {
    pub const ALL: [Which; 4] = [
        Which::Sequence,
        Which::Retransmissions,
        Which::Window,
        Which::Inactivity,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Which::Sequence => "Sequence/time",
            Which::Retransmissions => "Retransmissions",
            Which::Window => "Window",
            Which::Inactivity => "Inactivity",
        }
    }
    fn y_label(self) -> &'static str {
        match self {
            Which::Sequence => "message number",
            Which::Retransmissions => "message number",
            Which::Window => "messages",
            Which::Inactivity => "seconds",
        }
    }
}

/// Keyboard navigation, as in Wireshark's graph dialogs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlotCmd {
    /// `+`/`-`: the time axis.
    ZoomIn,
    ZoomOut,
    /// Shift with `+`/`-`: the value axis.
    ZoomValueIn,
    ZoomValueOut,
    Reset,
    /// Fractions of the visible width and height.
    Pan(f32, f32),
}

/// Reduced series of one plot for one viewport.
#[derive(Default)]
struct Cache {
    key: Option<(u64, u64, [u64; 4], usize, usize)>,
    points: Vec<Vec<[f64; 2]>>,
    segs: Vec<Vec<[f64; 4]>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PlotsState {
    pub show: [bool; 4],
    pub all_retransmissions: bool,
    /// The sequence plotted; `NONE` follows the busiest sequence.
    #[serde(skip)]
    pub seq: SeqIdx,
    #[serde(skip)]
    data: Option<((u64, u64, SeqIdx, bool), PlotData)>,
    #[serde(skip)]
    caches: [Cache; 4],
    #[serde(skip)]
    pub pending: Vec<PlotCmd>,
    /// The time range on screen after the last frame (the ladder follows it).
    #[serde(skip)]
    pub visible: Option<(f64, f64)>,
    /// The wire under the pointer, if any.
    #[serde(skip)]
    pub hovered: Option<u32>,
    #[serde(skip)]
    focus: usize,
    #[serde(skip)]
    reset_all: bool,
}

impl Default for PlotsState {
    fn default() -> Self {
        PlotsState {
            show: [true; 4],
            all_retransmissions: false,
            seq: SeqIdx::NONE,
            data: None,
            caches: Default::default(),
            pending: Vec::new(),
            visible: None,
            hovered: None,
            focus: 0,
            reset_all: false,
        }
    }
}

/// What the plots report back to the app.
#[derive(Default)]
pub struct Outcome {
    pub clicked: Option<u32>,
}

impl PlotsState {
    /// Only this plot (for `--view` and screenshots).
    pub fn show_only(&mut self, w: Which) {
        self.show = Which::ALL.map(|x| x == w);
    }

    pub fn effective_seq(&self, d: &Dataset) -> SeqIdx {
        if self.seq.is_none() || self.seq.index().is_none_or(|i| i >= d.timeline.sequences.len()) {
            data::default_sequence(d)
        } else {
            self.seq
        }
    }

    /// The plotted series, rebuilt when the data, the sequence or the options change.
    pub fn data(&mut self, d: &Dataset) -> &PlotData {
        let seq = self.effective_seq(d);
        let key = (d.id, d.version, seq, self.all_retransmissions);
        if self.data.as_ref().is_none_or(|(k, _)| *k != key) {
            self.data = Some((key, data::build(d, seq, self.all_retransmissions)));
        }
        &self.data.as_ref().expect("just built").1
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset, selected: Option<u32>) -> Outcome {
        let mut out = Outcome::default();
        self.toolbar(ui, d);
        let shown: Vec<Which> = Which::ALL
            .into_iter()
            .zip(self.show)
            .filter(|(_, s)| *s)
            .map(|(w, _)| w)
            .collect();
        if shown.is_empty() {
            ui.label("No plot selected: tick one above.");
            return out;
        }
        if d.timeline.wires.is_empty() {
            ui.weak("No messages yet.");
        }
        self.data(d);
        let ((dkey, dver, _, _), _) = self.data.as_ref().map(|(k, _)| (*k, ())).expect("built");
        let data_key = dkey ^ (dver << 20) ^ (self.all_retransmissions as u64);
        let link = egui::Id::unique("rmscope-time-axis");
        let spacing = ui.spacing().item_spacing.y;
        let key_h = ui.text_style_height(&egui::TextStyle::Body) + spacing;
        let height =
            ((ui.available_height() - (spacing + key_h) * shown.len() as f32) / shown.len() as f32).max(90.0);
        let commands = std::mem::take(&mut self.pending);
        let reset = std::mem::take(&mut self.reset_all) || commands.contains(&PlotCmd::Reset);
        let focus = self.focus.min(shown.len() - 1);
        let mut hovered = None;
        let pd = &self.data.as_ref().expect("built").1;
        let sel_time = selected.and_then(|i| d.wire(i)).map(|w| w.time.as_secs_f64());
        for (k, which) in shown.iter().enumerate() {
            let cache = &mut self.caches[*which as usize];
            let ctx = Frame {
                which: *which,
                link,
                height,
                bottom: k + 1 == shown.len(),
                commands: if k == focus { &commands } else { &[] },
                reset,
                data_key,
                selected,
                sel_time,
            };
            let r = show_plot(ui, pd, cache, &ctx, d);
            if r.hovered {
                self.focus = k;
                hovered = r.hover_wire.or(hovered);
            }
            if r.clicked.is_some() {
                out.clicked = r.clicked;
            }
            self.visible = Some(r.x_range);
        }
        self.hovered = hovered;
        out
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, d: &Dataset) {
        ui.horizontal_wrapped(|ui| {
            for w in Which::ALL {
                ui.checkbox(&mut self.show[w as usize], w.title());
            }
            ui.separator();
            let seq = self.effective_seq(d);
            let label = |s: SeqIdx| -> String {
                match d.timeline.seq_info(s) {
                    Some(info) => {
                        let n = d
                            .analysis
                            .sequences
                            .iter()
                            .find(|x| x.index == s)
                            .map_or(0, |x| x.messages);
                        format!("{} ({n} messages)", short_id(&info.identifier))
                    }
                    None => "no sequence yet".into(),
                }
            };
            egui::ComboBox::from_label("Sequence")
                .selected_text(label(seq))
                .width(260.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.seq, SeqIdx::NONE, "Busiest sequence");
                    // A session's two sequences together: each return sequence right under the
                    // sequence that offered it.
                    let seqs = &d.timeline.sequences;
                    for (i, info) in seqs.iter().enumerate().take(500) {
                        if info.offered_by.is_some() {
                            continue;
                        }
                        let s = SeqIdx(i as u32);
                        ui.selectable_value(&mut self.seq, s, label(s));
                        if let Some(r) = info.return_sequence {
                            ui.selectable_value(&mut self.seq, r, format!("      {} — its return sequence", label(r)));
                        }
                    }
                });
            ui.checkbox(&mut self.all_retransmissions, "All messages in Retransmissions")
                .on_hover_text("Off: only message numbers sent more than once get a lane");
            if ui
                .button("Fit")
                .on_hover_text("Show everything (key 0); double-click a plot does the same")
                .clicked()
            {
                self.reset_all = true;
            }
            ui.weak("Keys").on_hover_text(
                "+ / − zoom, arrows pan, 0 fits, g goes to the message under the pointer, Space pauses live.\nMouse: drag pans, scroll zooms, right-drag zooms a box, double-click fits, click selects.",
            );
        });
    }
}

/// The last part of a sequence identifier (they share a long prefix: urn:uuid:...).
pub fn short_id(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if tail.len() < id.len() {
        format!("…{tail}")
    } else {
        tail
    }
}

struct Frame<'a> {
    which: Which,
    link: egui::Id,
    height: f32,
    bottom: bool,
    commands: &'a [PlotCmd],
    reset: bool,
    data_key: u64,
    selected: Option<u32>,
    sel_time: Option<f64>,
}

struct Shown {
    hovered: bool,
    hover_wire: Option<u32>,
    clicked: Option<u32>,
    x_range: (f64, f64),
}

/// The whole data's y range of a plot (for auto-bounds).
fn y_extent(pd: &PlotData, which: Which) -> (f64, f64) {
    let top = |v: &[[f64; 2]]| v.iter().map(|p| p[1]).fold(0.0, f64::max);
    match which {
        Which::Sequence => (0.0, pd.max_number.max(1.0) + 1.0),
        Which::Retransmissions => (-1.0, pd.max_number.max(1.0) + 1.0),
        Which::Window => {
            let w = &pd.window;
            let m = [&w.in_flight, &w.window, &w.queue, &w.advertised]
                .into_iter()
                .map(|v| top(v))
                .fold(w.max_window.unwrap_or(0.0), f64::max);
            (0.0, m.max(1.0) + 1.0)
        }
        Which::Inactivity => {
            let i = &pd.inactivity;
            let m = if i.timeout <= 3.0 * i.max_gap {
                i.timeout
            } else {
                0.0
            };
            (0.0, i.max_gap.max(m).max(0.001) * 1.05)
        }
    }
}

/// What each plot draws, for its key line (egui_plot's legend would cover the small plots).
fn key(pd: &PlotData, which: Which) -> Vec<(&'static str, Color32)> {
    match which {
        // Only what the data has: a capture knows no link losses and no engine timer.
        Which::Sequence => {
            let st = &pd.seq_time;
            [
                (!st.first.pts.is_empty(), "first send", style::FIRST),
                (
                    !st.retransmitted.pts.is_empty(),
                    "retransmission",
                    style::RETRANSMIT,
                ),
                (!st.lost.pts.is_empty(), "lost on the link", style::LOST),
                (!st.dropped.pts.is_empty(), "dropped on request", style::DROPPED),
                (!st.ack_bars.is_empty(), "ack ranges (at arrival)", style::ACK),
                (!st.delivered.is_empty(), st.delivered_label, style::DELIVERED),
                (!st.other.pts.is_empty(), st.other_label, style::OTHER_SEQUENCE),
            ]
            .into_iter()
            .filter(|(has, _, _)| *has)
            .map(|(_, name, color)| (name, color))
            .collect()
        }
        Which::Retransmissions => {
            let rt = &pd.retransmissions;
            [
                (!rt.first.pts.is_empty(), "first send", style::FIRST),
                (!rt.copies.pts.is_empty(), "retransmission", style::RETRANSMIT),
                (!rt.lost.pts.is_empty(), "lost", style::LOST),
                (
                    !rt.rto.is_empty(),
                    "retransmission timer armed (lane 0)",
                    style::TIMER,
                ),
                (!rt.fired.is_empty(), "timer expired", style::LOST),
            ]
            .into_iter()
            .filter(|(has, _, _)| *has)
            .map(|(_, name, color)| (name, color))
            .collect()
        }
        Which::Window => {
            let mut v = vec![(
                if pd.window.from_engine {
                    "in flight"
                } else {
                    "in flight (inferred from the wire)"
                },
                style::FIRST,
            )];
            if pd.window.from_engine {
                v.push(("transmission window", style::TIMER));
                v.push(("receiver queue", style::DELIVERED));
            }
            v.push(("advertised BufferRemaining", style::ACK));
            if pd.window.max_window.is_some() {
                v.push(("maxTransferWindowSize", style::LOST));
            }
            v
        }
        Which::Inactivity => vec![
            ("source: since last received", style::FIRST),
            ("destination: since last received", style::ACK),
            ("keep-alive AckRequested", style::TIMER),
            ("inactivityTimeout / fault", style::LOST),
        ],
    }
}

fn show_plot(ui: &mut egui::Ui, pd: &PlotData, cache: &mut Cache, f: &Frame<'_>, d: &Dataset) -> Shown {
    let which = f.which;
    ui.horizontal_wrapped(|ui| {
        ui.strong(which.title());
        for (name, color) in key(pd, which) {
            ui.label(RichText::new(name).color(color).small());
        }
    });
    let (ylo, yhi) = y_extent(pd, which);
    let (t0, t1) = (pd.t0, pd.t1.max(pd.t0 + 1e-3));
    let mut plot = axis::readable(Plot::new(("rmscope-plot", which as usize)))
        .height(f.height)
        .link_axis(f.link, [true, false])
        .link_cursor(f.link, [true, false])
        .y_axis_label(which.y_label())
        .y_axis_min_width(48.0)
        .include_x(t0)
        .include_x(t1)
        .include_y(ylo)
        .include_y(yhi)
        .show_crosshair(true)
        .allow_boxed_zoom(true);
    if f.bottom {
        plot = plot.x_axis_label("time [s]");
    }
    let resp = plot.show(ui, |pu| {
        let b = pu.plot_bounds();
        let auto = pu.auto_bounds();
        let frame = *pu.transform().frame();
        let vp = Viewport {
            x0: if auto.x { t0 } else { b.min()[0] },
            x1: if auto.x { t1 } else { b.max()[0] },
            y0: if auto.y { ylo } else { b.min()[1] },
            y1: if auto.y { yhi } else { b.max()[1] },
            columns: frame.width().max(1.0) as usize,
            rows: frame.height().max(1.0) as usize,
        };
        refresh(cache, pd, which, vp, f.data_key);
        add_items(pu, pd, cache, which, f, d);
        if f.reset {
            pu.set_auto_bounds(true);
        }
        let b = pu.plot_bounds();
        for c in f.commands {
            let center = b.center();
            match *c {
                PlotCmd::ZoomIn => pu.zoom_bounds(egui::vec2(1.5, 1.0), center),
                PlotCmd::ZoomOut => pu.zoom_bounds(egui::vec2(1.0 / 1.5, 1.0), center),
                PlotCmd::ZoomValueIn => pu.zoom_bounds(egui::vec2(1.0, 1.5), center),
                PlotCmd::ZoomValueOut => pu.zoom_bounds(egui::vec2(1.0, 1.0 / 1.5), center),
                PlotCmd::Pan(dx, dy) => {
                    pu.translate_bounds(egui::vec2(dx * b.width() as f32, dy * b.height() as f32))
                }
                PlotCmd::Reset => {}
            }
        }
    });
    let transform = resp.transform;
    let bounds = *transform.bounds();
    let response = resp.response;
    let mut shown = Shown {
        hovered: response.hovered(),
        hover_wire: None,
        clicked: None,
        x_range: (bounds.min()[0], bounds.max()[0]),
    };
    if let Some(pos) = response.hover_pos() {
        let picked = pick(pd, which, pos, &transform);
        shown.hover_wire = picked;
        if let Some(w) = picked {
            let text = super::table::describe(d, w);
            response.clone().on_hover_text_at_pointer(text);
        }
        if response.clicked() {
            shown.clicked = picked;
        }
    }
    shown
}

/// Recomputes the reduced series when the viewport or the data changed.
fn refresh(cache: &mut Cache, pd: &PlotData, which: Which, vp: Viewport, data_key: u64) {
    let key = (
        data_key,
        pd.seq.0 as u64,
        [vp.x0.to_bits(), vp.x1.to_bits(), vp.y0.to_bits(), vp.y1.to_bits()],
        vp.columns,
        vp.rows,
    );
    if cache.key == Some(key) {
        return;
    }
    cache.key = Some(key);
    let m = |marks: &Marks| thin_markers(&marks.pts, vp);
    let l = |pts: &[[f64; 2]]| decimate(pts, vp.x0, vp.x1, vp.columns);
    let s = |segs: &[[f64; 4]]| super::decimate::segments(segs, vp);
    let st = &pd.seq_time;
    let rt = &pd.retransmissions;
    let w = &pd.window;
    let i = &pd.inactivity;
    (cache.points, cache.segs) = match which {
        Which::Sequence => (
            vec![
                m(&st.first),
                m(&st.retransmitted),
                m(&st.lost),
                l(&st.delivered),
                m(&st.dropped),
                m(&st.other),
            ],
            vec![s(&st.ack_bars)],
        ),
        Which::Retransmissions => (
            vec![
                m(&rt.first),
                m(&rt.copies),
                m(&rt.lost),
                thin_markers(&rt.fired, vp),
            ],
            vec![s(&rt.spans), s(&rt.rto)],
        ),
        Which::Window => (
            vec![l(&w.in_flight), l(&w.window), l(&w.queue), l(&w.advertised)],
            vec![],
        ),
        Which::Inactivity => {
            let mut p: Vec<Vec<[f64; 2]>> = i.lines.iter().map(|(_, v)| l(v)).collect();
            p.push(m(&i.keep_alive));
            (p, vec![])
        }
    };
}

/// Adds a marker series when it has points (the legend lists only what is drawn).
fn add_points(
    pu: &mut egui_plot::PlotUi<'_>,
    name: &str,
    pts: &[[f64; 2]],
    color: Color32,
    shape: MarkerShape,
    r: f32,
) {
    if !pts.is_empty() {
        pu.points(points(name, pts, color, shape, r));
    }
}

fn points<'a>(name: &str, pts: &[[f64; 2]], color: Color32, shape: MarkerShape, r: f32) -> Points<'a> {
    Points::new(name.to_string(), pts.to_vec())
        .color(color)
        .shape(shape)
        .radius(r)
        .filled(true)
}

fn line<'a>(name: &str, pts: &[[f64; 2]], color: Color32) -> Line<'a> {
    // Already reduced per pixel; egui_plot's own band drawing would fill steps as areas.
    Line::new(name.to_string(), pts.to_vec())
        .color(color)
        .width(1.5)
        .allow_band(false)
}

fn add_items(
    pu: &mut egui_plot::PlotUi<'_>,
    pd: &PlotData,
    c: &Cache,
    which: Which,
    f: &Frame<'_>,
    d: &Dataset,
) {
    let p = &c.points;
    match which {
        Which::Sequence => {
            let st = &pd.seq_time;
            if !st.ack_bars.is_empty() {
                pu.add(Segments::new(
                    "ack ranges (at arrival)",
                    c.segs[0].clone(),
                    segments::extent(&st.ack_bars),
                    Stroke::new(1.0, style::ACK.gamma_multiply(0.45)),
                ));
            }
            if !p[3].is_empty() {
                pu.line(line(st.delivered_label, &p[3], style::DELIVERED));
            }
            add_points(pu, "first send", &p[0], style::FIRST, MarkerShape::Circle, 2.5);
            add_points(
                pu,
                "retransmission",
                &p[1],
                style::RETRANSMIT,
                MarkerShape::Diamond,
                4.0,
            );
            add_points(
                pu,
                "lost on the link",
                &p[2],
                style::LOST,
                MarkerShape::Cross,
                5.0,
            );
            add_points(
                pu,
                "dropped on request",
                &p[4],
                style::DROPPED,
                MarkerShape::Cross,
                6.0,
            );
            add_points(
                pu,
                st.other_label,
                &p[5],
                style::OTHER_SEQUENCE,
                MarkerShape::Square,
                2.5,
            );
        }
        Which::Retransmissions => {
            let rt = &pd.retransmissions;
            if !rt.spans.is_empty() {
                pu.add(Segments::new(
                    "first -> last copy",
                    c.segs[0].clone(),
                    segments::extent(&rt.spans),
                    Stroke::new(1.0, style::RETRANSMIT.gamma_multiply(0.6)),
                ));
            }
            // Only the engine's own runs know the timer; a capture shows none.
            if !rt.rto.is_empty() {
                pu.add(Segments::new(
                    "retransmission timer (lane 0)",
                    c.segs[1].clone(),
                    segments::extent(&rt.rto),
                    Stroke::new(4.0, style::TIMER.gamma_multiply(0.6)),
                ));
            }
            add_points(pu, "first send", &p[0], style::FIRST, MarkerShape::Circle, 3.0);
            add_points(
                pu,
                "retransmission",
                &p[1],
                style::RETRANSMIT,
                MarkerShape::Diamond,
                4.0,
            );
            add_points(
                pu,
                "lost on the link",
                &p[2],
                style::LOST,
                MarkerShape::Cross,
                5.0,
            );
            add_points(
                pu,
                "timer expired",
                &p[3],
                style::LOST,
                MarkerShape::Asterisk,
                6.0,
            );
            if rt.first.is_empty() && rt.rto.is_empty() {
                pu.text(Text::new(
                    "note",
                    PlotPoint::new((pd.t0 + pd.t1) / 2.0, 0.5),
                    "no retransmissions",
                ));
            }
        }
        Which::Window => {
            let w = &pd.window;
            let name = if w.from_engine {
                "in flight"
            } else {
                "in flight (inferred from the wire)"
            };
            pu.line(line(name, &p[0], style::FIRST));
            if !p[1].is_empty() {
                pu.line(line("transmission window", &p[1], style::TIMER));
            }
            if !p[2].is_empty() {
                pu.line(line("receiver queue", &p[2], style::DELIVERED));
            }
            if !p[3].is_empty() {
                pu.line(line("advertised BufferRemaining", &p[3], style::ACK));
            }
            if let Some(m) = w.max_window {
                pu.hline(
                    egui_plot::HLine::new("maxTransferWindowSize", m)
                        .color(style::LOST.gamma_multiply(0.8))
                        .style(LineStyle::dashed_dense()),
                );
            }
        }
        Which::Inactivity => {
            let i = &pd.inactivity;
            let colors = [style::FIRST, style::ACK];
            for (k, (name, _)) in i.lines.iter().enumerate() {
                pu.line(line(
                    &format!("{name}: since last received"),
                    &p[k],
                    colors[k % 2],
                ));
            }
            let ka = &p[i.lines.len()];
            add_points(
                pu,
                "keep-alive AckRequested",
                ka,
                style::TIMER,
                MarkerShape::Up,
                5.0,
            );
            if i.timeout <= 3.0 * i.max_gap.max(1e-9) {
                pu.hline(
                    egui_plot::HLine::new("inactivityTimeout", i.timeout)
                        .color(style::LOST)
                        .style(LineStyle::dashed_dense()),
                );
            } else {
                pu.text(
                    Text::new(
                        "timeout note",
                        PlotPoint::new(pd.t1, i.max_gap.max(0.001)),
                        format!(
                            "inactivityTimeout {} is off the scale",
                            humantime::format_duration(std::time::Duration::from_secs_f64(i.timeout))
                        ),
                    )
                    .anchor(egui::Align2::RIGHT_TOP)
                    .color(style::LOST),
                );
            }
            let mid = (pd.t0 + pd.t1) / 2.0;
            for (k, (t, what)) in i.faults.iter().enumerate() {
                pu.vline(
                    VLine::new(format!("fault {k}"), *t)
                        .color(style::LOST)
                        .width(2.0)
                        .name("fault"),
                );
                // Labels step down so simultaneous faults (both ends) stay readable.
                let y = i.max_gap * (0.95 - 0.12 * (k % 6) as f64);
                let anchor = if *t > mid {
                    egui::Align2::RIGHT_TOP
                } else {
                    egui::Align2::LEFT_TOP
                };
                pu.text(
                    Text::new(
                        format!("fault label {k}"),
                        PlotPoint::new(*t, y),
                        format!(" {what} "),
                    )
                    .anchor(anchor)
                    .color(style::LOST),
                );
            }
        }
    }
    // The selected message, everywhere.
    if let Some(t) = f.sel_time {
        pu.vline(
            VLine::new("selected", t)
                .color(style::SELECTED.gamma_multiply(0.5))
                .style(LineStyle::dashed_loose()),
        );
    }
    if let Some(sel) = f.selected
        && let Some(pt) = selected_point(pd, which, sel)
    {
        pu.points(
            Points::new("selected message", vec![pt])
                .shape(MarkerShape::Circle)
                .radius(8.0)
                .filled(false)
                .color(style::SELECTED),
        );
    }
    let _ = d;
}

/// The marks of a plot that stand for wires (what hovering and clicking can pick).
fn marks_of(pd: &PlotData, which: Which) -> Vec<&Marks> {
    let st = &pd.seq_time;
    let rt = &pd.retransmissions;
    match which {
        Which::Sequence => vec![
            &st.first,
            &st.retransmitted,
            &st.lost,
            &st.dropped,
            &st.acks,
            &st.other,
        ],
        Which::Retransmissions => vec![&rt.first, &rt.copies, &rt.lost],
        Which::Window => vec![&st.first, &st.retransmitted, &st.acks],
        Which::Inactivity => vec![&pd.inactivity.keep_alive, &st.first, &st.acks],
    }
}

fn selected_point(pd: &PlotData, which: Which, wire: u32) -> Option<[f64; 2]> {
    if matches!(which, Which::Window | Which::Inactivity) {
        return None;
    }
    marks_of(pd, which)
        .into_iter()
        .find_map(|m| m.wires.iter().position(|&w| w == wire).map(|i| m.pts[i]))
}

/// The wire nearest the pointer (within 12 px): by distance on the marker plots, by time on
/// the window and inactivity plots.
fn pick(pd: &PlotData, which: Which, pos: egui::Pos2, t: &egui_plot::PlotTransform) -> Option<u32> {
    const RADIUS: f32 = 12.0;
    let at = t.value_from_position(pos);
    let dx = t.dvalue_dpos()[0].abs() * RADIUS as f64;
    let time_only = matches!(which, Which::Window | Which::Inactivity);
    let dist = |p: [f64; 2]| {
        let q = t.position_from_point(&PlotPoint::new(p[0], p[1]));
        if time_only {
            (q.x - pos.x).abs()
        } else {
            q.distance(pos)
        }
    };
    marks_of(pd, which)
        .into_iter()
        .filter_map(|m| m.nearest(at.x, at.x - dx, at.x + dx, 4096, &dist))
        .filter(|(_, d)| *d <= RADIUS)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(w, _)| w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Simulation, presets};
    use egui_plot::{PlotBounds, PlotTransform};

    #[test]
    fn a_click_on_a_marker_picks_its_wire() {
        let c = (presets::find("single-loss").unwrap().build)();
        let mut sim = Simulation::new(c.clone()).unwrap();
        sim.run();
        let d = Dataset::from_run(c, sim.take_timeline());
        let pd = data::build(&d, data::default_sequence(&d), false);
        let frame = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(800.0, 300.0));
        let t = PlotTransform::new(
            frame,
            PlotBounds::from_min_max([pd.t0, 0.0], [pd.t1, pd.max_number + 1.0]),
            false,
        );
        let [x, y] = pd.seq_time.retransmitted.pts[0];
        let at = t.position_from_point(&PlotPoint::new(x, y));
        let w = pick(&pd, Which::Sequence, at + egui::vec2(3.0, -2.0), &t).expect("a wire near the pointer");
        let wire = d.wire(w).unwrap();
        assert_eq!((wire.number, wire.attempt()), (5, 1));
        // Far from everything: nothing.
        assert_eq!(pick(&pd, Which::Sequence, egui::pos2(790.0, 290.0), &t), None);
        // The window plot picks by time only.
        assert!(pick(&pd, Which::Window, egui::pos2(at.x, 5.0), &t).is_some());
    }
}
