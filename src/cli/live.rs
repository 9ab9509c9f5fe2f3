//! `obol record -- python prog.py ARGS` and `obol attach PID`: sample a Python program live. On
//! a terminal the UI shows every sample so far; without one (CI, a pipe) the recording goes to
//! the file only.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use super::CliError;
use crate::live::{self, LiveError, Options, Target};

/// How to sample; py-spy's flags of the same names.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Samples a second.
    #[arg(long, value_name = "HZ", default_value_t = 100)]
    pub rate: u64,
    /// Each stack under its thread as the outermost frame (py-spy's --threads).
    #[arg(long)]
    pub threads: bool,
    /// Sample threads that are waiting too (sleep, I/O, locks), not only those running.
    #[arg(long)]
    pub idle: bool,
    /// Only the thread holding the GIL.
    #[arg(long)]
    pub gil: bool,
    /// Read without pausing the program: less overhead on it, some stacks may come out torn.
    #[arg(long)]
    pub nonblocking: bool,
    /// C frames of extensions beside Python's (a build with the `native` feature).
    #[cfg(feature = "native")]
    #[arg(long)]
    pub native: bool,
    /// Stop sampling after this many seconds (the program goes on, for `attach`).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Where to save the recording as speedscope JSON (default: obol-NAME-TIME.speedscope.json
    /// in the current folder).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The configuration file, as for `obol FILE`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    /// The program and its arguments, after `--`: `obol record -- python prog.py ARGS`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// The process ID of the running Python program.
    pub pid: i32,
    #[command(flatten)]
    pub live: LiveArgs,
}

impl LiveArgs {
    fn options(&self) -> Result<Options, CliError> {
        if self.rate == 0 || self.rate > 10_000 {
            return Err(CliError::Usage(format!(
                "--rate {}: give samples a second from 1 to 10000 (py-spy's default is 100)",
                self.rate
            )));
        }
        let duration = match self.duration {
            Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Some(Duration::from_secs_f64(s)),
            Some(s) => {
                return Err(CliError::Usage(format!(
                    "--duration {s}: give a number of seconds above 0"
                )));
            }
            None => None,
        };
        Ok(Options {
            rate: self.rate,
            threads: self.threads,
            idle: self.idle,
            gil: self.gil,
            #[cfg(feature = "native")]
            native: self.native,
            #[cfg(not(feature = "native"))]
            native: false,
            nonblocking: self.nonblocking,
            duration,
        })
    }
}

/// `obol record`.
pub fn record(args: RecordArgs) -> Result<(), CliError> {
    let options = args.live.options()?;
    let probe = Target::Run {
        command: args.command.clone(),
        log: PathBuf::new(),
    };
    let output = args
        .live
        .output
        .clone()
        .unwrap_or_else(|| live::default_output(&probe));
    let target = Target::Run {
        command: args.command,
        log: live::log_path(&output),
    };
    run(target, options, output, args.live.config)
}

/// `obol attach`.
pub fn attach(args: AttachArgs) -> Result<(), CliError> {
    let options = args.live.options()?;
    let target = Target::Attach(args.pid);
    let output = args
        .live
        .output
        .clone()
        .unwrap_or_else(|| live::default_output(&target));
    run(target, options, output, args.live.config)
}

fn run(
    target: Target,
    options: Options,
    output: PathBuf,
    config: Option<PathBuf>,
) -> Result<(), CliError> {
    let on_terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if on_terminal {
        let start = crate::tui::live::LiveStart {
            target,
            options,
            output,
            config,
        };
        return Ok(crate::tui::live::run(start)?);
    }
    headless(&target, &options, output)
}

/// Records to the file only: until the program exits, the duration is up, or a signal (SIGINT,
/// SIGTERM, SIGHUP) asks obol to stop, which saves what it has before ending.
fn headless(target: &Target, options: &Options, output: PathBuf) -> Result<(), CliError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let (done, wait) = mpsc::channel::<Option<i32>>();
    let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| CliError::Usage(format!("cannot watch for signals: {e}")))?;
    let on_signal = done.clone();
    let handle = signals.handle();
    let mut signals = signals;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = on_signal.send(Some(signal));
        }
    });
    let ended = done;
    let live = live::sampler::start(target, options, output.clone(), move |update| {
        if update.ended.is_some() {
            let _ = ended.send(None);
        }
        true
    })
    .map_err(live_error)?;
    let signal = wait.recv().ok().flatten();
    handle.close();
    let line = live.finish(target, &output)?;
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(signal) = signal {
        std::process::exit(128 + signal);
    }
    Ok(())
}

fn live_error(e: LiveError) -> CliError {
    CliError::Usage(e.0)
}

impl From<LiveError> for CliError {
    fn from(e: LiveError) -> CliError {
        live_error(e)
    }
}
