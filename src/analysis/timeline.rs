//! Trees derived from a profile for the views: its timeline in recorded order, and how much of
//! a tree a search matches.

use crate::profile::{CallTree, NodeId, OrderedTreeBuilder, Profile};

/// The timeline as a tree in recorded order: consecutive samples sharing a stack prefix share
/// frames, as speedscope's Time Order draws them.
pub fn time_order_tree(profile: &Profile) -> CallTree {
    time_order_tree_telling(profile, &|_| {})
}

/// [`time_order_tree`], telling `walked` how many samples are walked now and then (every 65,536),
/// for a UI that says how far the tree is.
pub fn time_order_tree_telling(profile: &Profile, walked: &(dyn Fn(usize) + Sync)) -> CallTree {
    let Some(timeline) = &profile.timeline else {
        return OrderedTreeBuilder::default().finish();
    };
    let merged = profile.tree();
    // Every merged node is on some sample's path: the time-order tree has at least as many.
    let mut builder = OrderedTreeBuilder::with_capacity(merged.len());
    // The previous sample's path: its merged-tree nodes (marked in `on_path`), and the nodes
    // made for them (after the root). A sample's path is walked up only to where it meets the
    // previous one; the nodes above are shared, and the last children of their parents.
    let mut merged_path: Vec<NodeId> = Vec::new();
    let mut made_path: Vec<NodeId> = vec![NodeId::ROOT];
    let mut on_path = vec![0u64; merged.len().div_ceil(64)];
    let marked = |on_path: &[u64], n: NodeId| on_path[n.0 as usize / 64] >> (n.0 % 64) & 1 == 1;
    let flip = |on_path: &mut [u64], n: NodeId| on_path[n.0 as usize / 64] ^= 1 << (n.0 % 64);
    let mut fresh: Vec<NodeId> = Vec::new();
    let mut last_leaf = None;
    for (i, sample) in timeline.iter().enumerate() {
        if i % (1 << 16) == 0 {
            walked(i);
        }
        // A sampler repeats a stack while it runs: nothing to walk.
        if last_leaf != Some(sample.leaf) {
            last_leaf = Some(sample.leaf);
            fresh.clear();
            let mut at = sample.leaf;
            while at != NodeId::ROOT && !marked(&on_path, at) {
                fresh.push(at);
                at = merged.parent(at).unwrap_or(NodeId::ROOT);
            }
            // `at` is the deepest node shared with the previous path (or the root).
            let same = if at == NodeId::ROOT {
                0
            } else {
                merged_path
                    .iter()
                    .rposition(|&n| n == at)
                    .map_or(0, |i| i + 1)
            };
            for &gone in &merged_path[same..] {
                flip(&mut on_path, gone);
            }
            merged_path.truncate(same);
            made_path.truncate(same + 1);
            for &node in fresh.iter().rev() {
                // Every node but the root has a frame, and the root is not on a path.
                let Some(frame) = merged.frame(node) else {
                    break;
                };
                let parent = made_path[made_path.len() - 1];
                made_path.push(builder.last_child_or_new(parent, frame));
                merged_path.push(node);
                flip(&mut on_path, node);
            }
        }
        builder.add_self(made_path[made_path.len() - 1], sample.weight);
    }
    builder.finish()
}

/// Nodes whose frame matches, and the weight under them with each sample counted once.
pub fn count_matches(tree: &CallTree, frame_matches: &[bool]) -> (usize, f64) {
    let mut count = 0;
    let mut weight = 0.0;
    // Whether a node or one of its callers matches: parents come before children, so one
    // forward pass knows every caller's answer (no walk down the tree's scattered rows).
    let mut under = vec![false; tree.len()];
    for node in tree.ids().skip(1) {
        let caller_matched = tree.parent(node).is_some_and(|p| under[p.0 as usize]);
        let hit = tree
            .frame(node)
            .is_some_and(|f| frame_matches.get(f.0 as usize).copied().unwrap_or(false));
        if hit {
            count += 1;
            if !caller_matched {
                weight += tree.total_weight(node);
            }
        }
        under[node.0 as usize] = caller_matched || hit;
    }
    (count, weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CallTreeBuilder, FrameId, TimelineSample, Unit};

    /// The definition: each sample's stack from the root, every frame the last child of its
    /// parent where that child has the frame, else a new one.
    fn by_definition(profile: &Profile) -> CallTree {
        let merged = profile.tree();
        let mut builder = CallTreeBuilder::new();
        for sample in profile.timeline.as_deref().unwrap_or_default() {
            let mut node = NodeId::ROOT;
            for frame in merged.stack(sample.leaf) {
                node = builder.last_child_or_new(node, frame);
            }
            builder.add_self(node, sample.weight);
        }
        builder.finish()
    }

    fn rows(tree: &CallTree) -> Vec<(Option<NodeId>, Option<FrameId>, f64, f64)> {
        tree.ids()
            .map(|n| {
                (
                    tree.parent(n),
                    tree.frame(n),
                    tree.self_weight(n),
                    tree.total_weight(n),
                )
            })
            .collect()
    }

    #[test]
    fn the_time_order_tree_is_the_timeline_replayed_from_the_root() {
        // Stacks over four frames, up to five deep, the empty stack among them; samples repeat
        // a stack, go back to an ancestor of the last leaf, leave a stack and come back to it.
        let mut seed = 11u64;
        let mut next = |below: u64| crate::test_rng::lcg(&mut seed) % below;
        let mut builder = CallTreeBuilder::new();
        let mut leaves = Vec::new();
        for _ in 0..60 {
            let stack: Vec<FrameId> = (0..next(6)).map(|_| FrameId(next(4) as u32)).collect();
            leaves.push(builder.add_stack(&stack, 0.0));
        }
        let merged = builder.finish();
        let mut timeline = Vec::new();
        let mut leaf = leaves[0];
        for i in 0..2_000 {
            leaf = match next(5) {
                0 | 1 => leaf,
                2 => merged.parent(leaf).unwrap_or(NodeId::ROOT),
                _ => leaves[next(leaves.len() as u64) as usize],
            };
            timeline.push(TimelineSample {
                leaf,
                weight: 1.0 + (i % 3) as f64,
            });
        }
        let mut profile = Profile::from_tree("t", Unit::Samples, merged);
        profile.timeline = Some(timeline);
        let made = time_order_tree(&profile);
        assert_eq!(rows(&made), rows(&by_definition(&profile)));
        assert!(
            made.len() > profile.tree().len(),
            "stacks left and came back"
        );
    }
}
