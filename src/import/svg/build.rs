//! The call tree rebuilt from where the frames were drawn.
//!
//! Frames of one depth share a `y`; ranking the distinct values gives depths whichever way up
//! the graph was drawn. A frame's caller is the frame one level nearer the root whose span holds
//! it, and its self weight is its width minus its callees' widths. Frames too narrow to draw
//! were left out of the SVG, so their weight stays in their caller's self weight, and the total
//! stays the root's count.

use crate::import::{ParseError, folded};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FuncId, FunctionKey, NodeId, Profile, ProfileSet, Unit,
};

use super::scan::{RawFrame, Scan};

/// `node_of` for frames not in the tree (they lie on no frame of the level below).
const NO_NODE: u32 = u32::MAX;

/// The levels of a drawing, root level first, and what both the tree and the figures
/// ([`super::figures`]) are made from.
pub(super) struct Drawn {
    /// In file order: each level is put in `x` order where it is not ([`in_x_order`]).
    pub levels: Vec<Vec<RawFrame>>,
    pub names: Vec<(Box<[u8]>, u64)>,
    /// How far a drawn edge may be from where exact arithmetic would put it.
    pub slack: f64,
    /// Whether the root level is `all`: the profile's total rather than functions.
    pub total_at_root: bool,
    pub untitled: u64,
    pub first_untitled: Option<u64>,
}

pub(super) fn drawn(found: Scan) -> Result<Drawn, ParseError> {
    let Scan {
        rows,
        names,
        ys,
        sample_geometry,
        decimals,
        untitled,
        first_untitled,
        ..
    } = found;
    let mut levels = by_height(rows, &ys);
    // The root `all` is one frame, or several side by side in a drawing of several graphs
    // (flamegraph.pl's hot/cold demos).
    let is_total = |level: &[RawFrame]| {
        !level.is_empty() && level.iter().all(|f| *names[f.name as usize].0 == *b"all")
    };
    // inferno and flamegraph.pl draw the root (`all`) at the bottom, the largest y, unless
    // inverted. Without an `all`, the root level is the widest: every level above it is a subset.
    let (lowest, highest) = match (levels.first(), levels.last()) {
        (Some(first), Some(last)) => (first.as_slice(), last.as_slice()),
        _ => return Err(ParseError::at_byte(0, "no flame graph frames")),
    };
    let root_at_bottom = if is_total(highest) {
        true
    } else if is_total(lowest) {
        false
    } else {
        sum(highest) >= sum(lowest)
    };
    if root_at_bottom {
        levels.reverse();
    }
    // How far a drawn edge may be from where exact arithmetic would put it: each of the four
    // numbers compared was rounded to `decimals` places. Sample offsets are exact.
    let slack = match sample_geometry {
        Some((true, _)) => 0.0,
        _ => 2.0 * 10f64.powi(-(decimals.min(15) as i32)),
    };
    let total_at_root = is_total(&levels[0]);
    Ok(Drawn {
        levels,
        names,
        slack,
        total_at_root,
        untitled,
        first_untitled,
    })
}

fn sum(level: &[RawFrame]) -> f64 {
    level.iter().map(|f| f.weight).sum()
}

/// Frame names made frames of the table as they are first met, in that order (it numbers the
/// functions).
pub(super) struct Interned {
    pub table: FrameTable,
    frame_of: Vec<Option<FrameId>>,
}

impl Interned {
    pub fn new(names: usize) -> Interned {
        Interned {
            table: FrameTable::new(FunctionKey::NameFile),
            frame_of: vec![None; names],
        }
    }

    pub fn intern(&mut self, names: &[(Box<[u8]>, u64)], name: u32) -> Result<FrameId, ParseError> {
        if let Some(Some(id)) = self.frame_of.get(name as usize) {
            return Ok(*id);
        }
        let (raw, at) = &names[name as usize];
        let text = unescaped(raw, *at)?;
        let (name_part, file, line) = folded::split_frame(&text);
        let id = self.table.intern(name_part, file, line);
        self.frame_of[name as usize] = Some(id);
        Ok(id)
    }

    /// The function of a name interned before.
    pub fn func_of_name(&self, name: u32) -> Option<FuncId> {
        let frame = (*self.frame_of.get(name as usize)?)?;
        Some(self.table.func_of(frame))
    }
}

/// A frame name as written, its entities resolved.
pub(super) fn unescaped(raw: &[u8], at: u64) -> Result<std::borrow::Cow<'_, str>, ParseError> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| ParseError::at_byte(at, "a frame name that is not UTF-8"))?;
    quick_xml::escape::unescape(text).map_err(|e| {
        ParseError::at_byte(
            at,
            format!("a frame name with a bad entity reference ({e})"),
        )
    })
}

pub(super) fn tree(drawn: Drawn, warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let Drawn {
        mut levels,
        names,
        slack,
        total_at_root,
        untitled,
        first_untitled,
    } = drawn;
    for level in &mut levels {
        if !in_x_order(level) {
            level.sort_unstable_by(|a, b| a.x.total_cmp(&b.x));
        }
    }
    let mut interned = Interned::new(names.len());

    // The drawing's own total: titles round their counts (flamegraph.pl's `ms`), so callees'
    // counts may add up to a little more than their caller's, and the tree's sum with them.
    let drawn_total = total_at_root.then(|| sum(&levels[0]));
    // A node per frame at most: room for them all at once, rather than each array of the
    // builder grown (and copied) a dozen times over.
    let mut builder =
        CallTreeBuilder::with_capacity(1 + levels.iter().map(Vec::len).sum::<usize>());
    let mut node_of: Vec<Vec<u32>> = levels.iter().map(|l| vec![NO_NODE; l.len()]).collect();
    if total_at_root {
        // The `all` frame is the profile's total, not a function: it is the tree's root.
        node_of[0].fill(NodeId::ROOT.0);
    } else {
        for (frame, node) in levels[0].iter().zip(&mut node_of[0]) {
            *node = builder
                .child(NodeId::ROOT, interned.intern(&names, frame.name)?)
                .0;
        }
    }

    let mut orphans = 0u64;
    let mut first_orphan = None;
    // The parent under which each frame was last made a child (see `new_child` below).
    let mut last_parent = vec![NO_NODE; names.len()];
    for depth in 1..levels.len() {
        let (nearer, further) = levels.split_at_mut(depth);
        let (parents, children) = (&mut nearer[depth - 1], &further[0]);
        let (nearer, further) = node_of.split_at_mut(depth);
        let (parent_nodes, child_nodes) = (&nearer[depth - 1], &mut further[0]);
        let mut p = 0;
        // The highest parent node given children so far at this depth.
        let mut highest = 0;
        for (child, child_node) in children.iter().zip(child_nodes.iter_mut()) {
            let best = caller(parents, &mut p, child, slack);
            let parent = match best.and_then(|b| Some((parents.get_mut(b)?, parent_nodes.get(b)?)))
            {
                Some((parent, &node)) if node != NO_NODE => (parent, node),
                _ => {
                    orphans += 1;
                    first_orphan.get_or_insert(child.at);
                    continue;
                }
            };
            let frame = interned.intern(&names, child.name)?;
            // Parents are met in the order their nodes were made, each node's children one
            // after the other, unless two frames of one level were one node (same caller, same
            // name). A frame not made a child of this node since its children began is not
            // among them: made without looking for it. Anywhere else, it is looked for.
            let node = if parent.1 >= highest && last_parent[frame.0 as usize] != parent.1 {
                highest = parent.1;
                last_parent[frame.0 as usize] = parent.1;
                builder.new_child(NodeId(parent.1), frame)
            } else {
                builder.child(NodeId(parent.1), frame)
            };
            *child_node = node.0;
            // What is left of a frame's weight after its callees is its self weight.
            parent.0.weight -= child.weight;
        }
    }

    let mut overdrawn = 0u64;
    for (level, nodes) in levels.iter().zip(&node_of) {
        for (frame, &node) in level.iter().zip(nodes) {
            if node == NO_NODE {
                continue;
            }
            if frame.weight < 0.0 {
                overdrawn += 1;
            }
            builder.add_self(NodeId(node), frame.weight.max(0.0));
        }
    }
    left_out(
        warnings,
        (orphans, first_orphan),
        (untitled, first_untitled),
        overdrawn,
    );
    // The frames are no longer needed; freeing them first keeps them out of the peak that
    // finishing the tree adds.
    drop((levels, node_of));
    let tree = builder.finish();
    let mut profile = Profile::from_tree("", Unit::Samples, tree);
    if let Some(total) = drawn_total {
        profile.total = total;
    }
    Ok(ProfileSet {
        frames: interned.table,
        profiles: vec![profile],
    })
}

/// The warnings of a drawing's frames left out (on no frame of the level below; titled without
/// a count, their label cut short) and of those narrower than their callees, each with how many
/// and, for those left out, the first's offset.
pub(super) fn left_out(
    warnings: &mut Vec<String>,
    (orphans, first_orphan): (u64, Option<u64>),
    (untitled, first_untitled): (u64, Option<u64>),
    overdrawn: u64,
) {
    if orphans > 0 {
        warnings.push(format!(
            "left out {orphans} frame{} that lie on no frame of the level below (the first at byte {})",
            if orphans == 1 { "" } else { "s" },
            first_orphan.unwrap_or(0)
        ));
    }
    if untitled > 0 {
        warnings.push(format!(
            "left out {untitled} frame{} titled without a count whose label is cut short (the first at byte {})",
            if untitled == 1 { "" } else { "s" },
            first_untitled.unwrap_or(0)
        ));
    }
    if overdrawn > 0 {
        warnings.push(format!(
            "{overdrawn} frame{} narrower than the callees drawn on them; their self weight was taken as 0",
            if overdrawn == 1 { " is" } else { "s are" }
        ));
    }
}

/// Whether a level is drawn left to right: inferno writes each level so already;
/// flamegraph.pl in hash order.
/// The caller of `child` among `parents` (the level above, in x order, not overlapping), looked
/// for from `*from` on, which is moved past the parents that end before the child: of the frames
/// the child's span may lie on, the one it overlaps most (with pixels rounded to 0.1, a narrow
/// neighbour can end within the slack of the child's end too, and is not its caller), if the
/// child lies on it within `slack`.
#[inline]
pub(super) fn caller(
    parents: &[RawFrame],
    from: &mut usize,
    child: &RawFrame,
    slack: f64,
) -> Option<usize> {
    let child_end = child.x + child.w;
    let mut p = *from;
    while p < parents.len() && parents[p].x + parents[p].w + slack < child_end {
        p += 1;
    }
    *from = p;
    let mut best = p;
    let mut most = f64::NEG_INFINITY;
    let mut q = p;
    while q < parents.len() && parents[q].x - slack <= child_end {
        let overlap = (parents[q].x + parents[q].w).min(child_end) - parents[q].x.max(child.x);
        if overlap > most {
            (best, most) = (q, overlap);
        }
        q += 1;
    }
    let parent = parents.get(best)?;
    (parent.x - slack <= child.x && child_end <= parent.x + parent.w + slack).then_some(best)
}

pub(super) fn in_x_order(level: &[RawFrame]) -> bool {
    level.is_sorted_by(|a, b| a.x <= b.x)
}

/// The rows of frames ordered by their `y`, smallest first.
fn by_height(rows: Vec<Vec<RawFrame>>, ys: &[f64]) -> Vec<Vec<RawFrame>> {
    let mut rows: Vec<(f64, Vec<RawFrame>)> = ys.iter().copied().zip(rows).collect();
    rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    rows.into_iter().map(|(_, row)| row).collect()
}
