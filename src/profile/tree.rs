//! The merged call tree: a flat arena of nodes addressed by [`NodeId`].

use super::frame::FrameId;
use super::id_table::IdTable;

mod ordered;
mod shaped;
mod weights;

pub use ordered::OrderedTreeBuilder;
pub use shaped::{ShapedTree, SummedTree};
pub use weights::{FunctionWeights, tree_function_weights, tree_group_weights};

/// Index of a node in a [`CallTree`]. Node 0 is the synthetic root, which has no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const ROOT: NodeId = NodeId(0);
}

/// Marks the root's frame slot; no frame table ever grows this large.
const NO_FRAME: FrameId = FrameId(u32::MAX);

/// Self weights of a finished tree, stored only for the nodes that have one: a bit per node
/// says which, and the rank of the set bits indexes the weights. Most nodes of a large tree
/// (every frame of a stack but its leaf) carry no self weight, so this costs about two bits a
/// node instead of eight bytes.
#[derive(Debug, Clone, Default)]
struct SparseWeights {
    bits: Vec<u64>,
    /// Set bits in the words before each word.
    ranks: Vec<u32>,
    values: Vec<f64>,
}

impl SparseWeights {
    /// Keeps every weight whose bits are not those of `+0.0` (so a `-0.0` survives as itself).
    fn from_dense(dense: &[f64]) -> SparseWeights {
        let words = dense.len().div_ceil(64);
        let mut bits = vec![0u64; words];
        let mut ranks = Vec::with_capacity(words);
        let mut values = Vec::new();
        for (w, chunk) in dense.chunks(64).enumerate() {
            ranks.push(values.len() as u32);
            let mut word = 0u64;
            for (b, &weight) in chunk.iter().enumerate() {
                if weight.to_bits() != 0 {
                    word |= 1 << b;
                    values.push(weight);
                }
            }
            bits[w] = word;
        }
        values.shrink_to_fit();
        SparseWeights {
            bits,
            ranks,
            values,
        }
    }

    #[inline]
    fn get(&self, i: usize) -> f64 {
        let (w, b) = (i / 64, i % 64);
        let word = self.bits[w];
        if word >> b & 1 == 0 {
            return 0.0;
        }
        let below = (word & ((1u64 << b) - 1)).count_ones();
        self.values[self.ranks[w] as usize + below as usize]
    }
}

/// Identical stacks merged: every path from the root is a distinct call stack.
///
/// Children are kept in compressed rows (one offset per node into one array) so that a tree of
/// millions of nodes costs a few allocations rather than one per node. A parent's id is always
/// lower than its children's, which lets totals and other bottom-up sums run as one reverse scan.
/// Each figure is an array of its own, and self weights are stored only where they are not
/// zero: some 24 bytes a node in all.
#[derive(Debug, Clone)]
pub struct CallTree {
    frames: Vec<FrameId>,
    parents: Vec<NodeId>,
    totals: Vec<f64>,
    self_weights: SparseWeights,
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
}

impl CallTree {
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// A tree always holds its root, so it is never empty in the `Vec` sense; this says whether
    /// anything was recorded under the root.
    pub fn is_empty(&self) -> bool {
        self.frames.len() <= 1 && self.totals[0] == 0.0
    }

    /// The frame at `node`, or `None` for the root.
    pub fn frame(&self, node: NodeId) -> Option<FrameId> {
        frame_at(&self.frames, node)
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        parent_at(&self.parents, node)
    }

    pub fn children(&self, node: NodeId) -> &[NodeId] {
        let i = node.0 as usize;
        let start = self.child_start[i] as usize;
        let end = self.child_start[i + 1] as usize;
        &self.child_list[start..end]
    }

    pub fn self_weight(&self, node: NodeId) -> f64 {
        self.self_weights.get(node.0 as usize)
    }

    pub fn total_weight(&self, node: NodeId) -> f64 {
        self.totals[node.0 as usize]
    }

    /// The weight of everything in the tree.
    pub fn total(&self) -> f64 {
        self.totals[0]
    }

    /// Multiplies every weight by `factor`: a tree weighed in counts becomes one weighed in
    /// what each count stands for, each figure rounded once.
    pub fn scale_weights(&mut self, factor: f64) {
        for weight in self.totals.iter_mut().chain(&mut self.self_weights.values) {
            *weight *= factor;
        }
    }

    /// Number of frames between `node` and the root (the root's children are at depth 1).
    pub fn depth(&self, node: NodeId) -> usize {
        let mut depth = 0;
        let mut at = node;
        while let Some(parent) = self.parent(at) {
            depth += 1;
            at = parent;
        }
        depth
    }

    /// Frames from the root's child down to `node`.
    pub fn stack(&self, node: NodeId) -> Vec<FrameId> {
        let mut frames = Vec::new();
        let mut at = node;
        while let Some(frame) = self.frame(at) {
            frames.push(frame);
            at = self.parents[at.0 as usize];
        }
        frames.reverse();
        frames
    }

    /// Every node id, parents before children.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator {
        (0..self.frames.len() as u32).map(NodeId)
    }

    /// Nodes in depth-first pre-order (each node before its subtree, children in stored order).
    pub fn preorder(&self) -> Preorder<'_> {
        Preorder {
            tree: self,
            stack: vec![NodeId::ROOT],
        }
    }

    /// The child of `node` whose frame is `frame`, if any.
    pub fn child_with_frame(&self, node: NodeId, frame: FrameId) -> Option<NodeId> {
        self.children(node)
            .iter()
            .copied()
            .find(|&c| self.frames[c.0 as usize] == frame)
    }
}

/// The frame of `node` in a tree's frames, or `None` for the root.
fn frame_at(frames: &[FrameId], node: NodeId) -> Option<FrameId> {
    let frame = frames[node.0 as usize];
    (frame != NO_FRAME).then_some(frame)
}

/// The parent of `node` in a tree's parents, or `None` for the root.
fn parent_at(parents: &[NodeId], node: NodeId) -> Option<NodeId> {
    (node != NodeId::ROOT).then(|| parents[node.0 as usize])
}

/// Depth-first pre-order walk; see [`CallTree::preorder`].
pub struct Preorder<'a> {
    tree: &'a CallTree,
    stack: Vec<NodeId>,
}

impl Iterator for Preorder<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let node = self.stack.pop()?;
        self.stack
            .extend(self.tree.children(node).iter().rev().copied());
        Some(node)
    }
}

/// Builds a [`CallTree`] one stack at a time.
///
/// Children are found through per-node sibling lists, which stay in cache when a stack runs
/// through fresh or narrow nodes (the common case); only nodes with many children get a hash
/// index. A single global (parent, frame) map was measured to cost a cache miss per frame on
/// trees of a million nodes. Totals are not kept while building (25 bytes a node, not 33).
#[derive(Debug, Clone)]
pub struct CallTreeBuilder {
    frames: Vec<FrameId>,
    parents: Vec<NodeId>,
    self_weights: Vec<f64>,
    first_child: Vec<u32>,
    next_sibling: Vec<u32>,
    /// Children per node, saturating at [`WIDE`], or [`UNINDEXED`].
    child_count: Vec<u8>,
    /// Wide nodes' children by the hash of (parent, frame), keys read from `parents`/`frames`.
    wide_index: IdTable,
}

/// The hash a wide node's child is indexed by: one multiply mixes both halves into the high
/// bits, which `IdTable` folds down.
fn wide_key(parent: NodeId, frame: FrameId) -> u64 {
    ((u64::from(parent.0) << 32) | u64::from(frame.0)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A node with this many children is looked up by hash instead of by scanning.
const WIDE: u8 = 8;
/// A node given [`WIDE`] children or more by [`CallTreeBuilder::new_child`], which leaves them
/// out of the hash index until [`CallTreeBuilder::child`] needs it.
const UNINDEXED: u8 = u8::MAX;
const NO_NODE: u32 = u32::MAX;

impl Default for CallTreeBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CallTreeBuilder {
    pub fn new() -> Self {
        CallTreeBuilder {
            frames: vec![NO_FRAME],
            parents: vec![NodeId::ROOT],
            self_weights: Vec::new(),
            first_child: vec![NO_NODE],
            next_sibling: vec![NO_NODE],
            child_count: vec![0],
            wide_index: IdTable::default(),
        }
    }

    /// A builder with room for `nodes` nodes (the root among them) before it grows.
    pub fn with_capacity(nodes: usize) -> Self {
        let mut builder = Self::new();
        let more = nodes.saturating_sub(1);
        builder.frames.reserve(more);
        builder.parents.reserve(more);
        builder.first_child.reserve(more);
        builder.next_sibling.reserve(more);
        builder.child_count.reserve(more);
        builder
    }

    /// The child of `parent` for `frame`, created if it does not exist yet.
    #[inline]
    pub fn child(&mut self, parent: NodeId, frame: FrameId) -> NodeId {
        let p = parent.0 as usize;
        let key = wide_key(parent, frame);
        if self.child_count[p] == UNINDEXED {
            self.index_children(parent);
            self.child_count[p] = WIDE;
        }
        if self.child_count[p] >= WIDE {
            let (parents, frames) = (&self.parents, &self.frames);
            let found = self.wide_index.find(key, |id| {
                parents[id as usize] == parent && frames[id as usize] == frame
            });
            if let Some(id) = found {
                return NodeId(id);
            }
        } else {
            let mut at = self.first_child[p];
            while at != NO_NODE {
                if self.frames[at as usize] == frame {
                    return NodeId(at);
                }
                at = self.next_sibling[at as usize];
            }
        }
        let id = self.push_child(parent, frame);
        let count = &mut self.child_count[p];
        if *count < WIDE {
            *count += 1;
            if *count == WIDE {
                self.index_children(parent);
            }
        } else {
            self.wide_index.insert(key, id);
        }
        NodeId(id)
    }

    /// A new child of `parent` for `frame`, for a caller that knows `parent` has no child of
    /// that frame yet: unlike [`CallTreeBuilder::child`] it neither looks for one nor indexes
    /// the children of wide nodes (until `child` needs that).
    #[inline]
    pub fn new_child(&mut self, parent: NodeId, frame: FrameId) -> NodeId {
        let p = parent.0 as usize;
        debug_assert!(
            self.child_count[p] >= WIDE || {
                let mut at = self.first_child[p];
                while at != NO_NODE && self.frames[at as usize] != frame {
                    at = self.next_sibling[at as usize];
                }
                at == NO_NODE
            },
            "new_child given a frame the parent has a child for"
        );
        let id = self.push_child(parent, frame);
        let count = &mut self.child_count[p];
        match *count {
            WIDE => self.wide_index.insert(wide_key(parent, frame), id),
            UNINDEXED => {}
            n if n + 1 >= WIDE => *count = UNINDEXED,
            n => *count = n + 1,
        }
        NodeId(id)
    }

    /// The most recently created child of `parent` if its frame is `frame`, else a new child.
    /// Building only through this keeps siblings in time order, with a frame repeated where the
    /// stack left it and came back (speedscope's Time Order), instead of merging them.
    pub fn last_child_or_new(&mut self, parent: NodeId, frame: FrameId) -> NodeId {
        let p = parent.0 as usize;
        let last = self.first_child[p];
        if last != NO_NODE && self.frames[last as usize] == frame {
            return NodeId(last);
        }
        NodeId(self.push_child(parent, frame))
    }

    /// Makes a node for `frame` and links it first among `parent`'s children (the sibling list
    /// runs newest first); child counts and the wide index are the caller's business.
    #[inline]
    fn push_child(&mut self, parent: NodeId, frame: FrameId) -> u32 {
        let p = parent.0 as usize;
        let id = self.frames.len() as u32;
        self.frames.push(frame);
        self.parents.push(parent);
        self.first_child.push(NO_NODE);
        self.child_count.push(0);
        self.next_sibling.push(self.first_child[p]);
        self.first_child[p] = id;
        id
    }

    fn index_children(&mut self, parent: NodeId) {
        let mut at = self.first_child[parent.0 as usize];
        while at != NO_NODE {
            let frame = self.frames[at as usize];
            self.wide_index.insert(wide_key(parent, frame), at);
            at = self.next_sibling[at as usize];
        }
    }

    /// Records `weight` for the stack `frames` (outermost first) and returns its leaf node.
    /// An empty stack puts the weight on the root, so it still counts toward the total.
    pub fn add_stack(&mut self, frames: &[FrameId], weight: f64) -> NodeId {
        let mut node = NodeId::ROOT;
        for &frame in frames {
            node = self.child(node, frame);
        }
        self.add_self(node, weight);
        node
    }

    /// Adds self weight to a node already created with [`CallTreeBuilder::child`].
    #[inline]
    pub fn add_self(&mut self, node: NodeId, weight: f64) {
        let i = node.0 as usize;
        if i >= self.self_weights.len() {
            // Self weights are kept only as far as a node was given one: a reader that weighs
            // its nodes once they are all made (speedscope's) never holds them while building.
            self.self_weights.resize(self.frames.len().max(i + 1), 0.0);
        }
        self.self_weights[i] += weight;
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.len() <= 1
    }

    /// Computes totals and child rows. Children keep the order they were first seen in.
    pub fn finish(self) -> CallTree {
        self.shape().finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u32) -> FrameId {
        FrameId(n)
    }

    #[test]
    fn identical_stacks_merge_and_totals_add_up() {
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[f(0), f(1)], 3.0);
        b.add_stack(&[f(0), f(1)], 2.0);
        b.add_stack(&[f(0), f(2)], 4.0);
        b.add_stack(&[f(0)], 1.0);
        b.add_stack(&[], 0.5);
        let tree = b.finish();
        assert_eq!(tree.len(), 4);
        assert_eq!(tree.total(), 10.5);
        assert_eq!(tree.self_weight(NodeId::ROOT), 0.5);
        let main = tree.children(NodeId::ROOT)[0];
        assert_eq!(tree.frame(main), Some(f(0)));
        assert_eq!(tree.total_weight(main), 10.0);
        assert_eq!(tree.self_weight(main), 1.0);
        let kids: Vec<_> = tree
            .children(main)
            .iter()
            .map(|&c| (tree.frame(c).unwrap(), tree.total_weight(c)))
            .collect();
        assert_eq!(kids, vec![(f(1), 5.0), (f(2), 4.0)]);
    }

    #[test]
    fn wide_nodes_find_their_children_by_index() {
        let mut b = CallTreeBuilder::new();
        // Enough children under one parent to switch it to the hash index, added twice over.
        for round in 0..2 {
            for n in 0..40 {
                b.add_stack(&[f(1000), f(n)], f64::from(round + 1));
            }
        }
        let tree = b.finish();
        assert_eq!(tree.len(), 1 + 1 + 40);
        let parent = tree.children(NodeId::ROOT)[0];
        assert_eq!(tree.children(parent).len(), 40);
        for (n, &child) in tree.children(parent).iter().enumerate() {
            assert_eq!(tree.frame(child), Some(f(n as u32)), "creation order kept");
            assert_eq!(tree.total_weight(child), 3.0);
        }
        assert_eq!(tree.total(), 120.0);
    }

    #[test]
    fn children_added_as_new_are_found_again() {
        let mut b = CallTreeBuilder::new();
        let parent = b.child(NodeId::ROOT, f(1000));
        for n in 0..20 {
            b.new_child(parent, f(n));
        }
        // Past the width that indexes children: `child` finds them all and adds no copy.
        for n in 0..20 {
            let child = b.child(parent, f(n));
            b.add_self(child, 1.0);
        }
        b.child(parent, f(20));
        let before = b.len();
        b.new_child(parent, f(21));
        assert_eq!(b.child(parent, f(21)).0 as usize, before);
        let tree = b.finish();
        assert_eq!(tree.len(), 1 + 1 + 22);
        let kids = tree.children(tree.children(NodeId::ROOT)[0]);
        let frames: Vec<_> = kids.iter().map(|&c| tree.frame(c).unwrap()).collect();
        assert_eq!(
            frames,
            (0..22).map(f).collect::<Vec<_>>(),
            "creation order kept"
        );
        assert_eq!(tree.total(), 20.0);
    }

    #[test]
    fn sparse_self_weights_read_back_exactly() {
        let mut dense = vec![0.0; 200];
        for (i, w) in [
            (0, 1.5),
            (63, -0.0),
            (64, 2.0),
            (65, 3.0),
            (130, 0.25),
            (199, 7.0),
        ] {
            dense[i] = w;
        }
        let sparse = SparseWeights::from_dense(&dense);
        assert_eq!(sparse.values.len(), 6);
        for (i, &w) in dense.iter().enumerate() {
            assert_eq!(sparse.get(i).to_bits(), w.to_bits(), "node {i}");
        }
    }

    #[test]
    fn time_order_repeats_a_frame_the_stack_came_back_to() {
        // a;b, a;b, a;c, a;b: in time order b appears twice under one a.
        let mut b = CallTreeBuilder::new();
        for stack in [[f(0), f(1)], [f(0), f(1)], [f(0), f(2)], [f(0), f(1)]] {
            let mut node = NodeId::ROOT;
            for frame in stack {
                node = b.last_child_or_new(node, frame);
            }
            b.add_self(node, 1.0);
        }
        let tree = b.finish();
        let a = tree.children(NodeId::ROOT);
        assert_eq!(a.len(), 1);
        let runs: Vec<_> = tree
            .children(a[0])
            .iter()
            .map(|&c| (tree.frame(c).unwrap(), tree.total_weight(c)))
            .collect();
        assert_eq!(runs, vec![(f(1), 2.0), (f(2), 1.0), (f(1), 1.0)]);
    }

    #[test]
    fn stack_depth_and_preorder_agree() {
        let mut b = CallTreeBuilder::new();
        let leaf = b.add_stack(&[f(5), f(6), f(7)], 1.0);
        b.add_stack(&[f(5), f(8)], 1.0);
        let tree = b.finish();
        assert_eq!(tree.stack(leaf), vec![f(5), f(6), f(7)]);
        assert_eq!(tree.depth(leaf), 3);
        let order: Vec<_> = tree.preorder().map(|n| tree.frame(n)).collect();
        assert_eq!(
            order,
            vec![None, Some(f(5)), Some(f(6)), Some(f(7)), Some(f(8))]
        );
        assert_eq!(tree.parent(NodeId::ROOT), None);
        assert_eq!(
            tree.child_with_frame(NodeId::ROOT, f(5))
                .map(|n| tree.depth(n)),
            Some(1)
        );
    }

    #[test]
    fn shaping_first_finishes_the_same_tree() {
        let mut state = 3u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 33) as u32
        };
        let mut stacks = Vec::new();
        for _ in 0..2000 {
            let depth = next() % 6;
            let stack: Vec<FrameId> = (0..depth).map(|_| f(next() % 12)).collect();
            stacks.push((stack, f64::from(next() % 4)));
        }
        let mut plain = CallTreeBuilder::new();
        let mut leaves = Vec::new();
        for (stack, _) in &stacks {
            leaves.push(plain.add_stack(stack, 0.0));
        }
        let mut shaped = plain.clone().shape();
        for (&leaf, (_, weight)) in leaves.iter().zip(&stacks) {
            plain.add_self(leaf, *weight);
            shaped.add_self(leaf, *weight);
        }
        let plain = plain.finish();
        let mut visited = vec![None; shaped.len()];
        let shaped = shaped.finish_visiting(|node, frame, self_weight, total| {
            assert!(visited[node.0 as usize].is_none());
            visited[node.0 as usize] = Some((frame, self_weight, total));
        });
        assert_eq!(plain.len(), shaped.len());
        for node in plain.ids() {
            assert_eq!(plain.frame(node), shaped.frame(node));
            assert_eq!(plain.parent(node), shaped.parent(node));
            assert_eq!(plain.children(node), shaped.children(node));
            assert_eq!(plain.self_weight(node), shaped.self_weight(node));
            assert_eq!(plain.total_weight(node), shaped.total_weight(node));
            let seen = visited[node.0 as usize];
            if node == NodeId::ROOT {
                assert_eq!(seen, None);
            } else {
                let frame = shaped.frame(node).unwrap();
                let figures = (frame, shaped.self_weight(node), shaped.total_weight(node));
                assert_eq!(seen, Some(figures));
            }
        }
    }
}
