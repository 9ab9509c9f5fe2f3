//! Side by side (`s`): the first two files in the same flame pane, base on the left and new on
//! the right. Keys act on the left; the right follows by call path (the chain of function
//! identities from the root), keeping the same frame selected and zoomed where it exists.

use ratatui::layout::Rect;

use super::action::Action;
use super::panes::flame::FlameView;
use crate::analysis::flame::ChildOrder;
use crate::import::Loaded;
use crate::profile::{CallTree, FrameTable, NodeId};

/// One side: a file's tree (its profiles merged) and the view of it.
pub struct Side {
    pub file: usize,
    pub tree: CallTree,
    pub view: FlameView,
}

pub struct SideBySide {
    pub base: Side,
    pub new: Side,
    /// The selected call path's share of each side's total (all its nodes: a function may have
    /// several frames, one per line sampled); the new side's is `None` where the path is absent.
    pub shares: Option<(f64, Option<f64>)>,
}

/// A function's identity across files: name and file (and the definition line for pstats,
/// where frame and function coincide).
type Identity = (String, Option<String>, Option<u32>);

fn identity(frames: &FrameTable, tree: &CallTree, node: NodeId) -> Option<Identity> {
    let function = frames.function(frames.func_of(tree.frame(node)?));
    let line = match frames.function_key() {
        crate::profile::FunctionKey::NameFileLine => function.line,
        crate::profile::FunctionKey::NameFile => None,
    };
    Some((
        function.name.to_owned(),
        function.file.map(str::to_owned),
        line,
    ))
}

/// The identities from the root's child down to `node`.
fn path_of(frames: &FrameTable, tree: &CallTree, node: NodeId) -> Vec<Identity> {
    let mut path = Vec::new();
    let mut at = Some(node);
    while let Some(n) = at {
        if let Some(id) = identity(frames, tree, n) {
            path.push(id);
        }
        at = tree.parent(n);
    }
    path.reverse();
    path
}

/// The node at `path`, or the deepest node along it that exists; true when the whole path
/// exists. A tree keeps one node per frame, and a function may have several frames under one
/// caller (one per line sampled), so every match is followed and the heaviest taken.
fn follow(frames: &FrameTable, tree: &CallTree, path: &[Identity]) -> (NodeId, bool) {
    let heaviest = |nodes: &[NodeId]| {
        nodes
            .iter()
            .copied()
            .max_by(|a, b| tree.total_weight(*a).total_cmp(&tree.total_weight(*b)))
            .unwrap_or(NodeId::ROOT)
    };
    let mut frontier = vec![NodeId::ROOT];
    for id in path {
        let next: Vec<NodeId> = frontier
            .iter()
            .flat_map(|&n| tree.children(n).iter().copied())
            .filter(|&c| identity(frames, tree, c).as_ref() == Some(id))
            .collect();
        if next.is_empty() {
            return (heaviest(&frontier), false);
        }
        frontier = next;
    }
    (heaviest(&frontier), true)
}

/// The weight under every node at `path` (they never nest: all are at the path's depth), or
/// `None` where the tree has no such path.
fn path_weight(frames: &FrameTable, tree: &CallTree, path: &[Identity]) -> Option<f64> {
    let mut frontier = vec![NodeId::ROOT];
    for id in path {
        frontier = frontier
            .iter()
            .flat_map(|&n| tree.children(n).iter().copied())
            .filter(|&c| identity(frames, tree, c).as_ref() == Some(id))
            .collect();
        if frontier.is_empty() {
            return None;
        }
    }
    Some(frontier.iter().map(|&n| tree.total_weight(n)).sum())
}

/// A file's profiles merged, its frames grouped by function unless `by_line` (as in the other
/// flame panes).
fn merged_tree(loaded: &Loaded, by_line: bool) -> CallTree {
    use crate::analysis::transform::{Siblings, group_by_function, has_line_frames, merge};
    let frames = &loaded.set.frames;
    let grouped = !by_line && has_line_frames(frames);
    // A file's other units and events (callgrind's, pprof's sample types) are not its threads.
    match loaded.set.summed().collect::<Vec<_>>()[..] {
        [one] if grouped => group_by_function(one.tree(), frames, Siblings::Merged),
        [one] => one.tree().clone(),
        ref many => {
            let merged = merge(&many.iter().map(|p| p.tree()).collect::<Vec<_>>());
            if grouped {
                group_by_function(&merged, frames, Siblings::Merged)
            } else {
                merged
            }
        }
    }
}

impl SideBySide {
    /// The first two files, in `order`; `None` with fewer than two.
    pub fn new(files: &[Loaded], order: ChildOrder, by_line: bool) -> Option<SideBySide> {
        let side = |file: usize| -> Option<Side> {
            let loaded = files.get(file)?;
            Some(Side {
                file,
                tree: merged_tree(loaded, by_line),
                view: FlameView::new(order),
            })
        };
        Some(SideBySide {
            base: side(0)?,
            new: side(1)?,
            shares: None,
        })
    }

    /// Lays both sides out in the two halves of `area`, below a row for their names.
    pub fn relayout(&mut self, files: &[Loaded], area: Rect) {
        let half = area.width.saturating_sub(1) / 2;
        let body =
            |x: u16, width: u16| Rect::new(x, area.y + 1, width, area.height.saturating_sub(1));
        let left = body(area.x, half);
        let right = body(area.x + half + 1, area.width.saturating_sub(half + 1));
        self.base
            .view
            .relayout(&self.base.tree, &files[self.base.file].set.frames, left);
        self.new
            .view
            .relayout(&self.new.tree, &files[self.new.file].set.frames, right);
        self.sync(files);
    }

    /// Applies a flame action to the base side, then brings the new side to the same path.
    pub fn update(&mut self, files: &[Loaded], action: Action) {
        // A click on the right side selects there; the left follows it instead.
        if let Action::Click { column, .. } | Action::DoubleClick { column, .. } = action
            && column >= self.new.view.area.x
        {
            let frames = &files[self.new.file].set.frames;
            self.new.view.apply(&self.new.tree, frames, action);
            mirror(&mut self.base, &self.new, files);
            self.sync(files);
            return;
        }
        let frames = &files[self.base.file].set.frames;
        self.base.view.apply(&self.base.tree, frames, action);
        self.sync(files);
    }

    fn sync(&mut self, files: &[Loaded]) {
        mirror(&mut self.new, &self.base, files);
        self.shares = self.base.view.selected.map(|node| {
            let path = path_of(&files[self.base.file].set.frames, &self.base.tree, node);
            let share = |side: &Side| {
                let total = side.tree.total();
                path_weight(&files[side.file].set.frames, &side.tree, &path)
                    .map(|w| if total > 0.0 { w / total } else { 0.0 })
            };
            (share(&self.base).unwrap_or(0.0), share(&self.new))
        });
    }
}

/// Gives `to` the zoom and selection of `from`, path by path, as far as its tree has them.
fn mirror(to: &mut Side, from: &Side, files: &[Loaded]) {
    let (from_frames, to_frames) = (&files[from.file].set.frames, &files[to.file].set.frames);
    let mut zoom = Vec::new();
    for &node in &from.view.zoom {
        let (found, whole) = follow(to_frames, &to.tree, &path_of(from_frames, &from.tree, node));
        if !whole {
            break;
        }
        zoom.push(found);
    }
    if zoom != to.view.zoom {
        to.view.zoom = zoom;
        to.view.relayout(&to.tree, to_frames, to.view.area);
    }
    let Some(selected) = from.view.selected else {
        return;
    };
    let (found, _) = follow(
        to_frames,
        &to.tree,
        &path_of(from_frames, &from.tree, selected),
    );
    // Too narrow to draw: the selection stays on the deepest drawn frame of the path.
    let mut shown = found;
    while shown != NodeId::ROOT && to.view.layout.find(shown).is_none() {
        shown = to.tree.parent(shown).unwrap_or(NodeId::ROOT);
    }
    if shown != NodeId::ROOT {
        to.view.select(shown);
    }
}
