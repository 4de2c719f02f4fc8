use clap::Parser;
use rmscope::cli::{Cli, Command, inspect};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        None => return rmscope::ui::run_app(),
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
