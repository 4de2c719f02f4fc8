use clap::Parser;
use rmscope::cli::{Cli, Command, inspect, simulate};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Simulate(args)) => simulate::run(args),
        #[cfg(feature = "gui")]
        None => return rmscope::ui::run_app(),
        #[cfg(not(feature = "gui"))]
        None => Err(rmscope::cli::CliError(
            "built without the desktop app (feature `gui`)".into(),
        )),
    };
    match result {
        Ok(out) => {
            // A closed stdout (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rmscope: {e}");
            ExitCode::from(2)
        }
    }
}
