//! cProfile output (`.prof`, `.pstats`): the `marshal` dump of a dict that `pstats.Stats`
//! loads, written by `cProfile -o`, `Profile.dump_stats` and `Stats.dump_stats`, and in the
//! same shape by the `profile` module, pyinstrument and CPython's sampling profiler.
//!
//! Each key is a function `(file, definition line, name)`; each value is
//! `(primitive calls, calls, self time, cumulative time, callers)` where `callers` maps a
//! calling function to `(calls, primitive calls, self, cumulative)` spent under that caller
//! (calls first there, the other way round from the function's own tuple). Variants:
//! the pure-Python `profile` module writes a bare call count per caller, and names its
//! top-level entry by a code object; pyinstrument writes -1 for the counts it does not have
//! (kept as unknown); CPython's sampling profiler adds a `("__sampled__",)` marker (skipped).
//!
//! The function table is exact: [`FunctionStats`] carry the file's numbers as Python reads
//! them, and the profile's total is pstats' `total_tt`. The call tree that the flame views need
//! is not in the file; it is an estimate rebuilt from the caller edges (see `tree`).

mod read;
mod tree;

#[cfg(test)]
mod python_oracle;
#[cfg(test)]
mod tests;

use super::marshal::{Item, Reader, Value};
use super::{ParseError, Sniff};
use std::sync::mpsc;

use crate::profile::{
    FrameId, FrameTable, FuncId, FunctionKey, FunctionStats, Profile, ProfileSet, Unit,
};
use read::{FunctionName, Functions, Key, Names, function_key};

/// A marshal dict whose first key is a `(str, int, str)` tuple, or an empty dict and nothing
/// else. The check reads real marshal data, so JSON or text that merely starts with `{` fails.
pub fn sniff(head: &[u8]) -> Sniff {
    // A marshal dict (with or without FLAG_REF) opening onto a tuple is pstats' shape even when
    // the key itself is broken: claim it, so that parsing reports where it broke.
    const FLAG_REF: u8 = 0x80;
    if let [dict, tuple, ..] = head
        && dict & !FLAG_REF == b'{'
        && matches!(tuple & !FLAG_REF, b'(' | b')')
    {
        return Sniff::Yes;
    }
    let mut reader = Reader::new(head);
    if reader.begin_dict().is_err() {
        return Sniff::No;
    }
    match reader.read_item() {
        Ok(None) if reader.remaining() == 0 => Sniff::Yes,
        Ok(Some(Item::New(key, _))) if function_key(&key).is_some() || is_sampled_marker(&key) => {
            Sniff::Yes
        }
        _ => Sniff::No,
    }
}

/// The function table; the call tree is estimated when first asked for.
pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    Ok(read(bytes, warnings)?.into_set())
}

/// A stats file as read: everything but the call tree, and nothing borrowed from the file.
struct Read {
    stats: Vec<FunctionStats>,
    frames: FrameTable,
}

impl Read {
    /// The profile, its call tree left to be estimated ([`estimate_trees`]): the table is what
    /// `summary` reads, and the estimate costs about as much as the reading.
    fn into_set(self) -> ProfileSet {
        let Read { stats, frames } = self;
        let total = stats.iter().map(|s| s.self_weight).sum();
        ProfileSet {
            frames,
            profiles: vec![Profile::without_tree("", Unit::Seconds, total, stats)],
        }
    }
}

/// Estimates the call tree of every profile that has exact function figures and no tree yet,
/// from its caller edges; returns what the estimate had to tell the user (a tree cut short, a
/// start chosen).
pub fn estimate_trees(set: &mut ProfileSet) -> Vec<String> {
    let mut warnings = Vec::new();
    let frames = &set.frames;
    for profile in &mut set.profiles {
        // A profile read for its figures only (`Profile::figures_only`) has no tree to estimate.
        if profile.has_tree() || !profile.estimated_tree {
            continue;
        }
        let Some(stats) = &profile.function_stats else {
            continue;
        };
        let count = frames.function_count();
        // Each function is a frame of its own, of the same number.
        let frame_of_func: Vec<FrameId> = (0..count as u32).map(FrameId).collect();
        // The estimate names one function, the heaviest, when it has to start the tree there.
        let fallback_name = tree::fallback_root(stats)
            .map(|at| frames.function(stats[at].func).name)
            .unwrap_or_default();
        let estimated = tree::estimate_for(
            count,
            &frame_of_func,
            |_| fallback_name,
            stats,
            tree::MAX_NODES,
            &mut warnings,
        );
        profile.set_tree(estimated);
    }
    warnings
}

/// Files from this size on have their frame table built on a second thread as the functions
/// are met, while this one reads on.
const TABLE_BESIDE_READING: usize = 1 << 20;

/// New functions are handed to that thread this many at a time.
const NAMES_BATCH: usize = 1024;

fn read(bytes: &[u8], warnings: &mut Vec<String>) -> Result<Read, ParseError> {
    if bytes.len() < TABLE_BESIDE_READING {
        return read_here(bytes, warnings);
    }
    std::thread::scope(|scope| {
        let (send, batches) = mpsc::channel::<Vec<FunctionName<'_>>>();
        let spawned = std::thread::Builder::new()
            .name("obol-frames".into())
            .spawn_scoped(scope, move || {
                let mut table = FrameTable::new(FunctionKey::NameFileLine);
                for batch in batches {
                    table.reserve(batch.len());
                    add_names(&mut table, &batch);
                }
                table
            });
        let Ok(helper) = spawned else {
            // No thread to be had: build the table here.
            return read_here(bytes, warnings);
        };
        let stats = read_stats(bytes, warnings, &mut |batch| {
            // The helper only stops once this side hangs up.
            let _ = send.send(batch);
        });
        drop(send);
        let frames = helper
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok(Read {
            stats: stats?.0,
            frames,
        })
    })
}

/// [`read`] on this thread alone.
fn read_here(bytes: &[u8], warnings: &mut Vec<String>) -> Result<Read, ParseError> {
    let (stats, names) = read_stats(bytes, warnings, &mut |_| {})?;
    let mut frames = FrameTable::new(FunctionKey::NameFileLine);
    frames.reserve(names.len());
    add_names(&mut frames, names.all());
    Ok(Read { stats, frames })
}

/// Adds functions to a frame table in their number order: each a frame of the same number.
fn add_names(table: &mut FrameTable, names: &[FunctionName<'_>]) {
    for f in names {
        let frame = table.intern(&f.name, f.file.as_deref(), f.line);
        debug_assert_eq!(
            frame.0 as usize + 1,
            table.frame_count(),
            "a name met twice"
        );
    }
}

/// The stats dict, and the functions it names, which are also handed to `new_names` as they
/// are met, [`NAMES_BATCH`] at a time and in number order.
fn read_stats<'a>(
    bytes: &'a [u8],
    warnings: &mut Vec<String>,
    new_names: &mut dyn FnMut(Vec<FunctionName<'a>>),
) -> Result<(Vec<FunctionStats>, Names<'a>), ParseError> {
    let mut reader = Reader::new(bytes);
    reader
        .begin_dict()
        .map_err(|e| ParseError::at_byte(0, format!("not a stats dict: {}", e.message)))?;
    // Room for what a file of this size holds, so that the tables are not copied as they grow:
    // a stats file spends at least 32 bytes on a reference slot, and a few hundred on a
    // function.
    reader.reserve_refs(bytes.len() / 32);
    let mut functions = Functions::default();
    let mut stats: Vec<FunctionStats> = Vec::with_capacity(bytes.len() / 256);
    // Per function, its place in `stats`.
    let mut index_of: Vec<u32> = Vec::new();
    let mut duplicates = 0usize;
    let mut count_only_callers = 0usize;
    let mut handed = 0;
    loop {
        if functions.names.len() >= handed + NAMES_BATCH {
            new_names(functions.names.since(handed));
            handed = functions.names.len();
        }
        let key_at = reader.offset();
        let Some(key) = functions.read_key(&mut reader)? else {
            break;
        };
        let func: FuncId = match key {
            Key::Item(Item::New(value, _)) if is_sampled_marker(&value) => {
                reader.read_value()?;
                continue;
            }
            key => functions.resolve(&mut reader, key).map_err(|found| {
                ParseError::at_byte(
                    key_at as u64,
                    format!("stats key should be a (file, line, function) tuple, found {found}"),
                )
            })?,
        };
        let entry = functions.read_entry(&mut reader, func).map_err(|e| {
            let f = functions.names.get(func);
            let file = f.file.as_deref().unwrap_or("built-in");
            ParseError {
                message: format!("stats of {} ({file}): {}", f.name, e.message),
                ..e
            }
        })?;
        count_only_callers += entry.count_only_callers;
        // A repeated key replaces the earlier one, as it does in the dict Python loads.
        let at = func.0 as usize;
        if at >= index_of.len() {
            index_of.resize(at + 1, u32::MAX);
        }
        match index_of[at] {
            u32::MAX => {
                index_of[at] = stats.len() as u32;
                stats.push(entry.stats);
            }
            i => {
                duplicates += 1;
                stats[i as usize] = entry.stats;
            }
        }
    }
    if stats.is_empty() {
        return Err(ParseError::at_byte(
            0,
            "the stats dict is empty: no function was profiled",
        ));
    }
    if functions.names.len() > handed {
        new_names(functions.names.since(handed));
    }
    report(warnings, &reader, duplicates, count_only_callers);
    Ok((stats, functions.into_names()))
}

/// CPython's sampling profiler (3.15) marks its pstats output with a `("__sampled__",): True`
/// entry, which names no function.
fn is_sampled_marker(key: &Value) -> bool {
    matches!(key, Value::Tuple(parts) if matches!(&parts[..], [Value::Str(s)] if &**s == "__sampled__"))
}

fn report(
    warnings: &mut Vec<String>,
    reader: &Reader<'_>,
    duplicates: usize,
    count_only_callers: usize,
) {
    if reader.remaining() > 0 {
        warnings.push(format!(
            "ignored {} bytes after the stats dict (it ends at byte {})",
            reader.remaining(),
            reader.offset()
        ));
    }
    if reader.lossy_strings() > 0 {
        warnings.push(format!(
            "{} names were not valid UTF-8 and show replacement characters",
            reader.lossy_strings()
        ));
    }
    if duplicates > 0 {
        warnings.push(format!(
            "{duplicates} functions appear twice in the stats dict; the later figures were kept"
        ));
    }
    if count_only_callers > 0 {
        warnings.push(format!(
            "{count_only_callers} caller entries hold only a call count (the `profile` module's \
             format): time under each caller is estimated from its share of the calls"
        ));
    }
}

#[cfg(test)]
mod threaded_tests {
    use super::*;

    /// A marshal (version 4) stats dict of `n` functions with a few callers each, its keys
    /// written once and referred back to, as cProfile's are.
    fn stats_file(n: u32) -> Vec<u8> {
        let mut out = vec![b'{'];
        let mut slot_of_key = vec![None; n as usize];
        let mut slots = 0u32;
        let mut key = |out: &mut Vec<u8>, i: u32| match slot_of_key[i as usize] {
            Some(slot) => {
                out.push(b'r');
                out.extend(u32::to_le_bytes(slot));
            }
            None => {
                slot_of_key[i as usize] = Some(slots);
                slots += 1;
                let file = format!("pkg{}/mod.py", i % 7);
                let name = format!("f{i}");
                out.extend([b')' | 0x80, 3, b'z', file.len() as u8]);
                out.extend(file.bytes());
                out.push(b'i');
                out.extend(i.to_le_bytes());
                out.extend([b'z', name.len() as u8]);
                out.extend(name.bytes());
            }
        };
        for i in 0..n {
            key(&mut out, i);
            out.extend([b')', 5, b'i', 1, 0, 0, 0, b'i', 1, 0, 0, 0]);
            for t in [0.5 + f64::from(i), 2.0 + f64::from(i)] {
                out.push(b'g');
                out.extend(t.to_le_bytes());
            }
            out.push(b'{');
            for c in [(i * 7 + 1) % n, (i * 13 + 5) % n, (i + 1) % n] {
                key(&mut out, c);
                out.extend([b')', 4, b'i', 1, 0, 0, 0, b'i', 1, 0, 0, 0]);
                for t in [0.25, 0.5] {
                    out.push(b'g');
                    out.extend(f64::to_le_bytes(t));
                }
            }
            out.push(b'0');
        }
        out.push(b'0');
        out
    }

    #[test]
    fn the_table_built_beside_the_reading_is_the_one_built_after_it() {
        let bytes = stats_file(40_000);
        assert!(bytes.len() >= TABLE_BESIDE_READING, "{}", bytes.len());
        let (mut warned_beside, mut warned_here) = (Vec::new(), Vec::new());
        let beside = read(&bytes, &mut warned_beside).unwrap();
        let here = read_here(&bytes, &mut warned_here).unwrap();
        assert!(warned_beside.is_empty() && warned_here.is_empty());
        assert!(beside.frames.frames().eq(here.frames.frames()));
        assert!(beside.frames.functions().eq(here.frames.functions()));
        assert_eq!(beside.stats, here.stats);
        assert_eq!(here.frames.function_count(), 40_000);
        // Cut short, it fails the same way.
        let cut = &bytes[..bytes.len() * 2 / 3];
        let (e1, e2) = (
            read(cut, &mut Vec::new()).err().unwrap(),
            read_here(cut, &mut Vec::new()).err().unwrap(),
        );
        assert_eq!((e1.message, e1.location), (e2.message, e2.location));
    }
}
