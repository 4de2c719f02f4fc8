//! The command line: `rmscope [FILE]` opens the app; subcommands work without a window.

pub mod analyze;
pub mod inspect;
pub mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "rmscope",
    version,
    about = "See inside WS-ReliableMessaging (WCF reliable session) traffic"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode one SOAP envelope (or a pasted header fragment) and say what it means.
    Inspect(inspect::Args),
    /// Analyse a pcap/pcapng capture: per-sequence summary and expert findings.
    Analyze(analyze::Args),
    /// Run the embedded RM source + destination over a seeded lossy link in virtual time.
    Simulate(Box<simulate::Args>),
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
