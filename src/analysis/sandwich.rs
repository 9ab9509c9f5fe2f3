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

    /// The callers and the callees of `func` (as [`callers`] and [`callees`] give them), from
    /// the function's nodes this index lists: each node's ancestors are read once, to tell
    /// whether the node is outermost, to order the occurrences as a walk of the tree meets them
    /// and to make the callers' chain. Nothing else of the tree is visited.
    pub fn callers_and_callees(
        &self,
        tree: &CallTree,
        frames: &FrameTable,
        func: FuncId,
    ) -> (CallTree, CallTree) {
        let nodes = self.of(func).unwrap_or_default();
        // Each outermost occurrence's path, from the node up to the root's child, one after the
        // other in `chains`; `ends[i]` closes occurrence i's.
        let mut chains: Vec<NodeId> = Vec::new();
        let mut ends: Vec<usize> = Vec::with_capacity(nodes.len());
        'nodes: for &node in nodes {
            let start = chains.len();
            chains.push(node);
            let mut at = tree.parent(node);
            while let Some(ancestor) = at {
                let Some(frame) = tree.frame(ancestor) else {
                    break;
                };
                if frames.func_of(frame) == func {
                    chains.truncate(start);
                    continue 'nodes;
                }
                chains.push(ancestor);
                at = tree.parent(ancestor);
            }
            ends.push(chains.len());
        }
        let chain = |i: usize| &chains[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
        // Children are stored in id order (as first seen), so comparing the paths from the
        // root by id at the first place they part compares siblings by place: pre-order. No
        // occurrence lies under another, so no path is a prefix of another.
        let mut order: Vec<usize> = (0..ends.len()).collect();
        order.sort_unstable_by(|&a, &b| chain(a).iter().rev().cmp(chain(b).iter().rev()));
        let (mut up, top_up) = rooted_at(frames, func);
        let (mut down, top_down) = rooted_at(frames, func);
        if let (Some(top_up), Some(top_down)) = (top_up, top_down) {
            for i in order {
                let path = chain(i);
                let occurrence = path[0];
                let mut caller = top_up;
                for &ancestor in &path[1..] {
                    if let Some(frame) = tree.frame(ancestor) {
                        caller = up.child(caller, frame);
                    }
                }
                up.add_self(caller, tree.total_weight(occurrence));
                down.add_self(top_down, tree.self_weight(occurrence));
                copy_below(&mut down, tree, occurrence, top_down);
            }
        }
        (up.finish(), down.finish())
    }
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
        assert_same_sandwich(&tree, &frames, &index, func);

        let up = callers(&tree, &frames, func);
        let top = up.children(NodeId::ROOT)[0];
        assert_eq!(up.total_weight(top), 10.0);
        assert_eq!(
            names(&up, &frames, top),
            vec![("main".into(), 5.0), ("other".into(), 5.0)]
        );
    }

    /// Each node in pre-order, as its depth, frame and weights: equal for trees that differ in
    /// nothing but where they are stored.
    fn outline(tree: &CallTree) -> Vec<(usize, Option<FrameId>, f64, f64)> {
        tree.preorder()
            .map(|n| {
                (
                    tree.depth(n),
                    tree.frame(n),
                    tree.self_weight(n),
                    tree.total_weight(n),
                )
            })
            .collect()
    }

    fn assert_same_sandwich(
        tree: &CallTree,
        frames: &FrameTable,
        index: &FunctionIndex,
        func: FuncId,
    ) {
        let (up, down) = index.callers_and_callees(tree, frames, func);
        assert_eq!(outline(&up), outline(&callers(tree, frames, func)));
        assert_eq!(outline(&down), outline(&callees(tree, frames, func)));
        // Stored order too: siblings come out in the order a walk of the tree meets them.
        assert_eq!(
            up.preorder().collect::<Vec<_>>(),
            callers(tree, frames, func).preorder().collect::<Vec<_>>()
        );
        assert_eq!(
            down.preorder().collect::<Vec<_>>(),
            callees(tree, frames, func).preorder().collect::<Vec<_>>()
        );
    }

    #[test]
    fn occurrences_made_out_of_walk_order_merge_in_walk_order() {
        // f under main;b is made after other;f, though a walk meets it first; under main;a
        // it is called recursively, and it is the stack's root in `f;x`.
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let [main, a, b, f, x, y, other] =
            ["main", "a", "b", "f", "x", "y", "other"].map(|n| frames.intern(n, None, None));
        let mut builder = CallTreeBuilder::new();
        builder.add_stack(&[main, a, f, y], 1.0);
        builder.add_stack(&[other, f, x], 2.0);
        builder.add_stack(&[main, b, f, x], 4.0);
        builder.add_stack(&[main, a, f, f, x], 8.0);
        builder.add_stack(&[f, x], 16.0);
        builder.add_stack(&[main, b, y], 32.0);
        builder.add_stack(&[main, a, f], 64.0);
        let tree = builder.finish();
        let index = FunctionIndex::new(&tree, &frames);
        for func in [f, x, y, main, a].map(|frame| frames.func_of(frame)) {
            assert_same_sandwich(&tree, &frames, &index, func);
        }
        let (up, _) = index.callers_and_callees(&tree, &frames, frames.func_of(f));
        let top = up.children(NodeId::ROOT)[0];
        // f's direct callers: a (1 + 8 + 64, the recursion counted once), b, other, in the
        // order a walk meets them, not the order their nodes were made in.
        assert_eq!(
            names(&up, &frames, top),
            vec![("a".into(), 73.0), ("b".into(), 4.0), ("other".into(), 2.0)]
        );
    }
}
