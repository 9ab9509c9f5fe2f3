//! A flame graph pane (Time Order / Flamegraph, Left Heavy, and the sandwich's two halves):
//! zoom history, selection and the layout, which is computed on update and only read when
//! drawing, so that drawing and mouse hits use the same rectangles.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

use crate::analysis::flame::{
    ChildOrder, FlameLayout, FlameRect, NameRanks, UNITS_PER_CELL, layout,
};
use crate::profile::{CallTree, FrameTable, NodeId};
use crate::text::escape_control;
use crate::tui::theme::{Theme, package_hash, package_of};

/// Rows laid out below the zoomed frame; deeper stacks are reached by zooming.
const MAX_ROWS: u16 = 1024;

/// Left-aligned blocks, one to seven eighths wide.
const LEFT_BLOCKS: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

#[derive(Debug, Clone)]
pub struct FlameView {
    pub order: ChildOrder,
    /// Zoom history; the last entry is the zoomed frame (none: the whole tree).
    pub zoom: Vec<NodeId>,
    pub selected: Option<NodeId>,
    pub layout: FlameLayout,
    /// The first depth shown.
    pub scroll: u16,
    pub area: Rect,
    /// Root on top (icicle, as speedscope) or at the bottom (flame).
    pub icicle: bool,
    /// Time Order's time axis, drawn on the row below the area: (column, label) per tick.
    pub axis: Vec<(u16, String)>,
    /// Sibling order by name, made once per frame table (see [`NameRanks`]); shared with the
    /// views made from this one by [`FlameView::fresh`].
    ranks: Arc<NameRanks>,
    /// Each frame's package, hashed for its colour: made with `ranks`, so that drawing tens of
    /// thousands of frames does not look for each one's package in its path again.
    packages: Arc<Vec<u64>>,
    /// The frame table `ranks` and `packages` were made from (its address and size): they
    /// depend on it alone, so a new tree over the same frames keeps them.
    ranked: (usize, usize),
    /// Layouts made for this tree, most recent last, so that going back to a frame laid out
    /// before (Esc, 0, another pane and back, a badge line toggled) costs no layout of a large
    /// tree. Forgotten by [`FlameView::clear`], which every change of tree calls.
    cache: Vec<(LayoutKey, FlameLayout)>,
}

/// What a layout depends on besides the tree: the zoomed frame, the order, the width, and the
/// tree's size as a check that the tree is the one laid out.
type LayoutKey = (NodeId, ChildOrder, u16, usize);

/// Layouts kept per view: the whole tree and a few zoom levels.
const CACHED_LAYOUTS: usize = 8;

/// Which way to move the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Parent,
    Child,
    PrevSibling,
    NextSibling,
}

impl FlameView {
    pub fn new(order: ChildOrder) -> FlameView {
        FlameView {
            order,
            zoom: Vec::new(),
            selected: None,
            layout: FlameLayout::default(),
            scroll: 0,
            area: Rect::default(),
            icicle: true,
            axis: Vec::new(),
            ranks: Arc::default(),
            packages: Arc::default(),
            ranked: (0, 0),
            cache: Vec::new(),
        }
    }

    pub fn zoom_root(&self) -> NodeId {
        self.zoom.last().copied().unwrap_or(NodeId::ROOT)
    }

    /// Recomputes the layout for `area` and keeps the selection on screen.
    pub fn relayout(&mut self, tree: &CallTree, frames: &FrameTable, area: Rect) {
        self.area = area;
        let key = (self.zoom_root(), self.order, area.width, tree.len());
        if let Some(at) = self.cache.iter().position(|(k, _)| *k == key) {
            let entry = self.cache.remove(at);
            self.layout = entry.1.clone();
            self.cache.push(entry);
        } else {
            let table = (std::ptr::from_ref(frames) as usize, frames.frame_count());
            if self.ranked != table {
                self.ranked = table;
                self.ranks = Arc::new(NameRanks::new(frames));
                self.packages = Arc::new(
                    frames
                        .frames()
                        .map(|f| package_hash(&package_of(f.file, f.name)))
                        .collect(),
                );
            }
            self.layout = layout(
                tree,
                &self.ranks,
                self.zoom_root(),
                self.order,
                area.width,
                MAX_ROWS,
            );
            if self.cache.len() == CACHED_LAYOUTS {
                self.cache.remove(0);
            }
            self.cache.push((key, self.layout.clone()));
        }
        // Nothing chosen yet: the heaviest frame of the top row, which is on the heaviest
        // path, rather than whatever lies at the left edge (in Time Order, the first import).
        if self.selected.is_none_or(|s| self.layout.find(s).is_none()) {
            let top = self.layout.rects.iter().map(|r| r.depth).min();
            self.selected = self
                .layout
                .rects
                .iter()
                .filter(|r| Some(r.depth) == top)
                .max_by_key(|r| (r.x1 - r.x0, std::cmp::Reverse(r.x0)))
                .map(|r| r.node);
        }
        self.ensure_visible();
    }

    fn ensure_visible(&mut self) {
        let Some(rect) = self.selected.and_then(|s| self.layout.find(s)) else {
            return;
        };
        let height = self.area.height.max(1);
        if rect.depth < self.scroll {
            self.scroll = rect.depth;
        } else if rect.depth >= self.scroll + height {
            self.scroll = rect.depth + 1 - height;
        }
    }

    pub fn select(&mut self, node: NodeId) {
        self.selected = Some(node);
        self.ensure_visible();
    }

    /// Moves the selection; with no rectangle in that direction it stays.
    pub fn step(&mut self, tree: &CallTree, step: Step) {
        let Some(current) = self.selected.and_then(|s| self.layout.find(s)).copied() else {
            return;
        };
        let next = match step {
            Step::Parent => tree
                .parent(current.node)
                .filter(|p| self.layout.find(*p).is_some()),
            Step::Child => self
                .layout
                .rects
                .iter()
                .filter(|r| {
                    r.depth == current.depth + 1 && tree.parent(r.node) == Some(current.node)
                })
                .max_by_key(|r| (r.x1 - r.x0, std::cmp::Reverse(r.x0)))
                .map(|r| r.node),
            Step::PrevSibling => self
                .row(current.depth)
                .filter(|r| r.x1 <= current.x0)
                .max_by_key(|r| r.x0)
                .map(|r| r.node),
            Step::NextSibling => self
                .row(current.depth)
                .filter(|r| r.x0 >= current.x1)
                .min_by_key(|r| r.x0)
                .map(|r| r.node),
        };
        if let Some(node) = next {
            self.select(node);
        }
    }

    fn row(&self, depth: u16) -> impl Iterator<Item = &FlameRect> {
        self.layout.rects.iter().filter(move |r| r.depth == depth)
    }

    /// Zooms to the selected frame. Returns false when it is already the zoomed frame.
    pub fn zoom_in(&mut self, tree: &CallTree, frames: &FrameTable) -> bool {
        match self.selected {
            Some(node) if node != self.zoom_root() => {
                self.zoom.push(node);
                self.relayout(tree, frames, self.area);
                true
            }
            _ => false,
        }
    }

    /// One step back through the zoom history. Returns false when not zoomed.
    pub fn zoom_out(&mut self, tree: &CallTree, frames: &FrameTable) -> bool {
        let Some(previous) = self.zoom.pop() else {
            return false;
        };
        self.selected = Some(previous);
        self.relayout(tree, frames, self.area);
        true
    }

    pub fn reset(&mut self, tree: &CallTree, frames: &FrameTable) {
        self.zoom.clear();
        self.relayout(tree, frames, self.area);
    }

    /// A view in the same order and orientation, with nothing laid out, sharing the name order
    /// and colours made for the frame table: for a worker to lay a new tree out in.
    pub fn fresh(&self) -> FlameView {
        FlameView {
            icicle: self.icicle,
            ranks: self.ranks.clone(),
            packages: self.packages.clone(),
            ranked: self.ranked,
            ..FlameView::new(self.order)
        }
    }

    /// Forgets zoom, selection and the layouts made: for a different tree (over the same frames
    /// or not: `ranked` tells).
    pub fn clear(&mut self) {
        self.zoom.clear();
        self.selected = None;
        self.scroll = 0;
        self.cache.clear();
    }

    /// Takes the layouts `prepared` made of the same tree (on a worker, before this view was
    /// given the tree), so that the first frame needs no layout on the UI thread.
    pub fn adopt(&mut self, prepared: FlameView) {
        self.ranks = prepared.ranks;
        self.packages = prepared.packages;
        self.ranked = prepared.ranked;
        self.cache = prepared.cache;
    }

    /// The screen row of a depth, if shown.
    fn screen_row(&self, depth: u16) -> Option<u16> {
        let height = self.area.height;
        if depth < self.scroll || depth >= self.scroll + height {
            return None;
        }
        let offset = depth - self.scroll;
        Some(if self.icicle {
            self.area.y + offset
        } else {
            self.area.y + height - 1 - offset
        })
    }

    /// The frame under a screen position.
    pub fn hit(&self, column: u16, row: u16) -> Option<NodeId> {
        let area = self.area;
        if column < area.x
            || column >= area.x + area.width
            || row < area.y
            || row >= area.y + area.height
        {
            return None;
        }
        let offset = if self.icicle {
            row - area.y
        } else {
            area.y + area.height - 1 - row
        };
        self.layout
            .hit(self.scroll + offset, u32::from(column - area.x))
            .map(|r| r.node)
    }

    /// Moving, zooming, scrolling and the mouse, the same in every flame graph. Returns false
    /// for an action it does not handle (and for Back with nothing to zoom out of).
    pub fn apply(
        &mut self,
        tree: &CallTree,
        frames: &FrameTable,
        action: crate::tui::action::Action,
    ) -> bool {
        use crate::tui::action::Action;
        // Arrows follow the picture: with the root at the bottom, up is towards the callees.
        let (up, down) = if self.icicle {
            (Step::Parent, Step::Child)
        } else {
            (Step::Child, Step::Parent)
        };
        match action {
            Action::Up => self.step(tree, up),
            Action::Down => self.step(tree, down),
            Action::Left => self.step(tree, Step::PrevSibling),
            Action::Right => self.step(tree, Step::NextSibling),
            Action::Zoom => {
                self.zoom_in(tree, frames);
            }
            Action::Back => return self.zoom_out(tree, frames),
            Action::ResetZoom => self.reset(tree, frames),
            Action::ScrollUp => self.scroll_by(-3),
            Action::PageUp => self.scroll_by(-10),
            Action::ScrollDown => self.scroll_by(3),
            Action::PageDown => self.scroll_by(10),
            Action::Click { column, row } => {
                if let Some(node) = self.hit(column, row) {
                    self.select(node);
                }
            }
            Action::DoubleClick { column, row } => {
                if let Some(node) = self.hit(column, row) {
                    self.select(node);
                    self.zoom_in(tree, frames);
                }
            }
            _ => return false,
        }
        true
    }

    pub fn scroll_by(&mut self, delta: i32) {
        let max = self.layout.rows.saturating_sub(self.area.height.max(1));
        self.scroll = (i32::from(self.scroll) + delta).clamp(0, i32::from(max)) as u16;
    }
}

/// How one frame is to be painted.
pub struct Paint<'a> {
    pub tree: &'a CallTree,
    pub frames: &'a FrameTable,
    pub theme: &'a Theme,
    /// Colour by self-time share instead of by package.
    pub heat: bool,
    /// With a search active: whether a frame matches.
    pub matches: Option<&'a [bool]>,
    /// In the difference view: each node's change of share, and the largest change.
    pub deltas: Option<(&'a [f64], f64)>,
}

/// Draws the view's layout into the buffer.
pub fn render(view: &FlameView, paint: &Paint<'_>, buf: &mut Buffer) {
    let area = view.area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let total = paint
        .tree
        .total_weight(view.zoom_root())
        .max(f64::MIN_POSITIVE);
    for (i, rect) in view.layout.rects.iter().enumerate() {
        let Some(y) = view.screen_row(rect.depth) else {
            continue;
        };
        let style = frame_style(view, paint, rect, i, total);
        draw_rect(buf, area, y, rect, style, || label(paint, rect.node));
    }
    if !view.axis.is_empty() && area.bottom() < buf.area.bottom() {
        draw_axis(buf, area, area.bottom(), &view.axis, paint.theme);
    }
    let mark_style = paint.theme.dimmed();
    for &(depth, cell) in &view.layout.marks {
        if let Some(y) = view.screen_row(depth) {
            let x = area.x + cell as u16;
            // A mark only fills empty space: it never covers a frame's label.
            if x < area.x + area.width && is_blank(&buf[(x, y)]) {
                buf[(x, y)].set_symbol("▏").set_style(mark_style);
            }
        }
    }
}

fn frame_style(
    view: &FlameView,
    paint: &Paint<'_>,
    rect: &FlameRect,
    index: usize,
    total: f64,
) -> Style {
    if view.selected == Some(rect.node) {
        return paint.theme.selected();
    }
    let frame = paint.tree.frame(rect.node);
    if let Some(matches) = paint.matches {
        let hit = frame.is_some_and(|f| matches.get(f.0 as usize).copied().unwrap_or(false));
        return if hit {
            paint.theme.matched()
        } else {
            paint.theme.dimmed()
        };
    }
    let alternate = index % 2 == 1;
    if let Some((deltas, largest)) = paint.deltas {
        let delta = deltas.get(rect.node.0 as usize).copied().unwrap_or(0.0);
        let scaled = if largest > 0.0 { delta / largest } else { 0.0 };
        return paint.theme.delta(scaled, alternate);
    }
    if paint.heat {
        let share = paint.tree.self_weight(rect.node)
            / paint.tree.total_weight(rect.node).max(f64::MIN_POSITIVE);
        let weight = paint.tree.total_weight(rect.node) / total;
        return paint.theme.heat(share * weight.sqrt(), alternate);
    }
    let hash = frame.map_or_else(
        || package_hash(""),
        |f| match view.packages.get(f.0 as usize) {
            Some(&hash) => hash,
            None => {
                let fr = paint.frames.frame(f);
                package_hash(&package_of(fr.file, fr.name))
            }
        },
    );
    paint.theme.frame_hashed(hash, alternate)
}

fn label(paint: &Paint<'_>, node: NodeId) -> String {
    paint.tree.frame(node).map_or_else(String::new, |f| {
        escape_control(paint.frames.frame(f).name).into_owned()
    })
}

/// Paints one rectangle on row `y`: whole cells in its colour with the label, and the eighths
/// it covers of the cells at its edges.
/// `text` is asked for only where the frame is wide enough for a label (most frames of a large
/// tree are slivers).
fn draw_rect(
    buf: &mut Buffer,
    area: Rect,
    y: u16,
    rect: &FlameRect,
    style: Style,
    text: impl FnOnce() -> String,
) {
    let (first, last) = rect.cells();
    let last = last.min(u32::from(area.width) - 1);
    let bg = style.bg;
    let start_part = rect.x0 % UNITS_PER_CELL;
    let end_part = rect.x1 % UNITS_PER_CELL;
    let mut label_start = first;
    for cell in first..=last {
        let x = area.x + cell as u16;
        let target = &mut buf[(x, y)];
        let whole_start = cell * UNITS_PER_CELL >= rect.x0;
        let whole_end = (cell + 1) * UNITS_PER_CELL <= rect.x1;
        if whole_start && whole_end {
            target.set_symbol(" ").set_style(style);
        } else if let Some(color) = bg {
            if cell == first && start_part != 0 && !(cell == last && end_part != 0) {
                // The frame covers the cell's right part: if a neighbour's block already
                // paints the left part, keep it and fill behind it; else round to the cell.
                let neighbour = LEFT_BLOCKS[1..].contains(&target.symbol());
                if neighbour {
                    target.set_bg(color);
                } else if start_part < UNITS_PER_CELL / 2 {
                    target.set_symbol(" ").set_style(style);
                }
                label_start = cell + 1;
            } else {
                // The frame covers the cell's left part (or a sliver inside one cell).
                let eighths = if cell == first && start_part != 0 {
                    (rect.x1 - rect.x0).clamp(1, 7)
                } else {
                    end_part
                };
                target
                    .set_symbol(LEFT_BLOCKS[eighths as usize])
                    .set_fg(color)
                    .set_bg(Color::Reset);
            }
        } else {
            // Without colour a cell cannot be split: a frame takes a shared edge cell only
            // when it covers most of it and no neighbour has taken it.
            let part = if cell == first && start_part != 0 {
                UNITS_PER_CELL - start_part
            } else {
                end_part
            };
            if part >= UNITS_PER_CELL / 2 && is_blank(target) {
                target.set_symbol(" ").set_style(style);
            }
        }
    }
    // The label stays inside the cells the frame covers whole, so it never runs into a
    // neighbour's cell (nor is run into).
    if start_part != 0 {
        label_start = label_start.max(first + 1);
    }
    let label_end = (rect.x1 / UNITS_PER_CELL).min(last + 1);
    let width = label_end.saturating_sub(label_start) as usize;
    // Two cells would show one letter and an ellipsis: noise rather than a name.
    if width >= 3 {
        let shown = fit(&text(), width);
        buf.set_stringn(area.x + label_start as u16, y, &shown, width, style);
    }
}

/// The axis: a tick and its label at each column, labels never overlapping.
fn draw_axis(buf: &mut Buffer, area: Rect, y: u16, axis: &[(u16, String)], theme: &Theme) {
    let mut free_from = area.x;
    for (column, label) in axis {
        let x = area.x + column;
        let width = label.chars().count() as u16 + 1;
        if x < free_from || x + width > area.right() {
            continue;
        }
        buf.set_string(x, y, format!("╵{label}"), theme.header());
        free_from = x + width + 1;
    }
}

/// Ticks for Time Order's axis over the zoomed frame: seconds from the start of the recording
/// where the unit is time, else sample numbers (the count of samples before).
pub fn time_axis(
    tree: &CallTree,
    zoom_root: NodeId,
    unit: crate::profile::Unit,
    width: u16,
) -> Vec<(u16, String)> {
    use crate::profile::Unit;
    // The zoomed frame's start: the weight of everything before it in recorded order.
    let mut start = 0.0;
    let mut node = zoom_root;
    while let Some(parent) = tree.parent(node) {
        for &sibling in tree.children(parent) {
            if sibling == node {
                break;
            }
            start += tree.total_weight(sibling);
        }
        node = parent;
    }
    let span = tree.total_weight(zoom_root);
    if span <= 0.0 || width < 8 {
        return Vec::new();
    }
    let seconds = match unit {
        Unit::Seconds => Some(1.0),
        Unit::Milliseconds => Some(1e-3),
        Unit::Microseconds => Some(1e-6),
        Unit::Nanoseconds => Some(1e-9),
        _ => None,
    };
    // About one tick per 14 columns, on a step of 1, 2 or 5 times a power of ten.
    let rough = span / (f64::from(width) / 14.0).max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= rough)
        .unwrap_or(10.0 * power);
    let decimals = |scale: f64| (-(step * scale).log10().floor()).clamp(0.0, 9.0) as usize;
    let mut ticks = Vec::new();
    let mut at = (start / step).ceil() * step;
    while at <= start + span {
        let column = ((at - start) / span * f64::from(width)).floor() as u16;
        let label = match seconds {
            Some(scale) => format!("{:.*}s", decimals(scale), at * scale),
            None if unit == Unit::Samples => format!("#{at:.0}"),
            None => unit.format_weight(at),
        };
        ticks.push((column.min(width - 1), label));
        at += step;
    }
    ticks
}

/// A cell nothing has been drawn in.
fn is_blank(cell: &ratatui::buffer::Cell) -> bool {
    cell.symbol() == " "
        && cell.fg == Color::Reset
        && cell.bg == Color::Reset
        && cell.modifier.is_empty()
}

/// `text` cut to `width` characters with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_axis_counts_from_the_start_of_the_zoomed_frame() {
        use crate::profile::{CallTreeBuilder, FrameId, Unit};
        let mut b = CallTreeBuilder::new();
        let first = b.last_child_or_new(NodeId::ROOT, FrameId(0));
        b.add_self(first, 1.0);
        let second = b.last_child_or_new(NodeId::ROOT, FrameId(1));
        b.add_self(second, 3.0);
        let tree = b.finish();
        let axis = time_axis(&tree, NodeId::ROOT, Unit::Seconds, 80);
        assert_eq!(axis[0], (0, "0s".to_owned()));
        assert!(axis.iter().any(|(c, l)| *c == 40 && l == "2s"), "{axis:?}");
        // Zoomed on the second: it starts one second in.
        let second = tree.children(NodeId::ROOT)[1];
        let axis = time_axis(&tree, second, Unit::Seconds, 60);
        assert_eq!(axis[0], (0, "1s".to_owned()));
        assert_eq!(axis.last().unwrap(), &(59, "4s".to_owned()));
        let axis = time_axis(&tree, NodeId::ROOT, Unit::Milliseconds, 80);
        assert!(axis.iter().any(|(_, l)| l == "0.002s"), "{axis:?}");
        let axis = time_axis(&tree, NodeId::ROOT, Unit::Samples, 80);
        assert!(axis.iter().any(|(_, l)| l == "#2"), "{axis:?}");
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(fit("process_order", 8), "process…");
        assert_eq!(fit("short", 8), "short");
    }
}
