//! speedscope JSON (<https://www.speedscope.app/file-format-schema.json>), as py-spy's
//! `--format speedscope` writes it: frames shared by one or more sampled or evented profiles.
//!
//! Behaviour follows speedscope's own importer (`src/lib/file-format.ts`): a weights list must
//! match its samples, weightless samples are dropped, events must be in time order with every
//! frame closed innermost first, and time with no frame open belongs to no frame.

mod build;
mod counting;
mod de;
mod events;
mod quick;
mod stacks;
#[cfg(test)]
mod tests;
mod weights;

use std::sync::mpsc;

use memchr::memmem;
use serde::de::DeserializeSeed;

use super::{Location, ParseError, Sniff};
use crate::profile::ProfileSet;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `Yes` for a JSON object that names speedscope's schema or has both of its top-level lists;
/// `Maybe` for any other JSON object, which only parsing can judge.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(BOM).unwrap_or(head).trim_ascii_start();
    let Some(rest) = text.strip_prefix(b"{") else {
        return Sniff::No;
    };
    // A marshalled pstats dict also starts with `{`, followed by binary rather than a key.
    if !matches!(rest.trim_ascii_start().first(), None | Some(b'"' | b'}')) {
        return Sniff::No;
    }
    match std::str::from_utf8(text) {
        Ok(_) => {}
        // A head cut off inside a character is still text.
        Err(e) if e.error_len().is_none() => {}
        Err(_) => return Sniff::No,
    }
    if names_speedscope_schema(text) || (has_key(text, b"shared") && has_key(text, b"profiles")) {
        Sniff::Yes
    } else {
        Sniff::Maybe
    }
}

/// Whether `"key"` occurs followed by a colon, i.e. as an object key.
fn has_key(text: &[u8], key: &[u8]) -> bool {
    let quoted = [b"\"", key, b"\""].concat();
    memmem::find_iter(text, &quoted).any(|at| {
        text.get(at + quoted.len()..)
            .is_some_and(|after| after.trim_ascii_start().starts_with(b":"))
    })
}

fn names_speedscope_schema(text: &[u8]) -> bool {
    const KEY: &[u8] = b"\"$schema\"";
    memmem::find_iter(text, KEY).any(|at| {
        let Some(after) = text.get(at + KEY.len()..) else {
            return false;
        };
        let Some(value) = after.trim_ascii_start().strip_prefix(b":") else {
            return false;
        };
        let Some(value) = value.trim_ascii_start().strip_prefix(b"\"") else {
            return false;
        };
        let end = memchr::memchr(b'"', value).unwrap_or(value.len());
        value
            .get(..end)
            .is_some_and(|v| memmem::find(v, b"speedscope").is_some())
    })
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    read_all(bytes, warnings, Reading::default())?.build(false, warnings)
}

/// [`parse`] for a file handed over whole: it is freed as soon as it has been read, before the
/// trees are finished, which lowers the peak of memory by the file's size.
pub fn parse_owned(bytes: Vec<u8>, warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let read = read_all(&bytes, warnings, Reading::default())?;
    drop(bytes);
    read.build(false, warnings)
}

/// [`parse`] for a file mapped into memory: `release(n)` is told as the reading leaves the
/// first n bytes behind, to let their pages go (they are read again should they be needed).
/// With `figures_only`, sampled profiles keep only their function figures and totals, not
/// their call trees and timelines (see [`crate::import::load_path_for_summary`]).
pub fn parse_mapped(
    bytes: &[u8],
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    // Pages let go by a counting that gave up are not let go again by the reading after it.
    let released = std::cell::Cell::new(0);
    let release = |at: usize| {
        if at > released.get() {
            released.set(at);
            release(at);
        }
    };
    if figures_only && let Some(set) = read_figures(bytes, &release, release_range, warnings) {
        return Ok(set);
    }
    let reading = Reading {
        quickly: true,
        rows: !figures_only,
        release: Some(&release),
    };
    read_all(bytes, warnings, reading)?.build(figures_only, warnings)
}

/// The figures of a mapped file whose sampled profiles each weigh their samples alike,
/// counted from the stacks without a call tree (`counting.rs`), frames numbered as a whole
/// reading numbers them; `None` for any other file, or any fault, which a whole reading then
/// reads or names. Its warnings are those the whole reading gives.
pub fn read_figures(
    bytes: &[u8],
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
    warnings: &mut Vec<String>,
) -> Option<ProfileSet> {
    let mut noted = Vec::new();
    let set = counting::read(bytes, release, release_range, &mut noted)?;
    warnings.append(&mut noted);
    Some(set)
}

/// [`parse`], with or without trying the quick reading first.
#[cfg(test)]
fn parse_with(
    bytes: &[u8],
    warnings: &mut Vec<String>,
    quickly: bool,
) -> Result<ProfileSet, ParseError> {
    let reading = Reading {
        quickly,
        ..Reading::default()
    };
    read_all(bytes, warnings, reading)?.build(false, warnings)
}

/// How a file is read.
#[derive(Clone, Copy)]
struct Reading<'r> {
    /// The quick reading is tried first.
    quickly: bool,
    /// The trees of sampled profiles get their child rows.
    rows: bool,
    /// Told how much of the file the quick reading has left behind.
    release: Option<&'r dyn Fn(usize)>,
}

impl Default for Reading<'_> {
    fn default() -> Self {
        Reading {
            quickly: true,
            rows: true,
            release: None,
        }
    }
}

/// Everything read from a file, none of it borrowed from the file.
struct ReadFile {
    profiles: Vec<de::RawProfile>,
    merged: Vec<stacks::SampledTree>,
    interned: build::Interned,
}

impl ReadFile {
    fn build(
        self,
        figures_only: bool,
        warnings: &mut Vec<String>,
    ) -> Result<ProfileSet, ParseError> {
        build::build(
            self.profiles,
            self.merged,
            self.interned,
            figures_only,
            warnings,
        )
        .map_err(|message| ParseError::at_byte(0, message))
    }
}

fn read_all(
    bytes: &[u8],
    warnings: &mut Vec<String>,
    reading: Reading,
) -> Result<ReadFile, ParseError> {
    let json = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let has_bom = json.len() != bytes.len();
    let skipped = bytes.len() - json.len();
    let release = |at: usize| {
        if let Some(release) = reading.release {
            release(at + skipped);
        }
    };
    // The quick reading takes the common case; anything else is read again the exact way.
    let quick = reading.quickly.then(|| {
        read_merging(reading.rows, |context| {
            quick::read(json, context, &release).ok_or(())
        })
    });
    let (first, merged) = match quick {
        Some((Some(Ok(read)), Ok(merged))) => (Some(Ok(read)), Ok(merged)),
        _ => read_merging(reading.rows, |context| read(json, context)),
    };
    if let Some(Err(e)) = &first {
        return Err(json_error(e, has_bom));
    }
    let merged = merged.map_err(|message| ParseError::at_byte(0, message))?;
    let Some(Ok((raw, notes, max_frame, interned))) = first else {
        return Err(ParseError::at_byte(0, "internal error: nothing was read"));
    };
    let frame_count = raw.frames.len();
    if let Some(max) = max_frame
        && max as usize >= frame_count
    {
        // `profiles` came before `shared`, so the index could not be judged where it stood.
        // Reading again with the frame count known stops at it, with its line and column.
        let mut again = de::Context {
            frame_count: Some(frame_count),
            notes: de::Notes::default(),
            max_frame: None,
            sink: None,
            interned: None,
            counter: None,
        };
        return Err(match read(json, &mut again) {
            Err(e) => json_error(&e, has_bom),
            Ok(_) => ParseError::at_byte(
                0,
                format!("a profile names frame {max}, but `shared.frames` has {frame_count}"),
            ),
        });
    }
    warn_of_units(&notes, warnings);
    let interned = interned.unwrap_or_else(|| build::intern_frames(&raw.frames));
    Ok(ReadFile {
        profiles: raw.profiles,
        merged,
        interned,
    })
}

/// One warning for the profiles whose unit speedscope does not define.
fn warn_of_units(notes: &de::Notes, warnings: &mut Vec<String>) {
    if let Some((index, unit)) = &notes.odd_unit {
        let others = notes.odd_unit_count.saturating_sub(1);
        warnings.push(format!(
            "profile {index} has {}, which speedscope does not define; its weights are plain numbers{}",
            unit.as_ref()
                .map_or_else(|| "no unit".to_owned(), |u| format!("unit {u:?}")),
            if others > 0 {
                format!(" (and {others} more profiles like it)")
            } else {
                String::new()
            }
        ));
    }
}

/// What a reading gives: the file, notes for warnings, the largest frame index named, and the
/// frames interned (when the reading did so).
type Read<'a> = (
    de::RawFile<'a>,
    de::Notes,
    Option<u32>,
    Option<build::Interned>,
);

/// Runs `reading` with a merging thread beside it, which merges the sampled stacks it sends.
/// `None` if the thread could not be started.
#[allow(clippy::type_complexity)]
fn read_merging<'a, E>(
    rows: bool,
    reading: impl FnOnce(&mut de::Context) -> Result<de::RawFile<'a>, E>,
) -> (
    Option<Result<Read<'a>, E>>,
    Result<Vec<stacks::SampledTree>, String>,
) {
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel(4);
        let merging = std::thread::Builder::new()
            .name("speedscope merge".to_owned())
            .spawn_scoped(scope, move || stacks::merge(receiver, rows));
        let merging = match merging {
            Ok(handle) => handle,
            Err(e) => return (None, Err(format!("cannot start a thread: {e}"))),
        };
        let mut context = de::Context {
            frame_count: None,
            notes: de::Notes::default(),
            max_frame: None,
            sink: Some(stacks::Sink::new(sender)),
            interned: None,
            counter: None,
        };
        let raw = reading(&mut context);
        let de::Context {
            notes,
            max_frame,
            sink,
            interned,
            ..
        } = context;
        // Dropping the sink drops the sender, which lets the merging thread finish.
        drop(sink);
        let first = raw.map(|raw| (raw, notes, max_frame, interned));
        let merged = merging
            .join()
            .map_err(|_| "internal error: merging stacks failed".to_owned());
        (Some(first), merged)
    })
}

/// The exact reading: one pass of serde_json over the file.
fn read<'a>(
    json: &'a [u8],
    context: &mut de::Context,
) -> Result<de::RawFile<'a>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let raw = de::FileSeed { context }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(raw)
}

/// serde_json's error as a [`ParseError`]: its message without the position it appends, and
/// the position as a location.
pub(crate) fn json_error(error: &serde_json::Error, has_bom: bool) -> ParseError {
    let (line, column) = (error.line() as u64, error.column() as u64);
    let text = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    if line == 0 {
        return ParseError::at_byte(0, message);
    }
    // serde_json never saw the byte-order mark, which sits on line 1.
    let column = if has_bom && line == 1 {
        column + BOM.len() as u64
    } else {
        column
    };
    ParseError {
        location: Location::LineColumn(line, column),
        message,
    }
}
