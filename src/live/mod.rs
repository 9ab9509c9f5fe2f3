//! Live recording: `obol record -- python prog.py` and `obol attach PID` sample a Python
//! program with py-spy (as a library, feature `live`, Linux) and hand the samples so far to
//! whoever shows them: the UI, or a file only when there is no terminal.

pub mod recording;
#[cfg(all(feature = "live", target_os = "linux"))]
pub mod sampler;

use std::ffi::OsString;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::import::Loaded;
pub use recording::{Progress, Recording, SampledFrame};

/// How to sample, as py-spy's flags of the same names.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Samples a second (`--rate`).
    pub rate: u64,
    /// The thread as the outermost frame of each stack (`--threads`).
    pub threads: bool,
    /// Stacks of threads that are waiting too (`--idle`).
    pub idle: bool,
    /// Only the thread holding the GIL (`--gil`).
    pub gil: bool,
    /// C frames of extensions beside Python's (`--native`, feature `native`).
    pub native: bool,
    /// Read without pausing the program (`--nonblocking`): less overhead, torn stacks possible.
    pub nonblocking: bool,
    /// Stop after this long (`--duration`).
    pub duration: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rate: 100,
            threads: false,
            idle: false,
            gil: false,
            native: false,
            nonblocking: false,
            duration: None,
        }
    }
}

/// What to sample.
#[derive(Debug, Clone)]
pub enum Target {
    /// A program to start, its standard output and error written to `log`.
    Run {
        command: Vec<OsString>,
        log: PathBuf,
    },
    /// A running process.
    Attach(i32),
}

/// What the sampling thread hands on, at most four times a second.
pub struct Update {
    /// Every sample so far, where there are new ones since the last update.
    pub recording: Option<Loaded>,
    pub progress: Progress,
    /// Set once sampling has ended by itself (the program exited, the duration is up): why.
    pub ended: Option<String>,
}

/// Why sampling could not start, said as what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LiveError(pub String);

/// Writes a recording as speedscope JSON, the format obol, speedscope and `obol diff` reopen.
pub fn save(path: &Path, loaded: &Loaded) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::new(file);
    let profiles: Vec<_> = loaded.set.profiles.iter().collect();
    let name = path
        .file_name()
        .map_or_else(|| "obol recording".into(), |n| n.to_string_lossy());
    crate::export::speedscope::write(&mut out, &name, &loaded.set, &profiles)?;
    out.flush()
}

/// The file a recording is saved to when `-o` is not given: in the current folder, named
/// after what was sampled and when, never over an existing file.
pub fn default_output(target: &Target) -> PathBuf {
    let what = match target {
        Target::Attach(pid) => format!("pid{pid}"),
        Target::Run { command, .. } => command
            .iter()
            .map(Path::new)
            .find(|a| a.extension().is_some_and(|e| e == "py"))
            .or_else(|| command.first().map(Path::new))
            .and_then(|a| a.file_stem())
            .map(|s| {
                s.to_string_lossy()
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect()
            })
            .unwrap_or_else(|| "program".into()),
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut n = 0;
    loop {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = PathBuf::from(format!("obol-{what}-{stamp}{suffix}.speedscope.json"));
        if !path.exists() {
            return path;
        }
        n += 1;
    }
}

/// What was recorded and where it went, for stderr once obol is done (`child`: how the
/// program `record` started ended).
pub fn closing_line(
    target: &Target,
    progress: &Progress,
    output: &Path,
    child: Option<&str>,
) -> String {
    let mut line = if progress.samples == 0 {
        "obol: no samples recorded, nothing saved".to_string()
    } else {
        format!(
            "obol: {} samples in {:.1} s ({} lost) saved to {}",
            progress.samples,
            progress.elapsed.as_secs_f64(),
            progress.lost,
            output.display()
        )
    };
    if let Target::Run { log, .. } = target {
        line.push_str(&format!("; the program's output is in {}", log.display()));
    }
    if let Some(child) = child {
        line.push_str(&format!("; {child}"));
    }
    crate::text::one_line("", &line)
}

/// The program's log beside the recording: `X.speedscope.json` logs to `X.log`.
pub fn log_path(output: &Path) -> PathBuf {
    let name = output.file_name().map_or_else(
        || "obol-record".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let stem = name
        .strip_suffix(".speedscope.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    output.with_file_name(format!("{stem}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_sits_beside_the_recording() {
        assert_eq!(
            log_path(Path::new("out/run.speedscope.json")),
            Path::new("out/run.log")
        );
        assert_eq!(log_path(Path::new("run.json")), Path::new("run.log"));
        assert_eq!(log_path(Path::new("run")), Path::new("run.log"));
    }

    #[test]
    fn the_default_name_says_what_was_sampled() {
        let target = Target::Run {
            command: vec!["python3".into(), "-u".into(), "dir/my prog.py".into()],
            log: "x".into(),
        };
        let name = default_output(&target).display().to_string();
        assert!(name.starts_with("obol-my_prog-"), "{name}");
        assert!(name.ends_with(".speedscope.json"), "{name}");
        let name = default_output(&Target::Attach(42)).display().to_string();
        assert!(name.starts_with("obol-pid42-"), "{name}");
    }
}
