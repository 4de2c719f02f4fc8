//! The model of a recording, run: the fitted configuration over several seeds (one seeded
//! run's losses are luck; the mean is the model), each run's timeline seen from the RM
//! source's host — where a capture of the recording would have been taken — and analysed as
//! the recording is.

use super::{Cancelled, Outcome, par_map};
use crate::analysis::{self, Analysis, SequenceSummary};
use crate::sim::{Report, SimConfig, Simulation};
use crate::trace::Timeline;
use std::sync::atomic::{AtomicBool, AtomicUsize};

/// The seeds a re-run averages unless told otherwise.
pub const DEFAULT_SEEDS: u32 = 8;

pub struct ModelRun {
    /// The mean over the seeds.
    pub outcome: Outcome,
    pub runs: Vec<Outcome>,
    /// The first seed's run: its timeline as the client's host saw it, and its report.
    pub timeline: Timeline,
    pub report: Report,
    pub config: SimConfig,
}

/// The client's sequence of a model run: the busiest one no other sequence offered.
pub fn client_sequence(a: &Analysis) -> Option<&SequenceSummary> {
    a.sequences
        .iter()
        .filter(|s| s.offered_by.is_none())
        .max_by_key(|s| s.messages)
}

fn one(cfg: SimConfig) -> Result<(Outcome, Timeline, Report), String> {
    let mut sim = Simulation::new(cfg)?;
    let report = sim.run();
    // The RM source is the timeline's first endpoint (the simulator names it first).
    let t = sim.timeline().seen_at(0);
    let a = analysis::analyze(&t, &analysis::Options::default());
    let outcome = client_sequence(&a).map(Outcome::of).unwrap_or_default();
    Ok((outcome, t, report))
}

/// Runs `cfg` with seeds `cfg.seed`, `cfg.seed + 1`, … (`seeds` of them) on every core.
pub fn run_model(
    cfg: &SimConfig,
    seeds: u32,
    done: &AtomicUsize,
    cancel: &AtomicBool,
) -> Result<ModelRun, String> {
    cfg.validate()?;
    // Without randomness on the link every seed gives the same run.
    let random = [&cfg.forward, &cfg.backward].iter().any(|l| {
        l.loss > 0.0 || l.burst.is_some() || l.duplicate > 0.0 || l.reorder > 0.0 || !l.jitter.is_zero()
    });
    let seeds = if random { seeds } else { 1 };
    let configs: Vec<SimConfig> = (0..u64::from(seeds.max(1)))
        .map(|k| SimConfig {
            seed: cfg.seed.wrapping_add(k),
            record: true,
            ..cfg.clone()
        })
        .collect();
    let results =
        par_map(&configs, |c| one(c.clone()), done, cancel).map_err(|Cancelled| "cancelled".to_string())?;
    let mut runs = Vec::new();
    let mut first = None;
    for r in results {
        let (o, t, rep) = r?;
        runs.push(o);
        first.get_or_insert((t, rep));
    }
    let (timeline, report) = first.expect("at least one seed");
    Ok(ModelRun {
        outcome: Outcome::mean(&runs),
        runs,
        timeline,
        report,
        config: cfg.clone(),
    })
}

/// [`run_model`] without progress or cancel.
pub fn run_model_now(cfg: &SimConfig, seeds: u32) -> Result<ModelRun, String> {
    run_model(cfg, seeds, &AtomicUsize::new(0), &AtomicBool::new(false))
}

/// The recorded-vs-model table as text: a row per measure, and the model's difference.
pub fn table(recorded: &Outcome, model: &Outcome, seeds: usize) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  {:<26} {:>12} {:>12} {:>9}",
        "",
        "recorded",
        format!("model ({seeds})"),
        "model/rec"
    );
    for ((name, r, digits), (_, m, _)) in recorded.rows().into_iter().zip(model.rows()) {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
        let ratio = match (r, m) {
            (Some(r), Some(m)) if r != 0.0 => format!("{:.2}", m / r),
            _ => "-".into(),
        };
        let _ = writeln!(o, "  {name:<26} {:>12} {:>12} {ratio:>9}", show(r), show(m));
    }
    o
}
