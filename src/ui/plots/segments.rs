//! A plot item egui_plot lacks: many independent line segments (ack-range bars, retransmission
//! spans, timer intervals) drawn in one item. Callers hand it segments already reduced per pixel.

use eframe::egui::{Color32, Shape, Stroke, Ui};
use egui_plot::{PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotPoint, PlotTransform};
use std::ops::RangeInclusive;

pub struct Segments {
    base: PlotItemBase,
    segs: Vec<[f64; 4]>,
    stroke: Stroke,
    bounds: PlotBounds,
}

impl Segments {
    /// `extent` is the whole data's `[x0, y0, x1, y1]` (for auto-bounds), whatever part is drawn.
    pub fn new(name: &str, segs: Vec<[f64; 4]>, extent: Option<[f64; 4]>, stroke: Stroke) -> Self {
        let bounds = match extent {
            Some([x0, y0, x1, y1]) => PlotBounds::from_min_max([x0, y0], [x1, y1]),
            None => PlotBounds::NOTHING,
        };
        Segments {
            base: PlotItemBase::new(name.to_string()),
            segs,
            stroke,
            bounds,
        }
    }
}

/// The bounding box of segments, for [`Segments::new`].
pub fn extent(segs: &[[f64; 4]]) -> Option<[f64; 4]> {
    segs.iter().fold(None, |acc, s| {
        let b = [s[0].min(s[2]), s[1].min(s[3]), s[0].max(s[2]), s[1].max(s[3])];
        Some(match acc {
            None => b,
            Some(a) => [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])],
        })
    })
}

impl PlotItem for Segments {
    fn shapes(&self, _ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let stroke = if PlotItem::highlighted(self) {
            Stroke::new(self.stroke.width * 2.0, self.stroke.color)
        } else {
            self.stroke
        };
        for s in &self.segs {
            let a = transform.position_from_point(&PlotPoint::new(s[0], s[1]));
            let mut b = transform.position_from_point(&PlotPoint::new(s[2], s[3]));
            // A bar shorter than a pixel still shows.
            if (a - b).length() < 1.0 {
                b.y -= 1.0;
            }
            shapes.push(Shape::line_segment([a, b], stroke));
        }
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> Color32 {
        self.stroke.color
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        PlotGeometry::None
    }

    fn bounds(&self) -> PlotBounds {
        self.bounds
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }
}
