//! `rmscope capture`: capture WS-RM traffic from an interface for a while, print what it
//! decoded (as `analyze` does), and optionally keep the frames as pcapng.

use super::CliError;
use super::simulate::parse_duration;
use crate::analysis;
use crate::capture::live::{self, LiveCapture, Update};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// List the interfaces and exit.
    #[arg(long)]
    pub list: bool,
    /// Interface to capture on.
    #[arg(short, long, default_value = "lo")]
    pub interface: String,
    /// BPF filter (tcpdump syntax).
    #[arg(short, long, default_value = "tcp")]
    pub filter: String,
    /// How long to capture.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Also write the frames to this pcapng file.
    #[arg(short, long)]
    pub write: Option<PathBuf>,
    /// Print one JSON object (as `analyze --json`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args) -> Result<String, CliError> {
    if args.list {
        let list = live::interfaces().map_err(CliError)?;
        return Ok(list
            .iter()
            .map(|i| match &i.description {
                Some(d) => format!("{}\t{d}\n", i.name),
                None => format!("{}\n", i.name),
            })
            .collect());
    }
    let cap = LiveCapture::start(
        live::Options {
            interface: args.interface.clone(),
            filter: args.filter.clone(),
            save: args.write.clone(),
        },
        || {},
    )
    .map_err(CliError)?;
    let end = Instant::now() + args.duration;
    let mut stopping = false;
    loop {
        let wait = end.saturating_duration_since(Instant::now());
        match cap.updates.recv_timeout(wait.max(Duration::from_millis(10))) {
            Ok(Update::Frames { .. }) => {}
            Ok(Update::Stopped { data, error }) => {
                if let Some(e) = error {
                    return Err(CliError(e));
                }
                let a = analysis::analyze(&data.timeline, &analysis::Options::default());
                let name = PathBuf::from(format!("{} ({})", args.interface, args.filter));
                return super::analyze::render(&name, &data, a, args.json, false);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(CliError("the capture thread ended unexpectedly".into()));
            }
        }
        if !stopping && Instant::now() >= end {
            stopping = true;
            cap.stop();
        }
    }
}
