//! A pstats file (`marshal` of cProfile's stats dict) that Python's `pstats.Stats` loads.
//!
//! A pstats source is written back as it was read: every function's calls, primitive calls,
//! tottime and cumtime, and each caller edge's four figures, bit for bit. A sampled source is
//! written as CPython 3.15's sampling profiler writes its pstats: primitive calls are the samples
//! in which the function was running, calls the samples in which it was on the stack, the times
//! those counts times the sampling interval, and each caller edge the number of samples with the
//! caller directly above. (3.15 adds a `("__sampled__",)` key that older Pythons' pstats cannot
//! load; it is left out so that every pstats reads the file.)

use rustc_hash::FxHashMap;

use super::marshal::Writer;
use crate::profile::{FuncId, Function, Profile, ProfileSet};

/// One function's entry: (primitive calls, calls, tottime, cumtime) and its callers.
struct Entry {
    primitive_calls: u64,
    calls: u64,
    self_time: f64,
    total_time: f64,
    callers: FxHashMap<FuncId, CallerFigures>,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            primitive_calls: 0,
            calls: 0,
            self_time: 0.0,
            total_time: 0.0,
            callers: FxHashMap::default(),
        }
    }

    /// One edge from `caller`, added to what other profiles (threads) gave for it.
    fn add_caller(&mut self, caller: FuncId, figures: CallerFigures) {
        use CallerFigures::{Count, Stated};
        let sum = match (self.callers.remove(&caller), figures) {
            (None, new) => new,
            (Some(Count(a)), Count(b)) => Count(a + b),
            (Some(Stated(n, p, t, c)), Stated(n2, p2, t2, c2)) => {
                Stated(n + n2, p + p2, t + t2, c + c2)
            }
            // Mixed kinds come from no single format; the newer stands.
            (Some(_), new) => new,
        };
        self.callers.insert(caller, sum);
    }
}

#[derive(Clone, Copy)]
enum CallerFigures {
    /// cProfile's (calls, primitive calls, tottime, cumtime) of the edge.
    Stated(u64, u64, f64, f64),
    /// A count alone, as `profile` and the sampling profiler write.
    Count(u64),
}

/// The pstats bytes of `profiles`. `interval` is the seconds one sample stands for, used where
/// the profile counts samples rather than time.
pub fn write(set: &ProfileSet, profiles: &[&Profile], interval: f64) -> Vec<u8> {
    let mut entries: FxHashMap<FuncId, Entry> = FxHashMap::default();
    for profile in profiles {
        match &profile.function_stats {
            Some(stats)
                if stats
                    .iter()
                    .any(|s| s.calls.is_some() || !s.callers.is_empty()) =>
            {
                add_stated(&mut entries, stats)
            }
            _ => add_sampled(&mut entries, set, profile, interval),
        }
    }
    let mut funcs: Vec<FuncId> = entries.keys().copied().collect();
    funcs.sort();
    let mut w = Writer::new();
    w.dict_start();
    for func in funcs {
        let entry = &entries[&func];
        key(&mut w, &set.frames.function(func));
        w.tuple(5);
        w.int(entry.primitive_calls);
        w.int(entry.calls);
        w.float(entry.self_time);
        w.float(entry.total_time);
        w.dict_start();
        let mut callers: Vec<_> = entry.callers.iter().collect();
        callers.sort_by_key(|(caller, _)| **caller);
        for (caller, figures) in callers {
            key(&mut w, &set.frames.function(*caller));
            match *figures {
                CallerFigures::Stated(calls, primitive, tt, ct) => {
                    w.tuple(4);
                    w.int(calls);
                    w.int(primitive);
                    w.float(tt);
                    w.float(ct);
                }
                CallerFigures::Count(n) => w.int(n),
            }
        }
        w.dict_end();
    }
    w.dict_end();
    w.bytes
}

/// pstats' key: (file, line, name); a function without a file is a built-in, as cProfile keys
/// them (`('~', 0, name)`).
fn key(w: &mut Writer, f: &Function) {
    w.tuple(3);
    w.str(f.file.unwrap_or("~"));
    w.int(u64::from(f.line.unwrap_or(0)));
    w.str(f.name);
}

fn add_stated(entries: &mut FxHashMap<FuncId, Entry>, stats: &[crate::profile::FunctionStats]) {
    for stat in stats {
        let calls = stat.calls.unwrap_or(0);
        let entry = entries.entry(stat.func).or_insert_with(Entry::new);
        entry.calls += calls;
        entry.primitive_calls += stat.primitive_calls.unwrap_or(calls);
        entry.self_time += stat.self_weight;
        entry.total_time += stat.total_weight;
        for (caller, edge) in &stat.callers {
            let calls = edge.calls.unwrap_or(0);
            // `profile`'s edges are bare counts (the importer estimates their times, and keeps
            // no primitive count): written back as the counts they were.
            let figures = match edge.primitive_calls {
                None => CallerFigures::Count(calls),
                Some(primitive) => {
                    CallerFigures::Stated(calls, primitive, edge.self_weight, edge.total_weight)
                }
            };
            entry.add_caller(*caller, figures);
        }
    }
}

/// Samples counted from the tree: a function counts once per sample for its calls (however
/// often it recurs in the stack), each caller edge once per place in the stack.
fn add_sampled(
    entries: &mut FxHashMap<FuncId, Entry>,
    set: &ProfileSet,
    profile: &Profile,
    interval: f64,
) {
    let tree = profile.tree();
    let frames = &set.frames;
    // Weights in seconds, and counts of samples: a time profile's weights are durations.
    let (seconds_per_weight, samples_per_weight) = match profile.unit.seconds_per_unit() {
        Some(seconds) => (seconds, seconds / interval),
        None => (interval, 1.0),
    };
    let count = |weight: f64| (weight * samples_per_weight).round().max(0.0) as u64;
    let (self_weights, total_weights) =
        crate::analysis::summary::tree_function_weights(tree, frames);
    let mut edge_weights: FxHashMap<(FuncId, FuncId), f64> = FxHashMap::default();
    for node in tree.ids() {
        let (Some(frame), Some(parent)) = (tree.frame(node), tree.parent(node)) else {
            continue;
        };
        if let Some(parent_frame) = tree.frame(parent) {
            let pair = (frames.func_of(frame), frames.func_of(parent_frame));
            *edge_weights.entry(pair).or_default() += tree.total_weight(node);
        }
    }
    for (i, (&own, &total)) in self_weights.iter().zip(&total_weights).enumerate() {
        if total == 0.0 {
            continue;
        }
        let entry = entries.entry(FuncId(i as u32)).or_insert_with(Entry::new);
        entry.primitive_calls += count(own);
        entry.calls += count(total);
        entry.self_time += own * seconds_per_weight;
        entry.total_time += total * seconds_per_weight;
    }
    let mut edges: Vec<_> = edge_weights.into_iter().collect();
    edges.sort_by_key(|&((callee, caller), _)| (callee, caller));
    for ((callee, caller), weight) in edges {
        if let Some(entry) = entries.get_mut(&callee) {
            entry.add_caller(caller, CallerFigures::Count(count(weight)));
        }
    }
}
