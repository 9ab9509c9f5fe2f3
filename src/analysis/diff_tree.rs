//! Two profiles merged into one tree by call path, for the difference flame graph: each node
//! carries its share of the base profile's total and of the new one's.
//!
//! A call path is the chain of function identities from the root (the same identity `obol
//! diff` matches functions by), so a path matches across files whose frame tables differ, and
//! across runs whose sampled lines moved.

use rustc_hash::FxHashMap;

use crate::profile::{
    CallTree, CallTreeBuilder, FrameId, FrameTable, FunctionKey, NodeId, ProfileSet,
};

/// The merged tree. Its weights, which the layout uses, are the mean of the two shares, so a
/// frame that vanished in the new profile (or appeared in it) still has width and can be
/// selected; `base` and `new` give each side's share.
#[derive(Debug, Clone)]
pub struct DiffTree {
    pub frames: FrameTable,
    pub tree: CallTree,
    /// Per node: total share of the base profile's total (0 where the path is absent).
    pub base: Vec<f64>,
    /// Per node: total share of the new profile's total.
    pub new: Vec<f64>,
}

impl DiffTree {
    /// New share minus base share of a node's total.
    pub fn delta(&self, node: NodeId) -> f64 {
        let i = node.0 as usize;
        self.new.get(i).copied().unwrap_or(0.0) - self.base.get(i).copied().unwrap_or(0.0)
    }
}

/// Merges `base` and `new` (each a tree over its own set's frames) by call path.
pub fn diff_tree(base: (&ProfileSet, &CallTree), new: (&ProfileSet, &CallTree)) -> DiffTree {
    let with_line = base.0.frames.function_key() == FunctionKey::NameFileLine
        && new.0.frames.function_key() == FunctionKey::NameFileLine;
    let mut frames = FrameTable::new(if with_line {
        FunctionKey::NameFileLine
    } else {
        FunctionKey::NameFile
    });
    let mut builder = CallTreeBuilder::new();
    let mut self_shares: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for (side, (set, tree)) in [base, new].into_iter().enumerate() {
        let total = tree.total();
        if total <= 0.0 {
            continue;
        }
        // Each side's frames mapped once to the merged table, by function identity.
        let mut mapped: FxHashMap<FrameId, FrameId> = FxHashMap::default();
        let shares = &mut self_shares[side];
        let mut add = |node: NodeId, share: f64| {
            let i = node.0 as usize;
            if shares.len() <= i {
                shares.resize(i + 1, 0.0);
            }
            shares[i] += share;
        };
        add(NodeId::ROOT, tree.self_weight(NodeId::ROOT) / total);
        let mut stack: Vec<(NodeId, NodeId)> = tree
            .children(NodeId::ROOT)
            .iter()
            .rev()
            .map(|&c| (c, NodeId::ROOT))
            .collect();
        while let Some((node, parent)) = stack.pop() {
            let Some(frame) = tree.frame(node) else {
                continue;
            };
            let merged = *mapped.entry(frame).or_insert_with(|| {
                let function = set.frames.function(set.frames.func_of(frame));
                let line = if with_line { function.line } else { None };
                frames.intern(function.name, function.file, line)
            });
            let copy = builder.child(parent, merged);
            add(copy, tree.self_weight(node) / total);
            stack.extend(tree.children(node).iter().rev().map(|&c| (c, copy)));
        }
    }
    let count = builder.len();
    for shares in &mut self_shares {
        shares.resize(count, 0.0);
    }
    for (i, (base, new)) in self_shares[0].iter().zip(&self_shares[1]).enumerate() {
        builder.add_self(NodeId(i as u32), (base + new) / 2.0);
    }
    let tree = builder.finish();
    // Totals per side: children have higher ids than parents, so one reverse pass sums them.
    let totals = |self_share: &[f64]| {
        let mut total = self_share.to_vec();
        for node in tree.ids().skip(1).rev() {
            if let Some(parent) = tree.parent(node) {
                total[parent.0 as usize] += total[node.0 as usize];
            }
        }
        total
    };
    let (base, new) = (totals(&self_shares[0]), totals(&self_shares[1]));
    DiffTree {
        frames,
        tree,
        base,
        new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Profile, Unit};

    fn set(stacks: &[(&[(&str, u32)], f64)]) -> ProfileSet {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let mut builder = CallTreeBuilder::new();
        for (stack, weight) in stacks {
            let ids: Vec<_> = stack
                .iter()
                .map(|(n, line)| frames.intern(n, Some("app.py"), Some(*line)))
                .collect();
            builder.add_stack(&ids, *weight);
        }
        ProfileSet {
            profiles: vec![Profile::from_tree("p", Unit::Samples, builder.finish())],
            frames,
        }
    }

    fn find(d: &DiffTree, path: &[&str]) -> NodeId {
        let mut node = NodeId::ROOT;
        for name in path {
            node = *d
                .tree
                .children(node)
                .iter()
                .find(|&&c| d.frames.frame(d.tree.frame(c).unwrap()).name == *name)
                .unwrap_or_else(|| panic!("no {name}"));
        }
        node
    }

    #[test]
    fn paths_merge_across_files_and_lines() {
        // base: main;a 6, main;b 4 (of 10). new: main;a 5 at another line, main;c 15 (of 20).
        let base = set(&[
            (&[("main", 1), ("a", 10)], 6.0),
            (&[("main", 1), ("b", 20)], 4.0),
        ]);
        let new = set(&[
            (&[("main", 1), ("a", 11)], 5.0),
            (&[("main", 1), ("c", 30)], 15.0),
        ]);
        let d = diff_tree(
            (&base, base.profiles[0].tree()),
            (&new, new.profiles[0].tree()),
        );
        let a = find(&d, &["main", "a"]);
        // a: 0.6 → 0.25, matched although its sampled line moved.
        assert!((d.base[a.0 as usize] - 0.6).abs() < 1e-12);
        assert!((d.new[a.0 as usize] - 0.25).abs() < 1e-12);
        assert!((d.delta(a) + 0.35).abs() < 1e-12);
        // b vanished, c appeared: both still have width (the mean of the shares).
        let b = find(&d, &["main", "b"]);
        let c = find(&d, &["main", "c"]);
        assert!((d.tree.total_weight(b) - 0.2).abs() < 1e-12);
        assert!((d.delta(c) - 0.75).abs() < 1e-12);
        // Both sides total 1, so the merged tree does too, and main is unchanged.
        assert!((d.tree.total() - 1.0).abs() < 1e-12);
        let main = find(&d, &["main"]);
        assert!(d.delta(main).abs() < 1e-12);
    }
}
