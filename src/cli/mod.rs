//! The command line: `rmscope [FILE]` opens the app; subcommands work without a window.

pub mod analyze;
pub mod capture;
pub mod inspect;
pub mod profile;
pub mod simulate;
pub mod sweep;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "rmscope",
    version,
    about = "See inside WS-ReliableMessaging (WCF reliable session) traffic",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A pcap/pcapng capture, or WCF message logs (.svclog) read together, to open in the app
    /// (without one the app starts live).
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub app: AppArgs,
}

/// How the desktop app starts (for demos, teaching scripts and screenshots).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AppArgs {
    /// The view to show first: plots, sequence, retransmissions, window, inactivity, ladder,
    /// compare, sweep, or model (a recording's recorded vs model).
    #[arg(long, value_parser = ["plots", "sequence", "retransmissions", "window", "inactivity", "ladder", "compare", "sweep", "model"])]
    pub view: Option<String>,
    /// Start the live session with a teaching preset: single-loss, burst-loss, ack-batching,
    /// receiver-buffer-full, retry-exhaustion, inactivity-timeout, unordered-delivery,
    /// maxpendingchannels-refusal or ws-rm-1.1-close.
    #[arg(long, value_parser = parse_preset)]
    pub preset: Option<String>,
    /// Live speed factor, 0.1 to 100 (virtual seconds per real second).
    #[arg(long, value_parser = parse_speed)]
    pub speed: Option<f64>,
    /// Start capturing on this interface at once (Capture → Live), e.g. `lo`.
    #[arg(long, conflicts_with = "files")]
    pub capture: Option<String>,
    /// BPF filter for --capture.
    #[arg(long, default_value = "tcp", requires = "capture")]
    pub filter: String,
}

pub fn parse_preset(s: &str) -> Result<String, String> {
    crate::sim::presets::find(s)
        .map(|p| p.name.to_string())
        .ok_or_else(|| {
            let names: Vec<String> = crate::sim::presets::PRESETS
                .iter()
                .map(|p| crate::sim::presets::slug(p.name))
                .collect();
            format!("unknown preset '{s}' (one of {})", names.join(", "))
        })
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (crate::live::MIN_SPEED..=crate::live::MAX_SPEED).contains(&v) {
        Ok(v)
    } else {
        Err(format!("speed {v} is outside 0.1 to 100"))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode one SOAP envelope (or a pasted header fragment) and say what it means.
    Inspect(inspect::Args),
    /// Analyse a pcap/pcapng capture: per-sequence summary and expert findings.
    Analyze(analyze::Args),
    /// Profile recorded sequences: link, workload and the settings the traffic shows.
    Profile(profile::Args),
    /// Run the embedded RM source + destination over a seeded lossy link in virtual time.
    Simulate(Box<simulate::Args>),
    /// Run the embedded pair over a grid of settings, loss rates and seeds (on every core).
    Sweep(Box<sweep::Args>),
    /// Capture WS-RM traffic from a network interface for a while and analyse it.
    Capture(capture::Args),
}

/// A failure the CLI reports as one line on stderr with exit code 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// Reads a whole input file, refusing anything larger than `limit` bytes.
pub fn read_limited(path: &PathBuf, limit: u64) -> Result<Vec<u8>, CliError> {
    let meta = std::fs::metadata(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(CliError(format!("{}: is a directory", path.display())));
    }
    if meta.len() > limit {
        return Err(CliError(format!(
            "{}: {} bytes is larger than the {limit}-byte limit",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))
}
