//! Self and total weight per function (or any grouping of nodes) from a finished tree: the one
//! walk every figure summed from a tree goes through, so the sums come out the same bits
//! wherever they are made (an importer's worker or the summary).

use super::shaped::written_zeros;
use super::{CallTree, CallTreeBuilder, NodeId};
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

/// What [`tree_function_weights`] gives for the tree a builder finishes into, with that tree's
/// total.
pub struct FunctionWeights {
    pub total: f64,
    pub self_weights: Vec<f64>,
    pub total_weights: Vec<f64>,
}

impl CallTreeBuilder {
    /// Room for `nodes` self weights (the root among them), for a reader that weighs nodes as
    /// it makes them: they then grow in place, where growing by doubling copied them (a fifth
    /// of a trace's page faults). Room never written costs no memory.
    pub fn reserve_self_weights(&mut self, nodes: usize) {
        self.self_weights
            .reserve(nodes.saturating_sub(self.self_weights.len()));
    }

    /// [`tree_function_weights`] of the finished tree, summed from the builder's own arrays, for
    /// a reader that needs those figures and not the tree: the same additions in the same
    /// order, so the same bits (each node's total as [`CallTreeBuilder::finish`] sums it, then
    /// the nodes in pre-order, children in the order they were made). The walk with a stack
    /// was a tenth of a large trace's reading, most of it in mispredicted branches and loads
    /// waiting on loads; here each node's place in pre-order is computed, then the nodes are
    /// read in that order, in passes over arrays without a branch that depends on the tree's
    /// shape. Where `keep` refuses the figures, the finished tree instead (boxed: it is the rare
    /// way out).
    #[inline(never)]
    pub fn into_function_weights(
        self,
        frames: &FrameTable,
        keep: impl FnOnce(&FunctionWeights) -> bool,
    ) -> Result<FunctionWeights, Box<CallTree>> {
        let CallTreeBuilder {
            frames: node_frames,
            parents,
            self_weights,
            first_child: mut size,
            next_sibling: mut order,
            child_count,
            wide_index,
        } = self;
        drop((child_count, wide_index));
        let n = node_frames.len();
        let self_of = |i: usize| self_weights.get(i).copied().unwrap_or(0.0);
        // Totals as `ShapedTree::sum_visiting` adds them: children into their parent from the
        // last node back, each node's own weight first; subtree sizes meanwhile.
        let mut totals = written_zeros(n);
        size.clear();
        size.resize(n, 1);
        for i in (1..n).rev() {
            totals[i] += self_of(i);
            let p = parents[i].0 as usize;
            totals[p] += totals[i];
            size[p] += size[i];
        }
        totals[0] += self_of(0);
        // Places in pre-order, parents before children and siblings in the order made (as
        // ids run): each node takes the next free place of its parent's subtree. The sizes
        // become, for each node, the next free place of its subtree: once its children have
        // theirs, where its subtree ends.
        order.clear();
        order.resize(n, 0);
        let free = &mut size;
        free[0] = 1;
        for i in 1..n {
            let p = parents[i].0 as usize;
            let at = free[p];
            free[p] += free[i];
            free[i] = at + 1;
            order[at as usize] = i as u32;
        }
        let ends = free;
        let count = frames.function_count();
        let func = frames.func_of_each_frame();
        let mut self_weight = vec![0.0; count];
        let mut total_weight = vec![0.0; count];
        // Where the subtree of the outermost node of each function open at a place ends: a
        // node past it has no ancestor of its function (one of the function's nodes after
        // that outermost one and before the place would be inside its subtree, so not
        // outermost itself).
        let mut open_until = vec![0u32; count];
        for (at, &node) in order.iter().enumerate().skip(1) {
            let node = node as usize;
            let g = func[node_frames[node].0 as usize] as usize;
            if open_until[g] <= at as u32 {
                total_weight[g] += totals[node];
                open_until[g] = ends[node];
            }
            self_weight[g] += self_of(node);
        }
        let weights = FunctionWeights {
            total: totals[0],
            self_weights: self_weight,
            total_weights: total_weight,
        };
        if keep(&weights) {
            return Ok(weights);
        }
        drop(totals);
        let builder = CallTreeBuilder {
            frames: node_frames,
            parents,
            self_weights,
            first_child: size,
            next_sibling: order,
            child_count: Vec::new(),
            wide_index: Default::default(),
        };
        Err(Box::new(builder.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::test_rng::xorshift as rng;
    use crate::profile::{FrameId, FunctionKey};

    /// Random trees, built as a replay builds them (stacks coming back to nodes made long
    /// before, recursion, frames of one function at several lines, weights that round): the
    /// builder's figures are the finished tree's walk's, to the bit.
    #[test]
    fn the_builders_figures_are_the_walks_to_the_bit() {
        let mut seed = 0x2545_F491_4F6C_DD1D;
        for round in 0..300 {
            let mut frames = FrameTable::new(FunctionKey::NameFile);
            let functions = 1 + rng(&mut seed) % 6;
            let ids: Vec<FrameId> = (0..functions * 2)
                .map(|i| {
                    frames.intern(&format!("f{}", i % functions), Some("a.py"), Some(i as u32))
                })
                .collect();
            let mut builder = CallTreeBuilder::new();
            let mut open = vec![NodeId::ROOT];
            for _ in 0..rng(&mut seed) % 400 {
                match rng(&mut seed) % 5 {
                    0 | 1 if open.len() < 12 => {
                        let frame = ids[(rng(&mut seed) % ids.len() as u64) as usize];
                        let node = builder.child(*open.last().unwrap(), frame);
                        open.push(node);
                    }
                    2 if open.len() > 1 => {
                        open.pop();
                    }
                    _ => {
                        let weight = (rng(&mut seed) % 1000) as f64 * 0.013 + 1e-3;
                        let weight = if round % 11 == 0 { -weight } else { weight };
                        builder.add_self(*open.last().unwrap(), weight);
                    }
                }
            }
            let tree = builder.clone().finish();
            let (self_weights, total_weights) = tree_function_weights(&tree, &frames);
            let total = tree.total();
            let figures = builder
                .into_function_weights(&frames, |_| true)
                .unwrap_or_else(|_| panic!("kept"));
            let bits = |v: &[f64]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&figures.self_weights),
                bits(&self_weights),
                "round {round}"
            );
            assert_eq!(
                bits(&figures.total_weights),
                bits(&total_weights),
                "round {round}"
            );
            assert_eq!(figures.total.to_bits(), total.to_bits(), "round {round}");
        }
    }

    #[test]
    fn figures_refused_give_the_finished_tree() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let f = frames.intern("f", None, None);
        let mut builder = CallTreeBuilder::new();
        builder.add_stack(&[f, f], 2.0);
        let tree = builder
            .clone()
            .into_function_weights(&frames, |_| false)
            .err()
            .unwrap_or_else(|| panic!("refused"));
        assert_eq!(tree.total(), 2.0);
        assert_eq!(tree.len(), builder.finish().len());
    }
}
