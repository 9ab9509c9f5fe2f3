//! Finishing a built tree: child rows, then totals (see [`CallTreeBuilder::shape`]).

use super::{CallTree, CallTreeBuilder, FrameId, NodeId, SparseWeights, frame_at, parent_at};

/// A tree whose nodes are all made (see [`CallTreeBuilder::shape`]): what is left of finishing
/// it is adding self weights and summing totals. Its child rows are in place, or left to be
/// made from the parents when the tree is finished ([`CallTreeBuilder::shape_without_rows`]).
#[derive(Debug, Clone)]
pub struct ShapedTree {
    frames: Vec<FrameId>,
    parents: Vec<NodeId>,
    self_weights: Vec<f64>,
    rows: Option<ChildRows>,
}

/// Children in compressed rows: `child_list[child_start[n]..child_start[n + 1]]` are n's.
#[derive(Debug, Clone)]
pub(super) struct ChildRows {
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
}

impl ChildRows {
    /// The rows of the tree whose node `i` has parent `parents[i]`, children in id order (the
    /// order they were made in). `start` and `list` are buffers to reuse.
    pub(super) fn from_parents(parents: &[NodeId], start: Vec<u32>, list: Vec<u32>) -> ChildRows {
        let len = parents.len();
        let mut child_start = start;
        child_start.clear();
        child_start.resize(len + 1, 0);
        for parent in parents.get(1..).unwrap_or_default() {
            child_start[parent.0 as usize + 1] += 1;
        }
        for i in 1..child_start.len() {
            child_start[i] += child_start[i - 1];
        }
        // Filled back to front, each parent's end moving down to its start; walking the nodes in
        // reverse keeps every row in creation order. Afterwards `child_start[p + 1]` holds p's
        // start, so the array is shifted back by one.
        let mut child_list = list;
        child_list.clear();
        child_list.resize(len.saturating_sub(1), 0);
        for i in (1..len).rev() {
            let end = &mut child_start[parents[i].0 as usize + 1];
            *end -= 1;
            child_list[*end as usize] = i as u32;
        }
        child_start.remove(0);
        child_start.push(child_list.len() as u32);
        // NodeId is a transparent u32 wrapper; the rows are stored as plain u32.
        let child_list = child_list.into_iter().map(NodeId).collect();
        ChildRows {
            child_start,
            child_list,
        }
    }
}

impl ChildRows {
    /// The finished tree of these rows and the rest of its arrays.
    pub(super) fn into_tree(
        self,
        frames: Vec<FrameId>,
        parents: Vec<NodeId>,
        totals: Vec<f64>,
        self_weights: SparseWeights,
    ) -> CallTree {
        CallTree {
            frames,
            parents,
            totals,
            self_weights,
            child_start: self.child_start,
            child_list: self.child_list,
        }
    }
}

impl CallTreeBuilder {
    /// The part of [`CallTreeBuilder::finish`] that does not depend on weights: the child rows,
    /// children in the order they were first seen. Made while weights are still being read (on
    /// another thread), it leaves only the totals for [`ShapedTree::finish`]. No node can be
    /// added afterwards; self weights still can.
    pub fn shape(self) -> ShapedTree {
        self.into_shaped(true)
    }

    /// [`CallTreeBuilder::shape`] without the child rows, for a reader that only sums figures
    /// over the tree ([`ShapedTree::sum_visiting`]): 8 bytes a node fewer, made only if the
    /// tree is finished after all.
    pub fn shape_without_rows(self) -> ShapedTree {
        self.into_shaped(false)
    }

    fn into_shaped(self, rows: bool) -> ShapedTree {
        let CallTreeBuilder {
            frames,
            parents,
            mut self_weights,
            first_child,
            next_sibling,
            child_count,
            wide_index,
        } = self;
        drop((child_count, wide_index));
        // The sibling-list buffers become the child rows: reusing them rather than allocating
        // afresh saves the page faults of ~8 bytes a node on large trees. Without rows they are
        // freed before the self weights grow to a weight for every node.
        let rows = if rows {
            Some(ChildRows::from_parents(&parents, first_child, next_sibling))
        } else {
            drop((first_child, next_sibling));
            None
        };
        self_weights.resize(frames.len(), 0.0);
        ShapedTree {
            frames,
            parents,
            self_weights,
            rows,
        }
    }
}

impl ShapedTree {
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.len() <= 1
    }

    /// As [`CallTreeBuilder::add_self`].
    #[inline]
    pub fn add_self(&mut self, node: NodeId, weight: f64) {
        self.self_weights[node.0 as usize] += weight;
    }

    /// Computes totals: the tree [`CallTreeBuilder::finish`] would have made.
    pub fn finish(self) -> CallTree {
        self.finish_visiting(|_, _, _, _| {})
    }

    /// [`ShapedTree::finish`], calling `visit(node, frame, self weight, total weight)` for every
    /// node but the root as soon as its total is known (children before parents), for figures
    /// gathered in the same pass.
    pub fn finish_visiting(self, visit: impl FnMut(NodeId, FrameId, f64, f64)) -> CallTree {
        self.sum_visiting(visit).into_call_tree()
    }

    /// The totals of [`ShapedTree::finish_visiting`], the child rows not made yet.
    pub fn sum_visiting(self, mut visit: impl FnMut(NodeId, FrameId, f64, f64)) -> SummedTree {
        let ShapedTree {
            frames,
            parents,
            self_weights,
            rows,
        } = self;
        // The sparse weights are made, and the dense ones freed, before the totals exist, so
        // the two arrays of eight bytes a node are never held at once.
        let sparse = SparseWeights::from_dense(&self_weights);
        drop(self_weights);
        let mut totals = written_zeros(frames.len());
        let mut next_value = sparse.values.len();
        for i in (0..frames.len()).rev() {
            let self_weight = if sparse.bits[i / 64] >> (i % 64) & 1 != 0 {
                next_value -= 1;
                sparse.values[next_value]
            } else {
                0.0
            };
            totals[i] += self_weight;
            if i != 0 {
                let total = totals[i];
                visit(NodeId(i as u32), frames[i], self_weight, total);
                totals[parents[i].0 as usize] += total;
            }
        }
        SummedTree {
            frames,
            parents,
            totals,
            self_weights: sparse,
            rows,
        }
    }
}

/// A tree with its totals summed, its child rows perhaps not made yet: enough to read each
/// node's figures and to walk up, and [`SummedTree::into_call_tree`] to walk down.
#[derive(Debug, Clone)]
pub struct SummedTree {
    frames: Vec<FrameId>,
    parents: Vec<NodeId>,
    totals: Vec<f64>,
    self_weights: SparseWeights,
    rows: Option<ChildRows>,
}

impl SummedTree {
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.len() <= 1
    }

    /// As [`CallTree::frame`].
    pub fn frame(&self, node: NodeId) -> Option<FrameId> {
        frame_at(&self.frames, node)
    }

    /// As [`CallTree::parent`].
    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        parent_at(&self.parents, node)
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

    /// Every node id, parents before children.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator {
        (0..self.frames.len() as u32).map(NodeId)
    }

    /// The finished tree, its child rows made now if they were not before.
    pub fn into_call_tree(self) -> CallTree {
        let SummedTree {
            frames,
            parents,
            totals,
            self_weights,
            rows,
        } = self;
        rows.unwrap_or_else(|| ChildRows::from_parents(&parents, Vec::new(), Vec::new()))
            .into_tree(frames, parents, totals, self_weights)
    }
}

/// `n` zeros, written rather than allocated zeroed: sums that read each slot before they write
/// it met every page first as the shared zero page, then copied it on the write, a second fault
/// that flushes the TLB of every core running one of our threads (5% of a 100 MB trace's
/// reading, where the replay's threads had just run).
pub(super) fn written_zeros(n: usize) -> Vec<f64> {
    let mut zeros = Vec::with_capacity(n);
    // Opaque, so that the fill is not turned back into a zeroed allocation.
    zeros.resize(n, std::hint::black_box(0.0));
    zeros
}
