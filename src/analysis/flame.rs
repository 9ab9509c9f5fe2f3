//! Flame graph layout: where each frame of a call tree is drawn, in eighths of a cell.
//!
//! Every position comes from a node's cumulative offset from the zoom root, `x = start · U /
//! total`, never from adding rounded widths, so that rounding cannot accumulate across siblings
//! and a frame's edges always agree with its parent's. Frames narrower than an eighth of a cell
//! are not laid out, but the cell they fall in is marked, so no weight vanishes silently.

use crate::profile::{CallTree, FrameTable, NodeId};

/// Sub-cell resolution: the eighth blocks `▏▎▍▌▋▊▉█`.
pub const UNITS_PER_CELL: u32 = 8;

/// How siblings are ordered left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildOrder {
    /// Heaviest first (Left Heavy).
    HeaviestFirst,
    /// By frame name, as Brendan Gregg's flame graphs draw merged stacks.
    Alphabetical,
    /// As stored: time order for a tree built from a timeline.
    Stored,
}

/// One frame's rectangle. `depth` 0 is the first row under the zoom root (the root itself is
/// never drawn); `x0..x1` are in [`UNITS_PER_CELL`]ths of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlameRect {
    pub node: NodeId,
    pub depth: u16,
    pub x0: u32,
    pub x1: u32,
}

impl FlameRect {
    /// First and last cell (inclusive) the rectangle touches.
    pub fn cells(&self) -> (u32, u32) {
        (self.x0 / UNITS_PER_CELL, (self.x1 - 1) / UNITS_PER_CELL)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlameLayout {
    /// Parents before children; siblings left to right.
    pub rects: Vec<FlameRect>,
    /// (depth, cell) of frames too narrow to draw, one entry per cell.
    pub marks: Vec<(u16, u32)>,
    pub width_cells: u16,
    /// Rows used: one more than the deepest depth laid out.
    pub rows: u16,
}

impl FlameLayout {
    /// The rectangle under a cell, if any.
    pub fn hit(&self, depth: u16, cell: u32) -> Option<&FlameRect> {
        let (lo, hi) = (cell * UNITS_PER_CELL, (cell + 1) * UNITS_PER_CELL);
        // Prefer the frame covering most of the cell when two share it.
        self.rects
            .iter()
            .filter(|r| r.depth == depth && r.x0 < hi && r.x1 > lo)
            .max_by_key(|r| r.x1.min(hi) - r.x0.max(lo))
    }

    pub fn find(&self, node: NodeId) -> Option<&FlameRect> {
        self.rects.iter().find(|r| r.node == node)
    }
}

/// Each frame's place in name order (name, file, line), so that siblings are sorted by a number
/// rather than by comparing strings: on a tree of tens of millions of nodes the string
/// comparisons were most of a layout's time. Frames of the same name, file and line share a
/// place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameRanks(Vec<u32>);

impl NameRanks {
    pub fn new(frames: &FrameTable) -> NameRanks {
        let all = frames.frames();
        let key = |i: u32| {
            let f = frames.frame(crate::profile::FrameId(i));
            (f.name, f.file, f.line)
        };
        let mut order: Vec<u32> = (0..all.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        let mut ranks = vec![0; all.len()];
        let mut rank = 0;
        for (i, &frame) in order.iter().enumerate() {
            if i > 0 && key(order[i - 1]) != key(frame) {
                rank = i as u32;
            }
            ranks[frame as usize] = rank;
        }
        NameRanks(ranks)
    }

    /// How many frames are ranked: those of the frame table it was made from.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The children of `node` in `order`, ties in stored order: the keys end in the child's place
/// among its siblings, so an unstable sort gives what a stable one would, and they are read once
/// rather than at every comparison.
pub fn ordered_children(
    tree: &CallTree,
    ranks: &NameRanks,
    node: NodeId,
    order: ChildOrder,
) -> Vec<NodeId> {
    let children = tree.children(node);
    let rank = |n: NodeId| tree.frame(n).map_or(0, |f| ranks.0[f.0 as usize]);
    match order {
        ChildOrder::Stored => children.to_vec(),
        ChildOrder::HeaviestFirst => {
            let mut keyed: Vec<(f64, u32, u32, NodeId)> = children
                .iter()
                .enumerate()
                .map(|(i, &c)| (tree.total_weight(c), rank(c), i as u32, c))
                .collect();
            keyed.sort_unstable_by(|a, b| {
                b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
            });
            keyed.into_iter().map(|k| k.3).collect()
        }
        ChildOrder::Alphabetical => {
            let mut keyed: Vec<(u32, u32, NodeId)> = children
                .iter()
                .enumerate()
                .map(|(i, &c)| (rank(c), i as u32, c))
                .collect();
            keyed.sort_unstable();
            keyed.into_iter().map(|k| k.2).collect()
        }
    }
}

/// Lays out the tree zoomed to `zoom` across `width_cells` cells and at most `max_rows` rows:
/// `zoom` and its ancestors span the full width (as speedscope draws a zoomed frame, with its
/// callers above it), and its subtree is spread below in proportion to `zoom`'s total. With
/// `zoom` the root, this is the whole tree.
pub fn layout(
    tree: &CallTree,
    ranks: &NameRanks,
    zoom: NodeId,
    order: ChildOrder,
    width_cells: u16,
    max_rows: u16,
) -> FlameLayout {
    let mut out = FlameLayout {
        width_cells,
        ..FlameLayout::default()
    };
    let total = tree.total_weight(zoom);
    let full = u32::from(width_cells) * UNITS_PER_CELL;
    let units = f64::from(full);
    if total <= 0.0 || width_cells == 0 || max_rows == 0 {
        return out;
    }
    let mut chain = Vec::new();
    let mut at = zoom;
    while tree.frame(at).is_some() {
        chain.push(at);
        at = tree.parent(at).unwrap_or(NodeId::ROOT);
    }
    chain.reverse();
    for (depth, &node) in chain.iter().enumerate().take(usize::from(max_rows)) {
        out.rects.push(FlameRect {
            node,
            depth: depth as u16,
            x0: 0,
            x1: full,
        });
        out.rows = depth as u16 + 1;
    }
    let first_depth = chain.len() as u16;
    if first_depth >= max_rows {
        return out;
    }
    let scale = |offset: f64| -> u32 { ((offset * units / total).floor() as u32).min(full) };
    // (node, depth, cumulative offset of the node's left edge from the zoomed frame's)
    let mut stack: Vec<(NodeId, u16, f64)> = Vec::new();
    let push_children =
        |stack: &mut Vec<(NodeId, u16, f64)>, node: NodeId, depth: u16, start: f64| {
            let mut offset = start;
            let children = ordered_children(tree, ranks, node, order);
            let mut placed = Vec::with_capacity(children.len());
            for child in children {
                placed.push((child, depth, offset));
                offset += tree.total_weight(child);
            }
            // Reversed so the leftmost child is laid out first.
            stack.extend(placed.into_iter().rev());
        };
    push_children(&mut stack, zoom, first_depth, 0.0);
    let mut last_mark: Option<(u16, u32)> = None;
    while let Some((node, depth, start)) = stack.pop() {
        let x0 = scale(start);
        let x1 = scale(start + tree.total_weight(node));
        if x1 <= x0 {
            let mark = (depth, x0.min(full - 1) / UNITS_PER_CELL);
            if tree.total_weight(node) > 0.0 && last_mark != Some(mark) {
                out.marks.push(mark);
                last_mark = Some(mark);
            }
            continue;
        }
        out.rects.push(FlameRect {
            node,
            depth,
            x0,
            x1,
        });
        out.rows = out.rows.max(depth + 1);
        if depth + 1 < max_rows {
            push_children(&mut stack, node, depth + 1, start);
        }
    }
    out.marks.sort_unstable();
    out.marks.dedup();
    // A mark in a cell a drawn frame already covers adds nothing.
    let width = usize::from(width_cells);
    let mut covered = vec![false; width * usize::from(out.rows.max(1))];
    for r in &out.rects {
        let first = r.x0.div_ceil(UNITS_PER_CELL) as usize;
        let end = (r.x1 / UNITS_PER_CELL) as usize;
        let row = usize::from(r.depth) * width;
        for cell in first..end.min(width) {
            covered[row + cell] = true;
        }
    }
    out.marks.retain(|&(depth, cell)| {
        !covered
            .get(usize::from(depth) * width + cell as usize)
            .copied()
            .unwrap_or(false)
    });
    if let Some(deepest) = out.marks.iter().map(|&(depth, _)| depth).max() {
        out.rows = out.rows.max(deepest + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CallTreeBuilder, FunctionKey};

    fn tree(stacks: &[(&[&str], f64)]) -> (CallTree, FrameTable) {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let mut builder = CallTreeBuilder::new();
        for (stack, weight) in stacks {
            let ids: Vec<_> = stack.iter().map(|n| frames.intern(n, None, None)).collect();
            builder.add_stack(&ids, *weight);
        }
        (builder.finish(), frames)
    }

    fn name(tree: &CallTree, frames: &FrameTable, r: &FlameRect) -> String {
        frames.frame(tree.frame(r.node).unwrap()).name.to_owned()
    }

    /// (name, depth, x0, x1) of every rectangle, in layout order.
    fn placed(l: &FlameLayout, t: &CallTree, f: &FrameTable) -> Vec<(String, u16, u32, u32)> {
        l.rects
            .iter()
            .map(|r| (name(t, f, r), r.depth, r.x0, r.x1))
            .collect()
    }

    #[test]
    fn widths_follow_weights_without_drift() {
        // Three equal siblings over 10 cells = 80 units: edges at 0, 26, 53, 80 (floor of
        // k·80/3), so the widths differ by a unit but the last edge lands exactly on the end.
        let (t, f) = tree(&[(&["a"], 1.0), (&["b"], 1.0), (&["c"], 1.0)]);
        let l = layout(
            &t,
            &NameRanks::new(&f),
            NodeId::ROOT,
            ChildOrder::Alphabetical,
            10,
            10,
        );
        let edges: Vec<(String, u32, u32)> = l
            .rects
            .iter()
            .map(|r| (name(&t, &f, r), r.x0, r.x1))
            .collect();
        assert_eq!(
            edges,
            vec![
                ("a".into(), 0, 26),
                ("b".into(), 26, 53),
                ("c".into(), 53, 80)
            ]
        );
    }

    #[test]
    fn children_sit_inside_parents_and_self_time_is_on_the_right() {
        let (t, f) = tree(&[
            (&["main", "x"], 2.0),
            (&["main", "y"], 6.0),
            (&["main"], 8.0),
        ]);
        let l = layout(
            &t,
            &NameRanks::new(&f),
            NodeId::ROOT,
            ChildOrder::HeaviestFirst,
            16,
            10,
        );
        let got = placed(&l, &t, &f);
        // 128 units over 16 samples: 8 units a sample; y (6) before x (2), main's own 8 after.
        assert_eq!(
            got,
            vec![
                ("main".into(), 0, 0, 128),
                ("y".into(), 1, 0, 48),
                ("x".into(), 1, 48, 64)
            ]
        );
        assert_eq!(l.rows, 2);
        assert_eq!(l.hit(1, 6).map(|r| name(&t, &f, r)), Some("x".into()));
        assert_eq!(l.hit(1, 9), None);
    }

    #[test]
    fn frames_narrower_than_a_unit_leave_a_mark() {
        // 10 cells = 80 units over 10,000 samples: `big` (1,000) spans units 0..8; `tiny` (1)
        // starts at unit 8 and ends at 8.008, so it gets no unit of its own. The root's own
        // 8,999 samples leave its cell otherwise empty, so the cell is marked.
        let (t, f) = tree(&[(&["big"], 1_000.0), (&["tiny"], 1.0), (&[], 8_999.0)]);
        let l = layout(
            &t,
            &NameRanks::new(&f),
            NodeId::ROOT,
            ChildOrder::Stored,
            10,
            10,
        );
        assert_eq!(l.rects.len(), 1);
        assert_eq!((l.rects[0].x0, l.rects[0].x1), (0, 8));
        assert_eq!(l.marks, vec![(0, 1)]);
    }

    #[test]
    fn zoom_lays_out_a_subtree_across_the_full_width() {
        let (t, f) = tree(&[(&["a", "b", "c"], 1.0), (&["a", "b"], 1.0), (&["d"], 98.0)]);
        let a = t.children(NodeId::ROOT)[0];
        let b = t.children(a)[0];
        let l = layout(&t, &NameRanks::new(&f), b, ChildOrder::Stored, 10, 10);
        // a and b (the zoomed frame) span the width; c, half of b, spans half of it below.
        let got = placed(&l, &t, &f);
        assert_eq!(
            got,
            vec![
                ("a".into(), 0, 0, 80),
                ("b".into(), 1, 0, 80),
                ("c".into(), 2, 0, 40)
            ]
        );
    }
}
