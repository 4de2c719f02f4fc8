//! `rmscope profile FILE… [--sequence ID] [--json]`: per recorded sequence, the link it ran on,
//! what the application sent, and the RM source's settings as far as the traffic shows them.
//! `--simulate` re-runs each in the embedded pair fitted to it (settings, link, workload) and
//! prints recorded vs model, and advice with the model's numbers; `--set` changes the model
//! (what-if).

use super::CliError;
use super::analyze::{load_files, load_logs};
use crate::analysis::profile::{self, Certainty, Profile};
use crate::svclog;
use crate::whatif::{Outcome, advice, fit, rerun, sweep};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (read as one) or WCF message logs (.svclog) of one or both ends.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Only the sequence whose identifier contains this.
    #[arg(long)]
    pub sequence: Option<String>,
    /// Print JSON (an array of profiles).
    #[arg(long)]
    pub json: bool,
    /// Re-run each sequence in the embedded pair fitted to it and compare recorded with model.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: the seeds the model averages.
    #[arg(long, default_value_t = crate::whatif::rerun::DEFAULT_SEEDS, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub seeds: u32,
    /// With --simulate: change the model, repeatable (what-if): a sweep parameter and one value,
    /// e.g. max-transfer-window-size=32, ack-interval=20ms, delay=5ms.
    #[arg(long = "set", value_parser = whatif_change, requires = "simulate")]
    pub set: Vec<(sweep::Param, f64)>,
}

fn whatif_change(s: &str) -> Result<(sweep::Param, f64), String> {
    let a = sweep::parse_axis(s)?;
    match a.values.as_slice() {
        [v] => Ok((a.param, *v)),
        _ => Err(format!("--set {s}: one value")),
    }
}

/// A profile with, under --simulate, its model.
#[derive(serde::Serialize)]
struct Profiled {
    #[serde(flatten)]
    profile: Profile,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
}

#[derive(serde::Serialize)]
struct Model {
    basis: Vec<fit::Basis>,
    changed: Vec<String>,
    seeds: u32,
    recorded: Outcome,
    model: Outcome,
    advice: Vec<advice::Advice>,
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let logs = args.files.iter().filter(|p| svclog::looks_like_log(p)).count();
    // The silence threshold does not matter here: the profile reads the longest silence.
    let inactivity = Duration::from_secs(600);
    let (timeline, analysis) = if logs == args.files.len() {
        let (d, a) = load_logs(&args.files, inactivity)?;
        (d.timeline, a)
    } else if logs == 0 {
        let (d, a) = load_files(&args.files, inactivity)?;
        (d.timeline, a)
    } else {
        return Err(CliError("give capture files or .svclog files, not both".into()));
    };
    let chosen: Vec<_> = analysis
        .sequences
        .iter()
        .filter(|s| args.sequence.as_deref().is_none_or(|id| s.id.contains(id)))
        .collect();
    let mut profiles = Vec::new();
    for s in chosen {
        let p = profile::profile(&timeline, s);
        // A return sequence is the other end's half of its session: the model re-runs the
        // session from its client's sequence.
        let model = if args.simulate && s.offered_by.is_none() {
            let mut fitted = fit::fit(&timeline, s, &p);
            let mut changed = Vec::new();
            for &(param, v) in &args.set {
                param.apply(&mut fitted.config, v);
                changed.push(format!("{} = {}", param.name(), param.show(v)));
            }
            let m = rerun::run_model_now(&fitted.config, args.seeds)
                .map_err(|e| CliError(format!("the model of {} does not run: {e}", s.id)))?;
            let advice = advice::advise(s, &p, &fitted, &m.outcome, args.seeds);
            Some(Model {
                basis: fitted.basis,
                changed,
                seeds: m.runs.len() as u32,
                recorded: Outcome::of(s),
                model: m.outcome,
                advice,
            })
        } else {
            None
        };
        profiles.push(Profiled { profile: p, model });
    }
    if profiles.is_empty() {
        return Err(CliError(match &args.sequence {
            Some(id) => format!("no sequence matches {id}"),
            None => "no WS-RM sequence in the input".into(),
        }));
    }
    if args.json {
        return serde_json::to_string_pretty(&profiles).map_err(|e| CliError(e.to_string()));
    }
    Ok(profiles
        .iter()
        .map(|p| {
            let mut o = render(&p.profile);
            if let Some(m) = &p.model {
                o.push_str(&render_model(m));
            }
            o
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

fn render_model(m: &Model) -> String {
    let mut o = String::from("  model (the embedded pair fitted to the recording)\n");
    for b in &m.basis {
        let _ = writeln!(o, "    {:<25} {:<34} {}", b.what, b.value, b.from);
    }
    for c in &m.changed {
        let _ = writeln!(o, "    what-if                   {c}");
    }
    o.push_str(&rerun::table(&m.recorded, &m.model, m.seeds as usize));
    if m.advice.is_empty() {
        o.push_str("  advice           none: nothing the settings hold back\n");
    }
    for a in &m.advice {
        let _ = writeln!(o, "  advice           {}", a.text);
    }
    o
}

fn render(p: &Profile) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "sequence {}", p.sequence);
    let l = &p.link;
    match &l.rtt {
        Some(r) => {
            let _ = writeln!(
                o,
                "  round trip       min {:.3} ms, median {:.3} ms, 95% {:.3} ms ({} samples)",
                r.min * 1e3,
                r.median * 1e3,
                r.p95 * 1e3,
                r.count
            );
        }
        None => o.push_str("  round trip       not measured (no handshake, no AckRequested answered)\n"),
    }
    let _ = writeln!(
        o,
        "  copies           {} ({} retransmissions: {} of unacknowledged copies, {} spurious)",
        l.transmissions, l.retransmissions, l.unacknowledged_copies, l.spurious_retransmissions
    );
    let _ = writeln!(o, "  goodput          {:.1} msg/s", l.goodput);
    if let Some(b) = &l.both_ends {
        let ms = |x: &Option<crate::analysis::LatencyStats>| {
            x.as_ref().map_or("-".to_string(), |d| {
                format!("median {:.3} ms (95% {:.3})", d.median * 1e3, d.p95 * 1e3)
            })
        };
        let _ = writeln!(
            o,
            "  both ends        one-way {} forward, {} back; lost {} forward, {} back; {} reordered",
            ms(&b.forward),
            ms(&b.back),
            b.lost_forward,
            b.lost_back,
            b.reordered
        );
    }
    let w = &p.workload;
    let _ = writeln!(
        o,
        "  workload         {} messages, mean {:.0} B (max {} B), sent at {:.1} msg/s, longest idle {:.3} s",
        w.messages, w.mean_size, w.max_size, w.send_rate, w.longest_idle
    );
    if let Some(st) = w.service_time {
        let _ = writeln!(
            o,
            "  service time     {:.3} ms (median, request to reply less the round trip)",
            st * 1e3
        );
    }
    if !w.idle_periods.is_empty() {
        let list: Vec<String> = w
            .idle_periods
            .iter()
            .map(|[at, len]| format!("{len:.3} s at {at:.3} s"))
            .collect();
        let _ = writeln!(o, "  idle periods     {}", list.join(", "));
    }
    o.push_str("  settings\n");
    for s in &p.settings {
        let how = match s.certainty {
            Certainty::Exact => "exact",
            Certainty::Likely => "likely",
            Certainty::AtLeast => "at least",
            Certainty::Estimate => "estimate",
            Certainty::Unknown => "not shown",
        };
        let _ = writeln!(
            o,
            "    {:<25} {:<34} {:<9} {}",
            s.setting, s.value, how, s.evidence
        );
    }
    o
}
