//! The call tree of a pstats file, an estimate: the file records caller → callee edges, not
//! stacks. The function table, not this tree, holds the exact figures.
//!
//! The tree is unrolled from the call graph top-down, the way gprof, snakeviz and tuna guess
//! stacks, with cProfile's rules for recursion taken into account:
//!
//! - Roots: a function some of whose calls no profiled caller made (its call count exceeds its
//!   callers' counts) and whose outermost calls all came from outside (`builtins.exec` under
//!   `python -m cProfile`, the target of `runcall`), with its cumulative time; otherwise the
//!   cumulative time that its callers' cumulative time does not cover, if any (functions with
//!   no callers at all). Failing both, the heaviest function.
//! - A node's own part is its caller edge's self/cumulative ratio. Functions that call
//!   themselves use their overall ratio, as their edges count only the outermost call.
//! - The rest goes to the callees in proportion to their cumulative time under the function.
//!   When some of them ran nested inside others (recursion through them, which cProfile counts
//!   again at every level), their times add up to more than the function's: then callees are
//!   weighed at the rate of the edge that led to the node, and the heaviest that fit whole are
//!   served first, since a callee whose time alone fills the node (`exec` → `<module>`) holds
//!   the nested ones.
//! - A function already on the path is unrolled once more (the inner `exec` that runs a
//!   module), but that second visit does not go back to functions on the path: their edges
//!   describe the outer call, and its weight goes to the other callees instead.
//! - Nodes under [`THRESHOLD`] of the total are not unrolled, and past [`MAX_NODES`] a call
//!   stays in its caller's own time, so any file gives a bounded tree quickly.
//!
//! Every node's total is the weight its parent gave it, so the tree's total is the roots' sum:
//! for cProfile data, `total_tt` up to rounding.

use crate::profile::{CallTree, CallTreeBuilder, FrameId, FuncId, FunctionStats, NodeId};

/// Nodes the estimate may create; calls past them stay in their callers' own time.
pub const MAX_NODES: usize = 500_000;

/// Nodes lighter than this share of the tree's weight are leaves holding their whole weight.
pub const THRESHOLD: f64 = 1e-5;

/// Sums of the same timer ticks taken in another order differ by rounding, not by time.
const ROUNDING: f64 = 1e-9;

const NOT_IN_STATS: u32 = u32::MAX;

/// A function called from another, by index into the stats, with what it spent under it.
#[derive(Debug, Clone, Copy)]
struct Callee {
    to: u32,
    self_weight: f64,
    total_weight: f64,
}

/// The weight a node receives and the edge it came through.
#[derive(Debug, Clone, Copy)]
struct Share {
    weight: f64,
    edge_self: f64,
    edge_total: f64,
}

struct Graph {
    frame: Vec<FrameId>,
    self_weight: Vec<f64>,
    /// Calls itself directly: its caller edges then count only the outermost call.
    recursive: Vec<bool>,
    callee_start: Vec<usize>,
    callees: Vec<Callee>,
    callee_total: Vec<f64>,
    /// The function's cumulative time, for its callees' shares of it.
    total: Vec<f64>,
    /// Its callees' cumulative times add up to more than its cumulative time less its own:
    /// some ran nested in others, through recursion.
    nested: Vec<bool>,
    roots: Vec<(u32, Share)>,
}

impl Graph {
    /// The graph of `stats`, whose functions are numbered below `function_count` and shown
    /// by the frames `frame_of_func` gives them.
    fn new(function_count: usize, frame_of_func: &[FrameId], stats: &[FunctionStats]) -> Graph {
        let n = stats.len();
        let mut index = vec![NOT_IN_STATS; function_count];
        for (i, s) in stats.iter().enumerate() {
            if let Some(slot) = index.get_mut(s.func.0 as usize) {
                *slot = i as u32;
            }
        }
        let known = |func: FuncId| {
            index
                .get(func.0 as usize)
                .copied()
                .filter(|&i| i != NOT_IN_STATS)
                .map(|i| i as usize)
        };

        let mut recursive = vec![false; n];
        let mut out_degree = vec![0usize; n + 1];
        for (callee, s) in stats.iter().enumerate() {
            for &(caller, _) in &s.callers {
                match known(caller) {
                    Some(c) if c == callee => recursive[callee] = true,
                    Some(c) => out_degree[c + 1] += 1,
                    None => {}
                }
            }
        }
        for i in 1..out_degree.len() {
            out_degree[i] += out_degree[i - 1];
        }
        let callee_start = out_degree;
        let mut fill = callee_start.clone();
        let empty = Callee {
            to: 0,
            self_weight: 0.0,
            total_weight: 0.0,
        };
        let mut callees = vec![empty; callee_start[n]];
        let mut callee_total = vec![0.0; n];
        let mut roots = Vec::new();
        for (callee, s) in stats.iter().enumerate() {
            // Calls from profiled callers; unknown if any count is (pyinstrument has none).
            let mut into_calls = Some(0u64);
            let (mut into_self, mut into_total) = (0.0, 0.0);
            for (caller, edge) in &s.callers {
                let Some(c) = known(*caller) else {
                    continue;
                };
                into_calls = into_calls
                    .zip(edge.calls)
                    .map(|(sum, n)| sum.saturating_add(n));
                if c == callee {
                    continue;
                }
                let edge_self = edge.self_weight.max(0.0);
                let edge_total = edge.total_weight.max(0.0);
                callees[fill[c]] = Callee {
                    to: callee as u32,
                    self_weight: edge_self,
                    total_weight: edge_total,
                };
                fill[c] += 1;
                callee_total[c] += edge_total;
                into_self += edge_self;
                into_total += edge_total;
            }
            let total = s.total_weight.max(0.0);
            let outside_calls = s
                .calls
                .zip(into_calls)
                .map(|(n, into)| n.saturating_sub(into));
            let from_outside_only = match (outside_calls, s.primitive_calls) {
                (Some(outside), Some(outermost)) => outside > 0 && outside >= outermost,
                _ => false,
            };
            let weight = if from_outside_only {
                total
            } else {
                total - into_total
            };
            if weight > ROUNDING * total.max(into_total) {
                let share = Share {
                    weight,
                    edge_self: (s.self_weight - into_self).clamp(0.0, weight),
                    edge_total: weight,
                };
                roots.push((callee as u32, share));
            }
        }
        let nested: Vec<bool> = stats
            .iter()
            .zip(&callee_total)
            .map(|(s, &callees)| {
                let room = s.total_weight.max(0.0) - s.self_weight.max(0.0);
                callees > room + ROUNDING * s.total_weight.abs()
            })
            .collect();
        Graph {
            frame: stats
                .iter()
                .map(|s| {
                    frame_of_func
                        .get(s.func.0 as usize)
                        .copied()
                        .unwrap_or(FrameId(0))
                })
                .collect(),
            self_weight: stats.iter().map(|s| s.self_weight.max(0.0)).collect(),
            total: stats.iter().map(|s| s.total_weight.max(0.0)).collect(),
            nested,
            recursive,
            callee_start,
            callees,
            callee_total,
            roots,
        }
    }

    fn callees(&self, at: usize) -> &[Callee] {
        &self.callees[self.callee_start[at]..self.callee_start[at + 1]]
    }
}

/// Per function, the places of its callees heaviest first (by the edge's cumulative time, ties
/// in their order), worked out when first needed: only nested functions whose callees want
/// more than they have use it.
struct HeaviestFirst {
    places: Vec<u32>,
    done: Vec<bool>,
}

impl HeaviestFirst {
    fn new(graph: &Graph) -> HeaviestFirst {
        HeaviestFirst {
            places: vec![0; graph.callees.len()],
            done: vec![false; graph.frame.len()],
        }
    }

    fn of(&mut self, graph: &Graph, at: usize) -> &[u32] {
        let range = graph.callee_start[at]..graph.callee_start[at + 1];
        let places = &mut self.places[range];
        if !self.done[at] {
            self.done[at] = true;
            for (i, place) in places.iter_mut().enumerate() {
                *place = i as u32;
            }
            let callees = graph.callees(at);
            // Cumulative times are at least 0, so their bits order as the numbers do.
            places.sort_unstable_by_key(|&i| {
                (u64::MAX - callees[i as usize].total_weight.to_bits(), i)
            });
        }
        places
    }
}

impl Graph {
    /// The part of a node's weight that is the function's own time.
    fn own(&self, at: usize, share: Share) -> f64 {
        if self.recursive[at] || share.edge_total <= 0.0 {
            let spent = self.self_weight[at] + self.callee_total[at];
            if spent > 0.0 {
                share.weight * self.self_weight[at] / spent
            } else {
                share.weight
            }
        } else {
            (share.weight * share.edge_self / share.edge_total).min(share.weight)
        }
    }
}

enum Step {
    Enter {
        parent: NodeId,
        at: u32,
        share: Share,
        /// The function is on the path already.
        again: bool,
    },
    Leave(u32),
}

/// Unrolls the graph depth-first, expanding nodes of at least `threshold` weight. Past `cap`
/// nodes, a call that would need a new node leaves its weight with its caller; the answer says
/// whether that happened.
fn unroll(graph: &Graph, threshold: f64, cap: usize) -> (CallTreeBuilder, bool) {
    let mut capped = false;
    // About a node per edge and root, which the tree outgrows only where it unrolls a function
    // more than once.
    let mut builder =
        CallTreeBuilder::with_capacity(cap.min(graph.callees.len() + graph.roots.len() + 1));
    let mut on_path = vec![0u32; graph.frame.len()];
    let mut stack: Vec<Step> = graph
        .roots
        .iter()
        .rev()
        .map(|&(at, share)| Step::Enter {
            parent: NodeId::ROOT,
            at,
            share,
            again: false,
        })
        .collect();
    // Per callee of the node: (weight wanted, weight given); nothing wanted where the callee
    // is left out.
    let mut wanted: Vec<(f64, f64)> = Vec::new();
    let mut order: Vec<(u64, usize)> = Vec::new();
    let mut heaviest_first = HeaviestFirst::new(graph);
    while let Some(step) = stack.pop() {
        let (parent, at, share, again) = match step {
            Step::Leave(at) => {
                on_path[at as usize] -= 1;
                continue;
            }
            Step::Enter {
                parent,
                at,
                share,
                again,
            } => (parent, at as usize, share, again),
        };
        if builder.len() >= cap {
            capped = true;
            builder.add_self(parent, share.weight);
            continue;
        }
        // A node's children are calls to distinct functions, so each is new.
        let node = builder.new_child(parent, graph.frame[at]);
        let weight = share.weight;
        // Most nodes are too light to unroll: they need nothing more of the function.
        let own = if weight >= threshold {
            graph.own(at, share)
        } else {
            weight
        };
        let rest = weight - own;
        let callees = graph.callees(at);
        let mut any = false;
        if weight >= threshold && rest > 0.0 && !callees.is_empty() {
            // What each callee would get at the rate of the edge that led here (the outer
            // calls of a nested function are what its callers' edges count), or else at this
            // node's share of the function's whole time.
            let rate = if share.edge_total > 0.0 {
                weight / share.edge_total
            } else if graph.total[at] > 0.0 {
                weight / graph.total[at]
            } else {
                0.0
            };
            wanted.clear();
            wanted.extend(callees.iter().map(|c| {
                let w = if again && on_path[c.to as usize] > 0 {
                    0.0
                } else {
                    c.total_weight * rate
                };
                // NaN and negative wants are nothing wanted.
                let w = if w > 0.0 { w } else { 0.0 };
                any |= w > 0.0;
                (w, 0.0)
            }));
        }
        if !any {
            builder.add_self(node, weight);
            continue;
        }
        builder.add_self(node, own);
        share_out(
            &mut wanted,
            || heaviest_first.of(graph, at),
            &mut order,
            rest,
            graph.nested[at],
        );
        on_path[at] += 1;
        stack.push(Step::Leave(at as u32));
        for (callee, &(_, given)) in callees.iter().zip(&wanted).rev() {
            if given > 0.0 {
                stack.push(Step::Enter {
                    parent: node,
                    at: callee.to,
                    share: Share {
                        weight: given,
                        edge_self: callee.self_weight,
                        edge_total: callee.total_weight,
                    },
                    again: on_path[callee.to as usize] > 0,
                });
            }
        }
    }
    (builder, capped)
}

/// Gives `rest` to the callees in proportion to what they want, unless they want more than
/// that and some ran `nested` in others. Then the heaviest that fit go first: a callee wanting
/// more than is left cannot have run whole inside this call, so the calls it holds are the
/// lighter callees' (see the module notes); what is left then goes to the rest, heaviest first.
/// Callees wanting nothing get nothing. `heaviest_first` orders the callees by their edges'
/// cumulative time, which orders the wants too unless rounding made two equal; `order` is
/// scratch space for that case, kept by the caller so that no node allocates.
fn share_out<'h>(
    wanted: &mut [(f64, f64)],
    heaviest_first: impl FnOnce() -> &'h [u32],
    order: &mut Vec<(u64, usize)>,
    rest: f64,
    nested: bool,
) {
    let sum: f64 = wanted.iter().map(|&(w, _)| w).sum();
    if sum <= rest || !nested {
        for (w, given) in wanted.iter_mut() {
            if *w > 0.0 {
                *given = *w * (rest / sum);
            }
        }
        return;
    }
    // Heaviest first, ties in the callees' order: the precomputed order unless two wants tie
    // out of it. Wants are positive, so their bits order as the numbers do.
    order.clear();
    let mut last: Option<(f64, usize)> = None;
    let mut in_order = true;
    for &i in heaviest_first() {
        let i = i as usize;
        let w = wanted[i].0;
        if w > 0.0 {
            if let Some((lw, li)) = last
                && (w > lw || (w == lw && i < li))
            {
                in_order = false;
                break;
            }
            last = Some((w, i));
            order.push((u64::MAX - w.to_bits(), i));
        }
    }
    if !in_order {
        order.clear();
        order.extend(
            (0..wanted.len())
                .filter(|&i| wanted[i].0 > 0.0)
                .map(|i| (u64::MAX - wanted[i].0.to_bits(), i)),
        );
        order.sort_unstable();
    }
    let mut left = rest;
    for whole_only in [true, false] {
        for &(_, i) in order.iter() {
            let (want, given) = &mut wanted[i];
            let fits = *want <= left * (1.0 + ROUNDING);
            if *given == 0.0 && (fits || !whole_only) {
                *given = want.min(left);
                left -= *given;
            }
        }
    }
}

/// Where the tree starts when no function's time lies outside its callers': the heaviest.
pub(super) fn fallback_root(stats: &[FunctionStats]) -> Option<usize> {
    (0..stats.len())
        .filter(|&i| stats[i].total_weight > 0.0)
        .max_by(|&a, &b| stats[a].total_weight.total_cmp(&stats[b].total_weight))
}

/// The estimated call tree of `stats`, whose functions `table` holds, within `cap` nodes
/// unless the roots alone are more (the importer uses [`MAX_NODES`]).
#[cfg(test)]
pub(super) fn estimate_within(
    table: &crate::profile::FrameTable,
    stats: &[FunctionStats],
    cap: usize,
    warnings: &mut Vec<String>,
) -> CallTree {
    let mut frame_of_func = vec![FrameId(0); table.function_count()];
    for (i, frame) in table.frames().enumerate().rev() {
        if let Some(slot) = frame_of_func.get_mut(frame.func.0 as usize) {
            *slot = FrameId(i as u32);
        }
    }
    let name_of = |func: FuncId| table.function(func).name;
    estimate_for(
        table.function_count(),
        &frame_of_func,
        name_of,
        stats,
        cap,
        warnings,
    )
}

/// The estimated call tree of `stats`, within `cap` nodes unless the roots alone are more, for
/// functions numbered below `function_count`, shown by the frames `frame_of_func` gives them
/// and named by `name_of` (the frame table need not exist yet). Says in `warnings` when it had
/// to stop expanding small branches.
pub(super) fn estimate_for<'n>(
    function_count: usize,
    frame_of_func: &[FrameId],
    name_of: impl Fn(FuncId) -> &'n str,
    stats: &[FunctionStats],
    cap: usize,
    warnings: &mut Vec<String>,
) -> CallTree {
    let mut graph = Graph::new(function_count, frame_of_func, stats);
    if graph.roots.is_empty() {
        // Every function's time is claimed by its callers (a cycle with no way in): nothing
        // says where the stacks start, so the stacks start at the heaviest function.
        if let Some(at) = fallback_root(stats) {
            warnings.push(format!(
                "no function's time lies outside its callers', so the estimated call tree \
                 starts at the heaviest, {}",
                name_of(stats[at].func)
            ));
            let weight = stats[at].total_weight;
            let share = Share {
                weight,
                edge_self: graph.self_weight[at].min(weight),
                edge_total: weight,
            };
            graph.roots.push((at as u32, share));
        }
    }
    let total: f64 = graph.roots.iter().map(|(_, share)| share.weight).sum();
    let (builder, capped) = unroll(&graph, THRESHOLD * total, cap);
    if capped {
        warnings.push(format!(
            "the estimated call tree stops at {cap} nodes: calls past that are counted in their \
             callers' own time"
        ));
    }
    builder.finish()
}
