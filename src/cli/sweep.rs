//! `rmscope sweep --param NAME=VALUES [--param …] [--loss 0,0.01] [--seeds N]
//! [--from-profile FILE] [--json|--csv]`: the embedded pair over a grid of settings, every
//! point a virtual-time run, on every core.

use super::CliError;
use super::simulate::parse_duration;
use crate::engine::Shape;
use crate::engine::binding::Binding;
use crate::sim::SimConfig;
use crate::whatif::sweep::{self, Axis, Spec};
use crate::whatif::{Cancelled, fit};
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A parameter and its values, once or twice: NAME=v1,v2,… or NAME=FROM..TO/N. Names:
    /// max-transfer-window-size, ack-interval, max-retry-count, inactivity-timeout,
    /// flow-control, delay.
    #[arg(long = "param", required = true, value_parser = sweep::parse_axis)]
    pub params: Vec<Axis>,
    /// Random loss rates (each direction), comma-separated: a line per rate. Default: none —
    /// or, with --from-profile, the recording's own losses replayed.
    #[arg(long)]
    pub loss: Option<String>,
    /// Seeds per grid point (the point is their mean).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub seeds: u32,
    /// Start from the model of a recording (capture or .svclog): its fitted settings, link and
    /// workload (the busiest sequence, or --sequence).
    #[arg(long, value_name = "FILE")]
    pub from_profile: Option<PathBuf>,
    /// With --from-profile: the sequence whose identifier contains this.
    #[arg(long, requires = "from_profile")]
    pub sequence: Option<String>,
    /// Without --from-profile: application messages per run.
    #[arg(long, default_value_t = 1000)]
    pub messages: u64,
    /// Without --from-profile: one-way delay of the link.
    #[arg(long, default_value = "50ms", value_parser = parse_duration)]
    pub delay: Duration,
    /// Without --from-profile: the session shape or a standard binding's name (as simulate).
    #[arg(long)]
    pub shape: Option<String>,
    /// Without --from-profile: application body size in bytes.
    #[arg(long, default_value_t = 256)]
    pub body_size: usize,
    /// First seed (the others follow it).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON: the grid's cells (means) and every run.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV: a row per run.
    #[arg(long)]
    pub csv: bool,
}

fn base(args: &Args) -> Result<SimConfig, CliError> {
    if let Some(path) = &args.from_profile {
        let files = std::slice::from_ref(path);
        let inactivity = Duration::from_secs(600);
        let (timeline, analysis) = if crate::svclog::looks_like_log(path) {
            let (d, a) = super::analyze::load_logs(files, inactivity)?;
            (d.timeline, a)
        } else {
            let (d, a) = super::analyze::load_files(files, inactivity)?;
            (d.timeline, a)
        };
        let s = analysis
            .sequences
            .iter()
            .filter(|s| s.offered_by.is_none())
            .filter(|s| args.sequence.as_deref().is_none_or(|id| s.id.contains(id)))
            .max_by_key(|s| s.messages)
            .ok_or_else(|| CliError(format!("{}: no WS-RM sequence to model", path.display())))?;
        let p = crate::analysis::profile::profile(&timeline, s);
        let mut cfg = fit::fit(&timeline, s, &p).config;
        cfg.seed = args.seed;
        if args.loss.is_some() {
            // Random loss at the given rates instead of the recording's.
            cfg.forward_script.clear();
        }
        return Ok(cfg);
    }
    let mut cfg = SimConfig {
        seed: args.seed,
        ..SimConfig::default()
    };
    cfg.workload.messages = args.messages;
    cfg.workload.body_size = args.body_size;
    cfg.forward.delay = args.delay;
    cfg.backward.delay = args.delay;
    if let Some(name) = &args.shape {
        cfg.shape = match Binding::parse(name) {
            Some(b) => {
                cfg.settings.reliable_messaging_version = b.version();
                b.shape()
            }
            None => Shape::parse(name).map_err(CliError)?,
        };
        cfg.workload.two_way = cfg.shape.offers();
    }
    Ok(cfg)
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let spec = Spec {
        base: base(args)?,
        axes: args.params.clone(),
        losses: sweep::parse_losses(args.loss.as_deref().unwrap_or("0")).map_err(CliError)?,
        seeds: args.seeds,
    };
    spec.validate().map_err(CliError)?;
    let runs = sweep::run(&spec, &AtomicUsize::new(0), &AtomicBool::new(false))
        .map_err(|Cancelled| CliError("cancelled".into()))?;
    let cells = sweep::cells(&runs);
    if args.csv {
        return Ok(sweep::to_csv(&spec, &runs));
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            params: Vec<&'static str>,
            losses: &'a [f64],
            seeds: u32,
            cells: &'a [sweep::Cell],
            runs: &'a [sweep::Run],
        }
        let out = Out {
            params: spec.axes.iter().map(|a| a.param.name()).collect(),
            losses: &spec.losses,
            seeds: spec.seeds,
            cells: &cells,
            runs: &runs,
        };
        return serde_json::to_string_pretty(&out).map_err(|e| CliError(e.to_string()));
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} runs ({} points × {} loss rates × {} seeds), {} messages each",
        runs.len(),
        spec.points().len(),
        spec.losses.len(),
        spec.seeds,
        spec.base.workload.messages
    );
    let mut head = String::new();
    for a in &spec.axes {
        let _ = write!(head, "{:>26} ", a.param.name());
    }
    let _ = writeln!(
        o,
        "{head}{:>6} {:>12} {:>14} {:>10} {:>12} {:>7}",
        "loss", "goodput/s", "ack latency ms", "resent", "completion s", "failed"
    );
    for c in &cells {
        let mut row = String::new();
        for (a, &v) in spec.axes.iter().zip(&c.values) {
            let _ = write!(row, "{:>26} ", a.param.show(v));
        }
        let _ = writeln!(
            o,
            "{row}{:>6} {:>12.1} {:>14} {:>10.1} {:>12.3} {:>7}",
            c.loss,
            c.goodput,
            c.ack_latency_median
                .map_or("-".into(), |l| format!("{:.1}", l * 1e3)),
            c.retransmissions,
            c.completion_time,
            c.failed
        );
    }
    Ok(o)
}
