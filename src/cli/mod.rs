//! Command-line definitions (clap) and the non-interactive commands, which print tables or JSON.

pub mod diff;
pub mod priority;
pub mod summary;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::import::{self, LoadError, Loaded};

#[derive(Debug, Parser)]
#[command(
    name = "obol",
    version,
    about = "Explore cProfile and py-spy profiles in the terminal",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Profiles to open (.prof, speedscope JSON, flamegraph SVG, folded stacks).
    pub files: Vec<PathBuf>,

    /// Open the profile embedded in obol instead of a file.
    #[arg(long)]
    pub demo: bool,

    /// Where the profiled sources live, for the Priority pane's complexity and imports (may
    /// repeat), as for `obol priority`.
    #[arg(long, value_name = "DIR")]
    pub source_root: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the function table of a profile, heaviest first.
    Summary(SummaryArgs),
    /// Rank modules by the priority score: time, coupling, complexity, memory, calls.
    Priority(PriorityArgs),
    /// Compare two profiles function by function: what moved.
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The profile before the change.
    pub base: PathBuf,
    /// The profile after it.
    pub new: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Order: largest change of total share (default), of self, or of total first.
    #[arg(long, value_enum, default_value_t = DiffSortArg::Share)]
    pub sort: DiffSortArg,
    /// Show only the first N functions.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffSortArg {
    Share,
    #[value(name = "self")]
    SelfWeight,
    #[value(name = "total")]
    TotalWeight,
}

#[derive(Debug, clap::Args)]
pub struct PriorityArgs {
    /// Time profiles, and memory profiles (speedscope with unit bytes) to weigh in.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Where the profiled sources live, for complexity and imports (may repeat).
    #[arg(long, value_name = "DIR")]
    pub source_root: Vec<PathBuf>,
    /// Factor weights, e.g. `time=0.5,coupling=0.2` (unnamed factors keep the seed's).
    #[arg(long, value_name = "SPEC")]
    pub weights: Option<String>,
    /// Show only the first N modules of the table.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// The profile to read.
    pub file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show only the first N functions (all with --json unless given).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Order of the rows, heaviest first.
    #[arg(long, value_enum, default_value_t = SortArg::SelfWeight)]
    pub sort: SortArg,
    /// Only the profile (thread) with this name.
    #[arg(long, value_name = "NAME")]
    pub thread: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    #[value(name = "self")]
    SelfWeight,
    #[value(name = "total")]
    TotalWeight,
    Calls,
}

/// What a command can fail with; each is shown as one line and exits 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    Usage(String),
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
}

impl From<crate::tui::UiError> for CliError {
    fn from(e: crate::tui::UiError) -> CliError {
        match e {
            crate::tui::UiError::Load(e) => CliError::Load(e),
            crate::tui::UiError::Terminal(e) => CliError::Output(e),
        }
    }
}

impl CliError {
    /// A closed pipe (`obol summary big.prof | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Loads a profile named on the command line, printing the importer's warnings to stderr.
pub fn load(path: &Path) -> Result<Loaded, CliError> {
    let loaded = import::load_path(path)?;
    report_warnings(&loaded);
    Ok(loaded)
}

/// [`load`] for commands that read only function tables (`summary`, `diff`): a call tree that
/// would have to be estimated (pstats') is not built.
pub fn load_for_table(path: &Path) -> Result<Loaded, CliError> {
    let loaded = import::load_path_lazily(path)?;
    report_warnings(&loaded);
    Ok(loaded)
}

fn report_warnings(loaded: &Loaded) {
    let mut stderr = io::stderr().lock();
    for warning in &loaded.warnings {
        // A failed write to stderr leaves nothing better to do.
        let _ = writeln!(
            stderr,
            "obol: warning: {}: {warning}",
            loaded.path.display()
        );
    }
}

/// Runs a parsed command line. Without a subcommand, opens the files in the terminal UI.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Some(Command::Summary(args)) => summary::run(&args),
        Some(Command::Priority(args)) => priority::run(&args),
        Some(Command::Diff(args)) => diff::run(&args),
        None => {
            if !cli.demo && cli.files.is_empty() {
                return Err(CliError::Usage(
                    "no profile given: try `obol FILE`, `obol --demo` or `obol --help`".into(),
                ));
            }
            Ok(crate::tui::run(cli.files, cli.demo, cli.source_root)?)
        }
    }
}
