//! Sampling a Python process with py-spy, used as a library, on a thread of its own. The thread
//! appends each stack to a [`Recording`] and hands a copy of it on at most [`TICK`] apart, so
//! that whoever shows it (the UI's event loop, through its one channel) redraws at most four
//! times a second whatever the rate.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::recording::{Recording, SampledFrame};
use super::{LiveError, Options, Target, Update};

/// The least time between two updates handed on (progress, and a copy of the recording).
pub const TICK: Duration = Duration::from_millis(250);

/// Work done again for each copy of the recording (the copy here, the view derived from it in
/// the UI) waits this many times its last cost, so that it takes at most 1/PACE of a core
/// however large the recording grows: four times a second for a small program, less often for
/// a large tree after a long recording.
pub const PACE: u32 = 20;

/// A sampling in progress: the thread that samples, and the program `record` started.
pub struct Live {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(Recording, String)>>,
    child: Option<Arc<Mutex<Child>>>,
    pub pid: i32,
}

/// Starts sampling `target`: runs the program (its output to `log`) or attaches to the
/// process, and returns once py-spy reads it, or why it cannot. `path` names the recording in
/// every copy `send` gets; sampling ends when `send` returns false.
pub fn start(
    target: &Target,
    options: &Options,
    path: PathBuf,
    mut send: impl FnMut(Update) -> bool + Send + 'static,
) -> Result<Live, LiveError> {
    let (pid, child) = match target {
        Target::Attach(pid) => {
            check_process(*pid)?;
            (*pid, None)
        }
        Target::Run { command, log } => {
            let child = spawn(command, log)?;
            (child.id() as i32, Some(Arc::new(Mutex::new(child))))
        }
    };
    let config = py_spy::Config {
        sampling_rate: options.rate,
        include_idle: options.idle,
        gil_only: options.gil,
        include_thread_ids: options.threads,
        native: options.native,
        blocking: if options.nonblocking {
            py_spy::config::LockingStrategy::NonBlocking
        } else {
            py_spy::config::LockingStrategy::Lock
        },
        ..py_spy::Config::default()
    };
    let sampler = match py_spy::sampler::Sampler::new(pid, &config) {
        Ok(sampler) => sampler,
        Err(e) => {
            let exited = child.as_ref().and_then(|c| stop_child(c, Duration::ZERO));
            return Err(explain(pid, target, &e, exited));
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let options = options.clone();
    let thread = {
        let stop = stop.clone();
        let child = child.clone();
        std::thread::Builder::new()
            .name("obol-sampler".into())
            .spawn(move || {
                let mut recording = Recording::new(options.rate);
                let ended = sample(sampler, &options, &stop, &mut recording, &path, &mut send);
                let ended = ended.unwrap_or_else(|| match &child {
                    // py-spy's ptrace may have collected the status before us: then it is
                    // unknown.
                    Some(child) => match child.lock().ok().and_then(|mut c| c.wait().ok()) {
                        Some(status) => format!("the program {}", describe_exit(status)),
                        None => "the program exited".into(),
                    },
                    None => format!("process {pid} exited"),
                });
                if !stop.load(Ordering::SeqCst) {
                    send(Update {
                        recording: Some(recording.snapshot(path)),
                        progress: recording.progress,
                        ended: Some(ended.clone()),
                    });
                }
                (recording, ended)
            })
            .map_err(|e| LiveError(format!("cannot start the sampling thread: {e}")))?
    };
    Ok(Live {
        stop,
        thread: Some(thread),
        child,
        pid,
    })
}

/// Samples until the process exits (`None`), `stop` is set, the duration is up or `send`
/// fails (`Some(why)`).
fn sample(
    sampler: py_spy::sampler::Sampler,
    options: &Options,
    stop: &AtomicBool,
    recording: &mut Recording,
    path: &Path,
    send: &mut impl FnMut(Update) -> bool,
) -> Option<String> {
    let started = Instant::now();
    let mut sent_at: Option<Instant> = None;
    let mut sent_samples = u64::MAX;
    let mut copied_at: Option<Instant> = None;
    let mut copy_cost = Duration::ZERO;
    for sample in sampler {
        if stop.load(Ordering::SeqCst) {
            return Some("sampling stopped".into());
        }
        for trace in &sample.traces {
            if !(options.idle || trace.active) || (options.gil && !trace.owns_gil) {
                continue;
            }
            // py-spy's `--threads`: the thread as the outermost frame.
            let thread_frame = options.threads.then(|| match &trace.thread_name {
                Some(name) => format!("thread ({}): {name}", trace.format_threadid()),
                None => format!("thread ({})", trace.format_threadid()),
            });
            let frames = trace
                .frames
                .iter()
                .map(|f| SampledFrame {
                    name: &f.name,
                    file: &f.filename,
                    line: u32::try_from(f.line).unwrap_or(0),
                })
                .chain(thread_frame.iter().map(|name| SampledFrame {
                    name,
                    file: "",
                    line: 0,
                }));
            let name = || {
                format!(
                    "Thread {} \"{}\"",
                    trace.format_threadid(),
                    trace.thread_name.as_deref().unwrap_or("")
                )
            };
            recording.add((trace.pid, trace.thread_id), name, frames);
        }
        let progress = &mut recording.progress;
        progress.lost += sample.sampling_errors.map_or(0, |e| e.len() as u64);
        if let Some(late) = sample.late {
            progress.behind = progress.behind.max(late);
        }
        progress.elapsed = started.elapsed();
        if let Some(duration) = options.duration
            && progress.elapsed >= duration
        {
            return Some(format!("recorded for {} s", duration.as_secs_f64()));
        }
        let due = sent_at.is_none_or(|at| at.elapsed() >= TICK);
        if due {
            sent_at = Some(Instant::now());
            // A copy costs time in proportion to the tree: after a long recording of a large
            // program it is made less often, so that copies take at most 1/PACE of a core.
            let copy_due = copied_at.is_none_or(|at| at.elapsed() >= TICK.max(copy_cost * PACE));
            let grew = recording.samples() != sent_samples;
            let copy = (grew && copy_due).then(|| {
                let started = Instant::now();
                let copy = recording.snapshot(path.to_owned());
                copy_cost = started.elapsed();
                copied_at = Some(started);
                sent_samples = recording.samples();
                copy
            });
            let update = Update {
                recording: copy,
                progress: recording.progress,
                ended: None,
            };
            if !send(update) {
                return Some("sampling stopped".into());
            }
        }
    }
    None
}

impl Live {
    /// Ends sampling and returns what was recorded. The program `record` started gets SIGINT,
    /// then SIGTERM if it is still running a second later; the returned line says how it ended.
    pub fn stop(mut self) -> (Recording, Option<String>) {
        self.stop.store(true, Ordering::SeqCst);
        let (recording, ended) = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_else(|| (Recording::new(1), "sampling failed".into()));
        let stopped = self
            .child
            .take()
            .and_then(|child| stop_child(&child, Duration::from_secs(1)))
            .map(|status| format!("the program {}", describe_exit(status)));
        let ended = stopped.or((ended != "sampling stopped").then_some(ended));
        (recording, ended)
    }

    /// Stops sampling and saves what was recorded to `output` (nothing when no sample came):
    /// the line to print once obol is done, or why saving failed.
    pub fn finish(self, target: &Target, output: &Path) -> Result<String, LiveError> {
        let (recording, child) = self.stop();
        if recording.samples() > 0 {
            super::save(output, &recording.snapshot(output.to_owned())).map_err(|e| {
                LiveError(format!(
                    "cannot save the recording to {}: {e}",
                    crate::text::escape_control(&output.display().to_string())
                ))
            })?;
        }
        Ok(super::closing_line(
            target,
            &recording.progress,
            output,
            child.as_deref(),
        ))
    }

    /// The progress so far is in the updates; this says whether the sampling thread is done
    /// (the process exited or the duration is up).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

/// `record`'s program, in a process group of its own (so that the terminal's signals reach obol
/// alone, which passes them on), its output to `log`, no input.
fn spawn(command: &[OsString], log: &Path) -> Result<Child, LiveError> {
    let Some((program, args)) = command.split_first() else {
        return Err(LiveError(
            "no program to run: obol record -- python prog.py ARGS".into(),
        ));
    };
    let shown = crate::text::escape_control(&program.to_string_lossy()).into_owned();
    let log_file = File::create(log).map_err(|e| {
        LiveError(format!(
            "cannot write the program's log {}: {e}",
            crate::text::escape_control(&log.display().to_string())
        ))
    })?;
    let stderr = log_file
        .try_clone()
        .map_err(|e| LiveError(format!("cannot share the program's log: {e}")))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| {
            // Nothing ran: no log to read.
            let _ = std::fs::remove_file(log);
            LiveError(format!(
                "cannot run {shown}: {e} (obol record -- python prog.py ARGS)"
            ))
        })
}

/// Asks the program's process group to end: SIGINT, then SIGTERM after `patience`; its exit
/// status if it ended. With no patience, SIGTERM at once (a program py-spy could not read).
fn stop_child(child: &Mutex<Child>, patience: Duration) -> Option<ExitStatus> {
    let mut child = child.lock().ok()?;
    // An error: no such child any more (py-spy's ptrace collected it); nothing to stop.
    if let Some(status) = child.try_wait().ok()? {
        return Some(status);
    }
    let group = child.id() as i32;
    let signals: &[i32] = if patience.is_zero() {
        &[libc::SIGTERM]
    } else {
        &[libc::SIGINT, libc::SIGTERM]
    };
    for &signal in signals {
        // SAFETY: kill(2) with a process group we started and have not reaped (try_wait above).
        unsafe { libc::kill(-group, signal) };
        let deadline = Instant::now() + patience.max(Duration::from_millis(500));
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().ok()? {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    None
}

fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was ended by signal {signal}"),
        _ => "exited".into(),
    }
}

/// A PID that names no process is said so before py-spy is asked.
fn check_process(pid: i32) -> Result<(), LiveError> {
    if pid <= 0 || !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(LiveError(format!(
            "no process with PID {pid}: check it with `ps -p {pid}` (the program may have ended)"
        )));
    }
    Ok(())
}

/// What to do about py-spy's error, in one line.
fn explain(
    pid: i32,
    target: &Target,
    error: &anyhow::Error,
    exited: Option<ExitStatus>,
) -> LiveError {
    let chain = format!("{error:#}");
    let what = match target {
        Target::Attach(_) => format!("process {pid}"),
        Target::Run { .. } => "the program".into(),
    };
    let permission = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    }) || chain.contains("Permission denied")
        || chain.contains("Operation not permitted");
    if permission {
        return LiveError(format!(
            "no permission to read {what}: {}",
            permission_advice()
        ));
    }
    if let Target::Run { log, .. } = target
        && let Some(status) = exited
        && chain.contains("python version")
    {
        // It ended before py-spy could read it (or was no Python program and was stopped).
        let log = crate::text::escape_control(&log.display().to_string()).into_owned();
        return LiveError(format!(
            "{what} {} before py-spy found a Python interpreter in it: is it a Python program \
             (obol record -- python prog.py)? Its output is in {log}",
            describe_exit(status)
        ));
    }
    if chain.contains("Unsupported version") || chain.contains("Py_DebugOffsets") {
        return LiveError(format!(
            "{what} runs a Python version that py-spy {} cannot read ({}): run it with a \
             CPython from 2.7 to 3.14",
            PY_SPY_VERSION,
            crate::text::escape_control(&chain)
        ));
    }
    if chain.contains("python version")
        || chain.contains("python interpreter")
        || chain.contains("interpreter")
    {
        return LiveError(format!(
            "{what} is not a Python program py-spy can read ({}): give the PID of the python \
             process itself (`ps -ef | grep python`)",
            crate::text::escape_control(&chain)
        ));
    }
    if chain.contains("No such file") || chain.contains("No such process") {
        return LiveError(format!(
            "no process with PID {pid}: check it with `ps -p {pid}` (the program may have ended)"
        ));
    }
    LiveError(format!(
        "py-spy cannot read {what}: {}",
        crate::text::escape_control(&chain)
    ))
}

/// The py-spy crate obol samples with.
const PY_SPY_VERSION: &str = "0.4";

/// Why reading another process may be refused here, and the way round it.
fn permission_advice() -> String {
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok());
    // SAFETY: geteuid(2) cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    match (root, scope) {
        (false, Some(1..)) => format!(
            "ptrace_scope is {} here: run obol as root (sudo), or allow reading other processes \
             with `echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope`",
            scope.unwrap_or(1)
        ),
        (false, _) => "run obol as root (sudo) or as the user the program runs as".into(),
        (true, _) => "obol runs as root, so a container is refusing it: start the container \
                      with --cap-add SYS_PTRACE (docker run, or securityContext.capabilities \
                      in Kubernetes)"
            .into(),
    }
}
