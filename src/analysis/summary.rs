//! The per-function table: self, total and calls for every function of a file.

use crate::profile::{FrameTable, FuncId, FunctionStats, Profile, ProfileSet};
// The walks live with the tree (importers sum figures with them too); the table is built on them.
pub use crate::profile::tree::{tree_function_weights, tree_group_weights};

/// One function's figures, summed over the profiles asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    pub func: FuncId,
    pub self_weight: f64,
    /// Inclusive weight with every sample counted once, even when the function is on the stack
    /// more than once (recursion).
    pub total_weight: f64,
    pub calls: Option<u64>,
    /// Calls that were not recursive (pstats' `cc`), where the format counts calls.
    pub primitive_calls: Option<u64>,
}

/// Calls as pstats prints them: `nc/cc` when some were recursive, else `nc`.
pub fn calls_column(calls: Option<u64>, primitive: Option<u64>) -> String {
    match (calls, primitive) {
        (Some(nc), Some(cc)) if nc != cc => format!("{nc}/{cc}"),
        (Some(nc), _) => nc.to_string(),
        (None, _) => "-".to_owned(),
    }
}

/// How [`function_table`] orders its rows, heaviest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    SelfWeight,
    TotalWeight,
    Calls,
}

/// The function table over `profiles` (all of them when empty is not wanted: pass every
/// index). Exact figures from the file are used where the format has them (pstats); otherwise
/// they are summed from the tree. Functions with no weight and no calls are left out.
pub fn function_table(set: &ProfileSet, profiles: &[&Profile], sort: SortKey) -> Vec<FunctionRow> {
    let mut rows = unsorted_rows(set, profiles);
    sort_rows(&mut rows, set, sort);
    rows
}

/// The first `top` rows of [`function_table`], in its order, and how many rows it has in all:
/// only the rows shown are sorted, which on a table of many functions is most of the work.
pub fn function_table_top(
    set: &ProfileSet,
    profiles: &[&Profile],
    sort: SortKey,
    top: usize,
) -> (Vec<FunctionRow>, usize) {
    top_rows(unsorted_rows(set, profiles), set, sort, top)
}

/// The first `top` of `rows` in [`function_table`]'s order, and how many rows there are.
pub fn top_rows(
    mut rows: Vec<FunctionRow>,
    set: &ProfileSet,
    sort: SortKey,
    top: usize,
) -> (Vec<FunctionRow>, usize) {
    let count = rows.len();
    // Ties broken last by function id, the rows' order before a stable sort, give the order
    // `sort_rows` would: the rows are distinct under it, so the first `top` are too. Unstable
    // sorting needs no scratch copy of the rows (half of them, for a stable sort).
    let ties = |a: &FunctionRow, b: &FunctionRow| by_name(a, b, set).then(a.func.cmp(&b.func));
    // One comparison a sort key, made without a `match` or a call for every pair: the sort of
    // a 5,000-row table, after the file is read, took as long as adding up its pieces.
    match sort {
        SortKey::SelfWeight => select_and_sort(&mut rows, top, |a, b| {
            b.self_weight
                .total_cmp(&a.self_weight)
                .then(b.total_weight.total_cmp(&a.total_weight))
                .then_with(|| ties(a, b))
        }),
        SortKey::TotalWeight => select_and_sort(&mut rows, top, |a, b| {
            b.total_weight
                .total_cmp(&a.total_weight)
                .then(b.self_weight.total_cmp(&a.self_weight))
                .then_with(|| ties(a, b))
        }),
        SortKey::Calls => select_and_sort(&mut rows, top, |a, b| {
            compare_rows(a, b, set, sort).then(a.func.cmp(&b.func))
        }),
    }
    (rows, count)
}

/// The first `top` of `rows` by `order`, in that order.
fn select_and_sort(
    rows: &mut Vec<FunctionRow>,
    top: usize,
    order: impl Fn(&FunctionRow, &FunctionRow) -> std::cmp::Ordering + Copy,
) {
    if top < rows.len() {
        if top > 0 {
            rows.select_nth_unstable_by(top - 1, order);
        }
        rows.truncate(top);
    }
    rows.sort_unstable_by(order);
}

/// The rows of a profile's own figures, made in the place of those figures, which it gives up:
/// for a file of a million functions, one table of them at a time instead of two. `None`, the
/// figures left in place, unless they are one per function in id order (as the folded and
/// speedscope readers make them).
pub fn take_rows(profile: &mut Profile, function_count: usize) -> Option<Vec<FunctionRow>> {
    let stats = profile.function_stats.as_ref()?;
    let in_order = stats.len() == function_count
        && stats
            .iter()
            .enumerate()
            .all(|(i, s)| s.func.0 as usize == i);
    if !in_order {
        return None;
    }
    let stats = profile.function_stats.take()?;
    let mut rows: Vec<FunctionRow> = stats.into_iter().map(row_of).collect();
    rows.retain(has_weight);
    Some(rows)
}

fn row_of(stat: FunctionStats) -> FunctionRow {
    FunctionRow {
        func: stat.func,
        // Added to zero as `unsorted_rows` does, so that a -0.0 reads the same either way.
        self_weight: 0.0 + stat.self_weight,
        total_weight: 0.0 + stat.total_weight,
        calls: stat.calls,
        primitive_calls: stat.primitive_calls,
    }
}

fn has_weight(row: &FunctionRow) -> bool {
    row.self_weight != 0.0 || row.total_weight != 0.0 || row.calls.is_some()
}

fn unsorted_rows(set: &ProfileSet, profiles: &[&Profile]) -> Vec<FunctionRow> {
    // One row per function from the start, the empty ones dropped at the end: a file of a
    // million functions holds one table of them, not one per figure and then the rows.
    let mut rows: Vec<FunctionRow> = (0..set.frames.function_count())
        .map(|i| FunctionRow {
            func: FuncId(i as u32),
            self_weight: 0.0,
            total_weight: 0.0,
            calls: None,
            primitive_calls: None,
        })
        .collect();
    for pair in profiles.chunks(2) {
        let mut summed = trees_summed_at_once(pair, &set.frames).into_iter();
        for profile in pair {
            let summed = summed.next().flatten();
            add_profile(&mut rows, profile, summed, &set.frames);
        }
    }
    rows.retain(has_weight);
    rows
}

/// Trees from this many nodes on are summed two at a time, one on another thread.
const SUM_APART_FROM: usize = 1 << 16;

/// The function weights of both of `pair`'s trees, summed at once on two cores, where both are
/// large and have no figures of their own; else None for each (summed as they are added). Each
/// tree's figures are its own either way, and they are added in the profiles' order: the same
/// sums. Two at a time, not all: a file of many profiles and functions holds two tables more,
/// not one per profile.
fn trees_summed_at_once(
    pair: &[&Profile],
    frames: &FrameTable,
) -> Vec<Option<(Vec<f64>, Vec<f64>)>> {
    let large = |p: &&Profile| p.function_stats.is_none() && p.tree().len() >= SUM_APART_FROM;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let [first, second] = pair else {
        return Vec::new();
    };
    if cores < 2 || !large(first) || !large(second) {
        return Vec::new();
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(|| tree_function_weights(second.tree(), frames));
        let mine = tree_function_weights(first.tree(), frames);
        let other = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        vec![Some(mine), Some(other)]
    })
}

/// Adds `profile`'s function weights to `rows`: its own figures if it has them, else those of
/// its tree (`summed` if they were already).
fn add_profile(
    rows: &mut [FunctionRow],
    profile: &Profile,
    summed: Option<(Vec<f64>, Vec<f64>)>,
    frames: &FrameTable,
) {
    if let Some(stats) = &profile.function_stats {
        for stat in stats {
            let row = &mut rows[stat.func.0 as usize];
            row.self_weight += stat.self_weight;
            row.total_weight += stat.total_weight;
            if let Some(n) = stat.calls {
                row.calls = Some(row.calls.unwrap_or(0).saturating_add(n));
            }
            if let Some(n) = stat.primitive_calls {
                row.primitive_calls = Some(row.primitive_calls.unwrap_or(0).saturating_add(n));
            }
        }
    } else {
        let (s, t) = summed.unwrap_or_else(|| tree_function_weights(profile.tree(), frames));
        for (row, (s, t)) in rows.iter_mut().zip(s.into_iter().zip(t)) {
            row.self_weight += s;
            row.total_weight += t;
        }
    }
}

/// Heaviest first by `sort`, ties broken by the other weight, then by name and file so that the
/// order is stable from run to run.
pub fn sort_rows(rows: &mut [FunctionRow], set: &ProfileSet, sort: SortKey) {
    rows.sort_by(|a, b| compare_rows(a, b, set, sort));
}

fn compare_rows(
    a: &FunctionRow,
    b: &FunctionRow,
    set: &ProfileSet,
    sort: SortKey,
) -> std::cmp::Ordering {
    let key = |r: &FunctionRow| -> (f64, f64) {
        match sort {
            SortKey::SelfWeight => (r.self_weight, r.total_weight),
            SortKey::TotalWeight => (r.total_weight, r.self_weight),
            SortKey::Calls => (r.calls.map_or(-1.0, |c| c as f64), r.total_weight),
        }
    };
    let (ka, kb) = (key(a), key(b));
    kb.0.total_cmp(&ka.0)
        .then(kb.1.total_cmp(&ka.1))
        .then_with(|| by_name(a, b, set))
}

/// Rows of equal weights: by name, file and line.
fn by_name(a: &FunctionRow, b: &FunctionRow, set: &ProfileSet) -> std::cmp::Ordering {
    let (fa, fb) = (set.frames.function(a.func), set.frames.function(b.func));
    (&fa.name, &fa.file, fa.line).cmp(&(&fb.name, &fb.file, fb.line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CallTreeBuilder, FunctionKey, Unit};

    #[test]
    fn the_top_rows_are_those_of_the_whole_table() {
        // Many ties: equal weights, and names repeated in other files.
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let mut builder = CallTreeBuilder::new();
        for i in 0..60u32 {
            let name = format!("f{}", i % 7);
            let file = format!("m{}.py", i % 3);
            let frame = frames.intern(&name, Some(&file), None);
            builder.add_stack(&[frame], f64::from(i % 4));
        }
        let tree = builder.finish();
        let set = ProfileSet {
            profiles: vec![Profile::from_tree("t", Unit::Samples, tree)],
            frames,
        };
        let profiles: Vec<&Profile> = set.profiles.iter().collect();
        for sort in [SortKey::SelfWeight, SortKey::TotalWeight, SortKey::Calls] {
            let all = function_table(&set, &profiles, sort);
            for top in [0, 1, 2, 5, all.len() - 1, all.len(), all.len() + 3] {
                let (rows, count) = function_table_top(&set, &profiles, sort, top);
                assert_eq!(count, all.len());
                assert_eq!(rows, all[..top.min(all.len())], "{sort:?} top {top}");
            }
        }
    }

    #[test]
    fn recursion_is_counted_once_in_totals() {
        // speedscope's stackcollapse/recursion.txt, counted by hand.
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let [a, b, c] = ["a", "b", "c"].map(|n| frames.intern(n, None, None));
        let mut builder = CallTreeBuilder::new();
        for stack in [
            vec![a, a],
            vec![b, b],
            vec![a, b],
            vec![a, b, a, b],
            vec![a, b, a, c],
            vec![a, b, a, b, a, b],
            vec![a, b, a, b, c],
            vec![a, b, a, b],
            vec![a, b, a, c],
            vec![a, b, a, b, c],
        ] {
            builder.add_stack(&stack, 1.0);
        }
        let tree = builder.finish();
        let set = ProfileSet {
            profiles: vec![Profile::from_tree("r", Unit::Samples, tree)],
            frames,
        };
        let profiles: Vec<&Profile> = set.profiles.iter().collect();
        let rows = function_table(&set, &profiles, SortKey::TotalWeight);
        let by_name = |n: &str| {
            rows.iter()
                .find(|r| set.frames.function(r.func).name == n)
                .map(|r| (r.self_weight, r.total_weight))
                .unwrap()
        };
        assert_eq!(by_name("a"), (1.0, 9.0));
        assert_eq!(by_name("b"), (5.0, 9.0));
        assert_eq!(by_name("c"), (4.0, 4.0));
        // a and b tie on total; the tie goes to the larger self weight.
        assert_eq!(set.frames.function(rows[0].func).name, "b");
    }
}
