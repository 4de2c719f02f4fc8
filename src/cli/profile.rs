//! `rmscope profile FILE… [--sequence ID] [--json]`: per recorded sequence, the link it ran on,
//! what the application sent, and the RM source's settings as far as the traffic shows them.

use super::CliError;
use super::analyze::{load_files, load_logs};
use crate::analysis::profile::{self, Certainty, Profile};
use crate::svclog;
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
    let profiles: Vec<Profile> = analysis
        .sequences
        .iter()
        .filter(|s| args.sequence.as_deref().is_none_or(|id| s.id.contains(id)))
        .map(|s| profile::profile(&timeline, s))
        .collect();
    if profiles.is_empty() {
        return Err(CliError(match &args.sequence {
            Some(id) => format!("no sequence matches {id}"),
            None => "no WS-RM sequence in the input".into(),
        }));
    }
    if args.json {
        return serde_json::to_string_pretty(&profiles).map_err(|e| CliError(e.to_string()));
    }
    Ok(profiles.iter().map(render).collect::<Vec<_>>().join("\n"))
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
    let w = &p.workload;
    let _ = writeln!(
        o,
        "  workload         {} messages, mean {:.0} B (max {} B), sent at {:.1} msg/s, longest idle {:.3} s",
        w.messages, w.mean_size, w.max_size, w.send_rate, w.longest_idle
    );
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
