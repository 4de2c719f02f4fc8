//! Axis ticks that stay readable at every zoom.
//!
//! egui_plot's default spacer steps in powers of ten, so between two decades a plot can show a
//! single labelled tick (zoomed out on a 1.8 s session: only "1"). Here the labelled step is the
//! smallest 1-2-5 step whose labels fit, so an axis always carries several labels, with unlabelled
//! minor lines between them. Every label has the step's decimals ("0.0 0.5 1.0"), so the marks
//! carry only two tiers: a decade tier would be printed with fewer decimals than its neighbours.

use egui_plot::{GridInput, GridMark, Plot};

/// Minimum grid spacing in points handed to egui_plot: `GridInput::base_step_size` is this many
/// points expressed in plot units, which is how the spacer learns the scale.
pub const MIN_GRID_POINTS: f32 = 8.0;

/// Points wanted between two labelled ticks: egui_plot's full-strength label spacing (80 on the
/// time axis, whose labels are wide; 30 on the value axis).
pub const X_LABEL_POINTS: f64 = 80.0;
pub const Y_LABEL_POINTS: f64 = 30.0;

/// Upper bound on the marks returned, whatever the input (a degenerate scale must not allocate).
const MAX_MARKS: usize = 2_000;

/// `plot` with readable ticks on both axes.
pub fn readable(plot: Plot<'_>) -> Plot<'_> {
    plot.grid_spacing(MIN_GRID_POINTS..=300.0)
        .x_grid_spacer(spacer(X_LABEL_POINTS))
        .y_grid_spacer(spacer(Y_LABEL_POINTS))
        .x_axis_formatter(format)
        .y_axis_formatter(format)
}

/// A grid spacer for one axis: labels `label_points` apart or a little more.
pub fn spacer(label_points: f64) -> impl Fn(GridInput) -> Vec<GridMark> {
    move |input: GridInput| {
        marks(
            input.bounds,
            input.base_step_size / MIN_GRID_POINTS as f64,
            label_points,
        )
    }
}

/// The two tiers (minor, labelled) for `units_per_point` and the wanted label spacing.
pub fn steps(units_per_point: f64, label_points: f64) -> Option<[f64; 2]> {
    let want = units_per_point * label_points;
    if !want.is_finite() || want <= 0.0 {
        return None;
    }
    let decade = 10f64.powf(want.log10().floor());
    let (mantissa, minor_div) = [(1.0, 5.0), (2.0, 4.0), (5.0, 5.0), (10.0, 5.0)]
        .into_iter()
        .find(|(m, _)| m * decade >= want * (1.0 - 1e-9))
        .unwrap_or((10.0, 5.0));
    let label = mantissa * decade;
    Some([label / minor_div, label])
}

fn marks(bounds: (f64, f64), units_per_point: f64, label_points: f64) -> Vec<GridMark> {
    let (lo, hi) = (bounds.0.min(bounds.1), bounds.0.max(bounds.1));
    let Some(tiers) = steps(units_per_point, label_points) else {
        return Vec::new();
    };
    if !(lo.is_finite() && hi.is_finite()) || (hi - lo) / tiers[0] > MAX_MARKS as f64 {
        return Vec::new();
    }
    // Walk the minor step; every `per_label`-th mark is a labelled one.
    let first = (lo / tiers[0]).ceil() as i64;
    let last = (hi / tiers[0]).floor() as i64;
    let per_label = (tiers[1] / tiers[0]).round() as i64;
    (first..=last)
        .map(|i| {
            let step_size = if i % per_label == 0 { tiers[1] } else { tiers[0] };
            GridMark {
                value: i as f64 * tiers[0],
                step_size,
            }
        })
        .collect()
}

/// Tick text with as many decimals as the labelled step needs (0.5 → "0.5", not "0" or "1").
pub fn format(mark: GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let decimals = (-mark.step_size.log10() - 1e-9).ceil().max(0.0) as usize;
    let value = if mark.value.abs() < mark.step_size * 1e-6 {
        0.0
    } else {
        mark.value
    };
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels egui_plot would paint: marks whose own step is at least the label spacing apart.
    fn labelled(bounds: (f64, f64), points: f64, label_points: f64) -> Vec<String> {
        let upp = (bounds.1 - bounds.0) / points;
        marks(bounds, upp, label_points)
            .into_iter()
            .filter(|m| m.step_size / upp >= label_points * 0.75)
            .map(|m| format(m, &(bounds.0..=bounds.1)))
            .collect()
    }

    #[test]
    fn every_zoom_keeps_several_labels() {
        // From a 2 ms window to an hour, on the narrowest plot the layout allows and a wide one.
        // Labelled steps are 80–200 points apart, so 600 points always hold three.
        for points in [600.0, 1900.0] {
            let mut width = 0.002;
            while width < 4000.0 {
                for start in [0.0, -0.37 * width, 1.23] {
                    let l = labelled((start, start + width), points, X_LABEL_POINTS);
                    let most = (points / X_LABEL_POINTS) as usize + 1;
                    assert!(
                        l.len() >= 3 && l.len() <= most,
                        "{width} s over {points} pt: {l:?}"
                    );
                    let mut unique = l.clone();
                    unique.dedup();
                    assert_eq!(unique, l, "two ticks print alike: {l:?}");
                }
                width *= 1.5;
            }
        }
    }

    #[test]
    fn zoomed_out_short_session_is_labelled_in_halves() {
        // The report: a 1.8 s session zoomed out once showed only "1".
        let l = labelled((-0.45, 2.25), 600.0, X_LABEL_POINTS);
        assert_eq!(l, ["0.0", "0.5", "1.0", "1.5", "2.0"]);
    }

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(steps(0.01, 80.0), Some([0.2, 1.0]));
        assert_eq!(steps(0.02, 80.0), Some([0.5, 2.0]));
        assert_eq!(steps(0.05, 80.0), Some([1.0, 5.0]));
        assert_eq!(steps(0.1, 30.0), Some([1.0, 5.0]));
        assert_eq!(steps(0.0, 80.0), None);
        assert_eq!(steps(f64::NAN, 80.0), None);
    }

    #[test]
    fn degenerate_input_gives_no_marks() {
        assert!(marks((0.0, 1e12), 1e-9, 80.0).is_empty());
        assert!(marks((f64::NEG_INFINITY, 1.0), 0.01, 80.0).is_empty());
    }
}
