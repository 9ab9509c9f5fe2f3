//! Turns the trees read by `de.rs`, keyed by the file's frame indices, into the model.

use super::counting::Counted;
use super::de::{Body, RawFrame, RawProfile};
use super::stacks::SampledTree;
use crate::profile::{
    CallTree, CallTreeBuilder, FrameId, FrameTable, FuncId, FunctionKey, FunctionStats, NodeId,
    Profile, ProfileSet, ShapedTree, SummedTree, TimelineSample,
};

/// The file's frames, interned: `ids[i]` is frame index i's frame.
pub(super) struct Interned {
    frames: FrameTable,
    ids: Vec<FrameId>,
    /// Frames whose line was left out, for a warning.
    odd_lines: usize,
}

impl Interned {
    /// Each frame index's function.
    pub fn functions(&self) -> Vec<u32> {
        self.ids
            .iter()
            .map(|&id| self.frames.func_of(id).0)
            .collect()
    }
}

pub(super) fn intern_frames(raw: &[RawFrame<'_>]) -> Interned {
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut odd_lines = 0usize;
    let ids = raw
        .iter()
        .map(|frame| intern(&mut frames, frame, &mut odd_lines))
        .collect();
    Interned {
        frames,
        ids,
        odd_lines,
    }
}

/// Maps every profile's tree onto the interned frames; `merged` holds the trees of the sampled
/// profiles. Frame indices must already have been checked against the frames. With
/// `figures_only`, a sampled profile whose function figures were counted keeps no call tree and
/// no timeline, only those figures and its total (for `obol summary`).
pub(super) fn build(
    raw_profiles: Vec<RawProfile>,
    merged: Vec<SampledTree>,
    interned: Interned,
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, String> {
    let mut merged: Vec<Option<SampledTree>> = merged.into_iter().map(Some).collect();
    let Interned {
        frames,
        ids,
        odd_lines,
    } = interned;
    warn_of_lines(odd_lines, warnings);
    // Interning in file order gives frame i the id i unless two frames are the same
    // (name, file, line), which speedscope files rarely hold.
    let identity = ids.iter().enumerate().all(|(i, id)| id.0 as usize == i);
    let mut profiles = Vec::with_capacity(raw_profiles.len());
    for (index, profile) in raw_profiles.into_iter().enumerate() {
        let evented = matches!(profile.body, Body::Evented { .. });
        // Uniform weights were put on the tree as counts (see `weights.rs`).
        let (tree, timeline, walk, scale) = match profile.body {
            Body::Sampled { slot, weights } => {
                let mut sampled = slot
                    .and_then(|slot| merged.get_mut(slot))
                    .and_then(Option::take)
                    .filter(|sampled| sampled.leaves.len() == weights.len())
                    .ok_or_else(|| {
                        format!("internal error: the stacks of profile {index} went astray")
                    })?;
                let timeline = sampled.weigh(&weights, !figures_only);
                let scale = weights.uniform();
                drop(weights);
                let walk = match (sampled.outermost, sampled.kept) {
                    (Some(outermost), _) => Walk::Marked(outermost),
                    (None, Some(kept)) => Walk::Replay {
                        leaves: sampled.leaves,
                        kept,
                    },
                    (None, None) => Walk::Unknown,
                };
                (sampled.tree, timeline, walk, scale)
            }
            Body::Evented { tree, timeline } => (tree.shape(), Some(timeline), Walk::Unknown, None),
        };
        let (tree, mut function_stats, has_empty_nodes) = finish(tree, &walk, &ids, &frames);
        if let (Some(weight), Some(stats)) = (scale, &mut function_stats) {
            for stats in stats {
                stats.self_weight *= weight;
                stats.total_weight *= weight;
            }
        }
        let as_read = identity && !has_empty_nodes;
        let mut built = match function_stats {
            // The total of a remapped tree is summed again, in its own order.
            Some(stats) if figures_only && as_read => {
                let total = tree.total() * scale.unwrap_or(1.0);
                Profile::figures_only(profile.name, profile.unit, total, stats)
            }
            function_stats => {
                let (mut tree, timeline) = if as_read {
                    (tree.into_call_tree(), timeline)
                } else {
                    remap(&tree, &ids, timeline)?
                };
                if let Some(weight) = scale {
                    tree.scale_weights(weight);
                }
                let mut built = Profile::from_tree(profile.name, profile.unit, tree);
                built.timeline = timeline;
                built.function_stats = function_stats;
                built
            }
        };
        built.evented = evented;
        built.start_value = profile.start_value;
        built.end_value = profile.end_value;
        profiles.push(built);
    }
    Ok(ProfileSet { frames, profiles })
}

/// The figures of profiles whose stacks were counted rather than merged (`counting.rs`):
/// `None` unless every profile is sampled with uniform weights and was counted.
pub(super) fn build_counted(
    raw_profiles: Vec<RawProfile>,
    counted: &[Counted],
    interned: Interned,
    warnings: &mut Vec<String>,
) -> Option<ProfileSet> {
    let mut profiles = Vec::with_capacity(raw_profiles.len());
    for profile in raw_profiles {
        let Body::Sampled { slot, weights } = profile.body else {
            return None;
        };
        let list = counted
            .get(slot?)
            .filter(|list| list.samples == weights.len() as u64)?;
        let (total, stats) = list.figures(weights.uniform()?);
        let mut built = Profile::figures_only(profile.name, profile.unit, total, stats);
        // Read whole, a sampled profile keeps its samples in order (`build`'s `weigh`).
        built.timeline_to_come = true;
        built.start_value = profile.start_value;
        built.end_value = profile.end_value;
        profiles.push(built);
    }
    warn_of_lines(interned.odd_lines, warnings);
    Some(ProfileSet {
        frames: interned.frames,
        profiles,
    })
}

fn warn_of_lines(odd_lines: usize, warnings: &mut Vec<String>) {
    if odd_lines > 0 {
        warnings.push(format!(
            "{odd_lines} frame{} a `line` that is not a whole number from 0 to {}; the line was left out",
            if odd_lines == 1 { " has" } else { "s have" },
            u32::MAX
        ));
    }
}

fn intern(frames: &mut FrameTable, frame: &RawFrame<'_>, odd_lines: &mut usize) -> FrameId {
    let line = frame.line.and_then(|line| {
        let whole = line.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&line);
        if !whole {
            *odd_lines += 1;
        }
        // Checked just above to be a whole number in range, so the cast is exact.
        whole.then_some(line as u32)
    });
    frames.intern(&frame.name, frame.file.as_deref(), line)
}

/// What the merging side left for counting each function's figures.
enum Walk {
    /// The nodes that are the outermost call of their function on their path.
    Marked(Vec<u64>),
    /// Each sample's leaf and the part of the path before it kept, to walk the same paths again.
    Replay { leaves: Vec<NodeId>, kept: Vec<u32> },
    /// Nothing: the figures are left to a walk of the tree when they are asked for.
    Unknown,
}

/// Sums the totals of `tree` (still keyed by file frame indices), and with them each function's
/// self and total weight, recursion counted once (the figures a walk of the tree finds, without
/// the walk), and whether any node got no weight: frames opened and closed at one instant, or
/// stacks sampled only with weight 0. speedscope keeps neither in its flame graph, so neither is
/// kept here.
fn finish(
    tree: ShapedTree,
    walk: &Walk,
    ids: &[FrameId],
    frames: &FrameTable,
) -> (SummedTree, Option<Vec<FunctionStats>>, bool) {
    let mut has_empty_nodes = false;
    let funcs: Vec<u32> = ids.iter().map(|&id| frames.func_of(id).0).collect();
    let mut weights = vec![(0.0, 0.0); frames.function_count()];
    let tree = match walk {
        // A function's total is the sum of the totals of its outermost nodes, taken in the pass
        // that sums the totals.
        Walk::Marked(outermost) => tree.sum_visiting(|node, frame, self_weight, total| {
            has_empty_nodes |= total == 0.0;
            let Some(func) = funcs
                .get(frame.0 as usize)
                .and_then(|&func| weights.get_mut(func as usize))
            else {
                return;
            };
            func.0 += self_weight;
            if SampledTree::is_outermost(outermost, node) {
                func.1 += total;
            }
        }),
        Walk::Replay { .. } | Walk::Unknown => {
            tree.sum_visiting(|_, _, _, total| has_empty_nodes |= total == 0.0)
        }
    };
    let counted = match walk {
        Walk::Marked(_) => true,
        Walk::Replay { leaves, kept } => replay(&tree, leaves, kept, &funcs, &mut weights),
        Walk::Unknown => false,
    };
    if !counted {
        return (tree, None, has_empty_nodes);
    }
    let stats = weights
        .into_iter()
        .enumerate()
        .filter(|&(_, (self_weight, total_weight))| self_weight != 0.0 || total_weight != 0.0)
        .map(|(func, (self_weight, total_weight))| {
            FunctionStats::sampled(FuncId(func as u32), self_weight, total_weight)
        })
        .collect();
    (tree, Some(stats), has_empty_nodes)
}

/// Each function's self and total weight, added to `weights`, by replaying the merging side's
/// walk: each sample's path is the part of the path before that it kept, then its leaf's
/// ancestors below that. Nodes were made in the order this first reaches them, so each is
/// counted then, its total going to its function if no node on the path above is of the same
/// function. The nodes reached anew are few per sample and mostly made one after the other,
/// where a walk of the whole tree jumps across all of it. `false` if the record does not fit the
/// tree, which cannot happen short of a bug; the figures are then left to a walk of the tree.
fn replay(
    tree: &SummedTree,
    leaves: &[NodeId],
    kept: &[u32],
    funcs: &[u32],
    weights: &mut [(f64, f64)],
) -> bool {
    if leaves.len() != kept.len() {
        return false;
    }
    let mut on_path = vec![0u32; weights.len()];
    // The current path from the root, each node with its function.
    let mut path: Vec<(NodeId, usize)> = Vec::new();
    let mut fresh: Vec<NodeId> = Vec::new();
    let mut next = 1;
    for (&leaf, &keep) in leaves.iter().zip(kept) {
        let keep = keep as usize;
        for &(_, func) in path.get(keep..).unwrap_or_default() {
            on_path[func] -= 1;
        }
        path.truncate(keep);
        let top = path.last().map_or(NodeId::ROOT, |&(node, _)| node);
        let mut at = leaf;
        while at != top {
            fresh.push(at);
            let Some(parent) = tree.parent(at) else {
                return false;
            };
            at = parent;
        }
        for node in fresh.drain(..).rev() {
            let Some(func) = tree
                .frame(node)
                .and_then(|frame| funcs.get(frame.0 as usize))
                .map(|&func| func as usize)
                .filter(|&func| func < weights.len())
            else {
                return false;
            };
            if node.0 == next {
                next += 1;
                weights[func].0 += tree.self_weight(node);
                if on_path[func] == 0 {
                    weights[func].1 += tree.total_weight(node);
                }
            } else if node.0 > next {
                return false;
            }
            on_path[func] += 1;
            path.push((node, func));
        }
    }
    next as usize == tree.len()
}

/// Rebuilds `tree` with interned frame ids, merging siblings whose frames turned out to be one
/// and dropping weightless nodes.
fn remap(
    tree: &SummedTree,
    ids: &[FrameId],
    timeline: Option<Vec<TimelineSample>>,
) -> Result<(CallTree, Option<Vec<TimelineSample>>), String> {
    let mut builder = CallTreeBuilder::new();
    let mut new_id = vec![NodeId::ROOT; tree.len()];
    builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
    // Parents come before children in id order, so a parent's new id is always known.
    for node in tree.ids().skip(1) {
        // Weights are never negative, so a weightless node has only weightless descendants.
        if tree.total_weight(node) == 0.0 {
            continue;
        }
        let parent = tree.parent(node).unwrap_or(NodeId::ROOT);
        let frame = tree
            .frame(node)
            .and_then(|raw| ids.get(raw.0 as usize))
            .ok_or_else(|| format!("internal error: node {} names no known frame", node.0))?;
        let parent = new_id
            .get(parent.0 as usize)
            .copied()
            .unwrap_or(NodeId::ROOT);
        let mapped = builder.child(parent, *frame);
        builder.add_self(mapped, tree.self_weight(node));
        if let Some(slot) = new_id.get_mut(node.0 as usize) {
            *slot = mapped;
        }
    }
    let timeline = timeline.map(|timeline| {
        timeline
            .into_iter()
            .map(|sample| TimelineSample {
                leaf: new_id
                    .get(sample.leaf.0 as usize)
                    .copied()
                    .unwrap_or(NodeId::ROOT),
                weight: sample.weight,
            })
            .collect()
    });
    Ok((builder.finish(), timeline))
}
