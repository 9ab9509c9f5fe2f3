//! Command-line definitions (clap) and the non-interactive commands, which print tables or JSON.

pub mod convert;
pub mod diff;
pub mod edges;
pub mod filter;
#[cfg(all(feature = "live", target_os = "linux"))]
pub mod live;
pub mod merge;
pub mod priority;
pub mod source;
pub mod summary;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

pub use filter::FilterArgs;

use crate::analysis::edges::Direction;
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

    /// Profiles to open: cProfile .prof, speedscope JSON, folded stacks, flamegraph SVG, Chrome
    /// trace events and .cpuprofile, Firefox Profiler JSON, pprof, Austin, perf script,
    /// callgrind, pyinstrument sessions, CPython 3.15's collapsed stacks; gzip or not; `-` is
    /// standard input.
    pub files: Vec<PathBuf>,

    /// Open the profile embedded in obol instead of a file.
    #[arg(long)]
    pub demo: bool,

    /// Where the profiled sources live, for the Priority pane's complexity and imports (may
    /// repeat), as for `obol priority`.
    #[arg(long, value_name = "DIR")]
    pub source_root: Vec<PathBuf>,

    /// The configuration file (default: $OBOL_CONFIG, else $XDG_CONFIG_HOME/obol/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the function table of a profile, heaviest first.
    Summary(SummaryArgs),
    /// Rank modules by the priority score: time, coupling, complexity, memory, calls.
    Priority(PriorityArgs),
    /// Compare two profiles function by function: what moved.
    Diff(DiffArgs),
    /// List who called the functions matching NAME, as `python -m pstats`' `callers`.
    Callers(EdgesArgs),
    /// List what the functions matching NAME called, as `python -m pstats`' `callees`.
    Callees(EdgesArgs),
    /// Print the source of the functions matching NAME, each line with its samples, as pprof's
    /// `list` (pstats: each callee's edge figures beside the line calling it).
    Source(SourceArgs),
    /// Write a profile in another format: speedscope JSON, folded stacks or pstats.
    Convert(ConvertArgs),
    /// Add runs of one program together (threads of one name added, others kept apart).
    Merge(MergeArgs),
    /// Run a Python program and watch it live, sampled by py-spy: `obol record -- python
    /// prog.py ARGS`. Saved as speedscope JSON on exit; without a terminal, to the file only.
    #[cfg(all(feature = "live", target_os = "linux"))]
    Record(live::RecordArgs),
    /// Sample a running Python process live, as `record` does: `obol attach PID`.
    #[cfg(all(feature = "live", target_os = "linux"))]
    Attach(live::AttachArgs),
    /// Print a shell completion script: `obol completions bash > /etc/bash_completion.d/obol`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print obol's manual page (roff): `obol man > obol.1; man ./obol.1`.
    Man,
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The profile to read.
    pub file: PathBuf,
    /// The format to write.
    #[arg(long, value_enum)]
    pub to: ConvertTo,
    /// Where to write it (standard output when not given, or `-`).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Seconds one sample stands for, for pstats written from a profile that counts samples
    /// (py-spy's default rate is 100 Hz).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.01)]
    pub interval: f64,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The profiles to add together: runs of one program, in any formats obol reads.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Where to write the sum (`-`: standard output).
    #[arg(short, long, value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// The format to write.
    #[arg(long, value_enum, default_value_t = ConvertTo::Speedscope)]
    pub to: ConvertTo,
    /// Seconds one sample stands for, for pstats written from profiles that count samples.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.01)]
    pub interval: f64,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvertTo {
    Speedscope,
    Folded,
    Pstats,
}

#[derive(Debug, clap::Args)]
pub struct EdgesArgs {
    /// A regular expression matched against each function's name and its `file:line(name)`.
    pub name: String,
    /// The profile to read.
    pub file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// A regular expression matched against each function's name and its `file:line(name)`.
    pub name: String,
    /// The profile to read.
    pub file: PathBuf,
    /// Where the profiled sources live (may repeat); the file as recorded and python3's
    /// standard library are looked in too.
    #[arg(long, value_name = "DIR")]
    pub source_root: Vec<PathBuf>,
    /// Print JSON instead of the annotated lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The profile before the change (or a differential folded file, `stack before after`,
    /// alone).
    pub base: PathBuf,
    /// The profile after it.
    pub new: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Order: largest change of total share (default), of self, or of total first.
    #[arg(long, value_enum, default_value_t = DiffSortArg::Share)]
    pub sort: DiffSortArg,
    /// Show only the first N functions.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Compare functions, or modules or files with their functions added up.
    #[arg(long, value_enum, default_value_t = GroupingArg::Function)]
    pub by: GroupingArg,
    /// Exit 1 when some function's share of the total grew by more than PCT percentage points;
    /// `NAME=PCT` for the function NAME (may repeat; the tightest limit applies).
    #[arg(long, value_name = "[NAME=]PCT")]
    pub fail_above: Vec<String>,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupingArg {
    Function,
    Module,
    File,
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
    /// Rank the standard library's and installed packages' modules too, instead of charging
    /// their time to the project module that called them.
    #[arg(long)]
    pub all_modules: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
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
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    #[value(name = "self")]
    SelfWeight,
    #[value(name = "total")]
    TotalWeight,
    Calls,
}

/// What a command can fail with; each is shown as one line and exits 2, but for a failed
/// regression gate, which exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    Usage(String),
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
    /// `obol diff --fail-above`: the comparison ran, and something grew past its limit.
    #[error("{0}")]
    Regression(String),
}

impl From<crate::tui::UiError> for CliError {
    fn from(e: crate::tui::UiError) -> CliError {
        match e {
            crate::tui::UiError::Load(e) => CliError::Load(e),
            crate::tui::UiError::Terminal(e) => CliError::Output(e),
            crate::tui::UiError::Usage(e) => CliError::Usage(e),
        }
    }
}

impl CliError {
    /// The process's exit code: 1 for a failed regression gate, 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Regression(_) => 1,
            _ => 2,
        }
    }

    /// A closed pipe (`obol summary big.prof | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Each `--source-root` must be a directory: a mistyped one would silently find no source.
pub fn check_source_roots(roots: &[PathBuf]) -> Result<(), CliError> {
    match roots.iter().find(|root| !root.is_dir()) {
        Some(root) => Err(CliError::Usage(format!(
            "--source-root {}: {}",
            crate::text::escape_control(&root.display().to_string()),
            if root.exists() {
                "not a directory"
            } else {
                "no such directory"
            }
        ))),
        None => Ok(()),
    }
}

/// A file named for the UI that is missing or a directory, as loading it would report it. Only
/// looked at, never opened: opening a named pipe would take what its writer sends.
fn check_exists(path: &Path) -> Result<(), LoadError> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(LoadError::Directory {
            path: path.to_owned(),
        }),
        Ok(_) => Ok(()),
        Err(source) => Err(LoadError::Io {
            path: path.to_owned(),
            source,
        }),
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

/// [`load_for_table`] for `obol summary`, which reads only function figures and totals.
pub fn load_for_summary(path: &Path) -> Result<Loaded, CliError> {
    let loaded = import::load_path_for_summary(path)?;
    report_warnings(&loaded);
    Ok(loaded)
}

fn report_warnings(loaded: &Loaded) {
    let mut stderr = io::stderr().lock();
    for warning in &loaded.warnings {
        // A failed write to stderr leaves nothing better to do.
        let message = format!("{}: {warning}", loaded.path.display());
        let _ = writeln!(
            stderr,
            "{}",
            crate::text::one_line("obol: warning: ", &message)
        );
    }
}

/// Runs a parsed command line. Without a subcommand, opens the files in the terminal UI.
pub fn run(cli: Cli) -> Result<(), CliError> {
    // The live commands stop the sampling and save it on a signal, and the UI restores the
    // terminal first: they handle signals themselves.
    #[cfg(all(feature = "live", target_os = "linux"))]
    let handles_signals = matches!(cli.command, Some(Command::Record(_) | Command::Attach(_)));
    #[cfg(not(all(feature = "live", target_os = "linux")))]
    let handles_signals = false;
    if cli.command.is_some() && !handles_signals {
        exit_on_signals();
    }
    match cli.command {
        Some(Command::Summary(args)) => summary::run(&args),
        Some(Command::Priority(args)) => priority::run(&args),
        Some(Command::Diff(args)) => diff::run(&args),
        Some(Command::Callers(args)) => edges::run(&args, Direction::Callers),
        Some(Command::Callees(args)) => edges::run(&args, Direction::Callees),
        Some(Command::Source(args)) => source::run(&args),
        Some(Command::Convert(args)) => convert::run(&args),
        Some(Command::Merge(args)) => merge::run(&args),
        #[cfg(all(feature = "live", target_os = "linux"))]
        Some(Command::Record(args)) => live::record(args),
        #[cfg(all(feature = "live", target_os = "linux"))]
        Some(Command::Attach(args)) => live::attach(args),
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            // clap_complete panics on a failed write (`| head`): it writes to memory here, and
            // the write to stdout fails as any command's output does.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "obol", &mut script);
            let mut out = io::stdout().lock();
            out.write_all(&script)?;
            out.flush()?;
            Ok(())
        }
        Some(Command::Man) => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
            out.flush()?;
            Ok(())
        }
        None => {
            if !cli.demo && cli.files.is_empty() {
                return Err(CliError::Usage(
                    "no profile given: try `obol FILE`, `obol --demo` or `obol --help`".into(),
                ));
            }
            check_source_roots(&cli.source_root)?;
            // What is wrong with the command line first: a missing file is named as such, not
            // as a terminal obol could not use.
            for path in &cli.files {
                check_exists(path)?;
            }
            let start = ui_start(&cli.filters)?;
            Ok(crate::tui::run(
                cli.files,
                cli.demo,
                cli.source_root,
                start,
                cli.config,
            )?)
        }
    }
}

/// What the filters ask the UI to start with: `--only-mine` or `--hide` is what `H` toggles
/// (with both, `--hide` stays on for the session, and `H` toggles only the library).
fn ui_start(args: &FilterArgs) -> Result<crate::tui::session::Start, CliError> {
    let mut filters = args.filters()?;
    // `filters()` puts --only-mine first.
    let mut hides = std::mem::take(&mut filters.hide).into_iter();
    let hidden = hides.next();
    filters.hide.extend(hides);
    Ok(crate::tui::session::Start {
        filters,
        hidden,
        thread: args.thread.clone(),
        merge_threads: args.merge_threads,
    })
}

/// Ends a command on SIGTERM or SIGHUP with 128 + the signal's number, as a shell reports a
/// process the signal killed, after nothing more than the output already written. The UI
/// handles signals itself, to restore the terminal first.
fn exit_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            std::process::exit(128 + signal);
        }
    });
}
