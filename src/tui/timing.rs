//! An optional log of the UI's timings, read by `benches/ui_keys.py`: with `OBOL_TIMING_LOG`
//! naming a file, one line per event, `SECONDS WHAT [MILLISECONDS]`, seconds counted from the
//! UI's start: `loaded`, `first-frame` (the first frame with the view drawn), `key ACTION MS
//! CPU_MS` (from the key read to its frame drawn, and the UI thread's CPU time in that span) and
//! `done JOB MS CPU_MS worker WORKER_MS` (the same from a worker's result arriving, and the wall
//! time the worker took). The CPU time says what the
//! wall time would be on an idle machine when other work shares the cores. Without the
//! variable nothing is measured or written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// A moment in wall time and in the calling thread's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: Instant,
    cpu_ns: u64,
}

/// The calling thread's time on a CPU, in nanoseconds (Linux's schedstat; 0 elsewhere).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub struct Timing {
    out: Option<BufWriter<File>>,
    start: Instant,
    first_frame_seen: bool,
}

impl Timing {
    /// The log `OBOL_TIMING_LOG` names; off when unset or when the file cannot be made.
    pub fn from_env() -> Timing {
        let out = std::env::var_os("OBOL_TIMING_LOG")
            .and_then(|path| File::create(path).ok())
            .map(BufWriter::new);
        Timing {
            out,
            start: Instant::now(),
            first_frame_seen: false,
        }
    }

    pub fn is_on(&self) -> bool {
        self.out.is_some()
    }

    /// When something to answer came: the time and the thread's CPU time so far.
    pub fn mark(&self) -> Mark {
        Mark {
            at: Instant::now(),
            cpu_ns: if self.is_on() { thread_cpu_ns() } else { 0 },
        }
    }

    /// Writes one line, at once: the bench reads the log while obol runs. `more` ends the line.
    pub fn note(&mut self, what: &str, since: Option<Mark>, more: &str) {
        let Some(out) = &mut self.out else {
            return;
        };
        let at = self.start.elapsed().as_secs_f64();
        let _ = match since {
            Some(since) => writeln!(
                out,
                "{at:.4} {what} {:.3} {:.3}{more}",
                since.at.elapsed().as_secs_f64() * 1e3,
                thread_cpu_ns().saturating_sub(since.cpu_ns) as f64 / 1e6
            ),
            None => writeln!(out, "{at:.4} {what}{more}"),
        };
        let _ = out.flush();
    }

    /// Notes the first frame drawn with a view, once.
    pub fn drawn(&mut self, with_view: bool) {
        if with_view && !self.first_frame_seen {
            self.first_frame_seen = true;
            self.note("first-frame", None, "");
        }
    }
}
