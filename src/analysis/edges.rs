//! A function's callers or callees, one row per function, as `python -m pstats`' `callers` and
//! `callees` list them: the edge's own figures from a pstats file, or for a sampled profile the
//! weight spent in that call from the tree, each sample counted once.

use rustc_hash::FxHashMap;

use crate::profile::{CallTree, FrameTable, FuncId, NodeId, Profile, ProfileSet};

use super::sandwich::outermost_nodes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Callers,
    Callees,
}

/// One caller or callee of a function, with the figures of that edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The function at the other end.
    pub func: FuncId,
    /// Calls along the edge (pstats only).
    pub calls: Option<u64>,
    pub primitive_calls: Option<u64>,
    /// For callers: the function's own weight while called from there; for callees: the
    /// callee's own weight while called from the function.
    pub self_weight: f64,
    /// The same, including everything called below.
    pub total_weight: f64,
}

/// The callers or callees of `func` over `profiles`, heaviest total first (ties by function id,
/// so the order is stable). pstats' edges are taken exactly as the file states them; a sampled
/// profile's come from its tree.
pub fn edges(
    set: &ProfileSet,
    profiles: &[&Profile],
    func: FuncId,
    direction: Direction,
) -> Vec<Edge> {
    let mut by_func: FxHashMap<FuncId, Edge> = FxHashMap::default();
    for profile in profiles {
        // pstats states its edges; sampled formats tally functions while reading but leave
        // the edges to the tree.
        let found = match &profile.function_stats {
            Some(stats) if stats.iter().any(|s| !s.callers.is_empty()) => {
                stated_edges(stats, func, direction)
            }
            _ => tree_edges(profile.tree(), &set.frames, func, direction),
        };
        for edge in found {
            by_func
                .entry(edge.func)
                .and_modify(|sum| {
                    sum.calls = add(sum.calls, edge.calls);
                    sum.primitive_calls = add(sum.primitive_calls, edge.primitive_calls);
                    sum.self_weight += edge.self_weight;
                    sum.total_weight += edge.total_weight;
                })
                .or_insert(edge);
        }
    }
    let mut rows: Vec<Edge> = by_func.into_values().collect();
    rows.sort_by(|a, b| {
        b.total_weight
            .total_cmp(&a.total_weight)
            .then(a.func.cmp(&b.func))
    });
    rows
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// pstats keeps, for each function, the figures of every caller edge into it; a function's
/// callees are the functions whose caller edges name it.
fn stated_edges(
    stats: &[crate::profile::FunctionStats],
    func: FuncId,
    direction: Direction,
) -> Vec<Edge> {
    let edge = |other: FuncId, e: &crate::profile::EdgeStats| Edge {
        func: other,
        calls: e.calls,
        primitive_calls: e.primitive_calls,
        self_weight: e.self_weight,
        total_weight: e.total_weight,
    };
    match direction {
        Direction::Callers => stats
            .iter()
            .filter(|s| s.func == func)
            .flat_map(|s| s.callers.iter().map(|(caller, e)| edge(*caller, e)))
            .collect(),
        Direction::Callees => stats
            .iter()
            .flat_map(|s| {
                s.callers
                    .iter()
                    .filter(|(caller, _)| *caller == func)
                    .map(|(_, e)| edge(s.func, e))
            })
            .collect(),
    }
}

/// From a tree: `func`'s outermost occurrences, so that recursion is counted once. A caller is
/// the function of an occurrence's parent, weighted by the occurrence; a callee is the function
/// of an occurrence's child, weighted by the child. Self weights are those of the function at
/// the other end (callers: `func`'s own) within that weight.
fn tree_edges(
    tree: &CallTree,
    frames: &FrameTable,
    func: FuncId,
    direction: Direction,
) -> Vec<Edge> {
    let func_of = |node: NodeId| tree.frame(node).map(|f| frames.func_of(f));
    // The self weight of `owner` inside the subtree of `top`, every sample once.
    let self_within = |top: NodeId, owner: FuncId| -> f64 {
        let mut sum = 0.0;
        let mut stack = vec![top];
        while let Some(node) = stack.pop() {
            if func_of(node) == Some(owner) {
                sum += tree.self_weight(node);
            }
            stack.extend_from_slice(tree.children(node));
        }
        sum
    };
    let mut found = Vec::new();
    for occurrence in outermost_nodes(tree, frames, func) {
        match direction {
            Direction::Callers => {
                // A root occurrence has no caller to list, as pstats lists none.
                if let Some(caller) = tree.parent(occurrence).and_then(func_of) {
                    found.push(Edge {
                        func: caller,
                        calls: None,
                        primitive_calls: None,
                        self_weight: self_within(occurrence, func),
                        total_weight: tree.total_weight(occurrence),
                    });
                }
            }
            Direction::Callees => {
                for &child in tree.children(occurrence) {
                    if let Some(callee) = func_of(child) {
                        found.push(Edge {
                            func: callee,
                            calls: None,
                            primitive_calls: None,
                            self_weight: self_within(child, callee),
                            total_weight: tree.total_weight(child),
                        });
                    }
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CallTreeBuilder, FunctionKey, Unit};

    /// speedscope's stackcollapse/recursion.txt again, with callers and callees counted by hand.
    fn recursion() -> ProfileSet {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let [a, b, c] = ["a", "b", "c"].map(|n| frames.intern(n, None, None));
        let mut builder = CallTreeBuilder::new();
        for stack in [
            vec![a, a],
            vec![b, b],
            vec![a, b],
            vec![a, b, a, b],
            vec![a, b, a, c],
        ] {
            builder.add_stack(&stack, 1.0);
        }
        ProfileSet {
            profiles: vec![Profile::from_tree("r", Unit::Samples, builder.finish())],
            frames,
        }
    }

    fn named(set: &ProfileSet, rows: &[Edge]) -> Vec<(String, f64, f64)> {
        rows.iter()
            .map(|e| {
                let name = set.frames.function(e.func).name.to_owned();
                (name, e.self_weight, e.total_weight)
            })
            .collect()
    }

    #[test]
    fn tree_edges_count_recursion_once() {
        let set = recursion();
        let profiles: Vec<&Profile> = set.profiles.iter().collect();
        let func = |n: &str| {
            let i = set.frames.functions().position(|f| f.name == n);
            FuncId(i.unwrap() as u32)
        };
        // b is called by a in stacks 3-5 (outermost b at depth 2), by nothing in stack 2.
        // Its own weight in those: stack 3 (b leaf), stack 4 (b leaf again, inner) = 2.
        let callers = edges(&set, &profiles, func("b"), Direction::Callers);
        assert_eq!(named(&set, &callers), [("a".into(), 2.0, 3.0)]);
        // a's children: a (stack 1), b (stacks 3-5). c sits under b, not under a directly.
        let callees = edges(&set, &profiles, func("a"), Direction::Callees);
        assert_eq!(
            named(&set, &callees),
            [("b".into(), 2.0, 3.0), ("a".into(), 1.0, 1.0)]
        );
    }
}
