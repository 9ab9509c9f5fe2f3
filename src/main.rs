use std::process::ExitCode;

use clap::Parser;

fn main() -> color_eyre::Result<ExitCode> {
    color_eyre::install()?;
    let cli = obol::cli::Cli::parse();
    match obol::cli::run(cli) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.is_broken_pipe() => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("obol: error: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}
