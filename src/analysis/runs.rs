//! Runs of one program added together (`obol merge`): as `pstats.Stats(a).add(b)` adds cProfile
//! runs, and as flame graphs of several captures are summed. Frames are matched by name, file
//! and line across the files; profiles (threads) by name, so that a run's `MainThread` adds to
//! another's and its workers stay apart. py-spy names a thread `Thread 9505 "MainThread"`, and
//! the id differs from run to run: such a profile is matched (and named) by what is quoted.

use crate::profile::{
    CallTree, CallTreeBuilder, EdgeStats, FrameId, FrameTable, FuncId, FunctionKey, FunctionStats,
    NodeId, Profile, ProfileSet,
};

/// The sum of `sets`. A pstats function is keyed by its definition line (as pstats keys it)
/// only when every file is keyed so. Fails, naming the profile, where one name has profiles of
/// different units, which do not add up.
pub fn add_runs(sets: &[&ProfileSet]) -> Result<ProfileSet, String> {
    let key = if sets
        .iter()
        .all(|s| s.frames.function_key() == FunctionKey::NameFileLine)
    {
        FunctionKey::NameFileLine
    } else {
        FunctionKey::NameFile
    };
    let mut frames = FrameTable::new(key);
    // Per set: its frames and functions in the shared table.
    let mut maps: Vec<(Vec<FrameId>, Vec<FuncId>)> = Vec::new();
    for set in sets {
        let mut frame_map = Vec::with_capacity(set.frames.frame_count());
        let mut func_map = vec![FuncId(0); set.frames.function_count()];
        for frame in set.frames.frames() {
            let function = set.frames.function(frame.func);
            // Keyed by line, a function is its definition line, which its frames may not be
            // at; the function is interned first so that it keeps its own line.
            let line = match key {
                FunctionKey::NameFileLine => function.line,
                FunctionKey::NameFile => frame.line,
            };
            let id = frames.intern(frame.name, frame.file, line);
            func_map[frame.func.0 as usize] = frames.func_of(id);
            frame_map.push(id);
        }
        maps.push((frame_map, func_map));
    }
    // Profiles by name, in the order first seen.
    let mut groups: Vec<(String, Vec<(usize, &Profile)>)> = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        for profile in &set.profiles {
            let name = run_name(&profile.name);
            match groups.iter_mut().find(|(n, _)| n == name) {
                Some((_, members)) => members.push((i, profile)),
                None => groups.push((name.to_owned(), vec![(i, profile)])),
            }
        }
    }
    let mut profiles = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let unit = members[0].1.unit;
        if let Some((_, odd)) = members.iter().find(|(_, p)| p.unit != unit) {
            return Err(format!(
                "profile \"{}\" is in {} in one file and in {} in another: they do not add up",
                crate::text::escape_control(&name),
                unit,
                odd.unit
            ));
        }
        let mut builder = CallTreeBuilder::new();
        for (i, profile) in &members {
            copy_translated(&mut builder, profile.tree(), &maps[*i].0);
        }
        let mut sum = Profile::from_tree(name, unit, builder.finish());
        sum.total = members.iter().map(|(_, p)| p.total).sum();
        if members.iter().all(|(_, p)| p.function_stats.is_some()) {
            let mut stats: Vec<Option<FunctionStats>> = vec![None; frames.function_count()];
            for (i, profile) in &members {
                let func_map = &maps[*i].1;
                for stat in profile.function_stats.iter().flatten() {
                    add_stat(&mut stats, stat, func_map);
                }
            }
            sum.function_stats = Some(stats.into_iter().flatten().collect());
        }
        profiles.push(sum);
    }
    Ok(ProfileSet { frames, profiles })
}

/// The name a profile is matched by across runs: the thread's name where py-spy's
/// `Thread ID "NAME"` carries an id, else the whole name.
pub fn run_name(name: &str) -> &str {
    let quoted = name
        .strip_prefix("Thread ")
        .and_then(|rest| rest.split_once(" \""))
        .filter(|(id, _)| {
            let digits = id.strip_prefix("0x").unwrap_or(id);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit())
        })
        .and_then(|(_, rest)| rest.strip_suffix('"'));
    quoted.filter(|n| !n.is_empty()).unwrap_or(name)
}

/// Adds `tree`, its frames renamed by `frame_map`, to `builder`.
fn copy_translated(builder: &mut CallTreeBuilder, tree: &CallTree, frame_map: &[FrameId]) {
    builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
    let mut stack: Vec<(NodeId, NodeId)> = tree
        .children(NodeId::ROOT)
        .iter()
        .rev()
        .map(|&c| (c, NodeId::ROOT))
        .collect();
    while let Some((node, parent)) = stack.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        let copy = builder.child(parent, frame_map[frame.0 as usize]);
        builder.add_self(copy, tree.self_weight(node));
        stack.extend(tree.children(node).iter().rev().map(|&c| (c, copy)));
    }
}

fn add_count(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    }
}

fn add_edge(sum: &mut EdgeStats, edge: &EdgeStats) {
    sum.calls = add_count(sum.calls, edge.calls);
    sum.primitive_calls = add_count(sum.primitive_calls, edge.primitive_calls);
    sum.self_weight += edge.self_weight;
    sum.total_weight += edge.total_weight;
}

/// Adds one function's figures (its ids in another table, renamed by `func_map`) into `stats`,
/// indexed by function, as pstats' `add` does: counts and times summed, callers merged.
pub fn add_stat(stats: &mut [Option<FunctionStats>], stat: &FunctionStats, func_map: &[FuncId]) {
    let func = func_map[stat.func.0 as usize];
    let slot = &mut stats[func.0 as usize];
    let sum = slot.get_or_insert_with(|| FunctionStats {
        func,
        calls: None,
        primitive_calls: None,
        self_weight: 0.0,
        total_weight: 0.0,
        callers: Vec::new(),
    });
    sum.calls = add_count(sum.calls, stat.calls);
    sum.primitive_calls = add_count(sum.primitive_calls, stat.primitive_calls);
    sum.self_weight += stat.self_weight;
    sum.total_weight += stat.total_weight;
    for (caller, edge) in &stat.callers {
        let caller = func_map[caller.0 as usize];
        match sum.callers.iter_mut().find(|(c, _)| *c == caller) {
            Some((_, e)) => add_edge(e, edge),
            None => sum.callers.push((caller, *edge)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Unit;

    fn set(stacks: &[(&[&str], f64)], name: &str) -> ProfileSet {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let mut b = CallTreeBuilder::new();
        for (stack, weight) in stacks {
            let ids: Vec<FrameId> = stack
                .iter()
                .map(|n| frames.intern(n, Some("m.py"), Some(1)))
                .collect();
            b.add_stack(&ids, *weight);
        }
        ProfileSet {
            frames,
            profiles: vec![Profile::from_tree(name, Unit::Samples, b.finish())],
        }
    }

    #[test]
    fn profiles_of_one_name_add_up_and_others_stay_apart() {
        let a = set(&[(&["main", "f"], 2.0), (&["main"], 1.0)], "MainThread");
        let b = set(&[(&["g", "main"], 5.0)], "worker");
        let c = set(&[(&["main", "f"], 3.0)], "MainThread");
        let sum = add_runs(&[&a, &b, &c]).unwrap();
        let names: Vec<(&str, f64)> = sum
            .profiles
            .iter()
            .map(|p| (p.name.as_str(), p.total))
            .collect();
        assert_eq!(names, vec![("MainThread", 6.0), ("worker", 5.0)]);
        let main_thread = sum.profiles[0].tree();
        let main = main_thread.children(NodeId::ROOT)[0];
        let f = main_thread.children(main)[0];
        assert_eq!(main_thread.total_weight(main), 6.0);
        assert_eq!(main_thread.self_weight(f), 5.0);
        // `main` is one function across the files, though each had its own table.
        assert_eq!(sum.frames.function_count(), 3);
    }

    #[test]
    fn threads_are_matched_by_name_whatever_their_id() {
        assert_eq!(run_name("Thread 9505 \"MainThread\""), "MainThread");
        assert_eq!(run_name("Thread 0x7f3a \"worker\""), "worker");
        assert_eq!(run_name("Thread 9505"), "Thread 9505");
        assert_eq!(run_name("cpu (nanoseconds)"), "cpu (nanoseconds)");
    }

    #[test]
    fn units_that_do_not_add_up_are_refused() {
        let a = set(&[(&["main"], 2.0)], "cpu");
        let mut b = set(&[(&["main"], 2.0)], "cpu");
        b.profiles[0].unit = Unit::Seconds;
        let err = add_runs(&[&a, &b]).unwrap_err();
        assert!(err.contains("\"cpu\""), "{err}");
    }
}
