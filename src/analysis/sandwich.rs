//! Sandwich view: for one function, every stack through it merged into two trees, its callers
//! (inverted: the function at the root, callers below it) and its callees.
//!
//! Only outermost occurrences are merged (those with no caller of the same function), so that
//! recursion is counted once and both trees total the function's own total.

use super::transform::copy_below;
use crate::profile::{CallTree, CallTreeBuilder, FrameId, FrameTable, FuncId, NodeId};

/// Nodes of `func` with no ancestor of `func`, in pre-order.
pub fn outermost_nodes(tree: &CallTree, frames: &FrameTable, func: FuncId) -> Vec<NodeId> {
    let mut found = Vec::new();
    let mut stack: Vec<NodeId> = tree.children(NodeId::ROOT).iter().rev().copied().collect();
    while let Some(node) = stack.pop() {
        let is_func = tree.frame(node).is_some_and(|f| frames.func_of(f) == func);
        if is_func {
            found.push(node);
        } else {
            stack.extend(tree.children(node).iter().rev().copied());
        }
    }
    found
}

/// Every node of each function, so that a function's occurrences are found without walking the
/// whole tree each time another function is selected.
///
/// Kept as one array of nodes in function order and each function's start in it: on a tree of
/// tens of millions of nodes, one vector per function cost the index most of its time in
/// growing them.
#[derive(Debug, Clone, Default)]
pub struct FunctionIndex {
    /// Function `f`'s nodes are `nodes[starts[f]..starts[f + 1]]`, in id order.
    starts: Vec<usize>,
    nodes: Vec<NodeId>,
}

impl FunctionIndex {
    pub fn new(tree: &CallTree, frames: &FrameTable) -> FunctionIndex {
        let func_of: Vec<u32> = frames.frames().map(|f| f.func.0).collect();
        let func = |node: NodeId| tree.frame(node).map(|f| func_of[f.0 as usize] as usize);
        let mut starts = vec![0usize; frames.function_count() + 1];
        for node in tree.ids() {
            if let Some(f) = func(node) {
                starts[f + 1] += 1;
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut nodes = vec![NodeId::ROOT; *starts.last().unwrap_or(&0)];
        for node in tree.ids() {
            if let Some(f) = func(node) {
                nodes[next[f]] = node;
                next[f] += 1;
            }
        }
        FunctionIndex { starts, nodes }
    }

    /// Every node of `func`, in id order.
    pub fn of(&self, func: FuncId) -> Option<&[NodeId]> {
        let f = func.0 as usize;
        let (&start, &end) = (self.starts.get(f)?, self.starts.get(f + 1)?);
        Some(&self.nodes[start..end])
    }

    /// The same as [`outermost_nodes`]: `func`'s nodes with no ancestor of `func`, in pre-order.
    pub fn outermost(&self, tree: &CallTree, frames: &FrameTable, func: FuncId) -> Vec<NodeId> {
        let Some(nodes) = self.of(func) else {
            return Vec::new();
        };
        let mut found: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|&node| {
                let mut at = tree.parent(node);
                while let Some(ancestor) = at {
                    if tree
                        .frame(ancestor)
                        .is_some_and(|f| frames.func_of(f) == func)
                    {
                        return false;
                    }
                    at = tree.parent(ancestor);
                }
                true
            })
            .collect();
        // Ids follow creation, not pre-order; sort by the path from the root so the merged
        // trees come out in the order a walk of the tree would give.
        found.sort_by_cached_key(|&n| preorder_key(tree, n));
        found
    }
}

/// A node's position among its siblings at each level, from the root: sorts in pre-order.
fn preorder_key(tree: &CallTree, node: NodeId) -> Vec<usize> {
    let mut key = Vec::new();
    let mut at = node;
    while let Some(parent) = tree.parent(at) {
        // Children are stored in id order where the tree was built by one builder: a binary
        // search finds the place then (a node of the 1 GB inputs has thousands of siblings),
        // and a scan where it does not.
        let siblings = tree.children(parent);
        let place = siblings
            .binary_search(&at)
            .unwrap_or_else(|_| siblings.iter().position(|&c| c == at).unwrap_or(0));
        key.push(place);
        at = parent;
    }
    key.reverse();
    key
}

/// A builder whose root has one child standing for `func`: the function's first frame (none if
/// the function has no frame).
fn rooted_at(frames: &FrameTable, func: FuncId) -> (CallTreeBuilder, Option<NodeId>) {
    let mut builder = CallTreeBuilder::new();
    let frame = frames
        .frames()
        .position(|f| f.func == func)
        .map(|i| FrameId(i as u32));
    let top = frame.map(|f| builder.child(NodeId::ROOT, f));
    (builder, top)
}

/// Everything `func` called, merged: the root's one child is `func`.
pub fn callees(tree: &CallTree, frames: &FrameTable, func: FuncId) -> CallTree {
    callees_of(tree, frames, func, &outermost_nodes(tree, frames, func))
}

/// [`callees`] from `func`'s outermost occurrences, already found.
pub fn callees_of(
    tree: &CallTree,
    frames: &FrameTable,
    func: FuncId,
    occurrences: &[NodeId],
) -> CallTree {
    let (mut builder, top) = rooted_at(frames, func);
    if let Some(top) = top {
        for &occurrence in occurrences {
            builder.add_self(top, tree.self_weight(occurrence));
            copy_below(&mut builder, tree, occurrence, top);
        }
    }
    builder.finish()
}

/// Everything that called `func`, inverted: the root's one child is `func`, its children its
/// direct callers, theirs the callers' callers, each weighted by the time spent in `func` under
/// that chain.
pub fn callers(tree: &CallTree, frames: &FrameTable, func: FuncId) -> CallTree {
    callers_of(tree, frames, func, &outermost_nodes(tree, frames, func))
}

/// [`callers`] from `func`'s outermost occurrences, already found.
pub fn callers_of(
    tree: &CallTree,
    frames: &FrameTable,
    func: FuncId,
    occurrences: &[NodeId],
) -> CallTree {
    let (mut builder, top) = rooted_at(frames, func);
    let Some(top) = top else {
        return builder.finish();
    };
    for &occurrence in occurrences {
        let mut node = top;
        let mut at = tree.parent(occurrence);
        while let Some(parent) = at {
            let Some(frame) = tree.frame(parent) else {
                break;
            };
            node = builder.child(node, frame);
            at = tree.parent(parent);
        }
        builder.add_self(node, tree.total_weight(occurrence));
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FunctionKey;

    fn names(tree: &CallTree, frames: &FrameTable, node: NodeId) -> Vec<(String, f64)> {
        tree.children(node)
            .iter()
            .map(|&c| {
                (
                    frames.frame(tree.frame(c).unwrap()).name.to_owned(),
                    tree.total_weight(c),
                )
            })
            .collect()
    }

    #[test]
    fn callers_and_callees_of_a_recursive_function() {
        // main;f;g 2 / main;f;f;h 3 / other;f 5 / main 1 — f recurses once; counted once.
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let [main, f, g, h, other] =
            ["main", "f", "g", "h", "other"].map(|n| frames.intern(n, None, None));
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, f, g], 2.0);
        b.add_stack(&[main, f, f, h], 3.0);
        b.add_stack(&[other, f], 5.0);
        b.add_stack(&[main], 1.0);
        let tree = b.finish();
        let func = frames.func_of(f);

        let down = callees(&tree, &frames, func);
        assert_eq!(
            names(&down, &frames, NodeId::ROOT),
            vec![("f".into(), 10.0)]
        );
        let top = down.children(NodeId::ROOT)[0];
        assert_eq!(down.self_weight(top), 5.0);
        assert_eq!(
            names(&down, &frames, top),
            vec![("g".into(), 2.0), ("f".into(), 3.0)]
        );

        let index = FunctionIndex::new(&tree, &frames);
        assert_eq!(
            index.outermost(&tree, &frames, func),
            outermost_nodes(&tree, &frames, func)
        );

        let up = callers(&tree, &frames, func);
        let top = up.children(NodeId::ROOT)[0];
        assert_eq!(up.total_weight(top), 10.0);
        assert_eq!(
            names(&up, &frames, top),
            vec![("main".into(), 5.0), ("other".into(), 5.0)]
        );
    }
}
