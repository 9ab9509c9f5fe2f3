//! Importers, one module per format, and the loader that picks one by content.
//!
//! Every importer offers `sniff` (does this look like mine?) and `parse`. [`detect`] asks each in
//! turn without consuming input, so a file is never judged by its extension.

pub mod austin;
pub mod bus_error;
pub mod callgrind;
pub mod cpuprofile;
pub mod cpython_collapsed;
pub mod detect;
pub mod firefox;
pub mod folded;
pub mod marshal;
pub mod perf_script;
pub mod pprof;
mod probing;
pub mod pstats;
pub mod pyinstrument;
pub mod source;
pub mod speedscope;
pub mod svg;
#[cfg(test)]
mod test_support;
pub mod trace_event;
mod trace_samples;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::ProfileSet;

pub use detect::{
    FIGURES_FIRST_FROM, before_large_read, load_bytes, load_figures_first, load_path,
    load_path_for_summary, load_path_lazily, load_path_telling,
};

/// `String::from_utf8_lossy`, with `from_utf8` first: valid text, nearly always, is checked
/// several times quicker so (a 64 KB head: 0.45 M instructions against a few thousand).
pub(crate) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The formats obol reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Pstats,
    Speedscope,
    Folded,
    Svg,
    TraceEvent,
    Pprof,
    Austin,
    Firefox,
    CpuProfile,
    PerfScript,
    Callgrind,
    PyInstrument,
    CpythonCollapsed,
}

impl Format {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pstats => "pstats",
            Format::Speedscope => "speedscope",
            Format::Folded => "folded",
            Format::Svg => "svg",
            Format::TraceEvent => "trace-event",
            Format::Pprof => "pprof",
            Format::Austin => "austin",
            Format::Firefox => "firefox",
            Format::CpuProfile => "cpuprofile",
            Format::PerfScript => "perf-script",
            Format::Callgrind => "callgrind",
            Format::PyInstrument => "pyinstrument",
            Format::CpythonCollapsed => "cpython-collapsed",
        }
    }

    /// The name used in error messages.
    pub fn description(self) -> &'static str {
        match self {
            Format::Pstats => "cProfile pstats",
            Format::Speedscope => "speedscope JSON",
            Format::Folded => "folded stacks",
            Format::Svg => "flamegraph SVG",
            Format::TraceEvent => "Chrome trace events",
            Format::Pprof => "pprof profile.proto",
            Format::Austin => "Austin samples",
            Format::Firefox => "Firefox Profiler JSON",
            Format::CpuProfile => "Chrome CPU profile",
            Format::PerfScript => "perf script text",
            Format::Callgrind => "callgrind profile",
            Format::PyInstrument => "pyinstrument session",
            Format::CpythonCollapsed => "CPython collapsed stacks",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An importer's answer to "is this yours?", from the first bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    Yes,
    No,
    /// Cannot tell from the head alone; tried after every `Yes`.
    Maybe,
}

/// Where in the input a parse failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Byte(u64),
    /// 1-based.
    Line(u64),
    /// 1-based line and column, as JSON parsers report them.
    LineColumn(u64, u64),
    /// 0-based index of an event in a trace's list of events.
    Event(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(offset) => write!(f, "byte {offset}"),
            Location::Line(line) => write!(f, "line {line}"),
            Location::LineColumn(line, column) => write!(f, "line {line} column {column}"),
            Location::Event(index) => write!(f, "event {index}"),
        }
    }
}

/// A format-level failure: what broke and where. The loader adds the path and format.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at {location}")]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl ParseError {
    pub fn at_byte(offset: u64, message: impl Into<String>) -> Self {
        ParseError {
            location: Location::Byte(offset),
            message: message.into(),
        }
    }

    pub fn at_line(line: u64, message: impl Into<String>) -> Self {
        ParseError {
            location: Location::Line(line),
            message: message.into(),
        }
    }
}

/// A file that could not be loaded. Displays as one line naming the file, the format it was read
/// as and where it broke.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: is a directory, not a profile", path.display())]
    Directory { path: PathBuf },
    #[error("{}: empty file, nothing to read", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}: not a recognized profile (none of the formats `obol --help` lists): {why}",
        path.display()
    )]
    Unrecognized { path: PathBuf, why: String },
    #[error("{}: read as {}: {source}", path.display(), format.description())]
    Parse {
        path: PathBuf,
        format: Format,
        #[source]
        source: ParseError,
    },
}

/// A file read into the model.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub format: Format,
    pub set: ProfileSet,
    /// Things the importer passed over, one line each, for the user to see on stderr.
    pub warnings: Vec<String>,
    /// What the profiles are compared with, where the file itself holds it: the first counts of
    /// a differential folded file (`stack first last`). `obol FILE` opens it as `obol BASE NEW`
    /// would, and `obol diff FILE` compares the two.
    pub base: Option<Box<Loaded>>,
}

impl Loaded {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files this one opens as in the UI: a differential file as its base then itself, as
    /// `obol BASE NEW` opens two; any other file as itself.
    pub fn into_files(mut self) -> Vec<Loaded> {
        match self.base.take() {
            Some(base) => vec![*base, self],
            None => vec![self],
        }
    }

    /// Builds the call trees left for later (pstats' estimate), adding what that had to say
    /// to the warnings.
    pub fn build_trees(&mut self) {
        if let Some(base) = &mut self.base {
            base.build_trees();
        }
        let warnings = pstats::estimate_trees(&mut self.set);
        self.warnings.extend(warnings);
    }
}
