//! Trees derived from a profile for the views: its timeline in recorded order, and how much of
//! a tree a search matches.

use crate::profile::{CallTree, CallTreeBuilder, NodeId, Profile};

/// The timeline as a tree in recorded order: consecutive samples sharing a stack prefix share
/// frames, as speedscope's Time Order draws them.
pub fn time_order_tree(profile: &Profile) -> CallTree {
    let mut builder = CallTreeBuilder::new();
    let Some(timeline) = &profile.timeline else {
        return builder.finish();
    };
    let merged = profile.tree();
    // The previous sample's path: its merged-tree nodes, and the nodes made for them (after the
    // root). Where a sample's path starts the same way, those nodes are the last children of
    // their parents, which is what `last_child_or_new` would find; only the rest is looked up.
    let mut merged_path: Vec<NodeId> = Vec::new();
    let mut made_path: Vec<NodeId> = vec![NodeId::ROOT];
    let mut path: Vec<NodeId> = Vec::new();
    for sample in timeline {
        path.clear();
        let mut at = sample.leaf;
        while let Some(parent) = merged.parent(at) {
            path.push(at);
            at = parent;
        }
        path.reverse();
        let same = path
            .iter()
            .zip(&merged_path)
            .take_while(|(a, b)| a == b)
            .count();
        merged_path.truncate(same);
        made_path.truncate(same + 1);
        for &node in &path[same..] {
            // Every node but the root has a frame, and the root is not on a path.
            let Some(frame) = merged.frame(node) else {
                break;
            };
            let parent = made_path[made_path.len() - 1];
            made_path.push(builder.last_child_or_new(parent, frame));
            merged_path.push(node);
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
