//! Per-pixel aggregation before plotting (as rerun does): a million points become at most a
//! few per screen column, keeping every spike (the min and max of each column).

/// Points sorted by x, reduced to the visible `x0..=x1` with at most ~4 points per column:
/// the first, min, max and last of each column, in x order. One point on each side of the
/// range is kept so lines run to the plot edges.
pub fn decimate(points: &[[f64; 2]], x0: f64, x1: f64, columns: usize) -> Vec<[f64; 2]> {
    if points.is_empty() || x1 <= x0 {
        return Vec::new();
    }
    let start = points.partition_point(|p| p[0] < x0).saturating_sub(1);
    let end = (points.partition_point(|p| p[0] <= x1) + 1).min(points.len());
    let visible = &points[start..end];
    let columns = columns.max(1);
    if visible.len() <= columns * 4 {
        return visible.to_vec();
    }
    let width = (x1 - x0) / columns as f64;
    let mut out = Vec::with_capacity(columns * 4 + 2);
    let mut i = 0;
    while i < visible.len() {
        // The column's right edge: points before it share the column (no division per point).
        let col = ((visible[i][0] - x0) / width).floor();
        let edge = x0 + (col + 1.0) * width;
        let mut j = i + 1;
        let (mut lo, mut hi) = (i, i);
        while j < visible.len() && visible[j][0] < edge {
            let y = visible[j][1];
            if y < visible[lo][1] {
                lo = j;
            }
            if y > visible[hi][1] {
                hi = j;
            }
            j += 1;
        }
        let mut keep = [i, lo, hi, j - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(visible[k]);
                last = k;
            }
        }
        i = j;
    }
    out
}

/// The visible part of a plot and its size in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    pub columns: usize,
    pub rows: usize,
}

/// A viewport's pixel grid, with the scale factors computed once.
struct Grid {
    x0: f64,
    y0: f64,
    sx: f64,
    sy: f64,
    cols: usize,
    rows: usize,
}

impl Grid {
    fn new(vp: &Viewport) -> Grid {
        Grid {
            x0: vp.x0,
            y0: vp.y0,
            sx: vp.columns as f64 / (vp.x1 - vp.x0),
            sy: vp.rows as f64 / (vp.y1 - vp.y0),
            cols: vp.columns,
            rows: vp.rows,
        }
    }
    #[inline]
    fn col(&self, x: f64) -> usize {
        (((x - self.x0) * self.sx) as usize).min(self.cols - 1)
    }
    #[inline]
    fn row(&self, y: f64) -> usize {
        (((y - self.y0) * self.sy) as usize).min(self.rows - 1)
    }
}

impl Viewport {
    fn valid(&self) -> bool {
        self.x1 > self.x0 && self.y1 > self.y0 && self.x0.is_finite() && self.x1.is_finite()
    }
    fn col_x(&self, c: usize) -> f64 {
        self.x0 + (c as f64 + 0.5) * (self.x1 - self.x0) / self.columns as f64
    }
    fn row_y(&self, r: usize) -> f64 {
        self.y0 + (r as f64 + 0.5) * (self.y1 - self.y0) / self.rows as f64
    }
    fn clamp(mut self) -> Self {
        self.columns = self.columns.clamp(1, 8192);
        self.rows = self.rows.clamp(1, 8192);
        self
    }
}

/// Scatter points (x sorted) reduced to at most one point per pixel cell: markers that would
/// land on the same pixel are drawn once.
pub fn thin_markers(points: &[[f64; 2]], vp: Viewport) -> Vec<[f64; 2]> {
    if points.is_empty() || !vp.valid() {
        return Vec::new();
    }
    let vp = vp.clamp();
    let start = points.partition_point(|p| p[0] < vp.x0);
    let end = points.partition_point(|p| p[0] <= vp.x1);
    let visible = &points[start..end];
    if visible.len() <= vp.columns * 2 {
        return visible.to_vec();
    }
    let g = Grid::new(&vp);
    let mut seen = vec![0u64; (vp.columns * vp.rows).div_ceil(64)];
    let mut out = Vec::new();
    for p in visible {
        if p[1] < vp.y0 || p[1] > vp.y1 {
            continue;
        }
        let cell = g.col(p[0]) * vp.rows + g.row(p[1]);
        let (word, bit) = (cell / 64, 1u64 << (cell % 64));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            out.push(*p);
        }
    }
    out
}

/// Segments `[x0, y0, x1, y1]` reduced for drawing: vertical bars that share a pixel column
/// merge into that column's covered runs, horizontal spans on one pixel row into that row's
/// runs (an O(n + pixels) sweep, whatever the count); other segments pass through. Nothing
/// outside the viewport is kept.
pub fn segments(segs: &[[f64; 4]], vp: Viewport) -> Vec<[f64; 4]> {
    if segs.is_empty() || !vp.valid() {
        return Vec::new();
    }
    let vp = vp.clamp();
    let few = segs.len() <= vp.columns;
    let g = Grid::new(&vp);
    let mut out = Vec::new();
    let (cols, rows) = (vp.columns, vp.rows);
    // Coverage differences: per column over rows (vertical), per row over columns (horizontal).
    let mut vdiff: Vec<i32> = Vec::new();
    let mut hdiff: Vec<i32> = Vec::new();
    for s in segs {
        let [x0, y0, x1, y1] = *s;
        let (xa, xb) = (x0.min(x1), x0.max(x1));
        let (ya, yb) = (y0.min(y1), y0.max(y1));
        if xb < vp.x0 || xa > vp.x1 || yb < vp.y0 || ya > vp.y1 {
            continue;
        }
        if few {
            out.push(*s);
        } else if x0 == x1 {
            if vdiff.is_empty() {
                vdiff = vec![0; cols * (rows + 1)];
            }
            let c = g.col(x0);
            vdiff[c * (rows + 1) + g.row(ya.max(vp.y0))] += 1;
            vdiff[c * (rows + 1) + g.row(yb.min(vp.y1)) + 1] -= 1;
        } else if y0 == y1 {
            if hdiff.is_empty() {
                hdiff = vec![0; rows * (cols + 1)];
            }
            let r = g.row(y0);
            hdiff[r * (cols + 1) + g.col(xa.max(vp.x0))] += 1;
            hdiff[r * (cols + 1) + g.col(xb.min(vp.x1)) + 1] -= 1;
        } else {
            out.push(*s);
        }
    }
    let runs = |diff: &[i32], lines: usize, len: usize, out: &mut Vec<(usize, usize, usize)>| {
        for l in 0..lines {
            let d = &diff[l * (len + 1)..(l + 1) * (len + 1)];
            let (mut level, mut start) = (0, 0);
            for (i, &v) in d.iter().enumerate() {
                let before = level;
                level += v;
                if before == 0 && level > 0 {
                    start = i;
                } else if before > 0 && level == 0 {
                    out.push((l, start, i - 1));
                }
            }
        }
    };
    let mut tmp = Vec::new();
    if !vdiff.is_empty() {
        runs(&vdiff, cols, rows, &mut tmp);
        let h = (vp.y1 - vp.y0) / rows as f64 / 2.0;
        out.extend(tmp.drain(..).map(|(c, a, b)| {
            let x = vp.col_x(c);
            [x, vp.row_y(a) - h, x, vp.row_y(b) + h]
        }));
    }
    if !hdiff.is_empty() {
        runs(&hdiff, rows, cols, &mut tmp);
        let w = (vp.x1 - vp.x0) / cols as f64 / 2.0;
        out.extend(tmp.drain(..).map(|(r, a, b)| {
            let y = vp.row_y(r);
            [vp.col_x(a) - w, y, vp.col_x(b) + w, y]
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spikes_and_bounds_the_count() {
        let mut pts: Vec<[f64; 2]> = (0..1_000_000).map(|i| [i as f64, (i % 7) as f64]).collect();
        pts[500_000][1] = 1000.0;
        let out = decimate(&pts, 0.0, 999_999.0, 800);
        assert!(out.len() <= 800 * 4 + 8, "{}", out.len());
        assert!(out.iter().any(|p| p[1] == 1000.0), "the spike survives");
        assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]), "x order kept");
        // Zoomed in: raw points.
        let few = decimate(&pts, 10.0, 20.0, 800);
        assert_eq!(few.len(), 13);
    }

    #[test]
    fn markers_one_per_cell() {
        let pts: Vec<[f64; 2]> = (0..100_000)
            .map(|i| [i as f64 / 100.0, (i % 50) as f64])
            .collect();
        let vp = Viewport {
            x0: 0.0,
            x1: 1000.0,
            y0: 0.0,
            y1: 50.0,
            columns: 500,
            rows: 300,
        };
        let out = thin_markers(&pts, vp);
        assert!(out.len() <= 500 * 300 && out.len() < pts.len());
        assert!(!out.is_empty());
    }

    #[test]
    fn bars_merge_per_column_and_keep_holes() {
        // A million ack bars: 1..=k with a hole at k/2 for every tenth one.
        let mut segs = Vec::new();
        for i in 0..1_000_000u32 {
            let x = i as f64 / 1000.0;
            let top = (i / 100 + 1) as f64;
            if i % 10 == 0 {
                segs.push([x, 1.0, x, top / 2.0 - 1.0]);
                segs.push([x, top / 2.0 + 1.0, x, top]);
            } else {
                segs.push([x, 1.0, x, top]);
            }
        }
        let vp = Viewport {
            x0: 0.0,
            x1: 1000.0,
            y0: 0.0,
            y1: 10_001.0,
            columns: 800,
            rows: 400,
        };
        let out = segments(&segs, vp);
        assert!(out.len() <= 800 * 2, "{}", out.len());
        // Every column is covered from near the bottom to near its top.
        assert!(out.iter().all(|s| s[0] == s[2] && s[1] <= 30.0));
        // Zoomed into one instant the hole is visible again (two bars at x = 1: 1–4.5, 6.5–11).
        let near = Viewport {
            x0: 0.9995,
            x1: 1.0005,
            y0: 0.0,
            y1: 12.0,
            columns: 100,
            rows: 100,
        };
        let few = segments(&segs, near);
        assert_eq!(few.len(), 2, "{few:?}");
        // Horizontal spans on one row merge too.
        let spans: Vec<[f64; 4]> = (0..10_000)
            .map(|i| [i as f64, 0.0, i as f64 + 0.5, 0.0])
            .collect();
        let vp = Viewport {
            x0: 0.0,
            x1: 10_000.0,
            y0: -1.0,
            y1: 1.0,
            columns: 100,
            rows: 10,
        };
        let merged = segments(&spans, vp);
        assert_eq!(merged.len(), 1, "{merged:?}");
    }
}
