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
use crate::profile::{
    CallTree, FrameId, FrameTable, FuncId, FunctionStats, Profile, ProfileSet, Unit,
};
use read::{Functions, Key, Names, function_key};

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

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
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
    loop {
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
    report(warnings, &reader, duplicates, count_only_callers);
    drop(reader);
    let names = functions.into_names();
    let total = stats.iter().map(|s| s.self_weight).sum();
    let (frames, tree) = table_and_tree(&names, &stats, warnings);
    let profile = Profile {
        total,
        function_stats: Some(stats),
        ..Profile::from_tree("", Unit::Seconds, tree)
    };
    Ok(ProfileSet {
        frames,
        profiles: vec![profile],
    })
}

/// Past this many functions, the frame table is built on a second thread while this one
/// estimates the call tree.
const TABLE_BESIDE_TREE: usize = 2048;

/// The frame table of `names` (each function a frame, of the same number) and the estimated
/// call tree, which needs only the numbers: both at once, for large files.
fn table_and_tree(
    names: &Names<'_>,
    stats: &[FunctionStats],
    warnings: &mut Vec<String>,
) -> (FrameTable, CallTree) {
    let count = names.len();
    let frame_of_func: Vec<FrameId> = (0..count as u32).map(FrameId).collect();
    let tree = |warnings: &mut Vec<String>| {
        let name_of = |func: FuncId| &*names.get(func).name;
        tree::estimate_for(
            count,
            &frame_of_func,
            name_of,
            stats,
            tree::MAX_NODES,
            warnings,
        )
    };
    if count < TABLE_BESIDE_TREE {
        return (names.table(), tree(warnings));
    }
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("obol-frames".into())
            .spawn_scoped(scope, || names.table());
        let tree = tree(warnings);
        let table = match helper {
            Ok(helper) => helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: build it here.
            Err(_) => names.table(),
        };
        (table, tree)
    })
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
