//! Self and total weight per function (or any grouping of nodes) from a finished tree: the one
//! walk every figure summed from a tree goes through, so the sums come out the same bits
//! wherever they are made (an importer's worker or the summary).

use super::{CallTree, NodeId};
use crate::profile::FrameTable;

/// Self and total weight per function (indexed by [`FuncId`](crate::profile::FuncId)) from a merged tree.
///
/// A function's total adds a node's total only where no ancestor is the same function, so a
/// recursive function's samples are counted once.
pub fn tree_function_weights(tree: &CallTree, frames: &FrameTable) -> (Vec<f64>, Vec<f64>) {
    tree_group_weights(tree, frames.function_count(), |node| {
        tree.frame(node)
            .map(|frame| frames.func_of(frame).0 as usize)
    })
}

/// Self and total weight per group (`0..count`) from a tree, each node in the group `group_of`
/// gives it (`None`: the node and what is below it are skipped). `group_of` sees every node
/// after its parent. A group's total adds a node's total only where no ancestor is in the same
/// group, so each sample counts once per group.
pub fn tree_group_weights(
    tree: &CallTree,
    count: usize,
    mut group_of: impl FnMut(NodeId) -> Option<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let mut self_weight = vec![0.0; count];
    let mut total_weight = vec![0.0; count];
    let mut on_stack = vec![0u32; count];
    // (node, group when leaving): each node is visited on the way down and on the way up.
    let mut stack: Vec<(NodeId, Option<usize>)> = tree
        .children(NodeId::ROOT)
        .iter()
        .rev()
        .map(|&c| (c, None))
        .collect();
    while let Some((node, leaving)) = stack.pop() {
        if let Some(group) = leaving {
            on_stack[group] -= 1;
            continue;
        }
        let Some(group) = group_of(node) else {
            continue;
        };
        if on_stack[group] == 0 {
            total_weight[group] += tree.total_weight(node);
        }
        on_stack[group] += 1;
        self_weight[group] += tree.self_weight(node);
        stack.push((node, Some(group)));
        stack.extend(tree.children(node).iter().rev().map(|&c| (c, None)));
    }
    (self_weight, total_weight)
}
