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
    for sample in timeline {
        let stack = merged.stack(sample.leaf);
        let mut node = NodeId::ROOT;
        for frame in stack {
            node = builder.last_child_or_new(node, frame);
        }
        builder.add_self(node, sample.weight);
    }
    builder.finish()
}

/// Nodes whose frame matches, and the weight under them with each sample counted once.
pub fn count_matches(tree: &CallTree, frame_matches: &[bool]) -> (usize, f64) {
    let mut count = 0;
    let mut weight = 0.0;
    let mut stack: Vec<(NodeId, bool)> = vec![(NodeId::ROOT, false)];
    while let Some((node, under_match)) = stack.pop() {
        let hit = tree
            .frame(node)
            .is_some_and(|f| frame_matches.get(f.0 as usize).copied().unwrap_or(false));
        if hit {
            count += 1;
            if !under_match {
                weight += tree.total_weight(node);
            }
        }
        for &child in tree.children(node) {
            stack.push((child, under_match || hit));
        }
    }
    (count, weight)
}
