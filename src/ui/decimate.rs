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
        let col = ((visible[i][0] - x0) / width).floor();
        let mut j = i;
        let (mut lo, mut hi) = (i, i);
        while j < visible.len() && ((visible[j][0] - x0) / width).floor() == col {
            if visible[j][1] < visible[lo][1] {
                lo = j;
            }
            if visible[j][1] > visible[hi][1] {
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

/// Scatter points (x sorted) reduced to at most one point per (column, row) cell: markers
/// that would land on the same pixel are drawn once.
pub fn thin_markers(
    points: &[[f64; 2]],
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    columns: usize,
    rows: usize,
) -> Vec<[f64; 2]> {
    if points.is_empty() || x1 <= x0 || y1 <= y0 {
        return Vec::new();
    }
    let start = points.partition_point(|p| p[0] < x0);
    let end = points.partition_point(|p| p[0] <= x1);
    let visible = &points[start..end];
    if visible.len() <= columns.max(1) * 2 {
        return visible.to_vec();
    }
    let (cw, rh) = ((x1 - x0) / columns.max(1) as f64, (y1 - y0) / rows.max(1) as f64);
    let mut seen = rustc_hash::FxHashSet::default();
    visible
        .iter()
        .filter(|p| p[1] >= y0 && p[1] <= y1)
        .filter(|p| seen.insert((((p[0] - x0) / cw) as i64, ((p[1] - y0) / rh) as i64)))
        .copied()
        .collect()
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
        let out = thin_markers(&pts, 0.0, 1000.0, 0.0, 50.0, 500, 300);
        assert!(out.len() <= 500 * 300 && out.len() < pts.len());
        assert!(!out.is_empty());
    }
}
