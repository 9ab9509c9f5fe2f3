//! Picks an importer by content: each format's `sniff` is asked in turn, the first `Yes` wins,
//! then the `Maybe`s are tried in order. The head is only peeked at, never consumed.

use std::path::Path;

use super::{
    Format, LoadError, Loaded, Sniff, austin, callgrind, cpuprofile, cpython_collapsed, firefox,
    folded, perf_script, pprof, pstats, pyinstrument, source, speedscope, svg, trace_event,
};
use crate::profile::ProfileSet;

/// How much of a file the sniffers see.
pub const HEAD_LEN: usize = 64 * 1024;

/// The order formats are asked in: the unambiguous binary and structured ones first, folded
/// (which accepts almost any text) last.
const ORDER: [Format; 13] = [
    Format::Pstats,
    Format::Pprof,
    Format::PyInstrument,
    Format::TraceEvent,
    Format::Firefox,
    Format::CpuProfile,
    Format::Speedscope,
    Format::Svg,
    Format::Austin,
    Format::CpythonCollapsed,
    Format::Callgrind,
    Format::PerfScript,
    Format::Folded,
];

fn sniff(format: Format, head: &[u8]) -> Sniff {
    match format {
        Format::Pstats => pstats::sniff(head),
        Format::Speedscope => speedscope::sniff(head),
        Format::Svg => svg::sniff(head),
        Format::Folded => folded::sniff(head),
        Format::TraceEvent => trace_event::sniff(head),
        Format::Pprof => pprof::sniff(head),
        Format::Austin => austin::sniff(head),
        Format::Firefox => firefox::sniff(head),
        Format::CpuProfile => cpuprofile::sniff(head),
        Format::PerfScript => perf_script::sniff(head),
        Format::Callgrind => callgrind::sniff(head),
        Format::PyInstrument => pyinstrument::sniff(head),
        Format::CpythonCollapsed => cpython_collapsed::sniff(head),
    }
}

/// The format a file with this head should be read as, if any importer claims it.
pub fn guess_format(head: &[u8]) -> Option<Format> {
    // Asked in turn until one says yes: the first `Yes` wins whatever those after it say.
    let mut maybe = None;
    for format in ORDER {
        match sniff(format, head) {
            Sniff::Yes => return Some(format),
            Sniff::Maybe => {
                maybe.get_or_insert(format);
            }
            Sniff::No => {}
        }
    }
    maybe
}

/// Reads and parses the profile at `path`, call trees and all.
pub fn load_path(path: &Path) -> Result<Loaded, LoadError> {
    load_path_telling(path, None)
}

/// [`load_path`], telling `tell` how far into the file it has read (in whole percent, as the
/// figure grows) where the file is streamed from disk: a folded or perf script file (mapped
/// files are not told).
pub fn load_path_telling(path: &Path, tell: Option<source::Tell>) -> Result<Loaded, LoadError> {
    let mut loaded = load_reading(path, false, tell)?;
    loaded.build_trees();
    Ok(loaded)
}

/// [`load_path`], but a call tree that has to be estimated (pstats') is left until it is asked
/// for, for commands that read only the function table.
pub fn load_path_lazily(path: &Path) -> Result<Loaded, LoadError> {
    load_reading(path, false, None)
}

/// Files from this size on are worth reading twice for [`load_figures_first`]: the figures'
/// reading costs a fifth of the whole one, whose call trees then come that much later.
pub const FIGURES_FIRST_FROM: u64 = 32 << 20;

/// The function figures and totals of a large file, read ahead of the whole file where that is
/// several times faster (a folded file on disk, a speedscope file whose samples weigh alike, an
/// inferno drawing, counted on every core with no call tree, as `summary` reads them): the UI
/// shows its table from them while the call trees are read. The profiles have no trees
/// (`Profile::figures_only`) and the frames are numbered as the whole reading numbers them (in
/// the order first seen). `Ok(None)` where there are none to be had so: another format, a
/// smaller file, a pipe, or a file the figures cannot be counted from exactly, or not read at
/// all (its error is left to the whole reading, which says it as always). A drawing whose
/// figures cannot be counted so comes whole, trees and all (and its error is the whole
/// reading's): only profiles that are figures alone are read again.
pub fn load_figures_first(path: &Path) -> Result<Option<Loaded>, LoadError> {
    // Only a regular file is opened twice: a pipe's bytes would be gone for the second reading.
    let regular = !source::is_stdin(path)
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= FIGURES_FIRST_FROM);
    if !regular {
        return Ok(None);
    }
    let input = source::open(path)?;
    let Some(size) = input.size else {
        return Ok(None);
    };
    if input.head.is_empty() {
        return Ok(None);
    }
    let mut warnings = Vec::new();
    let figures = match guess_format(&input.head) {
        Some(Format::Folded) => folded::read_figures(path, size, &input.head, &mut warnings)
            .ok()
            .flatten()
            .map(|set| (Format::Folded, set)),
        // A speedscope file whose samples weigh alike is counted without a tree, on two cores.
        Some(Format::Speedscope) => {
            let Some(mapped) = source::Mapped::open(path, Format::Speedscope.description()) else {
                return Ok(None);
            };
            drop(input);
            mapped
                .read_letting_go(|bytes, release, release_range| {
                    speedscope::read_figures(bytes, release, release_range, &mut warnings)
                })
                .map(|set| (Format::Speedscope, set))
        }
        // A drawing's figures are counted without its tree where the sums come out the same;
        // else its tree is built, and the file is loaded whole already (its errors said as the
        // whole reading says them: the same reading).
        Some(Format::Svg) => {
            let Some(mapped) = source::Mapped::open(path, Format::Svg.description()) else {
                return Ok(None);
            };
            drop(input);
            let set = mapped.read_letting_go(|bytes, release, release_range| {
                svg::parse_mapped(bytes, release, release_range, true, &mut warnings)
            });
            return finish(path, Format::Svg, set.map(|s| (s, None)), warnings).map(Some);
        }
        _ => None,
    };
    Ok(figures.and_then(|(format, set)| finish(path, format, Ok((set, None)), warnings).ok()))
}

/// [`load_path_lazily`] for `obol summary`, which reads each profile's function figures and
/// total and nothing else: a format that counts those figures while reading (speedscope's
/// sampled profiles) keeps no call tree or timeline for them (`Profile::figures_only`). Not
/// for commands that filter, merge or walk trees.
pub fn load_path_for_summary(path: &Path) -> Result<Loaded, LoadError> {
    load_reading(path, true, None)
}

fn load_reading(
    path: &Path,
    figures_only: bool,
    tell: Option<source::Tell>,
) -> Result<Loaded, LoadError> {
    let mut input = source::open(path)?;
    // A mapped file tells how far it is read as its reading lets go of what it left behind.
    let tell_mapped = tell.clone();
    if let Some(tell) = tell {
        input = input.telling(tell);
    }
    let format = detect_or_fail(path, &input.head)?;
    let mut warnings = Vec::new();
    let parsed = if format == Format::Folded {
        // For `summary`, a file on disk is counted on every core without a call tree, where
        // the figures come out the same (`folded::read_figures`).
        let figures = match input.size {
            Some(size) if figures_only => {
                folded::read_figures(path, size, &input.head, &mut warnings)
            }
            _ => Ok(None),
        };
        match figures {
            Ok(Some(set)) => Ok((set, None)),
            Err(error) => Err(error),
            // Folded files are streamed so a large one never sits in memory whole.
            Ok(None) => {
                folded::parse_reader(input.into_reader(), &mut warnings).map(|p| (p.set, p.base))
            }
        }
    } else if format == Format::Svg && input.size.is_some_and(|size| size >= svg::STREAM_MIN) {
        // Large drawings are mapped and scanned in two halves, one on each core, their pages
        // let go behind the scans; read in pieces, never whole, where a mapping fails.
        match source::Mapped::open(path, format.description()) {
            Some(mapped) => {
                drop(input);
                mapped.read_letting_go(|bytes, release, release_range| {
                    svg::parse_mapped(bytes, release, release_range, figures_only, &mut warnings)
                })
            }
            None => svg::parse_reader(input.into_reader(), figures_only, &mut warnings),
        }
        .map(|s| (s, None))
    } else if format == Format::PerfScript {
        // So are perf script files, as long as their recordings.
        let reader = std::io::BufReader::with_capacity(1 << 16, input.into_reader());
        perf_script::parse_reader(reader, &mut warnings).map(|s| (s, None))
    } else if let Some(mapped) = (matches!(
        format,
        Format::Speedscope | Format::TraceEvent | Format::Pprof
    ) && input.size.is_some())
    .then(|| source::Mapped::open(path, format.description()))
    .flatten()
    {
        // speedscope, trace and (uncompressed) pprof files on disk are mapped rather than
        // read (see `source::Mapped`).
        if input.size.is_some_and(|size| size >= LARGE_READ_FROM)
            && let Some(hook) = BEFORE_LARGE_READ.get()
        {
            hook();
        }
        drop(input);
        let bytes = mapped.bytes();
        let release = |at: usize| {
            mapped.release_before(at);
            if let Some(tell) = &tell_mapped {
                tell((at.min(bytes.len()) * 100 / bytes.len().max(1)) as u8);
            }
        };
        match format {
            Format::Speedscope => {
                let release_range = |from, to| mapped.release_range(from, to);
                speedscope::parse_mapped(
                    bytes,
                    &release,
                    &release_range,
                    figures_only,
                    &mut warnings,
                )
            }
            // pprof's samples are read where they lie until the profiles are made: nothing is
            // released before.
            Format::Pprof if figures_only => pprof::parse_for_summary(bytes, &mut warnings),
            Format::Pprof => pprof::parse(bytes, &mut warnings),
            _ => {
                let release_range = |from, to| mapped.release_range(from, to);
                trace_event::parse_mapped(
                    bytes,
                    &release,
                    &release_range,
                    !figures_only,
                    &mut warnings,
                )
            }
        }
        .map(|s| (s, None))
    } else {
        if input.size.is_none_or(|size| size >= LARGE_READ_FROM)
            && let Some(hook) = BEFORE_LARGE_READ.get()
        {
            hook();
        }
        let bytes = input.read_all(path)?;
        // Handed over so that the bytes are freed once read, before the trees are finished.
        match format {
            Format::Speedscope => speedscope::parse_owned(bytes, &mut warnings).map(|s| (s, None)),
            Format::Pprof if figures_only => {
                pprof::parse_for_summary(&bytes, &mut warnings).map(|s| (s, None))
            }
            Format::Svg if figures_only => {
                svg::parse_for_summary(&bytes, &mut warnings).map(|s| (s, None))
            }
            _ => parse_as(format, &bytes, &mut warnings),
        }
    };
    finish(path, format, parsed, warnings)
}

/// Files from this size on (and those of unknown size) call [`BEFORE_LARGE_READ`] before they
/// are read whole.
const LARGE_READ_FROM: u64 = 1 << 20;

/// What the program wants done before a large file is read whole into memory, and the call
/// tree built from it: memory policy belongs to the binary, not to the library (`main.rs` sets
/// the allocator's). Folded files are streamed and never call it.
static BEFORE_LARGE_READ: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets [`BEFORE_LARGE_READ`], once for the process; a second call is ignored.
pub fn before_large_read(hook: fn()) {
    let _ = BEFORE_LARGE_READ.set(hook);
}

/// Parses a profile already in memory; `path` only names it in errors.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Loaded, LoadError> {
    let head = &bytes[..bytes.len().min(HEAD_LEN)];
    let format = detect_or_fail(path, head)?;
    let mut warnings = Vec::new();
    let parsed = parse_as(format, bytes, &mut warnings);
    let mut loaded = finish(path, format, parsed, warnings)?;
    loaded.build_trees();
    Ok(loaded)
}

fn detect_or_fail(path: &Path, head: &[u8]) -> Result<Format, LoadError> {
    if head.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_owned(),
        });
    }
    guess_format(head).ok_or_else(|| LoadError::Unrecognized {
        path: path.to_owned(),
        why: why_unrecognized(head),
    })
}

/// Why no importer took the file: the first line that is not a stack when it is text, else its
/// first bytes. Escaped, so that binary junk cannot reach the terminal raw, and cut short.
fn why_unrecognized(head: &[u8]) -> String {
    let text = std::str::from_utf8(&head[..head.len().min(4096)]).is_ok_and(|t| !t.contains('\0'));
    match folded::first_not_stack(head) {
        Some((line, bytes)) if text => {
            let shown: String = String::from_utf8_lossy(&bytes).chars().take(48).collect();
            format!(
                "line {line} is not a stack with a count: \"{}\"",
                crate::text::escape_control(&shown)
            )
        }
        _ => format!("it starts {}", describe_head(head)),
    }
}

/// The profiles read, and a differential file's base profiles.
type Parsed = (ProfileSet, Option<ProfileSet>);

fn parse_as(
    format: Format,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Parsed, super::ParseError> {
    match format {
        Format::Pstats => pstats::parse(bytes, warnings).map(|s| (s, None)),
        Format::Speedscope => speedscope::parse(bytes, warnings).map(|s| (s, None)),
        Format::Svg => svg::parse(bytes, warnings).map(|s| (s, None)),
        Format::Folded => folded::parse_reader(bytes, warnings).map(|p| (p.set, p.base)),
        Format::TraceEvent => trace_event::parse(bytes, warnings).map(|s| (s, None)),
        Format::Pprof => pprof::parse(bytes, warnings).map(|s| (s, None)),
        Format::Austin => austin::parse(bytes, warnings).map(|s| (s, None)),
        Format::Firefox => firefox::parse(bytes, warnings).map(|s| (s, None)),
        Format::CpuProfile => cpuprofile::parse(bytes, warnings).map(|s| (s, None)),
        Format::PerfScript => perf_script::parse(bytes, warnings).map(|s| (s, None)),
        Format::Callgrind => callgrind::parse(bytes, warnings).map(|s| (s, None)),
        Format::PyInstrument => pyinstrument::parse(bytes, warnings).map(|s| (s, None)),
        Format::CpythonCollapsed => cpython_collapsed::parse(bytes, warnings).map(|s| (s, None)),
    }
}

fn finish(
    path: &Path,
    format: Format,
    parsed: Result<Parsed, super::ParseError>,
    warnings: Vec<String>,
) -> Result<Loaded, LoadError> {
    let parsed = parsed.and_then(|(set, base)| {
        check_sums(&set)?;
        base.as_ref().map_or(Ok(()), check_sums)?;
        Ok((set, base))
    });
    match parsed {
        Ok((mut set, base)) => {
            name_unnamed_profiles(path, &mut set, "");
            let base = base.map(|mut set| {
                name_unnamed_profiles(path, &mut set, " (first counts)");
                Box::new(Loaded {
                    path: path.to_owned(),
                    format,
                    set,
                    warnings: Vec::new(),
                    base: None,
                })
            });
            Ok(Loaded {
                path: path.to_owned(),
                format,
                set,
                warnings,
                base,
            })
        }
        Err(source) => Err(LoadError::Parse {
            path: path.to_owned(),
            format,
            source,
        }),
    }
}

/// Weights that add up past the largest double are an error, never an infinite total that
/// would print as `null` or a share as `NaN%`.
fn check_sums(set: &ProfileSet) -> Result<(), super::ParseError> {
    let infinite = |w: f64| !w.is_finite();
    for profile in &set.profiles {
        let stats = profile.function_stats.iter().flatten();
        if infinite(profile.total)
            || stats
                .into_iter()
                .any(|s| infinite(s.self_weight) || infinite(s.total_weight))
        {
            return Err(super::ParseError::at_byte(
                0,
                "the weights add up past the largest number a double holds (overflow)",
            ));
        }
    }
    Ok(())
}

/// The first bytes of an unrecognized file, escaped so that binary junk cannot reach the
/// terminal raw.
fn describe_head(head: &[u8]) -> String {
    let shown: String = head[..head.len().min(16)]
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("\"{shown}\"")
}

/// Formats without profile names (folded, SVG, pstats) are named after their file, as speedscope
/// names them.
fn name_unnamed_profiles(path: &Path, set: &mut ProfileSet, suffix: &str) {
    let file_name = if source::is_stdin(path) {
        "stdin".to_owned()
    } else {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    for profile in &mut set.profiles {
        if profile.name.is_empty() {
            profile.name = format!("{file_name}{suffix}");
        }
    }
}
