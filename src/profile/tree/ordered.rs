//! A tree made in recorded order (Time Order's), where a frame is merged only with its parent's
//! last child. Such a tree has tens of millions of nodes for a long recording of varied stacks,
//! and is never searched by frame: it needs neither sibling lists nor child counts nor a hash
//! index, only each node's last child. 12 bytes a node while it is made instead of
//! [`CallTreeBuilder`]'s 25, and self weights kept per sample, not per node.

use super::shaped::ChildRows;
use super::{CallTree, FrameId, NO_FRAME, NodeId, SparseWeights};

const NO_NODE: u32 = u32::MAX;

/// Builds the [`CallTree`] that [`super::CallTreeBuilder`] would build through
/// [`super::CallTreeBuilder::last_child_or_new`] and `add_self` alone, node for node and bit for
/// bit, in less memory and time.
#[derive(Debug, Clone)]
pub struct OrderedTreeBuilder {
    frames: Vec<FrameId>,
    parents: Vec<NodeId>,
    /// Each node's most recently made child, or [`NO_NODE`].
    last_child: Vec<u32>,
    /// Self weights as given, one entry per call: a node has one for each sample that ends on
    /// it, far fewer than the nodes of a tree whose samples' stacks differ.
    weights: Vec<(u32, f64)>,
}

impl Default for OrderedTreeBuilder {
    fn default() -> Self {
        Self::with_capacity(1)
    }
}

impl OrderedTreeBuilder {
    /// A builder with room for `nodes` nodes (the root among them) before it grows.
    pub fn with_capacity(nodes: usize) -> Self {
        let nodes = nodes.max(1);
        let mut builder = OrderedTreeBuilder {
            frames: Vec::with_capacity(nodes),
            parents: Vec::with_capacity(nodes),
            last_child: Vec::with_capacity(nodes),
            weights: Vec::new(),
        };
        builder.frames.push(NO_FRAME);
        builder.parents.push(NodeId::ROOT);
        builder.last_child.push(NO_NODE);
        builder
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.len() <= 1
    }

    /// The most recently made child of `parent` if its frame is `frame`, else a new child.
    #[inline]
    pub fn last_child_or_new(&mut self, parent: NodeId, frame: FrameId) -> NodeId {
        let p = parent.0 as usize;
        let last = self.last_child[p];
        if last != NO_NODE && self.frames[last as usize] == frame {
            return NodeId(last);
        }
        let id = self.frames.len() as u32;
        self.frames.push(frame);
        self.parents.push(parent);
        self.last_child.push(NO_NODE);
        self.last_child[p] = id;
        NodeId(id)
    }

    /// Adds self weight to a node made already.
    #[inline]
    pub fn add_self(&mut self, node: NodeId, weight: f64) {
        self.weights.push((node.0, weight));
    }

    /// Sums each node's self weights (in the order they were given, from zero, as a dense array
    /// would), the totals and the child rows: the tree `CallTreeBuilder::finish` makes.
    pub fn finish(self) -> CallTree {
        let OrderedTreeBuilder {
            frames,
            parents,
            last_child,
            mut weights,
        } = self;
        // Stable: each node's weights keep the order they were added in.
        weights.sort_by_key(|&(node, _)| node);
        let self_weights = SparseWeights::from_sorted(frames.len(), &weights);
        drop(weights);
        let mut totals = super::shaped::written_zeros(frames.len());
        let mut next_value = self_weights.values.len();
        // The order of additions is `ShapedTree::sum_visiting`'s: children's totals (last
        // first), then the node's own weight.
        for i in (0..frames.len()).rev() {
            if self_weights.bits[i / 64] >> (i % 64) & 1 != 0 {
                next_value -= 1;
                totals[i] += self_weights.values[next_value];
            }
            if i != 0 {
                totals[parents[i].0 as usize] += totals[i];
            }
        }
        ChildRows::from_parents(&parents, last_child, Vec::new()).into_tree(
            frames,
            parents,
            totals,
            self_weights,
        )
    }
}

impl SparseWeights {
    /// The weights of `len` nodes given as (node, weight) sorted by node (stably): each node's
    /// weights summed from zero in their order, kept where the sum's bits are not those of
    /// `+0.0`, as [`SparseWeights::from_dense`] keeps them.
    fn from_sorted(len: usize, weights: &[(u32, f64)]) -> SparseWeights {
        let words = len.div_ceil(64);
        let mut bits = vec![0u64; words];
        let mut ranks = vec![0u32; words];
        let mut values = Vec::new();
        let mut at = 0;
        let mut word = 0;
        while at < weights.len() {
            let node = weights[at].0 as usize;
            let mut sum = 0.0f64;
            while at < weights.len() && weights[at].0 as usize == node {
                sum += weights[at].1;
                at += 1;
            }
            // The words up to this node's get their ranks: the values before them.
            while word <= node / 64 {
                ranks[word] = values.len() as u32;
                word += 1;
            }
            if sum.to_bits() != 0 {
                bits[node / 64] |= 1 << (node % 64);
                values.push(sum);
            }
        }
        for rank in &mut ranks[word.min(words)..] {
            *rank = values.len() as u32;
        }
        values.shrink_to_fit();
        SparseWeights {
            bits,
            ranks,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::CallTreeBuilder;
    use super::*;

    /// A walk that goes down, back up and down again, as samples' stacks do, the same steps
    /// given to both builders.
    #[test]
    fn the_tree_is_the_general_builders_bit_for_bit() {
        let mut seed = 7u64;
        let mut next = |below: u64| crate::test_rng::lcg(&mut seed) % below;
        let mut general = CallTreeBuilder::new();
        let mut ordered = OrderedTreeBuilder::with_capacity(4);
        let mut path = vec![NodeId::ROOT];
        let mut same = vec![NodeId::ROOT];
        for _ in 0..20_000 {
            // Up some way, then down with frames from a few, so that last children recur.
            let keep = 1 + next(path.len() as u64) as usize;
            path.truncate(keep);
            same.truncate(keep);
            for _ in 0..next(4) {
                let frame = FrameId(next(3) as u32);
                let a = general.last_child_or_new(path[path.len() - 1], frame);
                let b = ordered.last_child_or_new(same[same.len() - 1], frame);
                assert_eq!(a, b);
                path.push(a);
                same.push(b);
            }
            // Weights of every sign and size, a zero and a negative zero among them.
            let weight = match next(6) {
                0 => 0.0,
                1 => -0.0,
                2 => -0.1,
                _ => next(1000) as f64 * 0.37,
            };
            general.add_self(path[path.len() - 1], weight);
            ordered.add_self(same[same.len() - 1], weight);
        }
        let (want, got) = (general.finish(), ordered.finish());
        assert!(want.len() > 1000, "{}", want.len());
        assert_eq!(want.frames, got.frames);
        assert_eq!(want.parents, got.parents);
        assert_eq!(want.child_start, got.child_start);
        assert_eq!(want.child_list, got.child_list);
        let bits = |v: &[f64]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&want.totals), bits(&got.totals));
        assert_eq!(want.self_weights.bits, got.self_weights.bits);
        assert_eq!(want.self_weights.ranks, got.self_weights.ranks);
        assert_eq!(
            bits(&want.self_weights.values),
            bits(&got.self_weights.values)
        );
    }

    #[test]
    fn a_tree_of_the_root_alone_has_its_weight() {
        let mut ordered = OrderedTreeBuilder::default();
        ordered.add_self(NodeId::ROOT, 2.5);
        let tree = ordered.finish();
        assert_eq!(tree.len(), 1);
        assert_eq!(tree.total(), 2.5);
        assert_eq!(tree.self_weight(NodeId::ROOT), 2.5);
        let empty = OrderedTreeBuilder::default().finish();
        assert!(empty.is_empty());
    }
}
